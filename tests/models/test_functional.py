"""Functional models: structures, nesting, sharing, intermediate outputs, and graph errors."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def test_multi_input_multi_output_lists_and_calls_return_same_structure():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    merged = layers.concatenate([layers.Dense(5)(a), layers.Dense(5)(b)])
    out1 = layers.Dense(1, name="score")(merged)
    out2 = layers.Dense(2, name="klass")(merged)
    model = keras.Model([a, b], [out1, out2])
    assert model.input_shape == [(None, 4), (None, 3)]
    assert model.output_shape == [(None, 1), (None, 2)]
    y1, y2 = model([np.ones((6, 4)), np.ones((6, 3))])
    assert y1.shape == (6, 1) and y2.shape == (6, 2)
    # Inputs by name, in any order.
    d1, d2 = model({"b": torch.ones(6, 3), "a": torch.ones(6, 4)})
    torch.testing.assert_close(d1, y1)


def test_dict_inputs_and_outputs():
    inputs = {"img": keras.Input((8,), name="img"), "tab": keras.Input((2,), name="tab")}
    x = layers.Add()([layers.Dense(4)(inputs["img"]), layers.Dense(4)(inputs["tab"])])
    model = keras.Model(inputs, {"logits": layers.Dense(3)(x), "feat": x})
    out = model({"img": torch.zeros(2, 8), "tab": torch.zeros(2, 2)})
    assert set(out) == {"logits", "feat"}
    assert out["logits"].shape == (2, 3) and out["feat"].shape == (2, 4)
    assert model.output_shape == [(None, 4), (None, 3)]  # Keras lists dict outputs by key
    with pytest.raises(ValueError, match="no \\['tab'\\]"):
        model({"img": torch.zeros(2, 8), "tabb": torch.zeros(2, 2)})


def test_shared_layer_siamese_pair_shares_weights():
    left, right = keras.Input((5,)), keras.Input((5,))
    encoder = layers.Dense(3, name="encoder")
    distance = layers.Subtract()([encoder(left), encoder(right)])
    model = keras.Model([left, right], layers.Dense(1)(distance))
    assert [layer.name for layer in model.layers].count("encoder") == 1
    assert model.count_params() == 5 * 3 + 3 + 3 + 1
    assert len(encoder._inbound_nodes) == 2
    x = torch.randn(4, 5)
    # Identical inputs give a zero distance through the shared encoder.
    torch.testing.assert_close(model([x, x]), model.get_layer("dense")(torch.zeros(4, 3)))
    printed = []
    model.summary(print_fn=printed.append)
    assert "input_layer[0][0], input_layer_1[0][0]" not in printed[0]  # two separate calls
    assert "encoder[0][0]" in printed[0] and "encoder[1][0]" in printed[0]


def test_nested_models_and_intermediate_output_model():
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, layers.Dense(4, name="inner_dense")(inner_in), name="inner")
    outer_in = keras.Input((6,))
    hidden = inner(outer_in)
    model = keras.Model(outer_in, layers.Dense(2, name="head")(hidden))
    assert [layer.name for layer in model.layers] == ["input_layer_1", "inner", "head"]
    assert model.count_params() == 6 * 4 + 4 + 4 * 2 + 2
    # The Keras idiom: a model up to a named layer's output.
    features = keras.Model(model.input, model.get_layer("inner").output)
    x = torch.randn(3, 6)
    torch.testing.assert_close(features(x), inner(x))
    assert model.get_layer(index=-1).name == "head"
    with pytest.raises(ValueError, match="Did you mean 'head'"):
        model.get_layer("haed")


def test_output_inside_nested_sequential_builds_and_runs():
    """Beyond Keras (keras-team/keras#16123): an output taken inside a nested backbone."""
    backbone = keras.Sequential(
        [keras.Input((8,)), layers.Dense(6, name="block1"), layers.Dense(4, name="block2")],
        name="backbone",
    )
    image = keras.Input((8,))
    model = keras.Model(image, layers.Dense(1)(backbone(image)))
    extractor = keras.Model(model.input, backbone.get_layer("block1").output)
    x = torch.randn(2, 8)
    torch.testing.assert_close(extractor(x), backbone.get_layer("block1")(x))
    assert extractor.output_shape == (None, 6)


def test_disconnected_input_is_named():
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    with pytest.raises(ValueError, match="depend on the input 'b'"):
        keras.Model(a, layers.Dense(1)(b))


def test_unused_inputs_are_kept_as_in_keras():
    # Keras 3.15.1 accepts an input that no output uses and lists it with the layers: unused
    # inputs come first among the depth-0 layers.
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    model = keras.Model([a, b], layers.Dense(2, name="d")(a))
    assert [layer.name for layer in model.layers] == ["a", "b", "d"]
    assert model.input_shape == [(None, 3), (None, 2)]
    assert tuple(model([torch.ones(1, 3), torch.ones(1, 2)]).shape) == (1, 2)
    rebuilt = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in rebuilt.layers] == ["a", "b", "d"]
    text = []
    model.summary(print_fn=text.append)
    assert "│ b (InputLayer)      │ (None, 2)         │          0 │ -                 │" in text[0]
    by_dict = keras.Model({"a": a, "b": b}, layers.Dense(2, name="d2")(b))
    assert [layer.name for layer in by_dict.layers] == ["b", "a", "d2"]


