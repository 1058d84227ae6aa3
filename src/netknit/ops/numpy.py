"""`keras.ops`' NumPy-like functions, on torch tensors (and recorded on symbolic ones).

Each function has Keras's name, signature and result dtype; Keras's operation class names (for
configs) are the first argument of `keras_operation`.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np
import torch
import torch.nn.functional as F

from .core import as_float, tensor, to_torch_dtype
from .operation import OPERATIONS, Operation, eager_only, keras_operation

_BROADCAST_FIX = ("give the inputs shapes that broadcast: equal sizes, or 1, on each axis (e.g. a "
                  "Dense or Reshape on one of them)")
_SMALL_INTEGERS = (torch.bool, torch.int8, torch.int16, torch.uint8, torch.int32)


def _op(class_name: str, call: str = "x", fix: str | None = None, base: type = Operation):
    return keras_operation("numpy", class_name, call, fix, base)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _tensors(x1, x2):
    """Both as tensors on one device; a Python number takes part in dtype promotion as Keras's
    weak type does (an int32 tensor with 2 stays int32, with 2.5 becomes float32)."""
    like = x1 if isinstance(x1, torch.Tensor) else x2 if isinstance(x2, torch.Tensor) else None
    return tensor(x1, like), tensor(x2, like)


_BIT64_TO_BIT32 = {torch.int64: torch.int32, torch.uint64: torch.uint32,
                   torch.float64: torch.float32, torch.complex128: torch.complex64}


def _keras_result_type(a: torch.dtype, b: torch.dtype) -> torch.dtype:
    """Keras's `result_type(a, b)` for two tensor dtypes: the promoted type, a 64-bit result in
    32 bits (as Keras aligns with JAX), and integers with floats in the float type."""
    if a.is_floating_point != b.is_floating_point and not (a.is_complex or b.is_complex):
        result = a if a.is_floating_point else b
    else:
        try:
            result = torch.promote_types(a, b)
        except RuntimeError:  # torch does not promote uint16/32/64; NumPy's rule does
            result = to_torch_dtype(np.promote_types(str(a)[6:], str(b)[6:]))
    return _BIT64_TO_BIT32.get(result, result)


def _promoted(x1: torch.Tensor, x2: torch.Tensor):
    """Both in Keras's result type where their dtypes differ (products such as `matmul`)."""
    if x1.dtype == x2.dtype:
        return x1, x2
    dtype = _keras_result_type(x1.dtype, x2.dtype)
    return x1.to(dtype), x2.to(dtype)


def _product(function, x1, x2):
    """`function(x1, x2)` for products (`matmul`, `dot`, ...): inputs of two dtypes in Keras's
    result type, bool ones computed in float32 and given back as bool, as in Keras."""
    x1, x2 = _tensors(x1, x2)
    if x1.dtype != x2.dtype:
        x1, x2 = _promoted(x1, x2)
    if x1.dtype is torch.bool:
        return function(x1.to(torch.float32), x2.to(torch.float32)) != 0
    return function(x1, x2)


def _accumulate_dtype(x: torch.Tensor):
    # Keras sums bool and small integers in int32; torch would use int64.
    return torch.int32 if x.dtype in _SMALL_INTEGERS else None


def _float_unary(class_name: str, name: str, function):
    def unary(x):
        return function(as_float(tensor(x)))

    unary.__name__ = unary.__qualname__ = name
    return _op(class_name)(unary)


def _unary(class_name: str, name: str, function):
    def unary(x):
        return function(tensor(x))

    unary.__name__ = unary.__qualname__ = name
    return _op(class_name)(unary)


def _binary(class_name: str, name: str, function, fix: str = _BROADCAST_FIX, to_float=False):
    def binary(x1, x2):
        x1, x2 = _tensors(x1, x2)
        if to_float:
            x1, x2 = as_float(x1), as_float(x2)
        return function(x1, x2)

    binary.__name__ = binary.__qualname__ = name
    return _op(class_name, "x1 x2", fix)(binary)


# ----------------------------------------------------------------------------- elementwise

exp = _float_unary("Exp", "exp", torch.exp)
exp2 = _float_unary("Exp2", "exp2", torch.exp2)
expm1 = _float_unary("Expm1", "expm1", torch.expm1)
log = _float_unary("Log", "log", torch.log)
log10 = _float_unary("Log10", "log10", torch.log10)
log1p = _float_unary("Log1p", "log1p", torch.log1p)
log2 = _float_unary("Log2", "log2", torch.log2)
sqrt = _float_unary("Sqrt", "sqrt", torch.sqrt)
cbrt = _float_unary("Cbrt", "cbrt", lambda x: torch.sign(x) * torch.abs(x) ** (1.0 / 3.0))
sin = _float_unary("Sin", "sin", torch.sin)
cos = _float_unary("Cos", "cos", torch.cos)
tan = _float_unary("Tan", "tan", torch.tan)
arcsin = _float_unary("Arcsin", "arcsin", torch.arcsin)
arccos = _float_unary("Arccos", "arccos", torch.arccos)
arctan = _float_unary("Arctan", "arctan", torch.arctan)
sinh = _float_unary("Sinh", "sinh", torch.sinh)
cosh = _float_unary("Cosh", "cosh", torch.cosh)
tanh = _float_unary("Tanh", "tanh", torch.tanh)
arcsinh = _float_unary("Arcsinh", "arcsinh", torch.arcsinh)
arccosh = _float_unary("Arccosh", "arccosh", torch.arccosh)
arctanh = _float_unary("Arctanh", "arctanh", torch.arctanh)
reciprocal = _float_unary("Reciprocal", "reciprocal", torch.reciprocal)
deg2rad = _float_unary("Deg2rad", "deg2rad", torch.deg2rad)
rad2deg = _float_unary("Rad2deg", "rad2deg", torch.rad2deg)
sinc = _float_unary("Sinc", "sinc", torch.sinc)
i0 = _float_unary("I0", "i0", torch.i0)
floor = _float_unary("Floor", "floor", torch.floor)
ceil = _float_unary("Ceil", "ceil", torch.ceil)
fabs = _float_unary("Fabs", "fabs", torch.abs)

