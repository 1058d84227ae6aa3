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


def write_directory_atomically(dirpath: str | os.PathLike, files: dict[str, bytes],
                               folders: tuple[str, ...] = (), replaceable=frozenset()) -> None:
    """Make `dirpath` a directory holding exactly `files` (name: contents) and the empty
    `folders`, all or nothing.

    The directory is written in full under a temporary name beside `dirpath` and renamed into
    place. An existing `dirpath` is replaced only if it holds nothing but names in `replaceable`
    (an earlier save of the same kind): it is renamed aside, the new one renamed in, and the old
    one deleted, so a crash leaves either directory whole (a crash in the instant between the two
    renames, the old one under its temporary name, `.<name>.<random>.tmp.old`).
    """
    dirpath = os.path.abspath(os.fspath(dirpath))
    parent, name = os.path.split(dirpath)
    if os.path.lexists(dirpath):
        if not os.path.isdir(dirpath) or os.path.islink(dirpath):
            raise FileExistsError(f"{dirpath} exists and is not a directory; choose another path "
                                  "or remove it first.")
        others = sorted(set(os.listdir(dirpath)) - set(replaceable))
        if others:
            raise FileExistsError(
                f"{dirpath} holds other files than a saved model ({', '.join(others[:5])}), which "
                "replacing it would delete. Save to a new or empty directory, or remove them.")
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent)
    try:
        for member, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(staging, member)), exist_ok=True)
            with open(os.path.join(staging, member), "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        for folder in folders:
            os.makedirs(os.path.join(staging, folder), exist_ok=True)
        _sync_directory(staging)
        if os.path.isdir(dirpath):
            old = f"{staging}.old"  # unique, as the staging folder's name is
            os.rename(dirpath, old)
            try:
                os.rename(staging, dirpath)
            except BaseException:
                os.rename(old, dirpath)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, dirpath)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _sync_directory(parent)


def _sync_directory(directory: str) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # directories cannot be opened on some platforms (Windows)
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
