"""Optimizers and learning-rate schedules against numbers computed with Keras 3.15 (torch backend).

Every reference trains the same tiny linear least-squares problem from the same weights for a few
steps; the expected kernels and biases were produced by `keras.optimizers.*.apply` on the same
gradients.
"""

import math

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import optimizers
from netknit.optimizers import schedules
from netknit.variables import Variable

W0 = [[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]]
B0 = [0.05, -0.1]
X = torch.tensor([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0], [-2.0, 0.3, 0.7], [1.2, 0.4, -0.9]])
Y = torch.tensor([[1.0, -1.0], [0.0, 2.0], [-1.0, 0.5], [2.0, 0.0]])

# name: (optimizer factory, steps)
CASES = {
    "sgd": (lambda: optimizers.SGD(learning_rate=0.1), 3),
    "sgd_momentum": (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9), 3),
    "sgd_nesterov": (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True), 3),
    "adam": (lambda: optimizers.Adam(learning_rate=0.1), 3),
    "adam_amsgrad": (lambda: optimizers.Adam(learning_rate=0.3, amsgrad=True), 6),
    "adamw": (lambda: optimizers.AdamW(learning_rate=0.1, weight_decay=0.1), 3),
    "rmsprop": (lambda: optimizers.RMSprop(learning_rate=0.1), 3),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSprop(learning_rate=0.1, momentum=0.5, centered=True), 3
    ),
    "adagrad": (lambda: optimizers.Adagrad(learning_rate=0.1), 3),
    "adadelta": (lambda: optimizers.Adadelta(learning_rate=1.0), 3),
    "adamax": (lambda: optimizers.Adamax(learning_rate=0.1), 3),
    "nadam": (lambda: optimizers.Nadam(learning_rate=0.1), 3),
    "nadam_6": (lambda: optimizers.Nadam(learning_rate=0.1), 6),
    "lion": (lambda: optimizers.Lion(learning_rate=0.1), 3),
    "adam_weight_decay": (lambda: optimizers.Adam(learning_rate=0.1, weight_decay=0.5), 3),
    "sgd_clipnorm": (lambda: optimizers.SGD(learning_rate=0.1, clipnorm=0.5), 3),
    "sgd_clipvalue": (lambda: optimizers.SGD(learning_rate=0.1, clipvalue=0.2), 3),
    "sgd_global_clipnorm": (lambda: optimizers.SGD(learning_rate=0.1, global_clipnorm=0.5), 3),
    "sgd_exponential_decay": (
        lambda: optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.5)), 3
    ),
    "adam_default": (lambda: optimizers.Adam(), 3),
    "ftrl": (lambda: optimizers.Ftrl(learning_rate=0.1), 3),
    "ftrl_l1_l2": (lambda: optimizers.Ftrl(
        learning_rate=0.1, l1_regularization_strength=0.05, l2_regularization_strength=0.1,
        l2_shrinkage_regularization_strength=0.1, beta=0.5), 3),
    "lamb": (lambda: optimizers.Lamb(learning_rate=0.1), 3),
    "adafactor": (lambda: optimizers.Adafactor(learning_rate=0.1), 3),
    "adafactor_6": (lambda: optimizers.Adafactor(learning_rate=0.5, clip_threshold=0.5), 6),
}

