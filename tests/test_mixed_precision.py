"""Mixed precision: dtype policies, layers under them, loss scaling, training and saving.

The expected dtypes, configs and loss-scale numbers are Keras 3.15.1's (torch backend), read off
the live library; `tests/parity/test_mixed_precision_parity.py` compares with it directly.
"""

import contextlib

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers, mixed_precision
from netknit.optimizers import SGD, Adam, LossScaleOptimizer


@contextlib.contextmanager
def global_policy(name):
    mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        mixed_precision.set_global_policy("float32")


@pytest.fixture(autouse=True)
def float32_after():
    yield
    mixed_precision.set_global_policy("float32")


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype("float32")
    return x, (x[:, :2] * [2.0, -1.0] + 0.5).astype("float32")


# ---------------------------------------------------------------------------- policies

@pytest.mark.parametrize("name, compute, variable", [
    ("float32", "float32", "float32"), ("float16", "float16", "float16"),
    ("bfloat16", "bfloat16", "bfloat16"), ("float64", "float64", "float64"),
    ("mixed_float16", "float16", "float32"), ("mixed_bfloat16", "bfloat16", "float32"),
    ("int32", "int32", "int32"),
])
def test_policy_dtypes_names_and_config(name, compute, variable):
    policy = keras.DTypePolicy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert repr(policy) == f'<DTypePolicy "{name}">'
    assert policy.get_config() == {"name": name}
    assert keras.dtype_policies.DTypePolicy.from_config(policy.get_config()) == policy
    assert policy.quantization_mode is None
    assert keras.dtype_policies.serialize(policy) == {
        "module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
        "registered_name": None}


def test_the_keras_names_of_policies_and_the_global_policy():
    assert mixed_precision.Policy is mixed_precision.DTypePolicy is keras.DTypePolicy
    assert keras.mixed_precision.LossScaleOptimizer is keras.optimizers.LossScaleOptimizer
    assert repr(keras.FloatDTypePolicy("float32")) == '<DTypePolicy "float32">'
    assert keras.FloatDTypePolicy("float16") == keras.DTypePolicy("float16")
    assert keras.DTypePolicy("float16") != keras.DTypePolicy("mixed_float16")
    assert mixed_precision.global_policy() == keras.DTypePolicy("float32")
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert keras.config.dtype_policy() is mixed_precision.global_policy()
    assert keras.DTypePolicy().name == "mixed_bfloat16"  # no name: the global policy's
    keras.config.set_dtype_policy(keras.DTypePolicy("float64"))
    assert mixed_precision.dtype_policy().name == "float64"


def test_a_bad_policy_name_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"'mixed_float61'.*Did you mean 'mixed_float16'.*"
                                         r"'float32', 'float16', 'bfloat16', 'float64', "
                                         r"'mixed_float16', 'mixed_bfloat16'"):
        keras.DTypePolicy("mixed_float61")
    with pytest.raises(ValueError, match="Allowed"):
        mixed_precision.set_global_policy("half_precision")
    with pytest.raises(ValueError, match="Allowed"):
        layers.Dense(2, dtype="mixed_float8")
    with pytest.raises(TypeError, match="must be a string"):
        keras.DTypePolicy(16)
    with pytest.raises(ValueError, match="Expected the name of a dtype policy"):
        mixed_precision.set_global_policy(16)
    assert mixed_precision.global_policy().name == "float32"  # unchanged by the failures


def test_policy_from_a_config_dict_a_torch_dtype_or_an_older_class_name():
    get = keras.dtype_policies.get
    assert get(None) == keras.DTypePolicy("float32")
    assert get(torch.float64).name == "float64"
    assert get({"class_name": "FloatDTypePolicy", "config": {"name": "mixed_float16"}}).name == (
        "mixed_float16")
    with pytest.raises(ValueError, match="quantized policies are not supported"):
        get({"class_name": "QuantizedDTypePolicy", "config": {"mode": "int8"}})


# ---------------------------------------------------------------------------- layers

def test_a_float32_layer_runs_forward_unwrapped():
    # The float32 path pays nothing for policies: no wrapper around forward.
    assert "forward" not in layers.Dense(2).__dict__
    with global_policy("mixed_float16"):
        assert "forward" in layers.Dense(2).__dict__
        assert "forward" not in keras.Sequential([layers.Dense(2)]).__dict__


