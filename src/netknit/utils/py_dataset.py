"""`PyDataset` (Keras's `Sequence`): a dataset of batches you write as a class, for `fit`.

A subclass defines `__len__` (batches per epoch) and `__getitem__(index)` (one batch: `x`,
`(x, y)` or `(x, y, sample_weight)`), and may define `on_epoch_end` (e.g. to reshuffle).
Batches are read in the training process, one after the other.

>>> class Batches(PyDataset):
...     def __init__(self, x, y, batch_size, **kwargs):
...         super().__init__(**kwargs)
...         self.x, self.y, self.batch_size = x, y, batch_size
...     def __len__(self):
...         return math.ceil(len(self.x) / self.batch_size)
...     def __getitem__(self, index):
...         part = slice(index * self.batch_size, (index + 1) * self.batch_size)
...         return self.x[part], self.y[part]
>>> model.fit(Batches(x, y, 32), epochs=2)
"""

from __future__ import annotations


class PyDataset:
    """Base class of batch datasets written in Python.

    Args:
        workers, use_multiprocessing, max_queue_size: accepted for compatibility with Keras;
            netknit reads the batches in the training process (for parallel loading, use a torch
            `DataLoader` with `num_workers`).
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__: the number of "
                                  "batches in an epoch.")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index): the "
                                  "batch at that index.")

    def on_epoch_end(self) -> None:
        """Called after each epoch (e.g. to shuffle); does nothing by default."""

    def __iter__(self):
        # One pass is one epoch: every batch in order, then `on_epoch_end` (also when the loop
        # stops taking batches after the last one, which closes this generator).
        try:
            for index in range(len(self)):
                yield self[index]
        finally:
            self.on_epoch_end()


Sequence = PyDataset


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """A batch as Keras hands it to a step: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

    Without targets, a single tensor (or a dict of inputs) stays as it is, as in Keras; only a
    list or tuple of inputs is wrapped, so that it cannot be read as `(x, y)`.
    """
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack_x_y_sample_weight(data) -> tuple:
    """`(x, y, sample_weight)` from a batch, with None for what it lacks."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError("A batch is x, (x,), (x, y) or (x, y, sample_weight). Received a tuple "
                         f"of {len(data)} items.")
    return data + (None,) * (3 - len(data))
