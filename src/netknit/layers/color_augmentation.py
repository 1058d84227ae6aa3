"""Random colour and intensity augmentation: RandomContrast, RandomBrightness, RandomGrayscale,
RandomHue, RandomSaturation, RandomColorJitter, RandomColorDegeneration, RandomSharpness,
RandomGaussianBlur, RandomInvert, RandomPosterization, Solarization, AutoContrast,
Equalization and ContrastLimitedAdaptiveHistogramEqualization.

They share `augmentation.py`'s machinery (training only, per-image draws, layouts, seeds) and
change pixel values in place, never their positions. `value_range` is the range the pixel values
lie in, `(0, 255)` by default: layers that think in 8-bit levels (posterization, solarization,
auto-contrast, equalization) map it to [0, 255] and back, hue to [0, 1] and back, and most clip
their results to it. RGB conversions (grayscale, HSV) are Keras's: grayscale weights
0.2989/0.587/0.114, HSV as in DeepMind's dm_pix.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..graph import nest
from ..ops.numpy import pad
from .augmentation import (
    _as_given,
    _Augmentation,
    _check_value_range,
    _factor_range,
    _is_number,
    _unit_pair,
    gaussian_blur,
)
from .convolutional import normalize_tuple
from .core import check_positive_int

_EPSILON = 1e-7  # Keras's backend epsilon, in the saturation factor


# ---------------------------------------------------------------------- pixel arithmetic


def _rescale(images: torch.Tensor, source, target) -> torch.Tensor:
    """Pixel values mapped linearly from the range `source` to `target`."""
    if tuple(source) == tuple(target):
        return images
    return (images - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]


def grayscale(images: torch.Tensor) -> torch.Tensor:
    """The luma of channels-first RGB images, `(batch, 1, height, width)`; one-channel images are
    returned as they are."""
    if images.shape[1] == 1:
        return images
    red, green, blue = images.unbind(1)
    return (0.2989 * red + 0.587 * green + 0.114 * blue).unsqueeze(1)


def rgb_to_hsv(images: torch.Tensor) -> torch.Tensor:
    """Channels-first RGB -> HSV, hue and saturation in [0, 1], value the largest channel."""
    images = torch.where(images.abs() < torch.finfo(images.dtype).eps, 0.0, images)
    red, green, blue = images.unbind(1)
    value = torch.maximum(torch.maximum(red, green), blue)
    spread = value - torch.minimum(torch.minimum(red, green), blue)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(value == green, norm * (blue - red) + 2.0 / 6.0,
                      norm * (red - green) + 4.0 / 6.0)
    hue = torch.where(value == red, norm * (green - blue), hue)
    hue = torch.where(spread > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], 1)


def hsv_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """Channels-first HSV -> RGB, the inverse of `rgb_to_hsv`."""
    hue, saturation, value = images.unbind(1)
    sector = torch.remainder(hue, 1.0) * 6.0
    weights = [(torch.abs(sector - 3.0) - 1.0).clamp(0, 1),
               (2.0 - torch.abs(sector - 2.0)).clamp(0, 1),
               (2.0 - torch.abs(sector - 4.0)).clamp(0, 1)]
    return torch.stack([value * (1.0 - saturation + saturation * w) for w in weights], 1)


def _per_image(values: torch.Tensor) -> torch.Tensor:
    """`(batch,)` values shaped to broadcast over channels-first images."""
    return values[:, None, None, None]


class _ValueRangeAugmentation(_Augmentation):
    """An augmentation of pixel values in `value_range`, by a factor drawn per image."""

    _config_keys = ("factor", "value_range", "seed")

    # Where `factor` may lie (Keras's bounds for each layer).
    _factor_bounds = (-1, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_range("factor", factor, bounds=self._factor_bounds)
        self.value_range = _check_value_range(value_range)

    def _factors(self, images) -> torch.Tensor:
        """One factor per image, drawn from `factor`, shaped to broadcast over the images."""
        return _per_image(self._uniform(images.shape[0], *self.factor, images)).to(images.dtype)


# ---------------------------------------------------------------------- contrast, brightness


class RandomContrast(_ValueRangeAugmentation):
    """Scales each image's deviation from its per-channel mean by a random factor, in training:
    `(x - mean) * f + mean`, clipped to `value_range`.

    Args:
        factor: `f` is drawn from `[1 - lower, 1 + upper]`, with `(lower, upper)` as Keras makes
            it from `factor` in [0, 1] (a single number `a` gives `(0, a)`: contrast only grows).
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the factors repeatable.
    """

    _factor_bounds = (0, 1)

    def _augment(self, images):
        factor = _per_image(self._uniform(images.shape[0], 1 - self.factor[0],
                                          1 + self.factor[1], images)).to(images.dtype)
        mean = images.mean(dim=(-2, -1), keepdim=True)
        return ((images - mean) * factor + mean).clamp(*self.value_range)


class RandomBrightness(_ValueRangeAugmentation):
    """Adds a random amount to each image, in training: `factor * (high - low)` with the factor
    drawn from `(lower, upper)`, clipped to `value_range`.

    Args:
        factor: a number `a` in [0, 1] for `(-a, a)`, or a pair `(lower, upper)` in [-1, 1].
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the draws repeatable.

    Integer images stay integers, as in Keras: the amount is truncated to a whole number (the
    sum is clipped to `value_range`, where Keras's 8-bit sum wraps around).
    """

    _keeps_dtype = True

    def _augment(self, images):
        low, high = self.value_range
        if images.is_floating_point():
            return (images + self._factors(images) * (high - low)).clamp(low, high)
        computed = images.to(self._variable_dtype)
        amounts = (self._factors(computed) * (high - low)).trunc()
        return (computed + amounts).clamp(low, high).to(images.dtype)


# ---------------------------------------------------------------------- colour


class RandomGrayscale(_Augmentation):
    """Turns each image to grayscale with probability `factor`, in training, keeping its number
    of channels (all equal to the luma) and its dtype.

    Args:
        factor: the probability, in [0, 1] (default 0.5).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable (Keras lists no seed in this layer's config).

    Input shape: RGB (3 channels) or grayscale (1 channel) images.

    >>> RandomGrayscale(1.0)(torch.rand(2, 4, 4, 3)).std(-1).max() < 1e-6
    tensor(True)
    """

    _config_keys = ("factor",)
    _keeps_dtype = True
    _channels = (1, 3)

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not _is_number(factor) or not 0 <= factor <= 1:
            raise ValueError(f"Expected factor to be a probability in [0, 1]. Received: "
                             f"factor={factor!r}")
        self.factor = factor

    def _augment(self, images):
        applies = _per_image(self._uniform(images.shape[0], 0.0, 1.0, images) < self.factor)
        computed = images if images.is_floating_point() else images.to(self._variable_dtype)
        return torch.where(applies, grayscale(computed).to(images.dtype), images)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return getattr(inputs, "dtype", self.dtype)  # a dict of images and labels: the default


class RandomHue(_ValueRangeAugmentation):
    """Rotates the hue of each RGB image by a random amount, in training.

    Each image's hue turns by `f / 2` of the colour wheel, `f` drawn from `factor`, in either
    direction with probability 1/2 (`f = 1` turns it by half, to the opposite colours).

    Args:
        factor: a number in [0, 1] for `(0, factor)`, or a pair.
        value_range: the range of the pixel values, `(0, 255)` by default.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.
    """

    _channels = (3,)
    _factor_bounds = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)

    def _augment(self, images):
        batch = images.shape[0]
        direction = torch.where(self._uniform(batch, 0.0, 1.0, images) > 0.5, -1.0, 1.0)
        turn = direction * self._uniform(batch, *self.factor, images) * 0.5
        hsv = rgb_to_hsv(_rescale(images, self.value_range, (0, 1)))
        hue = hsv[:, 0] + turn[:, None, None].to(images.dtype)
        hue = torch.where(hue > 1.0, hue - 1.0, hue)
        hue = torch.where(hue < 0.0, hue + 1.0, hue)
        rgb = hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], 1)).clamp(0, 1)
        return _rescale(rgb, (0, 1), self.value_range)


class RandomSaturation(_ValueRangeAugmentation):
    """Scales the saturation of each RGB image by a random amount, in training.

    A factor `f` drawn from `factor` multiplies the saturation by `f / (1 - f)`: 0.5 leaves the
    image as it is, 0 (or less) makes it gray, 1 fully saturated.

    Args:
        factor: a number `a` in [0, 1] for `(-a, a)` (Keras's range: the draws below 0 give
            gray images), or a pair.
        value_range: the range of the pixel values, `(0, 255)` by default.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.
    """

    _channels = (3,)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)

    def _augment(self, images):
        factor = self._uniform(images.shape[0], *self.factor, images)
        scale = (factor / (1 - factor + _EPSILON))[:, None, None].to(images.dtype)
        hsv = rgb_to_hsv(images)
        # Saturation lives in [0, 1] whatever the value range (Keras clips it to value_range,
        # which leaves it unbounded for (0, 255) images).
        saturation = (hsv[:, 1] * scale).clamp(0, 1)
        return hsv_to_rgb(torch.stack([hsv[:, 0], saturation, hsv[:, 2]], 1))


class RandomColorDegeneration(_ValueRangeAugmentation):
    """Blends each image with its grayscale version by a random amount, in training:
    `x + f * (gray - x)`, clipped to `value_range`.

    Args:
        factor: `f`; a number `a` in [0, 1] for `(-a, a)` (Keras's range: negative draws push
            colours away from gray), or a pair in [-1, 1]. 0 leaves the image, 1 makes it gray.
        value_range: the range of the pixel values, `(0, 255)` by default.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.
    """

    _channels = (1, 3)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)

    def _augment(self, images):
        blended = images + self._factors(images) * (grayscale(images) - images)
        return blended.clamp(*self.value_range)


class RandomColorJitter(_Augmentation):
    """Changes brightness, contrast, saturation and hue of each image at random, in training, in
    that order, each by its own layer (RandomBrightness, RandomContrast, RandomSaturation,
    RandomHue) when its factor is given.

    Args:
        value_range: the range of the pixel values, `(0, 255)` by default.
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the `factor` of each
            layer (see them); None (default) leaves that property alone.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _config_keys = ("value_range", "brightness_factor", "contrast_factor", "saturation_factor",
                    "hue_factor", "seed")

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = _check_value_range(value_range)
        self.brightness_factor = _as_given(brightness_factor)
        self.contrast_factor = _as_given(contrast_factor)
        self.saturation_factor = _as_given(saturation_factor)
        self.hue_factor = _as_given(hue_factor)
        jitters = [(RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                   (RandomSaturation, saturation_factor), (RandomHue, hue_factor)]
        self.jitters = torch.nn.ModuleList([
            cls(factor, value_range=value_range, seed=seed, data_format=data_format)
            for cls, factor in jitters if factor is not None])
        if saturation_factor is not None or hue_factor is not None:
            self._channels = (3,)

    def _augment(self, images):
        for jitter in self.jitters:
            images = jitter._augment(images)
        return images


# ---------------------------------------------------------------------- filters


class RandomSharpness(_ValueRangeAugmentation):
    """Sharpens or blurs each image by a random amount, in training.

    The image is smoothed with Keras's 3x3 kernel (1 around, 5 in the middle, over 13; zero
    padding) and blended: `x + (1 - 2 f) * (smooth - x)`, clipped to `value_range`. `f = 0`
    gives the smoothed image, 0.5 the image itself, 1 a sharpened one.

    Args:
        factor: `f`; a number in [0, 1] for `(0, factor)`, or a pair.
        value_range: the range of the pixel values, `(0, 255)` by default.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.
    """

    _casts_in_inference = True

    _factor_bounds = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)

    def _augment(self, images):
        channels = images.shape[1]
        kernel = torch.ones(3, 3, dtype=images.dtype, device=images.device)
        kernel[1, 1] = 5.0
        kernel = (kernel / 13.0).expand(channels, 1, 3, 3)
        smooth = F.conv2d(images, kernel, padding=1, groups=channels)
        blend = 1.0 - 2.0 * self._factors(images)
        return (images + blend * (smooth - images)).clamp(*self.value_range)


def _odd_kernel_size(kernel_size) -> tuple[int, int]:
    sizes = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    if len(sizes) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                                  and s % 2 == 1 for s in sizes):
        raise ValueError("Expected kernel_size to be an odd positive integer or a pair of them "
                         f"(height, width). Received: kernel_size={kernel_size!r}")
    return sizes


class RandomGaussianBlur(_ValueRangeAugmentation):
    """Blurs each image with a Gaussian kernel, with a random probability, in training.

    The standard deviations along x and y are drawn from `sigma` once per batch; the kernel is
    `kernel_size`, zero-padded at the borders, and the result is clipped to `value_range`.

    Args:
        factor: the probability of blurring each image is drawn from `(0, factor)` for a number
            in [0, 1] (default 1.0), or from a pair.
        kernel_size: an odd size, or a pair `(height, width)` of them (default 3).
        sigma: the standard deviation range: a number in [0, 1] for `(0, sigma)` (default 1.0),
            or a pair.
        value_range: the range of the pixel values, `(0, 255)` by default.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.
    """

    _config_keys = ("factor", "kernel_size", "sigma", "value_range", "seed")
    _casts_in_inference = True

    _factor_bounds = (0, 1)

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)
        self.kernel_size = _odd_kernel_size(kernel_size)
        self.sigma = _factor_range("sigma", sigma, bounds=(0, 1))

    def _augment(self, images):
        applies = self._chance(images.shape[0], self.factor, images)
        sigma = self._uniform(2, *self.sigma, images).to(images.dtype) + 1e-6
        blurred = gaussian_blur(images, self.kernel_size, sigma[1], sigma[0])
        return torch.where(_per_image(applies), blurred, images).clamp(*self.value_range)


