"""`ModelCheckpoint`: saves the model or its weights during training."""

from __future__ import annotations

import os

from ..training.progress import write_line
from .callback import BatchCounter
from .monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves the model (`model.save`) or its weights (`model.save_weights`) as training goes.

    `filepath` may hold format fields filled with the epoch (counted from 1), the batch (from 1,
    when saving every few batches) and the logged values:
    `"w.{epoch:02d}-{val_loss:.2f}.weights.h5"` gives `w.03-0.41.weights.h5`. Without fields,
    each save overwrites the file.

    Args:
        filepath: where to save; it must end in `.keras` (or `.h5`) for the whole model and in
            `.weights.h5` when `save_weights_only=True`.
        monitor: the quantity that decides which save is best, e.g. `"val_loss"`.
        verbose: 0 (silent) or 1 (print a message at each save).
        save_best_only: save only when `monitor` improves on the best value so far.
        save_weights_only: save only the weights, not the whole model.
        mode: `"min"`, `"max"`, or `"auto"` to take it from the compiled metric (see
            `MonitorCallback`).
        save_freq: `"epoch"` to save after each epoch, or an integer to save every that many
            training batches.
        initial_value_threshold: a best value to beat before anything is saved
            (with `save_best_only=True`).

    >>> callback = ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True)
    """

    rank_zero_only = True

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq <= 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected 'epoch' or a "
                             "positive integer (a number of batches).")
        if self.save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the "
                             "filepath provided must end in `.weights.h5` (Keras weights format). "
                             f"Received: filepath={self.filepath}")
        if not self.save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                             f"Received: filepath={self.filepath}")
        self._current_epoch = 0
        self._batches = BatchCounter()
        if save_freq != "epoch":
            # Only then is there work per batch; otherwise the hook stays the no-op default.
            self.on_train_batch_end = self._maybe_save_on_batch

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        # Settled at the first epoch end, as in Keras: a monitor of unknown direction is an
        # error even when every epoch is saved.
        self._settle_direction()
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _maybe_save_on_batch(self, batch, logs=None):
        if self._batches.reached(batch, self.save_freq):
            self._save(self._current_epoch, batch, logs)

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._filepath(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if os.path.isdir(filepath):
            raise IsADirectoryError("Please specify a non-directory filepath for ModelCheckpoint. "
                                    f"Filepath used is an existing directory: {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
        if self.verbose > 0:
            write_line(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _should_save(self, epoch, logs, filepath) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                write_line(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = self._monitor_value(logs, "Saving the best model")
        if current is None:
            return True  # as Keras: without the value, every checkpoint is kept
        current = float(current)
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                write_line(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                           f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            write_line(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _filepath(self, epoch, batch, logs) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            available = ", ".join(sorted(fields))
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: '
                           f"{error} is not logged. Available fields are: {available}.") from None
