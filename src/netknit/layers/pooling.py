"""Pooling layers: max and average pooling over windows, global and adaptive pooling, in 1, 2
and 3-D.

Inputs are `channels_last` by default and reach torch's pooling kernels as permuted views.
`padding="same"` follows Keras: `ceil(size / strides)` outputs, the extra padding at the end; max
pooling never picks a padded value. Average pooling, as Keras on torch computes it: where the
padding is the same on both sides, the padded positions are left out of each mean; where it is not
(one more position at the end), the input's edge values are repeated into the padding and count
in the mean. (Keras on TensorFlow and JAX leave the padding out in both cases.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import eager_kernels
from .convolutional import (
    check_spatial_input,
    check_window_fits,
    join_spatial,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    output_length,
    pad_same,
    same_padding,
    split_spatial,
)
from .layer import Layer


class BasePooling(Layer):
    """What max and average pooling share: window arguments, layout handling and shapes."""

    _built_when_made = True
    rank: int

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(
            strides, self.rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self.built = True

    def forward(self, inputs):
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        outputs = self._pool(x)
        return outputs.movedim(1, -1) if self._channels_last else outputs

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, self.rank, self.data_format)
        spatial, channels = split_spatial(input_shape, self.data_format)
        if self.padding == "valid":
            check_window_fits(self, input_shape, spatial, self.pool_size, "pool_size")
        out = tuple(output_length(n, k, self.padding, s)
                    for n, k, s in zip(spatial, self.pool_size, self.strides))
        return join_spatial(input_shape[0], out, channels, self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling(BasePooling):
    """N-d max pooling (the base of MaxPooling1D/2D/3D; see MaxPooling2D for the arguments)."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self._pool_fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[self.rank - 1]

    def _pool(self, x):
        x, padding = (x, 0) if self.padding == "valid" else pad_same(
            x, self.pool_size, self.strides, value=float("-inf"))
        if self.rank > 1 and eager_kernels.in_compiled_cpu_training(x):
            padding = padding if isinstance(padding, tuple) else (padding,) * self.rank
            return eager_kernels.max_pool(x, self.pool_size, self.strides, padding)
        return self._pool_fn(x, self.pool_size, self.strides, padding)


class MaxPooling1D(MaxPooling):
    """Max pooling over steps; arguments as MaxPooling2D with one-element sizes.

    Input shape: `(batch, steps, channels)`. Output shape: `(batch, pooled_steps, channels)`.

    >>> MaxPooling1D()(torch.zeros(1, 10, 3)).shape
    torch.Size([1, 5, 3])
    """

    rank = 1


class MaxPooling2D(MaxPooling):
    """Max pooling over height and width: the largest value under each window.

    Args:
        pool_size: an int or a tuple `(ph, pw)`; the window. Default 2.
        strides: an int, a tuple, or None (default) for `pool_size`.
        padding: `"valid"` (windows inside the input) or `"same"` (`ceil(input / strides)`
            outputs, padded at the end).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, pooled_height, pooled_width, channels)`.

    >>> MaxPooling2D((2, 2))(torch.zeros(1, 26, 26, 32)).shape
    torch.Size([1, 13, 13, 32])
    """

    rank = 2


class MaxPooling3D(MaxPooling):
    """Max pooling over depth, height and width; arguments as MaxPooling2D.

    Input shape: `(batch, depth, height, width, channels)`.
    """

    rank = 3


