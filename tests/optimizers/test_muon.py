"""`optimizers.Muon` against Keras 3.15.1 (torch backend).

The reference numbers were produced by `keras.optimizers.Muon.apply` on the same gradients; the
tests at the end compare with Keras live when it is installed (skipped otherwise).
"""

import numpy as np
import pytest
import torch
from optimizer_steps import (
    assert_jit_updates_as_eagerly,
    assert_loss_scaling_changes_nothing,
    assert_steps_match,
    dense_model,
    fit,
    flat,
    train,
)

import netknit as keras
from netknit import optimizers

CASES = {
    "defaults": {"learning_rate": 0.05},
    "options": {"learning_rate": 0.05, "nesterov": False, "rms_rate": None, "weight_decay": 0.1,
                "adam_weight_decay": None, "adam_lr_ratio": 0.5, "ns_steps": 3},
}

# The four weights after 4 steps, flattened, from Keras (both kernels take the Muon step).
EXPECTED = {
    "defaults": [
        -0.01117909, 0.1305038, -0.1638905, -0.4569032, -0.182923, -0.4746472, -0.02957351,
        0.6521859, -0.2187475, -0.286402, 0.2165574, 0.2215814, -0.1314927, -0.6627476,
        -0.2113871, 0.356021, -0.6348094, -0.2607258, -0.9193978, -0.6060637, -0.9027982,
        0.06780519, -0.4398401],
    "options": [
        -0.01644202, 0.08096727, -0.1814886, -0.4542148, -0.1344084, -0.4123836, -0.1087237,
        0.6051549, -0.1700305, -0.2611349, 0.1982288, 0.2533842, -0.04561116, -0.5646394,
        -0.1137623, 0.3665535, -0.5564356, -0.3156621, -0.8533723, -0.5341997, -0.8554298,
        -0.02130459, -0.5348588],
}


@pytest.mark.parametrize("case", CASES)
def test_steps_match_numbers_from_keras(case):
    params = train(optimizers.Muon(**CASES[case]))
    np.testing.assert_allclose(flat(params), EXPECTED[case], rtol=1e-5, atol=1e-6)


def test_newton_schulz_matches_keras():
    opt = optimizers.Muon()
    wide = opt.zeropower_via_newtonschulz5(torch.tensor([[0.2499, 0.9105], [0.2655, 0.8824]]), 5)
    np.testing.assert_allclose(wide.numpy(), [[-0.44190192, 0.64559197], [0.72815847, 0.2969557]],
                               rtol=1e-5, atol=1e-6)
    tall = opt.zeropower_via_newtonschulz5(torch.arange(6.0).reshape(3, 2) / 5, 5)
    np.testing.assert_allclose(
        tall.numpy(), [[-0.46673751, 0.44601738], [0.03036527, 0.40457702],
                       [0.52746844, 0.36313641]], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        opt.zeropower_via_newtonschulz5(torch.ones(3), 5)
    np.testing.assert_allclose(optimizers.Muon(rms_rate=0.2).lr_adjust(torch.ones(4, 2)).numpy(),
                               np.full((4, 2), 0.4), rtol=1e-6)
    assert optimizers.Muon(rms_rate=None).lr_adjust(torch.ones(4, 4)).tolist() == \
        torch.ones(4, 4).tolist()


def _model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Embedding(5, 3),
                             keras.layers.Dense(3), keras.layers.Dense(2, name="out")])


def test_variables_follow_keras_and_name_the_rule_of_each_weight():
    model = _model()
    opt = optimizers.Muon(exclude_layers=["out"])
    opt.build(model.trainable_weights)
    # As Keras 3.15.1 lists them: a momentum for every weight, a velocity for the AdamW ones
    # (the embedding table, the biases, and the excluded "out" kernel).
    assert [(v.path, tuple(v.shape)) for v in opt.variables] == [
        ("muon/iteration", ()), ("muon/learning_rate", ()),
        ("muon/sequential_embedding_embeddings_momentum", (5, 3)),
        ("muon/sequential_embedding_embeddings_velocity", (5, 3)),
        ("muon/sequential_dense_kernel_momentum", (3, 3)),
        ("muon/sequential_dense_bias_momentum", (3,)),
        ("muon/sequential_dense_bias_velocity", (3,)),
        ("muon/sequential_out_kernel_momentum", (3, 2)),
        ("muon/sequential_out_kernel_velocity", (3, 2)),
        ("muon/sequential_out_bias_momentum", (2,)),
        ("muon/sequential_out_bias_velocity", (2,)),
    ]
    assert opt.variables_size() == (2 + 15 * 2 + 9 + 3 * 2 + 6 * 2 + 2 * 2,
                                    4 * (2 + 15 * 2 + 9 + 3 * 2 + 6 * 2 + 2 * 2))
    rules = [opt._should_use_adamw(w) for w in model.trainable_weights]
    assert rules == [True, False, True, True, True]
    assert [optimizers.Muon(exclude_embeddings=False)._should_use_adamw(w)
            for w in model.trainable_weights] == [False, False, True, False, True]
    # The EMA's averages come first, as in Keras.
    with_ema = optimizers.Muon(use_ema=True)
    with_ema.build(model.trainable_weights)
    assert [v.path.rsplit("_", 1)[1] for v in with_ema.variables[2:7]] == ["average"] * 5


