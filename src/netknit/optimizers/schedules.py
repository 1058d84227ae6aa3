"""Learning-rate schedules: the learning rate as a function of the optimizer's step count.

An optimizer given a schedule as its `learning_rate` evaluates it at `optimizer.iterations` (the
number of steps already taken) before each step. Schedules compute with Python numbers, so
evaluating one never waits for the device.

>>> schedule = ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
>>> schedule(100)
0.05
"""

from __future__ import annotations

import math

from ..graph.errors import unknown_name_error


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step) -> float` and `get_config`.

    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** (step // 100)
    ...     def get_config(self):
    ...         return {}
    """

    def __call__(self, step) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)


def _check_decay_steps(arg: str, value) -> None:
    if not value > 0:
        raise ValueError(f"Argument `{arg}` must be > 0. Received: {arg}={value}")


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: the number of steps over which the rate is multiplied by `decay_rate`.
        decay_rate: the factor per `decay_steps` steps.
        staircase: if True, `step / decay_steps` is floored, so the rate drops in steps.
        name: the schedule's name.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` up to and including step `boundaries[0]`, then `values[1]`, and so on.

    Args:
        boundaries: increasing step numbers where the rate changes (after the boundary step).
        values: the rates, one more than `boundaries`.
        name: the schedule's name.
    """

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step) -> float:
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Decay from `initial_learning_rate` to `end_learning_rate` as `(1 - step/decay_steps)**power`.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: the step at which `end_learning_rate` is reached (and kept, unless `cycle`).
        end_learning_rate: the final learning rate.
        power: the polynomial's power; 1.0 decays linearly.
        cycle: if True, restart the decay from a longer period (the next multiple of
            `decay_steps`) instead of staying at `end_learning_rate`.
        name: the schedule's name.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step) -> float:
        step, decay_steps = float(step), float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        fraction_left = 1.0 - step / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return span * fraction_left**self.power + self.end_learning_rate

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: how often `decay_rate` is applied.
        decay_rate: the rate of decay.
        staircase: if True, `step / decay_steps` is floored.
        name: the schedule's name.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay over `decay_steps`, optionally after a linear warmup.

    Without warmup the rate falls from `initial_learning_rate` to
    `alpha * initial_learning_rate` along half a cosine. With `warmup_target`, it first rises
    linearly from `initial_learning_rate` to `warmup_target` over `warmup_steps`, then decays
    from `warmup_target`.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: the length of the cosine decay.
        alpha: the final rate as a fraction of the rate the decay starts from.
        name: the schedule's name.
        warmup_target: the rate reached at the end of warmup; None for no warmup.
        warmup_steps: the length of the warmup.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step) -> float:
        step = float(step)
        start, warmup_steps = self.initial_learning_rate, self.warmup_steps
        if self.warmup_target is None:
            warmup_steps = 0
        step = min(step, self.decay_steps + warmup_steps)
        if step < warmup_steps:
            return start + (self.warmup_target - start) * step / warmup_steps
        if self.warmup_target is not None:
            start = self.warmup_target
        cosine = 0.5 * (1.0 + math.cos(math.pi * (step - warmup_steps) / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): each period `t_mul` times longer than the last.

    Args:
        initial_learning_rate: the learning rate at step 0.
        first_decay_steps: the length of the first period.
        t_mul: the factor by which each period is longer than the one before.
        m_mul: the factor by which each restart's initial rate is smaller than the one before.
        alpha: the final rate of each period as a fraction of its initial rate.
        name: the schedule's name.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ):
        _check_decay_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step) -> float:
        fraction = float(step) / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(
                math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul)
            )
            done = (1.0 - self.t_mul**restart) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul**restart
        cosine = 0.5 * self.m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


def serialize(schedule: LearningRateSchedule) -> dict:
    """Keras 3's config form: `{"module": ..., "class_name": ..., "config": ...}`."""
    return {
        "module": "keras.optimizers.schedules",
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict) -> LearningRateSchedule:
    """Rebuild a schedule from `serialize`'s output (built-in classes and their subclasses)."""
    known = {cls.__name__: cls for cls in _subclasses(LearningRateSchedule)}
    name = config.get("class_name")
    if name not in known:
        raise unknown_name_error("learning rate schedule", name, known)
    return known[name].from_config(config.get("config") or {})


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
