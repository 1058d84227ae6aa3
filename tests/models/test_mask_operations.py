"""Masks in functional graphs, as Keras 3.15.1 records them: the operations that compute a mask
(`not_equal`, `any`, `logical_or`, ...) are nodes of the graph, listed in `model.operations`,
`summary()` and the config (but not in `model.layers`), and the layer that takes the mask gets
it as its call's `mask` argument. The facts below are Keras's, observed for the same models."""

import json

import numpy as np
import pytest

import netknit as keras
from netknit import layers

TOKENS = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0], [5, 6, 7, 8, 9]])


def _tokens(k, name="t"):
    return k.Input((5,), dtype="int32", name=name)


def embedding_lstm(k):
    t = _tokens(k)
    return k.Model(t, k.layers.LSTM(2, name="l")(k.layers.Embedding(10, 3, mask_zero=True,
                                                                      name="e")(t)))


def embedding_gru(k):
    t = _tokens(k)
    return k.Model(t, k.layers.GRU(2, name="l")(k.layers.Embedding(10, 3, mask_zero=True,
                                                                     name="e")(t)))


def masking_lstm(k):
    x = k.Input((5, 3), name="x")
    return k.Model(x, k.layers.LSTM(2, name="l")(k.layers.Masking(name="m")(x)))


def embedding_pooling(k):
    t = _tokens(k)
    e = k.layers.Embedding(10, 3, mask_zero=True, name="e")(t)
    return k.Model(t, k.layers.GlobalAveragePooling1D(name="p")(e))


def embedding_bidirectional(k):
    t = _tokens(k)
    e = k.layers.Embedding(10, 3, mask_zero=True, name="e")(t)
    return k.Model(t, k.layers.Bidirectional(k.layers.LSTM(2), name="bi")(e))


def embedding_time_distributed(k):
    t = _tokens(k)
    e = k.layers.Embedding(10, 3, mask_zero=True, name="e")(t)
    steps = k.layers.TimeDistributed(k.layers.Dense(3), name="td")(e)
    return k.Model(t, k.layers.LSTM(2, name="l")(steps))


def two_embeddings(k, merge):
    t, u = _tokens(k), _tokens(k, "u")
    e1 = k.layers.Embedding(10, 3, mask_zero=True, name="e1")(t)
    e2 = k.layers.Embedding(10, 3, mask_zero=merge == "Add", name="e2")(u)
    merged = getattr(k.layers, merge)(name="add" if merge == "Add" else "c")([e1, e2])
    return k.Model([t, u], k.layers.LSTM(2, name="l")(merged))


def self_attention(k):
    t = _tokens(k)
    e = k.layers.Embedding(10, 4, mask_zero=True, name="e")(t)
    attended = k.layers.MultiHeadAttention(2, 2, name="mha")(e, e)
    return k.Model(t, k.layers.LSTM(2, name="l")(attended))


CASES = {
    "embedding_lstm": (embedding_lstm, [
        ("t", "InputLayer"), ("e", "Embedding"), ("not_equal", "NotEqual"), ("l", "LSTM")]),
    "embedding_gru": (embedding_gru, [
        ("t", "InputLayer"), ("e", "Embedding"), ("not_equal", "NotEqual"), ("l", "GRU")]),
    "masking_lstm": (masking_lstm, [
        ("x", "InputLayer"), ("not_equal", "NotEqual"), ("m", "Masking"), ("any", "Any"),
        ("l", "LSTM")]),
    "embedding_pooling": (embedding_pooling, [
        ("t", "InputLayer"), ("e", "Embedding"), ("not_equal", "NotEqual"),
        ("p", "GlobalAveragePooling1D")]),
    "embedding_bidirectional": (embedding_bidirectional, [
        ("t", "InputLayer"), ("e", "Embedding"), ("not_equal", "NotEqual"),
        ("bi", "Bidirectional")]),
    # TimeDistributed takes the mask and passes it on.
    "embedding_time_distributed": (embedding_time_distributed, [
        ("t", "InputLayer"), ("e", "Embedding"), ("not_equal", "NotEqual"),
        ("td", "TimeDistributed"), ("l", "LSTM")]),
    "add": (lambda k: two_embeddings(k, "Add"), [
        ("t", "InputLayer"), ("u", "InputLayer"), ("e1", "Embedding"), ("e2", "Embedding"),
        ("not_equal", "NotEqual"), ("not_equal_1", "NotEqual"), ("add", "Add"),
        ("logical_or", "LogicalOr"), ("l", "LSTM")]),
    # One input unmasked: Keras's Concatenate takes ones for its mask.
    "concatenate": (lambda k: two_embeddings(k, "Concatenate"), [
        ("t", "InputLayer"), ("e1", "Embedding"), ("u", "InputLayer"),
        ("not_equal", "NotEqual"), ("e2", "Embedding"), ("expand_dims", "ExpandDims"),
        ("zeros_like", "ZerosLike"), ("logical_or", "LogicalOr"), ("ones_like", "OnesLike"),
        ("concatenate", "Concatenate"), ("c", "Concatenate"), ("any", "Any"),
        ("l", "LSTM")]),
    # The attention takes its masks from its inputs when data flows, recording nothing; the
    # LSTM after it takes the query's mask, which the graph computes.
    "self_attention": (self_attention, [
        ("t", "InputLayer"), ("e", "Embedding"), ("mha", "MultiHeadAttention"),
        ("not_equal", "NotEqual"), ("l", "LSTM")]),
}

