"""Normalization layers: batch, layer, group, unit and RMS normalization; spectral normalization.

The layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization,
RMSNormalization, and the SpectralNormalization wrapper.

All of them normalize along the channels axis of `channels_last` data by default (`axis=-1`) and
reach torch's fused kernels (`F.batch_norm`, `F.layer_norm`, `F.group_norm`) through permuted
views where the math is the same. Statistics are the biased (population) moments, as in Keras.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .input_spec import InputSpec
from .layer import Layer
from .wrapper import Wrapper

# Keras adds this to the count of unmasked values before dividing (backend.epsilon()).
_MASK_EPSILON = 1e-7


def _check_axes(layer: Layer, input_shape, axes) -> list[int]:
    """The axes as non-negative indices; a ShapeError when one is outside the input's rank."""
    rank = len(input_shape)
    for axis in axes:
        if not -rank <= axis < rank or (axis % rank) == 0:
            raise ShapeError(
                f"{type(layer).__name__} normalizes along axis {axis}, which a {rank}-D input "
                f"{format_shape(input_shape)} does not have (axis 0 is the batch).",
                fix=f"use an axis between 1 and {rank - 1} (or -1 for the last), or reshape "
                "the input so that the features have their own axis.",
            )
    return [axis % rank for axis in axes]


def check_known_axes(layer: Layer, input_shape, axes: list[int]) -> None:
    """Raise a ShapeError unless the sizes of `axes` (whose weights the layer makes) are known."""
    unknown = [a for a in axes if input_shape[a] is None]
    if unknown:
        raise ShapeError(
            f"{type(layer).__name__} needs the size of axis {unknown[0]} to create its weights; "
            f"received {format_shape(input_shape)}.",
            fix="give that axis a fixed size in the Input, e.g. Input(shape=(None, 16)).",
        )


