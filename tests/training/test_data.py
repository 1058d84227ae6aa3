"""Data adapters: how `fit` reads the data it is given, as Keras 3.15.1 reads it."""

import random

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


class Batches(keras.utils.PyDataset):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        rng = np.random.default_rng(0)
        self.x = rng.random((96, 4)).astype("float32")
        self.y = rng.random((96, 1)).astype("float32")
        self.seen, self.epochs_ended = [], 0

    def __len__(self):
        return 6

    def __getitem__(self, index):
        self.seen.append(index)
        return self.x[index * 16:(index + 1) * 16], self.y[index * 16:(index + 1) * 16]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_fit_shuffles_the_order_of_a_py_dataset_s_batches_each_epoch():
    random.seed(0)
    data = Batches()
    _model().fit(data, epochs=3, verbose=0)
    epochs = [data.seen[i:i + 6] for i in range(0, 18, 6)]
    assert all(sorted(order) == list(range(6)) for order in epochs)
    assert any(order != list(range(6)) for order in epochs)
    assert data.epochs_ended == 3


def test_a_py_dataset_is_read_in_order_without_shuffle_and_for_evaluation():
    data = Batches()
    model = _model()
    model.fit(data, epochs=2, verbose=0, shuffle=False)
    model.evaluate(data, verbose=0)
    assert data.seen == list(range(6)) * 3


class CountBatches(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.per_epoch = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.per_epoch[-1] += 1


def _arrays():
    rng = np.random.default_rng(0)
    return rng.random((48, 4)).astype("float32"), rng.random((48, 1)).astype("float32")


def test_steps_per_epoch_goes_on_where_the_last_epoch_stopped_and_ends_with_the_pass():
    # Keras 3.15.1 runs [2, 1, 2, 1] batches here, warning twice that the data ran out.
    x, y = _arrays()
    counter = CountBatches()
    with pytest.warns(UserWarning, match="ran out") as caught:
        _model().fit(x, y, batch_size=16, steps_per_epoch=2, epochs=4, verbose=0,
                     callbacks=[counter])
    assert counter.per_epoch == [2, 1, 2, 1] and len(caught) == 2
    with pytest.warns(UserWarning, match="ran out"):
        _model().fit(x, y, batch_size=16, steps_per_epoch=4, epochs=2, verbose=0,
                     callbacks=[counter])
    assert counter.per_epoch == [3, 3]


def test_steps_per_epoch_over_a_data_loader_as_keras_runs_it():
    x, y = _arrays()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16)
    counter = CountBatches()
    with pytest.warns(UserWarning, match="ran out"):
        _model().fit(loader, steps_per_epoch=2, epochs=3, verbose=0, callbacks=[counter],
                     shuffle=False)
    assert counter.per_epoch == [2, 1, 2]


def test_each_validation_with_steps_starts_from_the_first_batch():
    x, y = _arrays()
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, shuffle=False, validation_steps=1,
                        validation_data=(x, y), validation_batch_size=16).history
    # The second validation read the first batch again, not the second.
    assert history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[:16], y[:16], verbose=0), rel=1e-6)


def test_read_only_arrays_train_without_a_warning(tmp_path):
    # A memory-mapped data set (np.load(..., mmap_mode="r")) is read-only; torch warns when it
    # shares such memory, and the project's warnings are errors.
    np.save(tmp_path / "x.npy", np.ones((8, 3), "float32"))
    x = np.load(tmp_path / "x.npy", mmap_mode="r")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(x, np.broadcast_to(np.float32(2.0), (8, 1)), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    assert model.predict(x, verbose=0).shape == (8, 1)