def test_weight_decay_by_rule():
    # Zero gradients: Adam's and Muon's steps are zero, only the decay moves the weights.
    def decayed(**kwargs):
        kernel = torch.nn.Parameter(torch.full((3, 2), 2.0))
        bias = torch.nn.Parameter(torch.full((2,), 2.0))
        opt = optimizers.Muon(learning_rate=0.5, **kwargs)
        opt.build([kernel, bias])
        opt.apply_gradients([(torch.zeros(3, 2), kernel), (torch.zeros(2), bias)])
        return kernel[0, 0].item(), bias[0].item()

    assert decayed(weight_decay=0.1, adam_weight_decay=0.2) == pytest.approx((1.9, 1.8))
    assert decayed(weight_decay=None, adam_weight_decay=0.2) == pytest.approx((2.0, 1.8))
    assert decayed(weight_decay=0.1, adam_weight_decay=None) == pytest.approx((1.9, 2.0))
    # adam_lr_ratio scales Adam's step, not the decay.
    assert decayed(adam_weight_decay=0.2, adam_lr_ratio=0.1) == pytest.approx((1.996, 1.8))


def test_config_follows_keras():
    config = optimizers.Muon(exclude_layers=["out"]).get_config()
    # Keras 3.15.1's `Muon(exclude_layers=["out"]).get_config()`.
    assert config == {
        "name": "muon", "learning_rate": 0.0010000000474974513, "weight_decay": 0.004,
        "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
        "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
        "gradient_accumulation_steps": None, "adam_beta_1": 0.9, "adam_beta_2": 0.999,
        "epsilon": 1e-07, "exclude_layers": ["out"], "muon_a": 3.4445, "muon_b": -4.775,
        "muon_c": 2.0315, "adam_lr_ratio": 1, "momentum": 0.95, "ns_steps": 5, "nesterov": True,
        "exclude_embeddings": True, "adam_weight_decay": 0.004, "rms_rate": 0.2,
    }
    assert list(config) == list(optimizers.Muon().get_config())
    assert optimizers.Muon().get_config()["exclude_layers"] == []
    assert optimizers.Muon.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(optimizers.Muon(**CASES["options"]))) \
        .get_config()["rms_rate"] is None
    assert type(optimizers.get("muon")) is optimizers.Muon
    assert type(optimizers.get("Muon")) is optimizers.Muon
    assert keras.optimizers.Muon is optimizers.Muon


@pytest.mark.parametrize("kwargs, message", [
    ({"adam_beta_1": 1.0}, "adam_beta_1=1.0"),
    ({"adam_beta_2": -0.1}, "adam_beta_2=-0.1"),
    ({"ns_steps": 2.5}, "ns_steps=2.5"),
    ({"momentum": 1.5}, "momentum=1.5"),
    ({"exclude_layers": "out"}, "exclude_layers='out'"),
    ({"adam_weight_decay": -1}, "adam_weight_decay=-1"),
    ({"weight_decay": -1}, "weight_decay=-1"),
    ({"clipnorm": 1.0, "clipvalue": 1.0}, "Only one of"),
    ({"bogus": 1}, "not recognized"),
])
def test_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.Muon(**kwargs)