class _AffineNormalization(Layer):
    """What the normalizations with a learned scale `gamma` and offset `beta` share."""

    supports_masking = True
    # Statistics of float16 values overflow: under a mixed policy they are taken in float32.
    _mixed_computes_in_float32 = True
    _casts_integer_inputs = True  # Keras normalizes integer inputs to floats

    def __init__(self, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool) or epsilon < 0:
            raise ValueError(f"Expected a non-negative epsilon. Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.beta_regularizer = regularizers_module.get(beta_regularizer)
        self.gamma_regularizer = regularizers_module.get(gamma_regularizer)
        self.beta_constraint = constraints_module.get(beta_constraint)
        self.gamma_constraint = constraints_module.get(gamma_constraint)

    def _add_affine_weights(self, shape: tuple, with_gamma: bool, with_beta: bool) -> None:
        if with_gamma:
            self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        else:
            self.gamma = None
        if with_beta:
            self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                            regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        else:
            self.beta = None

    def _affine_config(self, leading: dict, after_scale: dict | None = None,
                       initializers: tuple = ()) -> dict:
        """The config in Keras's order: the layer's `leading` arguments, epsilon, center and
        scale (then `after_scale`), the initializers of beta, gamma and the layer's other
        weights (`initializers`), then beta's and gamma's regularizers and constraints."""
        config = {**super().get_config(), **leading, "epsilon": self.epsilon,
                  "center": self.center, "scale": self.scale, **(after_scale or {})}
        for name in ("beta", "gamma", *initializers):
            config[f"{name}_initializer"] = initializers_module.serialize(
                getattr(self, f"{name}_initializer"))
        return {
            **config,
            "beta_regularizer": regularizers_module.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers_module.serialize(self.gamma_regularizer),
            "beta_constraint": constraints_module.serialize(self.beta_constraint),
            "gamma_constraint": constraints_module.serialize(self.gamma_constraint),
        }


class BatchNormalization(_AffineNormalization):
    """Normalizes each channel with the batch's statistics in training, moving ones in inference.

    In training (inside `fit`, or called with `training=True`) the output is
    `gamma * (x - mean) / sqrt(var + epsilon) + beta` with the mean and (biased) variance of the
    batch, and the moving statistics are updated:
    `moving = moving * momentum + batch_statistic * (1 - momentum)`. In inference the moving
    statistics are used instead. A frozen layer (`trainable=False`) always runs in inference mode,
    which is what fine-tuning a pretrained model needs.

    With `renorm=True` (batch renormalization, Ioffe 2017) training normalizes with the batch's
    statistics corrected towards moving ones, so that training and inference agree better with
    small or non-i.i.d. batches: the output is `gamma * ((x - mean) / stddev * r + d) + beta`, with
    `r = stddev / renorm_stddev` and `d = (mean - renorm_mean) / renorm_stddev` held constant in
    the gradient (and clipped by `renorm_clipping`), and `renorm_mean`/`renorm_stddev` moving
    averages of the batch mean and standard deviation with `renorm_momentum`. Inference uses
    `moving_mean` and `moving_variance`, the latter derived from a moving standard deviation.

    Args:
        axis: the channels axis (`-1` for `channels_last`, `1` for `channels_first`).
        momentum: the weight of the old value in the moving averages.
        epsilon: added to the variance to avoid dividing by zero.
        center: whether to learn an offset `beta`.
        scale: whether to learn a scale `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initializers of the four vectors.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as in `Dense`.
        renorm: whether to use batch renormalization in training.
        renorm_clipping: with `renorm`, a dict of optional bounds: `rmin` and `rmax` for `r`,
            `dmax` for `|d|`; unclipped by default.
        renorm_momentum: with `renorm`, the weight of the old value in `renorm_mean` and
            `renorm_stddev`.
        synchronized: only False: batch statistics across processes are torch's
            `nn.SyncBatchNorm`'s job.

    Input shape: any, with a known size on `axis`. Output shape: the same.

    Weights (as `get_weights()` lists them): `gamma`, `beta` (trainable), `moving_mean`,
    `moving_variance` (non-trainable), each of shape `(channels,)`; with `renorm`, then
    `moving_stddev`, `renorm_mean` and `renorm_stddev` (non-trainable, same shape).

    >>> layer = BatchNormalization()
    >>> layer(torch.ones(2, 3)).shape
    torch.Size([2, 3])
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                 synchronized=False, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"Expected an integer axis. Received: axis={axis!r}")
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(
                f"Expected a momentum between 0 and 1. Received: momentum={momentum!r}"
            )
        if synchronized:
            raise ValueError(
                "BatchNormalization does not support synchronized=True (nor does Keras on its "
                "torch backend). For batch statistics across processes, wrap the model with "
                "torch.nn.SyncBatchNorm.convert_sync_batchnorm."
            )
        if not isinstance(renorm_momentum, (int, float)) or not 0 <= renorm_momentum <= 1:
            raise ValueError("Expected a renorm_momentum between 0 and 1. Received: "
                             f"renorm_momentum={renorm_momentum!r}")
        self.axis = axis
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers_module.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_module.get(moving_variance_initializer)
        self.renorm = bool(renorm)
        self.renorm_clipping = _check_renorm_clipping(renorm_clipping) if renorm else \
            renorm_clipping
        self.renorm_momentum = renorm_momentum

    def build(self, input_shape):
        (axis,) = _check_axes(self, input_shape, [self.axis])
        check_known_axes(self, input_shape, [axis])
        shape = (input_shape[axis],)
        self._add_affine_weights(shape, self.scale, self.center)
        self.add_weight(name="moving_mean", shape=shape, initializer=self.moving_mean_initializer,
                        trainable=False)
        self.add_weight(name="moving_variance", shape=shape,
                        initializer=self.moving_variance_initializer, trainable=False)
        if self.renorm:
            # Renormalization tracks standard deviations, starting from the root of the
            # variance's initializer.
            def stddev_initializer(shape, dtype=torch.float32):
                return torch.sqrt(self.moving_variance_initializer(shape, dtype=dtype))

            self.add_weight(name="moving_stddev", shape=shape, initializer=stddev_initializer,
                            trainable=False)
            self.add_weight(name="renorm_mean", shape=shape,
                            initializer=self.moving_mean_initializer, trainable=False)
            self.add_weight(name="renorm_stddev", shape=shape, initializer=stddev_initializer,
                            trainable=False)
        self._channel_axis = axis
        self._rank = len(input_shape)
        self._reduce_dims = tuple(d for d in range(len(input_shape)) if d != axis)
        # Per-channel vectors broadcast against the input along the channel axis.
        self._broadcast = (-1,) + (1,) * (len(input_shape) - 1 - axis)

    def forward(self, inputs, training=None, mask=None):
        training = self.training if training is None else training
        if training and self._trainable:
            mean, variance = self._moments(inputs, mask)
            if self.renorm:
                gamma, beta = self._renormalizing_affine(mean.detach(), variance.detach())
            else:
                gamma, beta = self.gamma, self.beta
                with torch.no_grad():
                    self.moving_mean.lerp_(mean.detach(), 1.0 - self.momentum)
                    self.moving_variance.lerp_(variance.detach(), 1.0 - self.momentum)
        elif self.epsilon > 0:  # cuDNN's kernel refuses epsilon=0
            # torch's kernel wants channels on axis 1: a permuted view, no copy.
            x = inputs.movedim(self._channel_axis, 1)
            return F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                                False, 0.0, self.epsilon).movedim(1, self._channel_axis)
        else:
            mean, variance = self.moving_mean, self.moving_variance
            gamma, beta = self.gamma, self.beta
        inv = torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            inv = inv * gamma
        outputs = (inputs - mean.view(self._broadcast)) * inv.view(self._broadcast)
        return outputs if beta is None else outputs + beta.view(self._broadcast)

    def _renormalizing_affine(self, mean, variance):
        """Batch renormalization's scale and offset, `r * gamma` and `d * gamma + beta` (the
        corrections from the statistics before this batch), and the statistics' update."""
        with torch.no_grad():
            stddev = torch.sqrt(variance + self.epsilon)
            # At least sqrt(epsilon): no division by zero early in training.
            renorm_stddev = self.renorm_stddev.clamp_min(self.epsilon ** 0.5)
            r = stddev / renorm_stddev
            d = (mean - self.renorm_mean) / renorm_stddev
            clipping = self.renorm_clipping
            if clipping.get("rmin") is not None:
                r = r.clamp_min(clipping["rmin"])
            if clipping.get("rmax") is not None:
                r = r.clamp_max(clipping["rmax"])
            if clipping.get("dmax") is not None:
                d = d.clamp(-clipping["dmax"], clipping["dmax"])
            self.renorm_mean.lerp_(mean, 1.0 - self.renorm_momentum)
            self.renorm_stddev.lerp_(stddev, 1.0 - self.renorm_momentum)
            self.moving_mean.lerp_(mean, 1.0 - self.momentum)
            self.moving_stddev.lerp_(stddev, 1.0 - self.momentum)
            # The variance inference uses, from the moving standard deviation (never negative).
            self.moving_variance.copy_(torch.relu(self.moving_stddev.square() - self.epsilon))
        gamma = r if self.gamma is None else r * self.gamma
        beta = d if self.gamma is None else d * self.gamma
        return gamma, beta if self.beta is None else beta + self.beta

    def _moments(self, inputs, mask):
        """The batch mean and biased variance per channel; masked positions do not count."""
        if mask is None:
            variance, mean = torch.var_mean(inputs, self._reduce_dims, correction=0)
            return mean, variance
        weights = mask.unsqueeze(-1).to(inputs.dtype).expand_as(inputs)
        count = weights.sum(self._reduce_dims, keepdim=True) + _MASK_EPSILON
        mean = (inputs * weights).sum(self._reduce_dims, keepdim=True) / count
        variance = ((inputs - mean) * weights).square().sum(self._reduce_dims, keepdim=True) / count
        return mean.flatten(), variance.flatten()

    def compute_output_shape(self, input_shape):
        (axis,) = _check_axes(self, input_shape, [self.axis])
        if self.built and (len(input_shape) != self._rank
                           or input_shape[axis] not in (None, self.moving_mean.shape[0])):
            raise ShapeError(
                f"It was built for {self._rank}-D inputs with {self.moving_mean.shape[0]} "
                f"channels on axis {self.axis}, but received {format_shape(input_shape)}.",
                fix="use a new BatchNormalization layer for this input.",
            )
        return tuple(input_shape)

    def get_config(self):
        return {
            **self._affine_config({"axis": self.axis, "momentum": self.momentum},
                                  initializers=("moving_mean", "moving_variance")),
            "synchronized": False,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def _check_renorm_clipping(clipping) -> dict:
    """`renorm_clipping` checked: a dict of `rmin`, `rmax` and `dmax` ({} for None)."""
    clipping = {} if clipping is None else clipping
    if not isinstance(clipping, dict) or set(clipping) - {"rmin", "rmax", "dmax"} or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
            for v in clipping.values()):
        raise ValueError("Expected renorm_clipping to be None or a dict of numbers under the keys "
                         f"'rmin', 'rmax' and 'dmax'. Received: renorm_clipping={clipping!r}")
    rmin, rmax, dmax = (clipping.get(k) for k in ("rmin", "rmax", "dmax"))
    if rmin is not None and rmax is not None and rmax < rmin:
        raise ValueError(f"renorm_clipping's rmax ({rmax}) must not be less than its rmin "
                         f"({rmin}).")
    if dmax is not None and dmax < 0:
        raise ValueError(f"renorm_clipping's dmax must be non-negative (d is clipped to "
                         f"[-dmax, dmax]). Received: dmax={dmax}")
    return clipping


