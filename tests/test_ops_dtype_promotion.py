"""Dtype rules of `keras.ops` that follow Keras 3 (torch backend): Python ints beyond int32,
mixed-dtype products, unsigned NumPy arrays, `where`'s indices, `full_like`, bool `argmax`,
`correlate`'s single value and the control-flow functions' tensor conversion.

Each test checks netknit's answer on its own and, where Keras is installed, against Keras."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from netknit import ops


def _keras_ops():
    keras_module = pytest.importorskip("keras")
    if keras_module.backend.backend() != "torch":
        pytest.skip("compares with Keras's torch backend")
    return keras_module.ops


def _same(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ops.convert_to_numpy(ours), theirs.detach().cpu().numpy())


# ----------------------------------------------------------------------------- 1. Python ints

@pytest.mark.parametrize("value", [2**40, 2**31, -(2**31) - 1, 2**31 - 1, -(2**31), 0, 7])
def test_python_int_dtype(value):
    result = ops.convert_to_tensor(value)
    expected = torch.int32 if -(2**31) <= value < 2**31 else torch.int64
    assert result.dtype == expected
    assert int(result) == value


def test_python_int_dtype_matches_keras():
    kops = _keras_ops()
    for value in (2**40, 2**31, -(2**31), 5, 2.5, True):
        _same(ops.convert_to_tensor(value), kops.convert_to_tensor(value))


def test_list_of_big_ints_never_overflows_silently():
    with pytest.raises(OverflowError, match="int32"):
        ops.convert_to_tensor([1, 2**40])
    result = ops.convert_to_tensor([1, 2**40], dtype="int64")
    assert result.dtype == torch.int64 and result.tolist() == [1, 2**40]
    assert ops.convert_to_tensor([1.0, 2**40]).dtype == torch.float32


def test_list_of_big_ints_matches_keras():
    kops = _keras_ops()
    with pytest.raises(RuntimeError):  # Keras refuses too (torch's overflow check)
        kops.convert_to_tensor([1, 2**40])
    _same(ops.convert_to_tensor([1, 2**40], dtype="int64"),
          kops.convert_to_tensor([1, 2**40], dtype="int64"))


# ----------------------------------------------------------------------------- 2. products

_PRODUCTS = ["matmul", "dot", "tensordot", "inner", "outer", "kron"]
_PAIRS = [("int32", "float32"), ("int64", "float32"), ("float32", "int32"), ("int32", "int64"),
          ("bool", "bool"), ("uint8", "int8"), ("int32", "int32")]


def _pair(a, b):
    x = np.arange(4).reshape(2, 2) % 2
    return torch.as_tensor(x.astype(a)), torch.as_tensor((x + 1).astype(b) if b != "bool"
                                                         else x.astype(b))


@pytest.mark.parametrize("name", _PRODUCTS)
def test_mixed_products(name):
    x1, x2 = _pair("int32", "float32")
    result = getattr(ops, name)(x1, x2)
    assert result.dtype == torch.float32
    expected = getattr(np, name)(x1.numpy().astype("float32"), x2.numpy())
    np.testing.assert_allclose(result.numpy(), expected)
    assert ops.matmul(*_pair("bool", "bool")).dtype == torch.bool
    assert ops.vdot(x1[0], x2[0]).dtype == torch.float32


@pytest.mark.parametrize("name", _PRODUCTS)
@pytest.mark.parametrize("dtypes", _PAIRS)
def test_products_match_keras(name, dtypes):
    kops = _keras_ops()
    x1, x2 = _pair(*dtypes)
    _same(getattr(ops, name)(x1, x2), getattr(kops, name)(x1, x2))


def test_vdot_matches_keras():
    kops = _keras_ops()
    for dtypes in _PAIRS:
        x1, x2 = (t[0] for t in _pair(*dtypes))
        _same(ops.vdot(x1, x2), kops.vdot(x1, x2))


# ----------------------------------------------------------------------------- 3. unsigned

_ARITHMETIC = ["add", "subtract", "multiply", "divide", "true_divide", "mod", "power", "fmod",
               "equal", "less", "arctan2", "logaddexp", "hypot", "gcd", "bitwise_and"]


def test_unsigned_numpy_arrays():
    u32, u16 = np.ones(3, "uint32"), np.ones(3, "uint16")
    i32 = torch.ones(3, dtype=torch.int32)
    assert ops.convert_to_tensor(u32).dtype == torch.int64
    assert ops.convert_to_tensor(u16).dtype == torch.int32
    assert ops.add(u32, i32).dtype == torch.int64
    assert ops.add(u16, i32).dtype == torch.int32
    assert ops.cast(i32, "uint32").dtype == torch.int64
    assert ops.convert_to_tensor(np.ones(3, "uint8")).dtype == torch.uint8


@pytest.mark.parametrize("name", _ARITHMETIC)
def test_unsigned_arithmetic_matches_keras(name):
    kops = _keras_ops()
    for unsigned in ("uint32", "uint16"):
        x1, x2 = np.arange(1, 4).astype(unsigned), np.arange(1, 4).astype("int32")
        _same(getattr(ops, name)(x1, x2), getattr(kops, name)(x1, x2))


# ----------------------------------------------------------------------------- 4-7.

def test_where_indices_int64():
    condition = np.array([[True, False], [False, True]])
    result = ops.where(condition)
    assert result.dtype == torch.int64 and result.tolist() == [[0, 1], [0, 1]]
    assert ops.nonzero(condition).dtype == torch.int32  # nonzero stays int32, as in Keras
    kops = _keras_ops()
    _same(result, kops.where(condition))
    _same(ops.nonzero(condition), kops.nonzero(condition))


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float32"])
def test_full_like_keeps_dtype(dtype):
    x = torch.zeros(2, 2, dtype=getattr(torch, dtype))
    result = ops.full_like(x, 2.5)
    assert result.dtype == x.dtype
    assert ops.full_like(x, 2.5, dtype="float32").tolist() == [[2.5, 2.5]] * 2
    if dtype.startswith("int"):
        assert result.tolist() == [[2, 2]] * 2
    kops = _keras_ops()
    _same(result, kops.full_like(x, 2.5))
    _same(ops.full_like(x, 2.5, dtype="float32"), kops.full_like(x, 2.5, dtype="float32"))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reduce_bool(name):
    x = np.array([[False, True, True], [True, False, False]])
    result = getattr(ops, name)(x)
    assert result.dtype == torch.int32
    assert int(result) == int(getattr(np, name)(x))
    assert getattr(ops, name)(x, axis=1).tolist() == getattr(np, name)(x, axis=1).tolist()
    kops = _keras_ops()
    _same(result, getattr(kops, name)(x))
    _same(getattr(ops, name)(x, axis=1), getattr(kops, name)(x, axis=1))


@pytest.mark.parametrize("lengths", [(4, 4), (3, 3), (4, 2), (1, 1)])
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate_single_value_is_scalar(lengths, mode):
    x1 = np.arange(1, lengths[0] + 1, dtype="float32")
    x2 = np.arange(1, lengths[1] + 1, dtype="float32") * 1.5
    result = ops.correlate(x1, x2, mode=mode)
    expected = np.correlate(x1, x2, mode=mode)
    assert result.shape == (() if expected.size == 1 else expected.shape)
    np.testing.assert_allclose(result.numpy().reshape(-1), expected)
    kops = _keras_ops()
    _same(result, kops.correlate(x1, x2, mode=mode))


def test_correlate_default_mode_is_valid():
    x = np.arange(3, dtype="float32")
    assert ops.correlate(x, x).shape == ()
    assert float(ops.correlate(x, x)) == 5.0


# ----------------------------------------------------------------------------- 8. control flow

def test_while_loop_gives_tensors():
    result = ops.while_loop(lambda x: x < 5, lambda x: x + 2, 0)
    assert isinstance(result, torch.Tensor) and result.dtype == torch.int32 and int(result) == 6
    x, y = ops.while_loop(lambda x, y: x < 5, lambda x, y: (x + 2, y * 2.0), (0, 1.0))
    assert x.dtype == torch.int32 and y.dtype == torch.float32 and float(y) == 8.0
    kops = _keras_ops()
    _same(result, kops.while_loop(lambda x: x < 5, lambda x: x + 2, 0))


def test_scan_and_map_take_numpy_and_numbers():
    def step(carry, x):
        return carry + x, carry

    xs = np.arange(3, dtype="float32")
    for given in (xs, torch.as_tensor(xs)):
        carry, ys = ops.scan(step, 0.0, given)
        assert carry.dtype == torch.float32 and float(carry) == 3.0
        assert ys.tolist() == [0.0, 0.0, 1.0]
    mapped = ops.map(lambda x: x * 2, xs)
    assert isinstance(mapped, torch.Tensor) and mapped.tolist() == [0.0, 2.0, 4.0]
    kops = _keras_ops()
    for ours, theirs in zip(ops.scan(step, 0.0, xs), kops.scan(step, 0.0, xs)):
        _same(ours, theirs)
    _same(mapped, kops.map(lambda x: x * 2, xs))


# ----------------------------------------------------------------------------- 9. float64

def test_float64_numpy_arrays_keep_float64_like_keras():
    x = np.arange(4, dtype="float64")
    assert ops.convert_to_tensor(x).dtype == torch.float64
    assert ops.convert_to_tensor(np.float64(2.0)).dtype == torch.float32  # a Python float
    kops = _keras_ops()
    _same(ops.convert_to_tensor(x), kops.convert_to_tensor(x))
    _same(ops.convert_to_tensor(np.float64(2.0)), kops.convert_to_tensor(np.float64(2.0)))
    _same(ops.add(x, x), kops.add(x, x))
