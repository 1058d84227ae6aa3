"""Operators on symbolic tensors record operations, as in Keras 3: not layers, but graph nodes
that run, train, print in `summary()` and save as Keras saves them. The names, shapes, dtypes and
config entries below are the ones Keras 3.15.1 gives for the same code."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers, ops


def _model():
    x = keras.Input((4,))
    y = layers.Dense(4)(x)
    return keras.Model(x, [x[:, :3] * 2 + y[:, 1:], x[:, 0]])


def test_operations_are_graph_nodes_but_not_layers():
    model = _model()
    assert [layer.name for layer in model.layers] == ["input_layer", "dense"]
    assert [op.name for op in model.operations] == [
        "input_layer", "get_item", "dense", "multiply", "get_item_1", "add", "get_item_2"]
    assert [type(op).__name__ for op in model.operations[3:]] == [
        "Multiply", "GetItem", "Add", "GetItem"]
    assert model.output_shape == [(None, 3), (None,)]
    assert model.count_params() == 20


def test_the_model_computes_what_the_operators_say():
    model = _model()
    x = np.arange(8, dtype="float32").reshape(2, 4)
    kernel, bias = model.get_weights()
    first, second = model.predict(x, verbose=0)
    np.testing.assert_allclose(first, x[:, :3] * 2 + (x @ kernel + bias)[:, 1:], rtol=1e-6)
    np.testing.assert_array_equal(second, x[:, 0])


@pytest.mark.parametrize("make, shape, dtype", [
    (lambda x: x[..., None], (None, 4, 1), torch.float32),
    (lambda x: x[:, None, ::2], (None, 1, 2), torch.float32),
    (lambda x: x[:, -1] ** 2, (None,), torch.float32),
    (lambda x: 3 - x, (None, 4), torch.float32),
    (lambda x: x // 2 + x % 3, (None, 4), torch.float32),
    (lambda x: x < 1.5, (None, 4), torch.bool),
    (lambda x: -abs(x), (None, 4), torch.float32),
    (lambda x: x @ x[0], (None,), torch.float32),
    (lambda x: x / (x + 1), (None, 4), torch.float32),
    (lambda x: x >= 1, (None, 4), torch.bool),
])
def test_shapes_and_dtypes(make, shape, dtype):
    out = make(keras.Input((4,)))
    assert out.shape == shape and out.dtype == dtype


def test_unknown_sizes_stay_unknown():
    x = keras.Input((None, 3))
    assert (x[:, 1:] * 2).shape == (None, None, 3)
    assert x[:, :, 0].shape == (None, None)


def test_config_entries_are_keras_s():
    config = _model().get_config()
    get_item, multiply = config["layers"][1], config["layers"][3]
    source = {"class_name": "__keras_tensor__",
              "config": {"shape": (None, 4), "dtype": "float32",
                         "keras_history": ["input_layer", 0, 0]}}
    assert get_item == {
        "module": "keras.src.ops.numpy", "class_name": "GetItem",
        "config": {"name": "get_item"}, "registered_name": "GetItem", "name": "get_item",
        "inbound_nodes": [{"args": (source, (
            {"class_name": "__slice__", "config": {"start": None, "stop": None, "step": None}},
            {"class_name": "__slice__", "config": {"start": None, "stop": 3, "step": None}},
        )), "kwargs": {}}],
    }
    assert multiply["class_name"] == "Multiply" and multiply["inbound_nodes"][0]["args"][1] == 2


def test_ellipsis_and_new_axes_are_saved_and_replayed():
    x = keras.Input((4,))
    model = keras.Model(x, x[..., None])
    key = model.get_config()["layers"][1]["inbound_nodes"][0]["args"][1]
    assert key == ({"class_name": "__ellipsis__", "config": {}}, None)
    again = keras.Model.from_config(model.get_config())
    assert again.output_shape == (None, 4, 1)


def test_rebuilt_from_config_and_saved_file(tmp_path):
    model = _model()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    expected = model.predict(x, verbose=0)
    rebuilt = keras.Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    for a, b in zip(rebuilt.predict(x, verbose=0), expected):
        np.testing.assert_array_equal(a, b)
    model.save(tmp_path / "ops.keras")
    loaded = keras.models.load_model(tmp_path / "ops.keras")
    assert [op.name for op in loaded.operations] == [op.name for op in model.operations]
    for a, b in zip(loaded.predict(x, verbose=0), expected):
        np.testing.assert_array_equal(a, b)
    clone = keras.models.clone_model(model)
    assert [type(op).__name__ for op in clone.operations] == [
        type(op).__name__ for op in model.operations]


def test_an_unknown_saved_operation_is_named():
    config = _model().get_config()
    config["layers"][1]["class_name"] = "Stft"
    with pytest.raises(ValueError, match="operation .Stft.*does not implement"):
        keras.Model.from_config(config)


@pytest.mark.parametrize("jit", [False, True])
def test_gradients_flow_through_operations(jit):
    x = keras.Input((3,))
    hidden = layers.Dense(4, activation="relu")(x)
    model = keras.Model(x, layers.Dense(1)(hidden * 0.5 + hidden[:, :1]))
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    data = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    target = data.sum(axis=1, keepdims=True)
    history = model.fit(data, target, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_summary_lists_operations_as_keras_does():
    printed = []
    _model().summary(print_fn=printed.append)
    text = printed[0]
    assert "multiply (Multiply)" in text and "Connected to" in text
    assert "(None)" in text and "(None,)" not in text  # Keras writes a 1-tuple without comma
    assert "Total params: 20" in text


def test_a_shape_mismatch_names_the_operation_and_the_inputs():
    x = keras.Input((4,))
    y = layers.Dense(3, name="narrow")(x)
    with pytest.raises(ValueError, match=r"'add' \(Add\).*\(None, 4\) and \(None, 3\)") as info:
        x + y
    assert "narrow" in str(info.value) and "broadcast" in str(info.value)


def test_a_symbolic_tensor_cannot_be_iterated():
    with pytest.raises(TypeError, match="Cannot iterate over symbolic tensor"):
        list(keras.Input((4,)))


def test_the_functions_compute_on_real_tensors_and_record_on_symbolic_ones():
    assert torch.equal(ops.add(torch.ones(2), 1), torch.full((2,), 2.0))
    assert torch.equal(ops.get_item(torch.arange(4), slice(1, 3)), torch.tensor([1, 2]))
    assert ops.multiply(keras.Input((2,)), 3).shape == (None, 2)


def test_a_list_index_is_refused_on_symbolic_tensors():
    # Saved, `x[[0, 2]]` would read back as `x[0, 2]`; Keras refuses it too.
    with pytest.raises(TypeError, match="with a list"):
        keras.Input((4,))[:, [0, 2]]
    assert torch.equal(ops.get_item(torch.arange(4), [0, 2]), torch.tensor([0, 2]))


def test_a_missing_function_says_what_there_is():
    with pytest.raises(AttributeError, match="no 'concatnate'. Did you mean 'concatenate'.*torch"):
        _ = ops.concatnate


def test_keras_ops_functions_record_settings_and_replay_from_a_saved_file(tmp_path):
    x = keras.Input((4, 3))
    pooled = ops.mean(layers.Dense(3)(x), axis=1)
    outputs = ops.softmax(ops.concatenate([pooled, ops.max(x, axis=1)], axis=-1))
    model = keras.Model(x, outputs)
    assert model.output_shape == (None, 6)
    assert [type(op).__name__ for op in model.operations[2:]] == [
        "Mean", "Max", "Concatenate", "Softmax"]
    config = model.get_config()["layers"][2]
    assert config["module"] == "keras.src.ops.numpy"
    assert config["config"] == {"name": "mean", "axis": 1, "keepdims": False}
    data = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    model.save(tmp_path / "ops.keras")
    loaded = keras.models.load_model(tmp_path / "ops.keras")
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
    np.testing.assert_allclose(model.predict(data, verbose=0).sum(axis=-1), 1.0, rtol=1e-6)


def test_a_custom_layer_written_with_keras_ops_trains():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return ops.sum(ops.multiply(inputs, self.w), axis=-1, keepdims=True)

    model = keras.Sequential([keras.Input((3,)), Scale()])
    model.compile(optimizer="sgd", loss="mse")
    data = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    target = data @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    history = model.fit(data, target, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


def test_lambda_layers_take_keras_ops():
    x = keras.Input((5, 2))
    y = layers.Lambda(lambda t: ops.mean(ops.square(t), axis=1))(x)
    assert y.shape == (None, 2)


def test_python_values_take_keras_dtypes():
    assert ops.convert_to_tensor([1, 2]).dtype == torch.int32
    assert ops.convert_to_tensor(2.5).dtype == torch.float32
    assert ops.arange(3).dtype == torch.int32
    assert ops.mean(np.arange(4, dtype="int32")).dtype == torch.float32
    assert ops.sum(np.ones(3, dtype=bool)).dtype == torch.int32
    assert ops.argmax(np.arange(4.0)).dtype == torch.int32


def test_value_dependent_functions_refuse_symbolic_tensors():
    with pytest.raises(TypeError, match="ops.unique cannot run on symbolic tensors.*Lambda"):
        ops.unique(keras.Input((3,)))
    with pytest.raises(TypeError, match="ops.cond cannot run on symbolic tensors"):
        ops.cond(keras.Input((1,)), lambda: 1, lambda: 0)


def test_a_bad_setting_is_named():
    with pytest.raises(TypeError, match="Sum has no setting \\['axes'\\].*'axis', 'keepdims'"):
        ops.sum.operation(axes=1)


def test_custom_gradient_takes_keras_s_torch_form():
    # Keras's documented example: a numerically stable gradient of log(1 + e^x).
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad

    x = torch.tensor([0.0, 2.0], requires_grad=True)
    log1pexp(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.sigmoid(torch.tensor([0.0, 2.0])))


def test_control_flow_functions_compute_as_keras_documents():
    assert ops.cond(torch.tensor(True), lambda: 1, lambda: 0) == 1
    assert ops.switch(5, [lambda x: x + 1, lambda x: x * 10], 2) == 20  # index clipped
    assert ops.fori_loop(0, 4, lambda i, total: total + i, 0) == 6
    assert ops.while_loop(lambda a, b: a < 10, lambda a, b: (a + 1, b * 2), (0, 1)) == (10, 1024)
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), 0, torch.arange(1, 4))
    assert carry == 6 and ys.tolist() == [0, 2, 9]
    assert ops.map(lambda x: x * 2, torch.arange(3)).tolist() == [0, 2, 4]
    assert ops.vectorized_map(lambda x: x.sum(), torch.ones(3, 2)).tolist() == [2.0] * 3
    assert ops.associative_scan(lambda a, b: a + b, torch.arange(1, 5)).tolist() == [1, 3, 6, 10]
    reverse = ops.associative_scan(lambda a, b: a + b, torch.arange(1, 5), reverse=True)
    assert reverse.tolist() == [10, 9, 7, 4]


def test_rearrange_follows_keras_documented_examples():
    images = np.random.default_rng(0).random((32, 30, 40, 3)).astype("float32")
    cases = {
        ("b h w c -> b c h w", ()): (32, 3, 30, 40),
        ("b h w c -> (b h) w c", ()): (960, 40, 3),
        ("b h w c -> h (b w) c", ()): (30, 1280, 3),
        ("b h w c -> b (c h w)", ()): (32, 3600),
        ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", (("h1", 2), ("w1", 2))): (128, 15, 20, 3),
        ("b (h h1) (w w1) c -> b h w (c h1 w1)", (("h1", 2), ("w1", 2))): (32, 15, 20, 12),
    }
    for (pattern, lengths), shape in cases.items():
        assert tuple(ops.rearrange(images, pattern, **dict(lengths)).shape) == shape
    # Values: merging (b h) is a reshape of the channels-last layout; space-to-depth by hand.
    np.testing.assert_array_equal(ops.rearrange(images, "b h w c -> (b h) w c").numpy(),
                                  images.reshape(960, 40, 3))
    blocks = ops.rearrange(images, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2).numpy()
    np.testing.assert_array_equal(blocks[0, 1, 2].reshape(3, 2, 2),
                                  images[0, 2:4, 4:6].transpose(2, 0, 1))
    symbolic = ops.rearrange(keras.Input((30, 40, 3)), "b (h h1) w c -> b h (w h1) c", h1=2)
    assert symbolic.shape == (None, 15, 80, 3)


def test_rearrange_says_what_is_wrong_with_a_pattern():
    x = np.zeros((2, 6))
    with pytest.raises(ValueError, match="names 3 input axes"):
        ops.rearrange(x, "a b c -> a b c")
    with pytest.raises(ValueError, match="appear on one side only"):
        ops.rearrange(x, "a b -> a c")
    with pytest.raises(ValueError, match="all but one"):
        ops.rearrange(x, "a (b c) -> a b c")
    with pytest.raises(ValueError, match="cannot be split"):
        ops.rearrange(x, "a (b c) -> a b c", b=4)


def test_jvp_gives_keras_documented_values():
    primal, tangent = ops.jvp(ops.sin, (ops.convert_to_tensor(0.1),),
                              (ops.convert_to_tensor(0.2),))
    assert float(primal) == pytest.approx(0.09983342)
    assert float(tangent) == pytest.approx(0.19900084)
    out, tangent, aux = ops.jvp(lambda x, y: (x * y, {"x": x}), (2.0, 3.0), (1.0, 0.0),
                                has_aux=True)
    assert (float(out), float(tangent), float(aux["x"])) == (6.0, 3.0, 2.0)
    with pytest.raises(TypeError, match="symbolic"):
        ops.jvp(ops.sin, (keras.Input((2,)),), (keras.Input((2,)),))
