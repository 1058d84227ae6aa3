"""`keras.ops.image`: image functions on batches `(batch, height, width, channels)` or single
images `(height, width, channels)` (`channels_last`, or `data_format="channels_first"`).

They reuse the image layers' own pieces: the resizing of Resizing, the colour conversions of the
colour augmentations, and the sampling and blur of the geometric ones. `map_coordinates` (any
rank), `elastic_transform`, `sobel_edges`, `ssim`, `scale_and_translate` and
`extract_patches_3d` follow the arithmetic of Keras's torch backend step for step, so their values
agree with it to float rounding; none of them reads values back to the host.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator

import torch
import torch.nn.functional as F

from ..layers.augmentation import gaussian_blur as _blur
from ..layers.augmentation import homographies, pixel_grid, sample_images
from ..layers.color_augmentation import grayscale
from ..layers.color_augmentation import hsv_to_rgb as _hsv_to_rgb
from ..layers.color_augmentation import rgb_to_hsv as _rgb_to_hsv
from ..layers.preprocessing import check_interpolation, resize_images
from .core import as_float, tensor
from .operation import keras_operation


def _op(class_name: str, call: str = "images", fix: str | None = None):
    return keras_operation("image", class_name, call, fix=fix)


_FIX = "give inputs of the ranks and sizes the message asks for (e.g. a Reshape before)"


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
    check_interpolation(interpolation)
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
    """Patches of `size` (height, width) every `strides` (default: `size`), each flattened
    (row, column, channel) into the last axis: `(batch, rows, columns, height * width *
    channels)`, or without the batch axis for one image. A `size` of 3 values (depth, height,
    width) takes patches of volumes `(batch, depth, height, width, channels)` instead."""
    from .nn import conv

    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"Invalid `size` argument. Expected an int or a tuple. Received: "
                            f"size={size} of type {type(size).__name__}")
        if len(size) not in (2, 3):
            raise ValueError(f"Invalid `size` argument. Expected a tuple of length 2 or 3. "
                             f"Received: size={size} with length {len(size)}")
    size = (size, size) if isinstance(size, int) else tuple(size)
    rank = len(size)
    data_format = _data_format(data_format)
    _check_choice("padding", str(padding).lower(), ("valid", "same"))
    x = tensor(images)
    if x.ndim not in (rank + 1, rank + 2):
        kind = "images (height, width, channels)" if rank == 2 else (
            "volumes (depth, height, width, channels)")
        raise ValueError(f"A size of {rank} values takes patches of {kind}, batched or not: "
                         f"inputs of rank {rank + 1} or {rank + 2}; got shape "
                         f"{tuple(x.shape)}.")
    single = x.ndim == rank + 1
    if single:
        x = x[None]
    if strides is None:
        strides = size
    elif isinstance(strides, int):
        strides = (strides,) * rank
    elif len(strides) != rank:
        raise ValueError(f"Invalid `strides` argument: give an int or {rank} values for "
                         f"patches of size {size}. Got: {strides}")
    channels = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    depth = math.prod(size) * channels
    # An identity kernel: output channel (i * width + j) * channels + c copies pixel (i, j, c).
    kernel = torch.eye(depth, dtype=as_float(x).dtype, device=x.device).reshape(
        *size, channels, depth)
    patches = conv(x, kernel, tuple(strides), padding, data_format, dilation_rate)
    return patches[0] if single else patches


def _data_format(data_format) -> str:
    """Keras's data format names, None meaning channels_last (netknit's image_data_format)."""
    if data_format is None:
        return "channels_last"
    name = str(data_format).lower()
    if name not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first'; got "
                         f"{data_format!r}.")
    return name


def _check_choice(argument: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"Invalid value for argument `{argument}`: {value!r}. Expected one of "
                         f"{sorted(choices)}.")


# ------------------------------------------------------------------ interpolation at points

_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _mirror_index(index: torch.Tensor, size: int) -> torch.Tensor:
    """`(c d c b | a b c d | c b a b)`: a triangular wave of half-period size - 1."""
    if size == 1:
        return torch.zeros_like(index)
    period = size - 1
    return torch.abs(torch.remainder(index + period, 2 * period) - period)


def _fold_index(index: torch.Tensor, size: int, fill_mode: str) -> torch.Tensor:
    """Integer indices outside `[0, size)` brought in as `fill_mode` extends the input (the
    constant fill's taps are clamped, then masked)."""
    if fill_mode in ("constant", "nearest"):
        return index.clamp(0, size - 1)
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if fill_mode == "mirror":
        return _mirror_index(index, size)
    # reflect, `(d c b a | a b c d | d c b a)`: mirror on the grid of half pixels.
    return torch.div(_mirror_index(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")


def _taps(coordinate: torch.Tensor, order: int) -> list:
    """The (integer index, weight) pairs that interpolation of `order` reads along one axis."""
    if order == 0:
        if coordinate.is_floating_point():
            coordinate = torch.round(coordinate)  # half to even
        return [(coordinate.long(), 1)]
    lower = torch.floor(coordinate) if coordinate.is_floating_point() else coordinate
    upper_weight = coordinate - lower
    index = lower.long()
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


def _interpolate(source: torch.Tensor, coordinates: list, order: int, fill_mode: str,
                 fill_value, leading: tuple = ()) -> torch.Tensor:
    """`source` read at fractional `coordinates` along its axes after `leading` (index tensors
    for the axes before them), spline `order` 0 or 1; the axes after the sampled ones are kept
    whole. Keras's `map_coordinates` arithmetic: each tap is folded into the input on its own,
    and the taps' weights multiply before they weigh the values."""
    first = len(leading)
    sizes = source.shape[first:first + len(coordinates)]
    kept = source.ndim - first - len(coordinates)
    integer = not (source.is_floating_point() or source.is_complex())
    if integer and isinstance(fill_value, (int, float)):
        fill_value = int(fill_value)

    def lift(t):  # broadcast a per-point tensor over the kept trailing axes
        return t.reshape(*t.shape, *(1,) * kept) if kept and isinstance(t, torch.Tensor) else t

    per_axis = []
    for coordinate, size in zip(coordinates, sizes):
        per_axis.append([
            (_fold_index(index, size, fill_mode),
             (index >= 0) & (index < size) if fill_mode == "constant" else None, weight)
            for index, weight in _taps(coordinate, order)])
    result = None
    for taps in itertools.product(*per_axis):
        indices, valid, weights = zip(*taps)
        values = source[(*leading, *indices)]
        if fill_mode == "constant":
            values = torch.where(lift(functools.reduce(operator.and_, valid)), values,
                                 fill_value)
        weight = functools.reduce(operator.mul, weights)
        term = values if isinstance(weight, int) and weight == 1 else lift(weight) * values
        result = term if result is None else result + term
    if integer and result.is_floating_point():
        result = torch.round(result)
    return result.to(source.dtype)


@_op("MapCoordinates", "inputs coordinates", fix=_FIX)
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """`inputs` read at `coordinates` (`(inputs.ndim, *points)`: one array of positions per axis
    of `inputs`) by nearest-neighbour (`order=0`) or linear (`order=1`) interpolation; points
    outside are filled as `fill_mode` says. The result has shape `coordinates.shape[1:]` and
    the dtype of `inputs` (integer inputs are rounded)."""
    x = tensor(inputs)
    if isinstance(coordinates, (list, tuple)):
        axes = [tensor(c, like=x) for c in coordinates]
    else:
        coordinates = tensor(coordinates, like=x)
        axes = list(coordinates.unbind(0)) if coordinates.ndim else [coordinates]
    if len(axes) != x.ndim:
        raise ValueError(f"First dim of `coordinates` must be the same as the rank of `inputs`: "
                         f"inputs of shape {tuple(x.shape)} need {x.ndim} arrays of positions; "
                         f"got {len(axes)}.")
    if not axes or axes[0].ndim < 1:
        raise ValueError("Invalid coordinates rank: expected at least rank 2 (one array of "
                         f"positions per axis of `inputs`); got {len(axes)} scalars.")
    shapes = {tuple(a.shape) for a in axes}
    if len(shapes) != 1:
        raise ValueError(f"The arrays of positions in `coordinates` must have one shape; got "
                         f"{sorted(shapes)}.")
    _check_choice("fill_mode", fill_mode, _FILL_MODES)
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates supports order 0 (nearest) or 1 (linear); "
                                  f"got order={order!r}.")
    return _interpolate(x, axes, order, fill_mode, fill_value)


# ---------------------------------------------------------------------------- elastic warp

@_op("ElasticTransform", fix=_FIX)
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Each pixel moved by a random displacement field: standard normal noise (one field per
    image for x, one for y) times `sigma`, smoothed by a Gaussian of standard deviation `sigma`
    (kernel `int(6 * sigma) | 1` wide, zero-padded), times `alpha`; the image is read there
    as `map_coordinates` reads it. `seed`: None (torch's global generator), an int (the same
    field every call) or a `keras.random.SeedGenerator`."""
    data_format = _data_format(data_format)
    _check_choice("interpolation", interpolation, ("nearest", "bilinear"))
    _check_choice("fill_mode", fill_mode, _FILL_MODES)
    x = tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch "
                         f"of images). Received input with shape: images.shape={tuple(x.shape)}")
    sigma = float(sigma)
    if not sigma > 0:
        raise ValueError(f"elastic_transform's sigma must be positive; got {sigma}.")
    single = x.ndim == 3
    if single:
        x = x[None]
    if data_format == "channels_first":
        x = x.permute(0, 2, 3, 1)
    batch, height, width = x.shape[:3]
    noise_dtype = as_float(x).dtype
    from ..random import _generator

    generator = None if x.device.type == "meta" else _generator(seed, x.device)
    dx, dy = (torch.randn((batch, height, width), generator=generator, dtype=noise_dtype,
                          device=x.device) for _ in range(2))
    out = _elastic_warp(x, dx, dy, alpha, sigma, interpolation, fill_mode, fill_value)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out[0] if single else out


def _elastic_warp(images, dx, dy, alpha, sigma, interpolation, fill_mode, fill_value):
    """Channels-last `images` warped by the standard normal fields `dx`, `dy` (batch, height,
    width), smoothed and scaled as `elastic_transform` says."""
    size = int(6 * sigma) | 1
    fields = _blur(torch.stack([dx, dy], 1) * sigma, (size, size), sigma, sigma)
    alpha = alpha.to(fields.dtype) if isinstance(alpha, torch.Tensor) else alpha
    batch, height, width = images.shape[:3]
    rows = torch.arange(height, device=images.device)[:, None] + alpha * fields[:, 1]
    columns = torch.arange(width, device=images.device) + alpha * fields[:, 0]
    batch_index = torch.arange(batch, device=images.device).reshape(-1, 1, 1)
    return _interpolate(images, [rows, columns], 0 if interpolation == "nearest" else 1,
                        fill_mode, fill_value, leading=(batch_index,))


# ------------------------------------------------------------------------- edges and SSIM

def _sobel_kernels(dtype, device) -> torch.Tensor:
    smooth = torch.tensor([1.0, 2.0, 1.0], dtype=dtype, device=device)
    slope = torch.tensor([-1.0, 0.0, 1.0], dtype=dtype, device=device)
    return torch.stack([slope[:, None] * smooth, smooth[:, None] * slope])[:, None]  # dy, dx


@_op("SobelEdges", fix=_FIX)
def sobel_edges(images, data_format=None):
    """The vertical and horizontal Sobel gradients of each channel (3x3 kernels, zero-padded):
    `(batch, height, width, channels, 2)` for channels_last, `(batch, channels, height, width,
    2)` for channels_first, the last axis holding `[dy, dx]`. Integer images give float32."""
    data_format = _data_format(data_format)
    x = tensor(images)
    if x.ndim != 4:
        raise ValueError("Invalid images rank: expected rank 4 (batch of images). Received: "
                         f"images.shape={list(x.shape)}")
    x = as_float(x)
    if data_format == "channels_last":
        x = x.permute(0, 3, 1, 2)
    batch, channels, height, width = x.shape
    edges = F.conv2d(x.reshape(batch * channels, 1, height, width),
                     _sobel_kernels(x.dtype, x.device), padding=1)
    edges = edges.reshape(batch, channels, 2, height, width)
    order = (0, 3, 4, 1, 2) if data_format == "channels_last" else (0, 1, 3, 4, 2)
    return edges.permute(order)


@_op("SSIM", "image1 image2", fix=_FIX)
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """The structural similarity of each pair of images, averaged over the channels and over
    the positions of a `filter_size` Gaussian window (`filter_sigma`) inside the images (no
    padding): one value per image of a batch, a scalar for single images. Differentiable: use
    `1 - ssim` as a loss. Integer images give float32."""
    data_format = _data_format(data_format)
    a, b = tensor(image1), tensor(image2)
    for name, t in (("image1", a), ("image2", b)):
        if t.ndim not in (3, 4):
            raise ValueError(f"Invalid {name} rank: expected rank 3 (single image) or rank 4 "
                             f"(batch of images). Received input with shape: "
                             f"{name}.shape={tuple(t.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"image1 and image2 must have one shape; got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}.")
    if isinstance(filter_size, bool) or not isinstance(filter_size, int) or filter_size < 1:
        raise ValueError(f"filter_size must be a positive int; got {filter_size!r}.")
    single = a.ndim == 3
    if single:
        a, b = a[None], b[None]
    if data_format == "channels_last":
        a, b = a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)
    batch, channels, height, width = a.shape
    if min(height, width) < filter_size:
        raise ValueError(f"ssim's images ({height}x{width}) must be at least filter_size "
                         f"({filter_size}) high and wide: give a smaller filter_size.")
    dtype = as_float(a).dtype
    a, b = a.to(dtype), b.to(dtype)
    offsets = torch.arange(filter_size, dtype=dtype, device=a.device) - (filter_size - 1) / 2.0
    window = torch.exp(-(offsets ** 2) / (2.0 * filter_sigma ** 2))
    window = window / window.sum()
    kernel = torch.outer(window, window)[None, None]
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    # The five local means in one convolution: of a, b, a², b² and ab, each channel alone.
    stack = torch.stack([a, b, a * a, b * b, a * b]).reshape(-1, 1, height, width)
    mu1, mu2, m11, m22, m12 = F.conv2d(stack, kernel).reshape(5, batch * channels, -1)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    numerator = (2.0 * mu1_mu2 + c1) * (2.0 * (m12 - mu1_mu2) + c2)
    denominator = (mu1_sq + mu2_sq + c1) * ((m11 - mu1_sq) + (m22 - mu2_sq) + c2)
    values = (numerator / denominator).mean(-1).reshape(batch, channels).mean(-1)
    return values[0] if single else values


# ------------------------------------------------------------------ scale and translation

def _triangle(x):
    return torch.clamp(1 - torch.abs(x), min=0)


def _keys_cubic(x):
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return torch.where(x >= 2.0, 0.0, torch.where(x >= 1.0, far, near))


def _lanczos(radius: float):
    def kernel(x):
        y = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
        safe = torch.where(x != 0, math.pi ** 2 * x ** 2, 1)
        return torch.where(x > radius, 0.0, torch.where(x > 1e-3, y / safe, 1))

    return kernel


_SCALE_KERNELS = {
    **dict.fromkeys(("linear", "bilinear", "trilinear", "triangle"), _triangle),
    **dict.fromkeys(("cubic", "bicubic", "tricubic"), _keys_cubic),
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
}


def _resampling_matrix(input_size: int, output_size: int, scale, translation, kernel,
                       antialias: bool) -> torch.Tensor:
    """(input_size, output_size) weights: output pixel j reads the input around
    `(j + 0.5 - translation) / scale - 0.5`, by `kernel` stretched by 1 / scale when
    antialiasing a downsampling; columns that sample outside the input are zero."""
    inverse = 1.0 / scale
    stretch = torch.clamp(inverse, min=1.0) if antialias else 1.0
    samples = ((torch.arange(output_size, dtype=scale.dtype, device=scale.device) + 0.5)
               * inverse - translation * inverse - 0.5)
    inputs = torch.arange(input_size, dtype=scale.dtype, device=scale.device)
    weights = kernel(torch.abs(samples[None, :] - inputs[:, None]) / stretch)
    totals = weights.sum(0, keepdim=True)
    weights = torch.where(torch.abs(totals) > 1000.0 * float(torch.finfo(torch.float32).eps),
                          weights / torch.where(totals != 0, totals, 1), 0)
    inside = (samples >= -0.5) & (samples <= input_size - 0.5)
    return torch.where(inside[None, :], weights, 0)


@_op("ScaleAndTranslate", "images output_shape scale translation", fix=_FIX)
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """`images` resampled to `output_shape` along `spatial_dims`: input position x lands at
    `x * scale[k] + translation[k]` along `spatial_dims[k]` (pixel centres at index + 0.5),
    read with the `method` kernel (linear, cubic (Keys) or Lanczos 3/5), antialiased when
    shrinking; output pixels that map outside the input are zero. The other axes are kept."""
    _check_choice("method", method, tuple(_SCALE_KERNELS))
    x = tensor(images)
    spatial_dims = (spatial_dims,) if isinstance(spatial_dims, int) else tuple(spatial_dims)
    output_shape = tuple(output_shape)
    if len(output_shape) != x.ndim:
        raise ValueError(f"output_shape {output_shape} must give a size for each of the "
                         f"{x.ndim} axes of images of shape {tuple(x.shape)}.")
    axes = []
    for d in spatial_dims:
        if not -x.ndim <= d < x.ndim:
            raise ValueError(f"spatial_dims {spatial_dims} must be axes of images of rank "
                             f"{x.ndim}.")
        axes.append(d % x.ndim)
    for d, n in enumerate(output_shape):
        if d in axes:
            if not isinstance(n, int) or n < 0:
                raise ValueError(f"output_shape {output_shape} must give a size (an int) for "
                                 f"each axis of spatial_dims {spatial_dims}.")
        elif n is not None and n != x.shape[d]:
            raise ValueError(f"scale_and_translate only resizes the spatial_dims "
                             f"{spatial_dims}: output_shape {output_shape} must keep the size "
                             f"{x.shape[d]} of axis {d} (or give None there).")
    scale, translation = tensor(scale, like=x), tensor(translation, like=x)
    for name, value in (("scale", scale), ("translation", translation)):
        if value.ndim != 1 or value.shape[0] != len(axes):
            raise ValueError(f"{name} must hold one value per axis of spatial_dims "
                             f"{spatial_dims}; got shape {tuple(value.shape)}.")
    dtype = torch.promote_types(scale.dtype, translation.dtype)
    dtype = dtype if dtype.is_floating_point else torch.float32
    scale, translation = scale.to(dtype), translation.to(dtype)
    integer = not (x.is_floating_point() or x.is_complex())
    out = x.to(torch.float32) if integer else x
    kernel = _SCALE_KERNELS[method]
    for k, d in enumerate(axes):
        weights = _resampling_matrix(x.shape[d], output_shape[d], scale[k], translation[k],
                                     kernel, antialias).to(out.dtype)
        out = torch.movedim(torch.tensordot(out, weights, dims=([d], [0])), -1, d)
    if integer and axes:
        out = torch.clamp(torch.round(out), x.min(), x.max()).to(x.dtype)
    return out


# ------------------------------------------------------------------------- volume patches

def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Patches of `size` (depth, height, width) every `strides` (default: `size`) of volumes
    `(batch, depth, height, width, channels)` or one volume, each flattened (depth, row,
    column, channel) into the last axis. On symbolic tensors this records Keras's
    `ExtractPatches` operation, as Keras does."""
    if isinstance(size, int):
        size = (size, size, size)
    if not isinstance(size, (tuple, list)) or len(size) != 3:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length 3. "
                        f"Received: size={size}")
    return extract_patches(volumes, tuple(size), strides, dilation_rate, padding, data_format)
