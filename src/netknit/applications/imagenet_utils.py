"""Input preprocessing for the ImageNet models, and `decode_predictions`.

Each network was trained on images scaled one way; its module's `preprocess_input` applies that
scaling with one of three modes:

- "caffe" (VGG, ResNet): RGB to BGR, then each channel minus its ImageNet mean, no scaling.
- "tf" (MobileNet, MobileNetV2, ResNetV2): pixels from [0, 255] to [-1, 1].
- "torch" (DenseNet): pixels to [0, 1], then each channel standardized with ImageNet's mean and
  standard deviation.

A NumPy float array is preprocessed in place (and returned), as in Keras: pass `np.copy(x)` to
keep the original. Other arrays are converted to float32 first. Tensors, real or symbolic, give a
new tensor, so `preprocess_input` can sit inside a functional model.

>>> x = np.full((1, 2, 2, 3), 255.0)
>>> preprocess_input(x, mode="tf")[0, 0, 0]
array([1., 1., 1.])
"""

from __future__ import annotations

import numpy as np
import torch

from .. import ops
from ..backend import floatx, image_data_format

# ImageNet's per-channel statistics: the BGR mean of its pixels (caffe), and the RGB mean and
# standard deviation of its pixels scaled to [0, 1] (torch).
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN_RGB = (0.485, 0.456, 0.406)
TORCH_STD_RGB = (0.229, 0.224, 0.225)


def preprocess_input(x, data_format: str | None = None, mode: str = "caffe"):
    """Scale a batch of images (or one image) as the ImageNet models expect.

    Args:
        x: images with 3 colour channels and values in [0, 255]: a NumPy array or a tensor,
            one image (3-D) or a batch (4-D).
        data_format: "channels_last" (the default) or "channels_first".
        mode: "caffe", "tf" or "torch" (see the module's docstring).

    Returns:
        The preprocessed images, float32 (a NumPy float array keeps its dtype).

    Raises:
        ValueError: for an unknown `mode` or `data_format`.
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError(f"Expected mode to be one of 'caffe', 'tf' or 'torch'. Received: "
                         f"mode={mode!r}")
    if data_format is None:
        data_format = image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        raise ValueError("Expected data_format to be 'channels_first' or 'channels_last'. "
                         f"Received: data_format={data_format!r}")
    if isinstance(x, np.ndarray):
        return _preprocess_array(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_axis(ndim: int, data_format: str) -> int:
    if data_format == "channels_last":
        return ndim - 1
    return 0 if ndim == 3 else 1


def _per_channel_shape(ndim: int, data_format: str) -> tuple:
    """The shape that broadcasts a vector of 3 channel values over images of rank `ndim`."""
    shape = [1] * ndim
    shape[_channel_axis(ndim, data_format)] = 3
    return tuple(shape)


def _preprocess_array(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(floatx())
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    shape = _per_channel_shape(x.ndim, data_format)
    if mode == "torch":
        x /= 255.0
        x -= np.reshape(TORCH_MEAN_RGB, shape).astype(x.dtype)
        x /= np.reshape(TORCH_STD_RGB, shape).astype(x.dtype)
        return x
    # A reversed view: the result is written over the input's memory, as in Keras.
    x = np.flip(x, axis=_channel_axis(x.ndim, data_format))
    x -= np.reshape(CAFFE_MEAN_BGR, shape).astype(x.dtype)
    return x


def _preprocess_tensor(x, data_format: str, mode: str):
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        x = x / 255.0
        return (x - _channel_constant(TORCH_MEAN_RGB, x, data_format)) / _channel_constant(
            TORCH_STD_RGB, x, data_format)
    bgr = ops.flip(x, axis=_channel_axis(len(x.shape), data_format))
    return bgr - _channel_constant(CAFFE_MEAN_BGR, bgr, data_format)


def _channel_constant(values: tuple, x, data_format: str) -> torch.Tensor:
    """`values` as a tensor broadcasting over the channels of `x`, in its float dtype and on its
    device."""
    dtype = ops.core.to_torch_dtype(x.dtype) if x.dtype.is_floating_point else torch.float32
    device = x.device if isinstance(x, torch.Tensor) else None
    constant = torch.tensor(values, dtype=dtype, device=device)
    return constant.reshape(_per_channel_shape(len(x.shape), data_format))


def decode_predictions(preds, top: int = 5):
    """Keras's ImageNet class names for the top predictions: not available in netknit.

    Keras downloads the table of ImageNet's class names on first use; netknit does not download
    files, so this checks `preds` and then says so. `np.argsort(preds, axis=-1)[:, -top:]`
    gives the indices of the top classes.

    Raises:
        ValueError: always; first if `preds` is not a batch of 1000 class scores.
    """
    shape = tuple(preds.shape)
    if len(shape) != 2 or shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions, an array of shape "
                         f"(samples, 1000). Received an array of shape {shape}")
    raise ValueError(
        "decode_predictions needs ImageNet's class names, which Keras downloads, and netknit "
        "does not download files. The top classes' indices are "
        f"`np.argsort(preds, axis=-1)[:, -{top}:][:, ::-1]`."
    )
