"""Zero padding, cropping and upsampling: values, shapes, configs and errors."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def test_zero_padding_2d_pads_each_side_with_zeros():
    x = torch.ones(1, 2, 2, 1)
    out = layers.ZeroPadding2D(((1, 0), (0, 2)))(x)[0, :, :, 0]
    assert out.tolist() == [[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]


def test_zero_padding_1d_channels_first_pads_the_last_axis():
    out = layers.ZeroPadding1D((1, 2), data_format="channels_first")(torch.ones(1, 2, 3))
    assert tuple(out.shape) == (1, 2, 6)


def test_cropping_removes_edges():
    x = torch.arange(30.0).reshape(1, 5, 6, 1)
    out = layers.Cropping2D(((1, 0), (2, 1)))(x)
    torch.testing.assert_close(out, x[:, 1:, 2:-1])
    assert layers.Cropping1D(1)(torch.arange(4.0).reshape(1, 4, 1)).ravel().tolist() == [1, 2]


def test_upsampling_nearest_repeats_rows_and_columns():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    out = layers.UpSampling2D((1, 2))(x)[0, :, :, 0]
    assert out.tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]
    steps = layers.UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]]))
    assert steps.ravel().tolist() == [1, 1, 2, 2]


def test_upsampling_bilinear_matches_keras():
    x = np.round(np.sin(np.arange(4) * 0.7 + 0.3), 3).astype("float32").reshape(1, 2, 2, 1)
    # Computed with Keras 3.15 (torch backend): UpSampling2D(2, interpolation="bilinear").
    expected = [0.296, 0.43225, 0.70475, 0.841, 0.47, 0.55238, 0.71712, 0.7995, 0.818, 0.79262,
                0.74187, 0.7165, 0.992, 0.91275, 0.75425, 0.675]
    out = layers.UpSampling2D(2, interpolation="bilinear")(x)
    np.testing.assert_allclose(out.numpy().ravel(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer,key,value", [
    (layers.ZeroPadding1D(2), "padding", (2, 2)),
    (layers.ZeroPadding2D((1, 2)), "padding", ((1, 1), (2, 2))),
    (layers.Cropping1D(1), "cropping", (1, 1)),
    (layers.Cropping2D(1), "cropping", ((1, 1), (1, 1))),
    (layers.UpSampling1D(3), "size", 3),
    (layers.UpSampling2D(3), "size", (3, 3)),
])
def test_configs_use_keras_forms(layer, key, value):
    assert layer.get_config()[key] == value


def test_cropping_everything_is_a_shape_error():
    with pytest.raises(keras.ShapeError, match=r"removes 2 \+ 2 positions along the height"):
        layers.Cropping2D(2)(keras.Input(shape=(4, 8, 1)))


@pytest.mark.parametrize("make,pattern", [
    (lambda: layers.ZeroPadding2D(((1, 2), (3, 4), (5, 6))), r"2 pairs"),
    (lambda: layers.ZeroPadding1D(-1), r"padding=-1"),
    (lambda: layers.Cropping1D((1, 2, 3)), r"cropping=\(1, 2, 3\)"),
    (lambda: layers.UpSampling2D(interpolation="cubic"), r"nearest, bilinear"),
])
def test_arguments_are_checked(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()
