"""`optimizers.ScheduleFreeAdamW` against Keras 3.15.1 (torch backend).

The reference numbers were produced by `keras.optimizers.ScheduleFreeAdamW.apply` on the same
gradients; the tests at the end compare with Keras live when it is installed (skipped otherwise).
"""

import numpy as np
import pytest
import torch
from optimizer_steps import (
    DATA_X,
    DATA_Y,
    assert_jit_updates_as_eagerly,
    assert_loss_scaling_changes_nothing,
    assert_steps_match,
    dense_model,
    fit,
    flat,
    gradients,
    initial_weights,
    train,
)

import netknit as keras
from netknit import optimizers

CASES = {
    "defaults": {"learning_rate": 0.05},
    "options": {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "warmup_steps": 3,
                "weight_decay": 0.2, "epsilon": 1e-3},
}

# The four weights after 4 steps, flattened, from Keras.
EXPECTED = {
    "defaults": [
        -0.1272492, 0.03358592, -0.2542293, -0.3173203, -0.1103572, -0.3785193, -0.0899308,
        0.5572031, -0.3428396, -0.1797059, 0.3576157, 0.2899664, -0.06596645, -0.5773079,
        -0.124015, 0.4539371, -0.5693645, -0.3467068, -0.872554, -0.5282586, -0.8306823,
        -0.02532588, -0.5246948],
    "options": [
        -0.07896053, 0.07073355, -0.2120049, -0.3591735, -0.1472558, -0.4115266, -0.0468237,
        0.5854129, -0.3134657, -0.226097, 0.31663, 0.250362, -0.02317588, -0.533219,
        -0.0878639, 0.4133747, -0.5915436, -0.3030778, -0.8741983, -0.5609714, -0.8410845,
        -0.04778795, -0.5512606],
}


@pytest.mark.parametrize("case", CASES)
def test_steps_match_numbers_from_keras(case):
    params = train(optimizers.ScheduleFreeAdamW(**CASES[case]))
    np.testing.assert_allclose(flat(params), EXPECTED[case], rtol=1e-5, atol=1e-6)


def test_the_weights_are_keras_torch_backends_average_of_the_momentum_sequence():
    # With Keras's arithmetic (the x recovered from the updated z), each step leaves
    # y = (1 - 1/t) y + (1/t) z: the first step puts the weights at z.
    opt = optimizers.ScheduleFreeAdamW(learning_rate=0.1, warmup_steps=4)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in initial_weights()]
    opt.build(params)
    # z starts as a copy of the weights.
    for z, p in zip(opt._slots["momentum"], params):
        assert torch.equal(z, p) and z.data_ptr() != p.data_ptr()
    previous = [p.detach().clone() for p in params]
    for step in range(1, 4):
        for p, g in zip(params, gradients(params)):
            p.grad = g
        opt.apply(params)
        for p, z, old in zip(params, opt._slots["momentum"], previous):
            torch.testing.assert_close(p.detach(), (1 - 1 / step) * old + z / step)
        previous = [p.detach().clone() for p in params]
    assert opt.iterations == 3


def test_first_step_size_follows_the_warmup():
    def first_step(warmup_steps):
        w = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
        opt = optimizers.ScheduleFreeAdamW(learning_rate=0.5, warmup_steps=warmup_steps)
        opt.apply_gradients([(torch.tensor([1.0, -1.0, 1.0]), w)])
        return (w.detach() - torch.tensor([1.0, 2.0, 3.0])).tolist()

    # Step 1: y = z = y0 - lr_1 * g / (|g| + 1e-8), lr_1 = lr * min(1 / warmup_steps, 1).
    assert first_step(0) == pytest.approx([-0.5, 0.5, -0.5], rel=1e-6)
    assert first_step(10) == pytest.approx([-0.05, 0.05, -0.05], rel=1e-5)


def test_evaluation_uses_the_training_weights():
    # Keras's optimizer swaps nothing in for evaluation: `fit` ends with the weights of its last
    # step, and `finalize_variable_values` leaves them (without use_ema).
    model = dense_model(optimizers.ScheduleFreeAdamW(0.05))
    fit(model)
    weights = model.get_weights()
    model.optimizer.finalize_variable_values(model.trainable_weights)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_variables_follow_keras():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    opt = optimizers.ScheduleFreeAdamW(use_ema=True)
    opt.build(model.trainable_weights)
    name = "schedule_free_adam_w"
    weights = ["sequential_dense_kernel", "sequential_dense_bias", "sequential_dense_1_kernel",
               "sequential_dense_1_bias"]
    assert [v.path for v in opt.variables] == (
        [f"{name}/iteration", f"{name}/learning_rate"]
        + [f"{name}/{w}_average" for w in weights]
        + [f"{name}/{w}_{slot}" for w in weights for slot in ("momentum", "velocity")])


def test_config_follows_keras():
    config = optimizers.ScheduleFreeAdamW(use_ema=True).get_config()
    # Keras 3.15.1's `ScheduleFreeAdamW(use_ema=True).get_config()`.
    assert config == {
        "name": "schedule_free_adam_w", "learning_rate": 0.0024999999441206455,
        "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": True, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
        "loss_scale_factor": None, "gradient_accumulation_steps": None, "beta_1": 0.9,
        "beta_2": 0.999, "epsilon": 1e-08, "warmup_steps": 0,
    }
    assert optimizers.ScheduleFreeAdamW.from_config(config).get_config() == config
    options = optimizers.ScheduleFreeAdamW(**CASES["options"])
    assert optimizers.deserialize(optimizers.serialize(options)).get_config() == \
        options.get_config()
    assert type(optimizers.get("ScheduleFreeAdamW")) is optimizers.ScheduleFreeAdamW
    assert type(optimizers.get("schedulefreeadamw")) is optimizers.ScheduleFreeAdamW
    assert keras.optimizers.ScheduleFreeAdamW is optimizers.ScheduleFreeAdamW


