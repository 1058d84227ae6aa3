import json
import os

import numpy as np
import pytest
import torch

from netknit.callbacks import BackupAndRestore, CallbackList
from netknit.callbacks import backup_and_restore as module


def train(model, callback, epochs, initial_epoch=0, stop_after=None):
    """A minimal fit loop; returns the epochs run. `stop_after` simulates a crash."""
    callbacks = CallbackList([callback], model=model, verbose=0, epochs=epochs, steps=2)
    callbacks.on_train_begin()
    start = callbacks.initial_epoch_override or initial_epoch
    ran = []
    for epoch in range(start, epochs):
        callbacks.on_epoch_begin(epoch)
        for batch in range(2):
            model.train_one_step()
            callbacks.on_train_batch_end(batch, {"loss": 1.0})
        ran.append(epoch)
        if stop_after is not None and epoch == stop_after:
            raise RuntimeError("interrupted")
        callbacks.on_epoch_end(epoch, {"loss": 1.0})
    callbacks.on_train_end()
    return ran


def test_round_trip_of_weights_optimizer_and_epoch(new_model, tmp_path, weights_equal):
    backup_dir = tmp_path / "backup"
    first = new_model()
    with pytest.raises(RuntimeError):
        train(first, BackupAndRestore(backup_dir), epochs=5, stop_after=2)
    # The backup is of the end of epoch 1 (epoch 2 crashed before its end): redo it.
    state = json.loads((backup_dir / "training_state.json").read_text())
    assert state["epoch"] == 2 and state["arrays"] == "state-000002.npz"
    assert sorted(os.listdir(backup_dir)) == ["state-000002.npz", "training_state.json"]

    second = new_model()
    callback = BackupAndRestore(backup_dir, delete_checkpoint=False)
    callback.set_model(second)
    callback.on_train_begin()
    assert callback.resume_epoch == 2
    with np.load(backup_dir / "state-000002.npz", allow_pickle=False) as saved:
        assert weights_equal(second.get_weights(), [saved["weights/0"], saved["weights/1"]])
    assert second.optimizer.iterations == 4
    adam_state = second.optimizer._torch.state_dict()
    assert adam_state["state"][0]["exp_avg"].shape == (2, 3)
    assert adam_state["param_groups"][0]["betas"] == (0.9, 0.999)


def test_resumed_training_runs_the_remaining_epochs_and_cleans_up(new_model, tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        train(new_model(), BackupAndRestore(backup_dir), epochs=5, stop_after=3)
    assert train(new_model(), BackupAndRestore(backup_dir), epochs=5) == [3, 4]
    assert not backup_dir.exists()
    assert train(new_model(), BackupAndRestore(backup_dir), epochs=2) == [0, 1]


def test_a_crash_while_writing_arrays_keeps_the_previous_backup(new_model, tmp_path, monkeypatch,
                                                              weights_equal):
    backup_dir = tmp_path / "backup"
    model = new_model()
    callback = BackupAndRestore(backup_dir)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0)
    saved_weights = model.get_weights()
    model.train_one_step()

    def crash_midway(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(module.np, "savez", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        callback.on_epoch_end(1)
    monkeypatch.undo()
    assert sorted(os.listdir(backup_dir)) == ["state-000001.npz", "training_state.json"]

    restored = new_model()
    callback = BackupAndRestore(backup_dir)
    callback.set_model(restored)
    callback.on_train_begin()
    assert callback.resume_epoch == 1
    assert weights_equal(restored.get_weights(), saved_weights)


def test_a_crash_before_the_record_is_renamed_keeps_the_previous_backup(new_model, tmp_path,
                                                                        monkeypatch):
    backup_dir = tmp_path / "backup"
    model = new_model()
    callback = BackupAndRestore(backup_dir)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0)
    real_replace = os.replace

    def crash_on_record(source, target):
        if str(target).endswith(".json"):
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(module.os, "replace", crash_on_record)
    with pytest.raises(KeyboardInterrupt):
        callback.on_epoch_end(1)
    monkeypatch.undo()
    restored = BackupAndRestore(backup_dir)
    restored.set_model(new_model())
    restored.on_train_begin()
    assert restored.resume_epoch == 1


def test_double_checkpoint_falls_back_to_the_previous_backup(new_model, tmp_path):
    backup_dir = tmp_path / "backup"
    model = new_model()
    callback = BackupAndRestore(backup_dir, double_checkpoint=True)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0)
    callback.on_epoch_end(1)
    assert sorted(os.listdir(backup_dir)) == ["state-000001.npz", "state-000002.npz",
                                              "training_state.json"]
    (backup_dir / "state-000002.npz").write_bytes(b"damaged")
    restored = BackupAndRestore(backup_dir, double_checkpoint=True)
    restored.set_model(new_model())
    restored.on_train_begin()
    assert restored.resume_epoch == 1


def test_every_few_batches(new_model, tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        train(new_model(), BackupAndRestore(backup_dir, save_freq=3), epochs=3, stop_after=1)
    state = json.loads((backup_dir / "training_state.json").read_text())
    assert (state["epoch"], state["batch"]) == (1, 0)


def test_optimizer_state_encoding_without_pickle():
    state = {"step": torch.tensor(3.0), "nested": [{0: torch.ones(2, dtype=torch.bfloat16)}],
             "betas": (0.9, 0.999), "flag": None, "count": 7}
    arrays = {}
    encoded = module._encode(state, arrays, "state")
    json.dumps(encoded)
    decoded = module._decode(json.loads(json.dumps(encoded)), arrays, "cpu")
    assert decoded["betas"] == (0.9, 0.999) and decoded["count"] == 7 and decoded["flag"] is None
    assert decoded["nested"][0][0].dtype == torch.bfloat16
    assert torch.equal(decoded["step"], torch.tensor(3.0))
    with pytest.raises(TypeError, match=r"state\['bad'\] is a object"):
        module._encode({"bad": object()}, {}, "state")


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="Received: save_freq='batch'"):
        BackupAndRestore(tmp_path, save_freq="batch")
