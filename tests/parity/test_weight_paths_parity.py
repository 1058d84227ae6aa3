"""Weight paths (`weight.path`) as Keras 3 names them: under the models and layers that built
them, recurrent weights under their cell. Skipped when Keras is not installed."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")


def _sequential(lib):
    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])


def _deferred_sequential(lib):
    model = lib.Sequential([lib.layers.Dense(2)])
    model.build((None, 3))
    return model


def _functional(lib):
    inputs = lib.Input((5, 3))
    x = lib.layers.Bidirectional(lib.layers.LSTM(2, return_sequences=True))(inputs)
    x = lib.layers.GRU(2)(x)
    return lib.Model(inputs, lib.layers.Dense(1)(x))


def _rnn_cells(lib):
    inputs = lib.Input((5, 3))
    return lib.Model(inputs, lib.layers.RNN(lib.layers.SimpleRNNCell(2))(inputs))


def _subclassed(lib):
    class Block(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(3)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(3,), name="scale")

        def call(self, x):
            return self.dense(x) * self.scale

    class Net(lib.Model):
        def __init__(self):
            super().__init__(name="net")
            self.block = Block(name="block")
            self.out = lib.layers.Dense(1, name="out")

        def call(self, x):
            return self.out(self.block(x))

    model = Net()
    model(np.ones((2, 4), "float32"))
    return model


@pytest.mark.parametrize("build", [_sequential, _deferred_sequential, _functional, _rnn_cells,
                                   _subclassed],
                         ids=["sequential", "deferred-sequential", "functional-rnn",
                              "rnn-cell", "subclassed"])
def test_weight_paths_match_keras(build):
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = build(keras), build(netknit)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
