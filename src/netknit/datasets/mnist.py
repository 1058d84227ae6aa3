"""MNIST: 70,000 28×28 grayscale images of handwritten digits, 60,000 for training."""

import numpy as np

from ..utils.file_utils import get_file
from ._loading import ORIGIN


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset, downloading it into `~/.keras/datasets` on first use.

    Args:
        path: the file's name in the cache directory.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images of shape `(60000, 28, 28)` and
        `(10000, 28, 28)` with values 0–255, and uint8 digit labels 0–9.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()  # doctest: +SKIP
    """
    path = get_file(fname=path, origin=f"{ORIGIN}mnist.npz", file_hash=(
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"))
    with np.load(path, allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
