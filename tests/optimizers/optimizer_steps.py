"""What the optimizer tests of this folder share: four weights of a small two-layer regression,
the gradients of its loss and steps of an optimizer on them, and a small model `fit` trains."""

import numpy as np
import torch

import netknit as keras

SHAPES = [(4, 3), (3,), (3, 2), (2,)]


def initial_weights():
    rng = np.random.default_rng(7)
    return [rng.normal(0.0, 0.5, size=s).astype("float32") for s in SHAPES]


def gradients(weights):
    """The gradient of a small regression loss at `weights` (tensors), as new tensors."""
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.normal(size=(6, 4)).astype("float32"))
    y = torch.tensor(rng.normal(size=(6, 2)).astype("float32"))
    w1, b1, w2, b2 = [torch.as_tensor(w).detach().clone().requires_grad_() for w in weights]
    loss = ((torch.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()
    return torch.autograd.grad(loss, [w1, b1, w2, b2])


def train(opt, steps=4):
    params = [torch.nn.Parameter(torch.tensor(w)) for w in initial_weights()]
    for _ in range(steps):
        for p, g in zip(params, gradients(params)):
            p.grad = g
        opt.apply(params)
    return params


def flat(params):
    return np.concatenate([p.detach().numpy().ravel() for p in params])


def assert_steps_match(mine, theirs, real_keras, steps, variables_atol):
    """`mine` (netknit) and `theirs` (Keras) take `steps` steps on the same gradients from the
    same weights; after each, the weights, the variables and in the end the configs agree."""
    keras_vars = [real_keras.Variable(w) for w in initial_weights()]
    params = [torch.nn.Parameter(torch.tensor(w)) for w in initial_weights()]
    for step in range(steps):
        theirs.apply(gradients([v.value for v in keras_vars]), keras_vars)
        for p, g in zip(params, gradients(params)):
            p.grad = g
        mine.apply(params)
        for v, p in zip(keras_vars, params):
            np.testing.assert_allclose(p.detach().numpy(), v.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"weights differ after step {step + 1}")
        assert [tuple(v.shape) for v in mine.variables] == \
            [tuple(v.shape) for v in theirs.variables]
        for v, m in zip(theirs.variables, mine.variables):
            np.testing.assert_allclose(np.asarray(m), np.asarray(v), rtol=1e-5,
                                       atol=variables_atol,
                                       err_msg=f"{v.path} differs after step {step + 1}")
    assert mine.get_config() == {**theirs.get_config(), "name": mine.name}


DATA_X = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
DATA_Y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")


def dense_model(optimizer, jit_compile=False, seed=4):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(2, name="head")])
    model.compile(optimizer=optimizer, loss="mse", jit_compile=jit_compile)
    return model


def fit(model, epochs=1):
    model.fit(DATA_X, DATA_Y, batch_size=4, epochs=epochs, shuffle=False, verbose=0)


def assert_jit_updates_as_eagerly(make_optimizer):
    """Two epochs with the update inside the compiled step equal two eager epochs."""
    eager = dense_model(make_optimizer())
    compiled = dense_model(make_optimizer(), jit_compile=True)
    fit(eager, epochs=2)
    fit(compiled, epochs=2)
    assert "train" in compiled._compiled_steps  # the update ran inside the compiled graph
    assert compiled.optimizer.iterations == eager.optimizer.iterations == 8
    for a, b in zip(compiled.get_weights() + compiled.optimizer.variables,
                    eager.get_weights() + eager.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=2e-6)


def assert_loss_scaling_changes_nothing(make_optimizer):
    """The optimizer inside a LossScaleOptimizer trains as it does alone."""
    plain = dense_model(make_optimizer())
    scaled = dense_model(keras.optimizers.LossScaleOptimizer(make_optimizer()))
    fit(plain)
    fit(scaled)
    assert scaled.optimizer.iterations == 4
    for a, b in zip(scaled.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
