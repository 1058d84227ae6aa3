"""Preprocessing layers that sit inside a model: Rescaling, Resizing, Normalization,
CategoryEncoding, CenterCrop, Discretization.

They compute on tensors like any layer (and so run on the model's device, inside `fit` and
`predict`). `Normalization.adapt(data)` learns its statistics from data before training, and
`Discretization.adapt(data)` its bins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .boxes import (
    check_box_format,
    check_image_dict,
    crop_move,
    move_boxes,
    read_boxes,
    write_boxes,
)
from .convolutional import check_spatial_input, join_spatial, normalize_data_format, split_spatial
from .core import check_positive_int
from .layer import Layer
from .normalization import check_known_axes

_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


def _number_or_list(name: str, value):
    """A number as given, or (nested) lists of numbers from a sequence or array."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        if not isinstance(value, bool):
            return np.asarray(value, dtype="float64").tolist()
    except (TypeError, ValueError):
        pass
    raise ValueError(f"Expected a number or a list of numbers for {name}. Received: "
                     f"{name}={value!r}")


class Rescaling(Layer):
    """Rescales inputs: `inputs * scale + offset`, e.g. pixels in [0, 255] to [0, 1].

    Args:
        scale: the factor, a number or one number per channel (the last axis).
        offset: added after scaling, a number or one per channel (0 by default).

    Input shape: any; integer inputs are cast to the layer's dtype (float32).
    Output shape: the same.

    >>> Rescaling(1 / 255)(torch.tensor([[0, 255]])).tolist()
    [[0.0, 1.0]]
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _number_or_list("scale", scale)
        self.offset = _number_or_list("offset", offset)
        for name in ("scale", "offset"):
            value = getattr(self, name)
            if isinstance(value, list):  # moved with the model, not saved
                self.register_buffer(f"_{name}", torch.tensor(value, dtype=self._variable_dtype),
                                     persistent=False)
        self.built = True

    def forward(self, inputs):
        scale = self._scale if isinstance(self.scale, list) else self.scale
        offset = self._offset if isinstance(self.offset, list) else self.offset
        return inputs.to(self._variable_dtype) * scale + offset

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self.dtype

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


# Keras's interpolation names -> torch's modes (Keras's "nearest" is torch's "nearest-exact").
_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def check_interpolation(interpolation) -> None:
    """Raise a ValueError naming the allowed values for an interpolation Keras's resize lacks."""
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Expected interpolation to be one of {', '.join(_INTERPOLATIONS)}. "
                         f"Received: interpolation={interpolation!r}")


