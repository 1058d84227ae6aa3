import os

import pytest

from netknit.callbacks import ModelCheckpoint


def run(model, callback, values):
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": value + 0.5, "val_loss": value})


def test_file_names_from_the_template(model, tmp_path):
    template = str(tmp_path / "w.{epoch:02d}-{val_loss:.2f}.weights.h5")
    run(model, ModelCheckpoint(template, save_weights_only=True), [0.5, 0.4])
    assert sorted(os.listdir(tmp_path)) == ["w.01-0.50.weights.h5", "w.02-0.40.weights.h5"]
    assert (tmp_path / "w.01-0.50.weights.h5").read_text() == "weights"


def test_whole_model_by_default(model, tmp_path):
    run(model, ModelCheckpoint(str(tmp_path / "sub" / "model.keras")), [0.5, 0.4])
    assert model.saved == [str(tmp_path / "sub" / "model.keras")] * 2
    assert (tmp_path / "sub" / "model.keras").read_text() == "model"


def test_save_best_only_keeps_improvements(model, tmp_path):
    template = str(tmp_path / "m{epoch}.keras")
    run(model, ModelCheckpoint(template, save_best_only=True), [0.5, 0.6, 0.4, 0.4, 0.3])
    assert sorted(os.listdir(tmp_path)) == ["m1.keras", "m3.keras", "m5.keras"]


def test_initial_value_threshold_and_max_mode(model, tmp_path):
    callback = ModelCheckpoint(str(tmp_path / "m{epoch}.keras"), monitor="val_accuracy",
                               save_best_only=True, initial_value_threshold=0.6, mode="max")
    callback.set_model(model)
    for epoch, accuracy in enumerate([0.5, 0.7, 0.65, 0.8]):
        callback.on_epoch_end(epoch, {"val_accuracy": accuracy})
    assert sorted(os.listdir(tmp_path)) == ["m2.keras", "m4.keras"]


def test_verbose_messages(model, tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    run(model, ModelCheckpoint(path, save_best_only=True, verbose=1), [0.5, 0.6])
    assert capsys.readouterr().out == (
        f"\nEpoch 1: val_loss improved from None to 0.50000, saving model to {path}\n"
        f"\nEpoch 1: finished saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 0.50000\n")


def test_every_few_batches(model, tmp_path):
    callback = ModelCheckpoint(str(tmp_path / "e{epoch}b{batch}.keras"), save_freq=3)
    callback.set_model(model)
    for epoch in range(2):
        callback.on_epoch_begin(epoch)
        for batch in range(4):
            callback.on_train_batch_end(batch, {"loss": 1.0})
        callback.on_epoch_end(epoch, {"loss": 1.0})
    # Batches are counted across epochs, as Keras does: the 3rd and the 6th batch.
    assert sorted(os.listdir(tmp_path)) == ["e1b3.keras", "e2b2.keras"]


def test_missing_monitor_saves_with_a_warning(model, tmp_path):
    callback = ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)
    callback.set_model(model)
    with pytest.warns(UserWarning, match="Available metrics are: loss"):
        callback.on_epoch_end(0, {"loss": 1.0})
    assert os.listdir(tmp_path) == ["m.keras"]


def test_unknown_template_field(model, tmp_path):
    callback = ModelCheckpoint(str(tmp_path / "{val_acc}.keras"))
    callback.set_model(model)
    with pytest.raises(KeyError, match="Available fields are: epoch, loss"):
        callback.on_epoch_end(0, {"loss": 1.0})


def test_filepath_suffixes():
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        ModelCheckpoint("w.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        ModelCheckpoint("w.weights.pt")
    ModelCheckpoint("legacy.h5")
    with pytest.raises(ValueError, match="Unrecognized save_freq: 'batch'"):
        ModelCheckpoint("m.keras", save_freq="batch")
