"""Mixed precision against real Keras 3 (torch backend), live.

Under each policy the same layers and models are built in both libraries: their policies, the
dtypes of their weights, symbolic outputs and real outputs must agree, and so must their
predictions once the weights are copied. The loss scale adapts step by step as Keras's does,
training under mixed_float16 skips the same steps, and `.keras` files (with the loss-scaled
optimizer's state) move both ways. Skipped when Keras is not installed.
"""

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from layer_db import ROWS

import netknit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")

MODEL_POLICIES = ["mixed_float16", "mixed_bfloat16", "float64"]


@pytest.fixture
def policy(request):
    name = request.param
    keras.config.set_dtype_policy(name)
    netknit.config.set_dtype_policy(name)
    yield name
    keras.config.set_dtype_policy("float32")
    netknit.config.set_dtype_policy("float32")


def _name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _dtypes(layer) -> dict:
    return {"policy": layer.dtype_policy.name, "compute": layer.compute_dtype,
            "variable": layer.variable_dtype,
            "weights": [_name(w.dtype) for w in layer.weights],
            "config": layer.get_config().get("dtype")}


def _image_model(lib):
    L = lib.layers
    inputs = lib.Input((8, 8, 3))
    x = L.Conv2D(4, 3, activation="relu")(inputs)
    x = L.BatchNormalization()(x)
    x = L.MaxPooling2D()(x)
    x = L.Flatten()(x)
    x = L.Dense(6, activation="relu")(x)
    x = L.Dropout(0.2)(x)
    x = L.Dense(3)(x)
    return lib.Model(inputs, L.Activation("softmax", dtype="float32")(x))


def _sequence_model(lib):
    L = lib.layers
    tokens = lib.Input((7,), dtype="int32")
    x = L.Embedding(12, 6, mask_zero=True)(tokens)
    x = L.LSTM(5, return_sequences=True)(x)
    x = L.LayerNormalization()(x)
    x = L.GlobalAveragePooling1D()(x)
    return lib.Model(tokens, L.Dense(2)(x))


def _attention_model(lib):
    L = lib.layers
    inputs = lib.Input((5, 8))
    x = L.MultiHeadAttention(2, 4)(inputs, inputs, use_causal_mask=True)
    x = L.LayerNormalization()(L.Add()([x, inputs]))
    x = L.Bidirectional(L.GRU(3))(x)
    return lib.Model(inputs, L.Dense(2, activation="sigmoid", dtype="float32")(x))


def _inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    shape = (4,) + tuple(model.inputs[0].shape[1:])
    if "int" in str(model.inputs[0].dtype):
        data = rng.integers(1, 12, size=shape)
        data[:, 5:] = 0
        return data
    return rng.standard_normal(shape).astype("float32")


# Keras 3.15.1 cannot make recurrent layers' float16 weights on the CPU (no float16 QR for the
# orthogonal initializer), so the pure float16 policy is compared on the image model only.
@pytest.mark.parametrize("policy, make", [
    *((p, m) for p in MODEL_POLICIES for m in (_image_model, _sequence_model, _attention_model)),
    ("float16", _image_model), ("bfloat16", _image_model),
], indirect=["policy"], ids=lambda v: getattr(v, "__name__", v))
def test_models_have_keras_dtypes_and_predictions(policy, make):
    theirs, ours = make(keras), make(netknit)
    assert [_name(t.dtype) for t in ours.outputs] == [str(t.dtype) for t in theirs.outputs]
    assert ours.dtype_policy.name == theirs.dtype_policy.name
    for mine, keras_layer in zip(ours.layers, theirs.layers):
        if isinstance(keras_layer, keras.layers.InputLayer):
            assert _name(mine.dtype) == keras_layer.get_config()["dtype"]
            continue
        assert _dtypes(mine) == _dtypes(keras_layer), keras_layer.name
        assert [_name(t.dtype) for t in netknit.tree.flatten(mine.output)] == [
            str(t.dtype) for t in keras.tree.flatten(keras_layer.output)], keras_layer.name
    ours.set_weights(theirs.get_weights())
    x = _inputs(ours)
    expected = theirs(x)
    actual = ours(torch.as_tensor(x))
    assert _name(actual.dtype) == _name(expected.dtype)
    tolerance = {"float64": 1e-6, "mixed_float16": 3e-3, "float16": 3e-3}.get(policy, 3e-2)
    np.testing.assert_allclose(actual.detach().double().numpy(),
                               expected.detach().double().numpy(), rtol=tolerance,
                               atol=tolerance)


