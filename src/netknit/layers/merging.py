"""Merging layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot.

All shape checks live once, in `Merge` (element-wise layers) and `Concatenate`/`Dot`; the
element-wise layers only say how two tensors combine. Each has a function form
(`concatenate([a, b])`, `add([a, b])`, ...) that makes the layer and calls it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..graph.errors import ShapeError
from ..graph.shapes import broadcast_shapes, format_shape, num_elements
from ..ops import numpy as numpy_ops
from .layer import Layer


def _check_list(layer: Layer, input_shape, minimum: int = 1, exactly: int | None = None):
    is_list = isinstance(input_shape, (list, tuple)) and all(
        isinstance(s, (list, tuple)) for s in input_shape
    )
    if not is_list or len(input_shape) < minimum or (exactly and len(input_shape) != exactly):
        count = f"exactly {exactly}" if exactly else f"a list of at least {minimum}"
        raise ShapeError(
            f"{type(layer).__name__} merges {count} tensors; it was called on "
            f"{_describe_call(input_shape)}.",
            fix=f"call it on a list: {type(layer).__name__}()([a, b]).",
        )


def _describe_call(input_shape) -> str:
    if isinstance(input_shape, (list, tuple)) and input_shape and all(
        isinstance(s, (list, tuple)) for s in input_shape
    ):
        return f"{len(input_shape)} tensor(s)"
    return f"a single tensor {format_shape(input_shape)}"


def _flatten_fix(index: int, shape) -> str:
    """How to make input `index` a (batch, features) vector."""
    size = num_elements(shape[1:])
    if size is None:
        return (
            f"reduce input {index} {format_shape(shape)} to a vector first, e.g. with "
            "GlobalAveragePooling1D() or an LSTM without return_sequences."
        )
    return (
        f"make input {index} a vector (None, {size}) with Flatten() or Reshape(({size},)) before "
        "merging, so all inputs have the same rank."
    )


def _check_masks(inputs, mask) -> None:
    """Keras's checks of a merge's masks: a list with one entry per input."""
    if not isinstance(mask, (list, tuple)):
        raise ValueError(f"`mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(
            "The lists `inputs` and `mask` should have the same length. Received: "
            f"inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}"
        )


class Merge(Layer):
    """Base of the element-wise merges: inputs of the same shape (or shapes that broadcast)."""

    def produces_mask(self, input_has_mask: bool) -> bool:
        return input_has_mask

    def compute_mask(self, inputs, mask=None):
        """Keras's merged mask: a step counts where any input's does; an unmasked input leaves
        the output unmasked."""
        if mask is None:
            return None
        _check_masks(inputs, mask)
        if any(m is None for m in mask):
            return None
        merged = mask[0]
        for m in mask[1:]:
            merged = numpy_ops.logical_or(merged, m)
        return merged

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._expand = False

    def build(self, input_shape):
        _check_list(self, input_shape)
        # Inputs of lower rank get axes inserted after the batch axis, as Keras does.
        self._expand = len({len(s) for s in input_shape}) > 1

    def combine(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs):
        if self._expand:
            rank = max(x.dim() for x in inputs)
            inputs = [
                x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:]) for x in inputs
            ]
        return self.combine(list(inputs))

    def compute_output_shape(self, input_shape):
        _check_list(self, input_shape)
        rank = max(len(s) for s in input_shape)
        padded = [(s[0],) + (1,) * (rank - len(s)) + tuple(s[1:]) for s in input_shape]
        output = padded[0][1:]
        for i, shape in enumerate(padded[1:], start=1):
            merged = broadcast_shapes(output, shape[1:])
            if merged is None:
                raise self._mismatch(input_shape, 0, i)
            output = merged
        return (input_shape[0][0],) + tuple(output)

    def _mismatch(self, shapes, first: int, second: int) -> ShapeError:
        a, b = shapes[first], shapes[second]
        if len(a) == len(b) == 2:
            big, small = max(a[1], b[1]), min(a[1], b[1])
            small_index = first if a[1] == small else second
            fix = (
                f"project both to a common size, e.g. Dense({big}) on input {small_index} "
                f"(or Dense({small}) on the other), or merge with Concatenate() instead, which "
                "accepts different sizes."
            )
        else:
            fix = "reshape the inputs to the same shape first (Reshape, Flatten or a Dense)."
        return ShapeError(
            f"{type(self).__name__} combines its inputs element by element, so their shapes must "
            f"match (or broadcast), but {format_shape(a)} and {format_shape(b)} do not.",
            fix=fix,
        )


class Add(Merge):
    """Adds a list of tensors of the same shape, element by element.

    >>> Add()([torch.ones(1, 2), torch.ones(1, 2)])
    tensor([[2., 2.]])
    """

    def combine(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


class Subtract(Merge):
    """Subtracts the second of two tensors from the first: `Subtract()([a, b])` is `a - b`."""

    def build(self, input_shape):
        _check_list(self, input_shape, exactly=2)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        _check_list(self, input_shape, exactly=2)
        return super().compute_output_shape(input_shape)

    def combine(self, inputs):
        return inputs[0] - inputs[1]


class _MaskedMerge(Merge):
    """A merge whose result depends on its inputs' masks (a list, None for an unmasked input),
    which Keras's reads from its inputs when data flows: its call takes no `mask` argument."""

    _keras_call_arguments: dict = {}

    def forward(self, inputs, mask=None):
        if mask is None or self._expand:  # Keras's inputs lose their masks when reshaped
            return super().forward(inputs)
        return self.combine_masked(list(inputs), mask)

    def combine_masked(self, inputs: list[torch.Tensor], mask: list) -> torch.Tensor:
        raise NotImplementedError


