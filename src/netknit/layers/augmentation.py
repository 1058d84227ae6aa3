"""Random image augmentation: RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomContrast, RandomBrightness, RandomCrop.

As in Keras, they transform only in training: inside a model, `fit` augments and `predict` and
`evaluate` pass images through unchanged (RandomCrop, whose output has its own size, centre-crops
and resizes instead). Called directly on images, they augment unless given
`training=False` (Keras's default for these layers). Each image of a batch gets its own random
transformation. `seed=` makes the draws repeatable (from a generator of the layer's own); the
values differ from Keras's, whose random streams are not torch's.

Images are `(batch, height, width, channels)` (or `channels_first`), or a single image without
the batch axis. Geometric transformations sample the input with `grid_sample`; outside the image
`fill_mode` decides: `"reflect"` (d c b a | a b c d | d c b a), `"wrap"` (a b c d | a b c d),
`"nearest"` (a a a a | a b c d) or `"constant"` (`fill_value`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..graph.symbolic import SymbolicTensor
from .convolutional import check_spatial_input, normalize_data_format
from .core import check_positive_int
from .layer import Layer
from .preprocessing import resize_images

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def _factor_range(name: str, factor, bounds=(-1, 1)) -> tuple[float, float]:
    """Keras's `(lower, upper)` from one number `f` (`(-f, f)`, cut to `bounds`) or a pair."""
    message = (f"Expected {name} to be a number or a pair of numbers in [{bounds[0]}, "
               f"{bounds[1]}]. Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(isinstance(f, (int, float)) for f in factor):
            raise ValueError(message)
        lower, upper = sorted(factor)
        if lower > bounds[1] or upper < bounds[0]:
            raise ValueError(message)
        return lower, upper
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not (
            bounds[0] <= factor <= bounds[1]):
        raise ValueError(message)
    return max(-abs(factor), bounds[0]), abs(factor)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"Expected {name} to be one of {', '.join(choices)}. Received: "
                         f"{name}={value!r}")
    return value


class _Augmentation(Layer):
    """Random per-image transformations in training, the identity otherwise."""

    _accepts_training = True
    supports_masking = True

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = normalize_data_format(data_format)
        self._generator = None
        if seed is not None:
            self._generator = torch.Generator().manual_seed(int(seed))
        self.built = True

    def __call__(self, *args, **kwargs):
        # Keras's augmentation layers default to training=True when called on images directly;
        # in a model they follow the model (its loop calls them without this method).
        if args and not isinstance(args[0], SymbolicTensor):
            kwargs.setdefault("training", True)
        return super().__call__(*args, **kwargs)

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if not training:
            return inputs
        single = inputs.dim() == 3
        images = inputs.unsqueeze(0) if single else inputs
        if self.data_format == "channels_last":
            images = images.movedim(-1, 1)
        out = self._augment(images)
        if self.data_format == "channels_last":
            out = out.movedim(1, -1)
        return out.squeeze(0) if single else out

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        """Channels-first images `(batch, channels, height, width)` -> transformed."""
        raise NotImplementedError

    def _uniform(self, count: int, lower: float, upper: float, like: torch.Tensor):
        """`count` draws from U(lower, upper), on `like`'s device, from the layer's generator
        when it was given a seed."""
        if self._generator is None:
            draws = torch.rand(count, device=like.device, dtype=torch.float32)
        else:
            draws = torch.rand(count, generator=self._generator).to(like.device)
        return lower + (upper - lower) * draws

    def compute_output_shape(self, input_shape):
        # Symbolic images always have their batch axis; only a tensor may be a single image.
        check_spatial_input(self, input_shape, 2, self.data_format)
        return input_shape

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed}


