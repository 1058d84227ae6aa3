"""Weight regularizers: penalties added to the training loss (`l1`, `l2`, `l1_l2`,
`orthogonal_regularizer`)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .graph.errors import unknown_name_error


class Regularizer:
    """Base class: `regularizer(weight)` returns a scalar penalty tensor."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)


def _check_factor(name: str, value) -> float:
    if not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"Expected a non-negative number for {name}. Received: {name}={value!r}")
    return float(value)


class L1(Regularizer):
    """`l1 * sum(abs(x))`."""

    def __init__(self, l1: float = 0.01):
        # Keras keeps this factor (and no other penalty's) as a float32 tensor, so its config
        # and penalty carry float32's rounding.
        self.l1 = float(np.float32(_check_factor("l1", l1)))

    def __call__(self, x):
        return self.l1 * torch.sum(torch.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(square(x))`."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x):
        return self.l2 * torch.sum(torch.square(x))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(square(x))`."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x):
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            penalty = penalty + self.l1 * torch.sum(torch.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * torch.sum(torch.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards being orthogonal to each other.

    The penalty is `factor` times the mean of `|cos(w_i, w_j)|` over the pairs `i < j` of rows
    (or columns): 0 when they are mutually orthogonal.

    Args:
        factor: a non-negative number scaling the penalty (kept in float32, as in Keras).
        mode: `"rows"` (e.g. the input units of a `Dense` kernel) or `"columns"` (its output
            units).

    >>> OrthogonalRegularizer(factor=1.0)(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
    tensor(0.7071)
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
                or not math.isfinite(factor) or factor < 0:
            raise ValueError(f"Expected a non-negative number for factor. Received: "
                             f"factor={factor!r}")
        if mode not in ("rows", "columns"):
            raise ValueError(f"Expected 'rows' or 'columns' for mode. Received: mode={mode!r}")
        self.factor = float(np.float32(factor))
        self.mode = mode

    def __call__(self, x):
        if x.dim() != 2:
            raise ValueError(f"OrthogonalRegularizer expects a weight of rank 2. Received a "
                             f"weight of shape {tuple(x.shape)}.")
        if self.mode == "columns":
            x = x.T
        inv_norms = torch.rsqrt(torch.square(x).sum(dim=1, keepdim=True))
        units = x * torch.clamp(inv_norms, max=1e7)  # as Keras normalizes: at most 1 / epsilon
        size = units.shape[0]
        cosines = (units @ units.T) * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        return self.factor * 0.5 * cosines.abs().sum() / (size * (size - 1.0) / 2.0)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2 = L1, L2, L1L2
orthogonal_regularizer = OrthogonalRegularizer
REGULARIZERS = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2,
                "OrthogonalRegularizer": OrthogonalRegularizer,
                "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier) -> Regularizer | None:
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        cls = _lookup(identifier.get("class_name"))
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret regularizer identifier: expected a name ('l1', 'l2', 'l1_l2', "
        f"'orthogonal_regularizer'), a Regularizer, or a callable. Received: {identifier!r}"
    )


def _lookup(name: str) -> type:
    if name not in REGULARIZERS:
        raise unknown_name_error("regularizer", name, REGULARIZERS)
    return REGULARIZERS[name]


def serialize(regularizer) -> dict | None:
    if regularizer is None:
        return None
    return {
        "module": "keras.regularizers",
        "class_name": type(regularizer).__name__,
        "config": regularizer.get_config(),
        "registered_name": None,
    }

def deserialize(config, custom_objects: dict | None = None):
    """The regularizer a name or a `serialize` config (Keras's too) describes; `custom_objects` maps
    names to the user's own regularizers."""
    from .saving.serialization import deserialize_family  # saving builds on this module

    return deserialize_family(get, config, custom_objects)
