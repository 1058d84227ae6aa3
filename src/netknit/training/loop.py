"""Whether a Keras loop (`fit`, `evaluate`, `predict` and their one-batch forms) is running.

Keras's loops call the model with `training=True` or `False`, which overrides the `training=`
that a layer call in a functional graph recorded (e.g. `Dropout(0.5)(x, training=True)`, or the
`training=True` Keras's own configs record for augmentation layers). netknit's loops run the
model in its module mode instead, so the functional model asks here whether to do the same.
"""

from __future__ import annotations

import contextvars
import functools

_running = contextvars.ContextVar("netknit_keras_loop", default=False)


def in_loop() -> bool:
    return _running.get()


def loop(method):
    """Mark `method` (fit, evaluate, predict, ...) as a Keras loop while it runs."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        token = _running.set(True)
        try:
            return method(*args, **kwargs)
        finally:
            _running.reset(token)

    return wrapper
