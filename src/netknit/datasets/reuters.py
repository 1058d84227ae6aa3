"""The Reuters newswire topic dataset: 11,228 newswires as word indices, labelled with 46
topics."""

import json

import numpy as np

from ..utils.file_utils import get_file
from ._loading import (
    ORIGIN,
    check_test_split,
    limit_vocabulary,
    load_npz,
    object_array,
    shift_and_trim,
    shuffled,
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads the Reuters dataset, downloading it into `~/.keras/datasets` on first use.

    Words are indexed by how often they occur, then shifted by `index_from` (see
    `keras.datasets.imdb.load_data`, which takes the same encoding arguments).

    Args:
        path: the file's name in the cache directory.
        num_words: keep only the `num_words` most frequent word indices; None keeps all.
        skip_top: word indices below it become `oov_char`.
        maxlen: drop the newswires of `maxlen` words or more.
        test_split: the fraction of the newswires kept for testing, in `[0, 1)`.
        seed: the seed of the shuffle.
        start_char: the index that starts every newswire (None: none).
        oov_char: the index of the words left out (None: they are removed).
        index_from: the shift of the word indices.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: 1-D object arrays of lists of word indices,
        and int64 topic labels 0–45 (`get_label_names()` names them).
    """
    check_test_split(test_split)
    path = get_file(fname=path, origin=f"{ORIGIN}reuters.npz", file_hash=(
        "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"))
    data = load_npz(path)
    sequences, labels = shift_and_trim(*shuffled(seed, data["x"], data["y"]), maxlen,
                                       start_char, index_from)
    sequences = limit_vocabulary(sequences, num_words, skip_top, oov_char)
    cut = int(len(sequences) * (1 - test_split))
    return ((object_array(sequences[:cut]), np.array(labels[:cut])),
            (object_array(sequences[cut:]), np.array(labels[cut:])))


def get_word_index(path="reuters_word_index.json"):
    """The Reuters word index: a dict from each word to its index (before `index_from`)."""
    path = get_file(path, origin=f"{ORIGIN}reuters_word_index.json",
                    file_hash="4d44cc38712099c9e383dc6e5f11a921")
    with open(path) as file:
        return json.load(file)


def get_label_names():
    """The names of the 46 topics, in label order."""
    return ("cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
            "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
            "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
            "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
            "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
            "dlr", "gas", "silver", "wpi", "hog", "lead")