class AveragePooling(BasePooling):
    """N-d average pooling (the base of AveragePooling1D/2D/3D)."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self._pool_fn = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[self.rank - 1]

    def _pool(self, x):
        if self.padding == "valid":
            return self._pool_fn(x, self.pool_size, self.strides)
        pads = [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], self.pool_size, self.strides)]
        if all(start == end for start, end in pads):
            return self._pool_fn(x, self.pool_size, self.strides, [p for p, _ in pads],
                                 count_include_pad=False)
        # Uneven padding cannot be given to torch's kernel: Keras on torch repeats the edges.
        flat = [p for pair in reversed(pads) for p in pair]
        return self._pool_fn(F.pad(x, flat, mode="replicate"), self.pool_size, self.strides)


class AveragePooling1D(AveragePooling):
    """Average pooling over steps; arguments as AveragePooling2D with one-element sizes.

    >>> AveragePooling1D(2)(torch.ones(1, 4, 3)).shape
    torch.Size([1, 2, 3])
    """

    rank = 1


class AveragePooling2D(AveragePooling):
    """Average pooling over height and width: the mean of the values under each window.

    Args:
        pool_size: an int or a tuple `(ph, pw)`; the window (required, as in Keras 3).
        strides: an int, a tuple, or None (default) for `pool_size`.
        padding: `"valid"` or `"same"`; with `"same"`, the padded positions are left out of
            each mean, except where there is one more at the end than at the start: there the
            edge values are repeated into them (as Keras on torch computes).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, pooled_height, pooled_width, channels)`.

    >>> AveragePooling2D(2)(torch.ones(1, 4, 4, 3)).shape
    torch.Size([1, 2, 2, 3])
    """

    rank = 2


class AveragePooling3D(AveragePooling):
    """Average pooling over depth, height and width; arguments as AveragePooling2D."""

    rank = 3


# ---------------------------------------------------------------------- global pooling


class GlobalPooling(Layer):
    """Pools over all spatial axes: `(batch, *spatial, channels)` becomes `(batch, channels)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: keep the spatial axes with size 1, e.g. `(batch, 1, 1, channels)`.
    """

    _built_when_made = True
    rank: int

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        if not isinstance(keepdims, bool):
            raise ValueError(f"Expected keepdims to be True or False. Received: {keepdims!r}")
        self.keepdims = keepdims
        first = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(first, first + self.rank))
        self.built = True

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, self.rank, self.data_format)
        spatial, channels = split_spatial(input_shape, self.data_format)
        if not self.keepdims:
            return (input_shape[0], channels)
        return join_spatial(input_shape[0], (1,) * self.rank, channels, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling(GlobalPooling):
    _casts_integer_inputs = True  # Keras's mean of integers is a float

    def forward(self, inputs):
        return torch.mean(inputs, dim=self._axes, keepdim=self.keepdims)


class GlobalMaxPooling(GlobalPooling):
    def forward(self, inputs):
        return torch.amax(inputs, dim=self._axes, keepdim=self.keepdims)


class GlobalAveragePooling1D(GlobalAveragePooling):
    """The mean over steps: `(batch, steps, channels)` becomes `(batch, channels)`.

    With a mask (from `Embedding(mask_zero=True)` or `Masking`), the mean is over the unmasked
    steps only, as in Keras.

    >>> GlobalAveragePooling1D()(torch.ones(2, 5, 3)).shape
    torch.Size([2, 3])
    """

    rank = 1

    def forward(self, inputs, mask=None):
        if mask is None:
            return torch.mean(inputs, dim=self._axes, keepdim=self.keepdims)
        weights = mask.unsqueeze(-1 if self.data_format == "channels_last" else 1)
        weights = weights.to(inputs.dtype)
        return (inputs * weights).sum(self._axes, keepdim=self.keepdims) / weights.sum(
            self._axes, keepdim=self.keepdims)


class GlobalAveragePooling2D(GlobalAveragePooling):
    """The mean over height and width: `(batch, h, w, channels)` becomes `(batch, channels)`.

    >>> GlobalAveragePooling2D(keepdims=True)(torch.ones(2, 4, 4, 3)).shape
    torch.Size([2, 1, 1, 3])
    """

    rank = 2


class GlobalAveragePooling3D(GlobalAveragePooling):
    """The mean over depth, height and width: `(batch, d, h, w, c)` → `(batch, c)`."""

    rank = 3


class GlobalMaxPooling1D(GlobalMaxPooling):
    """The maximum over steps: `(batch, steps, channels)` becomes `(batch, channels)`."""

    rank = 1


class GlobalMaxPooling2D(GlobalMaxPooling):
    """The maximum over height and width: `(batch, h, w, channels)` becomes `(batch, channels)`.

    >>> GlobalMaxPooling2D()(torch.ones(2, 4, 4, 3)).shape
    torch.Size([2, 3])
    """

    rank = 2


class GlobalMaxPooling3D(GlobalMaxPooling):
    """The maximum over depth, height and width: `(batch, d, h, w, c)` → `(batch, c)`."""

    rank = 3


# ---------------------------------------------------------------------- adaptive pooling


class AdaptivePooling(Layer):
    """Pools each input to a fixed spatial size `output_size`, whatever the input's size.

    Output position `i` of an axis of length `n` pooled to `m` covers the input positions
    `floor(i * n / m)` up to (not including) `ceil((i + 1) * n / m)`: torch's adaptive pooling
    bins, which Keras uses. Windows overlap where `m` does not divide `n`, and repeat input
    positions where `m > n`.

    Args:
        output_size: an int (the same size on every spatial axis) or a tuple of `rank` ints.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    rank: int
    _pool_fns: tuple

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = normalize_tuple(output_size, self.rank, "output_size")
        self.data_format = normalize_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self._pool_fn = self._pool_fns[self.rank - 1]
        self.built = True

    def forward(self, inputs):
        # torch's CPU kernels read a channels-last view as it lies (no copy).
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        outputs = self._pool_fn(x, self.output_size)
        return outputs.movedim(1, -1) if self._channels_last else outputs

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, self.rank, self.data_format)
        _, channels = split_spatial(input_shape, self.data_format)
        return join_spatial(input_shape[0], self.output_size, channels, self.data_format)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


