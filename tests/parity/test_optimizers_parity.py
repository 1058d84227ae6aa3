"""Optimizers against real Keras 3, live: same weights, same gradients, step by step.

Each case trains a tiny two-layer network in both from the same initial weights: the gradient of
the same loss is computed with torch at each side's current weights and handed to Keras's
`optimizer.apply` and to netknit's. After every step the weights and the optimizer's slot
variables (in Keras's order) must agree. A compiled model's training state saved by one library
also resumes in the other. Skipped when Keras is not installed.
"""

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from netknit import models, optimizers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

SHAPES = [(4, 3), (3,), (3, 2), (2,)]
STEPS = 5

CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.05, "amsgrad": True, "clipnorm": 0.3}),
    ("Adam", {"learning_rate": 0.05, "beta_1": 0.5, "epsilon": 1e-3, "global_clipnorm": 0.2}),
    ("AdamW", {"learning_rate": 0.05}),
    ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.3, "clipvalue": 0.05}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 1e-3}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.05}),
    ("Nadam", {"learning_rate": 0.05}),
    ("Nadam", {"learning_rate": 0.05, "weight_decay": 0.2}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "weight_decay": 0.5}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.3, "initial_accumulator_value": 0.5,
              "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
              "l2_shrinkage_regularization_strength": 0.05, "beta": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": 0.0, "weight_decay": 0.1}),
    ("Lamb", {"learning_rate": 0.05}),
    ("Lamb", {"learning_rate": 0.05, "beta_1": 0.5, "epsilon": 1e-3, "weight_decay": 0.2,
              "clipnorm": 0.3}),
    ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.5, "beta_2_decay": -0.5, "epsilon_2": 0.1,
                   "clip_threshold": 0.05}),
    ("Adafactor", {"learning_rate": 0.05, "relative_step": False, "global_clipnorm": 0.2}),
]

SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
    ("PiecewiseConstantDecay", {"boundaries": [1, 3], "values": [0.1, 0.05, 0.01]}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 3, "warmup_target": 0.1,
                     "warmup_steps": 2}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "power": 2.0}),
]


def initial_weights():
    rng = np.random.default_rng(7)
    return [rng.normal(0.0, 0.5, size=s).astype("float32") for s in SHAPES]


def gradients(weights):
    """The gradient of a small regression loss at `weights` (torch tensors), as new tensors."""
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.normal(size=(6, 4)).astype("float32"))
    y = torch.tensor(rng.normal(size=(6, 2)).astype("float32"))
    w1, b1, w2, b2 = [w.detach().clone().requires_grad_() for w in weights]
    loss = ((torch.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()
    return torch.autograd.grad(loss, [w1, b1, w2, b2])


def keras_slots(opt):
    # Keras lists `iteration`, `learning_rate`, Nadam's running product and Adafactor's unused
    # placeholders as scalars.
    return [v for v in opt.variables if len(v.shape) > 0]


def netknit_slots(opt):
    return [v for v in opt.variables if v.dim() > 0]


def train_both(keras_opt, netknit_opt):
    keras_vars = [keras.Variable(w) for w in initial_weights()]
    params = [torch.nn.Parameter(torch.tensor(w)) for w in initial_weights()]
    netknit_opt.build(params)
    for step in range(STEPS):
        keras_opt.apply(gradients([v.value for v in keras_vars]), keras_vars)
        for p, g in zip(params, gradients(params)):
            p.grad = g
        netknit_opt.apply(params)
        for v, p in zip(keras_vars, params):
            np.testing.assert_allclose(p.detach().numpy(), v.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=f"weights differ after step {step + 1}")
        theirs, ours = keras_slots(keras_opt), netknit_slots(netknit_opt)
        assert len(theirs) == len(ours)
        for v, mine in zip(theirs, ours):
            np.testing.assert_allclose(mine.numpy(), v.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=f"slot {v.path} differs after step {step + 1}")
    assert netknit_opt.iterations == int(keras_opt.iterations.numpy()) == STEPS


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_training_matches_keras(name, kwargs):
    train_both(getattr(keras.optimizers, name)(**kwargs), getattr(optimizers, name)(**kwargs))


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=[n for n, _ in SCHEDULES])
def test_schedules_match_keras(name, kwargs):
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    mine = getattr(optimizers.schedules, name)(**kwargs)
    for step in range(12):
        assert mine(step) == pytest.approx(float(theirs(step)), rel=1e-6, abs=1e-8)
    assert mine.get_config() == theirs.get_config()
    train_both(keras.optimizers.SGD(learning_rate=theirs, momentum=0.5),
               optimizers.SGD(learning_rate=mine, momentum=0.5))


@pytest.mark.parametrize("name", sorted({n for n, _ in CASES}))
def test_config_matches_keras(name):
    kwargs = {"learning_rate": 0.5, "clipnorm": 1.0, "name": "opt"}
    theirs = getattr(keras.optimizers, name)(**kwargs).get_config()
    mine = getattr(optimizers, name)(**kwargs).get_config()
    assert list(mine) == list(theirs)
    assert mine == theirs
    rebuilt = optimizers.get({"class_name": name, "config": theirs})
    assert rebuilt.get_config() == theirs


def test_schedule_config_from_keras_loads():
    schedule = keras.optimizers.schedules.CosineDecay(0.1, 100, alpha=0.2)
    config = keras.optimizers.serialize(keras.optimizers.Adam(learning_rate=schedule))
    opt = optimizers.get({"class_name": config["class_name"], "config": config["config"]})
    assert isinstance(opt._learning_rate, optimizers.schedules.CosineDecay)
    assert opt.get_config()["learning_rate"] == config["config"]["learning_rate"]


@pytest.mark.parametrize("name, kwargs", [
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01}),
    ("Lamb", {"learning_rate": 0.01}),
    ("Adafactor", {"learning_rate": 0.1}),
])
def test_saved_training_state_moves_both_ways(name, kwargs, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"),
                               keras.layers.Dense(2)])
    theirs.compile(getattr(keras.optimizers, name)(**kwargs), "mse")
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    ours = models.load_model(tmp_path / "keras.keras")
    assert type(ours.optimizer) is getattr(optimizers, name)
    assert ours.optimizer.iterations == 2
    # One more epoch in each library, from the same saved state, lands in the same place.
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    ours.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    ours.save(tmp_path / "netknit.keras")
    again = keras.models.load_model(tmp_path / "netknit.keras")
    assert int(again.optimizer.iterations.numpy()) == 4
    assert [tuple(v.shape) for v in again.optimizer.variables] == \
        [tuple(v.shape) for v in theirs.optimizer.variables]
    for a, b in zip(again.optimizer.variables[2:], theirs.optimizer.variables[2:]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