class _ToImageSize(Layer):
    """A layer whose output images are `(height, width)`, whatever the input's size: each shows
    a window of the input (`_window`), resized. Given `{"images": ..., "bounding_boxes": ...}`
    (and `"labels"`), the boxes are carried to the output as the window is."""

    def __init__(self, height, width, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_positive_int("height", height)
        self.width = check_positive_int("width", width)
        self.data_format = normalize_data_format(data_format)
        self.bounding_box_format = check_box_format(bounding_box_format)
        self.built = True

    def _window(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the region of an input of `(height, width)` that the
        output shows."""
        raise NotImplementedError

    def _forward_dict(self, data: dict) -> dict:
        check_image_dict(self, data)
        images = data["images"]
        out = {**data, "images": self.forward(images)}
        if "bounding_boxes" in data:
            single = images.dim() == 3
            boxes = read_boxes(self, data["bounding_boxes"], single, images.device)
            size = images.shape[-3:-1] if self.data_format == "channels_last" else (
                images.shape[-2:])
            out["bounding_boxes"] = write_boxes(self._move_boxes(boxes, tuple(size)), single)
        return out

    def _move_boxes(self, boxes: dict, size: tuple) -> dict:
        top, left, *window = self._window(*size)
        new_size = (self.height, self.width)
        return move_boxes(boxes, self.bounding_box_format, size, new_size,
                          crop_move(top, left, window, new_size))

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return inputs.dtype

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict):
            return {**input_shape, "images": self.compute_output_shape(input_shape["images"])}
        check_spatial_input(self, input_shape, 2, self.data_format)
        _, channels = split_spatial(input_shape, self.data_format)
        return join_spatial(input_shape[0], (self.height, self.width), channels,
                            self.data_format)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format,
                  "height": self.height, "width": self.width}
        if self.bounding_box_format is not None:  # as Keras: only when given
            config["bounding_box_format"] = self.bounding_box_format
        return config


class Resizing(_ToImageSize):
    """Resizes images to `(height, width)`, as Keras's torch backend does (`F.interpolate`).

    Args:
        height, width: the output size.
        interpolation: `"bilinear"` (default), `"nearest"` or `"bicubic"`.
        crop_to_aspect_ratio: first crop the largest centred window of the target aspect ratio,
            so the image is not distorted.
        pad_to_aspect_ratio: first pad with `fill_value` to the target aspect ratio instead
            (centred; Keras pads the same amount on both sides, so an odd difference leaves
            one row or column unpadded).
        fill_mode: `"constant"` (the only mode, as in Keras on torch).
        fill_value: the padding value.
        antialias: low-pass filter when downsampling (bilinear and bicubic).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of dict inputs (see `boxes.py`); they are
            scaled, and cropped or padded, with the image (boxes whose four coordinates are all
            0 or all -1, padding, come back as zeros, as in Keras).

    Input shape: `(batch, height, width, channels)`, or a dict with `"images"` of that shape.
    Output shape: `(batch, height, width, channels)` with the new sizes; integer images come back
    rounded, in their own dtype.

    >>> Resizing(4, 6)(torch.zeros(2, 8, 8, 3)).shape
    torch.Size([2, 4, 6, 3])
    """

    # Keras's call (saved graphs record it) takes `training`, True and unused.
    _keras_call_arguments = {"training": True}

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(height, width, data_format, **kwargs)
        check_interpolation(interpolation)
        self.interpolation = interpolation
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be "
                             "True.")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        if fill_mode != "constant":
            raise ValueError(f"Only fill_mode='constant' is supported. Received: "
                             f"fill_mode={fill_mode!r}")
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)
        self.antialias = bool(antialias)

    def forward(self, inputs):
        if isinstance(inputs, dict):
            return self._forward_dict(inputs)
        single = inputs.dim() == 3  # one image, as Keras also takes
        images = inputs[None] if single else inputs
        channels_last = self.data_format == "channels_last"
        images = images.movedim(-1, 1) if channels_last else images
        resized = resize_images(images, self.height, self.width, self.interpolation,
                                self.crop_to_aspect_ratio, self.pad_to_aspect_ratio,
                                self.fill_value, self.antialias)
        resized = resized.movedim(1, -1) if channels_last else resized
        return resized[0] if single else resized

    def _window(self, height, width):
        return aspect_window(height, width, self.height, self.width, self.crop_to_aspect_ratio,
                             self.pad_to_aspect_ratio)

    def _move_boxes(self, boxes, size):
        # As Keras: padding boxes (all four coordinates 0 or -1) come back as zeros.
        padding = ((boxes["boxes"] == -1).all(-1) | (boxes["boxes"] == 0).all(-1))[..., None]
        moved = super()._move_boxes(boxes, size)
        return {**moved, "boxes": torch.where(padding, 0.0, moved["boxes"])}

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


def aspect_window(source_height: int, source_width: int, height: int, width: int,
                  crop_to_aspect_ratio=False, pad_to_aspect_ratio=False) -> tuple[int, ...]:
    """(top, left, height, width) of the region of a `(source_height, source_width)` image that
    `resize_images` stretches to `(height, width)`: with `crop_to_aspect_ratio` the largest
    centred window of the target's aspect ratio; with `pad_to_aspect_ratio` the image padded
    as much on both sides (top and left negative); otherwise the whole image."""
    if crop_to_aspect_ratio:
        crop_height = max(min(source_height, int(source_width * height / width)), 1)
        crop_width = max(min(source_width, int(source_height * width / height)), 1)
        return ((source_height - crop_height) // 2, (source_width - crop_width) // 2,
                crop_height, crop_width)
    if pad_to_aspect_ratio:
        top = (max(source_height, int(source_width * height / width)) - source_height) // 2
        left = (max(source_width, int(source_height * width / height)) - source_width) // 2
        return -top, -left, source_height + 2 * top, source_width + 2 * left
    return 0, 0, source_height, source_width


def resize_images(images, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                  pad_to_aspect_ratio=False, fill_value=0.0, antialias=False) -> torch.Tensor:
    """Channels-first `images` resized to `(height, width)`, as Keras's torch backend does."""
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        top, left, window_height, window_width = aspect_window(
            *images.shape[-2:], height, width, crop_to_aspect_ratio, pad_to_aspect_ratio)
        if crop_to_aspect_ratio:
            images = images[..., top:top + window_height, left:left + window_width]
        else:
            images = F.pad(images, (-left, -left, -top, -top), value=fill_value)
    mode = _INTERPOLATIONS[interpolation]
    smooth = mode in ("bilinear", "bicubic")
    resized = F.interpolate(images if images.is_floating_point() else images.float(),
                            size=(height, width), mode=mode,
                            align_corners=False if smooth else None,
                            antialias=antialias and smooth)
    if images.is_floating_point():
        return resized
    info = torch.iinfo(images.dtype)
    return resized.round().clamp(info.min, info.max).to(images.dtype)


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1: `(inputs - mean) / sqrt(variance)`.

    The statistics are given (`mean=`, `variance=`), or learned from data with `adapt(data)`
    before training, one per index of `axis` (each feature by default).

    Args:
        axis: the axis or axes that keep their own statistics (-1: the features); None for one
            mean and variance over everything.
        mean, variance: the statistics, numbers or arrays that broadcast to the kept axes; give
            both or neither. Without them the layer has non-trainable weights `adapt_mean`,
            `adapt_variance` (saved as `mean` and `variance`) and `count`, which `adapt` sets.
        invert: undo a normalization instead: `inputs * sqrt(variance) + mean`.

    Once built, `layer.mean` and `layer.variance` are the statistics in the shape that
    broadcasts against the inputs (`(1, 3)` for inputs `(batch, 3)`), in the compute dtype.

    Input shape: any with the kept axes known. Output shape: the same (float32).

    >>> layer = Normalization()
    >>> layer.adapt(np.array([[1.0], [3.0]]))
    >>> layer(np.array([[3.0]])).tolist()
    [[1.0]]
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            self.axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = (axis,)
        elif isinstance(axis, (tuple, list)) and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis):
            self.axis = tuple(axis)
        else:
            raise ValueError(f"Expected an int, a tuple of ints or None for axis. Received: "
                             f"axis={axis!r}")
        if (mean is None) != (variance is None):
            raise ValueError(
                "Normalization takes both mean and variance, or neither (then call `adapt(data)`"
                f" to learn them). Received: mean={mean!r}, variance={variance!r}"
            )
        self.input_mean = None if mean is None else _number_or_list("mean", mean)
        self.input_variance = None if variance is None else _number_or_list("variance",
                                                                            variance)
        self.invert = bool(invert)

    def build(self, input_shape):
        rank = len(input_shape)
        for axis in self.axis:
            if not -rank <= axis < rank:
                raise ShapeError(
                    f"Normalization got axis={axis}, but its input {format_shape(input_shape)} "
                    f"has {rank} axes.",
                    fix=f"use an axis between 1 and {rank - 1}, or -1 for the features.",
                )
        kept = sorted({a % rank for a in self.axis})
        if 0 in kept:
            raise ValueError(
                f"Normalization cannot keep statistics per sample (axis 0, the batch); received "
                f"axis={self.axis}. Use the feature axes, e.g. axis=-1."
            )
        check_known_axes(self, input_shape, kept)
        self._kept = tuple(kept)
        self._reduced = tuple(a for a in range(rank) if a not in kept)
        self._broadcast = tuple(input_shape[a] if a in kept else 1 for a in range(rank))
        shape = tuple(input_shape[a] for a in kept)
        if self.input_mean is None:
            for name, initializer in (("mean", "zeros"), ("variance", "ones")):
                weight = self.add_weight(name=f"adapt_{name}", shape=shape,
                                         initializer=initializer, trainable=False)
                # Keras's paths: the attributes `mean` and `variance` are the broadcast views.
                weight.path = f"{weight.path.rpartition('/')[0]}/{name}"
            self.add_weight(name="count", shape=(), initializer="zeros", trainable=False,
                            dtype="int32")
        else:
            for name, value in (("_mean", self.input_mean), ("_variance", self.input_variance)):
                tensor = torch.broadcast_to(torch.tensor(value, dtype=self._variable_dtype), shape)
                self.register_buffer(name, tensor.reshape(self._broadcast).clone(),
                                     persistent=False)

    @property
    def mean(self) -> torch.Tensor | None:
        """The mean in the inputs' broadcast shape (None before the layer is built)."""
        return self._exposed_statistic(0)

    @property
    def variance(self) -> torch.Tensor | None:
        """The variance in the inputs' broadcast shape (None before the layer is built)."""
        return self._exposed_statistic(1)

    def _exposed_statistic(self, index: int) -> torch.Tensor | None:
        # Keras hands them out in the compute dtype; `forward` computes in the variable dtype.
        return self._statistics()[index].to(self._compute_dtype) if self.built else None

    def _statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, variance) in the inputs' broadcast shape, read from the weights at each call
        so that they follow `set_weights`, loading and moves between devices."""
        if self.input_mean is None:
            return (self.adapt_mean.reshape(self._broadcast),
                    self.adapt_variance.reshape(self._broadcast))
        return self._mean, self._variance

    def forward(self, inputs):
        inputs = inputs.to(self._variable_dtype)
        mean, variance = self._statistics()
        deviation = torch.sqrt(variance).clamp_min(_EPSILON)
        if self.invert:
            return mean + inputs * deviation
        return (inputs - mean) / deviation

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn `mean` and `variance` from `data`: an array or tensor (samples first), or an
        iterable of such batches (a DataLoader, a generator; `steps` batches at most)."""
        if self.input_mean is not None:
            raise ValueError("This Normalization was given its mean and variance; it has nothing "
                             "to adapt. Create it without mean= and variance= to learn them.")
        total = mean = m2 = None
        for batch in _batches(data, batch_size, steps):
            # Built for the first batch's shape (an array's whole), batch size included, as Keras.
            if not self.built:
                self._build_once(tuple(batch.shape))
            self._check_adapt_batch(batch)
            reduced = batch.to(torch.float64)
            count = math.prod(batch.shape[a] for a in self._reduced)
            batch_mean = reduced.mean(dim=self._reduced)
            batch_m2 = ((reduced - reduced.mean(dim=self._reduced, keepdim=True)) ** 2).sum(
                dim=self._reduced)
            if total is None:
                total, mean, m2 = count, batch_mean, batch_m2
            else:  # Chan et al.'s pairwise update: exact, and stable over many batches
                delta = batch_mean - mean
                new_total = total + count
                mean = mean + delta * (count / new_total)
                m2 = m2 + batch_m2 + delta ** 2 * (total * count / new_total)
                total = new_total
        if total is None:
            raise ValueError("Normalization.adapt received no data.")
        with torch.no_grad():
            self.adapt_mean.copy_(mean.reshape(self.adapt_mean.shape))
            self.adapt_variance.copy_((m2 / total).reshape(self.adapt_variance.shape))

    def _check_adapt_batch(self, batch: torch.Tensor) -> None:
        expected = [self._broadcast[a] for a in self._kept]
        received = [batch.shape[a] if a < batch.dim() else None for a in self._kept]
        if batch.dim() != len(self._broadcast) or received != expected:
            raise ShapeError(
                f"Normalization keeps statistics of shape {format_shape(tuple(expected))} along "
                f"axes {self._kept}; adapt received a batch of shape "
                f"{format_shape(tuple(batch.shape))}.",
                fix="adapt on data shaped like the model's input.",
            )

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self.dtype

    def compute_output_shape(self, input_shape):
        if self.built and len(input_shape) == len(self._broadcast):
            for a in self._kept:
                if input_shape[a] not in (None, self._broadcast[a]):
                    raise ShapeError(
                        f"It keeps statistics for size {self._broadcast[a]} on axis {a}, but "
                        f"received {format_shape(input_shape)}.",
                        fix=f"give it inputs with {self._broadcast[a]} there, or use a new "
                            "Normalization for this input.",
                    )
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": self.input_mean, "variance": self.input_variance}

    def get_build_config(self):
        # As Keras's: the shape the layer was built for (after `adapt`, the data's, batch size
        # included) also inside a model, where other layers record the shape of their first call.
        if "_build_shapes" in self.__dict__:
            return {"input_shape": tuple(self._build_shapes[0][0])}
        return super().get_build_config()


