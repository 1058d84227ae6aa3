"""Attention layers: MultiHeadAttention, GroupQueryAttention, Attention (Luong) and
AdditiveAttention (Bahdanau).

`MultiHeadAttention` projects query, key and value per head, attends, and projects back; it runs
torch's fused `F.scaled_dot_product_attention` whenever Keras computes the same thing (no dropout,
no attention scores requested, sequences of vectors). `GroupQueryAttention` is the same with fewer
key and value heads than query heads. `Attention` and `AdditiveAttention` have no projections:
they score a query against the keys and average the values.

Masks: a padding mask from `Embedding(mask_zero=True)` or `Masking` on the query or the value is
used automatically, as in Keras; `attention_mask` and `use_causal_mask` add more.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph import nest
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from ..graph.symbolic import SymbolicTensor
from ..ops.core import convert_to_tensor
from .core import check_positive_int
from .layer import Layer, linear_weight, unique_name

# `keras.config.enable_flash_attention()` / `disable_flash_attention()`: None (the default) and
# True let torch's fused attention kernel run wherever it applies; False computes the scores.
flash_attention_enabled: bool | None = None


def _softmax_mask_value(dtype: torch.dtype) -> float:
    """Keras's masked softmax fills with -1e9, or -3e4 in float16 (whose range ends at 65504)."""
    return -3e4 if dtype == torch.float16 else -1e9


def _fused_mask_value(dtype: torch.dtype) -> float:
    """Keras's fused path adds -0.7 times the largest float32 (or float16) value."""
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


def _padding_penalty(dtype: torch.dtype) -> float:
    """What Keras's dense Attention subtracts from masked scores: 1e9, float16's max in float16."""
    return 65504.0 if dtype == torch.float16 else 1e9


def _shape(value) -> tuple:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _causal_mask(query_length: int, value_length: int, device) -> torch.Tensor:
    """`(1, T, S)`: position t may attend to positions s <= t (Keras's rule, top-left aligned)."""
    return torch.ones(query_length, value_length, dtype=torch.bool, device=device).tril()[None]


def _sliding_window_mask(query_length: int, value_length: int, window: int,
                         device) -> torch.Tensor:
    """`(1, T, S)`: position t may attend to positions less than `window` away (Keras's
    symmetric band; with the causal mask, the steps up to `window - 1` back)."""
    t = torch.arange(query_length, device=device)[:, None]
    s = torch.arange(value_length, device=device)
    return ((t - s).abs() < window)[None]


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis; masked positions get probability 0 (all-masked rows: zeros)."""
    if mask is None:
        return torch.softmax(scores, -1)
    weights = torch.softmax(scores.masked_fill(~mask, _softmax_mask_value(scores.dtype)), -1)
    return weights.masked_fill(~mask, 0.0)


def _linear(inputs, kernel, bias, in_axes: int = 1):
    """`inputs` times a Keras kernel whose first `in_axes` axes are the input, plus a bias of
    the output's shape: one `F.linear` on views."""
    return F.linear(inputs, linear_weight(kernel, in_axes),
                    None if bias is None else bias.reshape(-1))


