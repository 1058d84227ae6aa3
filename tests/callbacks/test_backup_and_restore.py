"""BackupAndRestore: Keras's files in backup_dir, resumes from them (netknit's or Keras's), and
Keras's deletion and double-checkpoint behaviour."""

import json
import os

import numpy as np
import pytest

import netknit as keras
from netknit.callbacks import BackupAndRestore

X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
Y = X[:, :2] * 2.0
INITIAL = [np.full((3, 2), 0.1, "float32"), np.zeros(2, "float32")]


def new_model(lib=keras):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
    model.set_weights(INITIAL)
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss="mse")
    return model


def crash_after(lib, last_epoch):
    """A callback that kills fit at the end of `last_epoch` (after the backup of that epoch)."""
    class Crash(lib.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == last_epoch:
                raise KeyboardInterrupt

    return Crash()


def fit(model, backup, epochs=5, crash=None):
    callbacks = [backup] + ([crash_after(keras, crash)] if crash is not None else [])
    # 4 batches an epoch
    return model.fit(X, Y, batch_size=4, epochs=epochs, shuffle=False, verbose=0,
                     callbacks=callbacks)


def interrupted(backup_dir, crash=1, **kwargs):
    with pytest.raises(KeyboardInterrupt):
        fit(new_model(), BackupAndRestore(backup_dir, **kwargs), crash=crash)


def test_files_are_kerass(tmp_path):
    backup_dir = tmp_path / "backup"
    interrupted(backup_dir, crash=1)
    assert sorted(os.listdir(backup_dir)) == ["latest.weights.h5", "training_metadata.json"]
    assert (backup_dir / "training_metadata.json").read_text() == '{"epoch": 2, "batch": 0}'
    # The weights file is save_weights's: weights and optimizer variables after 2 epochs.
    model = new_model()
    model.load_weights(backup_dir / "latest.weights.h5")
    assert int(model.optimizer.iterations) == 8
    assert not np.array_equal(model.get_weights()[0], INITIAL[0])


def test_resuming_equals_an_uninterrupted_run_and_deletes_the_backup(tmp_path):
    backup_dir = tmp_path / "backup"
    uninterrupted = new_model()
    fit(uninterrupted, BackupAndRestore(tmp_path / "other"))
    interrupted(backup_dir, crash=2)
    resumed = new_model()
    assert fit(resumed, BackupAndRestore(backup_dir)).epoch == [3, 4]
    for a, b in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not backup_dir.exists() and not (tmp_path / "other").exists()


def test_delete_checkpoint_false_keeps_the_last_backup(tmp_path):
    backup_dir = tmp_path / "backup"
    fit(new_model(), BackupAndRestore(backup_dir, delete_checkpoint=False), epochs=3)
    assert (backup_dir / "training_metadata.json").read_text() == '{"epoch": 3, "batch": 0}'
    # A later fit resumes after it: nothing is left to train.
    assert fit(new_model(), BackupAndRestore(backup_dir), epochs=3).epoch == []


def test_deleting_leaves_files_that_are_not_the_backups(tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "notes.txt").write_text("mine")
    fit(new_model(), BackupAndRestore(backup_dir, double_checkpoint=True), epochs=2)
    assert os.listdir(backup_dir) == ["notes.txt"]


def test_every_few_batches(tmp_path):
    backup_dir = tmp_path / "backup"
    interrupted(backup_dir, crash=2, save_freq=3)
    # Saves after 3, 6, 9 and 12 batches: the last is batch 3 of epoch 2, as Keras writes it.
    assert json.loads((backup_dir / "training_metadata.json").read_text()) == \
        {"epoch": 2, "batch": 3}
    assert fit(new_model(), BackupAndRestore(backup_dir, save_freq=3)).epoch == [2, 3, 4]


def test_double_checkpoint_keeps_the_previous_pair_and_falls_back_to_it(tmp_path):
    backup_dir = tmp_path / "backup"
    interrupted(backup_dir, crash=2, double_checkpoint=True)
    assert sorted(os.listdir(backup_dir)) == [
        "latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json",
        "training_metadata.json.bkp"]
    assert (backup_dir / "training_metadata.json.bkp").read_text() == '{"epoch": 2, "batch": 0}'
    previous = (backup_dir / "latest.weights.h5.bkp").read_bytes()
    (backup_dir / "latest.weights.h5").write_bytes(b"damaged")
    callback = BackupAndRestore(backup_dir, double_checkpoint=True)
    callback.set_model(new_model())
    callback.on_train_begin()
    assert callback.resume_epoch == 2
    assert int(callback.model.optimizer.iterations) == 8
    # As in Keras, the previous backup is copied back over the damaged one.
    assert (backup_dir / "latest.weights.h5").read_bytes() == previous
    assert (backup_dir / "training_metadata.json").read_text() == '{"epoch": 2, "batch": 0}'


def test_a_damaged_backup_without_a_previous_one_raises(tmp_path):
    backup_dir = tmp_path / "backup"
    interrupted(backup_dir)
    (backup_dir / "latest.weights.h5").write_bytes(b"damaged")
    with pytest.raises(ValueError, match="latest.weights.h5"):
        fit(new_model(), BackupAndRestore(backup_dir))


def test_a_crash_while_backing_up_keeps_the_previous_backup(tmp_path, monkeypatch):
    backup_dir = tmp_path / "backup"
    model = new_model()
    callback = BackupAndRestore(backup_dir)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0)
    before = {name: (backup_dir / name).read_bytes() for name in os.listdir(backup_dir)}
    model.fit(X, Y, verbose=0)

    def full_disk(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(keras.saving.archive, "write_h5", full_disk)
    with pytest.raises(OSError, match="disk full"):
        callback.on_epoch_end(1)
    assert {name: (backup_dir / name).read_bytes() for name in os.listdir(backup_dir)} == before


@pytest.mark.parametrize("writer", ["keras", "netknit"])
def test_keras_and_netknit_resume_each_others_backups(writer, tmp_path, real_keras):
    backup_dir = str(tmp_path / "backup")
    write, read = (real_keras, keras) if writer == "keras" else (keras, real_keras)
    with pytest.raises(KeyboardInterrupt):
        new_model(write).fit(X, Y, batch_size=4, epochs=4, shuffle=False, verbose=0,
                             callbacks=[write.callbacks.BackupAndRestore(backup_dir),
                                        crash_after(write, 1)])
    resumed = new_model(read)
    history = resumed.fit(X, Y, batch_size=4, epochs=4, shuffle=False, verbose=0,
                          callbacks=[read.callbacks.BackupAndRestore(backup_dir)])
    assert history.epoch == [2, 3]
    uninterrupted = new_model(real_keras)
    uninterrupted.fit(X, Y, batch_size=4, epochs=4, shuffle=False, verbose=0)
    for a, b in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not os.path.exists(backup_dir)


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="Received: save_freq='batch'"):
        BackupAndRestore(tmp_path, save_freq="batch")