def test_duplicate_layer_names_rejected():
    x = keras.Input((2,))
    y = layers.Dense(2, name="same")(layers.Dense(2, name="same")(x))
    with pytest.raises(ValueError, match="'same' is used by two different layers"):
        keras.Model(x, y)


def test_calling_a_model_with_wrong_count_or_shape():
    a, b = keras.Input((3,)), keras.Input((2,))
    model = keras.Model([a, b], layers.concatenate([a, b]))
    with pytest.raises(ValueError, match="expects 2 input\\(s\\).*called on 1"):
        model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"expects data of shape \(None, 2\).*"
                       r"\(None, 5\) \(4 samples\)"):
        model([torch.zeros(4, 3), torch.zeros(4, 5)])
    with pytest.raises(keras.ShapeError, match="expects 2 input"):
        model(keras.Input((3,)))
    single = keras.Model(a, layers.Dense(2)(a))
    with pytest.raises(ValueError, match=r"expects data of shape \(None, 3\).*"
                       r"\(None, 5\) \(4 samples\)"):
        single(torch.zeros(4, 5))
    with pytest.raises(ValueError, match=r"expects data of shape \(None, 3\).*"
                       r"\(None,\) \(3 samples\)"):
        single(torch.zeros(3))


def test_error_inside_a_layer_names_the_layer():
    x = keras.Input((3,))
    model = keras.Model(x, layers.Lambda(lambda t: t @ torch.zeros(4, 3), output_shape=(3,))(x))
    with pytest.raises(RuntimeError) as info:
        model(torch.zeros(2, 3))
    assert "While running layer 'lambda' (Lambda)" in info.value.__notes__[0]


def test_model_is_a_torch_module_in_a_plain_loop():
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(1)(layers.Dense(8, activation="relu")(x)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    data, target = torch.randn(32, 4), torch.randn(32, 1)
    model.train()
    first = None
    for _ in range(20):
        loss = torch.nn.functional.mse_loss(model(data), target)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first
    assert set(model.state_dict()) == {
        "_layer_modules.dense.kernel", "_layer_modules.dense.bias",
        "_layer_modules.dense_1.kernel", "_layer_modules.dense_1.bias",
    }


def test_training_argument_reaches_dropout():
    x = keras.Input((100,))
    model = keras.Model(x, layers.Dropout(0.5)(x))
    ones = torch.ones(1, 100)
    torch.testing.assert_close(model(ones), ones)  # inference by default, as Keras
    dropped = model(ones, training=True)
    assert (dropped == 0).any() and torch.allclose(dropped[dropped != 0], torch.tensor(2.0))


def test_merges_replay_their_list_of_inputs_directly():
    a, b = keras.Input((3,)), keras.Input((2,))
    shared = layers.Dense(3)
    merged = layers.Concatenate()([shared(a), b, a])
    total = layers.Add()([merged, merged])
    model = keras.Model([a, b], layers.Dense(1)(total))
    merges = [s for s in model._steps if isinstance(s.layer, (layers.Concatenate, layers.Add))]
    assert [s.list_input for s in merges] == [True, True]
    x = [torch.randn(4, 3), torch.randn(4, 2)]
    # training= takes the general path (arguments rebuilt from the call's structure).
    torch.testing.assert_close(model(x), model(x, training=False))
    assert model.predict(x, verbose=0).shape == (4, 1)


def test_a_plain_chain_runs_layer_after_layer_as_the_general_path_does():
    dense, shared = layers.Dense(6, activation="relu"), layers.Dense(6)
    chain = keras.Sequential([keras.Input((4,)), dense, shared, shared])
    assert chain._chain == (dense, shared, shared)
    x = torch.randn(5, 4)
    # training= takes the general path (the table of values).
    torch.testing.assert_close(chain(x), chain(x, training=False))
    # Not chains: a branch, two outputs, a mask to carry, a list of one output.
    a = keras.Input((4,))
    hidden = layers.Dense(3)(a)
    tokens = keras.Input((None,))
    masked = layers.LSTM(2)(layers.Embedding(10, 3, mask_zero=True)(tokens))
    for model in (keras.Model(a, layers.Add()([hidden, layers.Dense(3)(a)])),
                  keras.Model(a, [hidden, a]),
                  keras.Model(tokens, masked), keras.Model(a, [hidden])):
        assert model._chain is None
    padded = torch.tensor([[3, 4, 0, 0, 0]])
    model = keras.Model(tokens, masked)
    torch.testing.assert_close(model(padded), model(padded[:, :2]))


def test_a_single_input_or_output_in_a_list_or_dict_reports_its_shape_alone():
    # Keras 3.15.1: Model([x], [y]).input_shape is (None, 3), not [(None, 3)].
    x = keras.Input((3,), name="a")
    y = layers.Dense(2)(x)
    for inputs, outputs in (([x], [y]), ({"a": x}, {"o": y})):
        model = keras.Model(inputs, outputs)
        assert model.input_shape == (None, 3) and model.output_shape == (None, 2)


def test_numpy_inputs_are_checked_against_the_model_inputs():
    # Keras 3.15.1 raises ValueError for data that does not fit, whatever its type and with or
    # without training=; netknit used to let NumPy data reach the layers (a torch RuntimeError).
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(2)(x))
    for call in (lambda: model(np.ones((3, 5), "float32")),
                 lambda: model(np.ones((3, 5), "float32"), training=False),
                 lambda: model(torch.ones(3, 5), training=True)):
        with pytest.raises(ValueError, match=r"expects data of shape \(None, 4\).*"
                           r"\(None, 5\) \(3 samples\)"):
            call()


