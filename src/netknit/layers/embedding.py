"""Embedding (integer ids to dense vectors), ReversibleEmbedding (and back to logits), and
Masking (skip padded time steps).

Both can start a *mask*: a `(batch, steps)` boolean tensor that travels with the data through a
model and tells the layers that understand it (recurrent layers, `GlobalAveragePooling1D`,
attention) which steps are padding. `Embedding(mask_zero=True)` masks the id 0; `Masking` masks
the steps whose features all equal `mask_value`.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from ..ops import numpy as numpy_ops
from .core import LowRankAdaptable, adapted_weight, check_positive_int
from .layer import Layer, _dtype, linear_weight


class Embedding(LowRankAdaptable, Layer):
    """Turns integer ids into dense vectors of fixed size: row `i` of `embeddings` for id `i`.

    Args:
        input_dim: the vocabulary size: ids must lie in `[0, input_dim)`.
        output_dim: the size of each vector.
        embeddings_initializer: `"uniform"` (between -0.05 and 0.05) by default.
        embeddings_regularizer, embeddings_constraint: as `kernel_regularizer` in `Dense`.
        mask_zero: treat id 0 as padding: the layer starts a mask that later layers
            (`LSTM`, `GlobalAveragePooling1D`, ...) use to skip those steps. Then id 0 cannot be a
            word, so `input_dim` should be the vocabulary size plus one.
        weights: an optional initial `(input_dim, output_dim)` array.
        lora_rank, lora_alpha: enable LoRA when the layer is built (see `Dense`):
            `lora_embeddings_a (input_dim, lora_rank)` and `lora_embeddings_b
            (lora_rank, output_dim)` train and `embeddings` are frozen; as in Keras, the build
            scales the update by 1 (`lora_alpha` only applies through `enable_lora`).

    Input shape: `(batch, ...)` integer ids (floats are truncated to integers, as in Keras).
    Output shape: `(batch, ..., output_dim)`.

    >>> layer = Embedding(10, 4)
    >>> layer(torch.tensor([[1, 2, 0]])).shape
    torch.Size([1, 3, 4])
    """

    # Under a mixed policy the rows are looked up in float32, then cast, as in Keras.
    _mixed_computes_in_float32 = True
    embeddings = adapted_weight("embeddings")
    _adapted = "embeddings"
    _adapters = ("lora_embeddings_a", "lora_embeddings_b")

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 input_length=None, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if quantization_config is not None:
            raise ValueError("Embedding does not support quantization; leave quantization_config "
                             "None.")
        self._init_lora(lora_rank, lora_alpha)
        if input_length is not None:
            warnings.warn("Argument input_length is deprecated in Keras 3; just remove it.",
                          stacklevel=2)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.embeddings_initializer = initializers_module.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers_module.get(embeddings_regularizer)
        self.embeddings_constraint = constraints_module.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.build(None)
            self.set_weights([weights] if np.ndim(weights) == 2 else weights)

    def build(self, input_shape):
        if self.built:  # built by the constructor (`weights=`), or a ReversibleEmbedding's again
            return
        self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                        initializer=self.embeddings_initializer,
                        regularizer=self.embeddings_regularizer,
                        constraint=self.embeddings_constraint)
        self._build_lora()

    def forward(self, inputs):
        if inputs.is_floating_point():
            inputs = inputs.long()
        return F.embedding(inputs, self.embeddings)

    def produces_mask(self, input_has_mask: bool) -> bool:
        return self.mask_zero

    def compute_mask(self, inputs, mask=None):
        return numpy_ops.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers_module.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers_module.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers_module.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints_module.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
            **self._lora_config(),
        }


class Masking(Layer):
    """Masks the time steps whose features all equal `mask_value`, and sets them to zero.

    Later layers that understand masks (recurrent layers, `GlobalAveragePooling1D`, attention)
    then skip those steps, e.g. the zero padding at the end of shorter sequences.

    Args:
        mask_value: the value that marks a padded step (0.0 by default).

    Input shape: `(batch, steps, features)` (any rank of 2 or more; the last axis holds the
    features). Output shape: the same; the mask has the input's shape without the last axis.

    >>> Masking()(torch.tensor([[[1.0], [0.0]]])).shape
    torch.Size([1, 2, 1])
    """

    _built_when_made = True
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(mask_value, (int, float)) or isinstance(mask_value, bool):
            raise TypeError(f"Expected a number for mask_value. Received: {mask_value!r}")
        self.mask_value = mask_value
        self.built = True

    def forward(self, inputs):
        padded = (inputs == self.mask_value).all(-1, keepdim=True)
        return inputs.masked_fill(padded, 0)

    def produces_mask(self, input_has_mask: bool) -> bool:
        return True

    def compute_mask(self, inputs, mask=None):
        return numpy_ops.any(numpy_ops.not_equal(inputs, self.mask_value), axis=-1)

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ShapeError(
                f"Masking reads the features on the last axis of each step, but received a "
                f"{len(input_shape)}-D input {format_shape(input_shape)} with no feature axis.",
                fix="give each step a feature axis, e.g. Reshape((steps, 1)) before Masking.",
            )
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class ReversibleEmbedding(Embedding):
    """An `Embedding` that can also project back from vectors to the vocabulary: the output
    layer of a language model that shares its input embedding.

    Called on ids it is an `Embedding`. Called with `reverse=True` on vectors
    `(batch, ..., output_dim)` it gives logits `(batch, ..., input_dim)`: the vectors times the
    transposed `embeddings` (`tie_weights=True`, Press & Wolf, 2016), or times a separate
    `reverse_embeddings (output_dim, input_dim)`. There are no biases.

    Args:
        input_dim, output_dim, embeddings_initializer, embeddings_regularizer,
        embeddings_constraint, mask_zero: as in `Embedding`.
        tie_weights: reverse through the embeddings themselves (True), or through a weight of
            their own (False; initialized as the embeddings, not regularized or constrained).
        reverse_dtype: the dtype of the reverse product, such as `"float32"` (the layer's by
            default).
        logit_soft_cap: if set, the reverse logits become
            `tanh(logits / logit_soft_cap) * logit_soft_cap`, bounded by the cap.

    Call arguments: `inputs`, and `reverse` (False: ids to vectors; True: vectors to logits).

    >>> layer = ReversibleEmbedding(100, 16)
    >>> vectors = layer(torch.tensor([[1, 2, 3]]))
    >>> layer(vectors, reverse=True).shape
    torch.Size([1, 3, 100])
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 reverse_dtype=None, logit_soft_cap=None, **kwargs):
        weights = kwargs.pop("weights", None)  # set below, once reverse_embeddings exists too
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        if logit_soft_cap is not None and (
                isinstance(logit_soft_cap, bool) or not isinstance(logit_soft_cap, (int, float))
                or logit_soft_cap <= 0):
            raise ValueError("Expected logit_soft_cap to be None or a positive number. "
                             f"Received: logit_soft_cap={logit_soft_cap!r}")
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self._reverse_dtype = None if reverse_dtype is None else _dtype(reverse_dtype)
        self.logit_soft_cap = logit_soft_cap
        if weights is not None:
            self.build(None)
            self.set_weights([weights] if np.ndim(weights) == 2 else weights)

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights and "reverse_embeddings" not in self._weight_names:
            # Keras's (output_dim, input_dim) in the memory of F.linear's (input_dim, output_dim).
            self.add_weight(name="reverse_embeddings", shape=(self.output_dim, self.input_dim),
                            initializer=self.embeddings_initializer, linear_in_axes=1)

    def forward(self, inputs, reverse=False):
        if not reverse:
            return super().forward(inputs)
        # The embeddings are already F.linear's (out, in) matrix for the reverse product.
        kernel = self.embeddings if self.tie_weights else linear_weight(self.reverse_embeddings)
        if self._reverse_dtype is not None:
            inputs, kernel = inputs.to(self._reverse_dtype), kernel.to(self._reverse_dtype)
        logits = F.linear(inputs, kernel)
        if self.logit_soft_cap is None:
            return logits
        return torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap

    # ------------------------------------------------------------------ graph facts

    @staticmethod
    def _reverse_of(args: tuple, kwargs: dict) -> bool:
        return bool(kwargs.get("reverse", args[1] if len(args) > 1 else False))

    def _symbolic_call(self, args, kwargs):
        outputs = super()._symbolic_call(args, kwargs)
        if self._reverse_of(args, kwargs):  # logits carry no mask, as in Keras
            outputs.has_mask = False
        return outputs

    def _symbolic_mask(self, inputs, mask):
        # Keras's ReversibleEmbedding puts its mask on the output in its call, so a graph
        # records no operation for it: the mask is computed when data flows.
        return NotImplemented

    def _symbolic_output_shape(self, args, kwargs):
        input_shape = tuple(args[0].shape)
        if not self.built:
            self._build_once(input_shape)
        return self.compute_output_shape(input_shape, self._reverse_of(args, kwargs))

    def compute_output_shape(self, input_shape, reverse=False):
        if not reverse:
            return super().compute_output_shape(input_shape)
        if input_shape[-1] != self.output_dim:
            raise ShapeError(
                f"Called with reverse=True it maps vectors of its {self.output_dim} features to "
                f"{self.input_dim} logits, but received {format_shape(input_shape)}.",
                fix=f"project the input to {self.output_dim} features first, e.g. with "
                f"Dense({self.output_dim}), or call it without reverse=True on integer ids.",
            )
        return tuple(input_shape[:-1]) + (self.input_dim,)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}
