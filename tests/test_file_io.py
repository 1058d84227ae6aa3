"""Atomic writes: the previous file survives a crash mid-write, and no temporary file is left."""

import os

import pytest

from netknit.file_io import atomic_write, write_atomically


def test_atomic_write_replaces_on_success_and_keeps_the_old_file_on_a_crash(tmp_path):
    path = tmp_path / "state.bin"
    with atomic_write(path) as file:
        file.write(b"first")
    assert path.read_bytes() == b"first"
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path) as file:
            file.write(b"half of the sec")
            raise KeyboardInterrupt
    assert path.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["state.bin"]


def test_write_atomically_moves_companion_files_too(tmp_path):
    def write(target):
        with open(target + ".data", "w") as file:
            file.write("weights")
        with open(target, "w") as file:
            file.write("graph")

    write_atomically(tmp_path / "big.onnx", write)
    assert sorted(os.listdir(tmp_path)) == ["big.onnx", "big.onnx.data"]


def test_write_atomically_leaves_nothing_behind_on_failure(tmp_path):
    (tmp_path / "plot.svg").write_text("old")

    def fail(target):
        with open(target, "w") as file:
            file.write("<svg")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(tmp_path / "plot.svg", fail)
    assert (tmp_path / "plot.svg").read_text() == "old"
    assert os.listdir(tmp_path) == ["plot.svg"]
