"""MultiHeadAttention, Attention and AdditiveAttention against real Keras 3, live.

Each case builds the same layer in both libraries, copies random weights into both, and compares
output shapes, parameter counts, configs (as saved JSON) and outputs, with and without masks,
causal masking and attention scores. Skipped when Keras is not installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch

import netknit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

Q, V = (4, 6), (5, 3)  # query (T, dim) and value (S, dim_v) without the batch

MHA_CASES = {
    "self": (lambda L: L.MultiHeadAttention(2, 3), [Q, Q]),
    "cross": (lambda L: L.MultiHeadAttention(2, 3, value_dim=4), [Q, V]),
    "cross-key": (lambda L: L.MultiHeadAttention(3, 2, output_shape=5, use_bias=False),
                  [Q, V, (5, 2)]),
    "gate": (lambda L: L.MultiHeadAttention(2, 3, use_gate=True), [Q, V]),
    "output-shape-2d": (lambda L: L.MultiHeadAttention(2, 2, output_shape=(2, 3)), [Q, V]),
    "2d-attention": (lambda L: L.MultiHeadAttention(2, 2), [(3, 2, 4), (2, 3, 4)]),
    "axis-2": (lambda L: L.MultiHeadAttention(2, 2, attention_axes=2), [(3, 2, 4), (3, 5, 4)]),
}
ATTENTION_CASES = {
    "dot": lambda L: L.Attention(),
    "dot-scale": lambda L: L.Attention(use_scale=True),
    "concat": lambda L: L.Attention(score_mode="concat", use_scale=True),
    "additive": lambda L: L.AdditiveAttention(),
    "additive-noscale": lambda L: L.AdditiveAttention(use_scale=False),
}


def _data(shapes, seed=0, batch=2):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch,) + s).astype("float32") for s in shapes]


def _numpy(t):
    return np.asarray(t.detach().cpu()) if torch.is_tensor(t) else np.asarray(t)


def _close(got, expected):
    got = got if isinstance(got, (list, tuple)) else [got]
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(_numpy(g), _numpy(e), rtol=1e-4, atol=1e-5)


def _copy_random_weights(theirs, ours):
    rng = np.random.default_rng(7)
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)


def _mha_pair(key):
    factory, shapes = MHA_CASES[key]
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = factory(keras.layers), factory(netknit.layers)
    their_out = theirs(*[keras.Input(s) for s in shapes])
    our_out = ours(*[netknit.Input(s) for s in shapes])
    _copy_random_weights(theirs, ours)
    return theirs, ours, their_out, our_out, shapes


@pytest.mark.parametrize("key", MHA_CASES)
def test_multi_head_attention_matches_keras(key):
    theirs, ours, their_out, our_out, shapes = _mha_pair(key)
    assert our_out.shape == tuple(their_out.shape)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    x = _data(shapes)
    _close(ours(*[torch.as_tensor(a) for a in x]), theirs(*x))
    _close(ours(*[torch.as_tensor(a) for a in x], return_attention_scores=True),
           theirs(*x, return_attention_scores=True))


@pytest.mark.parametrize("key", ["self", "cross", "gate"])
@pytest.mark.parametrize("scores", [False, True])
def test_multi_head_attention_masks_match_keras(key, scores):
    theirs, ours, _, _, shapes = _mha_pair(key)
    x = _data(shapes)
    t, s = shapes[0][0], shapes[1][0]
    rng = np.random.default_rng(3)
    attention_mask = rng.random((2, t, s)) > 0.3
    attention_mask[:, :, 0] = True
    query_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=bool)
    value_mask = np.ones((2, s), dtype=bool)
    value_mask[0, -2:] = False
    for call in ({"attention_mask": attention_mask}, {"use_causal_mask": True},
                 {"use_causal_mask": True, "attention_mask": attention_mask},
                 {"query_mask": query_mask, "value_mask": value_mask},
                 {"query_mask": query_mask, "use_causal_mask": True}):
        call = {**call, "return_attention_scores": scores}
        ours_call = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                     for k, v in call.items()}
        their_x = [torch.as_tensor(a) for a in x]
        if "query_mask" in call:
            # Keras reads the query's mask from the tensor (as a model passes it), not the
            # argument.
            keras.src.backend.set_keras_mask(their_x[0], torch.as_tensor(call.pop("query_mask")))
        _close(ours(*[torch.as_tensor(a) for a in x], **ours_call), theirs(*their_x, **call))


def test_multi_head_attention_dropout_is_inert_in_inference_like_keras():
    def factory(L):
        return L.MultiHeadAttention(2, 3, dropout=0.5)

    keras.backend.clear_session()
    theirs, ours = factory(keras.layers), factory(netknit.layers)
    theirs(keras.Input(Q), keras.Input(V))
    ours(netknit.Input(Q), netknit.Input(V))
    _copy_random_weights(theirs, ours)
    x = _data([Q, V])
    mask = np.ones((2, Q[0], V[0]), dtype=bool)
    mask[0, 1] = False  # a fully masked row: the slow path gives zeros there
    _close(ours(*[torch.as_tensor(a) for a in x], attention_mask=torch.as_tensor(mask)),
           theirs(*x, attention_mask=mask))


@pytest.mark.parametrize("key", ATTENTION_CASES)
@pytest.mark.parametrize("with_key", [False, True])
def test_attention_layers_match_keras(key, with_key):
    shapes = [Q, (5, 3), (5, 6)] if with_key else [Q, (5, 6)]
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = ATTENTION_CASES[key](keras.layers), ATTENTION_CASES[key](netknit.layers)
    their_out = theirs([keras.Input(s) for s in shapes])
    our_out = ours([netknit.Input(s) for s in shapes])
    assert our_out.shape == tuple(their_out.shape)
    assert ours.count_params() == theirs.count_params()
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    _copy_random_weights(theirs, ours)
    x = _data(shapes)
    tx = [torch.as_tensor(a) for a in x]
    _close(ours(tx), theirs(x))
    mask = [np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool),
            np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], dtype=bool)]
    tmask = [torch.as_tensor(m) for m in mask]
    _close(ours(tx, mask=tmask, return_attention_scores=True),
           theirs(x, mask=mask, return_attention_scores=True))
    _close(ours(tx, use_causal_mask=True), theirs(x, use_causal_mask=True))


def test_symbolic_attention_scores_shapes_match_keras_outputs():
    # Keras's own symbolic scores shape for MultiHeadAttention says (batch, heads, T, T) even
    # when the value has S != T steps; ours is the shape its outputs really have.
    keras.backend.clear_session()
    theirs, ours = keras.layers.MultiHeadAttention(2, 3), netknit.layers.MultiHeadAttention(2, 3)
    our = ours(netknit.Input(Q), netknit.Input((5, 6)), return_attention_scores=True)
    x = _data([Q, (5, 6)])
    their = theirs(*x, return_attention_scores=True)
    assert [t.shape for t in our] == [(None,) + tuple(t.shape[1:]) for t in their]
    theirs, ours = keras.layers.Attention(), netknit.layers.Attention()
    their = theirs([keras.Input(Q), keras.Input((5, 6))], return_attention_scores=True)
    our = ours([netknit.Input(Q), netknit.Input((5, 6))], return_attention_scores=True)
    assert [t.shape for t in our] == [tuple(t.shape) for t in their]


GQA_CASES = {
    "grouped": (lambda L: L.GroupQueryAttention(3, 4, 2), [Q, (5, 6)]),
    "multi-query-gate-key": (lambda L: L.GroupQueryAttention(2, 4, 1, use_bias=False,
                                                             use_gate=True),
                             [Q, (5, 6), (5, 3)]),
    "as-many-heads-window": (lambda L: L.GroupQueryAttention(3, 2, 2, sliding_window=2),
                             [Q, (5, 6)]),
    "self-dropout": (lambda L: L.GroupQueryAttention(3, 6, 3, dropout=0.3), [Q, Q]),
}


def _gqa_pair(key):
    factory, shapes = GQA_CASES[key]
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = factory(keras.layers), factory(netknit.layers)
    their_out = theirs(*[keras.Input(s) for s in shapes])
    our_out = ours(*[netknit.Input(s) for s in shapes])
    _copy_random_weights(theirs, ours)
    return theirs, ours, their_out, our_out, shapes


@pytest.mark.parametrize("key", GQA_CASES)
def test_group_query_attention_matches_keras(key):
    theirs, ours, their_out, our_out, shapes = _gqa_pair(key)
    assert our_out.shape == tuple(their_out.shape)
    assert ours.name == theirs.name == "grouped_query_attention"
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    our_scores = ours(*[netknit.Input(s) for s in shapes], return_attention_scores=True)[1]
    their_scores = theirs(*[keras.Input(s) for s in shapes], return_attention_scores=True)[1]
    assert our_scores.shape == tuple(their_scores.shape)
    x = _data(shapes)
    t, s = shapes[0][0], shapes[1][0]
    rng = np.random.default_rng(3)
    attention_mask = rng.random((2, t, s)) > 0.3
    attention_mask[:, :, 0] = True
    masked_row = attention_mask.copy()
    masked_row[0, 1] = False  # fused and explicit paths differ on a fully masked row
    query_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=bool)
    value_mask = np.ones((2, s), dtype=bool)
    value_mask[0, -2:] = False
    for call in ({}, {"use_causal_mask": True}, {"attention_mask": attention_mask},
                 {"attention_mask": masked_row}, {"use_causal_mask": True,
                                                  "attention_mask": attention_mask},
                 {"query_mask": query_mask, "value_mask": value_mask},
                 {"key_mask": value_mask, "use_causal_mask": True}):
        for scores in (False, True):
            call = {**call, "return_attention_scores": scores}
            ours_call = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                         for k, v in call.items()}
            _close(ours(*[torch.as_tensor(a) for a in x], **ours_call), theirs(*x, **call))


# Keras warns that its own projection sublayers drop the inputs' masks (the layer uses them).
@pytest.mark.filterwarnings("ignore:.*does not support masking:UserWarning")
def test_group_query_attention_in_a_masked_model_matches_keras():
    def build(lib):
        L = lib.layers
        q, v = lib.Input((5,), dtype="int32"), lib.Input((6,), dtype="int32")
        embed = L.Embedding(7, 4, mask_zero=True)
        h = L.GroupQueryAttention(2, 4, 2)(embed(q), embed(v))
        h = L.GroupQueryAttention(2, 2, 1, use_gate=True)(h, embed(v), use_causal_mask=True)
        return lib.Model([q, v], [h, L.GlobalAveragePooling1D()(h)])

    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = build(keras), build(netknit)
    ours.set_weights(theirs.get_weights())
    rng = np.random.default_rng(0)
    x = [rng.integers(0, 3, (3, 5)), rng.integers(0, 3, (3, 6))]
    x[1][0] = 0  # a sample whose values are all padding
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))


def test_group_query_attention_flash_rules_follow_keras():
    for lib in (keras, netknit):
        with pytest.raises(ValueError, match="[Dd]ropout"):
            lib.layers.GroupQueryAttention(2, 2, 1, flash_attention=True, dropout=0.1)
    layer = netknit.layers.GroupQueryAttention(2, 2, 1, flash_attention=True)
    x = torch.randn(2, 3, 4)
    assert layer(x, x).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="attention scores"):
        layer(x, x, return_attention_scores=True)
