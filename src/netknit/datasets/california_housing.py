"""The California housing prices regression dataset: 20,640 samples of 8 features."""

import numpy as np

from ..utils.file_utils import get_file
from ._loading import ORIGIN, check_test_split, shuffled, split


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads the California housing dataset, downloading it into `~/.keras/datasets` on first
    use.

    Args:
        version: `"large"`, all 20,640 samples, or `"small"`, the first 600.
        path: the file's name in the cache directory.
        test_split: the fraction of the samples kept for testing, in `[0, 1)`.
        seed: the seed of the shuffle before the split.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: float32 features `(n, 8)` and median house
        values in dollars `(n,)`.
    """
    check_test_split(test_split)
    path = get_file(path, origin=f"{ORIGIN}california_housing.npz", file_hash=(
        "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"))
    with np.load(path, allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    elif version != "large":
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: "
                         f"version={version}")
    return split(*shuffled(seed, x, y), test_split)
