"""`keras.ops`' math functions: special functions, top-k, segment reductions, log-sum-exp."""

from __future__ import annotations

import math

import torch

from .core import as_float, tensor
from .operation import keras_operation


def _op(class_name: str, call: str = "x"):
    return keras_operation("math", class_name, call)


@_op("Erf")
def erf(x):
    return torch.erf(as_float(tensor(x)))


@_op("Erfc")
def erfc(x):
    return torch.erfc(as_float(tensor(x)))


@_op("Erfinv")
def erfinv(x):
    return torch.erfinv(as_float(tensor(x)))


@_op("Rsqrt")
def rsqrt(x):
    return torch.rsqrt(as_float(tensor(x)))


@_op("Logsumexp")
def logsumexp(x, axis=None, keepdims=False):
    x = as_float(tensor(x))
    dims = tuple(range(x.ndim)) if axis is None else axis
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


@_op("TopK")
def top_k(x, k, sorted=True):  # noqa: A002 (Keras's name)
    values, indices = torch.topk(tensor(x), k, dim=-1, sorted=sorted)
    return values, indices


@_op("InTopK", "targets predictions")
def in_top_k(targets, predictions, k):
    predictions = tensor(predictions)
    targets = tensor(targets, like=predictions).long()
    target_scores = predictions.gather(-1, targets.unsqueeze(-1))
    # Ties with the target's score count for it, as in Keras.
    return (predictions > target_scores).sum(-1) < k


def _identity(reduce: str, dtype: torch.dtype):
    if reduce in ("sum", "prod"):
        return 0 if reduce == "sum" else 1
    info = torch.finfo(dtype) if dtype.is_floating_point else torch.iinfo(dtype)
    if dtype.is_floating_point:
        return -math.inf if reduce == "amax" else math.inf
    return info.min if reduce == "amax" else info.max


def _segment(class_name: str, name: str, reduce: str):
    def segment(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
        data = tensor(data)
        ids = tensor(segment_ids, like=data).long()
        count = int(ids.max()) + 1 if num_segments is None else num_segments
        keep = (ids >= 0) & (ids < count)
        data, ids = data[keep], ids[keep]
        index = ids.reshape(-1, *([1] * (data.ndim - 1))).expand_as(data)
        # An empty segment holds the reduction's identity: 0, 1, -inf or +inf (Keras's values).
        result = torch.full((count, *data.shape[1:]), _identity(reduce, data.dtype),
                            dtype=data.dtype, device=data.device)
        return result.scatter_reduce(0, index, data, reduce, include_self=True)

    segment.__name__ = segment.__qualname__ = name
    return _op(class_name, "data segment_ids")(segment)


segment_sum = _segment("SegmentSum", "segment_sum", "sum")
segment_max = _segment("SegmentMax", "segment_max", "amax")
segment_min = _segment("SegmentMin", "segment_min", "amin")
segment_prod = _segment("SegmentProd", "segment_prod", "prod")


@_op("Logdet")
def logdet(x):
    return torch.logdet(as_float(tensor(x)))


@_op("ExtractSequences")
def extract_sequences(x, sequence_length, sequence_stride):
    return tensor(x).unfold(-1, sequence_length, sequence_stride)


@_op("CDist", "x y")
def cdist(x, y):
    x = as_float(tensor(x))
    return torch.cdist(x, tensor(y, like=x).to(x.dtype))


@_op("ViewAsComplex")
def view_as_complex(x):
    return torch.view_as_complex(tensor(x).contiguous())


@_op("ViewAsReal")
def view_as_real(x):
    return torch.view_as_real(tensor(x))