class Multiply(_MaskedMerge):
    """Multiplies a list of tensors of the same shape, element by element.

    With masks, as Keras's: a masked step of an input counts as 1, and where every input has a
    mask, the output is 0 outside their union.
    """

    def combine(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output * x
        return output

    def combine_masked(self, inputs, mask):
        masks = [None if m is None else _over_features(m) for m in mask]
        output = self.combine([x if m is None else torch.where(m, x, 1)
                               for x, m in zip(inputs, masks)])
        if any(m is None for m in masks):
            return output
        union = masks[0]
        for m in masks[1:]:
            union = union | m
        return torch.where(union, output, 0)


class Average(Merge):
    """The element-wise mean of a list of tensors of the same shape."""

    def combine(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class Maximum(_MaskedMerge):
    """The element-wise maximum of a list of tensors of the same shape; with masks, only the
    steps an input's mask keeps take part (see `_merge_kept_steps`), as in Keras."""

    def combine(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = torch.maximum(output, x)
        return output

    def combine_masked(self, inputs, mask):
        return _merge_kept_steps(torch.maximum, inputs, mask)


class Minimum(_MaskedMerge):
    """The element-wise minimum of a list of tensors of the same shape; with masks, only the
    steps an input's mask keeps take part (see `_merge_kept_steps`), as in Keras."""

    def combine(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = torch.minimum(output, x)
        return output

    def combine_masked(self, inputs, mask):
        return _merge_kept_steps(torch.minimum, inputs, mask)


def _over_features(mask: torch.Tensor) -> torch.Tensor:
    """A `(batch, steps)` mask as a boolean that broadcasts over the features axis."""
    return mask.bool().unsqueeze(-1)


def _merge_kept_steps(op, inputs: list, mask: list) -> torch.Tensor:
    """`op` folded over `inputs`, as Keras folds it with masks (maximum and minimum have no
    neutral value): a step an input's mask drops takes the other operand's value, so only kept
    steps count; where no input keeps a step, the first input's value stays."""
    output, kept = inputs[0], None if mask[0] is None else _over_features(mask[0])
    for x, m in zip(inputs[1:], mask[1:]):
        m = None if m is None else _over_features(m)
        if m is not None:
            x = torch.where(m, x, output)
        if kept is not None:
            output = torch.where(kept, output, x)
        kept = None if m is None or kept is None else kept | m
        output = op(output, x)
    return output


class Concatenate(Layer):
    """Joins a list of tensors along `axis`; all other dimensions must match.

    Args:
        axis: the axis to join along, the last one (-1) by default.

    >>> Concatenate()([torch.zeros(2, 3), torch.zeros(2, 5)]).shape
    torch.Size([2, 8])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int):
            raise TypeError(f"Expected an integer axis. Received: axis={axis!r}")
        self.axis = axis

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def forward(self, inputs):
        return torch.cat(inputs, dim=self.axis)

    def produces_mask(self, input_has_mask: bool) -> bool:
        return input_has_mask

    def compute_mask(self, inputs, mask=None):
        """Keras's concatenated mask: each input's mask (all True where it has none) broadcast
        to the input's shape, concatenated along `axis`, then True where any entry of the last
        axis is."""
        if mask is None:
            return None
        _check_masks(inputs, mask)
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = numpy_ops.ones_like(x, dtype="bool")
            elif m.ndim < x.ndim:
                # Spread over the input's last axis, as Keras does it (an `or` with zeros).
                m = numpy_ops.logical_or(numpy_ops.expand_dims(m, axis=-1),
                                         numpy_ops.zeros_like(x, dtype="bool"))
            masks.append(m)
        return numpy_ops.any(numpy_ops.concatenate(masks, axis=self.axis), axis=-1)

    def compute_output_shape(self, input_shape):
        _check_list(self, input_shape)
        ranks = [len(s) for s in input_shape]
        if len(set(ranks)) > 1:
            high = max(range(len(ranks)), key=lambda i: ranks[i])
            low = min(ranks)
            listing = " and ".join(f"{r}-D" for r in ranks)
            fix = (
                _flatten_fix(high, input_shape[high])
                if low == 2
                else "reshape the inputs to the same rank first."
            )
            raise ShapeError(
                f"Concatenate joins tensors along axis {self.axis}, which needs inputs of the same "
                f"rank, but the ranks differ ({listing}).",
                fix=fix,
            )
        rank = ranks[0]
        axis = self.axis % rank
        if axis == 0:
            raise ShapeError(
                "Concatenate cannot join along the batch axis (axis 0).",
                fix="use axis=-1 (features) or another non-batch axis.",
            )
        output = list(input_shape[0])
        for i, shape in enumerate(input_shape[1:], start=1):
            for d in range(1, rank):
                if d == axis:
                    continue
                if None not in (output[d], shape[d]) and output[d] != shape[d]:
                    raise ShapeError(
                        f"Concatenate joins tensors along axis {self.axis}, so all other axes must "
                        f"match, but axis {d} is {output[d]} in input 0 "
                        f"{format_shape(input_shape[0])} and {shape[d]} in input {i} "
                        f"{format_shape(shape)}.",
                        fix="reshape or pool the inputs so that they agree on every axis except "
                        f"axis {self.axis}, or concatenate along axis {d}.",
                    )
                output[d] = output[d] if output[d] is not None else shape[d]
        sizes = [s[axis] for s in input_shape]
        output[axis] = None if None in sizes else sum(sizes)
        return tuple(output)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """The dot product of two tensors along `axes`, per sample.

    Args:
        axes: an axis, or a pair `(axis_of_a, axis_of_b)`, to contract (not the batch axis).
        normalize: L2-normalize both inputs along `axes` first, giving the cosine similarity.

    Two `(batch, d)` inputs with `axes=1` give `(batch, 1)`; `(batch, m, d)` and `(batch, n, d)`
    with `axes=2` give `(batch, m, n)`.
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, int) else tuple(axes)
        if len(pair) != 2 or not all(isinstance(a, int) for a in pair):
            raise ValueError(f"Expected axes to be an int or a pair of ints. Received: {axes!r}")
        self.axes = axes  # as given, as Keras's config keeps it
        self._axes = pair
        self.normalize = bool(normalize)
        self.built = True

    def _resolve_axes(self, ranks):
        return tuple(a % r for a, r in zip(self._axes, ranks))

    def forward(self, inputs):
        a, b = inputs
        axis_a, axis_b = self._resolve_axes((a.dim(), b.dim()))
        if self.normalize:
            a = F.normalize(a, dim=axis_a)
            b = F.normalize(b, dim=axis_b)
        a = a.movedim(axis_a, -1)
        b = b.movedim(axis_b, 1)
        rest_a, rest_b = a.shape[1:-1], b.shape[2:]
        out = torch.bmm(
            a.reshape(a.shape[0], -1, a.shape[-1]), b.reshape(b.shape[0], b.shape[1], -1)
        )
        shape = (a.shape[0],) + tuple(rest_a) + tuple(rest_b)
        return out.reshape(shape if len(shape) > 1 else (a.shape[0], 1))

    def compute_output_shape(self, input_shape):
        _check_list(self, input_shape, exactly=2)
        a, b = input_shape
        axis_a, axis_b = self._resolve_axes((len(a), len(b)))
        if axis_a == 0 or axis_b == 0:
            raise ShapeError("Dot cannot contract the batch axis (axis 0).", fix="use axes >= 1.")
        if None not in (a[axis_a], b[axis_b]) and a[axis_a] != b[axis_b]:
            raise ShapeError(
                f"Dot contracts axis {axis_a} of input 0 {format_shape(a)} (size {a[axis_a]}) with "
                f"axis {axis_b} of input 1 {format_shape(b)} (size {b[axis_b]}); the sizes must "
                "be equal.",
                fix=f"project one input with Dense({a[axis_a]}) or choose other axes.",
            )
        rest = [d for i, d in enumerate(a) if i not in (0, axis_a)] + [
            d for i, d in enumerate(b) if i not in (0, axis_b)
        ]
        return (a[0],) + tuple(rest) if rest else (a[0], 1)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _functional(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"Functional form of `{cls.__name__}`: `{merge.__name__}([a, b], **kwargs)`."
    return merge


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: `concatenate([a, b], axis=-1)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of `Dot`: `dot([a, b], axes=1)`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