negative = _unary("Negative", "negative", operator.neg)
square = _unary("Square", "square", lambda x: x * x)
sign = _unary("Sign", "sign", torch.sign)
trunc = _unary("Trunc", "trunc", lambda x: torch.trunc(x) if x.is_floating_point() else x)
conj = _unary("Conj", "conj", torch.conj)
conjugate = _unary("Conjugate", "conjugate", torch.conj)
real = _unary("Real", "real", lambda x: torch.real(x) if x.is_complex() else x)
imag = _unary("Imag", "imag", lambda x: torch.imag(x) if x.is_complex() else torch.zeros_like(x))
angle = _float_unary("Angle", "angle", torch.angle)
copy = _unary("Copy", "copy", torch.clone)
logical_not = _unary("LogicalNot", "logical_not", torch.logical_not)
isnan = _unary("Isnan", "isnan", torch.isnan)
isinf = _unary("Isinf", "isinf", torch.isinf)
isfinite = _unary("Isfinite", "isfinite", torch.isfinite)
isneginf = _unary("Isneginf", "isneginf", torch.isneginf)
isposinf = _unary("Isposinf", "isposinf", torch.isposinf)
isreal = _unary("Isreal", "isreal", torch.isreal)
signbit = _unary("Signbit", "signbit", lambda x: torch.signbit(as_float(x)))
bitwise_invert = _unary("BitwiseInvert", "bitwise_invert", torch.bitwise_not)
bitwise_not = _unary("BitwiseNot", "bitwise_not", torch.bitwise_not)
ravel = _unary("Ravel", "ravel", torch.ravel)


def _absolute(x):
    return x if x.dtype is torch.bool else torch.abs(x)


absolute = _unary("Absolute", "absolute", _absolute)


def abs(x):  # noqa: A001 (Keras's name)
    """`absolute`, which it records, as in Keras."""
    return absolute(x)


OPERATIONS["Abs"] = absolute.operation  # Keras also has a class of that name


@_op("Round")
def round(x, decimals=0):  # noqa: A001 (Keras's name)
    x = tensor(x)
    if not x.is_floating_point():
        return x
    return torch.round(x, decimals=decimals)


add = _binary("Add", "add", operator.add)
subtract = _binary("Subtract", "subtract", operator.sub)
multiply = _binary("Multiply", "multiply", operator.mul)
divide = _binary("Divide", "divide", operator.truediv)
true_divide = _binary("TrueDivide", "true_divide", operator.truediv)
floor_divide = _binary("FloorDivide", "floor_divide", operator.floordiv)
mod = _binary("Mod", "mod", operator.mod)
power = _binary("Power", "power", operator.pow)
maximum = _binary("Maximum", "maximum", torch.maximum)
minimum = _binary("Minimum", "minimum", torch.minimum)
fmax = _binary("Fmax", "fmax", torch.fmax)
fmin = _binary("Fmin", "fmin", torch.fmin)
fmod = _binary("Fmod", "fmod", torch.fmod)
arctan2 = _binary("Arctan2", "arctan2", torch.atan2, to_float=True)
hypot = _binary("Hypot", "hypot", torch.hypot, to_float=True)
logaddexp = _binary("Logaddexp", "logaddexp", torch.logaddexp, to_float=True)
logaddexp2 = _binary("Logaddexp2", "logaddexp2", torch.logaddexp2, to_float=True)
nextafter = _binary("Nextafter", "nextafter", torch.nextafter, to_float=True)
gcd = _binary("Gcd", "gcd", torch.gcd)
lcm = _binary("Lcm", "lcm", torch.lcm)
equal = _binary("Equal", "equal", torch.eq)
not_equal = _binary("NotEqual", "not_equal", torch.ne)
less = _binary("Less", "less", torch.lt)
less_equal = _binary("LessEqual", "less_equal", torch.le)
greater = _binary("Greater", "greater", torch.gt)
greater_equal = _binary("GreaterEqual", "greater_equal", torch.ge)
logical_and = _binary("LogicalAnd", "logical_and", torch.logical_and)
logical_or = _binary("LogicalOr", "logical_or", torch.logical_or)
logical_xor = _binary("LogicalXor", "logical_xor", torch.logical_xor)


def _integer_binary(class_name: str, name: str, function):
    def binary(x, y):
        x, y = _tensors(x, y)
        return function(x, y)

    binary.__name__ = binary.__qualname__ = name
    return _op(class_name, "x y")(binary)


bitwise_and = _integer_binary("BitwiseAnd", "bitwise_and", torch.bitwise_and)
bitwise_or = _integer_binary("BitwiseOr", "bitwise_or", torch.bitwise_or)
bitwise_xor = _integer_binary("BitwiseXor", "bitwise_xor", torch.bitwise_xor)
bitwise_left_shift = _integer_binary("BitwiseLeftShift", "bitwise_left_shift",
                                     torch.bitwise_left_shift)
bitwise_right_shift = _integer_binary("BitwiseRightShift", "bitwise_right_shift",
                                      torch.bitwise_right_shift)
