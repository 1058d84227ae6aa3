"""`BackupAndRestore`: resumes an interrupted `fit()` where its last backup left it."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import torch

from ..distributed import rank
from ..file_io import atomic_write
from .callback import BatchCounter, Callback

_STATE_FILE = "training_state.json"
_FORMAT = "netknit.BackupAndRestore/1"


def _encode(value, arrays: dict, where: str):
    """A JSON-ready copy of `value` whose tensors are moved into `arrays` (no pickling)."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        tensor = torch.as_tensor(value).detach().cpu()
        try:
            array = tensor.numpy()
        except TypeError:  # bfloat16 and the like have no NumPy dtype: stored as float32
            array = tensor.float().numpy()
        key = f"optimizer/{len(arrays)}"  # unique: the count of arrays so far
        arrays[key] = array
        return {"__array__": key, "dtype": str(tensor.dtype).removeprefix("torch.")}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, arrays, where), _encode(v, arrays, f"{where}[{k!r}]")]
                             for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"BackupAndRestore can save tensors, numbers, strings and containers of them; "
                    f"{where} is a {type(value).__name__}: {value!r}")


def _decode(value, arrays, device):
    if isinstance(value, list):
        return [_decode(v, arrays, device) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        dtype = getattr(torch, value["dtype"])
        return torch.from_numpy(arrays[value["__array__"]]).to(device=device, dtype=dtype)
    if "__tuple__" in value:
        return tuple(_decode(v, arrays, device) for v in value["__tuple__"])
    return {_decode(k, arrays, device): _decode(v, arrays, device) for k, v in value["__dict__"]}


class BackupAndRestore(Callback):
    """Backs up the training state, and restores it when an interrupted `fit()` is run again.

    At the end of each epoch (or every `save_freq` batches) the model's weights, the optimizer's
    state and the epoch counter are written to `backup_dir`. When `fit()` starts and a backup
    exists, they are restored and training resumes at the epoch after the backup (an epoch
    interrupted in the middle is run again from its start). The backup is deleted when `fit()`
    completes.

    Files: the arrays go to `state-<n>.npz` (read back with `allow_pickle=False`), the rest to
    `training_state.json`. Each file is written to a temporary file and renamed into place, and
    the JSON file, renamed last, names the arrays it goes with: a crash while backing up leaves
    the previous backup whole.

    In a data-parallel run every process restores the backup (so all resume alike; on several
    machines `backup_dir` must be on a shared file system) and only rank 0 writes and deletes it.

    Args:
        backup_dir: a directory for this callback alone (not shared with another run or another
            callback).
        save_freq: `"epoch"` to back up after each epoch, or an integer to back up every that
            many training batches.
        double_checkpoint: also keep the previous backup, and restore it if the latest one
            cannot be read (e.g. its file was damaged after writing).
        delete_checkpoint: whether to delete the backup when training completes.

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
        self._state_path = os.path.join(self.backup_dir, _STATE_FILE)
        self._record: dict | None = None  # the latest backup's JSON record
        self._current_epoch = 0
        self._batches = BatchCounter()
        if save_freq != "epoch":
            # Only then is there work per batch; otherwise the hook stays the no-op default.
            self.on_train_batch_end = self._maybe_save_on_batch

    def on_train_begin(self, logs=None):
        self.resume_epoch = None
        self._record = None
        if not os.path.exists(self._state_path):
            return
        if not getattr(self.model, "built", True):
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             f"before you call `fit()`. Model {self.model.name} is unbuilt. "
                             "You can build it beforehand by calling it on a batch of data.")
        with open(self._state_path) as file:
            record = json.load(file)
        if record.get("format") != _FORMAT:
            raise ValueError(f"{self._state_path} is not a backup written by BackupAndRestore. "
                             "Pass a backup_dir used by nothing else.")
        try:
            self._restore(record)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            previous = record.get("previous")
            if previous is None:
                raise
            self._restore(previous)
            record = previous
        self._record = record
        self.resume_epoch = record["epoch"]

    def _restore(self, record):
        path = os.path.join(self.backup_dir, record["arrays"])
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        weights = [arrays[f"weights/{i}"] for i in range(record["num_weights"])]
        optimizer = getattr(self.model, "optimizer", None)
        optimizer_state = None
        if record["optimizer"] is not None and optimizer is not None:
            parameter = next(iter(self.model.parameters()), None)
            device = parameter.device if parameter is not None else "cpu"
            optimizer_state = _decode(record["optimizer"], arrays, device)
        self.model.set_weights(weights)
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch=epoch + 1, batch=0)

    def _maybe_save_on_batch(self, batch, logs=None):
        if self._batches.reached(batch, self.save_freq):
            self._save(epoch=self._current_epoch, batch=batch)

    def _save(self, epoch, batch):
        if rank() != 0:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        generation = 1 if self._record is None else self._record["generation"] + 1
        weights = self.model.get_weights()
        arrays = {f"weights/{i}": np.asarray(w) for i, w in enumerate(weights)}
        optimizer = getattr(self.model, "optimizer", None)
        optimizer_state = None
        if optimizer is not None and hasattr(optimizer, "state_dict"):
            optimizer_state = _encode(optimizer.state_dict(), arrays, "optimizer state")
        record = {"format": _FORMAT, "generation": generation, "epoch": epoch, "batch": batch,
                  "arrays": f"state-{generation:06d}.npz", "num_weights": len(weights),
                  "optimizer": optimizer_state}
        if self.double_checkpoint and self._record is not None:
            record["previous"] = {k: v for k, v in self._record.items() if k != "previous"}
        # 1. The arrays, under a new name: the current backup still points to the old file.
        with atomic_write(os.path.join(self.backup_dir, record["arrays"])) as file:
            np.savez(file, **arrays)
        # 2. The record, which switches to the new arrays in one rename.
        text = json.dumps(record, indent=1).encode()
        with atomic_write(self._state_path) as file:
            file.write(text)
        self._record = record
        # 3. Arrays no backup refers to any more.
        self._remove_files(keep=self._referenced_files())

    def _referenced_files(self) -> set[str]:
        if self._record is None:
            return set()
        files = {_STATE_FILE, self._record["arrays"]}
        if "previous" in self._record:
            files.add(self._record["previous"]["arrays"])
        return files

    def _remove_files(self, keep: set[str]):
        for name in os.listdir(self.backup_dir):
            if name not in keep and (name.startswith(("state-", ".tmp-")) or name == _STATE_FILE):
                os.remove(os.path.join(self.backup_dir, name))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and rank() == 0 and os.path.isdir(self.backup_dir):
            self._remove_files(keep=set())
            self._record = None
            if not os.listdir(self.backup_dir):
                os.rmdir(self.backup_dir)
