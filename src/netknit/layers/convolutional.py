"""Convolution layers: one N-d base serving Conv1D/2D/3D, transposed, depthwise and separable.

Inputs are `channels_last` by default, as in Keras. They reach torch's kernels as permuted views
(no copy). Kernels are stored in Keras's layout `(*kernel_size, in / groups, out)` and reach
torch's as permuted views too, `(out, in / groups, *kernel_size)`; a depthwise kernel
`(*kernel_size, in, multiplier)` as the view `(in * multiplier, 1, *kernel_size)`.

`padding="same"` follows Keras: the output has `ceil(size / stride)` positions, and when the total
padding is odd the extra zero goes at the end. `padding="causal"` (Conv1D) pads only the start.

The module also holds the spatial helpers that pooling and reshaping layers share: argument
normalization, the input-rank check with its fix, and the "same" padding rule.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import activations
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape, num_elements
from .core import LowRankAdaptable, adapted_weight, apply_activation, check_positive_int
from .core import _normalize_data_format as normalize_data_format
from .layer import Layer

SPATIAL_AXES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


# ---------------------------------------------------------------------- shared spatial helpers


def normalize_tuple(value, rank: int, name: str, allow_zero: bool = False) -> tuple:
    """An int or a sequence of `rank` ints as a tuple of `rank` ints (positive, or >= 0)."""
    values = (value,) * rank if isinstance(value, int) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    least = 0 if allow_zero else 1
    if len(values) != rank or any(
        not isinstance(v, int) or isinstance(v, bool) or v < least for v in values
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"Expected {name} to be a {kind} integer or a tuple of {rank} {kind} integers. "
            f"Received: {name}={value!r}"
        )
    return values


def normalize_padding(padding, allowed: tuple = ("valid", "same")) -> str:
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(
            f"Expected padding to be one of {', '.join(repr(a) for a in allowed)}. "
            f"Received: padding={padding!r}"
        )
    return padding.lower()


def check_strides_or_dilation(strides: tuple, dilation_rate: tuple) -> None:
    """Keras's rule: a convolution either strides or dilates, not both."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "strides > 1 cannot be combined with dilation_rate > 1. Received: "
            f"strides={strides}, dilation_rate={dilation_rate}"
        )


def dilated_windows(kernel_size: tuple, dilation_rate: tuple) -> tuple:
    """The positions each kernel spans along each axis once dilated."""
    return tuple((k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate))


