"""Regularization layers: noise, spatial dropout and activity regularization.

The layers: GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D/3D,
ActivityRegularization.

The noise layers act only in training (inside `fit`, or called with `training=True`); in inference
they return their input unchanged. `ActivityRegularization` never changes its input: it adds a
penalty on it to the model's loss.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import regularizers as regularizers_module
from .core import Dropout, _normalize_data_format
from .layer import Layer, check_rank


def _check_fraction(name: str, value) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"Expected {name} between 0 and 1. Received: {name}={value!r}")
    return value


class _TrainingNoise(Layer):
    """A layer that is the identity in inference: no weights, shape unchanged, masks passed on."""

    _built_when_made = True
    supports_masking = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"Expected an integer seed or None. Received: seed={seed!r}")
        self.seed = seed
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class GaussianNoise(_TrainingNoise):
    """Adds zero-centered Gaussian noise of standard deviation `stddev` in training.

    A regularizer for real-valued inputs (a form of data augmentation).

    Args:
        stddev: the standard deviation of the noise, in [0, 1].
        seed: kept in the config; the noise draws from torch's global generator.

    Input shape: any. Output shape: the same.

    >>> GaussianNoise(0.1)(torch.ones(1, 3))  # inference: unchanged
    tensor([[1., 1., 1.]])
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _check_fraction("stddev", stddev)

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.stddev == 0:
            return inputs
        return inputs + torch.randn_like(inputs) * self.stddev

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_TrainingNoise):
    """Multiplies the inputs by Gaussian noise of mean 1 in training.

    The noise has standard deviation `sqrt(rate / (1 - rate))`, the same variance as a
    `Dropout(rate)` mask, without zeroing anything.

    Args:
        rate: the equivalent drop probability, in [0, 1).
        seed: kept in the config; the noise draws from torch's global generator.

    Input shape: any. Output shape: the same.

    >>> GaussianDropout(0.5)(torch.ones(1, 3))  # inference: unchanged
    tensor([[1., 1., 1.]])
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_fraction("rate", rate)

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + torch.randn_like(inputs) * stddev)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Dropout):
    """Dropout for self-normalizing networks (SELU activations, `lecun_normal` kernels), in
    training: dropped inputs take SELU's negative saturation value, and the result is shifted
    and scaled back to the inputs' mean and variance.

    Args:
        rate: the fraction to drop, in [0, 1).
        noise_shape: the shape of the keep/drop mask, broadcast over the input.
        seed: kept in the config; the mask draws from torch's global generator.

    >>> AlphaDropout(0.2)(torch.ones(1, 3))  # inference: unchanged
    tensor([[1., 1., 1.]])
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    # SELU's negative saturation: -scale * alpha.
    _SATURATION = -1.0507009873554805 * 1.6732632423543772

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0:
            return inputs
        keep = self._keep_mask(inputs)
        saturation = self._SATURATION
        scale = ((1 - self.rate) * (1 + self.rate * saturation ** 2)) ** -0.5
        shift = -scale * saturation * self.rate
        return scale * (inputs * keep + saturation * (1 - keep)) + shift


class _SpatialDropout(Dropout):
    """Dropout of whole channels: every value of a dropped channel of a sample becomes 0."""

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    rank: int
    _dropout = None  # torch's channel dropout of this rank (F.dropout1d, 2d, 3d)

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = _normalize_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0:
            return inputs
        # torch's kernels want channels first: a permuted view, no copy.
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        outputs = type(self)._dropout(x, self.rate, True)
        return outputs.movedim(1, -1) if self._channels_last else outputs

    def compute_output_shape(self, input_shape):
        layout = "(batch, steps, channels)" if self.rank == 1 else (
            f"(batch, {', '.join(['dim'] * self.rank)}, channels)")
        check_rank(input_shape, self.rank + 2, layout,
                   fix=f"use SpatialDropout{len(input_shape) - 2}D for this input, or Dropout."
                   if 3 <= len(input_shape) <= 5 else "use Dropout for this input.")
        return tuple(input_shape)

    def get_config(self):
        # Keras's spatial dropout configs hold these keys only.
        return {"rate": self.rate, "seed": self.seed, "name": self.name,
                "dtype": str(self.dtype), "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of sequences in training: `(batch, steps, channels)`, channels last.

    Better than `Dropout` after convolutions, where neighbouring steps are strongly correlated.

    Args:
        rate: the fraction of channels to drop, in [0, 1); the kept ones are scaled by
            `1 / (1 - rate)`.
        seed: kept in the config; the mask draws from torch's global generator.

    Input shape: `(batch, steps, channels)`. Output shape: the same.

    >>> SpatialDropout1D(0.5)(torch.ones(1, 2, 3)).shape
    torch.Size([1, 2, 3])
    """

    rank = 1
    _dropout = F.dropout1d

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of images in training.

    Args:
        rate: the fraction of channels to drop, in [0, 1).
        data_format: `"channels_last"` (default, `(batch, h, w, channels)`) or
            `"channels_first"`.
        seed: kept in the config.

    Input shape: a 4-D image batch. Output shape: the same.
    """

    rank = 2
    _dropout = F.dropout2d


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature volumes of 3-D data in training; arguments as `SpatialDropout2D`.

    Input shape: a 5-D batch `(batch, d1, d2, d3, channels)`. Output shape: the same.
    """

    rank = 3
    _dropout = F.dropout3d


class ActivityRegularization(Layer):
    """Passes its input through and adds `l1 * sum(|x|) + l2 * sum(x**2)` to the model's loss.

    As in Keras, the penalty is divided by the batch size, so it does not grow with the batch.
    It is recomputed on each call and is found in `layer.losses` (and `model.losses`).

    Args:
        l1: the L1 factor.
        l2: the L2 factor.

    Input shape: any. Output shape: the same.

    >>> layer = ActivityRegularization(l2=0.5)
    >>> _ = layer(torch.ones(2, 3))
    >>> layer.losses
    [tensor(1.5000)]
    """

    _built_when_made = True
    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers_module.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def forward(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer")  # made from l1 and l2, as in Keras's config
        return {**config, "l1": self.l1, "l2": self.l2}