def test_layers_take_the_global_policy_and_keep_float32_weights():
    with global_policy("mixed_float16"):
        dense = layers.Dense(3)
        inputs = keras.Input((4,))
        outputs = dense(inputs)
    assert dense.dtype_policy == keras.DTypePolicy("mixed_float16")
    assert (dense.compute_dtype, dense.variable_dtype) == ("float16", "float32")
    # netknit's `layer.dtype` is the weights' torch dtype (Keras gives the name "float32").
    assert dense.dtype == torch.float32
    assert {w.dtype for w in dense.weights} == {torch.float32}
    assert inputs.dtype == torch.float32  # Input stays float32, as in Keras
    assert outputs.dtype == torch.float16
    real = dense(np.ones((2, 4), "float32"))
    assert real.dtype == torch.float16
    real.float().sum().backward()
    assert dense.kernel.grad.dtype == torch.float32
    assert isinstance(dense._parameters["kernel"], torch.nn.Parameter)  # put back after the call


def test_a_float32_layer_in_a_mixed_model_outputs_float32():
    with global_policy("mixed_float16"):
        inputs = keras.Input((4,))
        hidden = layers.Dense(8, activation="relu")(inputs)
        outputs = layers.Activation("softmax", dtype="float32")(layers.Dense(3)(hidden))
        model = keras.Model(inputs, outputs)
    assert [t.dtype for t in model.outputs] == [torch.float32]
    assert model.layers[-1].dtype_policy.name == "float32"
    probabilities = model(np.ones((2, 4), "float32"))
    assert probabilities.dtype == torch.float32
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(2))
    assert model.predict(np.ones((2, 4), "float32"), verbose=0).dtype == np.float32


def test_a_float32_layer_made_before_the_policy_casts_what_mixed_layers_give_it():
    softmax = layers.Activation("softmax")  # float32, made under the float32 policy
    with global_policy("mixed_float16"):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, softmax(layers.Dense(3)(inputs)))
    assert model.outputs[0].dtype == torch.float32
    assert model(np.ones((2, 4), "float32")).dtype == torch.float32


def test_a_nested_model_gives_each_output_its_own_dtype():
    with global_policy("mixed_float16"):
        inputs = keras.Input((4,))
        hidden = layers.Dense(3)(inputs)
        inner = keras.Model(inputs, {"a": layers.Activation("softmax", dtype="float32")(hidden),
                                     "b": layers.Dense(2)(hidden)})
        outputs = inner(keras.Input((4,)))
    assert {k: t.dtype for k, t in outputs.items()} == {"a": torch.float32, "b": torch.float16}
    # A float32 model around a mixed layer: the layer's dtype, not the model's.
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(2, dtype="mixed_bfloat16")])
    assert inner(keras.Input((4,))).dtype == torch.bfloat16


def test_layer_dtype_arguments_and_the_setter():
    assert layers.Dense(2, dtype=keras.DTypePolicy("mixed_bfloat16")).compute_dtype == "bfloat16"
    wide = layers.Dense(2, dtype="float64")
    assert wide(torch.ones(1, 3)).dtype == torch.float64  # float32 inputs are cast, as in Keras
    assert wide.kernel.dtype == torch.float64
    dense = layers.Dense(2)
    dense.dtype_policy = "mixed_float16"
    assert dense.compute_dtype == "float16" and dense(torch.ones(1, 3)).dtype == torch.float16
    assert dense.input_dtype == "float16"


def test_normalizations_and_embeddings_compute_in_float32_and_return_the_compute_dtype():
    x = torch.tensor([[1000.0, 2000.0, 3000.0, 4000.0]])
    with global_policy("mixed_float16"):
        norm, unit = layers.LayerNormalization(), layers.UnitNormalization()
        batch_norm = layers.BatchNormalization()
        embedding = layers.Embedding(5, 2)
    # float16 squares of these values overflow; computed in float32 they do not.
    expected = torch.nn.functional.layer_norm(x, (4,), eps=1e-3)
    torch.testing.assert_close(norm(x), expected.half())
    assert torch.isfinite(unit(x)).all() and unit(x).dtype == torch.float16
    assert batch_norm(x, training=True).dtype == torch.float16
    assert batch_norm.moving_mean.dtype == torch.float32 and batch_norm.moving_mean.sum() > 0
    assert embedding(torch.tensor([[1, 2]])).dtype == torch.float16
    assert embedding.input_dtype == "float32"


