"""Colour and intensity augmentation: what each transformation does to known pixels, which
images a random probability touches, seeds, dtypes and errors. Numbers against Keras itself are
in tests/parity/test_augmentation_parity.py."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

RED = torch.tensor([[[[255.0, 0.0, 0.0]]]])  # one red pixel, channels_last


def _images(seed=0, shape=(8, 6, 7, 3), high=255.0):
    return torch.as_tensor(np.random.default_rng(seed).uniform(0, high, shape).astype("float32"))


def test_grayscale_sets_every_channel_to_the_luma_and_keeps_the_dtype():
    images = _images().to(torch.uint8)
    out = layers.RandomGrayscale(1.0)(images)
    assert out.dtype == torch.uint8 and out.shape == images.shape
    assert (out == out[..., :1]).all()
    assert torch.equal(layers.RandomGrayscale(0.0)(images), images)
    assert layers.RandomGrayscale()(keras.Input((4, 4, 3), dtype="uint8")).dtype == torch.uint8
    halves = [torch.equal(o, i) for o, i in zip(layers.RandomGrayscale(0.5, seed=1)(
        _images(shape=(64, 2, 2, 3))), _images(shape=(64, 2, 2, 3)))]
    assert 15 < sum(halves) < 49


def test_half_a_hue_turn_gives_the_opposite_colour():
    assert layers.RandomHue((1.0, 1.0))(RED).flatten().tolist() == pytest.approx([0, 255, 255])
    assert layers.RandomHue((0.0, 0.0))(RED).flatten().tolist() == pytest.approx([255, 0, 0])


def test_saturation_factor_one_half_keeps_zero_grays_and_one_saturates():
    images = _images(high=1.0)
    kept = layers.RandomSaturation((0.5, 0.5), value_range=(0, 1))(images)
    torch.testing.assert_close(kept, images, atol=1e-5, rtol=1e-5)
    gray = layers.RandomSaturation((0.0, 0.0))(images)
    assert torch.allclose(gray, gray.amax(-1, keepdim=True))  # every channel the value
    full = layers.RandomSaturation((1.0, 1.0))(images)  # saturation 1 whatever the range
    assert torch.allclose(full.amin(-1), torch.zeros(()), atol=1e-5)
    assert full.max() <= images.max() + 1e-5


def test_color_degeneration_blends_towards_gray_and_clips():
    images = _images()
    gray = 0.2989 * images[..., :1] + 0.587 * images[..., 1:2] + 0.114 * images[..., 2:]
    out = layers.RandomColorDegeneration((1.0, 1.0))(images)
    torch.testing.assert_close(out, gray.expand_as(images).clamp(0, 255))
    away = layers.RandomColorDegeneration((-1.0, -1.0))(images)
    assert away.min() >= 0 and away.max() <= 255


def test_sharpness_one_half_is_the_identity_and_zero_smooths():
    images = _images()
    torch.testing.assert_close(layers.RandomSharpness((0.5, 0.5))(images), images)
    flat = torch.full((1, 5, 5, 1), 130.0)
    smooth = layers.RandomSharpness((0.0, 0.0))(flat)
    assert smooth[0, 2, 2, 0] == pytest.approx(130.0)  # inside: the kernel sums to one
    assert smooth[0, 0, 0, 0] == pytest.approx(130.0 * 8 / 13)  # corner: zero padding


def test_gaussian_blur_keeps_flat_interiors_and_blurs_with_probability():
    flat = torch.full((2, 7, 7, 3), 50.0)
    out = layers.RandomGaussianBlur((1.0, 1.0), kernel_size=(3, 5))(flat)
    assert out.shape == flat.shape
    torch.testing.assert_close(out[:, 1:-1, 2:-2], flat[:, 1:-1, 2:-2])
    images = _images(shape=(64, 5, 5, 1))
    blurred = layers.RandomGaussianBlur((0.5, 0.5), sigma=(0.6, 0.6), seed=2)(images)
    kept = [torch.equal(o, i) for o, i in zip(blurred, images)]
    assert 15 < sum(kept) < 49
    with pytest.raises(ValueError, match="kernel_size to be an odd positive integer"):
        layers.RandomGaussianBlur(kernel_size=4)


def test_invert_posterize_and_solarize_levels():
    images = _images()
    torch.testing.assert_close(layers.RandomInvert((1.0, 1.0))(images), 255 - images)
    poster = layers.RandomPosterization((3, 3))(images)
    assert torch.equal(poster, torch.floor(images / 32) * 32)
    drawn = layers.RandomPosterization(4, seed=0)(images)  # 1 to 3 bits, per image
    assert all(len(torch.unique(d)) <= 8 for d in drawn)
    solar = layers.Solarization(threshold_factor=(0.5, 0.5))(images)
    torch.testing.assert_close(solar, torch.where(images < 127.5, images, 255 - images))
    unit = layers.Solarization(addition_factor=(0.2, 0.2), threshold_factor=(1.0, 1.0),
                               value_range=(0, 1))(images / 255)
    added = (images / 255 + 0.2).clamp(0, 1)  # only the saturated levels reach the threshold
    torch.testing.assert_close(unit, torch.where(added < 1, added, 0.0), atol=1e-6, rtol=1e-5)


def test_auto_contrast_stretches_each_channel_and_applies_in_inference():
    images = _images() * 0.5 + 20
    images[0, ..., 1] = 7.0  # a flat channel is left as it is
    out = layers.AutoContrast()(images)
    assert torch.allclose(out[1:].amin((1, 2)), torch.zeros(()), atol=1e-4)
    assert torch.allclose(out[1:].amax((1, 2)), torch.full((), 255.0))
    assert (out[0, ..., 1] == 7.0).all()
    inputs = keras.Input((6, 7, 3))
    model = keras.Model(inputs, layers.AutoContrast()(inputs))
    np.testing.assert_allclose(model.predict(images.numpy(), verbose=0), out.numpy(), atol=1e-4)


def test_equalization_flattens_each_image_s_histogram_on_its_own():
    images = _images(shape=(4, 16, 16, 3)) ** 2 / 255  # skewed towards dark
    out = layers.Equalization()(images)
    for image, equalized in zip(images, out):
        alone = layers.Equalization()(image[None])[0]
        torch.testing.assert_close(equalized, alone)
        assert equalized.median() > image.median()
    torch.testing.assert_close(layers.Equalization()(images[0]), out[0])  # a single image
    flat = torch.full((1, 4, 4, 1), 9.0)
    assert torch.equal(layers.Equalization()(flat), flat)
    with pytest.raises(ValueError, match="positive integer for bins"):
        layers.Equalization(bins=0)


def test_color_jitter_applies_its_layers_in_keras_s_order():
    images = _images()
    jitter = layers.RandomColorJitter(brightness_factor=(0.1, 0.1), contrast_factor=0.0)
    torch.testing.assert_close(jitter(images), (images + 25.5).clamp(0, 255))
    assert [type(j).__name__ for j in jitter.jitters] == ["RandomBrightness", "RandomContrast"]
    assert torch.equal(layers.RandomColorJitter()(images), images)


def test_a_seed_repeats_the_colour_draws():
    images = _images()
    for make in (lambda: layers.RandomHue(0.5, seed=3), lambda: layers.RandomInvert(seed=3),
                 lambda: layers.RandomColorJitter(brightness_factor=0.3, hue_factor=0.3,
                                                  seed=3)):
        assert torch.equal(make()(images), make()(images))


def test_rgb_layers_name_the_channels_they_need():
    with pytest.raises(keras.ShapeError, match="expects 3 channels, but received the input "
                                               r"\(4, 5, 5, 2\)"):
        layers.RandomHue(0.2)(torch.zeros(4, 5, 5, 2))
    with pytest.raises(keras.ShapeError, match="expects 1 or 3 channels"):
        layers.RandomGrayscale()(keras.Input((3, 5, 5)))  # channels_last: 5 channels
    assert layers.RandomGrayscale(data_format="channels_first")(keras.Input((3, 5, 5))).shape == (
        None, 3, 5, 5)


def test_bad_colour_arguments_are_named():
    with pytest.raises(ValueError, match=r"factor to be a probability in \[0, 1\]"):
        layers.RandomGrayscale(1.5)
    with pytest.raises(ValueError, match=r"value_range to be a pair of different numbers"):
        layers.RandomInvert(value_range=(0, 255, 3))
    with pytest.raises(ValueError, match=r"factor to be a number or a pair of numbers in \[1, 8\]"):
        layers.RandomPosterization(9)
    with pytest.raises(ValueError, match=r"threshold_factor to be a number in \[0, 1\]"):
        layers.Solarization(threshold_factor=(-0.1, 0.5))
    with pytest.raises(ValueError, match=r"sigma to be a number or a pair of numbers in \[0, 1\]"):
        layers.RandomGaussianBlur(sigma=2.0)
