"""Random image augmentation: the machinery every augmentation layer shares, and the layers that
move pixels: RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomShear,
RandomPerspective, RandomElasticTransform and RandomCrop. Colour and intensity layers live in
`color_augmentation.py`; layers that mix images or combine other layers in
`mixing_augmentation.py`.

As in Keras, they transform only in training: inside a model, `fit` augments and `predict` and
`evaluate` pass images through unchanged (RandomCrop, whose output has its own size, centre-crops
and resizes instead; AutoContrast and Equalization, which are not random, always apply). Called
directly on images, they augment unless given `training=False` (Keras's default for these
layers), and so does a model that holds them, called directly: `model(images)` augments,
`model(images, training=False)` does not. Outside Keras's loops the torch module mode does not
stop them, as Keras has none: after `model.eval()`, pass `training=False` (`export` does). Each
image of a batch gets its own random transformation. `seed=` makes the draws
repeatable (from a generator of the layer's own, on the CPU); the values differ from Keras's,
whose random streams are not torch's. Without a seed, draws come from torch's generator on the
images' device.

Images are `(batch, height, width, channels)` (or `channels_first`), or a single image without
the batch axis; a dict `{"images": ..., "labels": ..., "bounding_boxes": {"boxes": ..., "labels":
...}}` is accepted too (MixUp and CutMix mix the labels, the others pass them on). Bounding boxes
need the layer's `bounding_box_format`; the layers that move pixels move them alike (see
`boxes.py`), except RandomElasticTransform and CutMix, which refuse them as Keras does. Integer
images are computed in the layer's dtype (float32), and come back so, except from RandomGrayscale
and RandomBrightness (which keep them integers); in inference, the layers that move pixels (and
RandomSharpness, RandomGaussianBlur, Solarization, RandomErasing, CutMix, RandAugment, AugMix)
give them in float32 too, the others as they came, as Keras's do.
Geometric transformations sample the input with `grid_sample`; outside the image `fill_mode`
decides: `"reflect"` (d c b a | a b c d | d c b a), `"wrap"` (a b c d | a b c d), `"nearest"`
(a a a a | a b c d), `"constant"` (`fill_value`), and for RandomElasticTransform also `"mirror"`
(c d c b | a b c d | c b a b).
"""

from __future__ import annotations

import math
import numbers
import random

import torch
import torch.nn.functional as F

from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from ..graph.symbolic import SymbolicTensor
from ..training.loop import in_loop
from .boxes import (
    check_box_format,
    check_image_dict,
    crop_move,
    move_boxes,
    read_boxes,
    write_boxes,
)
from .convolutional import check_spatial_input, normalize_data_format, split_spatial
from .core import check_positive_int
from .layer import Layer
from .preprocessing import resize_images

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


# ---------------------------------------------------------------------- argument checks


def _factor_range(name: str, factor, bounds=(-1, 1)) -> tuple[float, float]:
    """Keras's `(lower, upper)` from one number `f` (`(-f, f)`, cut to `bounds`) or a pair."""
    message = (f"Expected {name} to be a number or a pair of numbers in [{bounds[0]}, "
               f"{bounds[1]}]. Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(_is_number(f) for f in factor):
            raise ValueError(message)
        lower, upper = sorted(factor)
        if lower > bounds[1] or upper < bounds[0]:
            raise ValueError(message)
        return lower, upper
    if not _is_number(factor) or not bounds[0] <= factor <= bounds[1]:
        raise ValueError(message)
    return max(-abs(factor), bounds[0]), abs(factor)


def _unit_pair(name: str, factor, symmetric: bool) -> tuple[float, float]:
    """One number `f` in [0, 1], for `(-f, f)` if `symmetric`, else `(0, f)`; or a pair of
    numbers in [0, 1] ([-1, 1] if `symmetric`, so that the pair a number gave reads back)
    (RandomShear's and Solarization's factors)."""
    lowest = -1 if symmetric else 0
    if isinstance(factor, (tuple, list)):
        valid = len(factor) == 2 and all(_is_number(f) and lowest <= f <= 1 for f in factor)
    else:
        valid = _is_number(factor) and 0 <= factor <= 1
    if not valid:
        raise ValueError(f"Expected {name} to be a number in [0, 1] or a pair of numbers in "
                         f"[{lowest}, 1]. Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        return tuple(sorted(factor))
    return (-factor if symmetric else 0, factor)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"Expected {name} to be one of {', '.join(choices)}. Received: "
                         f"{name}={value!r}")
    return value


def _check_value_range(value_range) -> tuple:
    """`value_range` as a sorted pair `(low, high)`."""
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or not all(_is_number(v) for v in value_range) or value_range[0] == value_range[1]):
        raise ValueError("Expected value_range to be a pair of different numbers (low, high), "
                         f"such as (0, 255) or (0, 1). Received: value_range={value_range!r}")
    return tuple(sorted(value_range))