# name: (kernel after training, flattened; bias after training), from Keras.
EXPECTED = {
    "sgd": (
        [0.5317362, -0.22623245, 0.056727201, 0.28711164, -0.46144167, 0.54802811],
        [0.16573866, -0.021088362],
    ),
    "sgd_momentum": (
        [0.55826885, -0.16842446, -0.077113815, -0.19333914, -0.33069232, 0.97119224],
        [0.26930141, 0.048476815],
    ),
    "sgd_nesterov": (
        [0.59751147, -0.038286772, -0.1071336, -0.28936261, -0.31339085, 1.0210367],
        [0.33940294, 0.10706589],
    ),
    "adam": (
        [0.66094851, -0.094949797, -0.08254011, 0.50168312, -0.3206259, 0.39785379],
        [0.34277543, 0.18062913],
    ),
    "adam_amsgrad": (
        [0.56005883, 0.53825116, -0.066111892, -0.50898951, -0.61101252, 1.2542844],
        [0.59866625, 0.1083274],
    ),
    "adamw": (
        [0.66905963, -0.094299719, -0.083820626, 0.4810136, -0.30782217, 0.39180982],
        [0.3383581, 0.1813079],
    ),
    "rmsprop": (
        [0.7313419, 0.022668153, -0.067575946, 0.19295329, -0.4393869, 0.67355806],
        [0.48568249, 0.2298741],
    ),
    "rmsprop_centered_momentum": (
        [0.66034728, 0.11050467, -0.10127698, -0.14200974, -0.37603468, 0.98189449],
        [0.618141, 0.21710144],
    ),
    "adagrad": (
        [0.57836777, -0.20007309, 0.028190095, 0.58328837, -0.43500537, 0.31433964],
        [0.22703871, 0.042539239],
    ),
    "adadelta": (
        [0.50424862, -0.29573959, 0.19572151, 0.79571253, -0.59572214, 0.10428688],
        [0.054282367, -0.095722601],
    ),
    "adamax": (
        [0.64765066, -0.11612327, -0.043128468, 0.51617026, -0.36079314, 0.38103876],
        [0.31161994, 0.14004302],
    ),
    "nadam": (
        [0.6482811, -0.13572174, -0.0071097836, 0.55539489, -0.40040162, 0.34241915],
        [0.27899677, 0.10722493],
    ),
    "nadam_6": (
        [0.63877523, -0.047851324, -0.089248165, 0.37253892, -0.35618132, 0.51857734],
        [0.41485304, 0.18271959],
    ),
    "lion": (
        [0.60000002, -0.20000002, -0.1, 0.49999997, -0.30000001, 0.40000001],
        [0.34999999, 0.2],
    ),
    "adam_weight_decay": (
        [0.69491684, -0.092201062, -0.086668886, 0.40285915, -0.2621209, 0.36841115],
        [0.32133785, 0.1834549],
    ),
    "sgd_clipnorm": (
        [0.50375921, -0.29366961, 0.16980302, 0.69268024, -0.57085472, 0.19573392],
        [0.16472755, -0.026355488],
    ),
    "sgd_clipvalue": (
        [0.52344728, -0.26928988, 0.14000002, 0.74000007, -0.54000008, 0.16],
        [0.11000001, -0.039999999],
    ),
    "sgd_global_clipnorm": (
        [0.50400472, -0.29357824, 0.17068547, 0.69432276, -0.57086658, 0.19478361],
        [0.07028266, -0.086987302],
    ),
    "sgd_exponential_decay": (
        [0.51630968, -0.26788005, 0.10404409, 0.45494545, -0.50557345, 0.40640911],
        [0.12069727, -0.053424891],
    ),
    "adam_default": (
        [0.50299859, -0.297001, 0.1970004, 0.79700011, -0.59700048, 0.10299987],
        [0.052999716, -0.097000442],
    ),
    "ftrl": (
        [0.19476795, -0.087587856, 0.062628582, 0.47538984, -0.32850748, 0.29908851],
        [0.20990343, 0.092703573],
    ),
    "ftrl_l1_l2": (
        [0.11673778, -0.036089879, 0.058441352, 0.37385255, -0.19897225, 0.23837845],
        [0.11324798, 0.050939485],
    ),
    "lamb": (
        [0.62840348, -0.16419065, 0.059056945, 0.65713322, -0.45862484, 0.24287492],
        [0.073165074, -0.076851159],
    ),
    "adafactor": (
        [0.63316506, -0.21184158, 0.099683687, 0.68643886, -0.48733586, 0.21259817],
        [0.072942466, -0.077203989],
    ),
    "adafactor_6": (
        [0.57986552, -0.063271672, -0.034092247, 0.3522765, -0.3269352, 0.53917277],
        [0.17258371, 0.01849312],
    ),
}


def make_params():
    return [torch.nn.Parameter(torch.tensor(W0)), torch.nn.Parameter(torch.tensor(B0))]


def backward(params):
    kernel, bias = params
    for p in params:
        p.grad = None
    ((X @ kernel + bias - Y) ** 2).mean().backward()


def train(opt, steps, params=None):
    params = params if params is not None else make_params()
    opt.build(params)
    for _ in range(steps):
        backward(params)
        opt.apply(params)
    return params


