"""InputSpec: what a layer accepts as input — rank, sizes of some axes, dtype — checked on call.

A layer that sets `self.input_spec = InputSpec(ndim=3)` (or a list of specs, one per input) has
its inputs checked when it is called on symbolic tensors and on its first call on real data, the
call that builds it. A built layer called on a tensor is not checked again: that call is the hot
path. Only when torch's kernels fail there is the spec checked, to say what was wrong.
"""

from __future__ import annotations

import torch

from ..graph import nest
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape


def _dtype_name(dtype) -> str:
    """`"float32"` for `torch.float32`, `"float32"` or `"torch.float32"`."""
    name = str(dtype).replace("torch.", "")
    if not isinstance(getattr(torch, name, None), torch.dtype):
        raise ValueError(f"Unknown dtype: {dtype!r}. Use e.g. 'float32', 'float64' or 'int64'.")
    return name


def _optional_count(name: str, value) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"Expected a non-negative integer or None for {name}. Received: "
                         f"{name}={value!r}")
    return value


class InputSpec:
    """The rank, dtype and sizes a layer's input must have (None: anything).

    Args:
        dtype: the input's dtype, e.g. `"float32"`.
        shape: the whole shape, batch axis included, None for any size: `(None, 28, 28, 1)`.
            It also fixes the rank.
        ndim: the rank (batch axis included).
        max_ndim, min_ndim: the largest and smallest rank.
        axes: `{axis: size}` for axes that must have a size, e.g. `{-1: 16}`.
        allow_last_axis_squeeze: compare `shape` without a last axis of size 1 on either side,
            so `(None, 28, 28)` and `(None, 28, 28, 1)` both fit `(None, 28, 28, 1)`.
        name: the key of this input when a layer is called on a dict.
        optional: whether the input may be None.

    >>> InputSpec(ndim=3, axes={-1: 16})
    InputSpec(ndim=3, axes={-1: 16})
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = None if dtype is None else _dtype_name(dtype)
        if shape is not None:
            if not isinstance(shape, (tuple, list)) or not all(
                    d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
                    for d in shape):
                raise ValueError("Expected shape to be a tuple of non-negative ints and None. "
                                 f"Received: shape={shape!r}")
            self.shape = tuple(shape)
            self.ndim = len(shape)
        else:
            self.shape = None
            self.ndim = _optional_count("ndim", ndim)
        self.max_ndim = _optional_count("max_ndim", max_ndim)
        self.min_ndim = _optional_count("min_ndim", min_ndim)
        self.name = name
        self.optional = bool(optional)
        self.allow_last_axis_squeeze = bool(allow_last_axis_squeeze)
        axes = axes or {}
        if not isinstance(axes, dict) or not all(
                isinstance(k, int) and not isinstance(k, bool) for k in axes):
            raise TypeError(f"Expected axes to be a dict with integer keys, e.g. {{-1: 16}}. "
                            f"Received: axes={axes!r}")
        self.axes = dict(axes)
        most = self.ndim if self.ndim is not None else self.max_ndim
        if self.axes and most is not None and max(self.axes) > most - 1:
            raise ValueError(
                f"InputSpec's axes {self.axes} name axis {max(self.axes)}, but its inputs have at "
                f"most {most} axes (0 to {most - 1})."
            )

    def __repr__(self) -> str:
        parts = [f"{key}={value}" for key, value in (
            ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
            ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim), ("axes", self.axes))
            if value]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        return cls(**config)


def check_input_spec(layer, input_spec, inputs) -> None:
    """Raise a ShapeError (or a ValueError for a dtype or a count) unless `inputs`, tensors or
    symbolic tensors in any structure, fit `input_spec`, one spec or a structure of them."""
    specs = nest.flatten(input_spec)
    if isinstance(inputs, dict) and specs and all(s is not None and s.name for s in specs):
        missing = [s.name for s in specs if s.name not in inputs]
        if missing:
            raise ValueError(
                f"Layer '{layer.name}' expects inputs named {[s.name for s in specs]}, but the "
                f"dict it received has no '{missing[0]}' (its keys: {sorted(inputs)})."
            )
        inputs = [inputs[s.name] for s in specs]
    tensors = nest.flatten(inputs)
    if len(tensors) != len(specs):
        raise ValueError(
            f"Layer '{layer.name}' expects {len(specs)} input(s), as its input_spec says, but it "
            f"received {len(tensors)}."
        )
    for index, (tensor, spec) in enumerate(zip(tensors, specs)):
        if spec is None or (tensor is None and spec.optional):
            continue
        if not hasattr(tensor, "shape"):
            raise ValueError(f"Layer '{layer.name}' takes tensors as inputs; input {index} is "
                             f"{tensor!r} ({type(tensor).__name__}).")
        _check_one(layer, spec, index, tuple(tensor.shape), tensor.dtype)


def _check_one(layer, spec: InputSpec, index: int, shape: tuple, dtype) -> None:
    rank = len(shape)
    received = f"input {index} is the {rank}-D input {format_shape(shape)}"
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and rank != spec.ndim:
        raise ShapeError(f"Its input_spec expects {spec.ndim}-D inputs (ndim={spec.ndim}), but "
                         f"{received}.", fix=_rank_fix(type(layer).__name__, spec.ndim))
    if spec.max_ndim is not None and rank > spec.max_ndim:
        raise ShapeError(f"Its input_spec expects inputs of at most {spec.max_ndim} axes "
                         f"(max_ndim={spec.max_ndim}), but {received}.",
                         fix=_rank_fix(type(layer).__name__, spec.max_ndim))
    if spec.min_ndim is not None and rank < spec.min_ndim:
        raise ShapeError(f"Its input_spec expects inputs of at least {spec.min_ndim} axes "
                         f"(min_ndim={spec.min_ndim}), but {received}.",
                         fix=_rank_fix(type(layer).__name__, spec.min_ndim))
    if spec.dtype is not None and _dtype_name(dtype) != spec.dtype:
        raise ValueError(f"Layer '{layer.name}' expects input {index} of dtype {spec.dtype}, as "
                         f"its input_spec says, but received {_dtype_name(dtype)}. Cast the "
                         "input first.")
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -rank <= axis < rank or shape[axis] not in (size, None):
            found = shape[axis] if -rank <= axis < rank else "no such axis"
            raise ShapeError(f"Its input_spec expects size {size} on axis {axis}, but "
                             f"{received} ({found}).",
                             fix=f"give the input {size} there, or use a new "
                             f"{type(layer).__name__} for this input.")
    if spec.shape is not None:
        expected, actual = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            expected = expected[:-1] if expected and expected[-1] == 1 else expected
            actual = actual[:-1] if actual and actual[-1] == 1 else actual
        if any(e is not None and a is not None and e != a for e, a in zip(expected, actual)):
            raise ShapeError(f"Its input_spec expects inputs of shape "
                             f"{format_shape(spec.shape)}, but {received}.",
                             fix=f"reshape the input to {format_shape(spec.shape)}.")


def _rank_fix(kind: str, rank: int) -> str:
    return (f"give {kind} {rank}-D inputs (batch axis included), e.g. with Reshape, or use a "
            f"new {kind} for inputs of this rank.")
