import contextlib
import io
import re

from netknit.callbacks import CallbackList
from netknit.training import progress

BAR = "━" * 20


def fit(model, stream, verbose, epochs=2, steps=3, logs_factory=dict):
    with contextlib.redirect_stdout(stream):
        callbacks = CallbackList(add_history=True, add_progbar=True, model=model,
                                 verbose=verbose, epochs=epochs, steps=steps)
        callbacks.on_train_begin()
        for epoch in range(epochs):
            callbacks.on_epoch_begin(epoch)
            batch_logs = logs_factory({"accuracy": 0.5, "loss": 0.6931})
            for batch in range(steps or 3):
                callbacks.on_train_batch_end(batch, batch_logs)
            # Validation inside fit is silent.
            callbacks.on_test_begin()
            callbacks.on_test_batch_end(0, {"accuracy": 0.0, "loss": 9.0})
            callbacks.on_test_end({"accuracy": 0.0, "loss": 9.0})
            callbacks.on_epoch_end(epoch, {"accuracy": 0.53125, "loss": 0.6931,
                                           "val_accuracy": 0.75, "val_loss": 0.5})
        callbacks.on_train_end()
    return stream.getvalue()


def test_verbose_1_into_a_file(model):
    text = fit(model, io.StringIO(), verbose=1)
    assert not any(c in text for c in ("\r", "\b", "\x1b"))
    lines = text.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.fullmatch(rf"3/3 {BAR} 0s \d+(us|ms)/step - accuracy: 0\.5312 - loss: 0\.6931 "
                        r"- val_accuracy: 0\.7500 - val_loss: 0\.5000", lines[1])


def test_verbose_2(model):
    lines = fit(model, io.StringIO(), verbose=2).splitlines()
    assert lines[0] == "Epoch 1/2" and len(lines) == 4
    assert re.fullmatch(r"3/3 - 0s - \d+(us|ms)/step - accuracy: 0\.5312 - loss: 0\.6931 "
                        r"- val_accuracy: 0\.7500 - val_loss: 0\.5000", lines[3])


def test_verbose_1_on_a_terminal(model, terminal, screen):
    text = fit(model, terminal, verbose=1)
    assert "\b" not in text
    lines = screen(text)
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 5
    for line in (lines[1], lines[3]):
        assert re.fullmatch(rf"3/3 {BAR} 0s \d+(us|ms)/step - accuracy: 0\.5312 - loss: 0\.6931 "
                            r"- val_accuracy: 0\.7500 - val_loss: 0\.5000", line)


def test_terminal_reads_batch_logs_at_most_10_times_a_second(model, terminal, counting_logs,
                                                             monkeypatch):
    ticks = iter(range(10_000))
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(ticks) * 0.002)
    made = []

    def factory(values):
        made.append(counting_logs(values))
        return made[-1]

    # 500 steps of 2 ms: about 1 s of training, so about 10 refreshes, 2 values each.
    fit(model, terminal, verbose=1, epochs=1, steps=500, logs_factory=factory)
    assert 16 <= made[0].reads <= 22


def test_one_epoch_has_no_header(model):
    assert not fit(model, io.StringIO(), verbose=1, epochs=1).startswith("Epoch")


def test_unknown_steps_are_counted_in_the_first_epoch(model):
    lines = fit(model, io.StringIO(), verbose=1, steps=None).splitlines()
    assert lines[1].startswith("3/3 ━") and lines[3].startswith("3/3 ━")


def test_batch_logs_are_not_read_between_refreshes(model, counting_logs):
    made = []

    def factory(values):
        made.append(counting_logs(values))
        return made[-1]

    fit(model, io.StringIO(), verbose=1, steps=50, logs_factory=factory)
    assert [logs.reads for logs in made] == [0, 0]


def test_evaluate_and_predict_show_their_own_bar(model):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        callbacks = CallbackList(add_progbar=True, model=model, verbose=2, epochs=1, steps=2)
        callbacks.on_test_begin()
        callbacks.on_test_batch_end(0, {"loss": 1.0})
        callbacks.on_test_batch_end(1, {"loss": 1.0})
        callbacks.on_test_end({"loss": 0.75})
        callbacks.on_predict_begin()
        callbacks.on_predict_batch_end(0, {"outputs": [1.0]})
        callbacks.on_predict_batch_end(1, {"outputs": [1.0]})
        callbacks.on_predict_end()
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"2/2 - 0s - \d+(us|ms)/step - loss: 0\.7500", lines[0])
    assert re.fullmatch(r"2/2 - 0s - \d+(us|ms)/step", lines[1])
