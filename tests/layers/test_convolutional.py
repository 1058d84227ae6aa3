"""Convolution layers: numerics against outputs computed by Keras 3, weight layouts, and errors.

The reference outputs below were computed with Keras 3.15 (torch backend) on the same
deterministic inputs and weights (`_det`), set through `set_weights` in Keras's layouts.
"""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def _det(shape, phase=0.0):
    n = int(np.prod(shape))
    return np.round(np.sin(np.arange(n) * 0.7 + phase), 3).astype("float32").reshape(shape)


def _run(layer, input_shape):
    layer(keras.Input(shape=input_shape[1:]))
    layer.set_weights([_det(w.shape, 1.0 + i) for i, w in enumerate(layer.get_weights())])
    return layer(_det(input_shape, 0.3)).detach().numpy()


KERAS_OUTPUTS = {
    "conv2d_strided_same": (
        lambda: layers.Conv2D(2, 3, strides=2, padding="same"), (1, 6, 6, 1),
        [1.5525, -1.48759, 4.70142, 3.32984, 0.41856, 1.82583, 3.76973, 4.22102, -1.05989,
         1.00767, -1.21825, -2.40483, -1.50358, -0.92857, -0.26097, -1.91176, 2.95966,
         1.3727]),
    "conv1d_causal_dilated": (
        lambda: layers.Conv1D(2, 2, padding="causal", dilation_rate=2), (1, 6, 1),
        [1.1088, 0.43943, 1.47668, 0.46232, 1.82754, 0.7623, 2.07191, 1.28962, 1.77162,
         1.41283, 1.06358, 1.0709]),
    "conv2d_transpose_same": (
        lambda: layers.Conv2DTranspose(1, 3, strides=2, padding="same"), (1, 2, 2, 1),
        [1.15794, 1.20263, 1.81608, 1.74327, 0.92143, 0.72785, 0.65483, 0.39431, 1.4819,
         1.78236, 1.49602, 1.26407, 0.95066, 0.3019, -0.03283, 0.4959]),
    # The last step lies past the full transposed convolution: Keras gives it the bias alone.
    "conv1d_transpose_output_padding": (
        lambda: layers.Conv1DTranspose(1, 3, strides=2, output_padding=1), (1, 3, 1),
        [1.15794, 1.20263, 1.81608, 1.74327, 2.31095, 1.89306, 1.5786, 0.909]),
    "depthwise": (
        lambda: layers.DepthwiseConv2D(2, depth_multiplier=2), (1, 3, 3, 2),
        [0.23635, -0.84709, -1.46371, -1.89356, 1.62213, 0.52084, 0.07838, -1.21928,
         0.50662, 0.77677, -0.14044, -0.09682, -0.14261, -0.75968, -1.5377, -1.51193]),
    "separable": (
        lambda: layers.SeparableConv2D(2, 2, depth_multiplier=2), (1, 3, 3, 2),
        [1.14788, 0.45596, 0.46548, -0.77027, -0.48926, -0.65268, 0.82305, 0.49545]),
}


@pytest.mark.parametrize("case", sorted(KERAS_OUTPUTS))
def test_outputs_match_keras(case):
    make, input_shape, expected = KERAS_OUTPUTS[case]
    got = _run(make(), input_shape)
    np.testing.assert_allclose(got.ravel(), expected, rtol=1e-4, atol=1e-5)


def test_conv2d_param_count_and_kernel_layout_are_keras():
    layer = layers.Conv2D(32, (3, 3))
    assert layer(keras.Input(shape=(28, 28, 1))).shape == (None, 26, 26, 32)
    assert layer.count_params() == 320
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 1, 32), (32,)]
    # Stored in Keras's layout too, as are the weights Keras code reads; F.conv2d gets a view.
    assert tuple(layer.kernel.shape) == (3, 3, 1, 32)
    assert [tuple(w.shape) for w in layer.weights] == [(3, 3, 1, 32), (32,)]


