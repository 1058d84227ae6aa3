import numpy as np
import pytest

from netknit.callbacks import CSVLogger


def run(model, callback, epochs):
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, logs in enumerate(epochs):
        callback.on_epoch_end(epoch, logs)
    callback.on_train_end()


def test_rows_like_keras(model, tmp_path):
    path = tmp_path / "log.csv"
    run(model, CSVLogger(path), [
        {"loss": 0.7055277228355408, "accuracy": 0.625, "val_loss": 0.5, "val_accuracy": 0.5},
        {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.25, "val_accuracy": 0.5},
    ])
    assert path.read_text() == ("epoch,accuracy,loss,val_accuracy,val_loss\n"
                                "0,0.625,0.7055277228355408,0.5,0.5\n"
                                "1,0.75,0.5,0.5,0.25\n")


def test_val_columns_are_kept_for_later_epochs(model, tmp_path):
    path = tmp_path / "log.csv"
    run(model, CSVLogger(path, separator=";"), [{"loss": 1.0}, {"loss": 0.5, "val_loss": 0.75}])
    assert path.read_text() == "epoch;loss;val_loss\n0;1.0;NA\n1;0.5;0.75\n"


def test_append_writes_the_header_once(model, tmp_path):
    path = tmp_path / "log.csv"
    run(model, CSVLogger(path, append=True), [{"loss": 1.0}])
    run(model, CSVLogger(path, append=True), [{"loss": 0.5}])
    assert path.read_text() == "epoch,loss,val_loss\n0,1.0,NA\n0,0.5,NA\n"


def test_each_row_is_on_disk_before_the_next_epoch(model, tmp_path):
    path = tmp_path / "log.csv"
    callback = CSVLogger(path)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 1.0, "sizes": np.array([1, 2])})
    # Training has not ended (it may crash now): the row is already complete in the file.
    assert path.read_text() == 'epoch,loss,sizes,val_loss,val_sizes\n0,1.0,"""[1, 2]""",NA,NA\n'
    callback.on_train_end()


def test_separator_check():
    with pytest.raises(ValueError, match="separator='::'"):
        CSVLogger("log.csv", separator="::")
