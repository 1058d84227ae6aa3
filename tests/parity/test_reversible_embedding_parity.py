"""ReversibleEmbedding against real Keras 3, live: both directions, tied and untied weights,
the soft cap, masks through a model, and `.keras` files both ways. Skipped when Keras is not
installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

CASES = {
    "tied": {},
    "untied-soft-cap": {"tie_weights": False, "logit_soft_cap": 2.0},
    "mask-zero-reverse-dtype": {"mask_zero": True, "reverse_dtype": "float32"},
}


def _numpy(t):
    return np.asarray(t.detach().cpu())


@pytest.mark.parametrize("key", CASES)
def test_both_directions_match_keras(key):
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs = keras.layers.ReversibleEmbedding(10, 4, **CASES[key])
    ours = netknit.layers.ReversibleEmbedding(10, 4, **CASES[key])
    for lib, layer in ((keras, theirs), (netknit, ours)):
        assert layer(lib.Input((5,), dtype="int32")).shape == (None, 5, 4)
        assert layer(lib.Input((3, 4)), reverse=True).shape == (None, 3, 10)
    assert ours.count_params() == theirs.count_params()
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    rng = np.random.default_rng(0)
    theirs.set_weights([rng.standard_normal(w.shape).astype("float32")
                        for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    ids = rng.integers(0, 10, (2, 5))
    vectors = rng.standard_normal((2, 3, 4)).astype("float32")
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(ids))), _numpy(theirs(ids)))
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(vectors), reverse=True)),
                               _numpy(theirs(vectors, reverse=True)), rtol=1e-5, atol=1e-6)


def _language_model(lib):
    """Ids -> embedded (a mask from id 0) -> LSTM -> logits through the same layer, reversed."""
    L = lib.layers
    ids = lib.Input((5,), dtype="int32")
    embedding = L.ReversibleEmbedding(10, 4, mask_zero=True, tie_weights=False,
                                      logit_soft_cap=3.0)
    hidden = L.LSTM(4, return_sequences=True)(embedding(ids))
    return lib.Model(ids, embedding(hidden, reverse=True))


def test_a_language_model_matches_keras_and_moves_both_ways(tmp_path):
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = _language_model(keras), _language_model(netknit)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    rng = np.random.default_rng(1)
    theirs.set_weights([rng.standard_normal(w.shape).astype("float32")
                        for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    ids = np.array([[1, 2, 0, 0, 3], [4, 0, 0, 0, 0], [5, 6, 7, 8, 9]])
    expected = theirs.predict(ids, verbose=0)
    np.testing.assert_allclose(ours.predict(ids, verbose=0), expected, rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "netknit.keras")
    np.testing.assert_allclose(
        keras.models.load_model(tmp_path / "netknit.keras").predict(ids, verbose=0), expected,
        rtol=1e-5, atol=1e-6)
    theirs.save(tmp_path / "keras.keras")
    np.testing.assert_allclose(
        netknit.models.load_model(tmp_path / "keras.keras").predict(ids, verbose=0), expected,
        rtol=1e-5, atol=1e-6)