def _batches(data, batch_size, steps) -> Iterable[torch.Tensor]:
    """`data` as float tensors of whole batches: an array or tensor is one batch (or batches of
    `batch_size`); any other iterable yields batches (the inputs of `(x, y)` pairs)."""
    if isinstance(data, (np.ndarray, torch.Tensor, list)):
        tensor = torch.as_tensor(np.asarray(data) if isinstance(data, list) else data)
        size = batch_size or len(tensor) or 1
        yield from tensor.split(size)
        return
    for index, batch in enumerate(data):
        if steps is not None and index >= steps:
            return
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        yield torch.as_tensor(batch)


_ENCODINGS = ("one_hot", "multi_hot", "count")


class CategoryEncoding(Layer):
    """Encodes integer categories as vectors of length `num_tokens`.

    Args:
        num_tokens: the number of categories; inputs must be in `[0, num_tokens)`.
        output_mode: `"multi_hot"` (default: 1 for each category present in a sample),
            `"one_hot"` (one vector per input value) or `"count"` (how often each occurs).
        sparse: must be False (dense outputs only).

    Call arguments:
        inputs: integer categories, `(batch,)` or `(batch, k)`.
        count_weights: with `"count"`, a weight per input value, summed instead of 1.

    Output shape: `"one_hot"`: `(batch, num_tokens)` for `(batch,)` or `(batch, 1)` inputs,
    `(batch, k, num_tokens)` for `(batch, k)`; `"multi_hot"`/`"count"`: `(batch, num_tokens)` for
    `(batch, k)` inputs (a `(batch,)` input is one sample, as in Keras).

    >>> CategoryEncoding(4, output_mode="one_hot")(torch.tensor([0, 3])).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if num_tokens is None:
            raise ValueError("CategoryEncoding needs num_tokens, the number of categories.")
        self.num_tokens = check_positive_int("num_tokens", num_tokens)
        if output_mode not in _ENCODINGS:
            raise ValueError(f"Expected output_mode to be one of {', '.join(_ENCODINGS)}. "
                             f"Received: output_mode={output_mode!r}")
        self.output_mode = output_mode
        if sparse:
            raise ValueError("CategoryEncoding(sparse=True) is not supported: netknit encodes "
                             "densely. Pass sparse=False.")
        self.built = True

    def forward(self, inputs, count_weights=None):
        # F.one_hot raises for values outside [0, num_tokens), with Keras's own message.
        if self.output_mode == "one_hot":
            if inputs.dim() > 1 and inputs.shape[-1] == 1:
                inputs = inputs.squeeze(-1)
            return F.one_hot(inputs.long(), self.num_tokens).to(self._variable_dtype)
        hot = F.one_hot(inputs.long(), self.num_tokens).to(self._variable_dtype)
        if self.output_mode == "multi_hot":
            return hot.amax(dim=-2)
        if count_weights is not None:
            hot = hot * torch.as_tensor(count_weights, dtype=self._variable_dtype,
                                        device=hot.device).unsqueeze(-1)
        return hot.sum(dim=-2)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self.dtype

    def compute_output_shape(self, input_shape):
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                input_shape = input_shape[:-1]
            return tuple(input_shape) + (self.num_tokens,)
        if len(input_shape) > 2:
            raise ShapeError(
                f"CategoryEncoding(output_mode={self.output_mode!r}) takes inputs (batch,) or "
                f"(batch, k); received {format_shape(input_shape)}.",
                fix="flatten each sample's categories first, e.g. with Reshape((-1,)), or use "
                    "output_mode='one_hot'.",
            )
        return tuple(input_shape[:-1]) + (self.num_tokens,)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode}


class CenterCrop(_ToImageSize):
    """Crops the centre `(height, width)` of each image; an image smaller than that on either
    side is first cropped to the target's aspect ratio and resized (bilinear), as in Keras.

    Args:
        height, width: the output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: the format of the boxes of dict inputs (see `boxes.py`), which are
            cropped (and scaled) with the image.

    >>> CenterCrop(2, 3)(torch.zeros(1, 4, 5, 3)).shape
    torch.Size([1, 2, 3, 3])
    """

    # Keras's call (saved graphs record it) takes `training`, True and unused.
    _keras_call_arguments = {"training": True}

    def forward(self, inputs):
        if isinstance(inputs, dict):
            return self._forward_dict(inputs)
        if not inputs.is_floating_point():  # Keras's layer gives integer images as floats
            inputs = inputs.to(self._compute_dtype)
        channels_last = self.data_format == "channels_last"
        axes = (-3, -2) if channels_last else (-2, -1)
        height, width = (inputs.shape[a] for a in axes)
        if height >= self.height and width >= self.width:
            top, left = (height - self.height) // 2, (width - self.width) // 2
            return inputs.narrow(axes[0], top, self.height).narrow(axes[1], left, self.width)
        single = inputs.dim() == 3  # one image, as Keras also takes
        images = inputs[None] if single else inputs
        images = images.movedim(-1, 1) if channels_last else images
        resized = resize_images(images, self.height, self.width, crop_to_aspect_ratio=True)
        resized = resized.movedim(1, -1) if channels_last else resized
        return resized[0] if single else resized

    def _window(self, height, width):
        if height >= self.height and width >= self.width:
            return (height - self.height) // 2, (width - self.width) // 2, self.height, self.width
        return aspect_window(height, width, self.height, self.width, crop_to_aspect_ratio=True)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return inputs.dtype if inputs.dtype.is_floating_point else self.compute_dtype


_DISCRETIZATION_MODES = ("int", "one_hot", "multi_hot", "count")


class Discretization(Layer):
    """Buckets numbers into ranges: the output is the index of each value's bin, or an encoding.

    With boundaries `[0., 1., 2.]` there are four bins, `(-inf, 0)`, `[0, 1)`, `[1, 2)` and
    `[2, inf)`: a value equal to a boundary falls in the bin above it. The boundaries are given,
    or learned from data with `adapt(data)` as approximate quantiles (`num_bins` bins holding
    about the same number of values), with Keras's summary algorithm, so that both libraries
    learn the same boundaries.

    Args:
        bin_boundaries: increasing numbers; give these or `num_bins`.
        num_bins: the number of bins `adapt` makes.
        epsilon: the precision of the quantiles `adapt` estimates (about `1 / epsilon` summary
            points per batch).
        output_mode: `"int"` (the bin index, int32), or, over `len(bin_boundaries) + 1` bins,
            `"one_hot"`, `"multi_hot"` or `"count"` (as in CategoryEncoding; float32).
        sparse: must be False (dense outputs only).

    Input shape: any. Output shape: the same for `"int"`; see CategoryEncoding for the others.

    >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])(torch.tensor([[-1.5, 1.0, 3.4, 0.5]]))
    tensor([[0, 2, 3, 1]], dtype=torch.int32)
    """

    # Values are binned in float32 under a mixed policy too (Keras's input dtype is float32).
    _mixed_computes_in_float32 = True

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode not in _DISCRETIZATION_MODES:
            raise ValueError(f"Expected output_mode to be one of "
                             f"{', '.join(_DISCRETIZATION_MODES)}. Received: "
                             f"output_mode={output_mode!r}")
        if sparse:
            raise ValueError("Discretization(sparse=True) is not supported: netknit encodes "
                             "densely. Pass sparse=False.")
        if (bin_boundaries is None) == (num_bins is None):
            raise ValueError(
                "Discretization takes bin_boundaries (the bins' edges) or num_bins (for adapt to "
                f"learn them), not both or neither. Received: bin_boundaries={bin_boundaries!r}, "
                f"num_bins={num_bins!r}"
            )
        if num_bins is not None and (not isinstance(num_bins, int) or isinstance(num_bins, bool)
                                     or num_bins < 0):
            raise ValueError(f"Expected a non-negative integer for num_bins. Received: "
                             f"num_bins={num_bins!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not (
                0 < epsilon <= 1):
            raise ValueError(f"Expected epsilon in (0, 1]. Received: epsilon={epsilon!r}")
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self.bin_boundaries = None
        self._summary = np.zeros((2, 0), dtype="float32")
        self.register_buffer("_boundaries", torch.zeros(0), persistent=False)
        self._waiting_for_adapt = None
        if bin_boundaries is None:
            # Removed by adapt: calls before it fail with a message, and calls after pay nothing.
            self._waiting_for_adapt = self.register_forward_pre_hook(_refuse_before_adapt)
        else:
            self._set_boundaries(bin_boundaries)
        self.built = True

    def _set_boundaries(self, boundaries) -> None:
        values = _number_or_list("bin_boundaries", boundaries)
        values = [values] if not isinstance(values, list) else values
        if any(isinstance(v, list) for v in values) or any(
                b < a for a, b in zip(values, values[1:])):
            raise ValueError("Expected bin_boundaries to be a flat list of increasing numbers. "
                             f"Received: bin_boundaries={boundaries!r}")
        self.bin_boundaries = values
        # Keras compares in float32, the input cast to it.
        self._boundaries = torch.tensor(values, dtype=torch.float32,
                                        device=self._boundaries.device)
        if self._waiting_for_adapt is not None:
            self._waiting_for_adapt.remove()
            self._waiting_for_adapt = None

    def forward(self, inputs):
        values = inputs.to(torch.float32).contiguous()  # searchsorted copies (and warns) otherwise
        indices = torch.bucketize(values, self._boundaries, right=True)
        if self.output_mode == "int":
            return indices.to(torch.int32)
        if self.output_mode == "one_hot" and indices.dim() > 1 and indices.shape[-1] == 1:
            indices = indices.squeeze(-1)
        hot = F.one_hot(indices, self._boundaries.shape[0] + 1).to(self._variable_dtype)
        if self.output_mode == "one_hot":
            return hot
        axis = 1 if indices.dim() > 1 else 0
        return hot.amax(axis) if self.output_mode == "multi_hot" else hot.sum(axis)

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn `num_bins` bins of about equal counts from `data`: an array or tensor (one
        batch, or batches of `batch_size`), or an iterable of batches (`steps` of them at most).
        """
        if self.num_bins is None:
            raise ValueError("This Discretization was given its bin_boundaries; it has nothing to "
                             "adapt. Create it with num_bins= instead to learn them.")
        summary = np.zeros((2, 0), dtype="float32")
        seen = False
        for batch in _batches(data, batch_size, steps):
            seen = True
            summary = _merge_summaries(_summarize(batch, self.epsilon), summary, self.epsilon)
        if not seen:
            raise ValueError("Discretization.adapt received no data.")
        self._summary = summary
        self._set_boundaries(_compress(summary, 1.0 / self.num_bins)[0, :-1].tolist())

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return torch.int32 if self.output_mode == "int" else self.dtype

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = (self.num_bins if self.bin_boundaries is None
                 else len(self.bin_boundaries) + 1)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                input_shape = input_shape[:-1]
            return input_shape + (depth,)
        return input_shape[:1] + input_shape[2:] + (depth,) if len(input_shape) > 1 else (depth,)

    def get_config(self):
        # Keras's keys exactly: no `trainable`, and the dtype as a plain name.
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse,
                "name": self.name, "dtype": str(self.dtype)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        boundaries = config.get("bin_boundaries")
        if boundaries is not None and config.get("num_bins") is not None:
            # An adapted layer saves both: rebuild it as made, then give it what it learned.
            del config["bin_boundaries"]
            layer = cls(**config)
            layer._set_boundaries(boundaries)
            return layer
        return cls(**config)


