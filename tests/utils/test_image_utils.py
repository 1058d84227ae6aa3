"""Image helpers: the modes, shapes and scaling Keras 3.15.1 gives."""

import numpy as np
import pytest

import netknit as keras

pytest.importorskip("PIL")


def test_array_to_img_stretches_values_to_the_byte_range():
    image = keras.utils.array_to_img(np.array([[[0.0], [0.5]], [[1.0], [0.25]]]))
    assert (image.mode, image.size) == ("L", (2, 2))
    np.testing.assert_array_equal(np.asarray(image), [[0, 127], [255, 63]])
    # Unscaled grayscale beyond 255 is a 32-bit integer image.
    assert keras.utils.array_to_img(np.full((2, 2, 1), 300.0), scale=False).mode == "I"
    assert keras.utils.array_to_img(np.zeros((2, 3, 4))).mode == "RGBA"
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        keras.utils.array_to_img(np.zeros((2, 2, 2)))


def test_img_to_array_shapes_and_dtype():
    image = keras.utils.array_to_img(np.random.default_rng(0).random((4, 5, 3)))
    array = keras.utils.img_to_array(image)
    assert array.shape == (4, 5, 3) and array.dtype == np.float32
    assert keras.utils.img_to_array(image, data_format="channels_first").shape == (3, 4, 5)
    gray = keras.utils.array_to_img(np.random.default_rng(0).random((4, 5, 1)))
    assert keras.utils.img_to_array(gray, dtype="uint8").shape == (4, 5, 1)


def test_save_and_load_with_a_target_size(tmp_path):
    keras.utils.save_img(tmp_path / "x.png", np.random.default_rng(0).random((9, 12, 3)))
    image = keras.utils.load_img(tmp_path / "x.png", target_size=(3, 4))
    assert (image.mode, image.size) == ("RGB", (4, 3))
    gray = keras.utils.load_img(str(tmp_path / "x.png"), color_mode="grayscale")
    assert gray.mode == "L"
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(tmp_path / "x.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        keras.utils.load_img(tmp_path / "x.png", target_size=(3, 4), interpolation="cubic")


def test_keras_preprocessing_aliases_the_utilities():
    assert keras.preprocessing.image.img_to_array is keras.utils.img_to_array
    assert keras.preprocessing.sequence.pad_sequences is keras.utils.pad_sequences
    assert keras.preprocessing.timeseries_dataset_from_array is \
        keras.utils.timeseries_dataset_from_array
