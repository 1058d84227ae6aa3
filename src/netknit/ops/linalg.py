"""`keras.ops`' linear algebra (`keras.ops.linalg`), on torch.linalg."""

from __future__ import annotations

import warnings

import torch

from ..graph import nest
from .core import as_float, tensor
from .operation import eager_only, keras_operation


def _op(class_name: str, call: str = "x"):
    return keras_operation("linalg", class_name, call)


@_op("Cholesky")
def cholesky(x, upper=False):
    return torch.linalg.cholesky(as_float(tensor(x)), upper=upper)


@_op("CholeskyInverse")
def cholesky_inverse(x, upper=False):
    return torch.cholesky_inverse(as_float(tensor(x)), upper=upper)


@_op("Det")
def det(x):
    return torch.linalg.det(as_float(tensor(x)))


@_op("Eig")
def eig(x):
    return tuple(torch.linalg.eig(as_float(tensor(x))))


@_op("Eigh")
def eigh(x):
    return tuple(torch.linalg.eigh(as_float(tensor(x))))


@_op("Inv")
def inv(x):
    return torch.linalg.inv(as_float(tensor(x)))


@_op("Lstsq", "a b")
def lstsq(a, b, rcond=None):
    a = as_float(tensor(a))
    return torch.linalg.lstsq(a, tensor(b, like=a).to(a.dtype), rcond=rcond).solution


@_op("LuFactor")
def lu_factor(x):
    lu, pivots = torch.linalg.lu_factor(as_float(tensor(x)))
    return lu, pivots - 1  # zero-based pivots, as Keras gives them


@_op("MatrixRank")
def matrix_rank(x, tol=None):
    return torch.linalg.matrix_rank(as_float(tensor(x)), atol=tol).to(torch.int32)


@_op("Norm")
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 (Keras's name)
    axis = tuple(axis) if isinstance(axis, list) else axis
    return torch.linalg.norm(as_float(tensor(x)), ord=ord, dim=axis, keepdim=keepdims)


@_op("Pinv")
def pinv(x, rcond=None):
    x = as_float(tensor(x))
    return torch.linalg.pinv(x) if rcond is None else torch.linalg.pinv(x, rtol=rcond)


@_op("Qr")
def qr(x, mode="reduced"):
    return tuple(torch.linalg.qr(as_float(tensor(x)), mode=mode))


@_op("Solve", "a b")
def solve(a, b):
    a = as_float(tensor(a))
    return torch.linalg.solve(a, tensor(b, like=a).to(a.dtype))


@_op("SolveTriangular", "a b")
def solve_triangular(a, b, lower=False):
    a = as_float(tensor(a))
    b = tensor(b, like=a).to(a.dtype)
    vector = b.ndim == a.ndim - 1
    result = torch.linalg.solve_triangular(a, b.unsqueeze(-1) if vector else b, upper=not lower)
    return result.squeeze(-1) if vector else result


@_op("SVD")
def svd(x, full_matrices=True, compute_uv=True):
    x = as_float(tensor(x))
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))


@eager_only
def jvp(fun, primals, tangents, has_aux=False):
    """The forward-mode Jacobian-vector product of `fun` at `primals` along `tangents`.

    Returns `(fun(*primals), jvp)`, and `fun`'s auxiliary output third with `has_aux=True`
    (then `fun` returns `(output, aux)`). Runs on `torch.func.jvp`.

    >>> jvp(torch.sin, (torch.tensor(0.1),), (torch.tensor(0.2),))
    (tensor(0.0998), tensor(0.1990))
    """
    primals = tuple(nest.map_structure(tensor, tuple(primals)))
    tangents = tuple(nest.map_structure(tensor, tuple(tangents)))
    with warnings.catch_warnings():
        # torch's first forward-mode call loads decompositions through its deprecated
        # `torch.jit.script`, and says so; that is torch's business, not the caller's.
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
        return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)
