"""Fashion-MNIST: 70,000 28×28 grayscale images of 10 kinds of clothing, 60,000 for
training."""

import gzip
import os

import numpy as np

from ..utils.file_utils import get_file
from ._loading import ORIGIN

_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
          "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def load_data():
    """Loads Fashion-MNIST, downloading it into `~/.keras/datasets/fashion-mnist` on first use.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images of shape `(60000, 28, 28)` and
        `(10000, 28, 28)`, and uint8 labels 0–9.
    """
    paths = [get_file(name, origin=ORIGIN + name,
                      cache_subdir=os.path.join("datasets", "fashion-mnist"))
             for name in _FILES]
    # The IDX files: an 8-byte header before labels, a 16-byte one before images.
    with gzip.open(paths[0], "rb") as file:
        y_train = np.frombuffer(file.read(), np.uint8, offset=8)
    with gzip.open(paths[1], "rb") as file:
        x_train = np.frombuffer(file.read(), np.uint8, offset=16).reshape(len(y_train), 28, 28)
    with gzip.open(paths[2], "rb") as file:
        y_test = np.frombuffer(file.read(), np.uint8, offset=8)
    with gzip.open(paths[3], "rb") as file:
        x_test = np.frombuffer(file.read(), np.uint8, offset=16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