ADD_SUMMARY = """\
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ t (InputLayer)      │ (None, 5)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ u (InputLayer)      │ (None, 5)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ e1 (Embedding)      │ (None, 5, 3)      │         30 │ t[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ e2 (Embedding)      │ (None, 5, 3)      │         30 │ u[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ not_equal           │ (None, 5)         │          0 │ t[0][0]           │
│ (NotEqual)          │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ not_equal_1         │ (None, 5)         │          0 │ u[0][0]           │
│ (NotEqual)          │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add (Add)           │ (None, 5, 3)      │          0 │ e1[0][0],         │
│                     │                   │            │ e2[0][0]          │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ logical_or          │ (None, 5)         │          0 │ not_equal[0][0],  │
│ (LogicalOr)         │                   │            │ not_equal_1[0][0] │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ l (LSTM)            │ (None, 2)         │         48 │ add[0][0],        │
│                     │                   │            │ logical_or[0][0]  │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
"""


@pytest.fixture(autouse=True)
def fresh_names(monkeypatch):
    # The operations' automatic names count up per session, as Keras's do.
    keras.utils.clear_session()
    monkeypatch.setenv("COLUMNS", "80")


def _data(model):
    if len(model.inputs) == 2:
        return [TOKENS, TOKENS[::-1].copy()]
    if model.inputs[0].dtype == "int32":
        return TOKENS
    x = np.random.default_rng(0).normal(size=(3, 5, 3)).astype("float32")
    x[0, 3:] = x[1, 1:] = 0  # padded steps
    return x


def _kwargs_of(model, name) -> dict:
    entry = next(e for e in model.get_config()["layers"] if e["name"] == name)
    return json.loads(json.dumps(entry["inbound_nodes"][0]["kwargs"]))


@pytest.mark.parametrize("case", list(CASES))
def test_operations_are_keras_s(case):
    build, expected = CASES[case]
    model = build(keras)
    assert [(op.name, type(op).__name__) for op in model.operations] == expected
    # `layers` leaves the operations out, as Keras's does.
    assert [layer.name for layer in model.layers] == [
        op.name for op in model.operations if not keras.ops.is_operation(op)]


def test_the_consuming_layer_is_given_the_mask_operation():
    model = two_embeddings(keras, "Add")
    mask = _kwargs_of(model, "l")["mask"]
    assert _kwargs_of(model, "l")["training"] is False
    assert mask["config"]["keras_history"] == ["logical_or", 0, 0]
    assert mask["config"]["dtype"] == "bool"
    entry = next(e for e in model.get_config()["layers"] if e["name"] == "logical_or")
    assert entry["module"] == "keras.src.ops.numpy" and entry["class_name"] == "LogicalOr"
    # As Keras's, the build config leaves the mask out.
    lstm = next(e for e in model.get_config()["layers"] if e["name"] == "l")
    assert lstm["build_config"] == {"input_shape": (None, 5, 3)}


def test_summary_shows_the_mask_operations():
    printed = []
    two_embeddings(keras, "Add").summary(print_fn=printed.append)
    assert ADD_SUMMARY in printed[0]


def test_the_run_computes_each_mask_once(monkeypatch):
    calls = []
    compute_mask = layers.Embedding.compute_mask

    def counted(self, inputs, mask=None):
        calls.append(self.name)
        return compute_mask(self, inputs, mask)

    model = embedding_lstm(keras)
    monkeypatch.setattr(layers.Embedding, "compute_mask", counted)
    masked = model(TOKENS)
    assert calls == []  # the graph's not_equal gives the LSTM its mask
    unmasked = layers.LSTM(2)
    unmasked(np.zeros((1, 5, 3), "float32"))
    unmasked.set_weights(model.get_layer("l").get_weights())
    embedded = model.get_layer("e")(TOKENS[1:2, :1])
    # The second sequence has one real step: the LSTM's output is its state after it.
    np.testing.assert_allclose(masked[1:2].detach(), unmasked(embedded).detach(), atol=1e-6)


def test_a_mask_only_data_gives_still_reaches_the_layer():
    class Padding(layers.Layer):
        """A user's layer whose `compute_mask` needs real tensors."""

        def call(self, x):
            return x

        def compute_mask(self, x, mask=None):
            return x.abs().sum(-1) > 0

    x = keras.Input((5, 3))
    lstm = layers.LSTM(2)
    model = keras.Model(x, lstm(Padding()(x)))
    # Nothing to record: the model computes the mask when data flows.
    assert [type(op).__name__ for op in model.operations] == ["InputLayer", "Padding", "LSTM"]
    data = np.zeros((2, 5, 3), "float32")
    data[:, :2] = 1.0
    np.testing.assert_allclose(model(data).detach(), lstm(data[:, :2]).detach(), atol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_matches_keras(real_keras, case, tmp_path):
    build = CASES[case][0]
    real_keras.utils.clear_session()
    theirs, ours = build(real_keras), build(keras)
    ours.set_weights(theirs.get_weights())
    x = _data(ours)
    expected = theirs.predict(x, verbose=0)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-6)
    assert [op.name for op in ours.operations] == [op.name for op in theirs.operations]
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(
        theirs.get_config()))
    printed = [], []
    theirs.summary(print_fn=printed[0].append)
    ours.summary(print_fn=printed[1].append)
    assert printed[0] == printed[1]
    # Saved files move both ways, with the operations.
    theirs.save(tmp_path / "theirs.keras")
    ours.save(tmp_path / "ours.keras")
    for loaded in (keras.models.load_model(tmp_path / "theirs.keras"),
                   real_keras.models.load_model(tmp_path / "ours.keras")):
        assert [op.name for op in loaded.operations] == [op.name for op in theirs.operations]
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
