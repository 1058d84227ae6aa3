"""keras.remat and keras.RematScope: which layers recompute in the backward pass (as observed in
Keras 3.15.1, torch backend), with outputs and gradients equal to the plain ones."""

import contextlib
import copy

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

CALLS: dict = {}


class Counted(layers.Layer):
    """A matmul that counts how often its `call` runs (a recomputation runs it again)."""

    def __init__(self, units=4, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        if activation is not None:
            self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, x):
        CALLS[self.name] = CALLS.get(self.name, 0) + 1
        y = x @ self.w
        return self.activation(y) if "activation" in self.__dict__ else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)


def calls_in_forward_and_backward(**scope):
    """Counts of `call` for a, b (made in the scope) and c (made outside), after the forward
    pass and after the backward pass."""
    CALLS.clear()
    with keras.RematScope(**scope):
        a, b = Counted(4, name="a"), Counted(64, activation="relu", name="b")
    c = Counted(4, name="c")
    y = c(b(a(torch.randn(2, 3, requires_grad=True))))
    forward = dict(CALLS)
    y.sum().backward()
    return forward, dict(CALLS)


@pytest.mark.parametrize("scope, recomputed", [
    ({"mode": "full"}, {"a", "b"}),
    ({"mode": "list_of_layers", "layer_names": ["b"]}, {"b"}),
    # b's output is 2 x 64 = 128 elements (the batch counts), a's 8: as in Keras.
    ({"mode": "larger_than", "output_size_threshold": 100}, {"b"}),
    ({"mode": "larger_than", "output_size_threshold": 128}, set()),
    ({"mode": None}, set()),
])
def test_the_layers_made_in_a_scope_are_recomputed_in_backward(scope, recomputed):
    forward, after_backward = calls_in_forward_and_backward(**scope)
    assert forward == {"a": 1, "b": 1, "c": 1}
    assert {name for name in after_backward if after_backward[name] > 1} == recomputed
    assert all(after_backward[name] == 2 for name in recomputed)


def test_the_scope_open_when_the_layer_is_made_decides_not_the_one_at_the_call():
    made_outside = Counted(name="outside")
    with keras.RematScope(mode="full"):
        made_inside = Counted(name="inside")
        with keras.RematScope(mode=None):
            switched_off = Counted(name="off")
    CALLS.clear()
    x = torch.randn(2, 3, requires_grad=True)
    with keras.RematScope(mode="full"):
        y = switched_off(made_inside(made_outside(x)))
    y.sum().backward()
    assert CALLS == {"outside": 1, "inside": 2, "off": 1}
    assert made_outside._remat_mode is None and switched_off._remat_mode.mode is None


def test_activations_mode_recomputes_only_the_activation():
    applied = []

    def counted_relu(t):
        applied.append(1)
        return torch.relu(t)

    with keras.RematScope(mode="activations"):
        dense = layers.Dense(3, activation=counted_relu)
    dense(torch.randn(2, 3)).sum().backward()
    assert len(applied) == 2  # once in the forward pass, once recomputed


def test_a_layer_made_outside_a_scope_keeps_its_plain_forward():
    dense = layers.Dense(3)
    with keras.RematScope(mode="list_of_layers", layer_names=["other"]):
        not_listed = layers.Dense(3, name="not_listed")
    # No wrapper: the call is torch's module call straight into the class's forward.
    assert "forward" not in dense.__dict__ and "forward" not in not_listed.__dict__


def make_block(scope, policy="float32"):
    keras.utils.set_random_seed(1)
    keras.mixed_precision.set_global_policy(policy)
    try:
        with keras.RematScope(**scope) if scope else contextlib.nullcontext():
            return keras.Sequential([
                keras.Input((16,)), layers.Dense(32, activation="relu", name="d1"),
                layers.Dropout(0.3), layers.BatchNormalization(), layers.Dense(4, name="d2")])
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("scope", [
    {"mode": "full"}, {"mode": "activations"},
    {"mode": "larger_than", "output_size_threshold": 10},
    {"mode": "list_of_layers", "layer_names": ["d1"]},
])
def test_outputs_and_gradients_equal_the_plain_ones(scope, policy):
    plain, rematerialized = make_block(None, policy), make_block(scope, policy)
    rematerialized.set_weights(plain.get_weights())
    x = torch.randn(8, 16)
    results = []
    for model in (plain, rematerialized):
        torch.manual_seed(5)  # the same Dropout mask: the recomputation replays it
        y = model(x, training=True)
        y.float().sum().backward()
        results.append((y.detach(), [w.grad for w in model.trainable_weights]))
    (y0, g0), (y1, g1) = results
    assert y0.dtype == y1.dtype == (torch.bfloat16 if policy != "float32" else torch.float32)
    assert torch.equal(y0, y1)
    assert all(torch.equal(a, b) for a, b in zip(g0, g1))