# ---------------------------------------------------------------------- levels


class RandomInvert(_ValueRangeAugmentation):
    """Inverts each image, `high - x`, with a random probability, in training.

    Args:
        factor: the probability of inverting each image is drawn from `(0, factor)` for a
            number in [0, 1] (default 1.0), or from a pair.
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _factor_bounds = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)  # Keras's defaults

    def _augment(self, images):
        applies = self._chance(images.shape[0], self.factor, images)
        return torch.where(_per_image(applies), self.value_range[1] - images, images)


class RandomPosterization(_ValueRangeAugmentation):
    """Keeps only the top bits of each 8-bit channel value, a random number of them per image,
    in training.

    Values are mapped from `value_range` to [0, 255], truncated to integers (clipped to [0, 255]
    first), lowered to a multiple of `2 ** (8 - bits)`, and mapped back.

    Args:
        factor: the number of bits, in [1, 8]: a number `b` draws from 1 to `b - 1` (Keras's
            range), a pair `(lower, upper)` from `lower` to `upper - 1`, or exactly `lower` when
            both are equal.
        value_range: the range of the pixel values, `(0, 255)` by default.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.
    """

    _factor_bounds = (1, 8)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)

    def _augment(self, images):
        batch = images.shape[0]
        lower, upper = int(self.factor[0]), int(self.factor[1])
        if lower == upper:
            bits = torch.full((batch,), lower, device=images.device)
        else:
            bits = self._draw(lambda g, d: torch.randint(lower, upper, (batch,), generator=g,
                                                         device=d), images)
        step = _per_image(2.0 ** (8 - bits)).to(images.dtype)
        levels = _rescale(images, self.value_range, (0, 255)).clamp(0, 255).floor()
        return _rescale(torch.floor(levels / step) * step, (0, 255), self.value_range)


class Solarization(_Augmentation):
    """Solarizes each image, in training: in 8-bit levels, a random amount is added (clipped to
    [0, 255]) and every level at or above a random threshold is inverted, `255 - x`.

    Args:
        addition_factor: the amount added, as a fraction of the value range: a number in [0, 1]
            for `(0, addition_factor)` (default 0), or a pair.
        threshold_factor: the threshold, as a fraction of the value range, the same way (default
            0: every level is inverted).
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _config_keys = ("value_range", "addition_factor", "threshold_factor", "seed")
    _casts_in_inference = True

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.addition_factor = _unit_pair("addition_factor", addition_factor, symmetric=False)
        self.threshold_factor = _unit_pair("threshold_factor", threshold_factor,
                                           symmetric=False)
        self.value_range = _check_value_range(value_range)

    def _augment(self, images):
        batch = images.shape[0]
        low, high = (255 * f for f in self.addition_factor)
        additions = _per_image(self._uniform(batch, low, high, images)).to(images.dtype)
        low, high = (255 * f for f in self.threshold_factor)
        thresholds = _per_image(self._uniform(batch, low, high, images)).to(images.dtype)
        levels = (_rescale(images, self.value_range, (0, 255)) + additions).clamp(0, 255)
        levels = torch.where(levels < thresholds, levels, 255 - levels)
        return _rescale(levels, (0, 255), self.value_range)