class LayerNormalization(_AffineNormalization):
    """Normalizes each sample over `axis` (the features): mean 0 and variance 1, then scale/offset.

    Unlike `BatchNormalization`, the statistics come from each sample alone, so training and
    inference compute the same thing.

    Args:
        axis: an axis or a list of axes to normalize over (`-1`, the features, by default).
        epsilon: added to the variance to avoid dividing by zero.
        center: whether to learn an offset `beta`.
        scale: whether to learn a scale `gamma`.
        rms_scaling: deprecated in Keras: divide by the standard deviation without centering.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: as in `BatchNormalization`.

    Input shape: any. Output shape: the same. `gamma` and `beta` have the sizes of `axis`.

    >>> LayerNormalization()(torch.ones(2, 5, 4)).shape
    torch.Size([2, 5, 4])
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        if isinstance(axis, (list, tuple)) and axis and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"Expected an int or a list of ints for axis. Received: axis={axis!r}")
        if rms_scaling:
            warnings.warn(
                "rms_scaling=True is deprecated (as in Keras): it divides by the standard "
                "deviation, not the root mean square.", stacklevel=2)
        self.axis = axis
        self.rms_scaling = bool(rms_scaling)

    def build(self, input_shape):
        axes = _check_axes(self, input_shape, self.axis if isinstance(self.axis, list)
                           else [self.axis])
        check_known_axes(self, input_shape, axes)
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        self._axes = sorted(axes)
        rank = len(input_shape)
        self._trailing = self._axes == list(range(rank - len(axes), rank))
        self._normalized_shape = tuple(input_shape[a] for a in self._axes)
        self._broadcast = tuple(input_shape[d] if d in self._axes else 1 for d in range(1, rank))
        self._add_affine_weights(self._normalized_shape, self.scale or self.rms_scaling,
                                 self.center and not self.rms_scaling)

    def forward(self, inputs):
        if self.rms_scaling:
            variance = torch.var(inputs, self._axes, correction=0, keepdim=True)
            outputs = inputs * torch.rsqrt(variance + self.epsilon)
            return outputs if self.gamma is None else outputs * self.gamma.view(self._broadcast)
        if self._trailing:
            return F.layer_norm(inputs, self._normalized_shape, self.gamma, self.beta,
                                self.epsilon)
        variance, mean = torch.var_mean(inputs, self._axes, correction=0, keepdim=True)
        outputs = (inputs - mean) * torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * self.gamma.view(self._broadcast)
        return outputs if self.beta is None else outputs + self.beta.view(self._broadcast)

    def compute_output_shape(self, input_shape):
        _check_axes(self, input_shape, self.axis if isinstance(self.axis, list) else [self.axis])
        return tuple(input_shape)

    def get_config(self):
        return self._affine_config({"axis": self.axis}, {"rms_scaling": self.rms_scaling})


class GroupNormalization(_AffineNormalization):
    """Normalizes each sample over groups of channels (and all other non-batch axes).

    The channels are split into `groups` equal groups; each group of each sample is normalized
    with its own mean and variance. `groups=1` is like `LayerNormalization` over all axes, and
    `groups=-1` (one group per channel) is instance normalization.

    Args:
        groups: the number of groups; it must divide the number of channels. `-1`: one per channel.
        axis: the channels axis (`-1` for `channels_last`).
        epsilon, center, scale, and the initializers, regularizers and constraints of `beta`
        and `gamma`: as in `LayerNormalization`.

    Input shape: any, with a known number of channels. Output shape: the same.

    >>> GroupNormalization(groups=2)(torch.ones(2, 5, 4)).shape
    torch.Size([2, 5, 4])
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0
                                                                       and groups != -1):
            raise ValueError(
                "Expected a positive integer for groups (or -1 for one group per channel). "
                f"Received: groups={groups!r}")
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"Expected an integer axis. Received: axis={axis!r}")
        self.groups = groups
        self.axis = axis

    def build(self, input_shape):
        self._check_groups(input_shape)
        (axis,) = _check_axes(self, input_shape, [self.axis])
        if self.groups == -1:
            self.groups = input_shape[axis]
        self._channel_axis = axis
        self._add_affine_weights((input_shape[axis],), self.scale, self.center)

    def _check_groups(self, input_shape):
        (axis,) = _check_axes(self, input_shape, [self.axis])
        check_known_axes(self, input_shape, [axis])
        channels = input_shape[axis]
        if self.groups != -1 and channels % self.groups:
            fits = [g for g in range(1, channels + 1) if channels % g == 0]
            raise ShapeError(
                f"It splits the channels into {self.groups} groups, but the input "
                f"{format_shape(input_shape)} has {channels} channels on axis {self.axis}, "
                f"which {self.groups} does not divide.",
                fix=f"use a number of groups that divides {channels}: one of {fits}.",
            )

    def forward(self, inputs):
        x = inputs.movedim(self._channel_axis, 1)
        outputs = F.group_norm(x, self.groups, self.gamma, self.beta, self.epsilon)
        return outputs.movedim(1, self._channel_axis)

    def compute_output_shape(self, input_shape):
        self._check_groups(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return self._affine_config({"groups": self.groups, "axis": self.axis})


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm along `axis`: `x / ||x||`.

    Args:
        axis: an axis or a list of axes along which the norm is taken (`-1` by default).

    Input shape: any. Output shape: the same.

    >>> UnitNormalization()(torch.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """

    _built_when_made = True
    supports_masking = True
    # Sums of squares overflow float16 (and Keras's 1e12 cap is out of its range).
    _mixed_computes_in_float32 = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"Expected an int or a list of ints for axis. Received: axis={axis!r}")
        self.axis = axis
        self._dims = tuple(axis) if isinstance(axis, list) else axis
        self.built = True

    def forward(self, inputs):
        square_sum = inputs.square().sum(self._dims, keepdim=True)
        # Keras caps the inverse norm at 1e12, so an all-zero vector stays zero.
        return inputs * torch.rsqrt(square_sum).clamp(max=1e12)

    def compute_output_shape(self, input_shape):
        _check_axes(self, input_shape, self.axis if isinstance(self.axis, list) else [self.axis])
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class RMSNormalization(Layer):
    """Divides each sample by its root mean square over `axis`, then scales: `x / rms(x) * scale`.

    Unlike `LayerNormalization` it neither centers the values nor learns an offset: the output is
    `x * rsqrt(mean(x ** 2) + epsilon) * scale`, the mean taken over `axis`.

    Args:
        axis: an axis or a list of axes to normalize over (`-1`, the features, by default).
        epsilon: added to the mean square before the square root.

    Input shape: any, with known sizes on `axis`. Output shape: the same.

    Weights: `scale`, of the sizes of `axis` (ones at first).

    >>> RMSNormalization()(torch.full((1, 3), 2.0)).round(decimals=4).tolist()
    [[1.0, 1.0, 1.0]]
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and axis and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"Expected an int or a list of ints for axis. Received: axis={axis!r}")
        if not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool) or epsilon < 0:
            raise ValueError(f"Expected a non-negative epsilon. Received: epsilon={epsilon!r}")
        self.axis = axis
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        axes = _check_axes(self, input_shape, self._axis_list())
        check_known_axes(self, input_shape, axes)
        # As in Keras, the built layer keeps (and saves) its axes as a sorted list.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        self._axes = sorted(axes)
        rank = len(input_shape)
        self._trailing = self._axes == list(range(rank - len(axes), rank))
        self._normalized_shape = tuple(input_shape[a] for a in self._axes)
        self._broadcast = tuple(input_shape[d] if d in self._axes else 1 for d in range(1, rank))
        self.add_weight(name="scale", shape=self._normalized_shape, initializer="ones")

    def _axis_list(self) -> list:
        return self.axis if isinstance(self.axis, list) else [self.axis]

    def forward(self, inputs):
        if self._trailing:
            return F.rms_norm(inputs, self._normalized_shape, self.scale, self.epsilon)
        mean_square = inputs.square().mean(self._axes, keepdim=True)
        return inputs * torch.rsqrt(mean_square + self.epsilon) * self.scale.view(self._broadcast)

    def compute_output_shape(self, input_shape):
        _check_axes(self, input_shape, self._axis_list())
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class SpectralNormalization(Wrapper):
    """Keeps a layer's kernel at spectral norm 1: in training, divides it by its largest singular
    value (estimated by power iteration) before each call.

    As in Keras, the division is written into the kernel itself (no gradient flows through it),
    and the estimate's vector `vector_u` carries over from call to call, so one iteration per
    step suffices. In inference the layer runs with its kernel as it is. A kernel of zeros is
    left alone.

    Args:
        layer: a layer with a `kernel` (`Dense`, a convolution) or `embeddings` (`Embedding`).
        power_iterations: the number of power iterations per call (a positive integer).

    Input and output shape: those of the wrapped layer.

    Weights (Keras's order): the wrapped kernel, `vector_u` `(1, kernel.shape[-1])`
    (non-trainable), then the wrapped layer's other weights.

    >>> layer = SpectralNormalization(Dense(3))
    >>> layer(torch.ones(2, 4), training=True).shape
    torch.Size([2, 3])
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    # The power iteration updates the float32 kernel and `vector_u` in place.
    _mixed_computes_in_float32 = True

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(power_iterations, int) or isinstance(power_iterations, bool) or (
                power_iterations <= 0):
            raise ValueError("Expected a positive integer for power_iterations. Received: "
                             f"power_iterations={power_iterations!r}")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        kernel = next((getattr(self.layer, n) for n in ("kernel", "embeddings")
                       if isinstance(getattr(self.layer, n, None), torch.nn.Parameter)), None)
        if kernel is None:
            raise ValueError(
                f"SpectralNormalization normalizes a layer's kernel or embeddings, and "
                f"{type(self.layer).__name__} has neither. Wrap a Dense, a convolution or an "
                "Embedding."
            )
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        # The wrapped layer's kernel, listed first as this layer's own weight (Keras's order).
        self.kernel = kernel
        self._weight_names.append("kernel")
        self.add_weight(name="vector_u", shape=(1, kernel.shape[-1]), trainable=False,
                        initializer=initializers_module.TruncatedNormal(stddev=0.02))

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if training:
            self._normalize_kernel()
        if self.layer._accepts_training:
            return nn.Module.__call__(self.layer, inputs, training=training)
        return nn.Module.__call__(self.layer, inputs)

    @torch.no_grad()
    def _normalize_kernel(self) -> None:
        kernel, u = self.kernel, self.vector_u
        matrix = kernel.reshape(-1, kernel.shape[-1])
        for _ in range(self.power_iterations):
            v = _unit(u @ matrix.T)
            u = _unit(v @ matrix)
        sigma = (v @ matrix) @ u.T
        # Without a host sync: an all-zero kernel keeps itself and its vector.
        keep = (kernel == 0).all()
        kernel.copy_(torch.where(keep, kernel, kernel / sigma))
        self.vector_u.copy_(torch.where(keep, self.vector_u, u))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self.layer.compute_output_dtype(inputs)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


def _unit(x: torch.Tensor) -> torch.Tensor:
    """`x` divided by its L2 norm over all entries (Keras caps the inverse norm at 1e7)."""
    return x * torch.rsqrt(x.square().sum()).clamp(max=1e7)