@pytest.mark.parametrize("case", list(CASES))
def test_matches_keras_after_a_few_steps(case):
    make, steps = CASES[case]
    opt = make()
    kernel, bias = train(opt, steps)
    expected_kernel, expected_bias = EXPECTED[case]
    torch.testing.assert_close(kernel.detach().flatten(), torch.tensor(expected_kernel),
                               rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(bias.detach(), torch.tensor(expected_bias), rtol=1e-4, atol=1e-6)
    assert opt.iterations == steps


SCHEDULE_STEPS = [0, 1, 2, 3, 5, 6, 9, 10, 13, 20]
SCHEDULE_CASES = [
    (schedules.ExponentialDecay(0.1, 10, 0.5),
     [0.1, 0.0933033, 0.087055057, 0.081225239, 0.070710681, 0.06597539, 0.053588677, 0.05,
      0.040612619, 0.025]),
    (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
     [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025]),
    (schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
     [1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1]),
    (schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0),
     [0.1, 0.0829, 0.0676, 0.0541, 0.0325, 0.0244, 0.0109, 0.01, 0.01, 0.01]),
    (schedules.PolynomialDecay(0.1, 4, 0.01, cycle=True),
     [0.1, 0.0775, 0.055, 0.0325, 0.04375, 0.0325, 0.0325, 0.025, 0.026875, 0.01]),
    (schedules.InverseTimeDecay(0.1, 5, 0.5),
     [0.1, 0.090909094, 0.083333328, 0.07692308, 0.06666667, 0.0625, 0.052631579, 0.05,
      0.043478262, 0.033333335]),
    (schedules.InverseTimeDecay(0.1, 5, 0.5, staircase=True),
     [0.1, 0.1, 0.1, 0.1, 0.06666667, 0.06666667, 0.06666667, 0.05, 0.05, 0.033333335]),
    (schedules.CosineDecay(0.1, 10, alpha=0.1),
     [0.1, 0.097797543, 0.091405764, 0.081450336, 0.055, 0.041094225, 0.012202458, 0.01, 0.01,
      0.01]),
    (schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=4),
     [0.0, 0.025, 0.05, 0.075, 0.097552828, 0.090450846, 0.05, 0.034549143, 0.002447176, 0.0]),
    (schedules.CosineDecayRestarts(0.1, 4),
     [0.1, 0.085355341, 0.05, 0.014644662, 0.096193977, 0.085355341, 0.030865824, 0.014644662,
      0.099039271, 0.05]),
    (schedules.CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.5),
     [0.1, 0.085355341, 0.05, 0.014644662, 0.042677671, 0.025, 0.021338835, 0.0125, 0.010669418,
      0.003125]),
]


@pytest.mark.parametrize("schedule, expected", SCHEDULE_CASES, ids=lambda x: type(x).__name__)
def test_schedule_values_match_keras(schedule, expected):
    values = [schedule(step) for step in SCHEDULE_STEPS]
    assert values == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("schedule, _", SCHEDULE_CASES, ids=lambda x: type(x).__name__)
def test_schedule_config_round_trip(schedule, _):
    config = schedules.serialize(schedule)
    assert config["module"] == "keras.optimizers.schedules"
    rebuilt = schedules.deserialize(config)
    assert type(rebuilt) is type(schedule) and rebuilt.get_config() == schedule.get_config()
    assert [rebuilt(s) for s in SCHEDULE_STEPS] == [schedule(s) for s in SCHEDULE_STEPS]


def test_schedule_rejects_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps=0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])


def test_optimizer_with_schedule_reads_it_at_iterations():
    opt = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.5))
    assert opt.learning_rate == pytest.approx(0.1)
    train(opt, 2)
    assert opt.learning_rate == pytest.approx(0.025)
    with pytest.raises(TypeError, match="cannot be set to a number"):
        opt.learning_rate = 0.01


def test_learning_rate_is_a_settable_float():
    opt = optimizers.Adam()
    assert isinstance(opt.learning_rate, Variable) and opt.learning_rate.item() == np.float32(0.001)
    opt.learning_rate = 0.01
    assert opt.learning_rate == 0.01
    with pytest.raises(ValueError, match="learning_rate=-0.1"):
        opt.learning_rate = -0.1
    opt.learning_rate = schedules.InverseTimeDecay(0.1, 1, 1.0)
    assert opt.learning_rate == pytest.approx(0.1)