def test_an_add_weight_with_autocast_false_keeps_its_dtype_in_the_call():
    class Scale(keras.Layer):
        def build(self, input_shape):
            self.cast = self.add_weight(shape=(), initializer="ones")
            self.kept = self.add_weight(shape=(), initializer="ones", autocast=False)

        def call(self, x):
            self.seen = (self.cast.dtype, self.kept.dtype)
            return x * self.cast

    layer = Scale(dtype="mixed_bfloat16")
    assert layer(torch.ones(2)).dtype == torch.bfloat16
    assert layer.seen == (torch.bfloat16, torch.float32)


def test_the_policy_is_saved_as_keras_writes_it_and_read_back(tmp_path):
    with global_policy("mixed_float16"):
        model = keras.Sequential([keras.Input((4,)), layers.Dense(3),
                                  layers.Activation("softmax", dtype="float32")])
    entry = model.layers[0].get_config()["dtype"]
    assert entry == {"module": "keras", "class_name": "DTypePolicy",
                     "config": {"name": "mixed_float16"}, "registered_name": None}
    assert model.get_config()["dtype"]["config"]["name"] == "mixed_float16"
    copy = layers.Dense.from_config(model.layers[0].get_config())
    assert copy.dtype_policy.name == "mixed_float16"
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")  # under the float32 global policy
    assert [layer.dtype_policy.name for layer in loaded.layers] == ["mixed_float16", "float32"]
    assert loaded.layers[0].kernel.dtype == torch.float32
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bfloat16_predictions_come_back_as_float32_arrays():
    with global_policy("mixed_bfloat16"):
        model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    predictions = model.predict(np.ones((3, 4), "float32"), verbose=0)
    assert predictions.dtype == np.float32  # NumPy has no bfloat16
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2, dtype="bfloat16")])
    assert [w.dtype for w in model.get_weights()] == [np.float32, np.float32]


# ---------------------------------------------------------------------------- loss scaling

def test_loss_scale_optimizer_defaults_and_config():
    optimizer = LossScaleOptimizer(SGD(0.1))
    assert (optimizer.initial_scale, optimizer.dynamic_growth_steps) == (32768.0, 2000)
    assert optimizer.name == "loss_scale_optimizer"
    config = keras.optimizers.serialize(optimizer)
    assert config["class_name"] == "LossScaleOptimizer" and config["module"] == "keras.optimizers"
    assert config["config"]["initial_scale"] == 32768.0
    assert config["config"]["dynamic_growth_steps"] == 2000
    assert config["config"]["inner_optimizer"]["class_name"] == "SGD"
    again = keras.optimizers.deserialize(config)
    assert isinstance(again, LossScaleOptimizer) and isinstance(again.inner_optimizer, SGD)
    with pytest.raises(ValueError, match="dynamic=False is not supported"):
        LossScaleOptimizer(SGD(), dynamic=False)
    with pytest.raises(ValueError, match="Set it on the inner optimizer"):
        LossScaleOptimizer(SGD(), clipnorm=1.0)
    with pytest.raises(TypeError, match="wraps an optimizer"):
        LossScaleOptimizer("sgd")
    with pytest.raises(ValueError, match="dynamic_growth_steps=0"):
        LossScaleOptimizer(SGD(), dynamic_growth_steps=0)


