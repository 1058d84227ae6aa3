"""`CSVLogger`: streams the epoch results to a CSV file."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

import numpy as np

from .callback import Callback


def _cell(value):
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Writes one CSV row per epoch: the epoch index (from 0) and the sorted log keys.

    Each row is written whole, flushed and synced to disk before the next epoch, so a crash
    never leaves a partial row. When the first epoch has no validation results, `val_` columns
    are added for the later epochs that may have them; a missing value is written `NA`.

    Args:
        filename: the path of the CSV file, e.g. `"run/log.csv"`.
        separator: the string between the cells of a row.
        append: True to append to an existing file (continuing a run), False to overwrite it.

    >>> callback = CSVLogger("training.log")
    """

    rank_zero_only = True

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"Expected separator to be one character. "
                             f"Received: separator={separator!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self.csv_file = None
        self._write_header = True

    def on_train_begin(self, logs=None):
        self._close()
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as existing:
                self._write_header = not existing.readline()
        else:
            self._write_header = True
        # Kept open from on_train_begin to on_train_end, one row written per epoch.
        mode = "a" if self.append else "w"
        self.csv_file = open(self.filename, mode, newline="")  # noqa: SIM115
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
            if self._write_header:
                self._write_row(["epoch", *self.keys])
        self._write_row([epoch, *(_cell(logs.get(key, "NA")) for key in self.keys)])

    def _write_row(self, cells):
        line = io.StringIO()
        csv.writer(line, delimiter=self.sep, lineterminator="\n").writerow(cells)
        self.csv_file.write(line.getvalue())
        self.csv_file.flush()
        os.fsync(self.csv_file.fileno())

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
