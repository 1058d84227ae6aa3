"""`pad_sequences`: lists of sequences of different lengths as one array, as Keras makes it."""

from __future__ import annotations

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0) -> np.ndarray:
    """Pads (or truncates) each sequence to the same length: a `(len(sequences), maxlen)` array.

    Args:
        sequences: a list of sequences (lists or arrays; their items may be arrays themselves,
            which become the trailing axes).
        maxlen: the length of every row; the longest sequence's by default.
        dtype: the array's dtype, `"int32"` by default.
        padding: `"pre"` (default) pads at the start, `"post"` at the end.
        truncating: `"pre"` (default) drops values from the start of longer sequences,
            `"post"` from the end.
        value: the padding value.

    >>> pad_sequences([[1, 2, 3], [4, 5]]).tolist()
    [[1, 2, 3], [0, 4, 5]]
    """
    for name, given in (("padding", padding), ("truncating", truncating)):
        if given not in ("pre", "post"):
            raise ValueError(f'{name.capitalize()} type "{given}" not understood: use "pre" or '
                             '"post".')
    try:
        lengths = [len(s) for s in sequences]
    except TypeError:
        raise ValueError("pad_sequences expects a list of sequences (lists or arrays). Received "
                         f"{type(sequences).__name__} with items that have no length.") from None
    if maxlen is None:
        maxlen = max(lengths, default=0)
    sample_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if isinstance(value, str) and not is_text:
        raise ValueError(f"pad_sequences got the text value={value!r} for dtype={dtype}; pass "
                         "dtype=object to pad text.")
    padded = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return padded
    for row, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = np.asarray(sequence, dtype=dtype)
        kept = kept[-maxlen:] if truncating == "pre" else kept[:maxlen]
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Sequence {row} has items of shape {kept.shape[1:]}, the others "
                             f"{sample_shape}: all items must have one shape.")
        if padding == "post":
            padded[row, :len(kept)] = kept
        else:
            padded[row, maxlen - len(kept):] = kept
    return padded
