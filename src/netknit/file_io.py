"""Atomic file writes: a crash or `kill` mid-write leaves the previous file whole.

Every file netknit writes (models, weights, backups, exports, plots) goes through here: the data
is written to a temporary name in the target's directory, synced to disk, then renamed over the
target in one step (`os.replace`), and the directory entry is synced too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_write(filepath: str | os.PathLike):
    """Yield a binary file; on success it replaces `filepath`, on failure it vanishes."""
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    _sync_directory(directory)


def write_atomically(filepath: str | os.PathLike, write) -> None:
    """Run `write(path)` in a temporary folder beside `filepath`, then move its files into place.

    For writers that need a path rather than a file object. They may add files beside the one
    they are given (ONNX puts weights over 2 GB in a `.data` file named after it), so each is
    written under its final name in the temporary folder, and the main file is moved last.
    """
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    name = os.path.basename(filepath)
    staging = tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        write(os.path.join(staging, name))
        for written in os.listdir(staging):  # on disk before they take the final names
            with open(os.path.join(staging, written), "rb") as file:
                os.fsync(file.fileno())
        for extra in sorted(os.listdir(staging)):
            if extra != name:
                os.replace(os.path.join(staging, extra), os.path.join(directory, extra))
        os.replace(os.path.join(staging, name), filepath)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _sync_directory(directory)


def _sync_directory(directory: str) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # directories cannot be opened on some platforms (Windows)
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