@pytest.mark.parametrize("kwargs, message", [
    ({"beta_1": 0.0}, "beta_1=0.0"),
    ({"beta_2": 1.5}, "beta_2=1.5"),
    ({"epsilon": -1.0}, "epsilon=-1.0"),
    ({"warmup_steps": -1}, "warmup_steps=-1"),
    ({"weight_decay": -1}, "weight_decay=-1"),
    ({"gradient_accumulation_steps": 1}, "gradient_accumulation_steps"),
])
def test_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.ScheduleFreeAdamW(**kwargs)


def test_saved_training_resumes_exactly(tmp_path):
    whole = dense_model(optimizers.ScheduleFreeAdamW(0.05, warmup_steps=3))
    fit(whole, epochs=2)
    first = dense_model(optimizers.ScheduleFreeAdamW(0.05, warmup_steps=3))
    fit(first)
    first.save(tmp_path / "schedule_free.keras")
    resumed = keras.models.load_model(tmp_path / "schedule_free.keras")
    assert type(resumed.optimizer) is optimizers.ScheduleFreeAdamW
    assert resumed.optimizer.iterations == 4
    fit(resumed)
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_jit_compile_updates_as_eagerly():
    assert_jit_updates_as_eagerly(lambda: optimizers.ScheduleFreeAdamW(
        learning_rate=0.05, warmup_steps=3, weight_decay=0.1))


def test_loss_scale_optimizer_wraps_it():
    assert_loss_scaling_changes_nothing(lambda: optimizers.ScheduleFreeAdamW(0.05))


# ---------------------------------------------------------------- live Keras

LIVE_CASES = [
    {},
    {"learning_rate": 0.05},
    {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "warmup_steps": 3,
     "weight_decay": 0.2, "epsilon": 1e-3},
    {"learning_rate": 0.05, "global_clipnorm": 0.2, "use_ema": True, "ema_momentum": 0.5},
]


@pytest.mark.parametrize("kwargs", LIVE_CASES, ids=range(len(LIVE_CASES)))
def test_steps_and_variables_match_live_keras(kwargs):
    real_keras = pytest.importorskip("keras")
    assert_steps_match(optimizers.ScheduleFreeAdamW(**kwargs),
                       real_keras.optimizers.ScheduleFreeAdamW(**kwargs), real_keras, steps=8,
                       variables_atol=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_fit_and_evaluate_match_live_keras(jit_compile):
    real_keras = pytest.importorskip("keras")
    real_keras.backend.clear_session()  # the same automatic layer names on both sides
    kwargs = {"learning_rate": 0.01, "warmup_steps": 2, "weight_decay": 0.01}

    def model(lib):
        return lib.Sequential([lib.Input((4,)), lib.layers.Dense(6, activation="tanh"),
                               lib.layers.Dense(2)])

    theirs, ours = model(real_keras), model(keras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(real_keras.optimizers.ScheduleFreeAdamW(**kwargs), "mse")
    ours.compile(optimizers.ScheduleFreeAdamW(**kwargs), "mse", jit_compile=jit_compile)
    their_loss = theirs.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    our_loss = ours.fit(DATA_X, DATA_Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(our_loss.history["loss"], their_loss.history["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [v.path for v in ours.optimizer.variables] == \
        [v.path for v in theirs.optimizer.variables]
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # Both evaluate and predict with the weights of the last training step.
    assert ours.evaluate(DATA_X, DATA_Y, verbose=0) == pytest.approx(
        theirs.evaluate(DATA_X, DATA_Y, verbose=0), rel=1e-5)
    np.testing.assert_allclose(ours.predict(DATA_X, verbose=0),
                               theirs.predict(DATA_X, verbose=0), rtol=1e-5, atol=1e-6)


def test_saved_training_state_moves_both_ways_with_keras(tmp_path):
    real_keras = pytest.importorskip("keras")
    theirs = real_keras.Sequential([real_keras.Input((4,)),
                                    real_keras.layers.Dense(3, activation="tanh"),
                                    real_keras.layers.Dense(2)])
    theirs.compile(real_keras.optimizers.ScheduleFreeAdamW(0.05), "mse")
    theirs.fit(DATA_X, DATA_Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    ours = keras.models.load_model(tmp_path / "keras.keras")
    assert type(ours.optimizer) is optimizers.ScheduleFreeAdamW
    assert ours.optimizer.iterations == 2
    # One more epoch in each library, from the same saved state, lands in the same place.
    theirs.fit(DATA_X, DATA_Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    ours.fit(DATA_X, DATA_Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "netknit.keras")
    again = real_keras.models.load_model(tmp_path / "netknit.keras")
    assert int(again.optimizer.iterations.numpy()) == 4
    assert [tuple(v.shape) for v in again.optimizer.variables] == \
        [tuple(v.shape) for v in theirs.optimizer.variables]
    for a, b in zip(again.optimizer.variables[2:], theirs.optimizer.variables[2:]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