@pytest.mark.parametrize("make,input_shape,keras_shapes", [
    (lambda: layers.Conv2D(4, (3, 2), groups=2), (5, 5, 6), [(3, 2, 3, 4), (4,)]),
    (lambda: layers.Conv2DTranspose(4, (3, 2)), (5, 5, 6), [(3, 2, 4, 6), (4,)]),
    (lambda: layers.DepthwiseConv2D((3, 2), depth_multiplier=2), (5, 5, 6),
     [(3, 2, 6, 2), (12,)]),
    (lambda: layers.SeparableConv2D(4, (3, 2), depth_multiplier=2), (5, 5, 6),
     [(3, 2, 6, 2), (1, 1, 12, 4), (4,)]),
])
def test_weights_are_listed_in_keras_layouts(make, input_shape, keras_shapes):
    layer = make()
    layer(keras.Input(shape=input_shape))
    assert [w.shape for w in layer.get_weights()] == keras_shapes
    # Stored in Keras's layout as well (Keras 3.15.1 lists these shapes for `layer.weights`).
    assert [tuple(w.shape) for w in layer.weights] == keras_shapes


def test_strided_same_padding_puts_the_extra_zero_at_the_end():
    # Length 6, window 3, stride 2: Keras pads (0, 1), where torch's padding=1 would pad (1, 1).
    layer = layers.Conv1D(1, 3, strides=2, padding="same", use_bias=False)
    layer(keras.Input(shape=(6, 1)))
    layer.set_weights([np.array([[[1.0]], [[10.0]], [[100.0]]], dtype="float32")])
    x = torch.arange(1.0, 7.0).reshape(1, 6, 1)
    # Windows [1, 2, 3], [3, 4, 5], [5, 6, 0].
    assert layer(x).ravel().tolist() == [321.0, 543.0, 65.0]


def test_channels_first_gives_the_same_numbers_transposed():
    last = layers.Conv2D(3, 3, strides=2, padding="same")
    first = layers.Conv2D(3, 3, strides=2, padding="same", data_format="channels_first")
    last(keras.Input(shape=(7, 6, 2)))
    first(keras.Input(shape=(2, 7, 6)))
    first.set_weights(last.get_weights())
    x = torch.randn(2, 7, 6, 2)
    torch.testing.assert_close(first(x.permute(0, 3, 1, 2)), last(x).permute(0, 3, 1, 2))


def test_vector_input_error_names_the_layout_and_suggests_reshape():
    with pytest.raises(keras.ShapeError) as info:
        layers.Conv2D(8, 3)(keras.Input(shape=(10,)))
    message = str(info.value)
    assert "(batch, height, width, channels)" in message
    assert "(None, 10)" in message
    assert "Reshape((10, 1, 1))" in message


def test_kernel_larger_than_input_suggests_same_padding():
    with pytest.raises(keras.ShapeError, match=r"(?s)larger than.*padding='same'"):
        layers.Conv2D(8, 5)(keras.Input(shape=(3, 8, 1)))
    assert layers.Conv2D(8, 5, padding="same")(keras.Input(shape=(3, 8, 1))).shape == (
        None, 3, 8, 8)


def test_layer_built_for_other_channels_refuses_new_channel_count():
    layer = layers.Conv2D(4, 3)
    layer(keras.Input(shape=(5, 5, 3)))
    with pytest.raises(keras.ShapeError, match="built for inputs with 3 channels"):
        layer(keras.Input(shape=(5, 5, 2)))


@pytest.mark.parametrize("kwargs,pattern", [
    ({"filters": 0, "kernel_size": 3}, r"positive integer for filters\. Received: filters=0"),
    ({"filters": 4, "kernel_size": (3, 0)}, r"kernel_size=\(3, 0\)"),
    ({"filters": 4, "kernel_size": 3, "padding": "causal"}, r"'valid', 'same'\. Received"),
    ({"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, r"dilation_rate"),
    ({"filters": 5, "kernel_size": 3, "groups": 2}, r"divisible by groups"),
    ({"filters": 4, "kernel_size": 3, "data_format": "NHWC"}, r"channels_last"),
])
def test_arguments_are_checked_with_what_was_received(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        layers.Conv2D(**kwargs)


def test_transpose_output_padding_must_be_below_strides():
    with pytest.raises(ValueError, match="smaller than its stride"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)


def test_conv_in_a_model_trains_on_channels_last_images():
    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    outputs = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, outputs)
    y = model(torch.randn(2, 8, 8, 1))
    assert tuple(y.shape) == (2, 4)
    y.sum().backward()
    assert all(w.grad is not None for w in model.trainable_weights)
