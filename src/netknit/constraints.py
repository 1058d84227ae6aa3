"""Weight constraints, applied to a weight after each optimizer step."""

from __future__ import annotations

import torch

from .graph.errors import unknown_name_error


class Constraint:
    """Base class: `constraint(weight)` returns the projected weight."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        return cls(**config)


class NonNeg(Constraint):
    """Weights stay non-negative."""

    def __call__(self, w):
        return torch.clamp(w, min=0.0)


class MaxNorm(Constraint):
    """The norm along `axis` is at most `max_value`."""

    def __init__(self, max_value: float = 2, axis: int = 0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = torch.sqrt(torch.sum(torch.square(w), dim=self.axis, keepdim=True))
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """The norm along `axis` is one."""

    def __init__(self, axis: int = 0):
        self.axis = axis

    def __call__(self, w):
        return w / (1e-7 + torch.sqrt(torch.sum(torch.square(w), dim=self.axis, keepdim=True)))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """The norm along `axis` is moved `rate` of the way into `[min_value, max_value]`."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = torch.sqrt(torch.sum(torch.square(w), dim=self.axis, keepdim=True))
        clipped = torch.clamp(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {
            "min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
            "axis": self.axis,
        }


CONSTRAINTS = {
    "NonNeg": NonNeg, "MaxNorm": MaxNorm, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
    "non_neg": NonNeg, "max_norm": MaxNorm, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
}


def get(identifier) -> Constraint | None:
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, dict):
        return _lookup(identifier.get("class_name")).from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret constraint identifier: expected a constraint name, a Constraint, "
        f"or a callable. Received: {identifier!r}"
    )


def _lookup(name: str) -> type:
    if name not in CONSTRAINTS:
        raise unknown_name_error("constraint", name, CONSTRAINTS)
    return CONSTRAINTS[name]


def serialize(constraint) -> dict | None:
    if constraint is None:
        return None
    return {
        "module": "keras.constraints",
        "class_name": type(constraint).__name__,
        "config": constraint.get_config(),
        "registered_name": None,
    }

def deserialize(config, custom_objects: dict | None = None):
    """The constraint a name or a `serialize` config (Keras's too) describes; `custom_objects` maps
    names to the user's own constraints."""
    from .saving.serialization import deserialize_family  # saving builds on this module

    return deserialize_family(get, config, custom_objects)


# Keras's lowercase names for the same classes.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm
