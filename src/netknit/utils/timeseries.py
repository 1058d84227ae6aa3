"""`timeseries_dataset_from_array`: sliding windows over a timeseries, batched for `fit`.

Keras returns a `tf.data` (or Grain) dataset; netknit returns a torch `DataLoader` with the same
windows, targets and batches, which `fit`, `evaluate` and `predict` read, and which iterates as
`for inputs, targets in dataset:`.
"""

from __future__ import annotations

import numpy as np
import torch


class _Windows(torch.utils.data.Dataset):
    """Window `i`: `data[start + i * stride + k * rate]` for k < length, and its target."""

    def __init__(self, data, targets, starts, length, rate):
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(length) * rate

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index):
        start = self.starts[index]
        window = torch.as_tensor(self.data[start + self.offsets])
        if self.targets is None:
            return window
        return window, torch.as_tensor(self.targets[start])


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Batches of sliding windows over `data` (and the target of each window's first step).

    Args:
        data: an array (or tensor) of timesteps, `(steps, ...)`.
        targets: the target of the window that starts at each step (`targets[i]` for the window
            starting at `data[i]`), or None for windows alone.
        sequence_length: the number of timesteps per window.
        sequence_stride: the distance between the starts of consecutive windows.
        sampling_rate: the distance between the timesteps kept within a window.
        batch_size: windows per batch; None yields the windows one by one.
        shuffle, seed: shuffle the windows (repeatably with a seed).
        start_index, end_index: use only `data[start_index:end_index]` for the windows.
        format: accepted for compatibility (`"tf"` or `"grain"` in Keras); the result is always
            a torch `DataLoader`.

    >>> dataset = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3,
    ...                                         batch_size=2)
    >>> next(iter(dataset)).tolist()
    [[0, 1, 2], [1, 2, 3]]
    """
    length = len(data)
    if start_index and not 0 <= start_index < length:
        raise ValueError(f"`start_index` must be at least 0 and lower than the length of the "
                         f"data ({length}). Received: start_index={start_index}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index}")
        if not 0 < end_index < length:
            raise ValueError(f"`end_index` must be higher than 0 and lower than the length of "
                             f"the data ({length}). Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if not 0 < value < length:
            raise ValueError(f"`{name}` must be higher than 0 and lower than the length of the "
                             f"data ({length}). Received: {name}={value}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start_index = start_index or 0
    end_index = end_index or length
    count = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets) - start_index)
    starts = np.arange(start_index, start_index + max(count, 0), sequence_stride)
    data = np.asarray(data)
    targets = None if targets is None else np.asarray(targets)
    generator = None if seed is None else torch.Generator().manual_seed(int(seed))
    return torch.utils.data.DataLoader(_Windows(data, targets, starts, sequence_length,
                                                sampling_rate),
                                       batch_size=batch_size, shuffle=bool(shuffle),
                                       generator=generator)