def test_data_one_axis_off_with_size_1_is_fitted_to_the_input_as_in_keras():
    # Keras 3.15.1 squeezes a trailing axis of size 1, or adds one when the input ends in 1.
    x = keras.Input((1,))
    model = keras.Model(x, layers.Dense(2)(x))
    assert tuple(model(np.ones((3,), "float32")).shape) == (3, 2)
    sequential = keras.Sequential([keras.Input((1,)), layers.Dense(2)])
    assert tuple(sequential(np.ones((3,), "float32")).shape) == (3, 2)
    y = keras.Input((4,))
    wide = keras.Model(y, layers.Dense(2)(y))
    assert tuple(wide(np.ones((3, 4, 1), "float32")).shape) == (3, 2)
    with pytest.raises(ValueError, match="expects data of shape \\(None, 4\\)"):
        wide(np.ones((3, 4, 2), "float32"))


def test_output_names_are_the_output_layers_names():
    x = keras.Input((3,))
    h = layers.Dense(4)(x)
    model = keras.Model(x, [layers.Dense(1, name="priority")(h),
                            layers.Dense(4, name="department")(h)])
    assert model.output_names == ["priority", "department"]


def test_inputs_and_outputs_that_are_not_symbolic_are_value_errors():
    x = keras.Input((3,))
    with pytest.raises(ValueError, match="must be symbolic tensors"):
        keras.Model(x, layers.Dense(2))
    with pytest.raises(ValueError, match="must be symbolic tensors"):
        keras.Model(np.ones(3), np.ones(3))


