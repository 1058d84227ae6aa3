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
    assert pack_x_y_sample_weight(1) == (1,)
    assert pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    assert unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert unpack_x_y_sample_weight(5) == (5, None, None)