left_shift = _integer_binary("LeftShift", "left_shift", torch.bitwise_left_shift)
right_shift = _integer_binary("RightShift", "right_shift", torch.bitwise_right_shift)


@_op("Matmul", "x1 x2", fix="make the last axis of the first input equal to the second-to-last "
                            "axis of the second (e.g. with a Dense or Reshape)")
def matmul(x1, x2):
    return _product(torch.matmul, x1, x2)


@_op("DivideNoNan", "x1 x2")
def divide_no_nan(x1, x2):
    x1, x2 = _tensors(x1, x2)
    safe = torch.where(x2 == 0, torch.ones_like(x2), x2)
    return torch.where(x2 == 0, torch.zeros((), dtype=torch.float32, device=x1.device),
                       x1 / safe)


@_op("Heaviside", "x1 x2")
def heaviside(x1, x2):
    x1, x2 = _tensors(x1, x2)
    dtype = torch.promote_types(as_float(x1).dtype, as_float(x2).dtype)
    return torch.heaviside(x1.to(dtype), x2.to(dtype))


@_op("Ldexp", "x1 x2")
def ldexp(x1, x2):
    x1, x2 = _tensors(x1, x2)
    return as_float(x1) * torch.pow(2.0, x2)


@_op("Clip")
def clip(x, x_min, x_max):
    x = tensor(x)
    floats = builtins.any(isinstance(b, float) for b in (x_min, x_max))
    if floats and not x.is_floating_point():
        x = x.to(torch.float32)
    if x.dtype is torch.bool:
        x = x.to(torch.int32)
    return torch.clamp(x, x_min, x_max)


@_op("Where", "condition x1 x2")
def where(condition, x1=None, x2=None):
    condition = tensor(condition)
    if x1 is None and x2 is None:
        return torch.nonzero(condition).T  # int64, as Keras's `where` (`nonzero` is int32)
    x1, x2 = _tensors(x1, x2)
    return torch.where(condition.bool(), x1, x2)


# ----------------------------------------------------------------------------- reductions

def _reduce(class_name: str, name: str, function, to_float: bool = False):
    """`function(x, dims, keepdims)` as Keras's `name(x, axis=None, keepdims=False)`."""

    def reduce(x, axis=None, keepdims=False):
        x = tensor(x)
        if to_float:
            x = as_float(x)
        return function(x, _dims(x, axis), keepdims)

    reduce.__name__ = reduce.__qualname__ = name
    return _op(class_name)(reduce)


def _dims(x: torch.Tensor, axis) -> tuple:
    if axis is None:
        return tuple(range(x.ndim))
    return tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)


def _over_dims(function):
    """A single-axis reduction over several axes: those axes moved last and flattened."""

    def apply(x, dims, keepdims):
        if x.ndim == 0:
            return function(x.reshape(1), -1, False).reshape(())
        dims = sorted(d % x.ndim for d in dims)
        kept = [d for d in range(x.ndim) if d not in dims]
        flat = x.permute(*kept, *dims).reshape(*[x.shape[d] for d in kept], -1)
        result = function(flat, -1, False)
        if keepdims:
            for d in dims:
                result = result.unsqueeze(d)
        return result

    return apply


@_op("Sum")
def sum(x, axis=None, keepdims=False):  # noqa: A001 (Keras's name)
    x = tensor(x)
    return torch.sum(x, dim=_dims(x, axis), keepdim=keepdims, dtype=_accumulate_dtype(x))


@_op("Prod")
def prod(x, axis=None, keepdims=False, dtype=None):
    x = tensor(x)
    dtype = to_torch_dtype(dtype) or _accumulate_dtype(x)
    return _over_dims(lambda t, d, k: torch.prod(t, dim=d, keepdim=k, dtype=dtype))(
        x, _dims(x, axis), keepdims)


mean = _reduce("Mean", "mean", lambda x, d, k: torch.mean(x, dim=d, keepdim=k), to_float=True)
std = _reduce("Std", "std", lambda x, d, k: torch.std(x, dim=d, correction=0, keepdim=k),
              to_float=True)
var = _reduce("Var", "var", lambda x, d, k: torch.var(x, dim=d, correction=0, keepdim=k),
              to_float=True)
amax = _reduce("Amax", "amax", lambda x, d, k: torch.amax(x, dim=d, keepdim=k))
amin = _reduce("Amin", "amin", lambda x, d, k: torch.amin(x, dim=d, keepdim=k))
all = _reduce("All", "all", lambda x, d, k: torch.all(x, dim=d, keepdim=k))  # noqa: A001
any = _reduce("Any", "any", lambda x, d, k: torch.any(x, dim=d, keepdim=k))  # noqa: A001
ptp = _reduce("Ptp", "ptp", lambda x, d, k: torch.amax(x, dim=d, keepdim=k)
              - torch.amin(x, dim=d, keepdim=k))
median = _reduce("Median", "median", _over_dims(
    lambda x, d, k: torch.quantile(x, 0.5, dim=d, keepdim=k)), to_float=True)
nanmedian = _reduce("Nanmedian", "nanmedian", _over_dims(
    lambda x, d, k: torch.nanquantile(x, 0.5, dim=d, keepdim=k)), to_float=True)
nansum = _reduce("Nansum", "nansum", lambda x, d, k: torch.sum(
    torch.where(torch.isnan(x), 0, x), dim=d, keepdim=k, dtype=_accumulate_dtype(x)))
nanprod = _reduce("Nanprod", "nanprod", _over_dims(lambda x, d, k: torch.prod(
    torch.where(torch.isnan(x), 1, x), dim=d, keepdim=k, dtype=_accumulate_dtype(x))))