class _UnnamedDense(layers.Layer):
    """The functional guide's CustomDense: its config has no name."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")

    def call(self, inputs):
        return inputs @ self.w

    def get_config(self):
        return {"units": self.units}


def test_from_config_of_a_custom_layer_whose_config_has_no_name():
    # The functional guide's example: the rebuilt layer gets a new name, and the graph is still
    # rebuilt from the entry's name, as in Keras 3.15.1.
    x = keras.Input((4,))
    model = keras.Model(x, _UnnamedDense(10)(x))
    config = model.get_config()
    entry = config["layers"][1]
    # Keras writes an unregistered class with its module and its class name as registered name.
    assert (entry["module"], entry["registered_name"]) == (__name__, "_UnnamedDense")
    rebuilt = keras.Model.from_config(config, custom_objects={"_UnnamedDense": _UnnamedDense})
    assert [type(layer).__name__ for layer in rebuilt.layers] == ["InputLayer", "_UnnamedDense"]
    assert rebuilt.layers[1].name == "__unnamed_dense_1" and rebuilt.count_params() == 40


def test_a_model_without_outputs_is_a_value_error():
    # Keras 3.15.1: "`outputs` argument cannot be empty".
    with pytest.raises(ValueError, match="at least one output"):
        keras.Model(keras.Input((3,)), [])


def test_one_output_in_a_list_comes_back_alone_on_data_as_in_keras():
    # Keras 3.15.1 unpacks a single output on real data (call and predict); a symbolic call
    # keeps the list.
    x = keras.Input((3,))
    model = keras.Model([x], [layers.Dense(2)(x)])
    assert isinstance(model(np.ones((1, 3), "float32")), torch.Tensor)
    assert isinstance(model.predict(np.ones((2, 3)), verbose=0), np.ndarray)
    assert isinstance(model(keras.Input((3,))), list)
    assert model.output_shape == (None, 2)


def test_a_nested_model_gives_the_callers_sizes_as_keras_does():
    # Keras 3.15.1 runs a nested model's graph on the tensors it is called on: a Sequential
    # built by a call on 5 samples, called on Input((3,)), outputs (None, 2), not (5, 2); a
    # model for sequences of any length gives the caller's length.
    stack = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    stack(np.ones((5, 3), "float32"))
    assert stack.output_shape == (5, 2)
    assert stack(keras.Input((3,))).shape == (None, 2)
    seq = keras.Input((None, 3))
    encoder = keras.Model(seq, layers.Dense(4)(layers.Conv1D(2, 3)(seq)))
    assert encoder(keras.Input((7, 3))).shape == (None, 5, 4)
    assert encoder(keras.Input((None, 3))).shape == (None, None, 4)


def test_data_takes_the_dtype_of_its_input_as_in_keras():
    # Keras 3.15.1 converts each input to its Input's dtype: integer data for a float model,
    # float data for integer token inputs.
    x = keras.Input((3,))
    model = keras.Model(x, layers.Dense(2)(x))
    assert model(np.ones((2, 3), "int64")).dtype == torch.float32
    assert model(torch.ones(2, 3, dtype=torch.float64)).dtype == torch.float32
    tokens = keras.Input((3,), dtype="int32")
    embed = keras.Model(tokens, layers.Embedding(5, 2)(tokens))
    assert tuple(embed(np.ones((2, 3), "float32")).shape) == (2, 3, 2)
    stack = keras.Sequential([keras.Input((3,), dtype="int32"), layers.Embedding(5, 2)])
    assert stack.input_dtype == "int32"


def test_a_nested_models_output_mask_reaches_the_layers_after_it():
    inputs = keras.Input((5,), dtype="int32")
    inner = keras.Model(inputs, layers.Embedding(10, 3, mask_zero=True)(inputs))
    tokens = keras.Input((5,), dtype="int32")
    outer = keras.Model(tokens, layers.LSTM(2)(inner(tokens)))
    outer.set_weights([np.arange(w.size, dtype="float32").reshape(w.shape) / w.size - 0.3
                       for w in outer.get_weights()])
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    # Keras 3.15.1 (torch backend), the same weights: the LSTM skips the padded steps
    np.testing.assert_allclose(outer.predict(x, verbose=0),
                               [[0.06923, 0.12592], [0.2575, 0.3896]], atol=1e-5)
    assert inner(x)._keras_mask.tolist() == (x != 0).tolist()


def test_a_mask_reaches_the_layers_inside_a_nested_model():
    tokens = keras.Input((5,), dtype="int32")
    inner = keras.Sequential([keras.Input((5, 3)), layers.LSTM(2)])
    outer = keras.Model(tokens, inner(layers.Embedding(10, 3, mask_zero=True)(tokens)))
    sequences = keras.Input((5, 3))
    inner2 = keras.Model(sequences, layers.GRU(2, return_sequences=True)(sequences))
    outer2 = keras.Model(tokens, layers.GlobalAveragePooling1D()(
        inner2(layers.Embedding(10, 3, mask_zero=True)(tokens))))
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    # Keras 3.15.1 (torch backend), the same weights: the recurrent layers inside skip the
    # padding, and the pooling after the inner model averages the unpadded steps only
    for model, expected in ((outer, [[0.06923, 0.12592], [0.2575, 0.3896]]),
                            (outer2, [[0.17285, 0.23642], [0.40505, 0.48012]])):
        model.set_weights([np.arange(w.size, dtype="float32").reshape(w.shape) / w.size - 0.3
                           for w in model.get_weights()])
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)


def test_integer_inputs_of_layers_that_compute_in_floats_as_in_keras():
    """`Input(dtype="int32")` straight into Dense or BatchNormalization: floats come out."""
    inputs = keras.Input((3,), dtype="int32")
    dense = keras.layers.Dense(2)
    model = keras.Model(inputs, keras.layers.BatchNormalization()(dense(inputs)))
    dense.set_weights([np.ones((3, 2), "float32"), np.zeros(2, "float32")])
    out = model.predict(np.array([[1, 2, 3]]), verbose=0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[6 / np.sqrt(1 + 1e-3)] * 2], rtol=1e-6)
    chain = keras.Sequential([keras.Input((3,), dtype="int64"), keras.layers.Dense(2)])
    assert chain(np.array([[1, 2, 3]])).dtype == torch.float32
