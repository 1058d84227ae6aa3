"""`EarlyStopping`: stops training when a monitored metric stops improving."""

from __future__ import annotations

from ..training.progress import write_line
from .monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops training when a monitored metric has stopped improving.

    At the end of each epoch the monitored value is compared with the best so far; after
    `patience` epochs without an improvement larger than `min_delta`, `model.stop_training` is
    set and `stop_reason` says why in words.

    Args:
        monitor: the quantity to watch, e.g. `"val_loss"` or `"val_accuracy"`.
        min_delta: the smallest change that counts as an improvement.
        patience: the number of epochs without improvement after which training stops.
        verbose: 0 (silent) or 1 (print a message when stopping and restoring).
        mode: `"min"`, `"max"`, or `"auto"` to take it from the compiled metric (see
            `MonitorCallback`).
        baseline: a value to beat: until it is beaten, `patience` epochs are counted from the
            start of training.
        restore_best_weights: whether to restore the weights of the best epoch at the end of
            training (even if no epoch beat `baseline`).
        start_from_epoch: the number of warm-up epochs during which nothing is monitored.

    >>> callback = EarlyStopping(monitor="loss", patience=3)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"Expected a non-negative integer for patience. "
                             f"Received: patience={patience!r}")
        if not isinstance(start_from_epoch, int) or start_from_epoch < 0:
            raise ValueError(f"Expected a non-negative integer for start_from_epoch. "
                             f"Received: start_from_epoch={start_from_epoch!r}")
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0
        self.stop_reason: str | None = None

    def on_train_begin(self, logs=None):
        self._reset()  # a callback may serve several fit() calls

    def on_epoch_end(self, epoch, logs=None):
        current = self._monitor_value(logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Patience restarts only once the baseline is beaten too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.stop_reason = (
                f"`{self.monitor}` did not improve for {self.wait} epochs: best "
                f"{self.best:.5f} at epoch {self.best_epoch + 1}"
                + ("" if self.baseline is None else f", baseline {self.baseline}") + ".")
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            write_line(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                write_line("Restoring model weights from the end of the best epoch: "
                           f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