class AutoContrast(_Augmentation):
    """Stretches each channel of each image to the full value range: its lowest value becomes
    `low`, its highest `high` (a channel of one value is left as it is).

    Not random, and applied in inference too, as Keras does.

    Args:
        value_range: the range of the pixel values, `(0, 255)` by default.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    >>> AutoContrast(value_range=(0, 1))(torch.tensor([[[[0.2], [0.6]]]])).flatten()
    tensor([0., 1.])
    """

    _config_keys = ("value_range",)
    _in_inference = True

    def __init__(self, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = _check_value_range(value_range)

    def _augment(self, images):
        levels = _rescale(images, self.value_range, (0, 255))
        low = levels.amin(dim=(-2, -1), keepdim=True)
        high = levels.amax(dim=(-2, -1), keepdim=True)
        scale = 255.0 / torch.where(high > low, high - low, 1.0)
        stretched = _rescale((levels * scale - low * scale).clamp(0, 255), (0, 255),
                             self.value_range)
        return torch.where(high > low, stretched, images)


class Equalization(_Augmentation):
    """Equalizes the histogram of each channel of each image: its values are spread so that
    their cumulative distribution over `bins` levels becomes roughly linear.

    Not random. As Keras documents, it applies in inference too (Keras 3.15.1's layer itself
    passes images through in inference, and cannot be placed in a functional model); and each
    image gets its own histograms (Keras 3.15.1 counts one histogram per channel over the
    whole batch: the same for a single image).

    Args:
        value_range: the range of the pixel values, `(0, 255)` by default.
        bins: the number of histogram bins (default 256).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _config_keys = ("bins", "value_range")
    _in_inference = True

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = _check_value_range(value_range)
        self.bins = check_positive_int("bins", bins)

    def _augment(self, images):
        batch, channels, height, width = images.shape
        levels = _rescale(images, self.value_range, (0, 255)).reshape(batch * channels, -1)
        bins = self.bins
        # Keras's bin of a level (truncated toward zero) and, below, its lookup index.
        index = (levels * (bins - 1) / 255).to(torch.int64).clamp(0, bins - 1)
        histogram = torch.zeros(batch * channels, bins, dtype=torch.int64,
                                device=images.device).scatter_add_(1, index,
                                                                   torch.ones_like(index))
        cdf = histogram.cumsum(-1)
        total = cdf[:, -1:]
        first = torch.where(cdf > 0, cdf, total).amin(-1, keepdim=True)
        spread = torch.where(total == first, 1, total - first)
        table = torch.round(((cdf - first) * 255).to(images.dtype) / spread.to(images.dtype))
        lookup = (levels / 255.0 * (bins - 1)).clamp(0, bins - 1).to(torch.int64)
        equalized = torch.gather(table.clamp(0, 255), 1, lookup)
        # A channel of values in one bin is left as it is.
        flat = (histogram > 0).sum(-1, keepdim=True) <= 1
        equalized = torch.where(flat, levels, equalized)
        return _rescale(equalized, (0, 255), self.value_range).reshape(images.shape)


def _float32_pair(pair) -> tuple[float, float]:
    """The bounds of a range rounded to float32, in which Keras maps values between ranges."""
    return tuple(torch.tensor(pair, dtype=torch.float32).tolist())


def _tile_neighbours(size: int, tile: int, grid: int, device) -> tuple[torch.Tensor, ...]:
    """Along one axis, for each pixel: the tiles whose centres lie before and after it (past the
    outer centres, the edge tile twice) and the weight of the one after, in float32 as Keras."""
    position = (torch.arange(size, dtype=torch.float32, device=device) - tile / 2.0) / tile + 1.0
    before = position.floor()
    return ((before - 1).clamp(0, grid - 1).long(), before.clamp(0, grid - 1).long(),
            position - before)


class ContrastLimitedAdaptiveHistogramEqualization(_Augmentation):
    """Equalizes each image region by region, with the contrast gain limited (CLAHE).

    Each image is cut into a `tile_grid_size` grid of tiles (extended by mirroring its last rows
    and columns when its size is not a multiple of the grid). Each channel of each tile gets a
    histogram of its 8-bit levels (values mapped from `value_range` to [0, 255] and truncated);
    counts above `clip_limit` times the mean count are cut and spread evenly over all 256
    levels, and the cumulative histogram, stretched to [0, 255], maps the tile's levels. A pixel
    takes the bilinear blend of the maps of the four tiles whose centres surround it (past the
    outer centres, the nearest ones), so no seams show between tiles.

    Not random, and applied in inference too, as Keras does. Images keep their dtype (integer
    results are truncated). The numbers are those of Keras 3.15.1 on its JAX backend (and, by
    its code, TensorFlow). On its torch backend Keras counts the histograms in integers, so the
    limit is truncated to a whole count (to 0 for tiles under 64 pixels at the default 4.0: the
    images come back barely changed), and it extends the images by repeating their last row and
    column (torch's "replicate" stands in for "symmetric"). Keras also raises on a dict with
    labels, which netknit passes through; and netknit sorts a `value_range` given high first.

    Args:
        value_range: the range of the pixel values, `(0, 255)` by default.
        clip_limit: how many times the mean count a histogram bin may hold, a number >= 0
            (default 4.0); 0 does not clip, giving plain adaptive equalization.
        tile_grid_size: the number of tiles `(rows, columns)`, default `(8, 8)` (one number
            for both).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)` (or channels first), or a single image.

    Output shape: as the input.

    >>> dim = torch.linspace(100, 120, 256).reshape(1, 16, 16, 1)  # levels 100 to 120
    >>> clahe = ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))
    >>> [round(float(v)) for v in clahe(dim).aminmax()]  # stretched, within the limit
    [88, 143]
    """

    _config_keys = ("value_range", "clip_limit", "tile_grid_size")
    _in_inference = True
    _keeps_dtype = True

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = _check_value_range(value_range)
        if not _is_number(clip_limit) or clip_limit < 0:
            raise ValueError("Expected clip_limit to be a number >= 0 (0 turns clipping off). "
                             f"Received: clip_limit={clip_limit!r}")
        self.clip_limit = clip_limit
        self.tile_grid_size = normalize_tuple(tile_grid_size, 2, "tile_grid_size")

    def _augment(self, images):
        batch, channels, height, width = images.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        value_range = _float32_pair(self.value_range)
        levels = images
        if value_range != (0, 255):  # Keras maps the values in float32, only when it must
            levels = _rescale(images.float(), value_range, (0, 255))
        levels = levels.clamp(0, 255).long()

        # 1. One 256-bin histogram per channel of each tile, counted on whole tiles.
        padded = pad(levels, [(0, 0), (0, 0), (0, tile_h * grid_h - height),
                              (0, tile_w * grid_w - width)], mode="symmetric")
        tiles = padded.reshape(batch, channels, grid_h, tile_h, grid_w, tile_w)
        tiles = tiles.permute(0, 2, 4, 1, 3, 5).reshape(-1, tile_h * tile_w)
        bins = tiles + 256 * torch.arange(tiles.shape[0], device=images.device)[:, None]
        histograms = torch.bincount(bins.flatten(), minlength=256 * tiles.shape[0])
        histograms = histograms.reshape(batch, grid_h, grid_w, channels, 256).float()

        # 2. Cut the counts above the limit and spread the excess over every bin.
        area = tile_h * tile_w
        if self.clip_limit > 0:
            clipped = histograms.clamp(0, self.clip_limit * area / 256.0)
            histograms = clipped + (histograms - clipped).sum(-1, keepdim=True) / 256.0

        # 3. Each tile's map of levels: its cumulative histogram stretched to [0, 255].
        cdf = histograms.cumsum(-1)
        lowest = cdf.amin(-1, keepdim=True)
        spread = area - lowest
        maps = ((cdf - lowest) * 255.0 / torch.where(spread == 0, 1.0, spread)).clamp(0, 255)

        # 4. Blend the maps of the four tiles around each pixel, read at the pixel's level.
        top, bottom, down = (t[:, None] for t in _tile_neighbours(height, tile_h, grid_h,
                                                                  images.device))
        left, right, across = _tile_neighbours(width, tile_w, grid_w, images.device)
        column, row = 256 * channels, 256 * channels * grid_w
        # Where each pixel's level lies in the maps of the first tile of its image and channel.
        own = (torch.arange(batch, device=images.device)[:, None, None, None] * grid_h * row
               + torch.arange(channels, device=images.device)[:, None, None] * 256 + levels)
        maps = maps.flatten()

        def read(rows, columns):
            return maps[own + rows * row + columns * column]

        upper = read(top, left) * (1.0 - across) + read(top, right) * across
        lower = read(bottom, left) * (1.0 - across) + read(bottom, right) * across
        equalized = upper * (1.0 - down) + lower * down
        return _rescale(equalized, (0, 255), value_range).to(images.dtype)

    def compute_output_dtype(self, inputs) -> torch.dtype | list[torch.dtype]:
        # Images keep their dtype and labels pass through: each output has its input's dtype.
        dtypes = [t.dtype for t in nest.flatten(inputs)]
        return dtypes if isinstance(inputs, dict) else dtypes[0]
