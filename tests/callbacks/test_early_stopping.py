"""Expected epochs were produced by driving keras.callbacks.EarlyStopping with the same logs."""

import numpy as np
import pytest

from netknit.callbacks import EarlyStopping


class OneWeightModel:
    def __init__(self):
        self.weights = [np.zeros(1)]
        self.stop_training = False

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def run(values, monitor="val_loss", **kwargs):
    """Trains until stopped; epoch e leaves weight e. Returns (epochs run, callback, weight)."""
    callback = EarlyStopping(monitor=monitor, **kwargs)
    model = OneWeightModel()
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        callback.on_epoch_end(epoch, {monitor: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, callback, float(model.weights[0][0])


def test_stops_after_patience_and_restores_best_weights():
    epochs, callback, weight = run([0.9, 0.8, 0.85, 0.86, 0.87, 0.5], patience=2,
                                   restore_best_weights=True)
    assert (epochs, callback.stopped_epoch, callback.best_epoch, weight) == (4, 3, 1, 1.0)
    assert callback.stop_reason == (
        "`val_loss` did not improve for 2 epochs: best 0.80000 at epoch 2.")


def test_zero_patience_stops_at_the_first_worse_epoch():
    epochs, callback, weight = run([0.9, 0.8, 0.85, 0.86], patience=0)
    assert (epochs, callback.stopped_epoch, weight) == (3, 2, 2.0)


def test_min_delta():
    epochs, callback, _ = run([1.0, 0.99, 0.98, 0.97, 0.96, 0.95], patience=2, min_delta=0.05)
    assert (epochs, callback.stopped_epoch, callback.best_epoch) == (3, 2, 0)


def test_accuracy_is_maximized_in_max_mode():
    epochs, callback, _ = run([0.5, 0.6, 0.7, 0.6, 0.7, 0.8, 0.9], monitor="val_accuracy",
                              patience=1, mode="max")
    assert (epochs, callback.stopped_epoch, callback.best_epoch) == (4, 3, 2)


def test_baseline_not_beaten_keeps_training_while_improving():
    epochs, callback, weight = run([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4], patience=2, baseline=0.5,
                                   restore_best_weights=True)
    assert (epochs, callback.stopped_epoch, weight) == (7, 0, 6.0)


def test_baseline_never_beaten_stops_after_patience():
    epochs, callback, _ = run([1.0, 1.1, 1.2, 1.3], patience=2, baseline=0.5)
    assert (epochs, callback.stopped_epoch) == (2, 1)


def test_start_from_epoch():
    epochs, callback, _ = run([1.0, 1.0, 1.0, 1.0, 0.1, 1.0, 1.0], patience=1, start_from_epoch=3)
    assert (epochs, callback.stopped_epoch, callback.best_epoch) == (6, 5, 4)


def test_reusable_across_fits():
    callback = EarlyStopping(monitor="loss")
    model = OneWeightModel()
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 0.1})
    callback.on_train_begin()
    assert callback.best is None and callback.wait == 0


def test_missing_monitor_warns_with_the_available_metrics():
    callback = EarlyStopping()
    callback.set_model(OneWeightModel())
    callback.on_train_begin()
    with pytest.warns(UserWarning, match=r"`val_loss` which is not available\. "
                                         r"Available metrics are: loss, accuracy\."):
        callback.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})


def test_verbose_messages(capsys):
    run([0.9, 0.8, 0.85, 0.86], patience=1, verbose=1, restore_best_weights=True)
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n")


def test_argument_checks():
    with pytest.raises(ValueError, match="Received: patience=-1"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="Received: mode='minimum'"):
        EarlyStopping(mode="minimum")


def test_a_monitor_of_unknown_direction_is_refused_even_when_it_is_not_logged():
    # Keras settles the direction at the first epoch end, before it looks for the value.
    callback = EarlyStopping(monitor="val_nope")
    callback.set_model(OneWeightModel())
    callback.on_train_begin()
    with pytest.raises(ValueError, match="monitor='val_nope'.*mode='max'"):
        callback.on_epoch_end(0, {"loss": 1.0})
