"""keras.utils' image helpers (load_img, img_to_array, array_to_img, save_img) against Keras 3.
Skipped without Keras or Pillow."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("PIL")

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("scale", [True, False])
def test_arrays_to_images_and_back(channels, scale):
    x = np.random.default_rng(channels).random((5, 7, channels)) * (300 if channels == 1 else 200)
    theirs = keras.utils.array_to_img(x, scale=scale)
    ours = netknit.utils.array_to_img(x, scale=scale)
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    np.testing.assert_array_equal(netknit.utils.img_to_array(ours),
                                  keras.utils.img_to_array(theirs))
    for data_format in ("channels_first", "channels_last"):
        a = netknit.utils.img_to_array(ours, data_format=data_format, dtype="uint8")
        b = keras.utils.img_to_array(theirs, data_format=data_format, dtype="uint8")
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs", [
    {}, {"color_mode": "grayscale"}, {"color_mode": "rgba"},
    {"target_size": (4, 6)}, {"target_size": (4, 6), "interpolation": "bilinear"},
    {"target_size": (5, 5), "interpolation": "bicubic", "keep_aspect_ratio": True},
])
def test_saved_images_load_as_keras_loads_them(tmp_path, kwargs):
    x = np.random.default_rng(0).random((9, 12, 3))
    netknit.utils.save_img(tmp_path / "ours.png", x)
    keras.utils.save_img(tmp_path / "theirs.png", x)
    ours = netknit.utils.load_img(tmp_path / "ours.png", **kwargs)
    theirs = keras.utils.load_img(tmp_path / "theirs.png", **kwargs)
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_jpeg_drops_the_alpha_channel(tmp_path):
    x = np.random.default_rng(0).random((6, 6, 4))
    with pytest.warns(UserWarning, match="RGB"):
        netknit.utils.save_img(tmp_path / "a.jpg", x)
    assert netknit.utils.load_img(tmp_path / "a.jpg", color_mode="rgba").size == (6, 6)
