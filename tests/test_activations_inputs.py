"""Activation functions on NumPy arrays and lists, on symbolic tensors (recording Keras's
operations), and NumPy inputs with negative strides and lambda metric names, as in Keras."""

import numpy as np
import pytest
import torch

import netknit as keras

NAMES = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "hard_sigmoid",
         "hard_silu", "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu", "mish",
         "exponential", "celu", "glu", "tanh_shrink", "hard_tanh", "log_sigmoid", "squareplus",
         "sparse_plus", "hard_shrink", "soft_shrink", "sparse_sigmoid", "sparsemax", "threshold",
         "swish", "hard_swish"]
# What a symbolic call records: (class name, Keras module); mish records Keras's ops for it.
RECORDED = {"relu": ("ReLU", "keras.src.activations.activations"),
            "tanh": ("Tanh", "keras.src.ops.numpy"), "exponential": ("Exp", "keras.src.ops.numpy")}
# Keras itself fails on these on symbolic tensors (they convert to a tensor first).
KERAS_FAILS_SYMBOLIC = {"hard_silu", "hard_swish", "mish", "sparsemax"}


def _args(name):
    return (0.5, 0.0) if name == "threshold" else ()


@pytest.mark.parametrize("name", NAMES)
def test_numpy_input_matches_tensor_input(name):
    fn = getattr(keras.activations, name)
    x = np.array([[-1.5, -0.2, 0.3, 2.0]], "float32")
    result = fn(x, *_args(name))
    assert isinstance(result, torch.Tensor)
    expected = fn(torch.as_tensor(x), *_args(name))
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_list_and_integer_inputs_take_keras_dtypes():
    assert keras.activations.relu([-1, 2]).dtype == torch.int32
    assert keras.activations.relu(np.array([-1, 2])).dtype == torch.int64
    assert keras.activations.sigmoid(np.array([-1, 2])).dtype == torch.float32
    assert keras.activations.relu([-1.0, 2.0], max_value=1.0).tolist() == [0.0, 1.0]
    x = np.array([1.0, -2.0], "float32")
    assert keras.activations.linear(x) is x


def test_negative_strides():
    x = np.arange(6, dtype="float32").reshape(3, 2) - 3
    np.testing.assert_allclose(keras.activations.relu(x[::-1]).numpy(), np.maximum(x[::-1], 0))
    np.testing.assert_allclose(keras.layers.Activation("relu")(x[::-1]).numpy(),
                               np.maximum(x[::-1], 0))
    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    np.testing.assert_allclose(model(x[::-1]).detach().numpy(),
                               model(x[::-1].copy()).detach().numpy())
    y = np.array([0, 1, 2])
    p = np.full((3, 3), 1 / 3, "float32")
    loss = keras.losses.SparseCategoricalCrossentropy()(y[::-1], p)
    np.testing.assert_allclose(float(loss), np.log(3), rtol=1e-5)
    miou = keras.metrics.MeanIoU(3)
    miou.update_state(y, y[::-1])
    np.testing.assert_allclose(float(miou.result()), 1 / 3, rtol=1e-5)


def _recorded(model):
    return [(type(op).__name__, entry["module"], entry["config"])
            for op, entry in zip(model.operations[2:], model.get_config()["layers"][2:])]


@pytest.mark.parametrize("name", NAMES)
def test_symbolic_input_records_an_operation(name):
    fn = getattr(keras.activations, name)
    inp = keras.Input((4,))
    model = keras.Model(inp, fn(keras.layers.Dense(4)(inp), *_args(name)))
    assert len(model.layers) == 2  # operations are not layers
    recorded = _recorded(model)
    assert recorded
    if name in RECORDED:
        assert recorded[-1][:2] == RECORDED[name]
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    dense = model.layers[1]
    expected = fn(dense(torch.as_tensor(x)), *_args(name))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_relu_operation_config_and_summary():
    inp = keras.Input((4,))
    out = keras.activations.relu(keras.layers.Dense(4)(inp), negative_slope=0.1, max_value=3.0)
    model = keras.Model(inp, out)
    name, module, config = _recorded(model)[-1]
    assert (name, module) == ("ReLU", "keras.src.activations.activations")
    assert {k: config[k] for k in ("negative_slope", "max_value", "threshold")} == {
        "negative_slope": 0.1, "max_value": 3.0, "threshold": 0.0}
    assert config["name"].startswith("re_lu")


def test_lambda_metric_name():
    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile("sgd", "mse", metrics=[lambda yt, yp: yp])
    history = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    assert sorted(history.history) == ["lambda", "loss"]


# --- Live comparison with Keras --------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_matches_keras(real_keras, name):
    x = np.array([[-1.5, -0.2, 0.3, 2.0]], "float32")
    ours = getattr(keras.activations, name)(x, *_args(name))
    theirs = getattr(real_keras.activations, name)(x, *_args(name))
    np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-5, atol=1e-6)
    if name in KERAS_FAILS_SYMBOLIC:
        return
    models = []
    for k in (keras, real_keras):
        inp = k.Input((4,))
        models.append(k.Model(inp, getattr(k.activations, name)(k.layers.Dense(4)(inp),
                                                                 *_args(name))))
    ours, theirs = ([(type(op).__name__, e["module"], {k: v for k, v in e["config"].items()
                                                        if k != "name"})
                     for op, e in zip(m.operations[2:], m.get_config()["layers"][2:])]
                    for m in models)
    assert ours == theirs


def test_lambda_metric_name_matches_keras(real_keras):
    histories = []
    for k in (keras, real_keras):
        inp = k.Input((2,))
        model = k.Model(inp, k.layers.Dense(1)(inp))
        model.compile("sgd", "mse", metrics=[lambda yt, yp: yp, lambda yt, yp: yt])
        histories.append(sorted(model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0).history))
    assert histories[0] == histories[1]


def test_a_saved_activation_operation_loads_as_an_operation(tmp_path):
    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.activations.relu(keras.layers.Dense(3)(inputs)))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    # Keras 3.15.1: the ReLU is in model.operations, not model.layers.
    assert [type(op).__name__ for op in loaded.operations] == ["InputLayer", "Dense", "ReLU"]
    assert [type(layer).__name__ for layer in loaded.layers] == ["InputLayer", "Dense"]
    x = np.random.default_rng(0).normal(size=(2, 5)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
