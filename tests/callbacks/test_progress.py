import contextlib
import io
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


def test_terminal_draws_with_rich_and_ends_with_keras_line(terminal, screen):
    text = run_bar(terminal, final_logs={"accuracy": 0.53125, "loss": 0.6931,
                                         "val_accuracy": 0.5, "val_loss": 0.0})
    assert "\b" not in text
    assert "\x1b[1m2/4\x1b[0m \x1b[32m━━━━━━━━━━\x1b[0m\x1b[37m━━━━━━━━━━\x1b[0m" in text
    lines = screen(text)
    assert len(lines) == 2 and lines[1] == ""
    assert re.fullmatch(
        rf"4/4 {BAR} 0s \d+(us|ms)/step - accuracy: 0\.5312 - loss: 0\.6931 "
        r"- val_accuracy: 0\.5000 - val_loss: 0\.0000e\+00", lines[0])


def test_live_line_is_cut_to_the_terminal_width_and_last_line_is_whole(terminal, screen,
                                                                      monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    logs = {"loss": 0.5, "accuracy": 0.5}
    with contextlib.redirect_stdout(terminal):
        bar = Progbar(10, interval=0, stateless_metrics=())
        bar.update(1, logs)
        assert [len(line) for line in screen(terminal.getvalue())] == [40]
        bar.update(10, logs)
    assert screen(terminal.getvalue())[0].endswith(" - loss: 0.5000 - accuracy: 0.5000")


def test_terminal_refreshes_at_most_once_per_interval(terminal, counting_logs, monkeypatch):
    ticks = iter(range(10_000))
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(ticks) * 0.001)  # 1 ms a step
    logs = counting_logs({"loss": 0.5})
    with contextlib.redirect_stdout(terminal):
        bar = Progbar(2000, interval=0.1, stateless_metrics=())
        for step in range(1, 2000):
            bar.update(step, logs)
        bar.update(2000, logs)
    # About 2 s of steps: at most 10 refreshes a second, plus the line that ends the epoch.
    assert 15 <= logs.reads <= 22


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
    text = out.getvalue()
    assert not any(c in text for c in ("\r", "\b", "\x1b"))
    lines = text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("2/3 ━") and lines[1].startswith("3/3 ━")


def test_write_line_prints_above_the_live_bar(terminal, screen):
    with contextlib.redirect_stdout(terminal):
        bar = Progbar(4, interval=0, stateless_metrics=())
        bar.update(1, {"loss": 1.0})
        write_line("Epoch 1: saving model to [best].keras")
        assert screen(terminal.getvalue())[0] == "Epoch 1: saving model to [best].keras"
        assert screen(terminal.getvalue())[1].startswith("1/4 ━")
        bar.update(2, {"loss": 1.0})
        bar.update(4, {"loss": 1.0})
        write_line("after the bar")
    lines = screen(terminal.getvalue())
    assert lines[0] == "Epoch 1: saving model to [best].keras" and lines[1].startswith("4/4 ━")
    assert lines[2:] == ["after the bar", ""]


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
