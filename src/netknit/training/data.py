"""Data adapters: arrays, lists, dicts, DataFrames, Datasets, DataLoaders and generators → batches.

In-memory data (NumPy arrays, torch tensors, pandas DataFrames, and lists or dicts of them)
becomes torch tensors once and moves to the model's device once; each epoch draws a permutation
on the device and takes batches by index, so no copy of the data set is made per epoch. Iterables
(`DataLoader`s, generators) are moved batch by batch.

Every adapter yields `(x, y, sample_weight)` triples whose parts keep the user's structure (a
tensor, a list, or a dict); `y` and `sample_weight` may be None.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Iterable, Iterator

import numpy as np
import torch

from ..graph import nest

_FLOAT_DTYPE = torch.float32


def is_in_memory(value) -> bool:
    """True for arrays, tensors, DataFrames and (nested) lists/dicts of them."""
    if value is None:
        return True
    if isinstance(value, (np.ndarray, torch.Tensor)) or _is_dataframe(value):
        return True
    if isinstance(value, dict):
        return all(is_in_memory(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(
            isinstance(v, (np.ndarray, torch.Tensor, dict, list, tuple)) or _is_dataframe(v)
            for v in value
        ) and all(is_in_memory(v) for v in value)
    return False


def _is_dataframe(value) -> bool:
    return type(value).__name__ in ("DataFrame", "Series") and hasattr(value, "to_numpy")


def to_tensor(value, device=None) -> torch.Tensor:
    """One array-like as a tensor: floats as float32, integers as int64, on `device`."""
    if _is_dataframe(value):
        value = value.to_numpy()
    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(
                "Cannot convert data of dtype object to a tensor. Convert it to a numeric NumPy "
                "array first (e.g. np.asarray(x, dtype='float32'))."
            )
        array = np.ascontiguousarray(array)
        if array.flags.writeable:
            tensor = torch.from_numpy(array)
        else:
            # A read-only array (np.load(..., mmap_mode="r"), a broadcast view) is only ever
            # read here, so sharing its memory is safe; torch would warn about writes.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                tensor = torch.from_numpy(array)
    if tensor.is_floating_point() and tensor.dtype != _FLOAT_DTYPE:
        tensor = tensor.to(_FLOAT_DTYPE)
    elif tensor.dtype in (torch.int32, torch.int16, torch.int8, torch.uint8):
        tensor = tensor.long()
    return tensor if device is None else tensor.to(device, non_blocking=True)


def to_tensors(structure, device=None):
    """A structure of array-likes (DataFrames count as one array) as tensors."""
    if structure is None:
        return None
    if _is_dataframe(structure) or isinstance(structure, (np.ndarray, torch.Tensor)):
        return to_tensor(structure, device)
    if isinstance(structure, dict):
        return {k: to_tensors(v, device) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [to_tensors(v, device) for v in structure]
    return to_tensor(structure, device)


def num_samples(structure) -> int:
    leaves = [t for t in nest.flatten(structure) if t is not None]
    return int(leaves[0].shape[0]) if leaves else 0


def check_lengths(x, y, sample_weight) -> int:
    """All arrays hold the same number of samples; returns it."""
    sizes = {}
    for label, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for i, leaf in enumerate(nest.flatten(part)):
            if leaf is not None:
                name = label if len(nest.flatten(part)) == 1 else f"{label}[{i}]"
                sizes[name] = int(leaf.shape[0])
    if len(set(sizes.values())) > 1:
        listing = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValueError(
            f"The data arrays hold different numbers of samples: {listing}. Every input, target "
            "and sample weight needs one entry per sample (the first axis)."
        )
    return next(iter(sizes.values()), 0)


def take(structure, index: torch.Tensor | slice):
    """Rows `index` of every tensor in `structure`."""
    if structure is None:
        return None
    if isinstance(structure, torch.Tensor):
        return structure[index]
    if isinstance(structure, dict):
        return {k: take(v, index) for k, v in structure.items()}
    return [take(v, index) for v in structure]


class TensorAdapter:
    """Batches from tensors already on the device, by index.

    Args:
        x, y, sample_weight: tensors or lists/dicts of tensors with the same first dimension.
        batch_size: samples per batch; the last batch may be smaller.
        shuffle: draw a new order every epoch (`"batch"` shuffles whole batches, as Keras).
        steps: batches per epoch (default: one pass over the data).
    """

    from_stream = False

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, steps=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.size = check_lengths(x, y, sample_weight)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.full_steps = math.ceil(self.size / batch_size) if self.size else 0
        self.num_batches = steps or self.full_steps
        self.device = next(t.device for t in nest.flatten(x) if t is not None)
        self._steps = StepsOfPasses(self._one_pass, self.num_batches, self.full_steps)

    def __iter__(self) -> Iterator[tuple]:
        if self.num_batches == self.full_steps:
            return self._one_pass()
        return iter(self._steps)

    def reset(self) -> None:
        """Start the next epoch on a new pass (evaluation starts each run from the beginning)."""
        self._steps.reset()

    def _one_pass(self) -> Iterator[tuple]:
        """The batches of one pass over the data, in a new order when shuffling."""
        order = self._order()
        for start in range(0, self.size, self.batch_size):
            index = (
                order[start:start + self.batch_size]
                if order is not None
                else slice(start, start + self.batch_size)
            )
            yield (take(self.x, index), take(self.y, index), take(self.sample_weight, index))

    def _order(self):
        if not self.shuffle:
            return None
        if self.shuffle == "batch":
            batches = torch.randperm(self.full_steps, device=self.device)
            offsets = torch.arange(self.batch_size, device=self.device)
            order = (batches[:, None] * self.batch_size + offsets).flatten()
            return order[order < self.size]
        return torch.randperm(self.size, device=self.device)


class StepsOfPasses:
    """Epochs of `steps` batches over passes of `per_pass` batches, as Keras's epochs run with
    `steps_per_epoch`: an epoch goes on where the last one stopped; a pass that ends first ends
    the epoch early, with a warning, and the next epoch starts a new pass."""

    def __init__(self, new_pass, steps: int, per_pass: int | None):
        self.new_pass, self.steps, self.per_pass = new_pass, steps, per_pass
        self.reset()

    def reset(self) -> None:
        self._pass, self._seen = None, 0

    def __iter__(self) -> Iterator:
        if self._pass is None:
            self._pass, self._seen = iter(self.new_pass()), 0
        for _ in range(self.steps):
            if self.per_pass is not None and self._seen >= self.per_pass:
                _warn_ran_out(self.steps)
                break
            try:
                batch = next(self._pass)
            except StopIteration:
                self.per_pass = self._seen
                _warn_ran_out(self.steps)
                break
            self._seen += 1
            yield batch
        if self.per_pass is not None and self._seen >= self.per_pass:
            self._pass = None


def _warn_ran_out(steps: int) -> None:
    warnings.warn(
        f"The data ran out before the {steps} batches of steps_per_epoch: this epoch ends "
        "early, and the next one starts a new pass. Give at least steps_per_epoch * epochs "
        "batches (e.g. a generator that loops), or leave steps_per_epoch out.", stacklevel=2)


class IterableAdapter:
    """Batches from a DataLoader, Dataset iterator or generator, moved to the device one by one.

    Each element is `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`. A `torch.utils.data.Dataset`
    (not a DataLoader) is wrapped in a DataLoader with `batch_size` and `shuffle`.
    """

    from_stream = True

    def __init__(self, data, batch_size=None, shuffle=False, steps=None, device=None):
        if shuffle and isinstance(data, torch.utils.data.DataLoader):
            # Keras's warning, also for fit's default shuffle=True.
            warnings.warn(
                "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
                "as a torch DataLoader. The DataLoader is expected to already be shuffled.",
                stacklevel=2)
        if isinstance(data, torch.utils.data.Dataset) and not isinstance(
            data, torch.utils.data.IterableDataset
        ):
            data = torch.utils.data.DataLoader(data, batch_size=batch_size or 32, shuffle=shuffle)
        self.data = data
        self.device = device
        self.num_batches = steps
        if steps is None and hasattr(data, "__len__"):
            self.num_batches = len(data)
        # Keras shuffles the order of a PyDataset's batches each epoch (with Python's random).
        self._shuffles_batches = bool(shuffle) and _is_batch_dataset(data)
        self._steps = None
        if steps is not None:
            if self._is_single_pass():
                # A generator runs across epochs: keep drawing from the same one.
                stream = iter(data)
                self._steps = StepsOfPasses(lambda: stream, steps, None)
            else:
                per_pass = len(data) if hasattr(data, "__len__") else None
                self._steps = StepsOfPasses(self._one_pass, steps, per_pass)

    def __iter__(self) -> Iterator[tuple]:
        source = self._one_pass() if self._steps is None else self._steps
        for element in source:
            yield unpack(element, self.device)

    def reset(self) -> None:
        """Start the next epoch on a new pass (evaluation starts each run from the beginning)."""
        if self._steps is not None and not self._is_single_pass():
            self._steps.reset()

    def _one_pass(self) -> Iterator:
        return self._batches_in_random_order() if self._shuffles_batches else iter(self.data)

    def _is_single_pass(self) -> bool:
        return iter(self.data) is self.data

    def _batches_in_random_order(self) -> Iterator:
        order = list(range(len(self.data)))
        random.shuffle(order)
        try:
            for index in order:
                yield self.data[index]
        finally:
            self.data.on_epoch_end()


def _is_batch_dataset(data) -> bool:
    """Whether `data` is a PyDataset (batches by index, and an `on_epoch_end`)."""
    return (not isinstance(data, torch.utils.data.Dataset)
            and all(hasattr(data, name) for name in ("__len__", "__getitem__", "on_epoch_end")))


def unpack(element, device=None) -> tuple:
    """`(x, y, sample_weight)` on the device from one element of a data stream."""
    if isinstance(element, tuple) and 1 <= len(element) <= 3:
        parts = list(element) + [None] * (3 - len(element))
    elif isinstance(element, list) and 1 <= len(element) <= 3 and not isinstance(
        element[0], (int, float)
    ):
        parts = list(element) + [None] * (3 - len(element))
    else:
        parts = [element, None, None]
    return tuple(to_tensors(p, device) for p in parts)


def data_adapter_for(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None,
                     device=None):
    """The adapter for `x` (and `y`, `sample_weight` for in-memory data)."""
    if is_in_memory(x):
        x, y, sample_weight = (to_tensors(p, device) for p in (x, y, sample_weight))
        return TensorAdapter(x, y, sample_weight, batch_size or 32, shuffle, steps)
    if y is not None or sample_weight is not None:
        raise ValueError(
            f"When x is a {type(x).__name__} (a data stream), it must yield (x, y) or "
            "(x, y, sample_weight) itself; do not pass y or sample_weight separately."
        )
    if not isinstance(x, Iterable):
        raise TypeError(
            "Unsupported data for x: expected a NumPy array, a torch tensor, a pandas DataFrame, "
            "a list or dict of those, a torch Dataset or DataLoader, or a generator. "
            f"Received: {type(x).__name__}"
        )
    return IterableAdapter(x, batch_size, shuffle, steps, device)


def split_validation(x, y, sample_weight, fraction: float):
    """Keras's validation_split: the last `fraction` of the samples, taken before shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(
            f"validation_split must be between 0 and 1 (exclusive). Received: {fraction}"
        )
    if not is_in_memory(x):
        raise ValueError(
            "validation_split needs in-memory data (arrays or tensors). For a DataLoader or a "
            "generator, pass validation_data instead."
        )
    x, y, sample_weight = (to_tensors(p) for p in (x, y, sample_weight))
    size = check_lengths(x, y, sample_weight)
    split = int(math.floor(size * (1.0 - fraction)))
    if split == 0 or split == size:
        raise ValueError(
            f"validation_split={fraction} of {size} samples leaves an empty training or "
            "validation set. Use more data or another fraction."
        )
    train = slice(0, split)
    valid = slice(split, size)
    return (
        (take(x, train), take(y, train), take(sample_weight, train)),
        (take(x, valid), take(y, valid), take(sample_weight, valid)),
    )


def class_weights_to_sample_weights(y: torch.Tensor, class_weight: dict) -> torch.Tensor:
    """Per-sample weights from a {class: weight} dict (labels as indices or one-hot)."""
    if y.dim() > 1 and y.shape[-1] > 1:
        labels = y.argmax(dim=-1)
    else:
        labels = y.reshape(y.shape[0], -1)[:, 0]
        # Float targets name their class by rounding, as in Keras: 5.0 is class 5, 0.7 class 1.
        labels = labels.round().long() if labels.is_floating_point() else labels.long()
    size = max(int(max(class_weight)) + 1, int(labels.max()) + 1 if labels.numel() else 0)
    table = torch.ones(size, dtype=torch.float32, device=y.device)
    for label, weight in class_weight.items():
        table[int(label)] = float(weight)
    return table[labels]
