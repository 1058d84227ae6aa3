"""Callbacks inside fit: EarlyStopping on a plateau, BackupAndRestore after a crash."""

import numpy as np
import pytest

import netknit as keras
from netknit import callbacks, layers


def _model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, layers.Dense(1)(layers.Dense(4, activation="tanh")(inputs)))


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32"))


def test_early_stopping_stops_on_a_plateau_and_restores_best_weights():
    x, y = _data()
    model = _model()
    # A learning rate of zero: the loss never improves after the first epoch.
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[stopper], shuffle=False)
    assert len(history.history["loss"]) == 3
    assert stopper.stopped_epoch == 2


class Crash(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("killed")


def test_backup_and_restore_resume_equals_an_uninterrupted_run(tmp_path):
    x, y = _data()
    initial = _model().get_weights()

    def fresh():
        model = _model()
        model.set_weights(initial)
        model.compile(optimizer="adam", loss="mse")
        return model

    uninterrupted = fresh()
    uninterrupted.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0)

    interrupted = fresh()
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                        callbacks=[backup, Crash(at_epoch=2)])
    resumed = fresh()  # a new process would start from scratch like this
    history = resumed.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(str(tmp_path / "backup"))])
    assert history.epoch == [2, 3]
    for got, want in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
