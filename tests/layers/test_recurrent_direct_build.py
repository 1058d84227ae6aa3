"""A recurrent layer built by hand (`layer.build(shape)`) is the layer its first call builds:
Keras's weight paths under its cell, the same saved file, and a stateful layer's states."""

import h5py
import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

KINDS = {
    "lstm": (lambda: layers.LSTM(3, name="lstm"), (None, 4, 2), "lstm/lstm_cell"),
    "gru": (lambda: layers.GRU(3, name="gru"), (None, 4, 2), "gru/gru_cell"),
    "simple_rnn": (lambda: layers.SimpleRNN(3, name="simple_rnn"), (None, 4, 2),
                   "simple_rnn/simple_rnn_cell"),
    "conv_lstm1d": (lambda: layers.ConvLSTM1D(3, 2, name="conv_lstm1d"), (None, 4, 5, 2),
                    "conv_lstm1d/conv_lstm_cell"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_weight_paths_are_keras_s_however_the_layer_was_built(kind):
    make, shape, scope = KINDS[kind]
    expected = [f"{scope}/{name}" for name in ("kernel", "recurrent_kernel", "bias")]
    by_hand = make()
    by_hand.build(shape)
    assert [w.path for w in by_hand.weights] == expected
    called = make()
    called(torch.zeros((1,) + shape[1:]))
    assert [w.path for w in called.weights] == expected


def _keys(path):
    found = []
    with h5py.File(path) as file:
        file.visititems(lambda name, item: found.append((name, item.shape))
                        if isinstance(item, h5py.Dataset) else None)
    return found


@pytest.mark.parametrize("kind", ["lstm", "conv_lstm1d"])
def test_a_layer_built_by_hand_saves_and_loads_as_one_built_by_a_call(kind, tmp_path):
    make, shape, _ = KINDS[kind]
    layer = make()
    layer.build(shape)
    model = keras.Sequential([keras.Input(shape[1:]), layer])
    model.save_weights(tmp_path / "by_hand.weights.h5")
    other = keras.Sequential([keras.Input(shape[1:]), make()])
    other.save_weights(tmp_path / "called.weights.h5")
    assert _keys(tmp_path / "by_hand.weights.h5") == _keys(tmp_path / "called.weights.h5")
    other.load_weights(tmp_path / "by_hand.weights.h5")
    x = torch.as_tensor(np.random.RandomState(0).rand(2, *shape[1:]), dtype=torch.float32)
    torch.testing.assert_close(other(x), model(x))


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(3, stateful=True),
    lambda: layers.RNN(layers.GRUCell(3), stateful=True),
])
def test_a_stateful_layer_built_by_hand_carries_its_states(make):
    layer = make()
    layer.build((2, 4, 3))
    x = torch.ones(2, 4, 3)
    first, second = layer(x), layer(x)
    assert not torch.equal(first, second)  # the second call starts from the first's states
    layer.reset_state()
    torch.testing.assert_close(layer(x), first)


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
def test_paths_match_keras(kind, real_keras):
    shape = KINDS[kind][1]
    ours = KINDS[kind][0]()
    theirs = getattr(real_keras.layers, type(ours).__name__)(3, name=kind)
    ours.build(shape)
    theirs.build(shape)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
