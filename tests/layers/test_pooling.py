"""Pooling layers: numerics against outputs computed by Keras 3, "same" padding, shapes, errors."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def _det(shape, phase=0.0):
    n = int(np.prod(shape))
    return np.round(np.sin(np.arange(n) * 0.7 + phase), 3).astype("float32").reshape(shape)


# Computed with Keras 3.15 (torch backend) on _det(input_shape, 0.3).
KERAS_OUTPUTS = {
    "max_same_strided": (layers.MaxPooling2D(3, 2, padding="same"), (1, 4, 4, 1),
                         [0.992, 0.992, 0.85, 0.989]),
    "average_same_even": (layers.AveragePooling2D(2, 1, padding="same"), (1, 3, 3, 1),
                          [0.4635, 0.31575, 0.19, -0.286, -0.45675, -0.493, -0.9305, -0.6285,
                           -0.374]),
}


@pytest.mark.parametrize("case", sorted(KERAS_OUTPUTS))
def test_outputs_match_keras(case):
    layer, input_shape, expected = KERAS_OUTPUTS[case]
    got = layer(_det(input_shape, 0.3)).numpy()
    np.testing.assert_allclose(got.ravel(), expected, rtol=1e-4, atol=1e-5)


def test_max_pooling_same_never_picks_padding():
    x = -torch.arange(1.0, 7.0).reshape(1, 6, 1)
    # Windows [1, 2, 3], [3, 4, 5], [5, 6, pad] of negative values.
    out = layers.MaxPooling1D(3, 2, padding="same")(x)
    assert out.ravel().tolist() == [-1.0, -3.0, -5.0]


def test_average_pooling_same_pads_as_keras_on_torch():
    x = torch.arange(1.0, 7.0).reshape(1, 6, 1)
    # Windows [1, 2, 3], [3, 4, 5], [5, 6] + one padded position: uneven padding, which Keras on
    # torch fills by repeating the edge value, (5 + 6 + 6) / 3. (TensorFlow and JAX give 5.5.)
    out = layers.AveragePooling1D(3, 2, padding="same")(x)
    torch.testing.assert_close(out.ravel(), torch.tensor([2.0, 4.0, 17 / 3]))
    even = layers.AveragePooling1D(3, 1, padding="same")(x)  # pads (1, 1): padding left out
    torch.testing.assert_close(even.ravel(), torch.tensor([1.5, 2.0, 3.0, 4.0, 5.0, 5.5]))


@pytest.mark.parametrize("cls,input_shape,keepdims,expected", [
    (layers.GlobalAveragePooling2D, (4, 5, 3), False, (None, 3)),
    (layers.GlobalAveragePooling2D, (4, 5, 3), True, (None, 1, 1, 3)),
    (layers.GlobalMaxPooling1D, (5, 3), True, (None, 1, 3)),
    (layers.GlobalMaxPooling3D, (2, 3, 4, 3), False, (None, 3)),
])
def test_global_pooling_shapes(cls, input_shape, keepdims, expected):
    layer = cls(keepdims=keepdims)
    assert layer(keras.Input(shape=input_shape)).shape == expected
    assert (None,) + tuple(layer(torch.randn((2,) + input_shape)).shape[1:]) == expected


def test_global_pooling_channels_first_reduces_the_trailing_axes():
    x = torch.randn(2, 3, 4, 5)
    out = layers.GlobalMaxPooling2D(data_format="channels_first")(x)
    torch.testing.assert_close(out, x.amax(dim=(2, 3)))


def test_aliases_are_the_same_classes():
    assert layers.MaxPool2D is layers.MaxPooling2D
    assert layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D
    assert layers.GlobalMaxPool2D is layers.GlobalMaxPooling2D


def test_config_matches_keras_forms():
    config = layers.MaxPooling2D(3, padding="SAME").get_config()
    assert config["pool_size"] == (3, 3) and config["strides"] == (3, 3)
    assert config["padding"] == "same" and config["data_format"] == "channels_last"
    assert layers.MaxPooling2D.from_config(config).get_config() == config


def test_average_pooling_needs_a_pool_size_as_in_keras():
    with pytest.raises(TypeError):
        layers.AveragePooling2D()


def test_window_larger_than_input_suggests_same_padding():
    with pytest.raises(keras.ShapeError, match=r"(?s)pool_size of 3.*padding='same'"):
        layers.MaxPooling2D(3)(keras.Input(shape=(2, 6, 1)))


def test_pooling_a_vector_suggests_a_reshape():
    with pytest.raises(keras.ShapeError, match=r"Reshape\(\(4, 4, 1\)\)"):
        layers.MaxPooling2D()(keras.Input(shape=(16,)))


@pytest.mark.parametrize("kwargs,pattern", [
    ({"pool_size": 0}, r"pool_size=0"),
    ({"strides": (1, 2, 3)}, r"strides=\(1, 2, 3\)"),
    ({"padding": "full"}, r"padding='full'"),
])
def test_arguments_are_checked(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        layers.MaxPooling2D(**kwargs)


# ---------------------------------------------------------------------- adaptive pooling

# Keras 3.15.1's outputs (torch backend) on _det(input_shape, phase).
ADAPTIVE_KERAS_OUTPUTS = {
    "average-1d": (lambda: layers.AdaptiveAveragePooling1D(3), (1, 7, 1), 0.0,
                   [0.543, 0.727667, -0.296]),
    "max-1d": (lambda: layers.AdaptiveMaxPooling1D(3), (1, 7, 1), 0.0, [0.985, 0.985, 0.335]),
    "average-1d-more-bins-than-steps": (lambda: layers.AdaptiveAveragePooling1D(5), (1, 3, 1),
                                        0.0, [0.0, 0.322, 0.644, 0.8145, 0.985]),
    "max-2d": (lambda: layers.AdaptiveMaxPooling2D((2, 3)), (1, 5, 4, 1), 0.3,
               [0.841, 0.992, 0.992, 0.663, 0.85, 0.989]),
    "average-2d-channels-first": (
        lambda: layers.AdaptiveAveragePooling2D(2, data_format="channels_first"), (1, 2, 3, 3),
        0.3, [0.4635, 0.31575, -0.286, -0.45675, 0.4625, 0.30975, -0.292, -0.45825]),
    "average-3d": (lambda: layers.AdaptiveAveragePooling3D((1, 2, 1)), (1, 2, 3, 2, 1), 0.1,
                   [0.039125, 0.361875]),
    "max-3d": (lambda: layers.AdaptiveMaxPooling3D((2, 1, 2)), (1, 3, 2, 3, 1), 0.1,
               [0.808, 0.999, 0.798, 0.999]),
}


@pytest.mark.parametrize("case", sorted(ADAPTIVE_KERAS_OUTPUTS))
def test_adaptive_pooling_matches_keras(case):
    make, input_shape, phase, expected = ADAPTIVE_KERAS_OUTPUTS[case]
    got = make()(_det(input_shape, phase)).numpy()
    np.testing.assert_allclose(got.ravel(), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_adaptive_pooling_bins_are_torch_s_on_channels_first_data(rank):
    # Bin i of n positions pooled to m: floor(i * n / m) to ceil((i + 1) * n / m), torch's bins.
    x = torch.randn((2,) + (7, 5, 6)[:rank] + (3,))
    size = (3, 4, 2)[:rank]
    channels_first = x.movedim(-1, 1).contiguous()
    for cls, fn in (("AdaptiveAveragePooling", "adaptive_avg_pool"),
                    ("AdaptiveMaxPooling", "adaptive_max_pool")):
        got = getattr(layers, f"{cls}{rank}D")(size)(x)
        expected = getattr(torch.nn.functional, f"{fn}{rank}d")(channels_first, size)
        torch.testing.assert_close(got, expected.movedim(1, -1))


def test_adaptive_pooling_output_size_is_checked():
    with pytest.raises(ValueError, match="tuple of 2 positive integers"):
        layers.AdaptiveAveragePooling2D((2, 2, 2))
    with pytest.raises(ValueError, match="Received: output_size=0"):
        layers.AdaptiveMaxPooling1D(0)
    assert layers.AdaptiveMaxPooling3D(2).get_config()["output_size"] == (2, 2, 2)