class RandomFlip(_Augmentation):
    """Flips each image left-right and/or up-down with probability 1/2, in training.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"` (default).
        seed: makes the flips repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    >>> RandomFlip("horizontal")(torch.ones(2, 4, 4, 3), training=False).shape
    torch.Size([2, 4, 4, 3])
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = _check_choice("mode", mode,
                                  ("horizontal", "vertical", "horizontal_and_vertical"))

    def _augment(self, images):
        for axis, applies in ((-1, "horizontal" in self.mode), (-2, "vertical" in self.mode)):
            if applies:
                flip = self._uniform(images.shape[0], 0.0, 1.0, images) < 0.5
                images = torch.where(flip[:, None, None, None], images.flip(axis), images)
        return images

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _AffineAugmentation(_Augmentation):
    """An augmentation that moves pixels: each image gets an affine map from output to input."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = _check_choice("fill_mode", fill_mode, _FILL_MODES)
        self.interpolation = _check_choice("interpolation", interpolation, _INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def _augment(self, images):
        batch, _, height, width = images.shape
        images = images if images.is_floating_point() else images.to(self.dtype)
        # Pixel coordinates of the output grid (pixel centres 0 .. n-1).
        ys, xs = torch.meshgrid(torch.arange(height, device=images.device, dtype=images.dtype),
                                torch.arange(width, device=images.device, dtype=images.dtype),
                                indexing="ij")
        points = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(1, -1, 3)
        matrix = self._matrices(batch, height, width, images).to(images.dtype)
        source = points @ matrix.transpose(1, 2)  # (batch, pixels, 2): where each pixel reads
        x = self._fold(source[..., 0], width)
        y = self._fold(source[..., 1], height)
        grid = torch.stack([(2 * x + 1) / width - 1, (2 * y + 1) / height - 1], -1)
        grid = grid.reshape(batch, height, width, 2)
        shift = self.fill_value if self.fill_mode == "constant" else 0.0
        # grid_sample pads with zeros: sampling `images - fill_value` pads with fill_value.
        out = F.grid_sample(images - shift, grid, mode=self.interpolation,
                            padding_mode="zeros" if self.fill_mode == "constant" else "border",
                            align_corners=False)
        return out + shift

    def _fold(self, coordinate: torch.Tensor, size: int) -> torch.Tensor:
        """Coordinates outside `[0, size)` mapped back in, as `fill_mode` says."""
        if self.fill_mode == "reflect":
            folded = torch.remainder(coordinate + 0.5, 2 * size)
            return torch.where(folded >= size, 2 * size - folded, folded) - 0.5
        if self.fill_mode == "wrap":
            return torch.remainder(coordinate + 0.5, size) - 0.5
        if self.fill_mode == "nearest":
            return coordinate.clamp(0, size - 1)
        return coordinate

    def _matrices(self, batch, height, width, like) -> torch.Tensor:
        """`(batch, 2, 3)` maps from output pixel `(x, y, 1)` to the input pixel it reads."""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


def _about_centre(linear: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`(batch, 2, 2)` linear maps applied about the image centre, as `(batch, 2, 3)`."""
    centre = torch.tensor([(width - 1) / 2, (height - 1) / 2], dtype=linear.dtype,
                          device=linear.device)
    offset = centre - linear @ centre
    return torch.cat([linear, offset[..., None]], -1)


class RandomRotation(_AffineAugmentation):
    """Rotates each image by a random angle about its centre, in training.

    Args:
        factor: a fraction of a full turn: `0.1` draws angles in [-36°, 36°]; a pair
            `(lower, upper)` gives the range.
        fill_mode: `"reflect"` (default), `"wrap"`, `"nearest"` or `"constant"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: makes the angles repeatable.
        fill_value: the value outside the image with `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_range("factor", factor)

    def _matrices(self, batch, height, width, like):
        angle = self._uniform(batch, *self.factor, like) * (2 * math.pi)
        cos, sin = torch.cos(angle), torch.sin(angle)
        linear = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        return _about_centre(linear, height, width)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _as_given(factor):
    """A factor for the config: as given, a pair as a tuple (a saved config reads back a list)."""
    return tuple(factor) if isinstance(factor, list) else factor


def _zoom_or_shift_factors(name: str, factor):
    return None if factor is None else _factor_range(name, factor)


class RandomZoom(_AffineAugmentation):
    """Zooms each image in or out by a random amount about its centre, in training.

    Args:
        height_factor: a fraction of the height: positive zooms out (the image shrinks), negative
            zooms in; `0.2` draws from [-20%, +20%], a pair `(lower, upper)` gives the range.
        width_factor: the same for the width; None (default) zooms both axes alike, keeping the
            aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format: as in RandomRotation.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _as_given(height_factor)
        self.width_factor = _as_given(width_factor)
        self._height_range = _factor_range("height_factor", height_factor)
        self._width_range = _zoom_or_shift_factors("width_factor", width_factor)

    def _matrices(self, batch, height, width, like):
        zoom_y = 1 + self._uniform(batch, *self._height_range, like)
        zoom_x = zoom_y if self._width_range is None else 1 + self._uniform(
            batch, *self._width_range, like)
        zeros = torch.zeros_like(zoom_x)
        linear = torch.stack([torch.stack([zoom_x, zeros], -1), torch.stack([zeros, zoom_y], -1)],
                             -2)
        return _about_centre(linear, height, width)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomTranslation(_AffineAugmentation):
    """Shifts each image by a random fraction of its height and width, in training.

    Args:
        height_factor: a fraction of the height: `0.2` shifts by up to 20% up or down (positive
            is down); a pair `(lower, upper)` gives the range.
        width_factor: the same for the width (positive is right).
        fill_mode, interpolation, seed, fill_value, data_format: as in RandomRotation.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _as_given(height_factor)
        self.width_factor = _as_given(width_factor)
        self._height_range = _factor_range("height_factor", height_factor)
        self._width_range = _factor_range("width_factor", width_factor)

    def _matrices(self, batch, height, width, like):
        shift_y = self._uniform(batch, *self._height_range, like) * height
        shift_x = self._uniform(batch, *self._width_range, like) * width
        ones, zeros = torch.ones_like(shift_x), torch.zeros_like(shift_x)
        return torch.stack([torch.stack([ones, zeros, -shift_x], -1),
                            torch.stack([zeros, ones, -shift_y], -1)], -2)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomContrast(_Augmentation):
    """Scales each image's deviation from its per-channel mean by a random factor, in training:
    `(x - mean) * f + mean`, clipped to `value_range`.

    Args:
        factor: `f` is drawn from `[1 - lower, 1 + upper]`, with `(lower, upper)` as Keras makes
            it from `factor` in [0, 1] (a single number `a` gives `(0, a)`: contrast only grows).
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the factors repeatable.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_range("factor", factor, bounds=(0, 1))
        self.value_range = tuple(value_range)

    def _augment(self, images):
        images = images if images.is_floating_point() else images.to(self.dtype)
        factor = self._uniform(images.shape[0], 1 - self.factor[0], 1 + self.factor[1], images)
        mean = images.mean(dim=(-2, -1), keepdim=True)
        out = (images - mean) * factor.to(images.dtype)[:, None, None, None] + mean
        return out.clamp(*self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(_Augmentation):
    """Adds a random amount to each image, in training: `factor * (high - low)` with the factor
    drawn from `(lower, upper)`, clipped to `value_range`.

    Args:
        factor: a number `a` in [0, 1] for `(-a, a)`, or a pair `(lower, upper)` in [-1, 1].
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the draws repeatable.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_range("factor", factor)
        self.value_range = list(value_range)

    def _augment(self, images):
        images = images if images.is_floating_point() else images.to(self.dtype)
        low, high = self.value_range
        delta = self._uniform(images.shape[0], *self.factor, images) * (high - low)
        return (images + delta.to(images.dtype)[:, None, None, None]).clamp(low, high)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomCrop(_Augmentation):
    """Crops a random `(height, width)` window from the images, in training; in inference, the
    largest centred window of the target's aspect ratio, resized to `(height, width)`.

    In training, one window position is drawn per batch (all its images are cropped alike). An
    image not larger than the target on both sides is not cropped at random: the target-sized
    window at the centred aspect-ratio crop's corner is taken and resized (bilinear) to
    `(height, width)`, as Keras does. The output is always of the layer's dtype (float32).

    Args:
        height, width: the output size.
        seed: makes the window positions repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)` or one image `(height, width, channels)`.
    Output shape: `(batch, target_height, target_width, channels)`.

    >>> RandomCrop(2, 3)(torch.zeros(4, 5, 6, 3)).shape
    torch.Size([4, 2, 3, 3])
    """

    supports_masking = False

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = check_positive_int("height", height)
        self.width = check_positive_int("width", width)

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        single = inputs.dim() == 3
        images = inputs.unsqueeze(0) if single else inputs
        if self.data_format == "channels_last":
            images = images.movedim(-1, 1)
        images = images.to(self.dtype)
        height, width = images.shape[-2:]
        if training and height > self.height and width > self.width:
            # Drawn on the CPU (the layer's generator or torch's), so no device sync.
            top = int(torch.randint(height - self.height + 1, (1,), generator=self._generator))
            left = int(torch.randint(width - self.width + 1, (1,), generator=self._generator))
            out = images[..., top:top + self.height, left:left + self.width]
        else:
            top, left, crop_height, crop_width = self._centred_crop(height, width)
            if training:  # Keras's rule: the target-sized window there, stretched if smaller
                crop_height, crop_width = self.height, self.width
            out = images[..., top:top + crop_height, left:left + crop_width]
            if tuple(out.shape[-2:]) != (self.height, self.width):
                out = resize_images(out, self.height, self.width)
        if self.data_format == "channels_last":
            out = out.movedim(1, -1)
        return out.squeeze(0) if single else out

    def _centred_crop(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the largest centred window of the target's aspect."""
        crop_height = max(min(height, int(width * self.height / self.width)), 1)
        crop_width = max(min(width, int(height * self.width / self.height)), 1)
        return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self.dtype

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, 2, self.data_format)
        channels_last = self.data_format == "channels_last"
        axes = (1, 2) if channels_last else (2, 3)
        output = list(input_shape)
        output[axes[0]], output[axes[1]] = self.height, self.width
        return tuple(output)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
