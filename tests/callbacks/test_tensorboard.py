import sys
from typing import ClassVar

import numpy as np
import pytest

from netknit.callbacks import CallbackList
from netknit.callbacks import tensorboard as module


class FakeWriter:
    """Records what would go to an event file."""

    written: ClassVar[list] = []

    def __init__(self, log_dir):
        self.log_dir = log_dir

    def add_scalar(self, tag, value, step):
        self.written.append((self.log_dir, tag, value, step))

    def add_histogram(self, tag, values, step):
        self.written.append((self.log_dir, tag, tuple(values.shape), step))

    def add_text(self, tag, text, step):
        self.written.append((self.log_dir, tag, text, step))

    def flush(self):
        pass

    def close(self):
        pass


@pytest.fixture
def writer(monkeypatch):
    FakeWriter.written = []
    monkeypatch.setattr(module, "_summary_writer_class", lambda: FakeWriter)
    return FakeWriter


def test_epoch_metrics_go_to_train_and_validation(model, writer, tmp_path):
    callbacks = CallbackList([module.TensorBoard(tmp_path, histogram_freq=1)], model=model)
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    callbacks.on_train_batch_end(0, {"loss": 1.0})
    callbacks.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
    callbacks.on_train_end()
    train, validation = str(tmp_path / "train"), str(tmp_path / "validation")
    # Keras logs the float32 variable's value: 0.01 reads as 0.009999999776482582.
    assert writer.written[:3] == [(train, "epoch_loss", 0.5, 0),
                                  (train, "epoch_learning_rate", float(np.float32(0.01)), 0),
                                  (validation, "epoch_loss", 0.75, 0)]
    assert (train, "fake_model/dense.weight/histogram", (2, 3), 0) in writer.written


def test_batch_metrics_every_n_batches(model, writer, tmp_path, counting_logs):
    callbacks = CallbackList([module.TensorBoard(tmp_path, update_freq=2)], model=model)
    callbacks.on_train_begin()
    logs = counting_logs({"loss": 1.0})
    for batch in range(4):
        callbacks.on_train_batch_begin(batch)
        callbacks.on_train_batch_end(batch, logs)
    assert [(tag, step) for _, tag, _, step in writer.written] == [("batch_loss", 2),
                                                                   ("batch_loss", 4)]
    assert logs.reads == 2


def test_missing_tensorboard_package_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    callback = module.TensorBoard()  # as in Keras, made without the package
    with pytest.raises(ImportError, match="pip install tensorboard"):
        callback.set_model(None)


def test_unsupported_arguments(writer):
    with pytest.raises(ValueError, match="profile_batch=2"):
        module.TensorBoard(profile_batch=2)
    with pytest.raises(ValueError, match="embeddings_freq=1"):
        module.TensorBoard(embeddings_freq=1)
    with pytest.raises(ValueError, match="update_freq='step'"):
        module.TensorBoard(update_freq="step")
