"""CIFAR-100: 60,000 32×32 colour images in 100 classes (grouped in 20 superclasses), 50,000
for training."""

import os

from ..backend import image_data_format
from ..utils.file_utils import get_file
from ._loading import load_cifar_batch


def load_data(label_mode="fine"):
    """Loads CIFAR-100, downloading it from its authors' site into `~/.keras/datasets` on first
    use.

    Args:
        label_mode: `"fine"` (100 classes) or `"coarse"` (20 superclasses).

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images `(50000, 32, 32, 3)` and
        `(10000, 32, 32, 3)` (channels first under that image data format), and int64 labels
        of shape `(n, 1)`.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: '
                         f"label_mode={label_mode}.")
    path = get_file(fname="cifar-100-python-target",
                    origin="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                    extract=True, file_hash=(
                        "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"))
    path = os.path.join(path, "cifar-100-python")
    x_train, y_train = load_cifar_batch(os.path.join(path, "train"), f"{label_mode}_labels")
    x_test, y_test = load_cifar_batch(os.path.join(path, "test"), f"{label_mode}_labels")
    y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)
    if image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
