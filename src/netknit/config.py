"""`keras.config`: the library's global settings.

netknit runs on torch in float32, `channels_last` by default, with Keras's fuzz factor 1e-7.
Those are read here; asking to change them says what to do instead (a layer's `dtype=` or
`data_format=`), rather than changing half of the library.
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

__all__ = ["backend", "enable_unsafe_deserialization", "epsilon", "floatx",
           "image_data_format", "set_backend", "set_epsilon", "set_floatx",
           "set_image_data_format"]


def enable_unsafe_deserialization() -> None:
    raise ValueError(
        "netknit does not turn off safe mode globally: loading a file's Python code (a Lambda "
        "layer's) must be asked for at each load, with `load_model(path, safe_mode=False)`, and "
        "only for files you trust."
    )