def torch_padding(padding: str, windows: tuple, strides: tuple):
    """Torch's own padding argument where it pads as Keras does: none for "valid", half the
    window on each side for "same" with stride 1 and odd windows. None means that each input
    is padded first (`pad_same`: uneven or strided "same", or "causal")."""
    if padding == "valid":
        return 0
    if padding == "same" and max(strides) == 1 and all(w % 2 for w in windows):
        return tuple(w // 2 for w in windows)
    return None


def describe_layout(rank: int, data_format: str) -> str:
    """`(batch, height, width, channels)` for a 2-D channels_last input."""
    axes = SPATIAL_AXES[rank]
    axes = axes + ("channels",) if data_format == "channels_last" else ("channels",) + axes
    return f"(batch, {', '.join(axes)})"


def _sample_shape_hint(sample: tuple, rank: int, data_format: str) -> tuple | None:
    """A sample shape with `rank` spatial axes and the same number of values, or None."""
    size = num_elements(sample)
    if size is None:
        return None
    if len(sample) == rank:
        spatial = tuple(sample)
    elif rank == 2 and math.isqrt(size) ** 2 == size:
        spatial = (math.isqrt(size),) * 2
    else:
        spatial = (size,) + (1,) * (rank - 1)
    return spatial + (1,) if data_format == "channels_last" else (1,) + spatial


def check_spatial_input(layer: Layer, input_shape, rank: int, data_format: str) -> None:
    """Raise a ShapeError that explains the expected layout unless `input_shape` has rank+2 axes."""
    if len(input_shape) == rank + 2:
        return
    kind = type(layer).__name__
    layout = describe_layout(rank, data_format)
    sample = tuple(input_shape[1:])
    if len(sample) > rank + 1:
        target = format_shape((num_elements(sample[:-1]) or -1, sample[-1]))
    else:
        hint = _sample_shape_hint(sample, rank, data_format)
        target = format_shape(hint) if hint else f"({layout[7:-1]})"
    fix = f"reshape each sample, e.g. Reshape({target}) before the {kind}"
    spatial = len(sample) - 1
    other = kind.replace(f"{rank}D", f"{spatial}D") if 1 <= spatial <= 3 else kind
    if other != kind:
        axes = "1 spatial axis" if spatial == 1 else f"{spatial} spatial axes"
        use = f"use {other} for inputs with {axes}"
        fix = f"{use}, or {fix}" if spatial > rank else f"{fix}, or {use}"
    raise ShapeError(
        f"{kind} expects {rank + 2}-D inputs {layout}, but received the {len(input_shape)}-D "
        f"input {format_shape(input_shape)}.",
        fix=fix + ".",
    )


def split_spatial(input_shape, data_format: str) -> tuple[tuple, int | None]:
    """(spatial sizes, channels) of a batched input shape."""
    if data_format == "channels_last":
        return tuple(input_shape[1:-1]), input_shape[-1]
    return tuple(input_shape[2:]), input_shape[1]


def join_spatial(batch, spatial, channels, data_format: str) -> tuple:
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """Keras's (start, end) padding for "same": `ceil(size / stride)` outputs, extra at the end."""
    total = max((-(-size // stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, windows: tuple, strides: tuple, value: float = 0.0):
    """Pad channels-first `x` for "same"; returns (x, torch padding) without a copy if symmetric."""
    pads = [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], windows, strides)]
    if all(start == end for start, end in pads):
        return x, tuple(start for start, _ in pads)
    flat = [p for pair in reversed(pads) for p in pair]
    return F.pad(x, flat, value=value), 0


def output_length(size, window: int, padding: str, stride: int):
    """Positions along one axis after a convolution or pooling window (None if size unknown)."""
    if size is None:
        return None
    if padding == "valid":
        return (size - window) // stride + 1
    return -(-size // stride)


def check_window_fits(layer: Layer, input_shape, spatial, windows, what: str) -> None:
    """Raise a ShapeError when a 'valid' window is larger than the input along some axis."""
    too_small = [i for i, (n, k) in enumerate(zip(spatial, windows)) if n is not None and n < k]
    if not too_small:
        return
    i = too_small[0]
    name = SPATIAL_AXES[len(spatial)][i]
    raise ShapeError(
        f"{type(layer).__name__}'s {what} of {windows[i]} along the {name} axis is larger than the "
        f"input's {spatial[i]} positions in {format_shape(input_shape)}, so padding='valid' leaves "
        "no output.",
        fix=f"use padding='same', a smaller {what}, or a larger input (e.g. remove a pooling "
        "layer before it).",
    )


def transposed_crop(window: int, stride: int, padding: str, extra: int | None) -> tuple[int, int]:
    """Torch's transposed convolution is `(n - 1) * stride + window` long; Keras's output is the
    part of it left after cropping (start, end) positions, a negative crop meaning zeros to add.
    `window` is the dilated window; `extra` the output_padding (None: Keras's default)."""
    if padding == "valid":
        extra = max(window, stride) - window if extra is None else extra
        return 0, -extra
    total = window + stride - 2 if extra is None else window + window % 2 - 2 + extra
    start = min(total // 2 + total % 2, window - 1)
    return window - 1 - start, window - 1 - (total - start)


def torch_kernel_order(rank: int) -> tuple:
    """The permutation from Keras's kernel layout to torch's: (*k, in, out) -> (out, in, *k) for a
    convolution, and (*k, out, in) -> (in, out, *k) for a transposed one (the same permutation).
    Kernels are stored in Keras's layout (`layer.kernel.shape` is Keras's) and reach torch's
    kernels as this permuted view."""
    return (rank + 1, rank) + tuple(range(rank))


# ---------------------------------------------------------------------- the N-d base


class BaseConv(Layer):
    """What every convolution shares: window arguments, bias, activation, padding and shapes.

    Subclasses set `rank` and create their kernels in `build`; `_convolve` runs torch on a
    channels-first view.
    """

    rank: int
    _allowed_padding = ("valid", "same")
    _window_must_fit = True  # with padding="valid" (a transposed convolution grows instead)

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, activity_regularizer=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding, self._allowed_padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        check_strides_or_dilation(self.strides, self.dilation_rate)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.bias_constraint = constraints_module.get(bias_constraint)
        self._channels_last = self.data_format == "channels_last"
        self._windows = dilated_windows(self.kernel_size, self.dilation_rate)
        self._torch_padding = torch_padding(self.padding, self._windows, self.strides)

    def _add_bias(self, size: int) -> None:
        if self.use_bias:
            self.add_weight(name="bias", shape=(size,), initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None

    def _input_channels(self, input_shape) -> int:
        check_spatial_input(self, input_shape, self.rank, self.data_format)
        channels = split_spatial(input_shape, self.data_format)[1]
        if channels is None:
            raise ShapeError(
                f"{type(self).__name__} needs to know the number of channels to create its "
                f"kernel; received {format_shape(input_shape)}.",
                fix="give the Input a fixed channel axis, e.g. Input(shape=(None, None, 3)).",
            )
        return channels

    def _pad_input(self, x: torch.Tensor):
        if self._torch_padding is not None:
            return x, self._torch_padding
        if self.padding == "causal":
            return F.pad(x, (self._windows[0] - 1, 0)), 0
        return pad_same(x, self._windows, self.strides)

    def forward(self, inputs):
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        outputs = self._convolve(*self._pad_input(x))
        if self._channels_last:
            outputs = outputs.movedim(1, -1)
        return apply_activation(self.activation, outputs)

    def _output_channels(self, input_channels: int) -> int:
        raise NotImplementedError

    def _spatial_output(self, spatial: tuple) -> tuple:
        padding = "valid" if self.padding == "valid" else "same"
        return tuple(output_length(n, w, padding, s)
                     for n, w, s in zip(spatial, self._windows, self.strides))

    def compute_output_shape(self, input_shape):
        channels = self._input_channels(input_shape)
        if self.built and channels != self._built_channels:
            raise ShapeError(
                f"It was built for inputs with {self._built_channels} channels, but received "
                f"{format_shape(input_shape)} with {channels}.",
                fix=f"project the input to {self._built_channels} channels first (e.g. a 1x1 "
                "convolution), or use a new layer for this input.",
            )
        spatial = split_spatial(input_shape, self.data_format)[0]
        if self.padding == "valid" and self._window_must_fit:
            check_window_fits(self, input_shape, spatial, self._windows, "kernel")
        return join_spatial(input_shape[0], self._spatial_output(spatial),
                            self._output_channels(channels), self.data_format)

    def _base_config(self) -> dict:
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }

    def _tail_config(self, *weights: str) -> dict:
        """activation, use_bias, then initializers, regularizers and constraints per weight."""
        config = {"activation": activations.serialize(self.activation), "use_bias": self.use_bias}
        names = [*weights, "bias"]
        for kind, module in (("initializer", initializers_module),
                             ("regularizer", regularizers_module)):
            for name in names:
                config[f"{name}_{kind}"] = module.serialize(getattr(self, f"{name}_{kind}"))
        config["activity_regularizer"] = regularizers_module.serialize(self.activity_regularizer)
        for name in names:
            config[f"{name}_constraint"] = constraints_module.serialize(
                getattr(self, f"{name}_constraint"))
        return config


# ---------------------------------------------------------------------- convolution


class Conv(LowRankAdaptable, BaseConv):
    """N-d convolution (the base of Conv1D, Conv2D and Conv3D; see Conv2D for the arguments)."""

    kernel = adapted_weight("kernel")
    _build_keeps_alpha = True  # as Keras's convolutions (Dense's build drops lora_alpha)

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         bias_constraint, **kwargs)
        self._init_lora(lora_rank, lora_alpha)
        self.filters = check_positive_int("filters", filters)
        self.groups = check_positive_int("groups", groups)
        if self.filters % self.groups:
            raise ValueError(
                "Expected filters to be divisible by groups. Received: "
                f"filters={filters}, groups={groups}"
            )
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self._convolve_fn = (F.conv1d, F.conv2d, F.conv3d)[self.rank - 1]

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ShapeError(
                f"{type(self).__name__} with groups={self.groups} needs a number of input "
                f"channels divisible by {self.groups}; received {format_shape(input_shape)} "
                f"with {channels}.",
                fix=f"use groups that divide {channels}, or change the channels of the input.",
            )
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.add_weight(name="kernel", shape=shape, initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self._kernel_order = torch_kernel_order(self.rank)
        self._add_bias(self.filters)
        self._built_channels = channels
        self._build_lora()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A subclass that overrides only `convolution_op` (Keras's hook for standardized or
        # otherwise transformed kernels) runs through it; the others keep the fused call.
        if "convolution_op" in cls.__dict__ and not {"call", "forward"} & cls.__dict__.keys():
            cls.forward = cls.call = Conv._forward_through_convolution_op

    def convolution_op(self, inputs, kernel):
        """The layer's convolution of `inputs` (in its data format) with `kernel` (in Keras's
        layout, `kernel_size + (input channels // groups, filters)`), without bias or activation.

        A subclass may override it, or call it from its own `call` with a transformed kernel.
        """
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        x, padding = self._pad_input(x)
        outputs = self._convolve_fn(x, kernel.permute(self._kernel_order), None, self.strides,
                                    padding, self.dilation_rate, self.groups)
        return outputs.movedim(1, -1) if self._channels_last else outputs

    def _forward_through_convolution_op(self, inputs):
        outputs = self.convolution_op(inputs, self.kernel)
        if self.use_bias:
            outputs = outputs + (self.bias if self._channels_last
                                 else self.bias.reshape(-1, *(1,) * self.rank))
        return apply_activation(self.activation, outputs)

    def _convolve(self, x, padding):
        return self._convolve_fn(x, self.kernel.permute(self._kernel_order), self.bias,
                                 self.strides, padding, self.dilation_rate, self.groups)

    def _output_channels(self, input_channels):
        return self.filters

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, **self._base_config(),
                "groups": self.groups, **self._tail_config("kernel"), **self._lora_config()}


class Conv1D(Conv):
    """1-D convolution over steps: `activation(conv(inputs, kernel) + bias)`.

    Arguments as Conv2D, with one-element sizes; `padding="causal"` pads only the start, so
    output step t sees input steps up to t (for temporal models and WaveNet-style dilations).

    Input shape: `(batch, steps, channels)`. Output shape: `(batch, new_steps, filters)`.

    >>> Conv1D(4, 3, padding="causal")(torch.zeros(2, 10, 8)).shape
    torch.Size([2, 10, 4])
    """

    rank = 1
    _allowed_padding = ("valid", "same", "causal")


class Conv2D(Conv):
    """2-D convolution over images: `activation(conv(inputs, kernel) + bias)`.

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple `(kh, kw)`.
        strides: an int or a tuple; the step of the window. Default 1.
        padding: `"valid"` (no padding) or `"same"` (output size `ceil(input / strides)`, with
            the extra zero at the end when the padding is odd, as in Keras).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: an int or a tuple; spacing of the kernel taps (not with strides > 1).
        groups: splits input and output channels into this many independent groups.
        activation: an activation name, a callable, or None for linear.
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer: `"glorot_uniform"` and `"zeros"` by default.
        kernel_regularizer, bias_regularizer, activity_regularizer: e.g. `"l2"`.
        kernel_constraint, bias_constraint: e.g. `"max_norm"`.
        lora_rank: if set (a positive integer), LoRA is enabled when the layer is built (see
            `enable_lora`): the kernel is frozen and a rank-`lora_rank` update trains instead,
            `lora_kernel_a` of the kernel's shape with its last axis `lora_rank` and
            `lora_kernel_b` of shape `(lora_rank, filters)`.
        lora_alpha: the update is scaled by `lora_alpha / lora_rank` (the rank by default).

    The kernel's Keras layout is `(kh, kw, in_channels / groups, filters)`.

    Input shape: `(batch, height, width, channels)` (channels_last).
    Output shape: `(batch, new_height, new_width, filters)`.

    >>> Conv2D(32, (3, 3), activation="relu")(torch.zeros(2, 28, 28, 1)).shape
    torch.Size([2, 26, 26, 32])
    """

    rank = 2


class Conv3D(Conv):
    """3-D convolution over volumes; arguments as Conv2D with three-element sizes.

    Input shape: `(batch, depth, height, width, channels)`.
    Output shape: `(batch, new_depth, new_height, new_width, filters)`.

    >>> Conv3D(2, 3)(torch.zeros(1, 5, 5, 5, 1)).shape
    torch.Size([1, 3, 3, 3, 2])
    """

    rank = 3


# ---------------------------------------------------------------------- transposed convolution


class ConvTranspose(BaseConv):
    """N-d transposed convolution (the base of Conv1DTranspose/2D/3D; see Conv2DTranspose)."""

    _window_must_fit = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         bias_constraint, **kwargs)
        self.filters = check_positive_int("filters", filters)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, self.rank, "output_padding", allow_zero=True)
        if self.output_padding is not None and any(
            p >= s for p, s in zip(self.output_padding, self.strides)
        ):
            raise ValueError(
                "Expected each output_padding to be smaller than its stride. Received: "
                f"output_padding={self.output_padding}, strides={self.strides}"
            )
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self._convolve_fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[
            self.rank - 1]
        # Torch computes the full transposed convolution, (n - 1) * stride + window long; Keras's
        # output is a window of it: `_crops` per axis, negative meaning zeros to add.
        self._crops = [self._crop(i) for i in range(self.rank)]
        self._slices = (slice(None), slice(None)) + tuple(
            slice(max(start, 0), -end if end > 0 else None) for start, end in self._crops)
        pads = [(max(-start, 0), max(-end, 0)) for start, end in reversed(self._crops)]
        self._zero_pads = [p for pair in pads for p in pair] if any(map(any, pads)) else None

    def _crop(self, axis: int) -> tuple[int, int]:
        extra = None if self.output_padding is None else self.output_padding[axis]
        return transposed_crop(self._windows[axis], self.strides[axis], self.padding, extra)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        shape = self.kernel_size + (self.filters, channels)
        self.add_weight(name="kernel", shape=shape, initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self._kernel_order = torch_kernel_order(self.rank)
        self._add_bias(self.filters)
        self._built_channels = channels

    def _pad_input(self, x):
        return x, 0

    def _convolve(self, x, padding):
        kernel = self.kernel.permute(self._kernel_order)
        if self._zero_pads is None:
            return self._convolve_fn(x, kernel, self.bias, self.strides, 0, 0, 1,
                                     self.dilation_rate)[self._slices]
        # The added positions hold the bias alone, so it is added after padding.
        outputs = self._convolve_fn(x, kernel, None, self.strides, 0, 0, 1,
                                    self.dilation_rate)[self._slices]
        outputs = F.pad(outputs, self._zero_pads)
        return outputs if self.bias is None else outputs + self.bias.view(-1, *(1,) * self.rank)

    def _output_channels(self, input_channels):
        return self.filters

    def _spatial_output(self, spatial):
        return tuple(
            None if n is None else (n - 1) * s + w - start - end
            for n, s, w, (start, end) in zip(spatial, self.strides, self._windows, self._crops)
        )

    def get_config(self):
        config = {**super().get_config(), "filters": self.filters, **self._base_config()}
        config["output_padding"] = self.output_padding
        config["data_format"] = config.pop("data_format")
        config["dilation_rate"] = config.pop("dilation_rate")
        return {**config, **self._tail_config("kernel")}


class Conv1DTranspose(ConvTranspose):
    """1-D transposed convolution; arguments as Conv2DTranspose with one-element sizes.

    >>> Conv1DTranspose(4, 3, strides=2, padding="same")(torch.zeros(1, 5, 2)).shape
    torch.Size([1, 10, 4])
    """

    rank = 1


class Conv2DTranspose(ConvTranspose):
    """2-D transposed convolution ("deconvolution"): the gradient of Conv2D, used to upsample.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
            and the initializers, regularizers and constraints: as in Conv2D.
        output_padding: an int or tuple, smaller than the strides: extra rows/columns added at
            the end of the output. None (default) gives `input * strides` with `"same"` and
            `(input - 1) * strides + max(kernel, strides)` with `"valid"`.

    The kernel's Keras layout is `(kh, kw, filters, in_channels)`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, new_height, new_width, filters)`.

    >>> Conv2DTranspose(8, 3, strides=2, padding="same")(torch.zeros(1, 7, 7, 4)).shape
    torch.Size([1, 14, 14, 8])
    """

    rank = 2


class Conv3DTranspose(ConvTranspose):
    """3-D transposed convolution; arguments as Conv2DTranspose with three-element sizes."""

    rank = 3


# ---------------------------------------------------------------------- depthwise and separable


class DepthwiseConv(BaseConv):
    """N-d depthwise convolution (the base of DepthwiseConv1D and DepthwiseConv2D)."""

    # Keras names the depthwise kernel `kernel` here and `depthwise_kernel` in SeparableConv.
    _depthwise_name = "kernel"

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         bias_constraint, **kwargs)
        self.depth_multiplier = check_positive_int("depth_multiplier", depth_multiplier)
        self.depthwise_initializer = initializers_module.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers_module.get(depthwise_regularizer)
        self.depthwise_constraint = constraints_module.get(depthwise_constraint)
        self._convolve_fn = (F.conv1d, F.conv2d, F.conv3d)[self.rank - 1]

    def _add_depthwise_kernel(self, channels: int) -> None:
        shape = self.kernel_size + (channels, self.depth_multiplier)
        self.add_weight(name=self._depthwise_name, shape=shape,
                        initializer=self.depthwise_initializer,
                        regularizer=self.depthwise_regularizer,
                        constraint=self.depthwise_constraint)
        # (*k, in, multiplier) -> (in, multiplier, *k): merging the first two is still a view.
        self._depthwise_order = (self.rank, self.rank + 1) + tuple(range(self.rank))
        self._built_channels = channels

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._add_depthwise_kernel(channels)
        self._add_bias(channels * self.depth_multiplier)

    def _depthwise(self, x, padding, bias):
        # torch's grouped kernel, one group per input channel: output channel c * multiplier + j
        # reads input channel c, as in Keras.
        kernel = getattr(self, self._depthwise_name).permute(self._depthwise_order)
        kernel = kernel.flatten(0, 1).unsqueeze(1)
        return self._convolve_fn(x, kernel, bias, self.strides, padding, self.dilation_rate,
                                 self._built_channels)

    def _convolve(self, x, padding):
        return self._depthwise(x, padding, self.bias)

    def _output_channels(self, input_channels):
        return input_channels * self.depth_multiplier

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                **self._base_config(), **self._tail_config("depthwise")}


class DepthwiseConv1D(DepthwiseConv):
    """1-D depthwise convolution; arguments as DepthwiseConv2D with one-element sizes."""

    rank = 1


class DepthwiseConv2D(DepthwiseConv):
    """2-D depthwise convolution: each input channel convolved with its own `depth_multiplier`
    kernels, without mixing channels.

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as in
            Conv2D.
        depth_multiplier: output channels per input channel.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the kernel, whose
            Keras layout is `(kh, kw, in_channels, depth_multiplier)`.
        bias_initializer, bias_regularizer, activity_regularizer, bias_constraint: as in Conv2D.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, new_height, new_width, channels * depth_multiplier)`.

    >>> DepthwiseConv2D(3, depth_multiplier=2)(torch.zeros(1, 8, 8, 4)).shape
    torch.Size([1, 6, 6, 8])
    """

    rank = 2


class SeparableConv(DepthwiseConv):
    """N-d separable convolution (the base of SeparableConv1D and SeparableConv2D)."""

    _depthwise_name = "depthwise_kernel"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.filters = check_positive_int("filters", filters)
        self.pointwise_initializer = initializers_module.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers_module.get(pointwise_regularizer)
        self.pointwise_constraint = constraints_module.get(pointwise_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._add_depthwise_kernel(channels)
        shape = (1,) * self.rank + (channels * self.depth_multiplier, self.filters)
        self.add_weight(name="pointwise_kernel", shape=shape,
                        initializer=self.pointwise_initializer,
                        regularizer=self.pointwise_regularizer,
                        constraint=self.pointwise_constraint)
        self._kernel_order = torch_kernel_order(self.rank)
        self._add_bias(self.filters)

    def _convolve(self, x, padding):
        pointwise = self.pointwise_kernel.permute(self._kernel_order)
        return self._convolve_fn(self._depthwise(x, padding, None), pointwise, self.bias)

    def _output_channels(self, input_channels):
        return self.filters

    def get_config(self):
        config = {**Layer.get_config(self), "depth_multiplier": self.depth_multiplier,
                  "filters": self.filters, **self._base_config()}
        return {**config, **self._tail_config("depthwise", "pointwise")}


class SeparableConv1D(SeparableConv):
    """1-D separable convolution; arguments as SeparableConv2D with one-element sizes."""

    rank = 1


class SeparableConv2D(SeparableConv):
    """2-D separable convolution: a depthwise convolution, then a 1x1 convolution mixing channels.

    Args:
        filters: output channels of the pointwise step.
        kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier, activation,
            use_bias: as in DepthwiseConv2D and Conv2D.
        depthwise_*, pointwise_*, bias_* initializers, regularizers and constraints: one set per
            weight. Weights in Keras's order: depthwise kernel `(kh, kw, in, depth_multiplier)`,
            pointwise kernel `(1, 1, in * depth_multiplier, filters)`, bias `(filters,)`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, new_height, new_width, filters)`.

    >>> SeparableConv2D(16, 3, padding="same")(torch.zeros(1, 8, 8, 4)).shape
    torch.Size([1, 8, 8, 16])
    """

    rank = 2


# Keras's longer names for the same classes.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose)
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