def test_callable_learning_rate():
    opt = optimizers.SGD(learning_rate=lambda: 0.1)
    assert opt.learning_rate == 0.1
    kernel, _ = train(opt, 3)
    torch.testing.assert_close(kernel.detach().flatten(), torch.tensor(EXPECTED["sgd"][0]))


def test_get():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("AdamW"), optimizers.AdamW)
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    rebuilt = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    assert isinstance(rebuilt, optimizers.SGD) and rebuilt.learning_rate == 0.5
    with pytest.raises(ValueError, match="Did you mean 'adam'"):
        optimizers.get("adm")
    with pytest.raises(ValueError, match="Did you mean 'rmsprop'"):
        optimizers.get("rmsprob")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(3)


def test_new_optimizers_by_name():
    for name, cls in [("ftrl", optimizers.Ftrl), ("Ftrl", optimizers.Ftrl),
                      ("lamb", optimizers.Lamb), ("adafactor", optimizers.Adafactor)]:
        opt = optimizers.get(name)
        assert type(opt) is cls and opt.name.startswith(cls.__name__.lower())


def test_adafactor_factors_the_second_moment_of_matrices():
    kernel, bias = make_params()
    opt = optimizers.Adafactor()
    opt.build([kernel, bias])
    # As Keras lists them: the iteration and learning rate, the kernel's row and column averages
    # and velocity, then the bias's two unused integer placeholders and its velocity.
    assert [(tuple(v.shape), v.dtype) for v in opt.variables] == [
        ((), torch.int32), ((), torch.float32),
        ((3,), torch.float32), ((2,), torch.float32), ((3, 2), torch.float32),
        ((), torch.int32), ((), torch.int32), ((2,), torch.float32)]
    assert opt.get_config()["relative_step"] is True


def test_new_optimizers_check_their_arguments():
    with pytest.raises(ValueError, match="learning_rate_power=0.5"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength=-1"):
        optimizers.Ftrl(l1_regularization_strength=-1)
    with pytest.raises(ValueError, match="beta_1=1.0"):
        optimizers.Lamb(beta_1=1.0)
    with pytest.raises(ValueError, match="clip_threshold=0"):
        optimizers.Adafactor(clip_threshold=0)


def test_names_follow_keras():
    names = [optimizers.Adam().name, optimizers.Adam().name, optimizers.AdamW().name,
             optimizers.RMSprop().name, optimizers.SGD(name="mine").name]
    assert names == ["adam", "adam_1", "adam_w", "rm_sprop", "mine"]


ALL_CLASSES = [optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop,
               optimizers.Adagrad, optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam,
               optimizers.Lion, optimizers.Ftrl, optimizers.Lamb, optimizers.Adafactor]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.05, clipnorm=1.0)
    config = opt.get_config()
    rebuilt = cls.from_config(config)
    assert rebuilt.get_config() == config
    serialized = optimizers.serialize(opt)
    assert serialized["class_name"] == cls.__name__
    assert optimizers.deserialize(serialized).get_config() == config


def test_config_keys_and_schedule_serialization_follow_keras():
    opt = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.5), momentum=0.5)
    config = opt.get_config()
    assert list(config) == [
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
        "gradient_accumulation_steps", "momentum", "nesterov",
    ]
    assert config["learning_rate"] == {
        "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                   "staircase": False, "name": "ExponentialDecay"},
        "registered_name": None,
    }
    rebuilt = optimizers.SGD.from_config(config)
    assert isinstance(rebuilt._learning_rate, schedules.ExponentialDecay)
    # Keras's torch backend names its own optimizer classes; the others are keras.optimizers'.
    assert [(e["module"], e["registered_name"]) for e in map(optimizers.serialize, (
        opt, optimizers.Adam(), optimizers.Lamb()))] == [
        ("keras.src.backend.torch.optimizers.torch_sgd", "SGD"),
        ("keras.src.backend.torch.optimizers.torch_adam", "Adam"), ("keras.optimizers", None)]


def test_keras_config_loads():
    # Adam's config as Keras 3.15 writes it (learning rate rounded through float32).
    keras_config = {
        "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
        "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
        "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
        "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
        "amsgrad": False,
    }
    opt = optimizers.get({"module": "keras.optimizers", "class_name": "Adam",
                          "config": keras_config, "registered_name": None})
    assert isinstance(opt, optimizers.Adam) and opt.get_config() == keras_config


