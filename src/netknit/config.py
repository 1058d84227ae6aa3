"""`keras.config`: the library's global settings.

netknit runs on torch in float32, `channels_last` by default, with Keras's fuzz factor 1e-7.
Those are read here; asking to change them says what to do instead (a layer's `dtype=` or
`data_format=`), rather than changing half of the library. The global dtype policy (mixed
precision) is the one setting that changes: `set_dtype_policy("mixed_float16")`.
"""

from __future__ import annotations

import os
import warnings

from .backend import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_backend,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from .dtype_policies import dtype_policy as dtype_policy
from .dtype_policies import set_dtype_policy as set_dtype_policy
from .layers import attention as _attention
from .training.progress import disable_interactive_logging as disable_interactive_logging
from .training.progress import enable_interactive_logging as enable_interactive_logging
from .training.progress import is_interactive_logging_enabled as is_interactive_logging_enabled

__all__ = ["backend", "disable_flash_attention", "disable_interactive_logging",
           "disable_traceback_filtering", "dtype_policy", "enable_flash_attention",
           "enable_interactive_logging", "enable_traceback_filtering",
           "enable_unsafe_deserialization", "epsilon", "floatx", "image_data_format",
           "is_flash_attention_enabled", "is_interactive_logging_enabled", "is_nnx_enabled",
           "is_traceback_filtering_enabled", "max_epochs", "max_steps_per_epoch", "set_backend",
           "set_dtype_policy", "set_epsilon", "set_floatx", "set_image_data_format",
           "set_max_epochs", "set_max_steps_per_epoch"]

# Debugging caps of every `fit` (epochs) and of every epoch of fit/evaluate/predict (steps), as
# Keras's; also set by the environment variables Keras reads.
_max_epochs = int(os.environ["KERAS_MAX_EPOCHS"]) if "KERAS_MAX_EPOCHS" in os.environ else None
_max_steps_per_epoch = int(os.environ["KERAS_MAX_STEPS_PER_EPOCH"]) if (
    "KERAS_MAX_STEPS_PER_EPOCH" in os.environ) else None


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the epochs of every `fit` at `max_epochs` (None: no cap), with a warning."""
    global _max_epochs
    _max_epochs = max_epochs


def max_epochs() -> int | None:
    return _max_epochs


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the steps of each epoch of `fit`, `evaluate` and `predict` (None: no cap)."""
    global _max_steps_per_epoch
    _max_steps_per_epoch = max_steps_per_epoch


def max_steps_per_epoch() -> int | None:
    return _max_steps_per_epoch


def enable_flash_attention() -> None:
    """Attention layers use torch's fused attention kernel (flash where the inputs allow)."""
    _attention.flash_attention_enabled = True


def disable_flash_attention() -> None:
    """Attention layers compute the scores and their softmax explicitly."""
    _attention.flash_attention_enabled = False


def is_flash_attention_enabled() -> bool | None:
    """True or False when set; None (the default) when torch picks its fused kernel."""
    return _attention.flash_attention_enabled


def is_nnx_enabled() -> bool:
    """False: NNX (Flax's module system) is a feature of Keras's JAX backend, and netknit runs on
    torch, where Keras also says False."""
    return False


def is_traceback_filtering_enabled() -> bool:
    """False: netknit never shortens tracebacks; each error names the layer it came from."""
    return False


def disable_traceback_filtering() -> None:
    """Nothing to do: netknit's tracebacks are never filtered."""


def enable_traceback_filtering() -> None:
    warnings.warn("netknit does not filter tracebacks; they stay whole, and errors name the layer "
                  "they came from.", stacklevel=2)


def enable_unsafe_deserialization() -> None:
    raise ValueError(
        "netknit does not turn off safe mode globally: loading a file's Python code (a Lambda "
        "layer's) must be asked for at each load, with `load_model(path, safe_mode=False)`, and "
        "only for files you trust."
    )
