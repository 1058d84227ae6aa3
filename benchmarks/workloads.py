"""The five benchmark workloads, each written three ways.

- `build(keras)` is Keras code. It runs unchanged with `keras = netknit` and with real Keras 3,
  which is the point of netknit: the same model code, PyTorch's speed.
- `torch_module()` is the same network as a hand-written `torch.nn.Module`, with the loss as the
  same formula and the optimizer from `torch.optim` with Keras's defaults.
- `data(samples)` is synthetic data of the right shapes (inputs, targets) as NumPy arrays.

This module imports only NumPy at the top, so a worker process running Keras on JAX (an
environment without torch or netknit) can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

EPSILON = 1e-7


@dataclass(frozen=True)
class Workload:
    """One benchmark model: what it is, its data, its batch size and three implementations."""

    key: str
    title: str
    batch_size: int
    steps_per_round: int
    optimizer: str
    loss: str
    data: Callable[[int], tuple]
    build: Callable
    torch_module: Callable


def _rng():
    return np.random.default_rng(0)


def _one_hot(labels, classes):
    return np.eye(classes, dtype="float32")[labels]


# ---------------------------------------------------------------------------------- W1 MLP

def _w1_data(samples):
    rng = _rng()
    return rng.random((samples, 784), dtype="float32"), _one_hot(rng.integers(0, 10, samples), 10)


def _w1_build(keras):
    return keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def _w1_torch():
    from torch import nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(784, 64)
            self.out = nn.Linear(64, 10)

        def forward(self, x):
            return self.out(self.hidden(x).relu()).softmax(-1)

    return MLP(), categorical_crossentropy


# ---------------------------------------------------------------------------------- W2 CNN

def _w2_data(samples):
    rng = _rng()
    x = rng.random((samples, 28, 28, 1), dtype="float32")
    return x, _one_hot(rng.integers(0, 10, samples), 10)


def _w2_build(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPool2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPool2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def _w2_torch():
    from torch import nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3)
            self.conv2 = nn.Conv2d(32, 64, 3)
            self.pool = nn.MaxPool2d(2)
            self.out = nn.Linear(5 * 5 * 64, 10)

        def forward(self, x):
            x = x.permute(0, 3, 1, 2)  # NHWC data as an NCHW view, as netknit does
            x = self.pool(self.conv1(x).relu())
            x = self.pool(self.conv2(x).relu())
            return self.out(x.flatten(1)).softmax(-1)

    return CNN(), categorical_crossentropy


# ---------------------------------------------------------------------------------- W3 LSTM

def _w3_data(samples):
    rng = _rng()
    x = [rng.random((samples, 20, 3), dtype="float32"), rng.random((samples, 10), dtype="float32")]
    return x, rng.integers(0, 5, samples)


def _w3_build(keras):
    layers = keras.layers
    sequence = keras.Input((20, 3), name="sequence")
    features = keras.Input((10,), name="features")
    a = layers.LSTM(64)(sequence)
    b = layers.Dense(32, activation="relu")(features)
    b = layers.Dense(16, activation="relu")(b)
    merged = layers.Concatenate()([a, b])
    outputs = layers.Dense(5, activation="softmax")(merged)
    return keras.Model([sequence, features], outputs)


def _w3_torch():
    import torch
    from torch import nn

    class SequenceAndFeatures(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 64, batch_first=True)
            self.dense1 = nn.Linear(10, 32)
            self.dense2 = nn.Linear(32, 16)
            self.out = nn.Linear(64 + 16, 5)

        def forward(self, inputs):
            sequence, features = inputs
            _, (h, _) = self.lstm(sequence)
            b = self.dense2(self.dense1(features).relu()).relu()
            return self.out(torch.cat([h[-1], b], dim=-1)).softmax(-1)

    return SequenceAndFeatures(), sparse_categorical_crossentropy


# ------------------------------------------------------------------ W4 image + tabular

def _w4_data(samples):
    rng = _rng()
    x = [rng.random((samples, 64, 64, 3), dtype="float32"),
         rng.random((samples, 10), dtype="float32")]
    return x, rng.integers(0, 2, (samples, 1)).astype("float32")


def _w4_build(keras):
    layers = keras.layers
    image = keras.Input((64, 64, 3), name="image")
    table = keras.Input((10,), name="table")
    a = layers.Conv2D(32, 3, activation="relu")(image)
    a = layers.MaxPool2D()(a)
    a = layers.Conv2D(64, 3, activation="relu")(a)
    a = layers.MaxPool2D()(a)
    a = layers.Flatten()(a)
    a = layers.Dense(256, activation="relu")(a)
    b = layers.Dense(128, activation="relu")(table)
    b = layers.Dense(256, activation="relu")(b)
    merged = layers.concatenate([a, b])
    outputs = layers.Dense(1, activation="sigmoid")(merged)
    return keras.Model([image, table], outputs)


def _w4_torch():
    import torch
    from torch import nn

    class ImageAndTable(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 32, 3)
            self.conv2 = nn.Conv2d(32, 64, 3)
            self.pool = nn.MaxPool2d(2)
            self.image_dense = nn.Linear(14 * 14 * 64, 256)
            self.table1 = nn.Linear(10, 128)
            self.table2 = nn.Linear(128, 256)
            self.out = nn.Linear(512, 1)

        def forward(self, inputs):
            image, table = inputs
            a = image.permute(0, 3, 1, 2)
            a = self.pool(self.conv1(a).relu())
            a = self.pool(self.conv2(a).relu())
            a = self.image_dense(a.flatten(1)).relu()
            b = self.table2(self.table1(table).relu()).relu()
            return self.out(torch.cat([a, b], dim=-1)).sigmoid()

    return ImageAndTable(), binary_crossentropy


# ---------------------------------------------------------------------------------- W5 overhead

def _w5_data(samples):
    rng = _rng()
    return rng.random((samples, 16), dtype="float32"), rng.random((samples, 1), dtype="float32")


def _w5_build(keras):
    return keras.Sequential([
        keras.Input((16,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1),
    ])


def _w5_torch():
    from torch import nn

    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 1))
    return model, mean_squared_error


# ---------------------------------------------------------------------------------- losses

# Keras's formulas for probabilities, written out as a PyTorch user would.

def categorical_crossentropy(y_pred, y_true):
    y_pred = y_pred / y_pred.sum(-1, keepdim=True)
    return -(y_true * y_pred.clamp(EPSILON, 1 - EPSILON).log()).sum(-1).mean()


def sparse_categorical_crossentropy(y_pred, y_true):
    y_pred = y_pred / y_pred.sum(-1, keepdim=True)
    log_prob = y_pred.clamp(EPSILON, 1 - EPSILON).log()
    return -log_prob.gather(-1, y_true.unsqueeze(-1)).mean()


def binary_crossentropy(y_pred, y_true):
    import torch.nn.functional as F

    return F.binary_cross_entropy(y_pred.clamp(EPSILON, 1 - EPSILON), y_true)


def mean_squared_error(y_pred, y_true):
    return (y_pred - y_true).square().mean()


WORKLOADS = {
    w.key: w
    for w in [
        Workload("W1", "MLP 784-64-10, Adam, batch 128", 128, 60, "adam",
                 "categorical_crossentropy", _w1_data, _w1_build, _w1_torch),
        Workload("W2", "CNN 28x28x1, Adam, batch 128", 128, 12, "adam",
                 "categorical_crossentropy", _w2_data, _w2_build, _w2_torch),
        Workload("W3", "LSTM(64) + Dense branch, batch 64", 64, 30, "adam",
                 "sparse_categorical_crossentropy", _w3_data, _w3_build, _w3_torch),
        Workload("W4", "CNN 64x64x3 + tabular, batch 32", 32, 6, "adam",
                 "binary_crossentropy", _w4_data, _w4_build, _w4_torch),
        Workload("W5", "MLP 16-32-32-1, SGD, mse, batch 32 (overhead)", 32, 200, "sgd",
                 "mse", _w5_data, _w5_build, _w5_torch),
    ]
}
# Larger batches of the two CNNs, for a GPU (too slow to be worth running on a 2-core CPU).
LARGE_BATCH = {
    "W2L": replace(WORKLOADS["W2"], key="W2L", title="W2 with batch 1024", batch_size=1024),
    "W4L": replace(WORKLOADS["W4"], key="W4L", title="W4 with batch 256", batch_size=256),
}
WORKLOADS.update(LARGE_BATCH)
