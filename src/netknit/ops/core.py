"""`keras.ops` core functions: conversion, dtypes, shapes, scatter/slice, control flow.

Dtypes follow Keras: a Python int becomes int32, a Python float float32, and integer tensors
given to a function with a float result (`exp`, `mean`) compute in float32.
"""

from __future__ import annotations

import builtins

import numpy as np
import torch

from ..graph.symbolic import SymbolicTensor
from .operation import eager_only, keras_operation

_PYTHON_DTYPES = {"b": torch.bool, "i": torch.int32, "u": torch.int32, "f": torch.float32}
_DTYPE_ALIASES = {"float": "float32", "int": "int32", "bool": "bool", "double": "float64",
                  # As in Keras's torch backend: torch cannot promote these unsigned types.
                  "uint16": "int32", "uint32": "int64"}
_WIDER_THAN_UINT = {np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64}


def to_torch_dtype(dtype) -> torch.dtype | None:
    """A torch dtype from a Keras dtype name (`"int32"`), a NumPy or torch dtype, or None."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    name = _DTYPE_ALIASES.get(name, name)
    result = getattr(torch, name, None)
    if not isinstance(result, torch.dtype):
        raise ValueError(f"Unknown dtype {dtype!r}. Use a name such as 'float32', 'int32', "
                         "'bool' or 'float16'.")
    return result


def standardize_dtype(dtype) -> str:
    """Keras's name of a dtype: `"float32"`, `"int64"`, ... (None is `"float32"`)."""
    if isinstance(dtype, SymbolicTensor):
        dtype = dtype.dtype
    if dtype is None:
        return "float32"
    if dtype in (int, float):  # Python's number types: Keras's default int and float
        return "int32" if dtype is int else "float32"
    return str(to_torch_dtype(dtype)).removeprefix("torch.")


def tensor(x, like: torch.Tensor | None = None, dtype=None) -> torch.Tensor:
    """`x` as a tensor, on `like`'s device; Python numbers and lists take Keras's dtypes.

    As in Keras: a Python int is int32, or int64 where it does not fit int32; a Python float
    (NumPy's float64 scalar is one) is float32; a uint16 or uint32 NumPy array becomes int32 or
    int64 (torch cannot promote those). `dtype` (a torch dtype) converts directly, with no int32
    step."""
    if isinstance(x, torch.Tensor):
        return x
    device = like.device if like is not None else None
    if dtype is None and isinstance(x, (bool, int, float, complex)):
        return torch.as_tensor(x, dtype=_python_scalar_dtype(x), device=device)
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype in _WIDER_THAN_UINT:
            x = x.astype(_WIDER_THAN_UINT[x.dtype])
        # torch takes no negative strides (`a[::-1]`): those arrays are copied.
        return torch.as_tensor(np.ascontiguousarray(x) if x.ndim else x, dtype=dtype,
                               device=device)
    array = np.asarray(x)
    if dtype is None:
        dtype = _PYTHON_DTYPES.get(array.dtype.kind)
        if dtype is torch.int32 and array.size and (
                array.min() < -(2**31) or array.max() >= 2**31):
            raise OverflowError(
                f"A list of Python ints with a value outside int32 ({array.min()}..."
                f"{array.max()}) cannot become an int32 tensor, as in Keras; pass "
                "dtype='int64' (or an int64 NumPy array) to keep such values.")
    return torch.as_tensor(array, dtype=dtype, device=device)


def _python_scalar_dtype(x) -> torch.dtype:
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int32 if -(2**31) <= x < 2**31 else torch.int64
    return torch.float32 if isinstance(x, float) else torch.complex64


def as_array(value) -> np.ndarray:
    """`np.asarray(value)`, copied only where torch cannot take it as it is: an array with a
    negative stride (`a[::-1]`)."""
    array = np.asarray(value)
    if any(stride < 0 for stride in array.strides):
        return np.ascontiguousarray(array)
    return array


def as_float(x: torch.Tensor) -> torch.Tensor:
    """Integer and bool tensors in float32, as Keras computes float-valued functions of them."""
    return x if x.is_floating_point() or x.is_complex() else x.to(torch.float32)


def is_tensor(x) -> bool:
    return isinstance(x, torch.Tensor)


@keras_operation("core", "ConvertToTensor")
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    dtype = to_torch_dtype(dtype)
    result = tensor(x, dtype=dtype)
    return result if dtype is None else result.to(dtype)


def convert_to_numpy(x) -> np.ndarray:
    if isinstance(x, SymbolicTensor):
        x.__array__()  # says why a symbolic tensor has no values
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


@keras_operation("core", "Cast")
def cast(x, dtype):
    return tensor(x).to(to_torch_dtype(dtype))


@keras_operation("core", "SaturateCast")
def saturate_cast(x, dtype):
    dtype = to_torch_dtype(dtype)
    x = tensor(x)
    if not dtype.is_floating_point and dtype is not torch.bool:
        info = torch.iinfo(dtype)
        x = torch.clamp(x, info.min, info.max) if x.is_floating_point() else x
    return x.to(dtype)


def dtype(x) -> str:
    return standardize_dtype(x.dtype if hasattr(x, "dtype") else tensor(x).dtype)


def shape(x) -> tuple:
    """The shape as a tuple; on a symbolic tensor, unknown sizes are None."""
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


@keras_operation("core", "StopGradient", call="variable")
def stop_gradient(variable):
    return tensor(variable).detach()


