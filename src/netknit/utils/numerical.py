"""Helpers Keras users reach for when preparing data: `to_categorical`, `normalize`."""

from __future__ import annotations

import numpy as np
import torch


def to_categorical(x, num_classes: int | None = None) -> np.ndarray | torch.Tensor:
    """One-hot encode integer class labels, as Keras does: float64 NumPy output, or an int64
    tensor for a torch tensor of labels.

    Args:
        x: integer labels of any shape; a trailing axis of size 1 is dropped.
        num_classes: the number of classes; by default the largest label plus one.

    >>> to_categorical([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if isinstance(x, torch.Tensor):
        return _one_hot_tensor(x, num_classes)
    labels = np.asarray(x)
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError("to_categorical expects integer class labels; received fractional values.")
    labels = labels.astype("int64")
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"to_categorical expects labels in [0, {num_classes}); received labels from "
            f"{labels.min()} to {labels.max()}. Pass a larger num_classes or fix the labels."
        )
    categorical = np.zeros((labels.shape[0], num_classes))
    categorical[np.arange(labels.shape[0]), labels] = 1
    return categorical.reshape(shape + (num_classes,))


def _one_hot_tensor(labels: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    """A tensor's labels one-hot encoded as an int64 tensor on its device, as Keras's torch
    backend encodes tensors."""
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    labels = labels.long()
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.numel() else 0
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"to_categorical expects labels in [0, {num_classes}); received labels from "
            f"{int(labels.min())} to {int(labels.max())}. Pass a larger num_classes or fix the "
            "labels."
        )
    return torch.nn.functional.one_hot(labels, num_classes)


def normalize(x, axis: int = -1, order: int = 2):
    """Scale `x` to unit `order`-norm along `axis` (zero vectors stay zero).

    A NumPy array gives a NumPy array (of the dtype NumPy's division gives: float32 stays
    float32); anything else (a tensor, a list) gives a float32 torch tensor, as Keras returns a
    backend tensor.

    >>> normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis)
    from ..ops.nn import normalize as normalize_tensor

    return normalize_tensor(x, axis=axis, order=order)
