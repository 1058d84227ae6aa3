"""A functional model whose inputs are intermediate tensors: Keras cuts the graph there.

Expected names, orders, counts and configs are what Keras 3.15.1 (torch backend) gave for the
same code after `clear_session()`.
"""

import numpy as np
import pytest

import netknit as keras
from netknit import layers


def _chain():
    x = keras.Input((8,), name="x")
    h = layers.Dense(4, name="d1")(x)
    out = layers.Dense(2, name="d2")(h)
    return x, h, out


def _two_branches():
    a, b = keras.Input((8,), name="a"), keras.Input((6,), name="b")
    ha, hb = layers.Dense(4, name="da")(a), layers.Dense(3, name="db")(b)
    out = layers.Dense(2, name="o")(layers.Concatenate(name="cat")([ha, hb]))
    return a, b, ha, hb, out


def _data(*shapes):
    rng = np.random.RandomState(0)
    return [rng.randn(5, *shape).astype("float32") for shape in shapes]


def test_cut_model_gets_its_own_input_and_only_the_downstream_layers():
    x, h, out = _chain()
    big = keras.Model(x, out)
    sub = keras.Model(h, out)
    assert [(layer.name, type(layer).__name__) for layer in sub.layers] == [
        ("keras_tensorCLONE", "InputLayer"), ("d2", "Dense")]
    assert [(t.name, t.shape) for t in sub.inputs] == [("keras_tensorCLONE", (None, 4))]
    assert [w.path for w in sub.weights] == ["d2/kernel", "d2/bias"]
    assert sub.count_params() == 10 and big.count_params() == 46
    assert sub.layers[1] is big.layers[2]  # shared, not copied
    assert sub.output_names == ["d2"] and sub.outputs[0] is not out
    # The big model is left as it was.
    assert [layer.name for layer in big.layers] == ["x", "d1", "d2"]
    (xs,) = _data((8,))
    hidden = keras.Model(x, h).predict(xs, verbose=0)
    np.testing.assert_allclose(sub.predict(hidden, verbose=0), big.predict(xs, verbose=0),
                               atol=1e-6)


def test_cut_at_a_tensor_used_twice_downstream():
    x = keras.Input((8,), name="x")
    h = layers.Dense(4, name="d1")(x)
    out = layers.Dense(2, name="o")(layers.Add(name="add")([h, layers.Dense(4, name="u")(h)]))
    keras.Model(x, out)
    sub = keras.Model(h, out, name="head")
    assert [layer.name for layer in sub.layers] == ["keras_tensorCLONE", "u", "add", "o"]
    assert sub.count_params() == 30
    config = sub.get_config()
    assert config["input_layers"] == ["keras_tensorCLONE", 0, 0]
    assert config["output_layers"] == ["o", 0, 0]
    add_args = config["layers"][2]["inbound_nodes"][0]["args"][0]
    assert [arg["config"]["keras_history"] for arg in add_args] == [
        ["keras_tensorCLONE", 0, 0], ["u", 0, 0]]
    rows = [line for line in _summary(sub).splitlines() if line.startswith("│")]
    # The calls are new nodes of the shared layers: Keras numbers them after the big model's.
    assert rows == [
        "│ keras_tensorCLONE   │ (None, 4)         │          0 │ -                 │",
        "│ (InputLayer)        │                   │            │                   │",
        "│ u (Dense)           │ (None, 4)         │         20 │ keras_tensorCLON… │",
        "│ add (Add)           │ (None, 4)         │          0 │ keras_tensorCLON… │",
        "│                     │                   │            │ u[1][0]           │",
        "│ o (Dense)           │ (None, 2)         │         10 │ add[1][0]         │",
    ]


def _summary(model) -> str:
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    return "\n".join(lines)


