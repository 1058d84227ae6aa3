"""`keras.ops`: NumPy-like and neural-network functions that compute with torch on real tensors
and record operations on symbolic ones (see `operation.py`).

>>> from netknit import ops
>>> ops.mean(ops.square(torch.ones(2, 3)), axis=1)        # a torch tensor
>>> x = Input((4,)); y = ops.sum(Dense(4)(x) * 2, axis=-1)  # a symbolic tensor

Inside a layer's `call`/`forward`, plain torch functions work just as well.
"""

from . import core, einops, image, linalg, math, nn, numpy
from .core import *  # noqa: F403
from .einops import rearrange as rearrange
from .linalg import *  # noqa: F403
from .math import *  # noqa: F403
from .nn import *  # noqa: F403
from .numpy import *  # noqa: F403
from .operation import OPERATIONS, Operation, is_operation


def _public(module) -> list:
    return [n for n, v in vars(module).items()
            if callable(v) and not n.startswith("_") and n[0].islower()
            and getattr(v, "__module__", None) == module.__name__]


__all__ = sorted({n for m in (core, einops, linalg, math, nn, numpy) for n in _public(m)}
                 - {"tensor", "as_float", "to_torch_dtype"}) + [
    "OPERATIONS", "Operation", "is_operation", "core", "image", "linalg", "math", "nn", "numpy"]


def __getattr__(name: str):
    from ..graph.errors import did_you_mean

    functions = [n for n in __all__ if n[0].islower()]
    raise AttributeError(
        f"netknit.ops has no '{name}'.{did_you_mean(name, functions)} Inside a Lambda or your "
        "own layer, tensors are torch tensors: torch's functions work there too (e.g. torch.fft)."
    )
