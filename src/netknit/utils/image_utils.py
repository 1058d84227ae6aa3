"""Images to arrays and back, with Pillow: `load_img`, `img_to_array`, `array_to_img`, `save_img`.

They behave as Keras's do: arrays are `(height, width, channels)` (or channels first when asked),
float32 unless told; `array_to_img` stretches values to [0, 255] unless `scale=False`.

>>> image = array_to_img(np.random.rand(8, 8, 3))
>>> img_to_array(image).shape
(8, 8, 3)
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings

import numpy as np

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _pil_image(what: str):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow: pip install pillow") from None
    return Image


def _data_format(data_format: str | None) -> str:
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("Expected data_format 'channels_last' or 'channels_first'. Received: "
                         f"data_format={data_format!r}")
    return data_format


def img_to_array(img, data_format: str | None = None, dtype=None) -> np.ndarray:
    """A Pillow image (or anything NumPy reads) as a `(height, width, channels)` array; a
    grayscale image gets one channel."""
    data_format = _data_format(data_format)
    array = np.asarray(img, dtype=dtype or "float32")
    if array.ndim == 2:
        array = array[None] if data_format == "channels_first" else array[..., None]
    elif array.ndim == 3:
        if data_format == "channels_first":
            array = array.transpose(2, 0, 1)
    else:
        raise ValueError(f"Expected an image of rank 2 or 3. Received an array of shape "
                         f"{array.shape}")
    return array


def array_to_img(x, data_format: str | None = None, scale: bool = True, dtype=None):
    """A Pillow image of a `(height, width, channels)` array of 1 (grayscale), 3 (RGB) or 4
    (RGBA) channels. With `scale`, values are shifted and stretched to fill [0, 255]."""
    image = _pil_image("array_to_img")
    array = np.asarray(x, dtype=dtype or "float32")
    if array.ndim != 3:
        raise ValueError(f"Expected one image, an array of rank 3. Received an array of shape "
                         f"{array.shape}")
    if _data_format(data_format) == "channels_first":
        array = array.transpose(1, 2, 0)
    if scale:
        array = array - np.min(array)
        peak = np.max(array)
        if peak != 0:
            array = array / peak
        array = array * 255
    channels = array.shape[2]
    if channels in (3, 4):
        return image.fromarray(array.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(array) > 255:  # beyond 8 bits: Pillow's 32-bit integer grayscale
            return image.fromarray(array[:, :, 0].astype("int32"), "I")
        return image.fromarray(array[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Expected 1, 3 or 4 channels. Received an image with {channels}.")


def save_img(path, x, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs) -> None:
    """Write the array `x` as an image file, in the format its name gives unless
    `file_format` says; `kwargs` go to Pillow's `Image.save`."""
    if file_format is None and isinstance(path, (str, os.PathLike)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("JPEG has no alpha channel: the RGBA image is saved as RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode: str = "rgb", target_size=None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False):
    """Read an image file as a Pillow image.

    Args:
        path: a path, or an `io.BytesIO` holding the file.
        color_mode: "rgb", "rgba" or "grayscale" (8-bit, unless the file has 16 or 32 bits).
        target_size: `(height, width)` to resize to, or None.
        interpolation: Pillow's resampling filter by name: "nearest", "bilinear", "bicubic",
            "hamming", "box" or "lanczos".
        keep_aspect_ratio: resize the largest centred crop of the target's aspect ratio.
    """
    image = _pil_image("load_img")
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"Expected a path or an io.BytesIO. Received: {type(path).__name__}")
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"Expected color_mode 'grayscale', 'rgb' or 'rgba'. Received: "
                         f"color_mode={color_mode!r}")
    keep = ("L", "I;16", "I") if color_mode == "grayscale" else (_COLOR_MODES[color_mode],)
    if img.mode not in keep:
        img = img.convert(_COLOR_MODES[color_mode])
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])
    if img.size == size:
        return img
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Unknown interpolation {interpolation!r}. Expected one of: "
                         f"{', '.join(_INTERPOLATIONS)}")
    resample = getattr(image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_width = min(width, height * size[0] // size[1])
    crop_height = min(height, width * size[1] // size[0])
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    return img.resize(size, resample, box=(left, top, left + crop_width, top + crop_height))
