"""`keras.config`: the library's global settings.

netknit runs on torch in float32, `channels_last` by default, with Keras's fuzz factor 1e-7.
Those are read here; asking to change them says what to do instead (a layer's `dtype=` or
`data_format=`), rather than changing half of the library. The global dtype policy (mixed
precision) is the one setting that changes: `set_dtype_policy("mixed_float16")`.
"""

from __future__ import annotations

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

__all__ = ["backend", "dtype_policy", "enable_unsafe_deserialization", "epsilon", "floatx",
           "image_data_format", "set_backend", "set_dtype_policy", "set_epsilon", "set_floatx",
           "set_image_data_format"]


def enable_unsafe_deserialization() -> None:
    raise ValueError(
        "netknit does not turn off safe mode globally: loading a file's Python code (a Lambda "
        "layer's) must be asked for at each load, with `load_model(path, safe_mode=False)`, and "
        "only for files you trust."
    )
