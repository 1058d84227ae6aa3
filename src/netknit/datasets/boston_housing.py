"""The Boston housing prices regression dataset: 506 samples of 13 features."""

import numpy as np

from ..utils.file_utils import get_file
from ._loading import ORIGIN, check_test_split, shuffled, split


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston housing dataset, downloading it into `~/.keras/datasets` on first use.

    Args:
        path: the file's name in the cache directory.
        test_split: the fraction of the samples kept for testing, in `[0, 1)`.
        seed: the seed of the shuffle before the split.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float64 features `(n, 13)` and median home
        values in thousands of dollars `(n,)`.
    """
    check_test_split(test_split)
    path = get_file(path, origin=f"{ORIGIN}boston_housing.npz", file_hash=(
        "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"))
    with np.load(path, allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    return split(*shuffled(seed, x, y), test_split)
