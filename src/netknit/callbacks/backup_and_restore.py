"""`BackupAndRestore`: resumes an interrupted `fit()` where its last backup left it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

from ..distributed import rank
from ..file_io import atomic_write, write_atomically
from .callback import BatchCounter, Callback

# Keras's file names inside `backup_dir`, and the suffix of the previous backup's copies.
_WEIGHTS = "latest.weights.h5"
_METADATA = "training_metadata.json"
_PREVIOUS = ".bkp"


class BackupAndRestore(Callback):
    """Backs up the training state, and restores it when an interrupted `fit()` is run again.

    At the end of each epoch (or every `save_freq` batches) the model's weights, the optimizer's
    variables and the epoch counter are written to `backup_dir`. When `fit()` starts and a backup
    exists, they are restored and training resumes at the epoch after the backup (an epoch
    interrupted in the middle is run again from its start). The backup is deleted when `fit()`
    completes, unless `delete_checkpoint=False`.

    Files, as Keras writes them, so that either can resume the other's backup:
    `latest.weights.h5` is `model.save_weights`'s file (weights and optimizer variables), and
    `training_metadata.json` is `{"epoch": e, "batch": b}`: the epoch to resume from and, for a
    backup taken within it, the batch just done (0 at an epoch's end). With `double_checkpoint`,
    the previous pair is kept as `latest.weights.h5.bkp` and `training_metadata.json.bkp`.

    Each file is written under a temporary name and renamed into place, so no file is ever left
    half-written. The weights are renamed first: a crash between the two renames leaves the new
    weights with the previous epoch, which is then trained again (as with Keras).

    In a data-parallel run every process restores the backup (so all resume alike; on several
    machines `backup_dir` must be on a shared file system) and only rank 0 writes and deletes it.

    Args:
        backup_dir: a directory for this callback alone (not shared with another run or another
            callback).
        save_freq: `"epoch"` to back up after each epoch, or an integer to back up every that
            many training batches.
        double_checkpoint: also keep the previous backup, and restore it if the latest one
            cannot be read (e.g. its file was damaged after writing); it then replaces the
            latest, as in Keras.
        delete_checkpoint: whether to delete the backup (its files, then `backup_dir` if that
            leaves it empty) when training completes.

    Attributes:
        resume_epoch: after `on_train_begin`, the epoch training resumes from when a backup was
            restored, else None. `fit()` reads it through `CallbackList.initial_epoch_override`.

    >>> callback = BackupAndRestore(backup_dir="/tmp/backup")
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: "
                             f"backup_dir={backup_dir!r}")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq <= 0):
            raise ValueError("Invalid value for argument `save_freq`. "
                             f"Received: save_freq={save_freq!r}. "
                             "Expected either 'epoch' or a positive integer (a number of batches).")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.resume_epoch: int | None = None
        self._weights_path = os.path.join(self.backup_dir, _WEIGHTS)
        self._metadata_path = os.path.join(self.backup_dir, _METADATA)
        self._current_epoch = 0
        self._batches = BatchCounter()
        if save_freq != "epoch":
            # Only then is there work per batch; otherwise the hook stays the no-op default.
            self.on_train_batch_end = self._maybe_save_on_batch

    def on_train_begin(self, logs=None):
        self.resume_epoch = None
        if not (os.path.exists(self._weights_path) or os.path.exists(self._metadata_path)):
            return
        if not getattr(self.model, "built", True):
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             f"before you call `fit()`. Model {self.model.name} is unbuilt. "
                             "You can build it beforehand by calling it on a batch of data.")
        try:
            self.resume_epoch = self._restore(self._weights_path, self._metadata_path)
        except (OSError, ValueError, KeyError, TypeError):  # a damaged or partial backup
            if not os.path.exists(self._weights_path + _PREVIOUS):
                raise
            self.resume_epoch = self._restore_previous()

    def _restore(self, weights_path: str, metadata_path: str) -> int | None:
        """Load the weights (and optimizer variables) of a backup; its epoch, if it has one."""
        if os.path.exists(weights_path):
            self.model.load_weights(weights_path)
        if not os.path.exists(metadata_path):
            return None
        with open(metadata_path) as file:
            return int(json.load(file)["epoch"])

    def _restore_previous(self) -> int | None:
        """Restore the previous backup and make it the latest again (Keras copies it back)."""
        # `load_weights` knows a weights file by its name: each process reads a copy so named
        # (rank 0 alone writes over the latest backup, which the others may be reading).
        with tempfile.TemporaryDirectory(prefix=".", suffix=".tmp", dir=self.backup_dir) as copy:
            weights = os.path.join(copy, _WEIGHTS)
            shutil.copyfile(self._weights_path + _PREVIOUS, weights)
            epoch = self._restore(weights, self._metadata_path + _PREVIOUS)
        if rank() != 0:
            return epoch
        _copy(self._weights_path + _PREVIOUS, self._weights_path)
        if os.path.exists(self._metadata_path + _PREVIOUS):
            _copy(self._metadata_path + _PREVIOUS, self._metadata_path)
        elif os.path.exists(self._metadata_path):
            os.remove(self._metadata_path)
        return epoch

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch=epoch + 1, batch=0)

    def _maybe_save_on_batch(self, batch, logs=None):
        if self._batches.reached(batch, self.save_freq):
            self._save(epoch=self._current_epoch, batch=batch)

    def _save(self, epoch: int, batch: int) -> None:
        if rank() != 0:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    _copy(path, path + _PREVIOUS)
        self.model.save_weights(self._weights_path, overwrite=True)
        with atomic_write(self._metadata_path) as file:
            file.write(json.dumps({"epoch": epoch, "batch": batch}).encode())

    def on_train_end(self, logs=None):
        if not (self.delete_checkpoint and rank() == 0 and os.path.isdir(self.backup_dir)):
            return
        for name in os.listdir(self.backup_dir):
            path = os.path.join(self.backup_dir, name)
            if name in (_WEIGHTS, _METADATA, _WEIGHTS + _PREVIOUS, _METADATA + _PREVIOUS):
                os.remove(path)
            elif name.startswith(".") and name.endswith(".tmp"):  # left by a crashed write
                with contextlib.suppress(OSError):
                    if os.path.isdir(path):
                        shutil.rmtree(path)
                    else:
                        os.remove(path)
        if not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)


def _copy(source: str, target: str) -> None:
    write_atomically(target, lambda path: shutil.copyfile(source, path))
