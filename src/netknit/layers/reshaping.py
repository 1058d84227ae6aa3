"""Spatial reshaping layers: zero padding, cropping and upsampling of sequences and images.

Inputs are `channels_last` by default, as in Keras. Padding and cropping amounts are fixed at
construction, so `forward` is one `F.pad`, one slice, or one interpolation.
"""

from __future__ import annotations

import torch.nn.functional as F

from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .convolutional import (
    SPATIAL_AXES,
    check_spatial_input,
    join_spatial,
    normalize_data_format,
    normalize_tuple,
    split_spatial,
)
from .layer import Layer


def normalize_pairs(value, rank: int, name: str) -> tuple:
    """`(start, end)` per spatial axis from an int, one int per axis, or one pair per axis.

    For one spatial axis, a pair `(start, end)` is the usual form.
    """
    if rank == 1 and not isinstance(value, int):
        return (normalize_tuple(value, 2, name, allow_zero=True),)
    if isinstance(value, int) or all(isinstance(v, int) for v in value):
        return tuple((v, v) for v in normalize_tuple(value, rank, name, allow_zero=True))
    if len(value) != rank:
        raise ValueError(
            f"Expected {name} to be an int, {rank} ints, or {rank} pairs (start, end). "
            f"Received: {name}={value!r}"
        )
    return tuple(normalize_tuple(pair, 2, name, allow_zero=True) for pair in value)


class _EdgeLayer(Layer):
    """Adds (ZeroPadding) or removes (Cropping) a fixed number of positions at each edge."""

    rank: int
    _grows: bool

    def __init__(self, pairs, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self._pairs = pairs
        self.built = True

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, self.rank, self.data_format)
        spatial, channels = split_spatial(input_shape, self.data_format)
        if self._grows:
            out = tuple(None if n is None else n + a + b for n, (a, b) in zip(spatial, self._pairs))
            return join_spatial(input_shape[0], out, channels, self.data_format)
        for axis, (n, (a, b)) in enumerate(zip(spatial, self._pairs)):
            if n is not None and a + b >= n:
                raise ShapeError(
                    f"{type(self).__name__} removes {a} + {b} positions along the "
                    f"{SPATIAL_AXES[self.rank][axis]} axis, but the input "
                    f"{format_shape(input_shape)} has only {n}.",
                    fix=f"crop fewer than {n} positions in total along that axis.",
                )
        out = tuple(None if n is None else n - a - b for n, (a, b) in zip(spatial, self._pairs))
        return join_spatial(input_shape[0], out, channels, self.data_format)


