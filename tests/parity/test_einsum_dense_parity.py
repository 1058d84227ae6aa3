"""EinsumDense against real Keras 3, live: kernel and bias shapes, parameter counts, configs (as
saved JSON) and outputs with Keras's weights copied over, for the common equations. Skipped when
Keras is not installed.
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

# (equation, output_shape, bias_axes, input shape without the batch axis, extra arguments)
CASES = [
    ("ab,bc->ac", 3, "c", (4,), {}),
    ("ab,bc->ac", 5, None, (4,), {"activation": "relu"}),
    ("abc,cd->abd", (None, 4), "d", (5, 3), {}),
    ("abc,cd->abd", (5, 4), "d", (5, 3), {"activation": "gelu"}),
    ("abc,cde->abde", (None, 2, 3), "de", (5, 4), {}),
    ("abc,cde->abde", (5, 2, 3), "e", (5, 4), {}),
    ("abc,cde->abde", (None, 2, 3), "d", (5, 4), {"activation": "tanh"}),
    ("...b,bc->...c", 3, "c", (5, 4), {}),
    ("...b,bc->...c", 3, "c", (2, 5, 4), {}),
    ("ab...,bc->ac...", 4, "c", (3, 5), {}),
    ("abc,bcd->ad", 7, "d", (3, 4), {}),
    ("abcd,cde->abe", (3, 7), "b", (3, 4, 6), {}),
    ("abc,bd->acd", (4, 5), None, (3, 4), {}),
    ("abc,cd->adb", (6, None), "d", (5, 3), {}),
]


def _pair(equation, output_shape, bias_axes, input_shape, extra):
    keras.backend.clear_session()
    netknit.backend.clear_session()
    make = [lib.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, **extra)
            for lib in (keras, netknit)]
    theirs, ours = make
    their_out = theirs(keras.Input(input_shape))
    our_out = ours(netknit.Input(input_shape))
    return theirs, ours, their_out, our_out


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_weights_config_and_outputs_match_keras(case):
    theirs, ours, their_out, our_out = _pair(*case)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    x = rng.standard_normal((3,) + case[3]).astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    got = ours(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # netknit infers the shape Keras's layer computes. Keras 3.15.1 infers less: it leaves an
    # axis unknown where output_shape says None though the input knows it ((None, None, 4) for
    # "abc,cd->abd"), and it reverses the axes of a left "..." that stands for more than one
    # ((None, 5, 2, 3) for inputs (None, 2, 5, 4)).
    assert our_out.shape == (None,) + expected.shape[1:]
    assert len(their_out.shape) == len(our_out.shape)


def test_a_keras_model_with_einsum_dense_loads_into_netknit_and_back(tmp_path):
    inputs = keras.Input((5, 4))
    heads = keras.layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de")(inputs)
    outputs = keras.layers.EinsumDense("abde,dec->abc", (None, 4), bias_axes="c")(heads)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "keras.keras")
    ours = netknit.models.load_model(tmp_path / "keras.keras")
    x = np.random.default_rng(1).standard_normal((2, 5, 4)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "netknit.keras")
    again = keras.models.load_model(tmp_path / "netknit.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
