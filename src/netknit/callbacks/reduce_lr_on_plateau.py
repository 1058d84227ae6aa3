"""`ReduceLROnPlateau`: lowers the learning rate when a monitored metric stops improving."""

from __future__ import annotations

import numpy as np

from ..training.progress import write_line
from .callback import learning_rate_of, learning_rates_of
from .monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` when a metric has stopped improving.

    After `patience` epochs without an improvement larger than `min_delta`, the optimizer's
    learning rate becomes `max(lr * factor, min_lr)`; then `cooldown` epochs pass before epochs
    without improvement are counted again. The current rate is added to the epoch logs as
    `"learning_rate"`.

    Args:
        monitor: the quantity to watch, e.g. `"val_loss"`.
        factor: the factor applied to the learning rate, in [0, 1).
        patience: the number of epochs without improvement before the rate is lowered.
        verbose: 0 (silent) or 1 (print a message when lowering the rate).
        mode: `"min"`, `"max"`, or `"auto"` to take it from the compiled metric (see
            `MonitorCallback`).
        min_delta: the smallest change that counts as an improvement.
        cooldown: the number of epochs to wait after lowering the rate.
        min_lr: the lowest learning rate.

    >>> callback = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=0.001)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0,
                 min_lr: float = 0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if not 0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau needs 0 <= factor < 1.0, since the rate is "
                             f"multiplied by it. Received: factor={factor}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"Expected a non-negative integer for {name}. "
                                 f"Received: {name}={value!r}")
        if min_lr < 0:
            raise ValueError(f"Expected min_lr >= 0. Received: min_lr={min_lr}")
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs.update(learning_rates_of(self.model.optimizer))
        current = self._monitor_value(logs, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        inner = getattr(self.model.optimizer, "optimizers", None)
        # A MultiOptimizer's optimizers are each reduced from their own rate, as in Keras.
        reduced = [self._reduce(optimizer, epoch, optimizer.name if inner else "")
                   for optimizer in inner or [self.model.optimizer]]
        if any(reduced):
            self.cooldown_counter = self.cooldown
            self.wait = 0

    def _reduce(self, optimizer, epoch: int, name: str) -> bool:
        old_lr = learning_rate_of(optimizer)
        if old_lr <= np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            whose = f" {name}" if name else ""
            write_line(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{whose} learning rate "
                       f"to {new_lr}.")
        return True