nanmean = _reduce("Nanmean", "nanmean", lambda x, d, k: torch.nanmean(x, dim=d, keepdim=k),
                  to_float=True)
nanmax = _reduce("Nanmax", "nanmax", lambda x, d, k: torch.amax(
    torch.where(torch.isnan(x), -math.inf, x), dim=d, keepdim=k) if x.is_floating_point()
    else torch.amax(x, dim=d, keepdim=k))
nanmin = _reduce("Nanmin", "nanmin", lambda x, d, k: torch.amin(
    torch.where(torch.isnan(x), math.inf, x), dim=d, keepdim=k) if x.is_floating_point()
    else torch.amin(x, dim=d, keepdim=k))


def _nanvar(x, dims, keepdims):
    valid = ~torch.isnan(x)
    count = valid.sum(dim=dims, keepdim=True)
    center = torch.where(valid, x, 0).sum(dim=dims, keepdim=True) / count
    squares = torch.where(valid, (x - center) ** 2, 0).sum(dim=dims, keepdim=True) / count
    return squares if keepdims else squares.squeeze(dims)


nanvar = _reduce("Nanvar", "nanvar", _nanvar, to_float=True)
nanstd = _reduce("Nanstd", "nanstd", lambda x, d, k: torch.sqrt(_nanvar(x, d, k)), to_float=True)


