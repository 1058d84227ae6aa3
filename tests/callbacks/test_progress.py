import contextlib
import io
import os
import re

import pytest

from netknit.training import progress
from netknit.training.progress import Progbar, resolve_verbose, write_line

BAR = "━" * 20


def run_bar(stream, target=4, verbose=1, steps=None, final_logs=None, **kwargs):
    with contextlib.redirect_stdout(stream):
        bar = Progbar(target, verbose=verbose, interval=0, stateless_metrics=(), **kwargs)
        for step in range(1, (steps or target)):
            bar.update(step, {"accuracy": 0.5, "loss": 0.7})
        bar.update(steps or target, final_logs or {"accuracy": 0.53125, "loss": 0.6931},
                   finalize=True)
    return stream.getvalue()


def test_file_output_is_plain_lines_with_keras_final_line():
    text = run_bar(io.StringIO(), final_logs={"accuracy": 0.53125, "loss": 0.6931,
                                              "val_accuracy": 0.5, "val_loss": 0.0})
    assert not any(c in text for c in ("\r", "\b", "\x1b"))
    assert re.fullmatch(
        rf"4/4 {BAR} 0s \d+(us|ms)/step - accuracy: 0\.5312 - loss: 0\.6931 "
        r"- val_accuracy: 0\.5000 - val_loss: 0\.0000e\+00\n", text)


def test_verbose_2_prints_one_summary_line():
    text = run_bar(io.StringIO(), verbose=2)
    assert re.fullmatch(r"4/4 - 0s - \d+(us|ms)/step - accuracy: 0\.5312 - loss: 0\.6931\n", text)


def test_verbose_2_on_terminal_has_no_control_characters(terminal):
    text = run_bar(terminal, verbose=2)
    assert not any(c in text for c in ("\r", "\b", "\x1b"))


def test_terminal_redraws_one_line_in_place(terminal):
    text = run_bar(terminal)
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "\b" not in text
    plain = re.sub(r"\x1b\[\d+m", "", text)
    assert "\r2/4 ━━━━━━━━━━━━━━━━━━━━ 0s" in plain
    assert re.search(rf"\r4/4 {BAR} 0s \d+(us|ms)/step - accuracy: 0\.5312 - loss: 0\.6931\n$",
                     plain)


def test_long_line_is_cut_to_the_terminal_width(terminal, monkeypatch):
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda: os.terminal_size((40, 24)))
    with contextlib.redirect_stdout(terminal):
        Progbar(10, interval=0, stateless_metrics=()).update(1, {"loss": 0.5, "accuracy": 0.5})
    drawn = re.sub(r"\x1b\[\d+m", "", terminal.getvalue())
    assert len(drawn.lstrip("\r")) <= 39


def test_values_are_read_only_when_drawing(counting_logs):
    logs = counting_logs({"loss": 0.5, "accuracy": 0.75})
    with contextlib.redirect_stdout(io.StringIO()) as out:
        bar = Progbar(1000, interval=60, stateless_metrics=())
        for step in range(1, 1000):
            bar.update(step, logs)
        assert logs.reads == 0
        bar.update(1000, logs, finalize=True)
    assert logs.reads == 2
    assert out.getvalue().count("\n") == 1


def test_stateless_metrics_are_averaged():
    with contextlib.redirect_stdout(io.StringIO()) as out:
        bar = Progbar(3, verbose=1, interval=0)
        bar.update(1, [("loss", 1.0)])
        bar.update(2, [("loss", 2.0)])
        bar.update(3, [("loss", 3.0)], finalize=False)
        bar.update(3, finalize=True)
    assert out.getvalue().endswith("- loss: 2.0000\n")


def test_unknown_target():
    with contextlib.redirect_stdout(io.StringIO()) as out:
        bar = Progbar(None, verbose=1, interval=0)
        bar.update(5, [("loss", 1.0)])
        bar.update(7, [("loss", 1.0)], finalize=True)
    assert out.getvalue().startswith("      7/Unknown 0s ")


def test_long_epochs_log_a_plain_line_now_and_then(monkeypatch):
    clock = iter([0.0, 1.0, 31.0, 32.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with contextlib.redirect_stdout(io.StringIO()) as out:
        bar = Progbar(3, stateless_metrics=())
        bar.update(1, {"loss": 1.0})
        bar.update(2, {"loss": 1.0})
        bar.update(3, {"loss": 1.0})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("2/3 ━") and lines[1].startswith("3/3 ━")


def test_write_line_clears_the_live_bar(terminal):
    with contextlib.redirect_stdout(terminal):
        bar = Progbar(4, interval=0, stateless_metrics=())
        bar.update(1, {"loss": 1.0})
        write_line("Epoch 1: saving model")
        bar.update(2, {"loss": 1.0})
    first, rest = terminal.getvalue().split("Epoch 1: saving model\n")
    # The bar line was blanked out ("\r", spaces, "\r") before the message, and redrawn after.
    assert re.search(r"\r {20,}\r$", first)
    assert rest.startswith("\r")


def test_resolve_verbose(terminal):
    assert resolve_verbose("auto", terminal) == 1
    assert resolve_verbose("auto", io.StringIO()) == 2
    assert resolve_verbose(0) == 0
    with pytest.raises(ValueError, match="Received: verbose=3"):
        resolve_verbose(3)


def test_argument_checks():
    with pytest.raises(ValueError, match="not both"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])
    with pytest.raises(ValueError, match="target=-1"):
        Progbar(-1)