def test_loss_scale_optimizer_skips_non_finite_steps_and_adapts_the_scale():
    # Keras 3.15.1 on the same gradients: (scale, good steps, iterations) after each step.
    keras_states = [(4.0, 1, 1), (2.0, 0, 1), (2.0, 1, 2), (4.0, 0, 3), (2.0, 0, 3),
                    (2.0, 1, 4), (4.0, 0, 5)]
    weights = [torch.nn.Parameter(torch.ones(3, 2)), torch.nn.Parameter(torch.zeros(2))]
    optimizer = LossScaleOptimizer(Adam(0.1), initial_scale=4.0, dynamic_growth_steps=2)
    rng = np.random.default_rng(0)
    for step, expected in enumerate(keras_states):
        grads = [torch.tensor(rng.standard_normal(tuple(w.shape)), dtype=torch.float32)
                 for w in weights]
        grads[0][0, 0] = np.inf if step == 1 else grads[0][0, 0]
        grads[1][1] = np.nan if step == 4 else grads[1][1]
        before = [w.detach().clone() for w in weights + optimizer.inner_optimizer.variables]
        for weight, grad in zip(weights, grads):
            weight.grad = grad
        optimizer.apply(weights)
        state = (float(optimizer.dynamic_scale), int(optimizer.step_counter),
                 optimizer.iterations)
        assert state == expected
        after = weights + optimizer.inner_optimizer.variables
        if step in (1, 4):  # skipped: weights and Adam's moments untouched
            for old, new in zip(before, after):
                torch.testing.assert_close(new.detach(), old, rtol=0, atol=0)
        else:
            assert not torch.equal(after[0].detach(), before[0])


def test_the_skip_decision_stays_on_the_device():
    # A host read (`.item()`, `if finite:`) would break the graph: fullgraph=True refuses it.
    weights = [torch.nn.Parameter(torch.ones(3))]
    optimizer = LossScaleOptimizer(Adam(0.1), initial_scale=8.0)
    optimizer.build(weights)
    update = torch.compile(optimizer._apply_update, fullgraph=True)
    scalars = tuple(torch.tensor(s) for s in optimizer._host_scalars())
    with torch.no_grad():
        update(weights, [torch.tensor([1.0, np.inf, 0.0])], optimizer._slots, scalars)
    assert float(optimizer.dynamic_scale) == 4.0 and not bool(optimizer._finite)
    torch.testing.assert_close(weights[0].detach(), torch.ones(3))


def test_loss_scale_optimizer_state_round_trip():
    weights = [torch.nn.Parameter(torch.ones(2))]
    optimizer = LossScaleOptimizer(Adam(0.1), initial_scale=8.0)
    weights[0].grad = torch.tensor([np.inf, 1.0])
    optimizer.apply(weights)
    weights[0].grad = torch.tensor([1.0, 1.0])
    optimizer.apply(weights)
    state = optimizer.state_dict()
    fresh = LossScaleOptimizer(Adam(0.1))
    fresh.load_state_dict(state)
    fresh.build([torch.nn.Parameter(torch.ones(2))])
    assert (float(fresh.dynamic_scale), int(fresh.step_counter), fresh.iterations) == (4.0, 1, 1)
    # Keras counts this optimizer's own iteration and learning rate, its step counter and
    # scale, then Adam's iteration, learning rate and two moments.
    assert fresh.variables_size() == (2 + 2 + 2 + 4, 4 * 6 + 4 * 4)


@pytest.mark.parametrize("policy, scaled", [("mixed_float16", True), ("mixed_bfloat16", False),
                                            ("float32", False)])
def test_compile_wraps_the_optimizer_under_mixed_float16_only(policy, scaled):
    with global_policy(policy):
        model = keras.Sequential([keras.Input((6,)), layers.Dense(2)])
    model.compile("adam", "mse")
    assert isinstance(model.optimizer, LossScaleOptimizer) == scaled
    if scaled:
        assert model.optimizer.name == "loss_scale_optimizer"
        assert isinstance(model.optimizer.inner_optimizer, Adam)
    model.compile("adam", "mse", auto_scale_loss=False)
    assert not isinstance(model.optimizer, LossScaleOptimizer)
    given = LossScaleOptimizer(SGD(), initial_scale=2.0)
    model.compile(given, "mse")
    assert model.optimizer is given  # not wrapped twice