@pytest.mark.parametrize("case", ["adam_amsgrad", "rmsprop_centered_momentum", "nadam", "adagrad",
                                  "ftrl_l1_l2", "lamb", "adafactor"])
def test_state_dict_round_trip_resumes_exactly(case):
    make, _ = CASES[case]
    reference = train(make(), 4)

    opt = make()
    params = train(opt, 2)
    state = opt.state_dict()
    assert state["iterations"] == 2
    assert all(isinstance(v, torch.Tensor) for v in state["variables"])
    scalars = {k: v for k, v in state.items() if k != "variables"}
    assert all(v is None or type(v) in (int, float) for v in scalars.values())
    saved = {**scalars, "variables": [v.clone() for v in state["variables"]]}

    resumed = make()
    resumed.load_state_dict(saved)  # before build: kept until build
    resumed_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    train(resumed, 2, resumed_params)
    assert resumed.iterations == 4
    for got, want in zip(resumed_params, reference):
        torch.testing.assert_close(got, want)


def test_load_state_dict_checks_shapes():
    opt = optimizers.Adam()
    train(opt, 1)
    other = optimizers.Adam()
    other.build([torch.nn.Parameter(torch.zeros(2, 3)), torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(ValueError, match="cannot load a slot of shape"):
        other.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="has 4 slot tensors, but the saved state has 0"):
        other.load_state_dict(optimizers.SGD().state_dict())


def test_variables_follow_keras_order():
    kernel, bias = make_params()
    opt = optimizers.Adam(amsgrad=True)
    opt.build([kernel, bias])
    shapes = [tuple(v.shape) for v in opt.variables]
    # iteration, learning rate, momentum/kernel, velocity/kernel, momentum/bias, velocity/bias,
    # then the velocity_hats.
    assert shapes == [(), (), (3, 2), (3, 2), (2,), (2,), (3, 2), (2,)]
    assert [v.path for v in opt.variables][:3] == [
        f"{opt.name}/iteration", f"{opt.name}/learning_rate", f"{opt.name}/param_0_momentum"]
    assert len(optimizers.SGD().variables) == 2 and len(optimizers.SGD(momentum=0.5).variables) == 2
    adagrad = optimizers.Adagrad(initial_accumulator_value=0.3)
    adagrad.build([kernel])
    assert torch.all(adagrad.variables[2] == 0.3)
    # Keras's Nadam lists its momentum product last, an unnamed variable ("variable").
    nadam = optimizers.Nadam()
    assert len(nadam.variables) == 2
    nadam.build([kernel, bias])
    assert [v.path for v in nadam.variables][-1] == "variable"
    assert float(nadam.variables[-1]) == 1.0 and len(nadam.variables) == 7


def test_build_twice_is_a_no_op_and_other_params_are_refused():
    params = make_params()
    opt = optimizers.Adam()
    opt.build(params)
    slots = opt.variables
    opt.build(params)
    assert all(a is b for a, b in zip(opt.variables, slots))
    backward(params)
    with pytest.raises(ValueError, match="different list of 1"):
        opt.apply(params[:1])


def test_apply_builds_on_first_call_and_defaults_to_built_params():
    params = make_params()
    opt = optimizers.SGD(learning_rate=0.1)
    for _ in range(3):
        backward(params)
        opt.apply(params if opt.iterations == 0 else None)
    torch.testing.assert_close(params[0].detach().flatten(), torch.tensor(EXPECTED["sgd"][0]))


def test_missing_gradients_are_skipped_with_a_warning():
    params = make_params()
    opt = optimizers.Adam(learning_rate=0.1)
    opt.build(params)
    backward(params)
    params[1].grad = None
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['parameter 1'\]"):
        opt.apply(params)
    assert torch.equal(params[1].detach(), torch.tensor(B0))
    assert not torch.equal(params[0].detach(), torch.tensor(W0))
    params[0].grad = None
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply(params)


def test_exclude_from_weight_decay():
    params = make_params()
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[params[1]])
    opt.build(params)
    for p in params:
        p.grad = torch.zeros_like(p)
    opt.apply(params)
    torch.testing.assert_close(params[0].detach(), torch.tensor(W0) * 0.95)
    torch.testing.assert_close(params[1].detach(), torch.tensor(B0))
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_list=[params[0]])


