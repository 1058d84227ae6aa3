"""`keras.ops.image`: image functions on batches `(batch, height, width, channels)` or single
images `(height, width, channels)` (`channels_last`, or `data_format="channels_first"`).

They reuse the image layers' own pieces: the resizing of Resizing, the colour conversions of the
colour augmentations, and the sampling and blur of the geometric ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..layers.augmentation import gaussian_blur as _blur
from ..layers.augmentation import homographies, pixel_grid, sample_images
from ..layers.color_augmentation import grayscale
from ..layers.color_augmentation import hsv_to_rgb as _hsv_to_rgb
from ..layers.color_augmentation import rgb_to_hsv as _rgb_to_hsv
from ..layers.preprocessing import resize_images
from .core import as_float, tensor
from .operation import keras_operation


def _op(class_name: str, call: str = "images"):
    return keras_operation("image", class_name, call)


def _channels_first(images, data_format) -> tuple[torch.Tensor, bool]:
    """Channels-first, batched images, and whether the input was a single image."""
    images = tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"Images must be of rank 3 (one image) or 4 (a batch); got shape "
                         f"{tuple(images.shape)}.")
    single = images.ndim == 3
    if single:
        images = images[None]
    if data_format in (None, "channels_last"):
        images = images.permute(0, 3, 1, 2)
    return images, single


def _back(images: torch.Tensor, single: bool, data_format) -> torch.Tensor:
    if data_format in (None, "channels_last"):
        images = images.permute(0, 2, 3, 1)
    return images[0] if single else images


def _per_channel(function):
    def apply(images, data_format=None):
        x, single = _channels_first(images, data_format)
        return _back(function(as_float(x)), single, data_format)

    return apply


@_op("RGBToGrayscale")
def rgb_to_grayscale(images, data_format=None):
    return _per_channel(grayscale)(images, data_format)


@_op("RGBToHSV")
def rgb_to_hsv(images, data_format=None):
    return _per_channel(_rgb_to_hsv)(images, data_format)


@_op("HSVToRGB")
def hsv_to_rgb(images, data_format=None):
    return _per_channel(_hsv_to_rgb)(images, data_format)


@_op("Resize")
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    x, single = _channels_first(images, data_format)
    height, width = size
    return _back(resize_images(x, height, width, interpolation, crop_to_aspect_ratio,
                               pad_to_aspect_ratio, fill_value, antialias), single, data_format)


@_op("GaussianBlur")
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    x, single = _channels_first(images, data_format)
    kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sigma = (sigma, sigma) if isinstance(sigma, (int, float)) else sigma
    # Keras's sigma is (along x, along y).
    return _back(_blur(as_float(x), tuple(kernel_size), sigma[1], sigma[0]), single,
                 data_format)


@_op("AffineTransform", "images transform")
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Each output pixel (x, y) reads the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2)
    / k), k = c0 x + c1 y + 1, for a row `[a0, a1, a2, b0, b1, b2, c0, c1]` of `transform`."""
    x, single = _channels_first(images, data_format)
    x = as_float(x)
    rows = tensor(transform, like=x).to(x.dtype).reshape(-1, 8).expand(x.shape[0], 8)
    matrices = torch.cat([rows, torch.ones_like(rows[:, :1])], 1).reshape(-1, 3, 3)
    return _back(_warp(x, matrices, fill_mode, fill_value, interpolation), single, data_format)


@_op("PerspectiveTransform", "images start_points end_points")
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warps the images so that the 4 `start_points` (x, y) land on the `end_points`."""
    x, single = _channels_first(images, data_format)
    x = as_float(x)
    start, end = (tensor(p, like=x).to(x.dtype).reshape(-1, 4, 2).expand(x.shape[0], 4, 2)
                  for p in (start_points, end_points))
    return _back(_warp(x, homographies(start, end), "constant", fill_value, interpolation),
                 single, data_format)


def _warp(images, matrices, fill_mode, fill_value, interpolation):
    """Each output pixel read at `matrices @ (x, y, 1)` (projective), per image."""
    xs, ys = pixel_grid(*images.shape[-2:], like=images)
    points = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(-1, 3)  # (pixels, 3)
    mapped = torch.einsum("bij,pj->bpi", matrices, points)
    source_x = (mapped[..., 0] / mapped[..., 2]).reshape(-1, *xs.shape)
    source_y = (mapped[..., 1] / mapped[..., 2]).reshape(-1, *xs.shape)
    return sample_images(images, source_x, source_y, fill_mode, fill_value, interpolation)


def _check_two_of(first, second, target, names) -> None:
    """Keras's rule for crop_images/pad_images: two of (first, second, target) give the third."""
    if sum(v is not None for v in (first, second, target)) != 2:
        raise ValueError(f"Give exactly two of {names[0]}, {names[1]} and {names[2]}; got "
                         f"{first}, {second} and {target}.")


@_op("CropImages")
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    x, single = _channels_first(images, data_format)
    height, width = x.shape[-2:]
    _check_two_of(top_cropping, bottom_cropping, target_height,
                  ("top_cropping", "bottom_cropping", "target_height"))
    _check_two_of(left_cropping, right_cropping, target_width,
                  ("left_cropping", "right_cropping", "target_width"))
    top, bottom, left, right = top_cropping, bottom_cropping, left_cropping, right_cropping
    top = height - bottom - target_height if top is None else top
    left = width - right - target_width if left is None else left
    target_height = height - top - bottom if target_height is None else target_height
    target_width = width - left - right if target_width is None else target_width
    if min(top, left, target_height, target_width) < 0 or top + target_height > height or (
            left + target_width > width):
        raise ValueError(f"The cropping does not fit images of {height}x{width}.")
    return _back(x[..., top:top + target_height, left:left + target_width], single, data_format)


@_op("PadImages")
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    x, single = _channels_first(images, data_format)
    height, width = x.shape[-2:]
    _check_two_of(top_padding, bottom_padding, target_height,
                  ("top_padding", "bottom_padding", "target_height"))
    _check_two_of(left_padding, right_padding, target_width,
                  ("left_padding", "right_padding", "target_width"))
    top, bottom, left, right = top_padding, bottom_padding, left_padding, right_padding
    top = target_height - height - bottom if top is None else top
    bottom = target_height - height - top if bottom is None else bottom
    left = target_width - width - right if left is None else left
    right = target_width - width - left if right is None else right
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"The padding does not fit images of {height}x{width}: a target size "
                         "is smaller than the image.")
    return _back(F.pad(x, (left, right, top, bottom)), single, data_format)


@_op("ExtractPatches")
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of `size` (height, width) every `strides`, each flattened (row, column,
    channel) into the last axis: `(batch, rows, columns, height * width * channels)`."""
    from .nn import conv

    x = tensor(images)
    size = (size, size) if isinstance(size, int) else tuple(size)
    strides = size if strides is None else strides
    channels_last = data_format in (None, "channels_last")
    channels = x.shape[-1] if channels_last else x.shape[-3]
    depth = size[0] * size[1] * channels
    # An identity kernel: output channel (i * width + j) * channels + c copies pixel (i, j, c).
    kernel = torch.eye(depth, dtype=as_float(x).dtype, device=x.device).reshape(
        size[0], size[1], channels, depth)
    return conv(x, kernel, strides, padding, data_format, dilation_rate)