# Keras 3.15.1 gives CategoryEncoding's real outputs as float32 under a mixed policy, though its
# symbolic outputs say the compute dtype; netknit gives the compute dtype in both.
REAL_DTYPE_DIFFERS = {"CategoryEncoding", "CategoryEncoding-one-hot"}
# torch's CPU kernels have no 16-bit 3-D average pooling: both libraries fail to run it.
NO_HALF_KERNEL = {"AveragePooling3D"}


def _under(config, policy: str):
    """`config` with every dtype policy in it (nested cells' too) replaced by `policy`."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return policy
        return {k: _under(v, policy) for k, v in config.items()}
    if isinstance(config, list):
        return [_under(v, policy) for v in config]
    return config


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
@pytest.mark.parametrize("case", [c for c in ROWS if c.cls.__name__ != "Lambda"],
                         ids=lambda c: c.id)
def test_every_layer_has_keras_dtypes(case, policy):
    if not hasattr(keras.layers, case.cls.__name__):
        pytest.skip("Keras 3.15.1 has no such layer")

    def remade(value, lib):
        """Layers given as arguments (wrapped layers, cells), made anew by `lib` under the
        policy."""
        if isinstance(value, list):
            return [remade(v, lib) for v in value]
        if not isinstance(value, netknit.Layer):
            return value
        cls = type(value) if lib is netknit else getattr(keras.layers, type(value).__name__)
        return cls.from_config(_under(value.get_config(), policy))

    ours = case.cls(**{k: remade(v, netknit) for k, v in case.kwargs.items()})
    try:
        theirs = getattr(keras.layers, case.cls.__name__)(
            **{k: remade(v, keras) for k, v in case.kwargs.items()})
    except Exception as error:
        pytest.skip(f"Keras 3.15.1 cannot make this row: {str(error).splitlines()[0]}")
    shapes = case.input_shape if isinstance(case.input_shape, list) else [case.input_shape]

    def call(lib, layer, values):
        if case.separate_inputs:
            return layer(*values)
        return layer(values if isinstance(case.input_shape, list) else values[0])

    try:
        keras_symbolic = call(keras, theirs, [keras.Input(s, dtype=case.input_dtype)
                                              for s in shapes])
    except Exception as error:
        pytest.skip(f"Keras 3.15.1 cannot build this row: {str(error).splitlines()[0]}")
    symbolic = [call(netknit, ours, [netknit.Input(s, dtype=case.input_dtype) for s in shapes]),
                keras_symbolic]
    assert [_name(t.dtype) for t in netknit.tree.flatten(symbolic[0])] == [
        str(t.dtype) for t in keras.tree.flatten(symbolic[1])]
    assert sorted({_name(w.dtype) for w in ours.weights}) == sorted(
        {str(w.dtype) for w in theirs.weights})
    if case.id in REAL_DTYPE_DIFFERS | NO_HALF_KERNEL:
        return
    rng = np.random.default_rng(0)
    data = [rng.integers(0, 3, (2,) + tuple(d or 4 for d in s)) if "int" in case.input_dtype
            else rng.standard_normal((2,) + tuple(d or 4 for d in s)).astype("float32")
            for s in shapes]
    ours_real = call(netknit, ours, [torch.as_tensor(d) for d in data])
    try:
        theirs_real = call(keras, theirs, data)
    except Exception as error:
        pytest.skip(f"Keras 3.15.1 cannot run this row: {str(error).splitlines()[0]}")
    assert [_name(t.dtype) for t in netknit.tree.flatten(ours_real)] == [
        _name(t.dtype) for t in keras.tree.flatten(theirs_real)]


def test_loss_scale_adapts_as_keras_s_step_by_step():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((3, 2)).astype("float32"),
               rng.standard_normal(2).astype("float32")]
    theirs = [keras.Variable(w) for w in weights]
    ours = [torch.nn.Parameter(torch.tensor(w)) for w in weights]
    keras_opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.1),
                                                    initial_scale=4.0, dynamic_growth_steps=2)
    our_opt = netknit.optimizers.LossScaleOptimizer(netknit.optimizers.Adam(0.1),
                                                    initial_scale=4.0, dynamic_growth_steps=2)
    for step in range(8):
        grads = [rng.standard_normal(w.shape).astype("float32") * 100 for w in weights]
        if step in (1, 4):
            grads[step % 2].flat[0] = np.inf if step == 1 else np.nan
        keras_opt.apply([keras.ops.convert_to_tensor(g) for g in grads], theirs)
        for weight, grad in zip(ours, grads):
            weight.grad = torch.tensor(grad)
        our_opt.apply(ours)
        assert float(our_opt.dynamic_scale) == float(keras_opt.dynamic_scale.numpy())
        assert int(our_opt.step_counter) == int(keras_opt.step_counter.numpy())
        assert our_opt.iterations == int(keras_opt.iterations.numpy())
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    assert keras.optimizers.serialize(keras_opt)["config"].keys() == (
        netknit.optimizers.serialize(our_opt)["config"].keys())


def _regression(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((6,)), L.Dense(8, activation="tanh"),
                           L.LayerNormalization(), L.Dense(2),
                           L.Activation("linear", dtype="float32")])


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_fit_takes_keras_s_steps(policy):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6)).astype("float32")
    # Large targets: the first scaled gradients overflow float16, so steps are skipped.
    y = 10 * rng.standard_normal((32, 2)).astype("float32")
    keras.utils.set_random_seed(0)
    theirs, ours = _regression(keras), _regression(netknit)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.Adam(0.01), "mse")
    ours.compile(netknit.optimizers.Adam(0.01), "mse")
    assert type(ours.optimizer).__name__ == type(theirs.optimizer).__name__
    kwargs = {"batch_size": 8, "epochs": 2, "shuffle": False, "verbose": 0}
    expected = theirs.fit(x, y, **kwargs).history["loss"]
    actual = ours.fit(x, y, **kwargs).history["loss"]
    np.testing.assert_allclose(actual, expected, rtol=2e-3)
    if policy == "mixed_float16":  # the same steps were skipped (the first ones overflow)
        assert float(ours.optimizer.dynamic_scale) == float(theirs.optimizer.dynamic_scale)
        assert int(ours.optimizer.step_counter) == int(theirs.optimizer.step_counter.numpy())
        assert ours.optimizer.iterations == int(theirs.optimizer.iterations.numpy()) < 8
    tolerance = 2e-4 if policy == "mixed_float16" else 5e-3
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_loss_scaled_training_state_moves_both_ways(policy, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 6)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    theirs = _regression(keras)
    theirs.compile(keras.optimizers.Adam(0.01), "mse")
    theirs.fit(x, y, batch_size=8, epochs=1, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    ours = netknit.saving.load_model(tmp_path / "keras.keras")

    def state(optimizer, convert):
        return ([float(convert(optimizer.dynamic_scale)), int(convert(optimizer.step_counter)),
                 int(convert(optimizer.iterations))]
                + [np.asarray(convert(v)) for v in optimizer.inner_optimizer.variables[-4:]])

    keras_state = state(theirs.optimizer, keras.ops.convert_to_numpy)
    our_state = state(ours.optimizer, lambda v: v.detach().numpy() if torch.is_tensor(v) else v)
    assert our_state[:3] == keras_state[:3]
    for a, b in zip(our_state[3:], keras_state[3:]):
        np.testing.assert_array_equal(a, b)
    ours.fit(x, y, batch_size=8, epochs=1, verbose=0)
    ours.save(tmp_path / "netknit.keras")
    back = keras.saving.load_model(tmp_path / "netknit.keras")
    assert isinstance(back.optimizer, keras.optimizers.LossScaleOptimizer)
    our_state = state(ours.optimizer, lambda v: v.detach().numpy() if torch.is_tensor(v) else v)
    back_state = state(back.optimizer, keras.ops.convert_to_numpy)
    assert back_state[:3] == our_state[:3]
    for a, b in zip(back_state[3:], our_state[3:]):
        np.testing.assert_array_equal(a, b)
    assert [layer.dtype_policy.name for layer in back.layers] == [
        "mixed_float16", "mixed_float16", "mixed_float16", "float32"]
    # float16 products: the fused `x @ W + b` rounds once where Keras's matmul-then-add rounds
    # twice.
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_a_keras_mixed_model_file_loads_with_its_policies(policy, tmp_path):
    theirs = _sequence_model(keras)
    theirs.save(tmp_path / "keras.keras")
    keras.config.set_dtype_policy("float32")
    netknit.config.set_dtype_policy("float32")
    ours = netknit.saving.load_model(tmp_path / "keras.keras")
    assert [layer.dtype_policy.name for layer in ours.layers[1:]] == [
        layer.dtype_policy.name for layer in theirs.layers[1:]]
    x = _inputs(ours)
    np.testing.assert_allclose(ours.predict(x, verbose=0),
                               np.asarray(theirs.predict(x, verbose=0), "float32"),
                               rtol=3e-2, atol=3e-2)