def test_cut_at_one_branch_keeps_the_other_input_and_its_layers():
    a, b, ha, hb, out = _two_branches()
    big = keras.Model([a, b], out)
    sub = keras.Model([a, hb], out)
    assert [layer.name for layer in sub.layers] == ["a", "da", "keras_tensorCLONE", "cat", "o"]
    assert sub.inputs[0] is a and sub.count_params() == 52
    assert sub.get_config()["input_layers"] == [["a", 0, 0], ["keras_tensorCLONE", 0, 0]]
    # Keras re-points `a` at a copy of its Input's node here, after which the big model's
    # get_config() fails in Keras; netknit leaves the given Input as it is.
    assert big.get_config()["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    xa, xb = _data((8,), (6,))
    hidden = keras.Model(b, hb).predict(xb, verbose=0)
    np.testing.assert_allclose(sub.predict([xa, hidden], verbose=0),
                               big.predict([xa, xb], verbose=0), atol=1e-6)


def test_cut_below_a_layer_with_several_outputs():
    x = keras.Input((5, 3), name="x")
    _, state_h, state_c = layers.LSTM(4, return_state=True, return_sequences=True,
                                      name="lstm")(x)
    out = layers.Dense(2, name="o")(layers.Concatenate(name="cat")([state_h, state_c]))
    big = keras.Model(x, out)
    sub = keras.Model([state_h, state_c], out)
    assert [layer.name for layer in sub.layers] == [
        "keras_tensorCLONE", "keras_tensor_1CLONE", "cat", "o"]
    assert sub.count_params() == 18
    (xs,) = _data((5, 3))
    states = keras.Model(x, [state_h, state_c]).predict(xs, verbose=0)
    np.testing.assert_allclose(sub.predict(states, verbose=0), big.predict(xs, verbose=0),
                               atol=1e-6)


def test_cut_at_tensors_given_in_a_dict():
    _, _, ha, hb, out = _two_branches()
    sub = keras.Model({"p": ha, "q": hb}, out)
    assert [layer.name for layer in sub.layers] == [
        "keras_tensorCLONE", "keras_tensor_1CLONE", "cat", "o"]
    assert sub.get_config()["input_layers"] == {
        "p": ["keras_tensorCLONE", 0, 0], "q": ["keras_tensor_1CLONE", 0, 0]}
    hp, hq = _data((4,), (3,))
    by_key = sub.predict({"p": hp, "q": hq}, verbose=0)
    assert by_key.shape == (5, 2)
    np.testing.assert_allclose(by_key, sub.predict([hp, hq], verbose=0), atol=1e-6)


def test_training_the_cut_model_trains_the_shared_layers():
    a, b, _, hb, out = _two_branches()
    big = keras.Model([a, b], out)
    sub = keras.Model([a, hb], out)
    sub.compile(optimizer="sgd", loss="mse")
    xa, xb, y = _data((8,), (6,), (2,))
    hidden = keras.Model(b, hb).predict(xb, verbose=0)
    before = sub.evaluate([xa, hidden], y, verbose=0)
    history = sub.fit([xa, hidden], y, epochs=3, verbose=0)
    assert history.history["loss"][0] == pytest.approx(before, rel=1e-5)
    assert sub.evaluate([xa, hidden], y, verbose=0) < before
    np.testing.assert_allclose(sub.predict([xa, hidden], verbose=0),
                               big.predict([xa, xb], verbose=0), atol=1e-5)


def test_config_and_file_round_trips(tmp_path):
    a, _, _, hb, out = _two_branches()
    sub = keras.Model([a, hb], out)
    rebuilt = keras.Model.from_config(sub.get_config())
    assert rebuilt.get_config() == sub.get_config()
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in sub.layers]
    sub.save(tmp_path / "cut.keras")
    loaded = keras.saving.load_model(tmp_path / "cut.keras")
    xa, hidden = _data((8,), (3,))
    np.testing.assert_allclose(loaded.predict([xa, hidden], verbose=0),
                               sub.predict([xa, hidden], verbose=0), atol=1e-6)


def test_a_cut_that_misses_an_input_names_it_and_records_nothing():
    _, _, ha, _, out = _two_branches()
    concatenate = out.history.node.inputs[0].history.node.layer
    with pytest.raises(ValueError, match=r"depend on the input 'b' \(None, 6\), which is not "
                                         r"among the model inputs \['da/output'\]"):
        keras.Model(ha, out)
    assert len(concatenate._inbound_nodes) == 1
    x, h, out = _chain()
    with pytest.raises(ValueError, match="depend on the input 'x'"):
        keras.Model(out, h)  # the wrong way round
    with pytest.raises(ValueError, match="must be symbolic tensors"):
        keras.Model([h, np.zeros((1, 4))], out)


def test_cut_model_matches_keras(real_keras):
    def build(lib):
        lib.backend.clear_session()
        x = lib.Input((8,), name="x")
        h = lib.layers.Dense(4, name="d1")(x)
        out = lib.layers.Dense(2, name="o")(
            lib.layers.Add(name="add")([h, lib.layers.Dense(4, name="u")(h)]))
        lib.Model(x, out)
        return lib.Model(h, out, name="head")

    ours, theirs = build(keras), build(real_keras)
    assert ours.get_config() == theirs.get_config()
    assert _summary(ours) == _summary(theirs)
    theirs.set_weights(ours.get_weights())
    (hidden,) = _data((4,))
    np.testing.assert_allclose(ours.predict(hidden, verbose=0),
                               theirs.predict(hidden, verbose=0), atol=1e-6)
