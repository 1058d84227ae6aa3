"""Whether a Keras loop (`fit`, `evaluate`, `predict` and their one-batch forms) is running.

Keras's loops call the model with `training=True` or `False`, which overrides the `training=`
that a layer call in a functional graph recorded (e.g. `Dropout(0.5)(x, training=True)`, or the
`training=True` Keras's own configs record for augmentation layers). netknit's loops run the
model in its module mode instead, so the functional model asks here whether to do the same.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools

_running = contextvars.ContextVar("netknit_keras_loop", default=False)


def in_loop() -> bool:
    return _running.get()


@contextlib.contextmanager
def running():
    """Run the block as a Keras loop (`export` traces the model as `predict` runs it)."""
    token = _running.set(True)
    try:
        yield
    finally:
        _running.reset(token)


def loop(method):
    """Mark `method` (fit, evaluate, predict, ...) as a Keras loop while it runs."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with running():
            return method(*args, **kwargs)

    return wrapper