def test_saved_training_resumes_exactly(tmp_path):
    whole = dense_model(optimizers.Muon(0.05, exclude_layers=["head"]))
    fit(whole, epochs=2)
    first = dense_model(optimizers.Muon(0.05, exclude_layers=["head"]))
    fit(first)
    first.save(tmp_path / "muon.keras")
    resumed = keras.models.load_model(tmp_path / "muon.keras")
    assert type(resumed.optimizer) is optimizers.Muon
    assert resumed.optimizer.get_config() == first.optimizer.get_config()
    assert resumed.optimizer.iterations == 4
    for a, b in zip(resumed.optimizer.variables, first.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    fit(resumed)
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_jit_compile_updates_as_eagerly():
    assert_jit_updates_as_eagerly(lambda: optimizers.Muon(0.05, weight_decay=0.1, clipnorm=1.0))


def test_loss_scale_optimizer_wraps_muon():
    assert_loss_scaling_changes_nothing(lambda: optimizers.Muon(0.05))


def test_missing_gradients_skip_their_weights():
    kernel = torch.nn.Parameter(torch.ones(3, 2))
    bias = torch.nn.Parameter(torch.ones(2))
    opt = optimizers.Muon(0.1, weight_decay=None, adam_weight_decay=None)
    opt.build([kernel, bias])
    kernel.grad = torch.ones(3, 2)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply([kernel, bias])
    assert bias.tolist() == [1.0, 1.0] and kernel[0, 0].item() < 1.0


# ---------------------------------------------------------------- live Keras

LIVE_CASES = [
    {},
    {"learning_rate": 0.05},
    {"learning_rate": 0.05, "nesterov": False, "rms_rate": None, "weight_decay": 0.1,
     "adam_weight_decay": None, "adam_lr_ratio": 0.5, "ns_steps": 3},
    {"learning_rate": 0.05, "weight_decay": None, "adam_weight_decay": 0.3, "momentum": 0.5,
     "clipnorm": 0.3, "use_ema": True},
]


@pytest.mark.parametrize("kwargs", LIVE_CASES, ids=range(len(LIVE_CASES)))
def test_steps_and_variables_match_live_keras(kwargs):
    real_keras = pytest.importorskip("keras")
    assert_steps_match(optimizers.Muon(**kwargs), real_keras.optimizers.Muon(**kwargs),
                       real_keras, steps=6, variables_atol=1e-5)


def _embedding_model(lib):
    inputs = lib.Input((5,), dtype="int32")
    hidden = lib.layers.Flatten()(lib.layers.Embedding(10, 4)(inputs))
    hidden = lib.layers.Dense(6, activation="tanh")(hidden)
    hidden = lib.layers.Dense(6, activation="tanh", name="mid")(hidden)
    return lib.Model(inputs, lib.layers.Dense(2, name="head")(hidden))


@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 0.02, "exclude_layers": ["head"]},
    {"learning_rate": 0.02, "exclude_embeddings": False, "exclude_layers": ["mi."]},
], ids=["exclude_head", "regex_and_embeddings"])
def test_fit_matches_live_keras(kwargs):
    real_keras = pytest.importorskip("keras")
    real_keras.backend.clear_session()  # the same automatic layer names on both sides
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (16, 5)).astype("int32")
    y = rng.normal(size=(16, 2)).astype("float32")
    theirs = _embedding_model(real_keras)
    ours = _embedding_model(keras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(real_keras.optimizers.Muon(**kwargs), "mse")
    ours.compile(optimizers.Muon(**kwargs), "mse")
    their_loss = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    our_loss = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(our_loss.history["loss"], their_loss.history["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert [v.path for v in ours.optimizer.variables] == \
        [v.path for v in theirs.optimizer.variables]
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def test_saved_training_state_moves_both_ways_with_keras(tmp_path):
    real_keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    theirs = real_keras.Sequential([real_keras.Input((4,)),
                                    real_keras.layers.Dense(3, activation="tanh"),
                                    real_keras.layers.Dense(2, name="head")])
    theirs.compile(real_keras.optimizers.Muon(0.05, exclude_layers=["head"]), "mse")
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    ours = keras.models.load_model(tmp_path / "keras.keras")
    assert type(ours.optimizer) is optimizers.Muon and ours.optimizer.iterations == 2
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    ours.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    ours.save(tmp_path / "netknit.keras")
    again = real_keras.models.load_model(tmp_path / "netknit.keras")
    assert int(again.optimizer.iterations.numpy()) == 4
    for a, b in zip(again.optimizer.variables[2:], theirs.optimizer.variables[2:]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