class AdaptiveAveragePooling(AdaptivePooling):
    """N-d adaptive average pooling: each output is the mean of its bin."""

    _pool_fns = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)


class AdaptiveMaxPooling(AdaptivePooling):
    """N-d adaptive max pooling: each output is the largest value of its bin."""

    # torch's max pooling also returns the positions when asked; these return values only.
    _pool_fns = (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)


class AdaptiveAveragePooling1D(AdaptiveAveragePooling):
    """Averages steps into `output_size` bins: `(batch, steps, channels)` becomes
    `(batch, output_size, channels)`; arguments as in AdaptiveAveragePooling2D.

    >>> AdaptiveAveragePooling1D(2)(torch.arange(6.0).reshape(1, 6, 1)).ravel().tolist()
    [1.0, 4.0]
    """

    rank = 1


class AdaptiveAveragePooling2D(AdaptiveAveragePooling):
    """Averages images into an `output_size` grid of bins, whatever their size.

    Args:
        output_size: an int or a tuple `(height, width)`: the output's spatial size.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, output_height, output_width, channels)`.

    >>> AdaptiveAveragePooling2D((2, 3))(torch.zeros(1, 7, 9, 4)).shape
    torch.Size([1, 2, 3, 4])
    """

    rank = 2


class AdaptiveAveragePooling3D(AdaptiveAveragePooling):
    """Averages volumes into an `output_size` grid of bins; arguments as in
    AdaptiveAveragePooling2D with `(depth, height, width)` sizes.

    Input shape: `(batch, depth, height, width, channels)`.
    """

    rank = 3


class AdaptiveMaxPooling1D(AdaptiveMaxPooling):
    """The maximum of each of `output_size` bins of steps; arguments as in AdaptiveMaxPooling2D.

    >>> AdaptiveMaxPooling1D(2)(torch.arange(6.0).reshape(1, 6, 1)).ravel().tolist()
    [2.0, 5.0]
    """

    rank = 1


class AdaptiveMaxPooling2D(AdaptiveMaxPooling):
    """The maximum of each bin of an `output_size` grid over the image, whatever its size.

    Args:
        output_size: an int or a tuple `(height, width)`: the output's spatial size.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, output_height, output_width, channels)`.

    >>> AdaptiveMaxPooling2D(1)(torch.zeros(1, 5, 5, 2)).shape
    torch.Size([1, 1, 1, 2])
    """

    rank = 2


class AdaptiveMaxPooling3D(AdaptiveMaxPooling):
    """The maximum of each bin of an `output_size` grid over a volume; arguments as in
    AdaptiveMaxPooling2D with `(depth, height, width)` sizes.

    Input shape: `(batch, depth, height, width, channels)`.
    """

    rank = 3


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