def test_loss_scale_factor_divides_gradients():
    scaled = optimizers.SGD(learning_rate=0.1, loss_scale_factor=4.0)
    params = make_params()
    scaled.build(params)
    for _ in range(3):
        backward(params)
        for p in params:
            p.grad *= 4.0
        scaled.apply(params)
    torch.testing.assert_close(params[0].detach().flatten(), torch.tensor(EXPECTED["sgd"][0]))


@pytest.mark.parametrize("kwargs, match", [
    ({"clipnorm": 1.0, "global_clipnorm": 1.0}, "Only one of `clipnorm`"),
    ({"clipnorm": -1.0}, "clipnorm=-1.0"),
    ({"clipvalue": 0}, "clipvalue=0"),
    ({"learning_rate": -0.1}, "learning_rate=-0.1"),
    ({"weight_decay": -1.0}, "weight_decay=-1.0"),
    ({"beta_1": 1.0}, r"beta_1.*\[0, 1\)"),
    ({"epsilon": -1e-7}, "epsilon=-1e-07"),
    ({"use_ema": True, "ema_momentum": 2.0}, "ema_momentum=2.0"),
    ({"gradient_accumulation_steps": 1}, "gradient_accumulation_steps=1"),
    ({"foo": 1}, "not recognized"),
])
def test_adam_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimizers.Adam(**kwargs)


def test_other_argument_checks():
    with pytest.raises(TypeError, match="learning_rate='fast'"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="momentum=1.5"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="weight_decay=None"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="beta_1=0"):
        optimizers.Lion(beta_1=0)
    with pytest.raises(ValueError, match="rho=2"):
        optimizers.RMSprop(rho=2)
    with pytest.raises(ValueError, match="initial_accumulator_value=-1"):
        optimizers.Adagrad(initial_accumulator_value=-1)


def test_global_clipnorm_of_an_infinite_gradient_gives_nan_like_keras():
    param = torch.nn.Parameter(torch.zeros(2))
    opt = optimizers.SGD(global_clipnorm=1.0)
    param.grad = torch.tensor([math.inf, 1.0])
    opt.apply([param])
    assert torch.isnan(param.detach()).all()


@pytest.mark.parametrize("case", ["adam", "adam_amsgrad", "adamw", "adam_weight_decay"])
def test_adam_without_the_fused_kernel_matches_keras_too(case):
    # Devices without torch's fused Adam kernel take the `torch._foreach_*` path.
    make, steps = CASES[case]
    opt = make()
    params = make_params()
    opt.build(params)
    assert opt._fused_steps is not None
    opt._fused_steps = None
    train(opt, steps, params)
    torch.testing.assert_close(params[0].detach().flatten(), torch.tensor(EXPECTED[case][0]),
                               rtol=1e-4, atol=1e-6)


def test_iterations_and_learning_rate_are_keras_variables():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    opt = optimizers.Adam(0.1)
    model.compile(opt, "mse")
    assert isinstance(opt.iterations, Variable) and opt.iterations.dtype == torch.int32
    model.fit(np.ones((8, 4)), np.ones((8, 2)), batch_size=4, verbose=0)
    assert opt.iterations.numpy() == 2 and int(opt.iterations) == 2
    assert float(opt.learning_rate) == float(np.float32(0.1))  # Keras's float32 variable
    assert [v.path for v in opt.variables][2:4] == [
        f"{opt.name}/sequential_dense_kernel_momentum",
        f"{opt.name}/sequential_dense_kernel_velocity"]
    # assignments reach the numbers the steps use
    opt.learning_rate.assign(0.0)
    opt.iterations.assign(10)
    kernel = model.layers[0].kernel.numpy()
    model.fit(np.ones((8, 4)), np.ones((8, 2)), batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kernel)
    assert int(opt.iterations) == 12
    opt.learning_rate = 0.5
    assert opt.learning_rate.item() == 0.5
    schedule = optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5))
    assert type(schedule.learning_rate) is torch.Tensor and len(schedule.variables) == 1


