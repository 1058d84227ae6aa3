"""Callbacks and the progress bar against real Keras 3, live: the same logs drive both.

Skipped when Keras is not installed.
"""

import contextlib
import io
import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from netknit import callbacks  # noqa: E402
from netknit.training.progress import Progbar  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")


class Optimizer:
    learning_rate = 0.1


class Model:
    """Just what the callbacks touch; epoch e leaves the weight e."""

    def __init__(self):
        self.weights = [np.zeros(1)]
        self.stop_training = False
        self.optimizer = Optimizer()
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]

    def save(self, path, overwrite=True):
        self.saved.append(os.path.basename(path))


def drive(callback, values, monitor):
    """Runs epochs until stopped; returns what the run left behind."""
    model = Model()
    callback.set_model(model)
    callback.on_train_begin({})
    rates, epochs = [], 0
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, {monitor: value, "loss": 1.0})
        rates.append(model.optimizer.learning_rate)
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return epochs, float(model.weights[0][0]), rates, model.saved


SEQUENCES = [np.random.default_rng(seed).normal(1.0, 0.1, 12).round(3).tolist()
             for seed in range(6)]
SEQUENCES.append([1.0, 0.9, 0.9, 0.9, 0.85, 0.9, 0.9, 0.95, 0.5, 0.5, 0.5, 0.5])


@pytest.mark.parametrize("values", SEQUENCES)
@pytest.mark.parametrize("kwargs", [
    {"patience": 0}, {"patience": 2, "restore_best_weights": True},
    {"patience": 1, "min_delta": 0.05}, {"patience": 3, "baseline": 0.8},
    {"patience": 1, "start_from_epoch": 4, "restore_best_weights": True},
    {"patience": 2, "mode": "max", "monitor": "val_accuracy"},
])
def test_early_stopping(values, kwargs):
    monitor = kwargs.get("monitor", "val_loss")
    ours = drive(callbacks.EarlyStopping(**kwargs), values, monitor)
    theirs = drive(keras.callbacks.EarlyStopping(**kwargs), values, monitor)
    assert ours == theirs


@pytest.mark.parametrize("values", SEQUENCES)
@pytest.mark.parametrize("kwargs", [
    {"patience": 1}, {"patience": 2, "cooldown": 1, "factor": 0.5},
    {"patience": 0, "min_lr": 0.01, "factor": 0.3}, {"patience": 1, "min_delta": 0.1},
])
def test_reduce_lr_on_plateau(values, kwargs):
    ours = drive(callbacks.ReduceLROnPlateau(**kwargs), values, "val_loss")
    theirs = drive(keras.callbacks.ReduceLROnPlateau(**kwargs), values, "val_loss")
    assert ours[2] == pytest.approx(theirs[2])


@pytest.mark.parametrize("values", SEQUENCES)
@pytest.mark.parametrize("kwargs", [{}, {"save_best_only": True},
                                    {"save_best_only": True, "initial_value_threshold": 0.95}])
def test_model_checkpoint_names_and_choices(values, kwargs):
    path = "m.{epoch:02d}-{val_loss:.2f}.keras"
    ours = drive(callbacks.ModelCheckpoint(path, **kwargs), values, "val_loss")
    theirs = drive(keras.callbacks.ModelCheckpoint(path, **kwargs), values, "val_loss")
    assert ours[3] == theirs[3]


def test_csv_logger(tmp_path):
    epochs = [{"loss": 0.7055277228355408, "accuracy": 0.625},
              {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.25, "val_accuracy": 0.5}]
    texts = []
    for module in (callbacks, keras.callbacks):
        path = tmp_path / f"{module.__name__}.csv"
        callback = module.CSVLogger(str(path))
        callback.set_model(Model())
        callback.on_train_begin({})
        for epoch, logs in enumerate(epochs):
            callback.on_epoch_end(epoch, dict(logs))
        callback.on_train_end({})
        texts.append(path.read_text())
    assert texts[0] == texts[1]


def plain(text):
    text = re.sub(r"\x1b\[\d+m|\x08|\r", "", text)
    return re.sub(r"\d+(us|ms|s)/step", "T/step", text)


@pytest.mark.parametrize("verbose", [1, 2])
def test_final_progbar_line(verbose):
    logs = {"accuracy": 0.53125, "loss": 0.6931, "val_accuracy": 0.0004, "val_loss": -0.25}
    lines = []
    for bar_class in (Progbar, keras.utils.Progbar):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            bar = bar_class(32, verbose=verbose, stateless_metrics=())
            bar.update(32, list(logs.items()), finalize=True)
        lines.append(plain(out.getvalue()).strip())
    if verbose == 2:
        # Keras writes tiny negative values in scientific notation (it tests `avg > 1e-3`
        # instead of `abs(avg) > 1e-3` on this line only); we format both lines alike.
        lines[1] = lines[1].replace("-2.5000e-01", "-0.2500")
    assert lines[0] == lines[1]