def test_loss_scale_factor_cancels_out_in_fit_as_in_keras():
    x, y = _data()

    def trained(**kwargs):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((6,)), layers.Dense(2)])
        model.compile(SGD(0.05, **kwargs), "mse")
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    for a, b in zip(trained(loss_scale_factor=128.0), trained()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- training

@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_fit_trains_under_mixed_policies(policy, jit_compile):
    x, y = _data(128)
    keras.utils.set_random_seed(0)
    with global_policy(policy):
        inputs = keras.Input((6,))
        hidden = layers.BatchNormalization()(layers.Dense(16, activation="relu")(inputs))
        outputs = layers.Activation("linear", dtype="float32")(layers.Dense(2)(hidden))
        model = keras.Model(inputs, outputs)
    model.compile(Adam(0.02), "mse", metrics=["mae"], jit_compile=jit_compile)
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert {w.dtype for w in model.weights} == {torch.float32}
    assert model.layers[1](torch.ones(1, 6)).dtype == getattr(torch, policy[6:])
    if jit_compile:
        assert "train" in model._compiled_steps  # the whole step, mixed precision included
    if policy == "mixed_float16":
        # The first steps' scaled gradients overflow float16: they were skipped, the scale
        # lowered and the step count kept at the steps taken.
        assert float(model.optimizer.dynamic_scale) < 2.0**15
        assert model.optimizer.iterations < 5 * 8


def test_losses_and_metrics_see_float32_predictions():
    seen = []

    def loss(y_true, y_pred):
        seen.append(y_pred.dtype)
        return ((y_true - y_pred) ** 2).mean()

    with global_policy("mixed_bfloat16"):
        model = keras.Sequential([keras.Input((6,)), layers.Dense(2)])
    assert model.outputs[0].dtype == torch.bfloat16
    model.compile("sgd", loss)
    model.fit(*_data(16), verbose=0)
    assert set(seen) == {torch.float32}


def test_a_trained_loss_scaled_model_resumes_from_its_file(tmp_path):
    x, y = _data()
    with global_policy("mixed_float16"):
        model = keras.Sequential([keras.Input((6,)), layers.Dense(8), layers.Dense(2)])
    model.compile(Adam(0.01), "mse")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")  # float32 global policy
    assert isinstance(loaded.optimizer, LossScaleOptimizer)
    for attribute in ("dynamic_scale", "step_counter"):
        assert torch.equal(getattr(loaded.optimizer, attribute),
                           getattr(model.optimizer, attribute))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(loaded.optimizer.inner_optimizer.variables,
                    model.optimizer.inner_optimizer.variables):
        torch.testing.assert_close(a, b)
    # The compile config holds the optimizer compile was given, as Keras's does.
    assert loaded.get_compile_config()["optimizer"]["class_name"] == "Adam"


def test_symbolic_outputs_show_the_compute_dtype_by_name():
    layer = keras.layers.Dense(2, dtype="mixed_float16")
    outputs = layer(keras.Input((3,)))
    assert outputs.dtype == "float16" and layer.compute_dtype == "float16"


def test_layer_dtype_is_keras_s_name_and_still_equals_the_torch_dtype():
    # Keras: Dense(3).dtype == "float32"; mixed policies give the variable dtype.
    assert repr(layers.Dense(3).dtype) == "'float32'"
    mixed = layers.Dense(3, dtype="mixed_float16")
    assert mixed.dtype == "float32" and mixed.dtype == torch.float32
    assert layers.Dense(3, dtype="float64").dtype.torch is torch.float64
    assert keras.Input((2,), dtype="int32")._keras_history.operation.dtype == "int32"
    # A user layer may hand its dtype to add_weight or ops.cast, as Keras code does.

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.factor = self.add_weight(shape=(), initializer="ones", dtype=self.dtype)

        def call(self, inputs):
            return keras.ops.cast(inputs, self.dtype) * self.factor

    scale = Scale(dtype="float64")
    assert scale(np.ones((2, 2), "float32")).dtype == torch.float64


def test_loss_scale_optimizer_variables_are_keras_s_list():
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam())
    assert [v.path for v in optimizer.variables] == [
        "loss_scale_optimizer/iteration", "loss_scale_optimizer/learning_rate",
        "adam/iteration", "adam/learning_rate"]
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile(optimizer, "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    # Keras 3.15.1: the wrapper's own iteration and learning rate stay 0.
    assert [(v.path, float(v.numpy())) for v in optimizer.variables[:4]] == [
        ("loss_scale_optimizer/iteration", 0.0), ("loss_scale_optimizer/learning_rate", 0.0),
        ("loss_scale_optimizer/step_counter", 1.0),
        ("loss_scale_optimizer/dynamic_scale", 32768.0)]
    assert [v.path for v in optimizer.variables[6:]] == [
        "adam/sequential_dense_kernel_momentum", "adam/sequential_dense_kernel_velocity",
        "adam/sequential_dense_bias_momentum", "adam/sequential_dense_bias_velocity"]
