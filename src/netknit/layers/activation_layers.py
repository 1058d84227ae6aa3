"""Activation layers with arguments: Softmax, ReLU, LeakyReLU, PReLU (learned slopes) and ELU.

`Activation("relu")` covers the plain functions; these layers add what a name cannot say: the
softmax axis and mask, ReLU's cap and threshold, a learned negative slope.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from .. import activations
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .layer import Layer

# Keras fills masked softmax inputs with this before normalizing (float32).
_LARGE_NEGATIVE = -1e9


def _check_number(name: str, value, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"Expected a non-negative number for {name}. Received: {name}={value!r}")


class _ElementwiseActivation(Layer):
    """An activation applied to each value: no weights, shape unchanged, masks passed on."""

    _built_when_made = True
    supports_masking = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Softmax(_ElementwiseActivation):
    """Softmax along `axis`: non-negative values that sum to 1.

    Args:
        axis: an axis or a list of axes to normalize over (`-1` by default).

    Call arguments:
        mask: an optional boolean tensor broadcastable to the input; masked positions get
            probability 0 and do not take part in the normalization.

    Input shape: any. Output shape: the same.

    >>> Softmax()(torch.tensor([[1.0, 1.0]]))
    tensor([[0.5000, 0.5000]])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and axis and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"Expected an int or a list of ints for axis. Received: axis={axis!r}")
        self.axis = axis
        self._dims = axis if isinstance(axis, int) else tuple(axis)

    def forward(self, inputs, mask=None):
        if mask is not None:
            mask = mask > 0.5 if mask.is_floating_point() else mask.bool()
            inputs = inputs.masked_fill(~mask, _LARGE_NEGATIVE)
        if isinstance(self._dims, int):
            outputs = torch.softmax(inputs, self._dims)
        else:
            outputs = torch.exp(inputs - torch.logsumexp(inputs, self._dims, keepdim=True))
        return outputs if mask is None else outputs.masked_fill(~mask, 0.0)

    def compute_output_shape(self, input_shape):
        for axis in [self.axis] if isinstance(self.axis, int) else self.axis:
            if not -len(input_shape) <= axis < len(input_shape):
                raise ShapeError(
                    f"Softmax normalizes along axis {axis}, which the "
                    f"{len(input_shape)}-D input {format_shape(input_shape)} does not have.",
                    fix=f"use an axis between 1 and {len(input_shape) - 1}, or -1 for the last.",
                )
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ReLU(_ElementwiseActivation):
    """Rectified linear unit with options: `x` above `threshold`, a slope below, capped at a max.

    `f(x) = min(x, max_value)` for `x >= threshold`, `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: the cap (None for no cap); non-negative.
        negative_slope: the slope below the threshold; non-negative.
        threshold: where the function switches; non-negative.

    Input shape: any. Output shape: the same.

    >>> ReLU(max_value=1.0)(torch.tensor([-1.0, 0.5, 3.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        _check_number("max_value", max_value, allow_none=True)
        _check_number("negative_slope", negative_slope)
        _check_number("threshold", threshold)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def forward(self, inputs):
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_ElementwiseActivation):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        negative_slope: the slope for negative inputs (0.3 by default, as in Keras). Keras 2's
            name for it, `alpha`, is still accepted with a deprecation warning, as Keras does.

    Input shape: any. Output shape: the same.

    >>> LeakyReLU()(torch.tensor([-1.0, 2.0]))
    tensor([-0.3000,  2.0000])
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        _check_number("negative_slope", negative_slope)
        self.negative_slope = negative_slope

    def forward(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_ElementwiseActivation):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        alpha: the scale of the negative part.

    Input shape: any. Output shape: the same.

    >>> ELU()(torch.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
            raise TypeError(f"Expected a number for alpha. Received: alpha={alpha!r}")
        self.alpha = alpha

    def forward(self, inputs):
        return F.elu(inputs, self.alpha)

    def get_config(self):
        # Keras's ELU has no get_config: its automatic one lists the arguments after the name.
        config = super().get_config()
        return {"name": config.pop("name"), "alpha": self.alpha, **config}


class PReLU(Layer):
    """Parametric ReLU: `x` for `x >= 0`, `alpha * x` otherwise, with `alpha` learned.

    By default every value of a sample has its own `alpha`; `shared_axes` shares one slope
    along those axes, e.g. `shared_axes=[1, 2]` for one slope per channel of an image.

    Args:
        alpha_initializer: `"zeros"` by default (the layer starts as a ReLU).
        alpha_regularizer, alpha_constraint: as `kernel_regularizer` in `Dense`.
        shared_axes: the axes (1 = the first after the batch) that share a slope.

    Input shape: any, with known sizes on the axes not shared. Output shape: the same.
    Weight: `alpha` of the input's shape without the batch, with size 1 on the shared axes.

    >>> PReLU(shared_axes=[1])(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 3])
    """

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers_module.get(alpha_initializer)
        self.alpha_regularizer = regularizers_module.get(alpha_regularizer)
        self.alpha_constraint = constraints_module.get(alpha_constraint)
        if shared_axes is not None:
            shared_axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) \
                else [shared_axes]
            if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1
                       for a in shared_axes):
                raise ValueError(
                    "Expected shared_axes to be positive axis indices (1 is the first axis after "
                    f"the batch). Received: shared_axes={shared_axes!r}")
        self.shared_axes = shared_axes

    def _alpha_shape(self, input_shape) -> tuple:
        shared = set(self.shared_axes or ())
        if any(a >= len(input_shape) for a in shared):
            raise ShapeError(
                f"It shares its slopes along axes {self.shared_axes}, but the input "
                f"{format_shape(input_shape)} has only {len(input_shape)} axes.",
                fix=f"use shared_axes within 1..{len(input_shape) - 1}.",
            )
        shape = tuple(1 if i in shared else d for i, d in enumerate(input_shape) if i > 0)
        if None in shape:
            axis = next(i for i, d in enumerate(input_shape) if i > 0 and d is None
                        and i not in shared)
            raise ShapeError(
                f"It learns one slope per value, so it needs every axis size, but axis {axis} "
                f"of {format_shape(input_shape)} is unknown.",
                fix=f"share the slopes along that axis, e.g. PReLU(shared_axes=[{axis}]).",
            )
        return shape

    def build(self, input_shape):
        self.add_weight(name="alpha", shape=self._alpha_shape(input_shape),
                        initializer=self.alpha_initializer, regularizer=self.alpha_regularizer,
                        constraint=self.alpha_constraint)

    def forward(self, inputs):
        return torch.relu(inputs) - self.alpha * torch.relu(-inputs)

    def compute_output_shape(self, input_shape):
        shape = self._alpha_shape(input_shape)
        if self.built and shape != tuple(self.alpha.shape):
            raise ShapeError(
                f"It was built with slopes of shape {tuple(self.alpha.shape)}, which do not fit "
                f"the input {format_shape(input_shape)}.",
                fix="use a new PReLU layer for this input, or share slopes with shared_axes.",
            )
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers_module.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers_module.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints_module.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }
