"""Expected rates were produced by driving keras.callbacks.ReduceLROnPlateau with the same logs."""

import pytest

from netknit.callbacks import ReduceLROnPlateau


def run(model, values, **kwargs):
    model.optimizer.learning_rate = 0.1
    callback = ReduceLROnPlateau(monitor="val_loss", **kwargs)
    callback.set_model(model)
    callback.on_train_begin()
    rates, logged = [], []
    for epoch, value in enumerate(values):
        logs = {"val_loss": value}
        callback.on_epoch_end(epoch, logs)
        rates.append(model.optimizer.learning_rate)
        logged.append(logs["learning_rate"])
    return rates, logged


def test_lowers_the_rate_after_patience(model):
    rates, logged = run(model, [1] * 7, patience=2)
    assert rates == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.0001])
    assert logged == pytest.approx([0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_cooldown_and_min_lr(model):
    rates, _ = run(model, [1] * 9, patience=1, cooldown=2, factor=0.5, min_lr=0.02)
    assert rates == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02])


def test_changes_smaller_than_min_delta_are_no_improvement(model):
    rates, _ = run(model, [1, 0.99995, 0.9999, 0.5, 0.5, 0.5], patience=1)
    assert rates == pytest.approx([0.1, 0.01, 0.001, 0.001, 1e-4, 1e-5])


def test_verbose_message(model, capsys):
    run(model, [1, 1], patience=1, verbose=1)
    # Keras reads the rate back from its float32 variable (0.1 -> 0.10000000149011612) and
    # starts the message with an empty line.
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.010000000149011612.\n")


def test_missing_monitor_warns(model):
    callback = ReduceLROnPlateau()
    callback.set_model(model)
    with pytest.warns(UserWarning, match="Available metrics are: loss, learning_rate"):
        callback.on_epoch_end(0, {"loss": 1.0})


def test_argument_checks():
    with pytest.raises(ValueError, match="factor=1.0"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="Received: cooldown=-1"):
        ReduceLROnPlateau(cooldown=-1)
