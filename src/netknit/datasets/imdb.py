"""The IMDB movie review sentiment dataset: 50,000 reviews as word indices, half for
training, labelled 1 (positive) or 0 (negative)."""

import json

import numpy as np

from ..utils.file_utils import get_file
from ._loading import ORIGIN, limit_vocabulary, load_npz, object_array, shift_and_trim


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB dataset, downloading it into `~/.keras/datasets` on first use.

    Words are indexed by how often they occur (1 is the most frequent word in the data set),
    then shifted by `index_from`, so that 0 stays free for padding.

    Args:
        path: the file's name in the cache directory.
        num_words: keep only the `num_words` most frequent word indices (after the shift);
            others become `oov_char`. None keeps every word.
        skip_top: word indices below it also become `oov_char` (the most common words).
        maxlen: drop the reviews of `maxlen` words or more.
        seed: the seed of the shuffles.
        start_char: the index that starts every review (None: none).
        oov_char: the index of the words left out (None: they are removed).
        index_from: the shift of the word indices.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: 1-D object arrays of lists of word indices,
        and int64 labels.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}.")
    path = get_file(fname=path, origin=f"{ORIGIN}imdb.npz", file_hash=(
        "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"))
    data = load_npz(path)
    # One random state shuffles the training reviews, then the test ones.
    rng_state = np.random.RandomState(seed)
    parts = []
    for x, y in ((data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])):
        indices = np.arange(len(x))
        rng_state.shuffle(indices)
        parts.append(shift_and_trim(x[indices], y[indices], maxlen, start_char, index_from))
    (x_train, labels_train), (x_test, labels_test) = parts
    if maxlen and (not x_train or not x_test):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                         "sequence was kept. Increase maxlen.")
    sequences = limit_vocabulary(list(x_train) + list(x_test), num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    cut = len(x_train)
    return ((object_array(sequences[:cut]), labels[:cut]),
            (object_array(sequences[cut:]), labels[cut:]))


def get_word_index(path="imdb_word_index.json"):
    """The IMDB word index: a dict from each word to its index (before `index_from`)."""
    path = get_file(fname=path, origin=f"{ORIGIN}imdb_word_index.json",
                    file_hash="bfafd718b763782e994055a2d397834f")
    with open(path) as file:
        return json.load(file)
