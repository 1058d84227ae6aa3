"""CIFAR-10: 60,000 32×32 colour images in 10 classes, 50,000 for training."""

import os

import numpy as np

from ..backend import image_data_format
from ..utils.file_utils import get_file
from ._loading import load_cifar_batch


def load_data():
    """Loads CIFAR-10, downloading it from its authors' site into `~/.keras/datasets` on first
    use.

    Classes: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
    9 truck.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images `(50000, 32, 32, 3)` and
        `(10000, 32, 32, 3)` (channels first under that image data format), and uint8 labels
        of shape `(n, 1)`.
    """
    path = get_file(fname="cifar-10-batches-py-target",
                    origin="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                    extract=True, file_hash=(
                        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"))
    path = os.path.join(path, "cifar-10-batches-py")
    batches = [load_cifar_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([images for images, _ in batches])
    y_train = np.concatenate([labels for _, labels in batches]).astype("uint8")
    x_test, y_test = load_cifar_batch(os.path.join(path, "test_batch"))
    y_train, y_test = y_train.reshape(-1, 1), y_test.astype("uint8").reshape(-1, 1)
    if image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
