"""`gradient_accumulation_steps`: Keras's variables, counts and updates, eagerly, in a compiled
`fit` step, inside a LossScaleOptimizer or MultiOptimizer, and in saved files."""

import numpy as np
import pytest
import torch
from optimizer_steps import DATA_X, DATA_Y, assert_steps_match, dense_model, fit

import netknit as keras
from netknit import optimizers


def _sgd_steps(optimizer, grads):
    w = torch.nn.Parameter(torch.tensor([1.0]))
    seen = []
    for g in grads:
        w.grad = torch.tensor([g])
        optimizer.apply([w])
        seen.append((w.item(), int(optimizer.iterations), int(optimizer.variables[0]),
                     optimizer.variables[2].item()))
    return seen


def test_updates_with_the_mean_every_n_steps():
    # Worked by hand (and what Keras gives): the weight moves at steps 2 and 4 only, by the
    # learning rate times the mean of the two gradients; the accumulator is then emptied.
    # `iterations` counts updates, `variables[0]` steps.
    seen = _sgd_steps(optimizers.SGD(0.1, gradient_accumulation_steps=2), [1.0, 3.0, 2.0, 4.0])
    expected = [(1.0, 0, 1, 1.0), (0.8, 1, 2, 0.0), (0.8, 1, 3, 2.0), (0.5, 2, 4, 0.0)]
    for got, want in zip(seen, expected):
        assert got == pytest.approx(want)


def test_clipping_applies_to_the_mean():
    # Mean gradient 2.0, clipped to 0.5: one update of 0.1 * 0.5.
    seen = _sgd_steps(optimizers.SGD(0.1, clipvalue=0.5, gradient_accumulation_steps=2),
                      [1.0, 3.0])
    assert seen[-1][0] == pytest.approx(0.95)


CASES = {
    "adam_schedule_decay_clip": lambda k: k.optimizers.Adam(
        learning_rate=k.optimizers.schedules.PiecewiseConstantDecay([2, 4], [0.1, 0.05, 0.01]),
        weight_decay=0.1, clipnorm=0.05, gradient_accumulation_steps=2),
    "sgd_momentum_global_clip": lambda k: k.optimizers.SGD(
        learning_rate=k.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5), momentum=0.9,
        global_clipnorm=0.1, gradient_accumulation_steps=3),
    "nadam": lambda k: k.optimizers.Nadam(0.05, gradient_accumulation_steps=3),
    "ema_overwrite": lambda k: k.optimizers.Adam(
        0.05, use_ema=True, ema_overwrite_frequency=2, gradient_accumulation_steps=3),
    "loss_scale_factor": lambda k: k.optimizers.RMSprop(
        0.05, loss_scale_factor=8.0, gradient_accumulation_steps=2),
    "muon": lambda k: k.optimizers.Muon(0.05, gradient_accumulation_steps=2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_match_keras(case, real_keras):
    # Weights and every variable (step count, accumulators, averages, moments) after each of
    # 7 steps, and the configs.
    assert_steps_match(CASES[case](keras), CASES[case](real_keras), real_keras, steps=7,
                       variables_atol=1e-6)


def test_variables_follow_keras():
    model = dense_model(optimizers.Adam(0.01, use_ema=True, gradient_accumulation_steps=2))
    fit(model)
    names = [v.path for v in model.optimizer.variables]
    # Keras's order: the step count, the learning rate, the averages, the accumulators, then
    # the algorithm's slots (observed in Keras 3.15.1).
    assert names[:2] == ["adam/iteration", "adam/learning_rate"]
    assert names[2:10] == [f"adam/sequential_{w}_average" for w in
                           ("dense_kernel", "dense_bias", "head_kernel", "head_bias")] + [
        f"adam/sequential_{w}_gradient_accumulator" for w in
        ("dense_kernel", "dense_bias", "head_kernel", "head_bias")]
    assert names[10:12] == ["adam/sequential_dense_kernel_momentum",
                            "adam/sequential_dense_kernel_velocity"]
    assert len(names) == 18
    # 4 steps of 2 accumulated: 2 updates; the accumulators are empty after an update.
    assert int(model.optimizer.iterations) == 2
    assert int(model.optimizer.variables[0]) == 4
    assert all(not v.any() for v in model.optimizer.variables[6:10])


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_matches_keras(jit_compile, real_keras):
    def make(lib, jit=False):
        lib.utils.set_random_seed(4)
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(8, activation="tanh"),
                                lib.layers.Dense(2)])
        model.compile(optimizer=lib.optimizers.Adam(
            lib.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5),
            gradient_accumulation_steps=3, use_ema=True), loss="mse", jit_compile=jit)
        return model

    theirs, mine = make(real_keras), make(keras, jit_compile)
    mine.set_weights(theirs.get_weights())
    for model in (theirs, mine):  # 4 steps per epoch: updates at steps 3 and 6, then half
        model.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    if jit_compile:
        assert "train" in mine._compiled_steps  # the accumulation ran inside the graph
    assert int(mine.optimizer.iterations) == int(theirs.optimizer.iterations) == 2
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(mine.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_a_loss_scale_optimizer_skips_a_step_that_is_not_finite():
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(0.1, gradient_accumulation_steps=2),
                                              initial_scale=2.0)
    w = torch.nn.Parameter(torch.tensor([1.0]))
    for g in [2.0, float("inf"), 6.0]:  # gradients of the scaled loss
        w.grad = torch.tensor([g])
        optimizer.apply([w])
    # The inf step changed nothing but the scale (halved): the update used (1 + 6) / 2.
    assert w.item() == pytest.approx(1.0 - 0.1 * 3.5)
    assert int(optimizer.inner_optimizer.variables[0]) == 2
    assert optimizer.dynamic_scale.item() == 1.0


def test_an_inner_optimizer_of_a_multi_optimizer_accumulates_alone():
    accumulating = optimizers.SGD(0.1, gradient_accumulation_steps=2)
    optimizer = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        default_optimizer=optimizers.SGD(0.1), optimizer_map={"a": accumulating}))
    a, b = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    a.path, b.path = "a", "b"
    for _ in range(2):
        a.grad, b.grad = torch.ones(1), torch.ones(1)
        optimizer.apply([a, b])
        assert a.item() == pytest.approx(1.0 if accumulating.iterations == 0 else 0.9)
    assert b.item() == pytest.approx(0.8)
    assert int(optimizer.iterations) == 2 and int(accumulating.iterations) == 1


def test_saved_accumulators_resume_exactly(tmp_path):
    model = dense_model(optimizers.Adam(0.01, gradient_accumulation_steps=3))
    fit(model)  # 4 steps: one update and one gradient accumulated
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.gradient_accumulation_steps == 3
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    fit(model)
    fit(loaded)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("steps", [1, 0, 2.5, True, "2"])
def test_steps_must_be_an_integer_from_2(steps):
    with pytest.raises(ValueError, match=f"integer >= 2.*gradient_accumulation_steps={steps!r}"):
        optimizers.Adam(gradient_accumulation_steps=steps)


def test_a_loss_scale_optimizer_takes_it_on_the_inner_optimizer_only():
    with pytest.raises(ValueError, match="inner optimizer"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), gradient_accumulation_steps=2)
