"""`LSTM.cell`, `GRU.cell`, `SimpleRNN.cell`: Keras's cell of each layer, holding the layer's own
weights."""

import numpy as np
import pytest
import torch

import netknit as keras

KINDS = [
    (lambda: keras.layers.LSTM(3), "LSTMCell", "lstm_cell"),
    (lambda: keras.layers.GRU(3, reset_after=False), "GRUCell", "gru_cell"),
    (lambda: keras.layers.SimpleRNN(3, activation="relu", dropout=0.1, seed=3),
     "SimpleRNNCell", "simple_rnn_cell"),
]


@pytest.mark.parametrize("make, class_name, cell_name", KINDS)
def test_the_cell_holds_the_layers_weights(make, class_name, cell_name):
    layer = make()
    early = layer.cell  # handed out before the build, as Keras's is
    assert type(early).__name__ == class_name and early.name == cell_name
    assert not early.built and early.weights == []
    model = keras.Sequential([keras.Input((5, 2)), layer])
    assert layer.cell is early and early.built
    assert len(early.weights) == 3
    assert all(a is b for a, b in zip(early.weights, layer.weights))
    for weight, name in zip(early.weights, ("kernel", "recurrent_kernel", "bias")):
        assert weight.path.endswith(f"{layer.name}/{cell_name}/{name}")
    # Not a sublayer: the weights are counted, listed and saved once.
    assert model.count_params() == sum(w.numel() for w in layer.weights)
    assert len(list(model.parameters())) == 3 and len(model.weights) == 3
    config = early.get_config()
    assert config["units"] == 3 and config["name"] == cell_name
    # The cell's arguments are the layer's (Keras's SimpleRNN leaves `seed` out of its config).
    shared = set(config) - {"name"} - ({"seed"} if class_name == "SimpleRNNCell" else set())
    assert {k: layer.get_config()[k] for k in shared} == {k: config[k] for k in shared}


def test_the_cell_steps_with_the_layers_weights():
    layer = keras.layers.LSTM(4, return_sequences=True)
    x = torch.randn(2, 6, 3)
    layer(x)
    with torch.no_grad():  # an update through the layer shows in the cell: the same tensors
        layer.kernel.mul_(0.5)
    expected = layer(x)
    states = [torch.zeros(2, 4), torch.zeros(2, 4)]
    for t in range(6):
        output, states = layer.cell(x[:, t], states)
        torch.testing.assert_close(output, expected[:, t], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(keras.layers.RNN(layer.cell, return_sequences=True)(x), expected,
                               rtol=1e-5, atol=1e-6)


def test_the_cell_follows_the_layer_to_another_dtype():
    layer = keras.layers.SimpleRNN(2)
    layer(torch.zeros(1, 3, 2))
    layer.double()
    assert layer.cell.kernel is layer.kernel and layer.cell.kernel.dtype == torch.float64
    assert layer.cell._zero_recurrent_bias.dtype == torch.float64


def test_the_cell_matches_keras(real_keras):
    theirs = real_keras.layers.GRU(3)
    theirs.build((None, 4, 2))
    ours = keras.layers.GRU(3)
    ours.build((None, 4, 2))
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 2)).astype("float32")
    h = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
    their_output, _ = theirs.cell(x, [h])
    our_output, _ = ours.cell(torch.as_tensor(x), [torch.as_tensor(h)])
    np.testing.assert_allclose(our_output.detach().numpy(), np.asarray(their_output.detach()),
                               rtol=1e-5, atol=1e-6)
    assert ours.cell.get_config() == theirs.cell.get_config()
