"""pad_sequences, PyDataset and the batch helpers, as in Keras 3.15.1 (values are Keras's)."""

import math

import numpy as np
import pytest

import netknit as keras
from netknit.utils import (
    PyDataset,
    Sequence,
    pack_x_y_sample_weight,
    pad_sequences,
    unpack_x_y_sample_weight,
)

SEQUENCES = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], []]


def test_pad_sequences_as_keras():
    assert pad_sequences(SEQUENCES).tolist() == [
        [0, 0, 1, 2, 3], [0, 0, 0, 4, 5], [6, 7, 8, 9, 10], [0, 0, 0, 0, 0]]
    assert pad_sequences(SEQUENCES, maxlen=3, padding="post", truncating="post",
                         value=-1).tolist() == [[1, 2, 3], [4, 5, -1], [6, 7, 8], [-1, -1, -1]]
    assert pad_sequences(SEQUENCES).dtype == np.int32
    assert pad_sequences([[[1, 2], [3, 4]], [[5, 6]]]).tolist() == [
        [[1, 2], [3, 4]], [[0, 0], [5, 6]]]
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences(SEQUENCES, padding="middle")


class Batches(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_fit_reads_a_py_dataset_and_ends_each_epoch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    data = Batches(x, y, batch_size=16, workers=2)
    history = model.fit(data, epochs=3, verbose=0)
    assert data.epochs_ended == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(Batches(x, y, 16), verbose=0).shape == (50, 1)
    assert Sequence is PyDataset


def test_batch_packing():
    assert pack_x_y_sample_weight(1) == 1  # as Keras: a single x is not wrapped
    assert pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    assert unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert unpack_x_y_sample_weight(5) == (5, None, None)


def test_timeseries_windows_follow_keras_s_documented_examples():
    from netknit.utils import timeseries_dataset_from_array

    # Keras's docstring: indices 0..98, length 10, sampling rate 2, stride 3.
    windows = [w for batch in timeseries_dataset_from_array(
        np.arange(99), None, sequence_length=10, sampling_rate=2, sequence_stride=3,
        batch_size=8) for w in batch.tolist()]
    assert windows[0] == list(range(0, 20, 2)) and windows[1] == list(range(3, 23, 2))
    assert windows[-1] == list(range(78, 98, 2))
    # ... and: non-overlapping windows of inputs and of targets, zipped.
    x, y = np.arange(100), np.arange(100) * 2
    inputs = timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    targets = timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    first_inputs, first_targets = next(zip(inputs, targets))
    np.testing.assert_array_equal(first_inputs[0], x[:20])
    np.testing.assert_array_equal(first_targets[1], y[20:40])


def test_timeseries_dataset_trains_a_model():
    from netknit.utils import timeseries_dataset_from_array

    series = np.sin(np.arange(300) / 10).astype("float32")[:, None]
    dataset = timeseries_dataset_from_array(series[:-8], series[8:, 0], sequence_length=8,
                                            batch_size=32, shuffle=True, seed=1)
    inputs, targets = next(iter(dataset))
    assert tuple(inputs.shape) == (32, 8, 1) and tuple(targets.shape) == (32,)
    model = keras.Sequential([keras.Input((8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(dataset, epochs=3, verbose=0, shuffle=False).history
    assert history["loss"][-1] < history["loss"][0]
    with pytest.raises(ValueError, match="sequence_stride"):
        timeseries_dataset_from_array(series, None, sequence_length=4, sequence_stride=0)
