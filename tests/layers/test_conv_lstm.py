"""ConvLSTM1D/2D/3D: the step math written out, layouts, states, masks and argument errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import netknit as keras
from netknit import layers


def _reference_conv_lstm_1d(layer, x):
    """Keras's step, one gate at a time, on channels-last data and Keras-layout kernels
    ("same" padding and stride 1 for both convolutions, odd kernels)."""
    kernel, recurrent_kernel, bias = (torch.as_tensor(w) for w in layer.get_weights())
    k = kernel.shape[0] // 2

    def conv(inputs, weight):  # (batch, steps, in) with (k, in, out) -> (batch, steps, out)
        return F.conv1d(inputs.transpose(1, 2), weight.permute(2, 1, 0), padding=k).transpose(1, 2)

    h = c = torch.zeros(x.shape[0], x.shape[2], layer.filters)
    for t in range(x.shape[1]):
        gates = [conv(x[:, t], kernel[..., g]) + conv(h, recurrent_kernel[..., g]) + bias[g]
                 for g in torch.arange(4 * layer.filters).chunk(4)]
        i, f, candidate, o = gates
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(candidate)
        h = torch.sigmoid(o) * torch.tanh(c)
    return h


def test_conv_lstm_1d_computes_keras_step():
    layer = layers.ConvLSTM1D(3, 3, padding="same")
    x = torch.randn(2, 4, 6, 2)
    torch.testing.assert_close(layer(x), _reference_conv_lstm_1d(layer, x))


def test_weights_have_keras_layouts_and_forget_bias():
    layer = layers.ConvLSTM2D(4, (2, 3))
    layer(keras.Input((5, 7, 6, 3)))
    assert [w.shape for w in layer.get_weights()] == [(2, 3, 3, 16), (2, 3, 4, 16), (16,)]
    np.testing.assert_array_equal(layer.get_weights()[2], [0] * 4 + [1] * 4 + [0] * 8)


def test_channels_first_is_channels_last_transposed():
    last = layers.ConvLSTM2D(2, 3, strides=2, padding="same", return_sequences=True,
                             return_state=True)
    first = layers.ConvLSTM2D(2, 3, strides=2, padding="same", return_sequences=True,
                              return_state=True, data_format="channels_first")
    x = torch.randn(2, 3, 5, 6, 2)
    outputs = last(x)
    first(x.movedim(-1, 2))
    first.set_weights(last.get_weights())
    for got, want in zip(first(x.movedim(-1, 2)), outputs):
        torch.testing.assert_close(got, want.movedim(-1, 1 if want.dim() == 4 else 2))
    assert [tuple(t.shape) for t in outputs] == [(2, 3, 3, 3, 2), (2, 3, 3, 2), (2, 3, 3, 2)]


def test_initial_state_and_masked_steps():
    layer = layers.ConvLSTM1D(2, 3, return_sequences=True, return_state=True)
    x = torch.randn(2, 4, 7, 3)
    outputs, h, c = layer(x)
    # Starting from the states of the first two steps continues the same sequence.
    _, h2, c2 = layer(x[:, :2])
    torch.testing.assert_close(layer(x[:, 2:], initial_state=[h2, c2])[0], outputs[:, 2:])
    # A masked step keeps the states and repeats the previous output.
    mask = torch.tensor([[True, True, False, True], [True, True, True, True]])
    masked, _, _ = layer(x, mask=mask)
    torch.testing.assert_close(masked[0, 2], masked[0, 1])
    torch.testing.assert_close(masked[1], outputs[1])
    with pytest.raises(ValueError, match=r"2 state\(s\) \(h, c\); received 1"):
        layer(x, initial_state=[h])


def test_symbolic_return_state_and_model_round_trip():
    inputs = keras.Input((None, 8, 8, 3))
    output, h, c = layers.ConvLSTM2D(4, 3, return_state=True)(inputs)
    assert output.shape == h.shape == c.shape == (None, 6, 6, 4)
    model = keras.Model(inputs, [output, h, c])
    x = torch.randn(2, 5, 8, 8, 3)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    for got, want in zip(clone(x), model(x)):
        torch.testing.assert_close(got, want)


def test_bad_arguments_say_what_is_allowed():
    with pytest.raises(ValueError, match="filters=0"):
        layers.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match=r"'valid', 'same'. Received: padding='causal'"):
        layers.ConvLSTM1D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="strides > 1 cannot be combined with dilation_rate"):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"kernel_size to be a positive integer or a tuple of 3"):
        layers.ConvLSTM3D(2, (3, 3))
    with pytest.raises(ValueError, match="recurrent_dropout=1.5"):
        layers.ConvLSTM2D(2, 3, recurrent_dropout=1.5)
    with pytest.raises(TypeError, match="Did you mean 'kernel_size'"):
        layers.ConvLSTM2D(2, 3, kernal_size=3)


def test_a_built_layer_refuses_other_step_shapes():
    layer = layers.ConvLSTM2D(2, 3)
    layer(keras.Input((None, 6, 6, 2)))
    with pytest.raises(keras.ShapeError, match=r"built for sequences \(None, None, 6, 6, 2\)"):
        layer(keras.Input((4, 7, 6, 2)))
