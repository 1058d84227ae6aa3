"""What the dataset loaders share: where the files live, reading them without running code
from them, and Keras's seeded shuffles and splits."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

# Keras's mirror of its datasets (the CIFAR archives come from their authors' site).
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Object arrays (IMDB's and Reuters's ragged sequences) and the CIFAR batches are pickles.
# Rebuilding a NumPy array needs these globals and nothing else, so a tampered file cannot run
# code while it loads. numpy 1 and 2 spell the module differently.
_ARRAY_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
})


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from a dataset file: only NumPy arrays are "
            "read. The file may be damaged or malicious; delete it so it is downloaded again.")


def unpickle_arrays(file, **kwargs):
    """Reads a pickle that may only hold containers, numbers, strings and NumPy arrays."""
    return _ArraysOnlyUnpickler(file, **kwargs).load()


def load_npz(path) -> dict:
    """The arrays of an `.npz` file by name; object arrays are read by `unpickle_arrays`."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                arrays[member[:-4]] = _read_npy(io.BytesIO(archive.read(member)))
    return arrays


def _read_npy(file) -> np.ndarray:
    header = np.lib.format.read_magic(file)
    shape, fortran_order, dtype = (np.lib.format.read_array_header_1_0(file) if header[0] == 1
                                   else np.lib.format.read_array_header_2_0(file))
    if dtype.hasobject:
        return unpickle_arrays(file)
    file.seek(0)
    return np.lib.format.read_array(file, allow_pickle=False)


def shuffled(seed, *arrays):
    """The arrays in one random order, drawn as Keras draws it (`RandomState(seed).shuffle`)."""
    indices = np.arange(len(arrays[0]))
    np.random.RandomState(seed).shuffle(indices)
    return [array[indices] for array in arrays]


def check_test_split(test_split) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 "
                         "and 1 (exclusive of 1).")


def split(x, y, test_split):
    """`((x_train, y_train), (x_test, y_test))`, the last `test_split` of the samples for
    testing."""
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def shift_and_trim(sequences, labels, maxlen, start_char, index_from):
    """Keras's word-index encoding of the text datasets, first half: every index shifted by
    `index_from` after an optional `start_char`, and sequences of `maxlen` words or more
    dropped with their labels."""
    start = [] if start_char is None else [start_char]
    sequences = [start + [w + index_from for w in sequence] for sequence in sequences]
    if maxlen:
        kept = [i for i, sequence in enumerate(sequences) if len(sequence) < maxlen]
        sequences, labels = [sequences[i] for i in kept], [labels[i] for i in kept]
    return sequences, labels


def limit_vocabulary(sequences, num_words, skip_top, oov_char):
    """Second half: indices outside `[skip_top, num_words)` become `oov_char`, or are dropped
    when it is None; `num_words` None keeps every word."""
    if not num_words:
        num_words = max(max(sequence) for sequence in sequences)
    if oov_char is None:
        return [[w for w in sequence if skip_top <= w < num_words] for sequence in sequences]
    return [[w if skip_top <= w < num_words else oov_char for w in sequence]
            for sequence in sequences]


def object_array(sequences) -> np.ndarray:
    """A 1-D array of lists (NumPy would make a 2-D array of equal-length ones)."""
    array = np.empty(len(sequences), dtype="object")
    array[:] = sequences
    return array


def load_cifar_batch(path, label_key="labels"):
    """The images `(n, 3, 32, 32)` and labels (an int64 array) of one pickled CIFAR batch."""
    with open(path, "rb") as file:
        batch = {key.decode("utf8"): value
                 for key, value in unpickle_arrays(file, encoding="bytes").items()}
    data = batch["data"]
    return data.reshape(data.shape[0], 3, 32, 32), np.asarray(batch[label_key])