class _KerasDocsSGD(optimizers.Optimizer):
    """The custom optimizer of Keras's `Optimizer` documentation, as written there."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.momentum = 0.9

    def build(self, variables):
        super().build(variables)
        self.momentums = [self.add_variable_from_reference(reference_variable=v, name="momentum")
                          for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = keras.ops.cast(learning_rate, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(m, m * keras.ops.cast(self.momentum, variable.dtype) - gradient * learning_rate)
        self.assign_add(variable, m)


def test_a_keras_style_optimizer_trains_as_in_keras():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_initializer="ones")])
    opt = _KerasDocsSGD(learning_rate=0.1, name="sgd")
    model.compile(opt, "mse")
    x = np.arange(32, dtype="float32").reshape(8, 4) / 32
    history = model.fit(x, np.ones((8, 2), "float32"), batch_size=4, epochs=2, verbose=0,
                        shuffle=False)
    # Keras 3.15.1 (torch backend), the same class and data
    assert history.history["loss"] == pytest.approx([2.165546, 0.547565], rel=1e-5)
    np.testing.assert_allclose(model.get_weights()[0][:, 0], [0.54191, 0.52628, 0.51064, 0.49501],
                               rtol=1e-4)
    assert [v.path for v in opt.variables] == [
        "sgd/iteration", "sgd/learning_rate", "sgd/sequential_dense_kernel_momentum",
        "sgd/sequential_dense_bias_momentum"]


def test_a_keras_style_optimizer_s_variables_are_saved_and_resume(tmp_path):
    x, y = np.arange(32, dtype="float32").reshape(8, 4) / 32, np.ones((8, 2), "float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_initializer="ones")])
    model.compile(_KerasDocsSGD(learning_rate=0.1, name="sgd"), "mse")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras",
                                     custom_objects={"_KerasDocsSGD": _KerasDocsSGD})
    # Keras writes them after the iteration and learning rate: optimizer/vars/2 and 3 here.
    for ours, theirs in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert np.abs(np.asarray(loaded.optimizer.variables[2])).sum() > 0
    for resumed in (model, loaded):
        resumed.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_an_optimizer_without_update_step_says_what_to_write():
    class Empty(optimizers.Optimizer):
        pass

    weight = torch.nn.Parameter(torch.ones(2))
    weight.grad = torch.ones(2)
    with pytest.raises(NotImplementedError, match="must implement `update_step"):
        Empty(learning_rate=0.1).apply([weight])


def _ema_model(optimizer):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_initializer="ones")])
    model.compile(optimizer, "mse")
    return model


EMA_X = np.arange(32, dtype="float32").reshape(8, 4) / 32
EMA_Y = np.ones((8, 2), "float32")


def test_use_ema_averages_the_weights_as_keras():
    opt = optimizers.Adam(0.1, use_ema=True, ema_momentum=0.5)
    model = _ema_model(opt)
    history = model.fit(EMA_X, EMA_Y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    # Keras 3.15.1 (torch backend), the same model and data: fit ends with the averages
    assert history.history["loss"] == pytest.approx([1.805118, 0.958285], rel=1e-5)
    np.testing.assert_allclose(model.get_weights()[0][:, 0], [0.74849, 0.74926, 0.74998, 0.75064],
                               atol=1e-5)
    assert [v.path for v in opt.variables][2:5] == [
        f"{opt.name}/sequential_dense_kernel_average", f"{opt.name}/sequential_dense_bias_average",
        f"{opt.name}/sequential_dense_kernel_momentum"]


def test_ema_overwrite_frequency_as_keras():
    model = _ema_model(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9,
                                      ema_overwrite_frequency=3))
    history = model.fit(EMA_X, EMA_Y, batch_size=2, epochs=2, verbose=0, shuffle=False)
    assert history.history["loss"] == pytest.approx([2.191218, 1.447869], rel=1e-5)
    np.testing.assert_allclose(model.get_weights()[0][:, 0], [0.90846, 0.90661, 0.90476, 0.90291],
                               atol=1e-5)


def test_ema_arguments_are_checked():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.SGD(use_ema=True, ema_overwrite_frequency=0)


def test_an_ema_optimizer_saves_and_loads(tmp_path):
    model = _ema_model(optimizers.Adam(0.1, use_ema=True))
    model.fit(EMA_X, EMA_Y, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for saved, restored in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    assert loaded.optimizer.use_ema
