"""The README's demo trains the seed architectures on real digits to at least 95% test accuracy."""

import importlib.util
import pathlib

import pytest

pytest.importorskip("sklearn")


def test_demo_reaches_95_percent_on_held_out_digits(capsys):
    path = pathlib.Path(__file__).parents[1] / "examples" / "demo.py"
    spec = importlib.util.spec_from_file_location("demo", path)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    results = demo.main(verbose=2)
    assert results["mlp"] >= 0.95 and results["image_tabular"] >= 0.95
    printed = capsys.readouterr().out
    assert 'Model: "digits_image_tabular"' in printed and "Epoch 40/40" in printed
    assert "\r" not in printed and "\x1b" not in printed