@keras_operation("core", "Unstack")
def unstack(x, num=None, axis=0):
    return list(torch.unbind(tensor(x), dim=axis))


@keras_operation("core", "Scatter", call="indices values")
def scatter(indices, values, shape):
    indices, values = tensor(indices), tensor(values)
    result = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    index = tuple(indices.long().unbind(-1))
    return result.index_put(index, values, accumulate=True)


@keras_operation("core", "ScatterUpdate", call="inputs indices updates")
def scatter_update(inputs, indices, updates, reduction=None):
    inputs, indices = tensor(inputs), tensor(indices)
    index = tuple(indices.long().unbind(-1))
    updates = tensor(updates, like=inputs).to(inputs.dtype)
    if reduction is None:
        return inputs.index_put(index, updates)
    if reduction == "add":
        return inputs.index_put(index, updates, accumulate=True)
    raise ValueError(f"scatter_update's reduction must be None or 'add'; got {reduction!r}.")


@keras_operation("core", "Slice", call="inputs start_indices")
def slice(inputs, start_indices, shape):  # noqa: A001 (Keras's name)
    inputs = tensor(inputs)
    starts = [int(s) for s in tensor(start_indices).tolist()]
    return inputs[tuple(builtins.slice(s, s + n) for s, n in zip(starts, shape))]


@keras_operation("core", "SliceUpdate", call="inputs start_indices updates")
def slice_update(inputs, start_indices, updates):
    inputs, updates = tensor(inputs), tensor(updates)
    starts = [int(s) for s in tensor(start_indices).tolist()]
    key = tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))
    result = inputs.clone()
    result[key] = updates.to(inputs.dtype)
    return result



@eager_only
def cond(pred, true_fn, false_fn):
    return true_fn() if bool(pred) else false_fn()


@eager_only
def switch(index, branches, *operands):
    index = max(0, min(int(index), len(branches) - 1))
    return branches[index](*operands)


@eager_only
def fori_loop(lower, upper, body_fun, init_val):
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


@eager_only
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    from ..graph import nest

    is_tuple = isinstance(loop_vars, (tuple, list))
    values = tuple(loop_vars) if is_tuple else (loop_vars,)
    values = nest.pack_like(values, [_leaf_tensor(v) for v in nest.flatten(values)])  # as Keras
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and bool(cond(*values)):
        values = body(*values)
        values = tuple(values) if is_tuple else (values,)
        steps += 1
    return values if is_tuple else values[0]


@eager_only
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    from ..graph import nest

    leaves = [tensor(leaf) for leaf in nest.flatten(xs)] if xs is not None else []
    steps = length if not leaves else len(leaves[0])
    carry = nest.pack_like(init, [_leaf_tensor(leaf) for leaf in nest.flatten(init)])
    outputs = []
    for i in (reversed(range(steps)) if reverse else range(steps)):
        x = None if xs is None else nest.pack_like(xs, [leaf[i] for leaf in leaves])
        carry, y = f(carry, x)
        outputs.append(y)
    if reverse:
        outputs.reverse()
    if not outputs or outputs[0] is None:
        return carry, None
    return carry, nest.pack_like(outputs[0], _stack_columns(outputs))


def _leaf_tensor(leaf):
    return None if leaf is None else tensor(leaf)


def _stack_columns(outputs: list) -> list:
    """Each leaf of the per-step outputs stacked along a new first axis (numbers as tensors)."""
    from ..graph import nest

    return [torch.stack([tensor(leaf) for leaf in column])
            for column in zip(*(nest.flatten(y) for y in outputs))]


@eager_only
def map(f, xs):  # noqa: A001 (Keras's name)
    from ..graph import nest

    leaves = [tensor(leaf) for leaf in nest.flatten(xs)]
    outputs = [f(nest.pack_like(xs, [leaf[i] for leaf in leaves])) for i in range(len(leaves[0]))]
    return nest.pack_like(outputs[0], _stack_columns(outputs))


@eager_only
def vectorized_map(function, elements):
    return torch.vmap(function)(elements)


@eager_only
def associative_scan(f, elems, reverse=False, axis=0):
    from ..graph import nest

    leaves = [tensor(leaf) for leaf in nest.flatten(elems)]
    steps = leaves[0].shape[axis]
    order = list(reversed(range(steps))) if reverse else list(range(steps))
    pick = [[leaf.select(axis, i) for leaf in leaves] for i in order]
    results = [pick[0]]
    for item in pick[1:]:
        combined = f(nest.pack_like(elems, results[-1]), nest.pack_like(elems, item))
        results.append(nest.flatten(combined))
    if reverse:
        results.reverse()
    return nest.pack_like(elems, [torch.stack(column, dim=axis) for column in zip(*results)])


def custom_gradient(f):
    """`f(*args)` returns `(output, grad_fn)`; the gradient with respect to the arguments is
    `grad_fn(upstream)`, the upstream gradient passed positionally (Keras's torch form
    `def grad(*args, upstream=None)` reads it from `args`)."""

    class _Custom(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *args):
            with torch.enable_grad():
                output, grad_fn = f(*args)
            ctx.grad_fn = grad_fn
            return output.detach() if isinstance(output, torch.Tensor) else output

        @staticmethod
        def backward(ctx, upstream):
            grads = ctx.grad_fn(upstream)
            return grads if isinstance(grads, tuple) else (grads,)

    def apply(*args):
        return _Custom.apply(*args)

    return apply
