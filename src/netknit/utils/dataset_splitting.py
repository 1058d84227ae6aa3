"""`split_dataset`: one dataset as two (e.g. training and validation), as torch `Subset`s.

Keras on the torch backend splits with `torch.utils.data.random_split`, so the samples of each
side are drawn at random (from torch's global generator unless `shuffle=True` with a `seed`);
netknit splits the same way, so the same torch seed gives the same two sides.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset, random_split


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False,
                  seed: int | None = None, preferred_backend: str | None = None
                  ) -> tuple[Subset, Subset]:
    """Split `dataset` into a left and a right part.

    Args:
        dataset: a torch `Dataset`, an array, or a list/tuple of arrays of the same length (each
            sample then is a tuple of their rows).
        left_size: a fraction in (0, 1) of the samples, or a number of samples, for the left
            part; by default what `right_size` leaves.
        right_size: the same for the right part; by default what `left_size` leaves.
        shuffle: draw the split from a generator of its own (seeded with `seed` when given).
        seed: the seed of that generator.
        preferred_backend: accepted for compatibility with Keras; only "torch" is supported.

    Returns:
        `(left, right)`, two `torch.utils.data.Subset`s.

    >>> left, right = split_dataset(np.arange(10), left_size=0.8)
    >>> len(left), len(right)
    (8, 2)
    """
    if preferred_backend not in (None, "torch"):
        raise ValueError(
            "netknit splits datasets with torch. Received: "
            f"preferred_backend={preferred_backend!r}; pass None or 'torch'."
        )
    dataset = _as_torch_dataset(dataset)
    if left_size is None and right_size is None:
        raise ValueError("Pass left_size or right_size (or both). Received: left_size=None and "
                         "right_size=None")
    left, right = _split_sizes(left_size, right_size, len(dataset))
    generator = None
    if shuffle:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
    left_part, right_part = random_split(dataset, [left, right], generator=generator)
    return left_part, right_part


def _as_torch_dataset(dataset) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (np.ndarray, torch.Tensor)):
        return TensorDataset(torch.as_tensor(dataset))
    if isinstance(dataset, (list, tuple)):
        return TensorDataset(*(torch.as_tensor(np.asarray(part)) for part in dataset))
    raise TypeError(
        "split_dataset takes a torch Dataset, an array, or a list/tuple of arrays. Received: "
        f"dataset of type {type(dataset).__name__}"
    )


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """The number of samples on each side, checked as Keras checks them."""
    sizes = {}
    for side, size in (("left", left_size), ("right", right_size)):
        if size is None:
            continue
        if type(size) not in (int, float):
            raise TypeError(f"Expected an int or a float for {side}_size, or None. Received: "
                            f"{side}_size={size!r} of type {type(size).__name__}")
        if (isinstance(size, int) and not 0 < size < total
                or isinstance(size, float) and not 0 < size < 1):
            raise ValueError(
                f"Expected {side}_size to be a number of samples in (0, {total}) or a fraction "
                f"in (0, 1). Received: {side}_size={size}"
            )
        sizes[side] = round(size * total) if isinstance(size, float) else size
    fractions = isinstance(left_size, float) and isinstance(right_size, float)
    if fractions and left_size + right_size > 1:
        raise ValueError(f"left_size + right_size is more than 1: {left_size} + {right_size}.")
    left = sizes.get("left", total - sizes.get("right", 0))
    right = sizes.get("right", total - left)
    if left + right != total:
        raise ValueError(
            f"The two sides must cover the {total} samples. Received: left_size={left_size} and "
            f"right_size={right_size}, which give {left} + {right} samples."
        )
    for side, size in (("left", left), ("right", right)):
        if size == 0:
            raise ValueError(
                f"With {total} samples, left_size={left_size} and right_size={right_size} leave "
                f"the {side} side empty."
            )
    return left, right