def _refuse_before_adapt(layer: Discretization, args) -> None:
    raise ValueError(
        f"Discretization '{layer.name}' has no bin boundaries yet. Pass bin_boundaries= when "
        "creating it, or call `layer.adapt(data)` before using it."
    )


# Keras's quantile summary, written out so that adapt learns the boundaries Keras learns: a
# summary is a (2, n) float32 array of sorted values and the weight (count) each stands for.


def _summarize(batch: torch.Tensor, epsilon: float) -> np.ndarray:
    """About `1 / epsilon` evenly spaced order statistics of the batch, each weighing the
    number of values it stands for (all the values, weight 1, when there are fewer)."""
    values = np.sort(batch.detach().cpu().numpy().astype("float32").ravel())
    step = max(values.size / (1.0 / epsilon), 1)
    picked = values[int(step - 1)::int(step)]
    return np.stack([picked, np.ones_like(picked) * step])


def _merge_summaries(first: np.ndarray, second: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate((first, second), axis=1)
    return _compress(merged[:, np.argsort(merged[0])], epsilon)


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """The summary cut down to points at cumulative weight fractions epsilon, 2 epsilon, ...,
    1 (interpolated), when it has more than about `1 / epsilon` points."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    position = cumulative / cumulative[-1]
    points = np.interp(fractions, position, summary[0])
    reached = np.interp(fractions, position, cumulative)
    weights = np.diff(reached, prepend=0.0)
    return np.stack((points, weights)).astype("float32")