def _as_given(factor):
    """A factor for the config: as given, a pair as a tuple (a saved config reads back a list)."""
    return tuple(factor) if isinstance(factor, list) else factor


# ---------------------------------------------------------------------- the base


class _TrainsWhenCalled(Layer):
    """A layer that, called on data without `training=`, runs in training mode, as Keras's
    augmentation layers and Pipeline do (their `call` defaults to training=True), also in a
    functional model called directly (`Functional.forward`); in Keras's loops it follows the
    model's mode instead, so that `predict` and `evaluate` never augment."""

    def __call__(self, *args, **kwargs):
        data = args[0] if args else None
        values = data.values() if isinstance(data, dict) else (data,)  # {"images", "labels"}
        if args and not any(isinstance(v, SymbolicTensor) for v in values) and not in_loop():
            kwargs.setdefault("training", True)
        return super().__call__(*args, **kwargs)


class _Augmentation(_TrainsWhenCalled):
    """Random per-image transformations in training, the identity otherwise.

    Subclasses implement `_augment` on channels-first images `(batch, channels, height, width)`,
    and `_augment_boxed` if they move pixels; the base converts the layout, single images and
    dicts of images, labels and bounding boxes, and draws the random numbers (`_uniform`,
    `_normal`, `_chance`, ...).
    """

    # Keras's call (saved graphs record it) augments unless told.
    _keras_call_arguments = {"training": True}

    _accepts_training = True
    supports_masking = True
    # AutoContrast and Equalization apply in inference too.
    _in_inference = False
    # The layer's arguments in its config after data_format, in Keras's order (configs are
    # compared as JSON text); AutoContrast, Equalization and RandomGrayscale list no seed.
    _config_keys: tuple[str, ...] = ()
    # RandomGrayscale and RandomBrightness keep integer images integers; the others compute in
    # the layer's dtype.
    _keeps_dtype = False
    # Whether integer images come back in the layer's dtype in inference too, where they pass
    # unchanged (Keras's layers that move pixels cast them before they look at `training`).
    _casts_in_inference = False
    # The channel counts the layer can take (None: any).
    _channels: tuple | None = None

    def __init__(self, seed=None, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None:
            if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
                raise ValueError(f"Expected seed to be an integer or None. Received: "
                                 f"seed={seed!r}")
            seed = int(seed)
        self.seed = seed
        self.data_format = normalize_data_format(data_format)
        self.bounding_box_format = check_box_format(bounding_box_format)
        self._generator = None
        if seed is not None:
            self._generator = torch.Generator().manual_seed(seed)
        self.built = True

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if not (training or self._in_inference):
            return self._in_own_dtype(inputs) if self._casts_in_inference else inputs
        if isinstance(inputs, dict):
            return self._augment_dict(inputs)
        self._check_channels_of(inputs)
        images, single = self._channels_first(inputs)
        return self._restore(self._augment(images), single)

    def _in_own_dtype(self, inputs):
        """`inputs` (images, or a dict of them) with integer images in the layer's dtype."""
        images = inputs["images"] if isinstance(inputs, dict) else inputs
        if images.is_floating_point():
            return inputs
        images = images.to(self._variable_dtype)
        return {**inputs, "images": images} if isinstance(inputs, dict) else images

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        """Channels-first images `(batch, channels, height, width)` -> transformed."""
        raise NotImplementedError

    def _augment_labelled(self, images: torch.Tensor, labels):
        """Images and their labels (or None) -> both transformed; labels pass by default."""
        return self._augment(images), labels

    def _augment_boxed(self, images: torch.Tensor, labels, boxes: dict):
        """Images, their labels (or None) and bounding boxes (`{"boxes": (batch, n, 4) float32
        in the layer's format, "labels": (batch, n)}`) -> all three transformed; by default
        the boxes pass, as in the layers that change only pixel values."""
        images, labels = self._augment_labelled(images, labels)
        return images, labels, boxes

    def _augment_dict(self, data: dict) -> dict:
        images, single = self._dict_images(data)
        if "bounding_boxes" not in data:
            images, labels = self._augment_labelled(images, data.get("labels"))
            return self._dict_output(data, images, single, labels)
        boxes = read_boxes(self, data["bounding_boxes"], single, images.device)
        images, labels, boxes = self._augment_boxed(images, data.get("labels"), boxes)
        return self._dict_output(data, images, single, labels, boxes)

    def _dict_images(self, data: dict) -> tuple[torch.Tensor, bool]:
        """The images of a dict input, as `_channels_first` gives them, after checking the
        dict's keys and the images' channels."""
        check_image_dict(self, data)
        self._check_channels_of(data["images"])
        return self._channels_first(data["images"])

    def _dict_output(self, data: dict, images: torch.Tensor, single: bool, labels,
                     boxes: dict | None = None) -> dict:
        out = {"images": self._restore(images, single)}
        if "labels" in data:
            out["labels"] = labels
        if boxes is not None:
            out["bounding_boxes"] = write_boxes(boxes, single)
        return out

    def _move_boxes(self, boxes: dict, size, new_size, move) -> dict:
        """`boxes.move_boxes` in this layer's format: from an image of `size` to `new_size`."""
        return move_boxes(boxes, self.bounding_box_format, tuple(size), tuple(new_size), move)

    def _channels_first(self, inputs: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """A batch of channels-first images (floating point unless the layer keeps the dtype),
        and whether the input was a single image."""
        single = inputs.dim() == 3
        images = inputs.unsqueeze(0) if single else inputs
        if self.data_format == "channels_last":
            images = images.movedim(-1, 1)
        if not (self._keeps_dtype or images.is_floating_point()):
            images = images.to(self._variable_dtype)
        return images, single

    def _restore(self, images: torch.Tensor, single: bool) -> torch.Tensor:
        if self.data_format == "channels_last":
            images = images.movedim(1, -1)
        return images.squeeze(0) if single else images

    def _check_channels_of(self, inputs) -> None:
        """A readable error for images with channels the layer cannot take (a shape check on
        the host, no device work)."""
        if self._channels is not None:
            shape = (None,) * (4 - inputs.dim()) + tuple(inputs.shape)
            self._check_channels(shape)

    def _check_channels(self, input_shape) -> None:
        if self._channels is None:
            return
        _, channels = split_spatial(input_shape, self.data_format)
        if channels is not None and channels not in self._channels:
            allowed = " or ".join(str(c) for c in self._channels)
            raise ShapeError(
                f"{type(self).__name__} works on RGB images: it expects {allowed} channels, but "
                f"received the input {format_shape(input_shape)} ({self.data_format}).",
                fix=("convert the images to RGB, or pass data_format='channels_first' if the "
                     "channels come first."))

    # ------------------------------------------------------------------ random draws

    def _draw(self, sample, like: torch.Tensor) -> torch.Tensor:
        """`sample(generator, device)` on `like`'s device from torch's generator, or, when the
        layer has a seed, from the layer's generator on the CPU, then moved."""
        if self._generator is None:
            return sample(None, like.device)
        return sample(self._generator, torch.device("cpu")).to(like.device)

    def _uniform(self, shape, lower, upper, like: torch.Tensor) -> torch.Tensor:
        """Draws from U(lower, upper) of `shape` (an int or a tuple), float32."""
        draws = self._draw(lambda g, d: torch.rand(shape, generator=g, device=d), like)
        return lower + (upper - lower) * draws

    def _normal(self, shape, like: torch.Tensor) -> torch.Tensor:
        return self._draw(lambda g, d: torch.randn(shape, generator=g, device=d), like)

    def _chance(self, count: int, probability: tuple, like: torch.Tensor) -> torch.Tensor:
        """`count` booleans, each true with a probability drawn from U(*probability)."""
        threshold = self._uniform(count, *probability, like)
        return self._uniform(count, 0.0, 1.0, like) < threshold

    def _permutation(self, count: int, like: torch.Tensor) -> torch.Tensor:
        return self._draw(lambda g, d: torch.randperm(count, generator=g, device=d), like)

    def _dirichlet(self, shape, alpha: float, like: torch.Tensor) -> torch.Tensor:
        """Weights summing to one along the last axis of `shape`, from the symmetric Dirichlet
        distribution with concentration `alpha` (with two weights, the first is Beta(a, a))."""
        return self._draw(lambda g, d: torch._sample_dirichlet(
            torch.full(shape, float(alpha), device=d), generator=g), like)

    def _host_uniform(self, lower: float, upper: float) -> float:
        """One draw on the host, for what decides the shapes of the work (no device sync)."""
        return lower + (upper - lower) * float(torch.rand((), generator=self._generator))

    def _host_randint(self, high: int) -> int:
        return int(torch.randint(high, (), generator=self._generator))

    # ------------------------------------------------------------------ shapes and config

    def compute_output_shape(self, input_shape):
        # Symbolic images always have their batch axis; only a tensor may be a single image.
        images = input_shape["images"] if isinstance(input_shape, dict) else input_shape
        check_spatial_input(self, images, 2, self.data_format)
        self._check_channels(images)
        return input_shape

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:  # as Keras: only when given
            config["bounding_box_format"] = self.bounding_box_format
        return {**config, **{key: getattr(self, key) for key in self._config_keys}}


# ---------------------------------------------------------------------- sampling helpers


def gaussian_blur(images: torch.Tensor, kernel_size: tuple[int, int], sigma_y,
                  sigma_x) -> torch.Tensor:
    """Channels-first images blurred channel by channel with a `kernel_size` (height, width)
    Gaussian of standard deviations `sigma_y`, `sigma_x` (numbers or 0-d tensors), zero-padded
    to keep their size, as Keras's `gaussian_blur`."""
    channels = images.shape[1]
    kernels = []
    for size, sigma in zip(kernel_size, (sigma_y, sigma_x)):
        offsets = torch.arange(size, dtype=images.dtype, device=images.device) - (size - 1) / 2
        weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
        kernels.append(weights / weights.sum())
    padding = (kernel_size[0] // 2, kernel_size[1] // 2)
    if kernel_size[0] * kernel_size[1] <= 49:  # small: one pass is faster
        kernel = (kernels[0][:, None] * kernels[1][None, :]).expand(channels, 1, *kernel_size)
        return F.conv2d(images, kernel, padding=padding, groups=channels)
    # Large (RandomElasticTransform's): the kernel is separable, two 1-D passes.
    out = F.conv2d(images, kernels[0].reshape(-1, 1).expand(channels, 1, -1, 1),
                   padding=(padding[0], 0), groups=channels)
    return F.conv2d(out, kernels[1].reshape(1, -1).expand(channels, 1, 1, -1),
                    padding=(0, padding[1]), groups=channels)


def _fold(coordinate: torch.Tensor, size: int, fill_mode: str) -> torch.Tensor:
    """Pixel coordinates outside `[0, size)` mapped back in, as `fill_mode` says (wrap and
    constant are handled by the sampling)."""
    if fill_mode == "reflect":
        folded = torch.remainder(coordinate + 0.5, 2 * size)
        return torch.where(folded >= size, 2 * size - folded, folded) - 0.5
    if fill_mode == "mirror":
        if size == 1:
            return torch.zeros_like(coordinate)
        folded = torch.remainder(coordinate, 2 * (size - 1))
        return torch.where(folded > size - 1, 2 * (size - 1) - folded, folded)
    if fill_mode == "wrap":
        return torch.remainder(coordinate, size)
    if fill_mode == "nearest":
        return coordinate.clamp(0, size - 1)
    return coordinate


def sample_images(images: torch.Tensor, x: torch.Tensor, y: torch.Tensor, fill_mode: str,
                  fill_value: float, interpolation: str) -> torch.Tensor:
    """Channels-first `images` read at pixel coordinates `x`, `y` (each `(batch, height,
    width)`; pixel centres at 0 .. n-1), outside the image as `fill_mode` says.

    This is Keras's `map_coordinates`, where each interpolation tap is mapped into the image on
    its own, done with `grid_sample`: every fill mode but wrap maps coordinates continuously, so
    folding the coordinate first gives the same taps; wrap reads an image grown by one row and
    column copied from the opposite edges.
    """
    height, width = images.shape[-2:]
    if fill_mode == "wrap":
        images = F.pad(images, (0, 1, 0, 1), mode="circular")
    x, y = _fold(x, width, fill_mode), _fold(y, height, fill_mode)
    padded_height, padded_width = images.shape[-2:]
    grid = torch.stack([(2 * x + 1) / padded_width - 1, (2 * y + 1) / padded_height - 1], -1)
    shift = fill_value if fill_mode == "constant" else 0.0
    # grid_sample pads with zeros: sampling `images - fill_value` pads with fill_value.
    out = F.grid_sample(images - shift if shift else images, grid.to(images.dtype),
                        mode=interpolation,
                        padding_mode="zeros" if fill_mode == "constant" else "border",
                        align_corners=False)
    return out + shift if shift else out


def pixel_grid(height: int, width: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(x, y) of every output pixel, each `(height, width)`."""
    ys, xs = torch.meshgrid(torch.arange(height, device=like.device, dtype=like.dtype),
                            torch.arange(width, device=like.device, dtype=like.dtype),
                            indexing="ij")
    return xs, ys


# ---------------------------------------------------------------------- flips and warps


class RandomFlip(_Augmentation):
    """Flips each image left-right and/or up-down with probability 1/2, in training.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"` (default).
        seed: makes the flips repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes in dict inputs, which flip with their
            images (see `boxes.py`).

    >>> RandomFlip("horizontal")(torch.ones(2, 4, 4, 3), training=False).shape
    torch.Size([2, 4, 4, 3])
    """

    _config_keys = ("seed", "mode")
    _casts_in_inference = True
    _keras_converts_inputs = False

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = _check_choice("mode", mode,
                                  ("horizontal", "vertical", "horizontal_and_vertical"))

    def _augment(self, images):
        return self._flip(images, self._draw_flips(images))

    def _draw_flips(self, images) -> list[tuple[int, torch.Tensor]]:
        """(axis, whether each image flips) for each axis the mode flips."""
        return [(axis, self._uniform(images.shape[0], 0.0, 1.0, images) < 0.5)
                for axis, applies in ((-1, "horizontal" in self.mode),
                                      (-2, "vertical" in self.mode)) if applies]

    def _flip(self, images, flips):
        for axis, flip in flips:
            images = torch.where(flip[:, None, None, None], images.flip(axis), images)
        return images

    def _augment_boxed(self, images, labels, boxes):
        flips = self._draw_flips(images)
        size = images.shape[-2:]

        def move(xyxy):
            for axis, flip in flips:
                x1, y1, x2, y2 = xyxy.unbind(-1)
                if axis == -1:  # pixel column i goes to width - 1 - i: edge x to width - x
                    flipped = [size[1] - x2, y1, size[1] - x1, y2]
                else:
                    flipped = [x1, size[0] - y2, x2, size[0] - y1]
                xyxy = torch.where(flip[:, None, None], torch.stack(flipped, -1), xyxy)
            return xyxy

        return self._flip(images, flips), labels, self._move_boxes(boxes, size, size, move)


class _WarpAugmentation(_Augmentation):
    """An augmentation that moves pixels: each output pixel reads the input at the point that
    `_sources` gives, interpolated, with `fill_mode` outside the image."""

    _fill_modes = _FILL_MODES
    _casts_in_inference = True

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = _check_choice("fill_mode", fill_mode, self._fill_modes)
        self.interpolation = _check_choice("interpolation", interpolation, _INTERPOLATIONS)
        if not _is_number(fill_value):
            raise ValueError(f"Expected fill_value to be a number. Received: "
                             f"fill_value={fill_value!r}")
        self.fill_value = float(fill_value)

    def _augment(self, images):
        return self._sample(images, *self._sources(images))

    def _sample(self, images, x, y):
        return sample_images(images, x, y, self.fill_mode, self.fill_value, self.interpolation)

    def _sources(self, images) -> tuple[torch.Tensor, torch.Tensor]:
        """Where each output pixel reads: `x`, `y`, each `(batch, height, width)`."""
        raise NotImplementedError


class _AffineAugmentation(_WarpAugmentation):
    """A warp given by one matrix per image: affine `(batch, 2, 3)`, or projective `(batch, 3,
    3)` (the point is divided by its third coordinate)."""

    def _sources(self, images):
        return self._sources_of(images, self._draw_matrices(images))

    def _draw_matrices(self, images) -> torch.Tensor:
        batch, _, height, width = images.shape
        return self._matrices(batch, height, width, images)

    def _sources_of(self, images, matrix):
        batch, _, height, width = images.shape
        xs, ys = pixel_grid(height, width, images)
        points = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(1, -1, 3)
        source = points @ matrix.to(images.dtype).transpose(1, 2)  # (batch, pixels, 2 or 3)
        if source.shape[-1] == 3:
            source = source[..., :2] / source[..., 2:]
        source = source.reshape(batch, height, width, -1)
        return source[..., 0], source[..., 1]

    def _matrices(self, batch, height, width, like) -> torch.Tensor:
        """Maps from output pixel `(x, y, 1)` to the input pixel it reads."""
        raise NotImplementedError

    def _augment_boxed(self, images, labels, boxes):
        matrix = self._draw_matrices(images)
        size = images.shape[-2:]
        moved = self._move_boxes(boxes, size, size, lambda xyxy: boxes_through(xyxy, matrix))
        return self._sample(images, *self._sources_of(images, matrix)), labels, moved


def boxes_through(xyxy: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """`xyxy` boxes `(batch, n, 4)` moved with the image content when each output pixel reads
    the input at `matrix` times it (affine `(batch, 2, 3)` or projective `(batch, 3, 3)`): each
    box's corners go through the inverse map, and the box around them is returned."""
    matrix = matrix.to(xyxy.dtype)
    if matrix.shape[-2] == 2:
        last_row = torch.tensor([0.0, 0.0, 1.0], dtype=matrix.dtype, device=matrix.device)
        matrix = torch.cat([matrix, last_row.expand(matrix.shape[0], 1, 3)], -2)
    # inv_ex: no check of the result on the host (a device sync); these maps are invertible.
    inverse = torch.linalg.inv_ex(matrix)[0]
    x1, y1, x2, y2 = xyxy.unbind(-1)
    corners = torch.stack([x1, y1, x2, y1, x2, y2, x1, y2], -1).unflatten(-1, (4, 2))
    points = torch.cat([corners, torch.ones_like(corners[..., :1])], -1)
    points = points @ inverse[:, None].transpose(-1, -2)  # (batch, n, 4 corners, 3)
    points = points[..., :2] / points[..., 2:]
    return torch.cat([points.amin(-2), points.amax(-2)], -1)


def _about_centre(linear: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`(batch, 2, 2)` linear maps applied about the image centre, as `(batch, 2, 3)`."""
    centre = torch.tensor([(width - 1) / 2, (height - 1) / 2], dtype=linear.dtype,
                          device=linear.device)
    offset = centre - linear @ centre
    return torch.cat([linear, offset[..., None]], -1)


def _two_by_two(a, b, c, d) -> torch.Tensor:
    """`(batch, 2, 2)` matrices `[[a, b], [c, d]]` from `(batch,)` entries."""
    return torch.stack([torch.stack([a, b], -1), torch.stack([c, d], -1)], -2)


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
        bounding_box_format: the format of the boxes in dict inputs: each becomes the box
            around its rotated corners, clipped to the image (see `boxes.py`).
    """

    _config_keys = ("factor", "fill_mode", "fill_value", "interpolation", "seed")

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_range("factor", factor)

    def _matrices(self, batch, height, width, like):
        angle = self._uniform(batch, *self.factor, like) * (2 * math.pi)
        cos, sin = torch.cos(angle), torch.sin(angle)
        return _about_centre(_two_by_two(cos, -sin, sin, cos), height, width)


def _zoom_or_shift_factors(name: str, factor):
    return None if factor is None else _factor_range(name, factor)


class RandomZoom(_AffineAugmentation):
    """Zooms each image in or out by a random amount about its centre, in training.

    Args:
        height_factor: a fraction of the height: positive zooms out (the image shrinks), negative
            zooms in; `0.2` draws from [-20%, +20%], a pair `(lower, upper)` gives the range.
        width_factor: the same for the width; None (default) zooms both axes alike, keeping the
            aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format, bounding_box_format: as in
            RandomRotation.
    """

    _config_keys = ("height_factor", "width_factor", "fill_mode", "interpolation", "seed",
                    "fill_value")

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
        return _about_centre(_two_by_two(zoom_x, zeros, zeros, zoom_y), height, width)


class RandomTranslation(_AffineAugmentation):
    """Shifts each image by a random fraction of its height and width, in training.

    Args:
        height_factor: a fraction of the height: `0.2` shifts by up to 20% up or down (positive
            is down); a pair `(lower, upper)` gives the range.
        width_factor: the same for the width (positive is right).
        fill_mode, interpolation, seed, fill_value, data_format, bounding_box_format: as in
            RandomRotation.
    """

    _config_keys = ("height_factor", "width_factor", "fill_mode", "interpolation", "seed",
                    "fill_value")

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


class RandomShear(_AffineAugmentation):
    """Shears each image by random amounts along x and y about its top-left corner, in training:
    output pixel `(x, y)` reads the input at `(x + sx * y, y + sy * x)`.

    The pair `(sx, sy)` is drawn from `x_factor` and `y_factor`, and both change sign together
    with probability 1/2.

    Args:
        x_factor: the range of `sx`: a number `f` in [0, 1] for `(-f, f)`, or a pair
            `(lower, upper)` (default 0: no shear along x). The bottom row moves by `sx` times
            the image's height.
        y_factor: the range of `sy`, the same way (the right column moves by `sy` times the
            width).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"nearest"` or `"constant"`.
        fill_value: the value outside the image with `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: makes the draws repeatable.
        bounding_box_format: the format of the boxes in dict inputs: each becomes the box
            around its sheared corners, clipped to the image (see `boxes.py`).

    >>> RandomShear(x_factor=0.2)(torch.zeros(2, 8, 8, 3)).shape
    torch.Size([2, 8, 8, 3])
    """

    _config_keys = ("x_factor", "y_factor", "fill_mode", "interpolation", "seed", "fill_value")

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_factor = _unit_pair("x_factor", x_factor, symmetric=True)
        self.y_factor = _unit_pair("y_factor", y_factor, symmetric=True)

    def _matrices(self, batch, height, width, like):
        sign = torch.where(self._uniform(batch, 0.0, 1.0, like) > 0.5, -1.0, 1.0)
        shear_y = self._uniform(batch, *self.y_factor, like) * sign
        shear_x = self._uniform(batch, *self.x_factor, like) * sign
        ones, zeros = torch.ones_like(shear_x), torch.zeros_like(shear_x)
        return torch.stack([torch.stack([ones, shear_x, zeros], -1),
                            torch.stack([shear_y, ones, zeros], -1)], -2)


def homographies(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """`(batch, 3, 3)` projective maps taking each of the 4 `end` points `(batch, 4, 2)` to the
    matching `start` point."""
    x, y = end[..., 0], end[..., 1]
    u, v = start[..., 0], start[..., 1]
    ones, zeros = torch.ones_like(x), torch.zeros_like(x)
    # u = (a x + b y + c) / (g x + h y + 1), v = (d x + e y + f) / (g x + h y + 1), per point.
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], -1)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], -1)
    system = torch.stack([rows_u, rows_v], -2).reshape(-1, 8, 8)
    targets = torch.stack([u, v], -1).reshape(-1, 8, 1)
    # solve_ex: no check of the solution on the host (a device sync).
    solution = torch.linalg.solve_ex(system, targets, check_errors=False)[0][..., 0]
    return torch.cat([solution, torch.ones_like(solution[:, :1])], -1).reshape(-1, 3, 3)


class RandomPerspective(_AffineAugmentation):
    """Applies a random perspective distortion to each image with a random probability, in
    training.

    The image corners move by random fractions (in `[-scale / 2, scale / 2]`) of their own
    coordinates — so the top-left corner stays — and the image is warped to match; outside the
    image is `fill_value`.

    Args:
        factor: the probability of distorting each image is drawn from `(0, factor)` for a
            number in [0, 1] (default 1.0: on average half of the images), or from a pair.
        scale: the strength of the distortion, in [0, 1] (default 1.0).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_value: the value outside the image (default 0).
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes in dict inputs: each becomes the box
            around its warped corners, clipped to the image (see `boxes.py`).
    """

    _config_keys = ("factor", "scale", "interpolation", "fill_value", "seed")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__("constant", interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_range("factor", factor, bounds=(0, 1))
        if not _is_number(scale) or not 0 <= scale <= 1:
            raise ValueError(f"Expected scale to be a number in [0, 1]. Received: scale={scale!r}")
        self.scale = scale

    def _augment(self, images):
        applies = self._chance(images.shape[0], self.factor, images)
        return torch.where(applies[:, None, None, None], super()._augment(images), images)

    def _augment_boxed(self, images, labels, boxes):
        applies = self._chance(images.shape[0], self.factor, images)
        matrix = self._draw_matrices(images)
        warped = self._sample(images, *self._sources_of(images, matrix))
        size = images.shape[-2:]

        def move(xyxy):
            return torch.where(applies[:, None, None], boxes_through(xyxy, matrix), xyxy)

        return (torch.where(applies[:, None, None, None], warped, images), labels,
                self._move_boxes(boxes, size, size, move))

    def _matrices(self, batch, height, width, like):
        corners = torch.tensor([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1],
                                [width - 1, height - 1]], device=like.device)
        start = corners.expand(batch, 4, 2)
        moves = self._uniform((batch, 4, 2), -0.5 * self.scale, 0.5 * self.scale, like)
        return homographies(start, start + start * moves)


class RandomElasticTransform(_WarpAugmentation):
    """Displaces the pixels of each image by a smooth random field, with a random probability,
    in training.

    A strength `s` is drawn from `scale` once per batch; each pixel moves by
    `0.1 * s * max(height, width)` times Gaussian noise smoothed by a Gaussian of standard
    deviation `0.05 * s * min(height, width)`, and the result is clipped to `value_range`.

    Args:
        factor: the probability of transforming each image is drawn from `(0, factor)` for a
            number in [0, 1] (default 1.0), or from a pair.
        scale: the strength range: a number in [0, 1] for `(0, scale)` (default 1.0), or a
            pair.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"mirror"`, `"wrap"`, `"nearest"` or `"constant"`.
        fill_value: the value outside the image with `fill_mode="constant"`.
        value_range: the range of the pixel values, `(0, 255)` by default.
        seed: makes the draws repeatable.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Bounding boxes cannot follow the field's bends: dict inputs with boxes raise
    NotImplementedError, as in Keras.
    """

    _config_keys = ("factor", "scale", "interpolation", "fill_mode", "fill_value", "value_range",
                    "seed")
    _fill_modes = _FILL_MODES + ("mirror",)

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_range("factor", factor, bounds=(0, 1))
        self.scale = _factor_range("scale", scale, bounds=(0, 1))
        self.value_range = _check_value_range(value_range)

    def _augment(self, images):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return images
        applies = self._chance(images.shape[0], self.factor, images)
        warped = torch.where(applies[:, None, None, None], super()._augment(images), images)
        return warped.clamp(*self.value_range)

    def _augment_boxed(self, images, labels, boxes):
        raise NotImplementedError(
            "RandomElasticTransform cannot move bounding boxes (nor can Keras's): its random "
            "field bends them. Call it on images without 'bounding_boxes'.")

    def _sources(self, images):
        batch, _, height, width = images.shape
        # The strength sets the size of the smoothing kernel: drawn on the host.
        strength = self._host_uniform(*self.scale)
        alpha = max(height, width) * 0.1 * strength
        sigma = max(min(height, width) * 0.05 * strength, 1e-6)
        size = int(6 * sigma) | 1
        noise = self._normal((batch, 2, height, width), images).to(images.dtype) * sigma
        shift = gaussian_blur(noise, (size, size), sigma, sigma) * alpha
        xs, ys = pixel_grid(height, width, images)
        return xs + shift[:, 0], ys + shift[:, 1]


# ---------------------------------------------------------------------- cropping


class RandomCrop(_Augmentation):
    """Crops a random `(height, width)` window from the images, in training; in inference, the
    largest centred window of the target's aspect ratio, resized to `(height, width)`.

    In training, one window position is drawn per batch (all its images are cropped alike). An
    image not larger than the target on both sides is not cropped at random: the target-sized
    window at the centred aspect-ratio crop's corner is taken and resized (bilinear) to
    `(height, width)`, as Keras does. The output is always of the layer's dtype (float32).

    Args:
        height, width: the output size.
        seed: makes the window positions repeatable; without one, the layer draws its seed
            from Python's `random` (as Keras's does), which `keras.utils.set_random_seed` sets.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes in dict inputs, which are cropped (and
            scaled) with the images, in inference too (see `boxes.py`).

    Input shape: `(batch, height, width, channels)` or one image `(height, width, channels)`.
    Output shape: `(batch, target_height, target_width, channels)`.

    >>> RandomCrop(2, 3)(torch.zeros(4, 5, 6, 3)).shape
    torch.Size([4, 2, 3, 3])
    """

    _config_keys = ("height", "width", "seed")

    # Keras's call (saved graphs record it) crops at random unless told.
    _keras_call_arguments = {"training": True}
    _keras_converts_inputs = False

    supports_masking = False

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        if seed is None:
            # As Keras's RandomCrop: a seed drawn from Python's generator, kept in the config,
            # so that a layer rebuilt from it draws the same windows.
            seed = random.randint(1, int(1e9))
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = check_positive_int("height", height)
        self.width = check_positive_int("width", width)

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if isinstance(inputs, dict):
            return self._crop_dict(inputs, training)
        images, single = self._channels_first(inputs)
        return self._restore(self._crop(images, training)[0], single)

    def _crop(self, images: torch.Tensor, training: bool) -> tuple[torch.Tensor, tuple]:
        """The cropped images, and the window of the input they show: (top, left, height,
        width)."""
        images = images.to(self._variable_dtype)
        height, width = images.shape[-2:]
        if training and height > self.height and width > self.width:
            # Drawn on the CPU (the layer's generator or torch's), so no device sync.
            top = self._host_randint(height - self.height + 1)
            left = self._host_randint(width - self.width + 1)
            out = images[..., top:top + self.height, left:left + self.width]
        else:
            top, left, crop_height, crop_width = self._centred_crop(height, width)
            if training:  # Keras's rule: the target-sized window there, stretched if smaller
                crop_height, crop_width = self.height, self.width
            out = images[..., top:top + crop_height, left:left + crop_width]
        window = (top, left) + tuple(out.shape[-2:])
        if tuple(out.shape[-2:]) != (self.height, self.width):
            out = resize_images(out, self.height, self.width)
        return out, window

    def _crop_dict(self, data: dict, training: bool) -> dict:
        images, single = self._dict_images(data)
        out, (top, left, *crop_size) = self._crop(images, training)
        boxes = None
        if "bounding_boxes" in data:
            boxes = read_boxes(self, data["bounding_boxes"], single, images.device)
            new_size = (self.height, self.width)
            boxes = self._move_boxes(boxes, images.shape[-2:], new_size,
                                     crop_move(top, left, crop_size, new_size))
        return self._dict_output(data, out, single, data.get("labels"), boxes)

    def _centred_crop(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the largest centred window of the target's aspect."""
        crop_height = max(min(height, int(width * self.height / self.width)), 1)
        crop_width = max(min(width, int(height * self.width / self.height)), 1)
        return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self.dtype

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict):
            return {**input_shape, "images": self.compute_output_shape(input_shape["images"])}
        check_spatial_input(self, input_shape, 2, self.data_format)
        channels_last = self.data_format == "channels_last"
        axes = (1, 2) if channels_last else (2, 3)
        output = list(input_shape)
        output[axes[0]], output[axes[1]] = self.height, self.width
        return tuple(output)