@_op("Max")
def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 (Keras's name)
    x = tensor(x)
    result = torch.amax(x, dim=_dims(x, axis), keepdim=keepdims)
    return result if initial is None else torch.clamp(result, min=initial)


@_op("Min")
def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 (Keras's name)
    x = tensor(x)
    result = torch.amin(x, dim=_dims(x, axis), keepdim=keepdims)
    return result if initial is None else torch.clamp(result, max=initial)


def _arg_reduce(class_name: str, name: str, function, ignore_nan: float | None = None):
    def arg_reduce(x, axis=None, keepdims=False):
        x = tensor(x)
        if x.dtype is torch.bool:  # torch's argmax takes no bool
            x = x.to(torch.uint8)
        if ignore_nan is not None and x.is_floating_point():
            x = torch.where(torch.isnan(x), ignore_nan, x)
        if axis is None:
            result = function(x.reshape(-1), 0)
            return result.reshape((1,) * x.ndim if keepdims else ()).to(torch.int32)
        return function(x, axis, keepdim=keepdims).to(torch.int32)

    arg_reduce.__name__ = arg_reduce.__qualname__ = name
    return _op(class_name)(arg_reduce)


argmax = _arg_reduce("Argmax", "argmax", torch.argmax)
argmin = _arg_reduce("Argmin", "argmin", torch.argmin)
nanargmax = _arg_reduce("Nanargmax", "nanargmax", torch.argmax, ignore_nan=-math.inf)
nanargmin = _arg_reduce("Nanargmin", "nanargmin", torch.argmin, ignore_nan=math.inf)


@_op("CountNonzero")
def count_nonzero(x, axis=None):
    x = tensor(x)
    return torch.count_nonzero(x, dim=_dims(x, axis)).to(torch.int32)


@_op("Average", "x weights")
def average(x, axis=None, weights=None):
    x = as_float(tensor(x))
    if weights is None:
        return torch.mean(x, dim=_dims(x, axis))
    weights = tensor(weights, like=x).to(x.dtype)
    if weights.ndim == 1 and x.ndim > 1 and axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    dims = _dims(x, axis)
    return torch.sum(x * weights, dim=dims) / torch.sum(weights.expand_as(x), dim=dims)


def _quantiles(x, q, axis, method, keepdims, function):
    x = as_float(tensor(x))
    q = tensor(q, like=x).to(x.dtype)
    return _over_dims(lambda t, d, k: function(t, q, dim=d, keepdim=k, interpolation=method))(
        x, _dims(x, axis), keepdims)


@_op("Quantile", "x q")
def quantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantiles(x, q, axis, method, keepdims, torch.quantile)


@_op("Percentile", "x q")
def percentile(x, q, axis=None, method="linear", keepdims=False):
    return _quantiles(x, tensor(q) / 100.0, axis, method, keepdims, torch.quantile)


@_op("Nanquantile", "x q")
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantiles(x, q, axis, method, keepdims, torch.nanquantile)


@_op("Nanpercentile", "x q")
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return _quantiles(x, tensor(q) / 100.0, axis, method, keepdims, torch.nanquantile)


def _cumulative(class_name: str, name: str, function, neutral: float | None = None):
    def cumulative(x, axis=None, dtype=None):
        x = tensor(x)
        if neutral is not None and x.is_floating_point():
            x = torch.where(torch.isnan(x), neutral, x)
        if axis is None:
            x, axis = x.reshape(-1), 0
        return function(x, dim=axis, dtype=to_torch_dtype(dtype) or _accumulate_dtype(x))

    cumulative.__name__ = cumulative.__qualname__ = name
    return _op(class_name)(cumulative)


cumsum = _cumulative("Cumsum", "cumsum", torch.cumsum)
cumprod = _cumulative("Cumprod", "cumprod", torch.cumprod)
nancumsum = _cumulative("Nancumsum", "nancumsum", torch.cumsum, neutral=0.0)
nancumprod = _cumulative("Nancumprod", "nancumprod", torch.cumprod, neutral=1.0)


# ----------------------------------------------------------------------------- shapes

@_op("Reshape")
def reshape(x, newshape):
    newshape = (newshape,) if isinstance(newshape, int) else tuple(
        -1 if d is None else d for d in newshape)
    return torch.reshape(tensor(x), newshape)


@_op("Transpose")
def transpose(x, axes=None):
    x = tensor(x)
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


@_op("ExpandDims")
def expand_dims(x, axis):
    x = tensor(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        x = x.unsqueeze(a)
    return x


@_op("Squeeze")
def squeeze(x, axis=None):
    x = tensor(x)
    return torch.squeeze(x) if axis is None else torch.squeeze(x, dim=_axis(axis))


@_op("Concatenate", "xs", fix="make every input's size equal on all axes but the joined one "
                             "(e.g. a Reshape or Dense on one of them)")
def concatenate(xs, axis=0):
    xs = [tensor(x) for x in xs]
    if axis is None:
        xs, axis = [x.reshape(-1) for x in xs], 0
    return torch.cat(xs, dim=axis)


@_op("Stack", fix="give every input the same shape")
def stack(x, axis=0):
    return torch.stack([tensor(t) for t in x], dim=axis)


@_op("Hstack", "xs")
def hstack(xs):
    return torch.hstack([tensor(x) for x in xs])


@_op("Vstack", "xs")
def vstack(xs):
    return torch.vstack([tensor(x) for x in xs])


@_op("Dstack", "xs")
def dstack(xs):
    return torch.dstack([tensor(x) for x in xs])


@_op("Append", "x1 x2")
def append(x1, x2, axis=None):
    x1, x2 = _tensors(x1, x2)
    if axis is None:
        return torch.cat([x1.reshape(-1), x2.reshape(-1)])
    return torch.cat([x1, x2], dim=axis)


def _sections(indices_or_sections):
    return (list(indices_or_sections) if isinstance(indices_or_sections, (list, tuple))
            else indices_or_sections)


@_op("Split")
def split(x, indices_or_sections, axis=0):
    x = tensor(x)
    sections = _sections(indices_or_sections)
    if isinstance(sections, int) and x.shape[axis] % sections:
        raise ValueError(f"split cannot cut an axis of size {x.shape[axis]} into {sections} equal "
                         "parts; use array_split for unequal parts.")
    return list(torch.tensor_split(x, sections, dim=axis))


@_op("ArraySplit")
def array_split(x, indices_or_sections, axis=0):
    return list(torch.tensor_split(tensor(x), _sections(indices_or_sections), dim=axis))


@_op("Hsplit")
def hsplit(x, indices_or_sections):
    x = tensor(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


@_op("Vsplit")
def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


@_op("Dsplit")
def dsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=2)


@_op("Tile")
def tile(x, repeats):
    repeats = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return torch.tile(tensor(x), repeats)


@_op("Repeat")
def repeat(x, repeats, axis=None):
    repeats = repeats if isinstance(repeats, int) else tensor(repeats)
    return torch.repeat_interleave(tensor(x), repeats, dim=axis)


@_op("Flip")
def flip(x, axis=None):
    x = tensor(x)
    return torch.flip(x, dims=_dims(x, axis))


@_op("Fliplr")
def fliplr(x):
    return torch.fliplr(tensor(x))


@_op("Flipud")
def flipud(x):
    return torch.flipud(tensor(x))


@_op("Roll")
def roll(x, shift, axis=None):
    return torch.roll(tensor(x), shifts=_axis(shift), dims=_axis(axis))


@_op("Rot90", "array")
def rot90(array, k=1, axes=(0, 1)):
    return torch.rot90(tensor(array), k, dims=list(axes))


@_op("Pad", "x constant_values")
def pad(x, pad_width, mode="constant", constant_values=None):
    x = tensor(x)
    widths = _pad_widths(pad_width, x.ndim)
    if mode == "constant":
        flat = [w for before, after in reversed(widths) for w in (before, after)]
        return F.pad(x, flat, value=0 if constant_values is None else constant_values)
    if constant_values is not None:
        raise ValueError(f"pad's constant_values is only for mode 'constant'; got mode {mode!r}.")
    for axis, (before, after) in enumerate(widths):
        if before or after:
            x = torch.index_select(x, axis, _pad_index(x.shape[axis], before, after, mode,
                                                       x.device))
    return x


def _pad_widths(pad_width, rank: int) -> list:
    if isinstance(pad_width, int):
        return [(pad_width, pad_width)] * rank
    widths = [tuple(w) if isinstance(w, (list, tuple)) else (w, w) for w in pad_width]
    if len(widths) == 1:
        return widths * rank
    if len(widths) == 2 and rank != 2 and builtins.all(isinstance(w, int) for w in pad_width):
        return [tuple(pad_width)] * rank
    if len(widths) != rank:
        raise ValueError(f"pad_width has {len(widths)} entries for a tensor of rank {rank}: give "
                         "one (before, after) pair per axis.")
    return widths


def _pad_index(size: int, before: int, after: int, mode: str, device) -> torch.Tensor:
    index = torch.arange(-before, size + after, device=device)
    if mode == "edge":
        return index.clamp(0, size - 1)
    if mode == "reflect":
        period = 2 * (size - 1) if size > 1 else 1
        index = index.remainder(period)
        return torch.where(index >= size, period - index, index)
    if mode == "symmetric":
        index = index.remainder(2 * size)
        return torch.where(index >= size, 2 * size - 1 - index, index)
    raise ValueError(f"pad's mode must be 'constant', 'edge', 'reflect' or 'symmetric'; got "
                     f"{mode!r}.")


@_op("BroadcastTo")
def broadcast_to(x, shape):
    return torch.broadcast_to(tensor(x), tuple(shape))


@_op("Moveaxis")
def moveaxis(x, source, destination):
    return torch.movedim(tensor(x), _axis(source), _axis(destination))


@_op("Swapaxes")
def swapaxes(x, axis1, axis2):
    return torch.swapaxes(tensor(x), axis1, axis2)


@_op("Diagonal")
def diagonal(x, offset=0, axis1=0, axis2=1):
    return torch.diagonal(tensor(x), offset=offset, dim1=axis1, dim2=axis2)


@_op("Diag")
def diag(x, k=0):
    return torch.diag(tensor(x), k)


@_op("Diagflat")
def diagflat(x, k=0):
    return torch.diagflat(tensor(x), k)


@_op("Trace")
def trace(x, offset=0, axis1=0, axis2=1):
    x = tensor(x)
    return torch.sum(torch.diagonal(x, offset=offset, dim1=axis1, dim2=axis2), dim=-1,
                     dtype=_accumulate_dtype(x))


@_op("Tril")
def tril(x, k=0):
    return torch.tril(tensor(x), k)


@_op("Triu")
def triu(x, k=0):
    return torch.triu(tensor(x), k)


# ----------------------------------------------------------------------------- creation

def zeros(shape, dtype=None):
    return torch.zeros(_shape(shape), dtype=to_torch_dtype(dtype) or torch.float32)


def ones(shape, dtype=None):
    return torch.ones(_shape(shape), dtype=to_torch_dtype(dtype) or torch.float32)


def empty(shape, dtype=None):
    return torch.empty(_shape(shape), dtype=to_torch_dtype(dtype) or torch.float32)


def _shape(shape) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


@_op("Full", "fill_value")
def full(shape, fill_value, dtype=None):
    fill = tensor(fill_value)
    dtype = to_torch_dtype(dtype) or torch.float32
    return (torch.zeros(_shape(shape), dtype=dtype, device=fill.device) + fill).to(dtype)


@_op("ZerosLike")
def zeros_like(x, dtype=None):
    return torch.zeros_like(tensor(x), dtype=to_torch_dtype(dtype))


@_op("OnesLike")
def ones_like(x, dtype=None):
    return torch.ones_like(tensor(x), dtype=to_torch_dtype(dtype))


@_op("EmptyLike")
def empty_like(x, dtype=None):
    return torch.empty_like(tensor(x), dtype=to_torch_dtype(dtype))


@_op("FullLike", "x fill_value")
def full_like(x, fill_value, dtype=None):
    x = tensor(x)
    dtype = to_torch_dtype(dtype) or x.dtype  # Keras keeps x's dtype: int32 with 2.5 holds 2
    return torch.zeros_like(x, dtype=dtype) + tensor(fill_value, like=x).to(dtype)


@_op("Array")
def array(x, dtype=None):
    result = tensor(x)
    return result if dtype is None else result.to(to_torch_dtype(dtype))


@_op("Arange", "start stop step")
def arange(start, stop=None, step=None, dtype=None):
    numbers = [v for v in (start, stop, step) if v is not None]
    if dtype is None:
        floats = builtins.any(isinstance(v, float) or (isinstance(v, torch.Tensor)
                                                       and v.is_floating_point())
                              for v in numbers)
        dtype = torch.float32 if floats else torch.int32
    numbers = [v.item() if isinstance(v, torch.Tensor) else v for v in numbers]
    if stop is None:
        numbers = [0, *numbers]
    if step is None:
        numbers = [*numbers, 1]
    return torch.arange(*numbers, dtype=to_torch_dtype(dtype))


@_op("Linspace", "start stop")
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    start, stop = (as_float(t) for t in _tensors(start, stop))
    divisor = (num - 1) if endpoint else num
    step = (stop - start) / builtins.max(divisor, 1)
    steps = torch.arange(num, dtype=start.dtype, device=start.device)
    steps = steps.reshape(-1, *([1] * builtins.max(start.ndim, stop.ndim)))
    samples = start + steps * step
    if endpoint and num > 1:
        samples[-1] = stop
    samples = torch.movedim(samples, 0, axis).to(to_torch_dtype(dtype) or samples.dtype)
    return (samples, step) if retstep else samples


@_op("Logspace", "start stop")
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    exponents = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    return torch.pow(float(base), exponents).to(to_torch_dtype(dtype) or exponents.dtype)


@_op("Geomspace", "start stop")
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    start, stop = (as_float(t) for t in _tensors(start, stop))
    sign = torch.sign(start)
    logs = linspace(torch.log10(start * sign), torch.log10(stop * sign), num,
                    endpoint=endpoint, axis=axis)
    return (sign * torch.pow(10.0, logs)).to(to_torch_dtype(dtype) or start.dtype)


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 (Keras's names)
    ones_matrix = torch.ones(N, N if M is None else M)
    return torch.triu(torch.tril(ones_matrix, k), k).to(to_torch_dtype(dtype) or torch.float32)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803 (Keras's names)
    return torch.tril(torch.ones(N, N if M is None else M), k).to(
        to_torch_dtype(dtype) or torch.float32)


class _Variadic(Operation):
    """An operation whose call takes any number of tensors (`einsum`, `meshgrid`)."""

    _leading: tuple = ()  # settings before the tensors in the function's signature

    def forward(self, *args, **kwargs):
        leading = [self._config[n] for n in self._leading]
        rest = {n: v for n, v in self._config.items() if n not in self._leading}
        return type(self).function(*leading, *args, **kwargs, **rest)


class _Einsum(_Variadic):
    _leading = ("subscripts",)


@_op("Einsum", "operands", fix="make the inputs' sizes agree with the equation", base=_Einsum)
def einsum(subscripts, *operands, **kwargs):
    return torch.einsum(subscripts, *(tensor(t) for t in operands))


@_op("Meshgrid", "x", base=_Variadic)
def meshgrid(*x, indexing="xy"):
    return list(torch.meshgrid(*(tensor(t) for t in x), indexing=indexing))


# ----------------------------------------------------------------------------- products

@_op("Dot", "x1 x2")
def dot(x1, x2):
    return _product(_dot, x1, x2)


def _dot(x1, x2):
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return torch.tensordot(x1, x2, dims=([-1], [-2 if x2.ndim > 1 else 0]))


@_op("Inner", "x1 x2")
def inner(x1, x2):
    return _product(_inner, x1, x2)


def _inner(x1, x2):
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return torch.tensordot(x1, x2, dims=([-1], [-1]))


@_op("Outer", "x1 x2")
def outer(x1, x2):
    x1, x2 = _tensors(x1, x2)
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


@_op("Vdot", "x1 x2")
def vdot(x1, x2):
    return _product(lambda a, b: torch.vdot(a.reshape(-1), b.reshape(-1)), x1, x2)


@_op("Tensordot", "x1 x2")
def tensordot(x1, x2, axes=2):
    axes = axes if isinstance(axes, int) else [list(a) if isinstance(a, (list, tuple)) else [a]
                                               for a in axes]
    return _product(lambda a, b: torch.tensordot(a, b, dims=axes), x1, x2)


@_op("Kron", "x1 x2")
def kron(x1, x2):
    return torch.kron(*_tensors(x1, x2))


@_op("Cross", "x1 x2")
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    x1, x2 = _tensors(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    result = torch.linalg.cross(torch.movedim(x1, axisa, -1), torch.movedim(x2, axisb, -1))
    return torch.movedim(result, -1, axisc)


# ----------------------------------------------------------------------------- indexing, sorting

@_op("Take", "x indices")
def take(x, indices, axis=None):
    x, indices = tensor(x), tensor(indices).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis %= x.ndim
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    picked = torch.index_select(x, axis, indices.reshape(-1))
    return picked.reshape(*x.shape[:axis], *indices.shape, *x.shape[axis + 1:])


@_op("TakeAlongAxis", "x indices")
def take_along_axis(x, indices, axis=None):
    return torch.take_along_dim(tensor(x), tensor(indices).long(), dim=axis)


@_op("Sort")
def sort(x, axis=-1):
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


@_op("Argsort")
def argsort(x, axis=-1):
    x = tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


@_op("Argpartition")
def argpartition(x, kth, axis=-1):
    # A full sort is one valid partition: everything before `kth` is no larger than it.
    return argsort(x, axis=axis)


@_op("SearchSorted", "sorted_sequence values")
def searchsorted(sorted_sequence, values, side="left"):
    sequence, values = _tensors(sorted_sequence, values)
    return torch.searchsorted(sequence, values.to(sequence.dtype), side=side).to(torch.int32)


@_op("Digitize", "x bins")
def digitize(x, bins):
    x, bins = _tensors(x, bins)
    return torch.bucketize(x, bins.to(x.dtype), right=True).to(torch.int32)


@_op("Bincount")
def bincount(x, weights=None, minlength=0, sparse=False):
    x = tensor(x).long()
    if x.ndim == 1:
        counts = torch.bincount(x, weights=None if weights is None else tensor(weights),
                                minlength=minlength)
        return counts if weights is not None else counts.to(torch.int32)
    length = builtins.max(int(x.max()) + 1 if x.numel() else 0, minlength)
    return torch.stack([bincount(row, None if weights is None else w, length)
                        for row, w in zip(x, weights if weights is not None else [None] * len(x))])


@eager_only
def unique(x, sorted=True, return_index=False, return_inverse=False,  # noqa: A002
           return_counts=False, axis=None, size=None, fill_value=None):
    x = tensor(x)
    values, inverse, counts = torch.unique(x, sorted=True, return_inverse=True,
                                           return_counts=True, dim=axis)
    if axis is None:
        x = x.reshape(-1)
        inverse = inverse.reshape(-1)
    results = [values]
    if return_index:
        positions = torch.arange(inverse.numel(), device=x.device)
        first = torch.full((len(values),), inverse.numel(), device=x.device)
        results.append(first.scatter_reduce(0, inverse, positions, "amin").to(torch.int32))
    if return_inverse:
        results.append(inverse.to(torch.int32))
    if return_counts:
        results.append(counts.to(torch.int32))
    if size is not None:
        results[0] = _fixed_size(results[0], size, fill_value)
    return results[0] if len(results) == 1 else tuple(results)


def _fixed_size(values: torch.Tensor, size: int, fill_value) -> torch.Tensor:
    if len(values) >= size:
        return values[:size]
    fill = values[-1:] if fill_value is None else torch.full((1,), fill_value, dtype=values.dtype)
    return torch.cat([values, fill.expand(size - len(values), *values.shape[1:])])


@eager_only
def nonzero(x):
    """The indices of the non-zero entries, one row per axis (int32)."""
    return torch.nonzero(tensor(x)).T.to(torch.int32)


@eager_only
def unravel_index(indices, shape):
    indices = tensor(indices)
    coordinates = []
    for size in reversed(tuple(shape)):
        coordinates.append(torch.remainder(indices, size).to(torch.int32))
        indices = torch.div(indices, size, rounding_mode="floor")
    return tuple(reversed(coordinates))


@_op("IsIn", "x1 x2")
def isin(x1, x2, assume_unique=False, invert=False):
    x1, x2 = _tensors(x1, x2)
    return torch.isin(x1, x2, assume_unique=assume_unique, invert=invert)


@_op("Isclose", "x1 x2 rtol atol")
def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    x1, x2 = _tensors(x1, x2)
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    return torch.isclose(x1.to(dtype), x2.to(dtype), rtol=rtol, atol=atol, equal_nan=equal_nan)


@_op("AllClose", "x1 x2")
def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


@_op("NanToNum")
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


@eager_only
def histogram(x, bins=10, range=None):  # noqa: A002 (Keras's name)
    x = as_float(tensor(x))
    low, high = (x.min().item(), x.max().item()) if range is None else range
    counts = torch.histc(x, bins=bins, min=low, max=high)
    return counts, torch.linspace(low, high, bins + 1, dtype=x.dtype)


@_op("Select", "condlist choicelist default")
def select(condlist, choicelist, default=0):
    result = tensor(default, like=tensor(choicelist[0]))
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = torch.where(tensor(condition).bool(), tensor(choice), result)
    return result


@_op("Corrcoef")
def corrcoef(x):
    return torch.corrcoef(as_float(tensor(x)))


@_op("Correlate", "x1 x2")
def correlate(x1, x2, mode="valid"):
    x1, x2 = (as_float(t) for t in _tensors(x1, x2))
    length = x2.shape[0]
    padding = {"valid": 0, "same": length // 2, "full": length - 1}.get(mode)
    if padding is None:
        raise ValueError(f"correlate's mode must be 'valid', 'same' or 'full'; got {mode!r}.")
    signal = F.pad(x1, (padding, padding - (1 - length % 2) if mode == "same" else padding))
    result = F.conv1d(signal[None, None], x2[None, None])[0, 0]
    return result.squeeze(0) if result.shape[0] == 1 else result  # one value: a scalar, as Keras


@_op("Diff", "a")
def diff(a, n=1, axis=-1):
    return torch.diff(tensor(a), n=n, dim=axis)


@_op("Trapezoid", "y")
def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = as_float(tensor(y))
    if x is None:
        return torch.trapezoid(y, dx=dx, dim=axis)
    return torch.trapezoid(y, tensor(x, like=y).to(y.dtype), dim=axis)


@_op("Vander")
def vander(x, N=None, increasing=False):  # noqa: N803 (Keras's name)
    return torch.vander(tensor(x), N=N, increasing=increasing)


@_op("View")
def view(x, dtype=None):
    x = tensor(x)
    return x if dtype is None else x.view(to_torch_dtype(dtype))


@_op("Size")
def size(x):
    return torch.tensor(tensor(x).numel(), dtype=torch.int64)


def ndim(x) -> int:
    return len(x.shape) if hasattr(x, "shape") else tensor(x).ndim


@_op("Slogdet")
def slogdet(x):
    return tuple(torch.linalg.slogdet(as_float(tensor(x))))


class _GetItem(Operation):
    def _symbolic_call(self, args: tuple, kwargs: dict):
        key = args[1]
        if builtins.any(isinstance(k, list) for k in (key if isinstance(key, tuple) else (key,))):
            # A config could not tell such a key from a tuple of indices, as in Keras.
            raise TypeError(
                f"Indexing a symbolic tensor with a list ({key!r}) is not supported. Index with "
                "ints, slices, None and `...`, or select the entries with a layer."
            )
        return super()._symbolic_call(args, kwargs)

    @staticmethod
    def saved_arguments(args: list) -> list:
        # A saved key `[slice, 0]` was the tuple `(slice, 0)`: one entry per axis.
        tensor_, key = args
        return [tensor_, tuple(key) if isinstance(key, list) else key]


@_op("GetItem", "x key", fix="index within the input's shape; the batch axis (the first) is best "
                            "left whole, with `x[:, ...]`", base=_GetItem)
def get_item(x, key):
    return tensor(x)[key]


# ----------------------------------------------------------------------------- windows

def _window_function(name: str, make):
    def window(x):
        return make(int(x)).to(torch.float32)

    window.__name__ = window.__qualname__ = name
    window.__doc__ = f"NumPy's `{name}` window of `x` points (symmetric), float32."
    return window


bartlett = _window_function("bartlett", lambda n: torch.bartlett_window(n, periodic=False,
                                                                        dtype=torch.float64))
blackman = _window_function("blackman", lambda n: torch.blackman_window(n, periodic=False,
                                                                        dtype=torch.float64))
hamming = _window_function("hamming", lambda n: torch.hamming_window(n, periodic=False,
                                                                     dtype=torch.float64))
hanning = _window_function("hanning", lambda n: torch.hann_window(n, periodic=False,
                                                                  dtype=torch.float64))


def kaiser(x, beta):
    """NumPy's Kaiser window of `x` points with shape parameter `beta`, float32."""
    return torch.kaiser_window(int(x), periodic=False, beta=float(beta),
                               dtype=torch.float64).to(torch.float32)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """`pyfunc` mapped over the leading axis of its tensor arguments, with torch.vmap."""
    if signature is not None:
        raise ValueError("vectorize's `signature` is not supported; vectorize over the leading "
                         "axis, or write the function with broadcasting tensor operations.")
    excluded = set(excluded or ())

    def vectorized(*args, **kwargs):
        dims = tuple(None if i in excluded else 0 for i in range(len(args)))
        return torch.vmap(lambda *a: pyfunc(*a, **kwargs), in_dims=dims)(
            *(a if i in excluded else tensor(a) for i, a in enumerate(args)))

    return vectorized
