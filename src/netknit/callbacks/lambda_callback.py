"""`LambdaCallback`: a callback made of plain functions."""

from __future__ import annotations

from .callback import Callback

_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class LambdaCallback(Callback):
    """A callback that calls the functions it is given, for quick custom callbacks.

    Each function receives the hook's arguments positionally: `(epoch, logs)` for epoch hooks,
    `(batch, logs)` for batch hooks, `(logs)` for begin/end hooks.

    Args:
        on_epoch_begin, on_epoch_end, on_train_begin, on_train_end, on_train_batch_begin,
        on_train_batch_end: functions called at those stages (None for nothing).
        **kwargs: functions for any other hook of `Callback`, by hook name, e.g.
            `on_test_end=...`.

    >>> losses = []
    >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_HOOKS))
        if unknown:
            raise ValueError(f"Unknown hook names for LambdaCallback: {unknown}. "
                             f"Allowed hooks are: {', '.join(_HOOKS)}.")
        functions = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                         on_train_begin=on_train_begin, on_train_end=on_train_end,
                         on_train_batch_begin=on_train_batch_begin,
                         on_train_batch_end=on_train_batch_end, **kwargs)
        for hook, function in functions.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"Expected {hook} to be a function. Received: {hook}={function!r}")
            setattr(self, hook, function)
