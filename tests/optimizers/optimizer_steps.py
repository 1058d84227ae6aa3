"""What the optimizer tests of this folder share: four weights of a small two-layer regression,
the gradients of its loss, and steps of an optimizer on them."""

import numpy as np
import torch

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