def saved_bytes(model, x) -> int:
    """The bytes autograd keeps for the backward pass of `model(x)`, outside checkpoints (a
    checkpoint keeps its inputs and recomputes the rest)."""
    total = []

    def pack(t):
        total.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = model(x)
    y.sum().backward()
    return sum(total)


def test_a_full_scope_keeps_less_memory_for_the_backward_pass():
    def mlp(scope):
        keras.utils.set_random_seed(0)
        with keras.RematScope(**scope) if scope else contextlib.nullcontext():
            return keras.Sequential(
                [keras.Input((64,))]
                + [layers.Dense(256, activation="gelu") for _ in range(4)]
                + [layers.Dense(1)])

    x = torch.randn(32, 64)
    plain = saved_bytes(mlp(None), x)
    # Only the whole model's input is kept (the model is made in the scope too).
    assert saved_bytes(mlp({"mode": "full"}), x) < plain / 10


def test_remat_wraps_a_function_recomputed_in_backward():
    runs = []

    def scaled_sine(x, scale=1.0):
        runs.append(1)
        return torch.sin(x) * scale

    x = torch.randn(5, requires_grad=True)
    y = keras.remat(scaled_sine)(x, scale=3.0)
    y.sum().backward()
    assert len(runs) == 2
    torch.testing.assert_close(x.grad, 3.0 * torch.cos(x.detach()))
    torch.testing.assert_close(y, 3.0 * torch.sin(x))


def test_remat_in_a_users_layer_trains_with_jit_compile():
    class Residual(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(3, activation="tanh")
            self.rematerialized_inner = keras.remat(self.inner)

        def call(self, x):
            return x + self.rematerialized_inner(x)

    x = np.random.RandomState(0).rand(16, 3).astype("float32")
    losses = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(2)
        model = keras.Sequential([keras.Input((3,)), Residual(), layers.Dense(1)])
        model.compile("sgd", "mse", jit_compile=jit_compile)
        history = model.fit(x, np.ones((16, 1), "float32"), epochs=2, verbose=0, shuffle=False)
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def test_a_copied_layer_recomputes_with_its_own_weights():
    with keras.RematScope():
        dense = layers.Dense(2, kernel_initializer="ones")
    dense.build((None, 3))
    copied = copy.deepcopy(dense)
    with torch.no_grad():
        copied.kernel.fill_(2.0)
    x = torch.ones(1, 3, requires_grad=True)
    assert copied(x).tolist() == [[6.0, 6.0]] and dense(x).tolist() == [[3.0, 3.0]]


def test_invalid_mode_is_refused_with_the_modes():
    with pytest.raises(ValueError, match="Supported modes are: 'full', 'activations', "
                                         "'larger_than', 'list_of_layers', or None"):
        keras.RematScope(mode="everything")
    with pytest.raises(TypeError, match="function or layer"):
        keras.remat(3)
    scope = keras.RematScope()
    assert (scope.mode, scope.output_size_threshold, scope.layer_names) == ("full", 1024, [])


def test_layers_record_the_scope_as_keras_does(real_keras):
    for settings in ({"mode": "larger_than", "output_size_threshold": 5},
                     {"mode": "list_of_layers", "layer_names": ["q"]}):
        with real_keras.RematScope(**settings):
            theirs = real_keras.layers.Dense(2)
        with keras.RematScope(**settings):
            ours = layers.Dense(2)
        assert tuple(ours._remat_mode) == tuple(theirs._remat_mode)


def test_a_model_made_in_a_scope_exports(tmp_path):
    with keras.RematScope():
        model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    path = model.export(str(tmp_path / "model.pt2"), format="torch", verbose=False)
    program = torch.export.load(path)
    x = torch.randn(4, 3)
    torch.testing.assert_close(program.module()(x), model(x))
