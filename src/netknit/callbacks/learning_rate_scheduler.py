"""`LearningRateScheduler`: sets the learning rate at the start of each epoch."""

from __future__ import annotations

import inspect
import numbers

from ..training.progress import write_line
from .callback import Callback, learning_rate_of, learning_rates_of


def _takes_two_arguments(function) -> bool:
    try:
        inspect.signature(function).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): use the current form
        return True
    return True


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate to `schedule(epoch, lr)` at the start of each epoch.

    The rate in use is added to the epoch logs as `"learning_rate"`.

    Args:
        schedule: a function of the epoch index (from 0) and the current learning rate that
            returns the new learning rate. A function of the epoch alone is accepted too.
        verbose: 0 (silent) or 1 (print the rate set at each epoch).

    >>> def schedule(epoch, lr):
    ...     return lr if epoch < 10 else lr * 0.9
    >>> callback = LearningRateScheduler(schedule)
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"Expected schedule to be a function (epoch, lr) -> lr. "
                            f"Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._with_lr = _takes_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        inner = getattr(self.model.optimizer, "optimizers", None)
        # A MultiOptimizer's optimizers each follow the schedule from their own rate, as Keras.
        for optimizer in inner or [self.model.optimizer]:
            learning_rate = self._set_rate(optimizer, epoch)
            if self.verbose > 0:
                whose = f"{optimizer.name} " if inner else ""
                write_line(f"\nEpoch {epoch + 1}: LearningRateScheduler setting {whose}"
                           f"learning rate to {learning_rate}.")

    def _set_rate(self, optimizer, epoch: int):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        if self._with_lr:
            learning_rate = self.schedule(epoch, learning_rate_of(optimizer))
        else:
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool):
            message = ("The output of the `schedule` function should be a float. "
                       f"Got: {learning_rate!r}")
            raise ValueError(message)  # noqa: TRY004 (Keras raises ValueError)
        optimizer.learning_rate = float(learning_rate)
        return learning_rate

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(learning_rates_of(self.model.optimizer))