class ZeroPadding(_EdgeLayer):
    _grows = True

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(normalize_pairs(padding, self.rank, "padding"), data_format, **kwargs)
        # F.pad lists the last axis first; with channels last, that axis is not padded.
        flat = [p for pair in reversed(self._pairs) for p in pair]
        self._torch_pad = ([0, 0] + flat) if self.data_format == "channels_last" else flat

    def forward(self, inputs):
        return F.pad(inputs, self._torch_pad)

    def get_config(self):
        padding = self._pairs[0] if self.rank == 1 else self._pairs
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding1D(ZeroPadding):
    """Adds zeros at the start and end of the steps axis.

    Args:
        padding: an int (both ends) or a pair `(start, end)`. Default 1.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, steps, channels)`. Output shape: `(batch, padded_steps, channels)`.

    >>> ZeroPadding1D(2)(torch.ones(1, 3, 1)).shape
    torch.Size([1, 7, 1])
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(ZeroPadding):
    """Adds rows and columns of zeros around an image.

    Args:
        padding: an int (all sides), `(rows, columns)` (symmetric), or
            `((top, bottom), (left, right))`. Default `(1, 1)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, padded_height, padded_width, channels)`.

    >>> ZeroPadding2D(((1, 0), (2, 2)))(torch.ones(1, 3, 3, 1)).shape
    torch.Size([1, 4, 7, 1])
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(ZeroPadding):
    """Adds zeros around a volume, along depth, height and width.

    Args:
        padding: an int (all sides), three ints (symmetric per axis), or three pairs
            `((front, back), (top, bottom), (left, right))`. Default `((1, 1), (1, 1), (1, 1))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, depth, height, width, channels)`.
    Output shape: `(batch, padded_depth, padded_height, padded_width, channels)`.

    >>> ZeroPadding3D((1, 2, 0))(torch.ones(1, 2, 2, 2, 1)).shape
    torch.Size([1, 4, 6, 2, 1])
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping(_EdgeLayer):
    _grows = False

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(normalize_pairs(cropping, self.rank, "cropping"), data_format, **kwargs)
        spatial = tuple(slice(a, -b if b else None) for a, b in self._pairs)
        self._slices = ((slice(None),) + spatial if self.data_format == "channels_last"
                        else (slice(None), slice(None)) + spatial)

    def forward(self, inputs):
        return inputs[self._slices]

    def get_config(self):
        # Keras's Cropping1D has no data_format argument.
        if self.rank == 1:
            return {**super().get_config(), "cropping": self._pairs[0]}
        return {**super().get_config(), "cropping": self._pairs, "data_format": self.data_format}


class Cropping1D(Cropping):
    """Removes steps at the start and end of a sequence.

    Args:
        cropping: an int (both ends) or a pair `(start, end)`. Default `(1, 1)`.

    Input shape: `(batch, steps, channels)`. Output shape: `(batch, cropped_steps, channels)`.

    >>> Cropping1D((1, 2))(torch.ones(1, 6, 3)).shape
    torch.Size([1, 3, 3])
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(Cropping):
    """Removes rows and columns at the edges of an image.

    Args:
        cropping: an int (all sides), `(rows, columns)` (symmetric), or
            `((top, bottom), (left, right))`. Default `((0, 0), (0, 0))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, cropped_height, cropped_width, channels)`.

    >>> Cropping2D(((1, 0), (2, 1)))(torch.ones(1, 5, 6, 3)).shape
    torch.Size([1, 4, 3, 3])
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(Cropping):
    """Removes positions at the edges of a volume, along depth, height and width.

    Args:
        cropping: an int (all sides), three ints (symmetric per axis), or three pairs
            `((front, back), (top, bottom), (left, right))`. Default `((1, 1), (1, 1), (1, 1))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, depth, height, width, channels)`.
    Output shape: `(batch, cropped_depth, cropped_height, cropped_width, channels)`.

    >>> Cropping3D(((1, 0), (0, 1), (1, 1)))(torch.ones(1, 4, 4, 4, 2)).shape
    torch.Size([1, 3, 3, 2, 2])
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class UpSampling1D(Layer):
    """Repeats each step `size` times: `(batch, steps, channels)` → `(batch, steps * size, ...)`.

    Args:
        size: the number of repetitions. Default 2.

    >>> UpSampling1D(3)(torch.ones(1, 4, 2)).shape
    torch.Size([1, 12, 2])
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 1, "size")[0]
        self.built = True

    def forward(self, inputs):
        return inputs.repeat_interleave(self.size, dim=1)

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, 1, "channels_last")
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class _SpatialUpSampling(Layer):
    """Image and volume upsampling: `size` factors per spatial axis and a data format."""

    rank: int

    def __init__(self, size, data_format, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, self.rank, "size")
        self.data_format = normalize_data_format(data_format)
        self.built = True

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, self.rank, self.data_format)
        spatial, channels = split_spatial(input_shape, self.data_format)
        out = tuple(None if n is None else n * s for n, s in zip(spatial, self.size))
        return join_spatial(input_shape[0], out, channels, self.data_format)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling2D(_SpatialUpSampling):
    """Enlarges an image by integer factors, repeating pixels or interpolating between them.

    Args:
        size: an int or `(rows, columns)` factors. Default `(2, 2)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        interpolation: `"nearest"` (repeat pixels, default) or `"bilinear"` (half-pixel
            centers, no antialiasing, as Keras resizes).

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height * rows, width * columns, channels)`.

    >>> UpSampling2D((2, 3))(torch.ones(1, 3, 4, 2)).shape
    torch.Size([1, 6, 12, 2])
    """

    rank = 2
    _interpolations = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if not isinstance(interpolation, str) or interpolation.lower() not in self._interpolations:
            raise ValueError(
                f"Expected interpolation to be one of {', '.join(self._interpolations)}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation.lower()
        self._channels_last = self.data_format == "channels_last"
        self._align = None if self.interpolation == "nearest" else False

    def forward(self, inputs):
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        outputs = F.interpolate(x, scale_factor=self.size, mode=self.interpolation,
                                align_corners=self._align)
        return outputs.movedim(1, -1) if self._channels_last else outputs

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_SpatialUpSampling):
    """Enlarges a volume by integer factors, repeating each voxel.

    Args:
        size: an int or `(depth, height, width)` factors. Default `(2, 2, 2)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, depth, height, width, channels)`.
    Output shape: `(batch, depth * size[0], height * size[1], width * size[2], channels)`.

    >>> UpSampling3D((1, 2, 3))(torch.ones(1, 2, 2, 2, 4)).shape
    torch.Size([1, 2, 4, 6, 4])
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
        first = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(zip(range(first, first + 3), self.size))

    def forward(self, inputs):
        for axis, repeats in self._axes:
            if repeats != 1:
                inputs = inputs.repeat_interleave(repeats, dim=axis)
        return inputs
