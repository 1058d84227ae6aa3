"""Optimizers with Keras 3's names, arguments and update rules, stepping `torch.nn.Parameter`s.

>>> from netknit import optimizers
>>> optimizers.get("adam")
<Adam name='adam' learning_rate=0.001>

The trainer builds an optimizer once on the model's trainable parameters and calls
`optimizer.apply(params)` after each backward pass.
"""

from ..graph.errors import unknown_name_error
from . import schedules as schedules
from .algorithms import SGD as SGD
from .algorithms import Adadelta as Adadelta
from .algorithms import Adafactor as Adafactor
from .algorithms import Adagrad as Adagrad
from .algorithms import Adam as Adam
from .algorithms import Adamax as Adamax
from .algorithms import AdamW as AdamW
from .algorithms import Ftrl as Ftrl
from .algorithms import Lamb as Lamb
from .algorithms import Lion as Lion
from .algorithms import Nadam as Nadam
from .algorithms import RMSprop as RMSprop
from .loss_scale_optimizer import LossScaleOptimizer as LossScaleOptimizer
from .multi_optimizer import MultiOptimizer as MultiOptimizer
from .multi_optimizer import OptimizerMap as OptimizerMap
from .muon import Muon as Muon
from .optimizer import Optimizer as Optimizer
from .schedule_free import ScheduleFreeAdamW as ScheduleFreeAdamW

OPTIMIZERS = {
    cls.__name__.lower(): cls
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl, Lamb,
                Adafactor, Muon, ScheduleFreeAdamW)
}
# Found by name in configs (any case, as Keras's table), but not made by name alone: each takes
# the optimizers it wraps.
_WRAPPERS = {cls.__name__.lower(): cls for cls in (LossScaleOptimizer, MultiOptimizer,
                                                   OptimizerMap)}


def get(identifier) -> Optimizer | None:
    """An optimizer from a name (`"adam"`, any case), a config dict, or an instance (returned)."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        optimizer = deserialize(identifier)
        if isinstance(optimizer, Optimizer):
            return optimizer
    raise ValueError(
        "Could not interpret optimizer identifier: expected a name such as 'adam', an Optimizer, "
        f"or a config dict. Received: {identifier!r}"
    )


# The optimizers Keras's torch backend has classes of its own for: their configs name those.
_TORCH_BACKEND_CLASSES = (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion)


def serialize(optimizer: Optimizer) -> dict:
    """Keras 3's config form: `{"module": ..., "class_name": ..., "config": ...}`, with the
    module and registered name Keras's torch backend writes."""
    cls = type(optimizer)
    torch_backend = cls in _TORCH_BACKEND_CLASSES
    return {
        "module": (f"keras.src.backend.torch.optimizers.torch_{cls.__name__.lower()}"
                   if torch_backend else "keras.optimizers"),
        "class_name": cls.__name__,
        "config": optimizer.get_config(),
        "registered_name": cls.__name__ if torch_backend else None,
    }


def deserialize(config: dict) -> Optimizer | OptimizerMap:
    """Rebuild an optimizer (or an `OptimizerMap`) from `serialize`'s output (or Keras's)."""
    return _lookup(config.get("class_name")).from_config(config.get("config") or {})


def _lookup(name: str) -> type:
    cls = OPTIMIZERS.get(str(name).lower()) or _WRAPPERS.get(str(name).lower())
    if cls is None:
        raise unknown_name_error("optimizer", name, OPTIMIZERS)
    return cls


__all__ = [
    "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion",
    "LossScaleOptimizer", "MultiOptimizer", "Muon", "Nadam", "Optimizer", "OptimizerMap",
    "RMSprop", "ScheduleFreeAdamW",
    "deserialize", "get", "schedules", "serialize",
]