class MultiHeadAttention(Layer):
    """Multi-head attention, as in "Attention Is All You Need".

    The query, key and value are projected into `num_heads` heads (`key_dim` features each for
    query and key, `value_dim` for the value); each head attends with
    `softmax(query @ key.T / sqrt(key_dim)) @ value`; the heads are concatenated and projected to
    `output_shape` (by default the query's last dimension). Self-attention is `layer(x, x)`.

    Args:
        num_heads: the number of attention heads.
        key_dim: the size of each head for query and key.
        value_dim: the size of each head for the value (default: `key_dim`).
        dropout: the dropout rate on the attention probabilities (in training).
        use_bias: whether the projections have biases.
        output_shape: the last dimension(s) of the output (default: the query's last dimension).
        attention_axes: the axes attended over (default: all axes but batch, heads and features).
        use_gate: multiply the attention output by a learned sigmoid gate of the query.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: for the projections, as in `Dense`.
        seed: kept in the config; dropout draws from torch's global generator.

    Call arguments:
        query: `(batch, T, dim)`. value: `(batch, S, dim_v)`. key: `(batch, S, dim_k)`, the value
            by default. attention_mask: a boolean `(batch, T, S)` tensor, True where a query step
            may attend to a key step. return_attention_scores: also return the
            `(batch, num_heads, T, S)` probabilities. use_causal_mask: each query step attends
            only to the steps up to it (a decoder). query_mask, value_mask, key_mask: padding
            masks `(batch, T)` / `(batch, S)`; masks from `Embedding(mask_zero=True)` or
            `Masking` on the query and value are used automatically.

    Output shape: `(batch, T, dim)` (or `output_shape` in place of `dim`).

    Weights (Keras's order and layout): query kernel `(dim, num_heads, key_dim)` and bias
    `(num_heads, key_dim)`, the same for key, the value's with `value_dim`, then the output
    kernel `(num_heads, value_dim, dim)` and bias `(dim,)`.

    >>> layer = MultiHeadAttention(num_heads=2, key_dim=8)
    >>> x = torch.zeros(4, 10, 16)
    >>> layer(x, x).shape
    torch.Size([4, 10, 16])
    """

    # Keras's call (saved graphs record it) takes a mask per input, not `mask`.
    _keras_call_arguments = {"training": None}

    supports_masking = True

    # Keras's attribute -> name of each weightless sublayer its build makes (set by `build`).
    _keras_weightless_sublayers: dict = {}

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim),
                            ("value_dim", key_dim if value_dim is None else value_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Expected a positive integer for {name}. Received: "
                                 f"{name}={value!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"Expected a dropout rate in [0, 1). Received: dropout={dropout!r}")
        if sliding_window is not None or flash_attention:
            raise ValueError("MultiHeadAttention supports neither sliding_window nor "
                             "flash_attention=True; leave them None.")
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        if output_shape is not None and (not isinstance(output_shape, (list, tuple)) or not all(
                isinstance(d, int) and d > 0 for d in output_shape)):
            raise ValueError("Expected output_shape to be a positive int or a tuple of them. "
                             f"Received: output_shape={output_shape!r}")
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        if attention_axes is not None and (not isinstance(attention_axes, (list, tuple)) or not all(
                isinstance(a, int) for a in attention_axes)):
            raise ValueError("Expected attention_axes to be an int or a tuple of ints. "
                             f"Received: attention_axes={attention_axes!r}")
        if activity_regularizer is not None:
            raise ValueError(f"{type(self).__name__} does not support activity_regularizer; put "
                             "an ActivityRegularization layer after it instead.")
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = key_dim if value_dim is None else value_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        self.output_shape_arg = None if output_shape is None else tuple(output_shape)
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self.bias_constraint = constraints_module.get(bias_constraint)
        self.seed = seed
        self.sliding_window = None
        self._scale = 1.0 / math.sqrt(key_dim)

    # ------------------------------------------------------------------ building

    def _check_shapes(self, query_shape, value_shape, key_shape=None) -> tuple[int, ...]:
        """Validate the three shapes; returns the attention axes for this rank."""
        key_shape = value_shape if key_shape is None else key_shape
        rank = len(query_shape)
        if rank < 3:
            raise ShapeError(
                f"It attends over sequences, (batch, steps, features), but the query is "
                f"{rank}-D: {format_shape(query_shape)}.",
                fix="give the input a steps axis, e.g. Reshape((1, features)) or "
                "Input(shape=(steps, features)).",
            )
        for label, shape in (("value", value_shape), ("key", key_shape)):
            if len(shape) != rank:
                raise ShapeError(
                    f"The query {format_shape(query_shape)} and the {label} "
                    f"{format_shape(shape)} have different ranks.",
                    fix=f"reshape the {label} to {rank}-D, (batch, steps, features).",
                )
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ShapeError(
                f"The value {format_shape(value_shape)} and the key {format_shape(key_shape)} "
                "must have the same sizes on every axis but the last.",
                fix="give the key as many steps as the value (one key per value).",
            )
        for label, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape[-1] is None:
                raise ShapeError(
                    f"It needs the size of the {label}'s last axis to create its projections; "
                    f"received {format_shape(shape)}.",
                    fix="give the Input a fixed last dimension, e.g. Input(shape=(None, 16)).",
                )
        axes = self.attention_axes or tuple(range(1, rank - 1))
        axes = tuple(a if a >= 0 else rank + a for a in axes)
        if not all(1 <= a <= rank - 2 for a in axes):
            raise ShapeError(
                f"attention_axes={self.attention_axes} does not name axes between the batch "
                f"and the features of {format_shape(query_shape)}.",
                fix=f"use axes from 1 to {rank - 2}.",
            )
        batch_axes = [a for a in range(1, rank - 1) if a not in axes]
        for a in batch_axes:
            if None not in (query_shape[a], value_shape[a]) and query_shape[a] != value_shape[a]:
                raise ShapeError(
                    f"Axis {a} is not attended over, so the query {format_shape(query_shape)} "
                    f"and the value {format_shape(value_shape)} must have the same size there.",
                    fix=f"attend over axis {a} too (attention_axes), or reshape the value.",
                )
        if self.built:
            built = (self._query_dim, self._value_in, self._key_in)
            if (query_shape[-1], value_shape[-1], key_shape[-1]) != built:
                raise ShapeError(
                    f"It was built for query, value and key features {built}, but received "
                    f"{format_shape(query_shape)}, {format_shape(value_shape)} and "
                    f"{format_shape(key_shape)}.",
                    fix="project the inputs to those sizes first, or use a new "
                    f"{type(self).__name__} layer for these inputs.",
                )
        return axes

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        axes = self._check_shapes(query_shape, value_shape, key_shape)
        rank = len(query_shape)
        self.attention_axes = axes
        self._batch_axes = [a for a in range(1, rank - 1) if a not in axes]
        perm = [0] + self._batch_axes + list(axes) + [rank - 1]
        self._perm = None if perm == sorted(perm) else perm
        self._inverse_perm = None if self._perm is None else list(np.argsort(perm))
        self._query_dim, self._value_in, self._key_in = (query_shape[-1], value_shape[-1],
                                                         key_shape[-1])
        heads = self.num_heads
        self._out_shape = self.output_shape_arg or (query_shape[-1],)
        projections = [("query", query_shape[-1], self.key_dim), ("key", key_shape[-1],
                                                                   self.key_dim)]
        if self.use_gate:
            projections.append(("gate", query_shape[-1], self.value_dim))
        projections.append(("value", value_shape[-1], self.value_dim))
        for name, in_dim, dim in projections:
            self._add_kernel(f"{name}_kernel", (in_dim, self._heads_of(name), dim), in_axes=1)
            self._add_bias(f"{name}_bias", (self._heads_of(name), dim))
        self._add_kernel("output_kernel", (heads, self.value_dim) + self._out_shape, in_axes=2)
        self._add_bias("output_bias", self._out_shape)
        # Keras keeps each projection in an EinsumDense sublayer: "mha/query/kernel",
        # "mha/attention_output/bias" (the attributes keep their flat names).
        for weight in self._own_weights(True):
            scope, _, name = weight.path.rpartition("/")
            projection, _, kind = name.rpartition("_")
            projection = "attention_output" if projection == "output" else projection
            weight.path = f"{scope}/{projection}/{kind}"
        # Keras's build also makes a Softmax and a Dropout sublayer, which take the session's
        # next automatic names: take them too, so that layers made later are named as in Keras,
        # and keep them for the empty groups Keras's weights files hold for those sublayers.
        self._keras_weightless_sublayers = {"_softmax": unique_name("softmax"),
                                            "_dropout_layer": unique_name("dropout")}

    def _heads_of(self, projection: str) -> int:
        """The number of heads a projection makes (fewer for the key and value in
        `GroupQueryAttention`)."""
        return self.num_heads

    def _add_kernel(self, name, shape, in_axes):
        self.add_weight(name=name, shape=shape, initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                        linear_in_axes=in_axes)

    def _add_bias(self, name, shape):
        if self.use_bias:
            self.add_weight(name=name, shape=shape, initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            setattr(self, name, None)

    def _call_shapes(self, args: tuple, kwargs: dict) -> tuple:
        query = args[0]
        value = args[1] if len(args) > 1 else kwargs.get("value")
        key = args[2] if len(args) > 2 else kwargs.get("key")
        if value is None:
            raise TypeError(f"Layer '{self.name}' needs a value: call it as layer(query, value).")
        return _shape(query), _shape(value), None if key is None else _shape(key)

    def _dispatch_call(self, args: tuple, kwargs: dict):
        leaves = nest.flatten(args[:3])
        if not self.built and not any(isinstance(t, SymbolicTensor) for t in leaves):
            self.build(*self._call_shapes(args, kwargs))
            device = next((t.device for t in leaves if torch.is_tensor(t)), None)
            if device is not None:
                self.to(device)
        return super()._dispatch_call(args, kwargs)

    def _symbolic_output_shape(self, args: tuple, kwargs: dict):
        query_shape, value_shape, key_shape = self._call_shapes(args, kwargs)
        if not self.built:
            self.build(query_shape, value_shape, key_shape)
        output_shape = self.compute_output_shape(query_shape, value_shape, key_shape)
        if not kwargs.get("return_attention_scores"):
            return output_shape
        heads = (self.num_heads,)
        attended = [a for a in self.attention_axes]
        scores = ((query_shape[0],) + tuple(query_shape[a] for a in self._batch_axes) + heads
                  + tuple(query_shape[a] for a in attended)
                  + tuple(value_shape[a] for a in attended))
        return (output_shape, scores)

    # ------------------------------------------------------------------ computing

    def forward(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
                attention_mask=None, return_attention_scores=False, training=None,
                use_causal_mask=False, mask=None):
        # Masks that came with the inputs through a model (query's, value's).
        if mask is not None:
            masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
            query_mask = masks[0] if query_mask is None else query_mask
            if value_mask is None and len(masks) > 1:
                value_mask = masks[1]
        key = value if key is None else key
        training = self.training if training is None else training
        causal_only = use_causal_mask and self.sliding_window is None and all(
            m is None for m in (query_mask, value_mask, key_mask, attention_mask))
        if not causal_only:
            attention_mask = self._merge_masks(query, value, query_mask, value_mask, key_mask,
                                               attention_mask, use_causal_mask)
        q = self._heads(_linear(query, self.query_kernel, self.query_bias), self.key_dim)
        k = self._heads(_linear(key, self.key_kernel, self.key_bias), self.key_dim)
        v = self._heads(_linear(value, self.value_kernel, self.value_bias), self.value_dim)
        fused = self.dropout == 0 and not return_attention_scores and self._perm is None \
            and query.dim() == 3 and flash_attention_enabled is not False
        attended, scores = self._attend(q, k, v, attention_mask, causal_only, fused, training)
        outputs = self._merge_heads(attended, query)
        if self.use_gate:
            outputs = outputs * torch.sigmoid(_linear(query, self.gate_kernel, self.gate_bias))
        outputs = _linear(outputs, self.output_kernel, self.output_bias, in_axes=2)
        outputs = outputs.reshape(tuple(query.shape[:-1]) + self._out_shape)
        if return_attention_scores:
            return outputs, self._scores_like_keras(scores, query, value)
        return outputs

    def _attend(self, q, k, v, attention_mask, causal_only: bool, fused: bool, training: bool):
        """`(softmax(q k^T * scale) v, the probabilities or None)` per head: `q` is
        `(batch, heads, T, dim)`, `k` and `v` `(batch, kv_heads, S, dim)`, where each of the
        `kv_heads` serves `heads / kv_heads` query heads in turn (grouped-query attention)."""
        grouped = k.shape[1] != q.shape[1]
        if grouped and (not fused or torch.jit.is_tracing()):
            # The fused kernel reads grouped heads itself (`enable_gqa`); elsewhere, and under
            # the TorchScript tracer (ONNX export), which does not know that argument, each
            # key/value head is repeated for its query heads.
            repeats = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(repeats, 1), v.repeat_interleave(repeats, 1)
            grouped = False
        if fused:
            # Keras's fused path: an additive mask (fully masked rows average all values).
            bias = None if attention_mask is None else torch.zeros(
                attention_mask.shape, dtype=q.dtype, device=q.device
            ).masked_fill(~attention_mask, _fused_mask_value(q.dtype)).unsqueeze(1)
            gqa = {"enable_gqa": True} if grouped else {}
            return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, is_causal=causal_only,
                                                  scale=self._scale, **gqa), None
        if causal_only:
            attention_mask = _causal_mask(q.shape[-2], k.shape[-2], q.device)
        if attention_mask is not None:
            attention_mask = attention_mask.reshape((-1, 1) + tuple(attention_mask.shape[-2:]))
        scores = _masked_softmax(torch.matmul(q * self._scale, k.transpose(-1, -2)),
                                 attention_mask)
        dropped = F.dropout(scores, self.dropout, True) if training and self.dropout else scores
        return torch.matmul(dropped, v), scores

    def _merge_masks(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                     use_causal_mask):
        """One boolean `(batch, T, S)` mask from the padding, causal, sliding-window and explicit
        masks."""
        merged = None if attention_mask is None else attention_mask.bool()
        parts = []
        if query_mask is not None:
            parts.append(query_mask.bool()[..., :, None])
        for padding in (value_mask, key_mask):
            if padding is not None:
                parts.append(padding.bool()[..., None, :])
        if use_causal_mask:
            parts.append(_causal_mask(query.shape[1], value.shape[1], query.device))
        if self.sliding_window is not None:
            parts.append(_sliding_window_mask(query.shape[1], value.shape[1],
                                              self.sliding_window, query.device))
        for part in parts:
            merged = part if merged is None else merged & part
        return merged

    def _heads(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        """`(batch, ..., heads * dim)` -> `(batch', heads, steps, dim)`.

        Other axes join the batch.
        """
        if self._perm is None and x.dim() == 3:
            return x.unflatten(-1, (-1, dim)).transpose(1, 2)
        x = x if self._perm is None else x.permute(self._perm)
        steps = math.prod(x.shape[1 + len(self._batch_axes):-1])
        return x.reshape(-1, steps, x.shape[-1] // dim, dim).transpose(1, 2)

    def _merge_heads(self, x: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """The inverse of `_heads`, laid out as the query: `(batch, ..., heads * value_dim)`."""
        x = x.transpose(1, 2).flatten(2)
        if self._perm is None:
            return x.reshape(tuple(query.shape[:-1]) + (-1,))
        laid_out = [query.shape[a] for a in self._perm[:-1]]
        return x.reshape(laid_out + [-1]).permute(self._inverse_perm)

    def _scores_like_keras(self, scores, query, value):
        """`(batch, *other axes, heads, *query steps, *value steps)`, as Keras returns them."""
        batch = [query.shape[0]] + [query.shape[a] for a in self._batch_axes]
        steps = ([query.shape[a] for a in self.attention_axes]
                 + [value.shape[a] for a in self.attention_axes])
        return scores.reshape(batch + [self.num_heads] + steps)

    # ------------------------------------------------------------------ graph facts

    def produces_mask(self, input_has_mask: bool) -> bool:
        return input_has_mask

    def compute_mask(self, inputs, mask=None):
        """The output keeps the query's padding mask."""
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            self._check_shapes(query_shape, value_shape, key_shape)
        out = self.output_shape_arg or (query_shape[-1],)
        return tuple(query_shape[:-1]) + tuple(out)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "output_shape": self.output_shape_arg,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": constraints_module.serialize(self.kernel_constraint),
            "bias_constraint": constraints_module.serialize(self.bias_constraint),
            "seed": self.seed,
        }


class GroupQueryAttention(MultiHeadAttention):
    """Grouped-query attention (Ainslie et al., 2023): fewer key and value heads than query heads.

    The query is projected into `num_query_heads` heads, the key and value into
    `num_key_value_heads`; each key/value head serves `num_query_heads / num_key_value_heads`
    consecutive query heads. One key/value head makes multi-query attention; as many as query
    heads, multi-head attention. Attention, masks and the gate are `MultiHeadAttention`'s; torch's
    fused kernel reads the grouped heads directly (`enable_gqa`), without repeating them.

    Args:
        head_dim: the size of each head, for query, key and value.
        num_query_heads: the number of query heads.
        num_key_value_heads: the number of key and value heads; it must divide num_query_heads.
        dropout: the dropout rate on the attention probabilities (in training).
        use_bias: whether the projections have biases.
        sliding_window: None, or a positive int: each query step attends only to the steps less
            than `sliding_window` away, on both sides (with `use_causal_mask`, the last
            `sliding_window` steps).
        flash_attention: accepted for compatibility (torch's `scaled_dot_product_attention`
            picks its flash kernel itself where it applies); True refuses dropout and attention
            scores, as in Keras.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: for the projections, as in `Dense`.
        use_gate: multiply the attended heads by a learned sigmoid gate of the query.
        seed: kept in the config; dropout draws from torch's global generator.

    Call arguments: as `MultiHeadAttention`'s: `query (batch, T, dim)`, `value (batch, S, dim)`,
    `key (batch, S, dim_k)` (the value by default), the padding masks `query_mask`,
    `value_mask`, `key_mask`, `attention_mask (batch, T, S)`, `return_attention_scores` (then
    also the `(batch, num_query_heads, T, S)` probabilities), `training`, `use_causal_mask`.

    Output shape: the query's, `(batch, T, dim)`.

    Weights (Keras's order and layout): query kernel `(dim, num_query_heads, head_dim)` and bias
    `(num_query_heads, head_dim)`; key kernel `(dim_k, num_key_value_heads, head_dim)` and bias
    `(num_key_value_heads, head_dim)`; with `use_gate` the gate's, shaped as the query's; the
    value's, shaped as the key's; output kernel `(num_query_heads, head_dim, dim)` and bias
    `(dim,)`.

    >>> layer = GroupQueryAttention(head_dim=8, num_query_heads=4, num_key_value_heads=2)
    >>> x = torch.zeros(2, 10, 16)
    >>> layer(x, x).shape
    torch.Size([2, 10, 16])
    """

    # Keras's call (saved graphs record it) takes a mask per input, not `mask`.
    _keras_call_arguments = {"training": None}

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 name=None, **kwargs):
        for arg, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                           ("num_key_value_heads", num_key_value_heads)):
            check_positive_int(arg, value)
        if num_query_heads % num_key_value_heads:
            raise ValueError(
                "Expected num_query_heads to be divisible by num_key_value_heads. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}")
        if sliding_window is not None:
            check_positive_int("sliding_window", sliding_window)
        if name is None:  # Keras names it after its class, GroupedQueryAttention
            name = unique_name("grouped_query_attention")
        super().__init__(num_query_heads, head_dim, dropout=dropout, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         use_gate=use_gate, seed=seed, name=name, **kwargs)
        if flash_attention and self.dropout:
            raise ValueError("flash_attention=True does not support dropout. Received: "
                             f"dropout={dropout!r}; pass dropout=0.0 or flash_attention=None.")
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention

    def _heads_of(self, projection):
        return self.num_key_value_heads if projection in ("key", "value") else self.num_heads

    def _check_shapes(self, query_shape, value_shape, key_shape=None):
        rank = len(query_shape)
        if rank > 3:
            raise ShapeError(
                f"It attends over sequences (batch, steps, features), but the query is "
                f"{rank}-D: {format_shape(query_shape)}.",
                fix="reshape the inputs to (batch, steps, features), e.g. "
                f"Reshape((-1, {query_shape[-1]})), or use MultiHeadAttention, which attends over "
                "several axes (attention_axes).",
            )
        return super()._check_shapes(query_shape, value_shape, key_shape)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None and value_shape[-1] != query_shape[-1]:
            raise ShapeError(
                f"It needs values with as many features as the query, as in Keras, but the "
                f"query is {format_shape(query_shape)} and the value "
                f"{format_shape(value_shape)}.",
                fix=f"project the value to {query_shape[-1]} features first, e.g. with "
                f"Dense({query_shape[-1]}).",
            )
        return super().compute_output_shape(query_shape, value_shape, key_shape)

    def _refuse_scores_with_flash(self, return_attention_scores) -> None:
        if return_attention_scores and self.flash_attention:
            raise ValueError("flash_attention=True cannot return attention scores; create the "
                             "layer with flash_attention=None to get them.")

    def _symbolic_output_shape(self, args, kwargs):
        self._refuse_scores_with_flash(kwargs.get("return_attention_scores"))
        return super()._symbolic_output_shape(args, kwargs)

    def forward(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
                attention_mask=None, return_attention_scores=False, training=None,
                use_causal_mask=False, mask=None):
        self._refuse_scores_with_flash(return_attention_scores)
        return super().forward(query, value, key, query_mask, value_mask, key_mask,
                               attention_mask, return_attention_scores, training,
                               use_causal_mask, mask)

    def get_config(self):
        shared = super().get_config()
        # Keras's order: the head sizes first, then the switches and dropout, then what the
        # projections share with MultiHeadAttention's (initializers ... seed).
        return {
            **Layer.get_config(self),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            **{key: value for key, value in shared.items() if key == "seed"
               or key.endswith(("_initializer", "_regularizer", "_constraint"))},
        }


class Attention(Layer):
    """Dot-product (Luong-style) attention over `[query, value]` or `[query, value, key]`.

    Scores are `query @ key.T` (`score_mode="dot"`) or `sum(tanh(query + key))`
    (`score_mode="concat"`); the output is `softmax(scores) @ value`. There are no projections:
    the query and key need the same number of features.

    Args:
        use_scale: learn a scalar that multiplies the scores.
        score_mode: `"dot"` or `"concat"`.
        dropout: the dropout rate on the attention probabilities (in training).
        seed: kept in the config.

    Call arguments:
        inputs: `[query (batch, T, dim), value (batch, S, dim_v)]`, optionally a key
            `(batch, S, dim)` as third (the value by default).
        mask: `[query_mask (batch, T), value_mask (batch, S)]`; set automatically from
            `Embedding(mask_zero=True)` or `Masking`.
        return_attention_scores: also return the `(batch, T, S)` probabilities.
        use_causal_mask: each query step attends only to the steps up to it.

    Output shape: `(batch, T, dim_v)`.

    >>> Attention()([torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)]).shape
    torch.Size([2, 3, 4])
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False, "mask": None}

    supports_masking = True

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"Expected score_mode 'dot' or 'concat'. Received: score_mode={score_mode!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"Expected a dropout rate in [0, 1). Received: dropout={dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed

    def _check_inputs(self, input_shape) -> list:
        name = type(self).__name__
        if not isinstance(input_shape, list) or not 2 <= len(input_shape) <= 3 or not all(
                isinstance(s, (list, tuple)) for s in input_shape):
            raise ShapeError(
                f"{name} takes a list [query, value] or [query, value, key]; received "
                f"{input_shape}.",
                fix=f"call it as {name}()([query, value]).",
            )
        query, value = input_shape[0], input_shape[1]
        key = input_shape[2] if len(input_shape) > 2 else value
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            raise ShapeError(
                f"It compares each query with each key, so both need the same number of "
                f"features, but the query is {format_shape(query)} and the key "
                f"{format_shape(key)}.",
                fix=f"project one of them first, e.g. Dense({key[-1]}) on the query, or use "
                "MultiHeadAttention, which learns its projections.",
            )
        if value[:-1] != key[:-1] and len(input_shape) > 2:
            raise ShapeError(
                f"The value {format_shape(value)} and the key {format_shape(key)} need one key "
                "per value step.",
                fix="give the key as many steps as the value.",
            )
        return [query, value, key]

    def build(self, input_shape):
        self._check_inputs(input_shape)
        if self.use_scale:
            self.add_weight(name="scale", shape=(), initializer="ones")
        else:
            self.scale = None
        if self.score_mode == "concat":
            self.add_weight(name="concat_score_weight", shape=(), initializer="ones")

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-1, -2))
            return scores if self.scale is None else scores * self.scale
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)

    def forward(self, inputs, mask=None, training=None, return_attention_scores=False,
                use_causal_mask=False):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask, value_mask = (None, None) if mask is None else (mask[0], mask[1])
        scores = self._scores(query, key)
        score_mask = None if value_mask is None else value_mask.bool()[..., None, :]
        if use_causal_mask:
            causal = _causal_mask(scores.shape[-2], scores.shape[-1], scores.device)
            score_mask = causal if score_mask is None else score_mask & causal
        if score_mask is not None:
            # Keras subtracts a large number from the masked scores (no zeroing afterwards).
            scores = scores - (~score_mask) * _padding_penalty(scores.dtype)
        weights = torch.softmax(scores, -1)
        training = self.training if training is None else training
        dropped = F.dropout(weights, self.dropout, True) if training and self.dropout else weights
        outputs = torch.matmul(dropped, value)
        if query_mask is not None:
            outputs = outputs * query_mask.bool()[..., None]
        return (outputs, weights) if return_attention_scores else outputs

    def produces_mask(self, input_has_mask: bool) -> bool:
        return input_has_mask

    def compute_mask(self, inputs, mask=None):
        """The output keeps the query's padding mask (as a tensor, an operation that Keras's
        graphs record)."""
        return None if mask is None or mask[0] is None else convert_to_tensor(mask[0])

    def _symbolic_output_shape(self, args: tuple, kwargs: dict):
        output_shape = super()._symbolic_output_shape(args, kwargs)
        if not kwargs.get("return_attention_scores"):
            return output_shape
        query, _, key = self._check_inputs([tuple(t.shape) for t in args[0]])
        return (output_shape, tuple(query[:-1]) + (key[-2],))

    def compute_output_shape(self, input_shape):
        query, value, _ = self._check_inputs([tuple(s) for s in input_shape]
                                             if isinstance(input_shape, list) else input_shape)
        return tuple(query[:-1]) + (value[-1],)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention over `[query, value]` or `[query, value, key]`.

    Scores are `sum(scale * tanh(query + key))` over the features, with a learned vector
    `scale` of size `dim` (`use_scale=True`); the output is `softmax(scores) @ value`.
    Call arguments, masks and shapes are those of `Attention`.

    Args:
        use_scale: learn the per-feature `scale` (True by default).
        dropout: the dropout rate on the attention probabilities (in training).

    >>> AdditiveAttention()([torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)]).shape
    torch.Size([2, 3, 4])
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        query, _, _ = self._check_inputs(input_shape)
        if query[-1] is None:
            raise ShapeError(
                f"It learns one scale per feature, so it needs the query's last dimension; "
                f"received {format_shape(query)}.",
                fix="give the Input a fixed last dimension.",
            )
        if self.use_scale:
            self.add_weight(name="scale", shape=(query[-1],), initializer="glorot_uniform")
        else:
            self.scale = None

    def _scores(self, query, key):
        summed = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        return (summed if self.scale is None else self.scale * summed).sum(-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("score_mode", None)
        return cls(**config)
