"""Bounding boxes: conversions between formats, clipping to the image, affine maps, crops and
pads, IoU and CIoU, and encodings as deltas against anchors (Keras's
`keras.utils.bounding_boxes`).

A box is four numbers on the last axis; `boxes` are `(num_boxes, 4)` or `(batch, num_boxes, 4)`,
given as tensors, NumPy arrays or nested lists, and returned as torch tensors. Formats
(case-insensitive), in pixels or, with `rel_`, as fractions of the image's height and width:

- `"xyxy"`: left, top, right, bottom; `"yxyx"`: top, left, bottom, right;
- `"xywh"`: left, top, width, height;
- `"center_xywh"`: centre x, centre y, width, height; `"center_yxhw"`: centre y, centre x,
  height, width;
- `"rel_xyxy"`, `"rel_yxyx"`, `"rel_xywh"`, `"rel_center_xywh"`: the relative versions.

Where Keras's functions take a dict `{"boxes": ..., "labels": ...}`, these do too, and return a
new dict rather than changing the one given (Keras writes into it).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..ops.core import to_torch_dtype

__all__ = ["affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou",
           "convert_format", "crop", "decode_deltas_to_boxes", "encode_box_to_deltas", "pad"]

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
           "rel_xywh", "rel_center_xywh")
_EPSILON = 1e-7  # Keras's backend.epsilon()


def _tensor(value, dtype=None) -> torch.Tensor:
    """A tensor of `value` (a tensor, an array or nested lists), cast to `dtype` if given."""
    if not torch.is_tensor(value):
        value = torch.as_tensor(np.ascontiguousarray(value))  # torch takes no negative strides
    return value if dtype is None else value.to(dtype)


def _size(value, like: torch.Tensor):
    """An image height or width (a number or a tensor, e.g. one per image) in `like`'s dtype."""
    return torch.as_tensor(value, dtype=like.dtype, device=like.device)


def check_format(name: str, value) -> str:
    """`value` lower-cased, if it names one of the box formats."""
    if not isinstance(value, str) or value.lower() not in FORMATS:
        raise ValueError(f"Expected {name} to be one of {', '.join(FORMATS)}. Received: "
                         f"{name}={value!r}")
    return value.lower()


def _check_boxes(boxes: torch.Tensor) -> None:
    if boxes.dim() == 0 or boxes.shape[-1] != 4:
        raise ValueError("`boxes` must be a tensor with the last dimension of 4. Received: "
                         f"boxes.shape={tuple(boxes.shape)}")


def _columns(boxes: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The four coordinates, each keeping a last axis of 1 (so that a size per image, shaped
    `(batch, 1, 1)`, broadcasts against them, as in Keras)."""
    return boxes.split(1, dim=-1)


def _to_xyxy(boxes: torch.Tensor, source: str, height, width) -> torch.Tensor:
    a, b, c, d = _columns(boxes)
    if source == "xyxy":
        return boxes
    if source == "yxyx":
        corners = (b, a, d, c)
    elif source == "xywh":
        corners = (a, b, a + c, b + d)
    elif source in ("center_xywh", "center_yxhw"):
        cx, cy, w, h = (a, b, c, d) if source == "center_xywh" else (b, a, d, c)
        corners = (cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    elif source == "rel_xyxy":
        corners = (a * width, b * height, c * width, d * height)
    elif source == "rel_yxyx":
        corners = (b * width, a * height, d * width, c * height)
    elif source == "rel_xywh":
        corners = (a * width, b * height, (a + c) * width, (b + d) * height)
    else:  # rel_center_xywh
        corners = ((a - c / 2.0) * width, (b - d / 2.0) * height, (a + c / 2.0) * width,
                   (b + d / 2.0) * height)
    return torch.cat(corners, -1)


def _from_xyxy(boxes: torch.Tensor, target: str, height, width) -> torch.Tensor:
    x1, y1, x2, y2 = _columns(boxes)
    if target == "xyxy":
        return boxes
    if target == "yxyx":
        values = (y1, x1, y2, x2)
    elif target == "xywh":
        values = (x1, y1, x2 - x1, y2 - y1)
    elif target in ("center_xywh", "center_yxhw"):
        cx, cy = x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0
        w, h = x2 - x1, y2 - y1
        values = (cx, cy, w, h) if target == "center_xywh" else (cy, cx, h, w)
    elif target == "rel_xyxy":
        values = (x1 / width, y1 / height, x2 / width, y2 / height)
    elif target == "rel_yxyx":
        values = (y1 / height, x1 / width, y2 / height, x2 / width)
    elif target == "rel_xywh":
        values = (x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)
    else:  # rel_center_xywh
        values = ((x1 + (x2 - x1) / 2.0) / width, (y1 + (y2 - y1) / 2.0) / height,
                  (x2 - x1) / width, (y2 - y1) / height)
    return torch.cat(values, -1)


def convert_format(boxes, source: str, target: str, height=None, width=None,
                   dtype="float32"):
    """Converts bounding boxes from one format to another.

    Args:
        boxes: `(..., 4)` boxes, or a dict whose `"boxes"` are converted (the rest is kept).
        source: the format of `boxes` (see the module's list).
        target: the format to convert to.
        height, width: the image's size, needed when either format is relative (a number, or a
            tensor that broadcasts against one coordinate, `(..., 1)`).
        dtype: the dtype of the result (default `"float32"`), the boxes are cast to it first.

    Returns:
        The converted boxes (a new dict for a dict).

    Raises:
        ValueError: for boxes whose last axis is not 4, an unknown format, or a relative format
            without `height` and `width`.

    >>> convert_format([[10, 20, 30, 40]], source="xyxy", target="xywh")
    tensor([[10., 20., 20., 20.]])
    """
    if isinstance(boxes, dict):
        return {**boxes, "boxes": convert_format(boxes["boxes"], source, target, height, width,
                                                 dtype)}
    boxes = _tensor(boxes)
    _check_boxes(boxes)
    if not (isinstance(source, str) and isinstance(target, str)
            and source.lower() in FORMATS and target.lower() in FORMATS):
        raise ValueError(f"Invalid source or target format. Expected each to be one of "
                         f"{', '.join(FORMATS)}. Received: source={source!r}, target={target!r}")
    source, target = source.lower(), target.lower()
    if (source.startswith("rel_") or target.startswith("rel_")) and (
            height is None or width is None):
        raise ValueError(f"convert_format() needs the image's height and width to convert from "
                         f"{source!r} to {target!r} (a relative format). Received: "
                         f"height={height!r}, width={width!r}")
    boxes = boxes.to(to_torch_dtype(dtype))
    if source == target:
        return boxes
    if height is not None and width is not None:
        height, width = _size(height, boxes), _size(width, boxes)
    if source.startswith("rel_") and target.startswith("rel_"):
        # From one relative format to another: the same maths as between absolute formats.
        source, target = source[4:], target[4:]
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width)


def _clip(value: torch.Tensor, high) -> torch.Tensor:
    value = value.clamp_min(0)
    return torch.minimum(value, high) if torch.is_tensor(high) else value.clamp_max(high)


def _area(boxes: torch.Tensor) -> torch.Tensor:
    """Width times height of `xyxy` boxes, without the last axis."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return (x2 - x1) * (y2 - y1)


def _unsupported_format(function: str, value, supported=("xyxy",)) -> NotImplementedError:
    return NotImplementedError(
        f"{function}() works on boxes in {' or '.join(repr(s) for s in supported)} format only "
        f"(as in Keras). Received: bounding_box_format={value!r}. Convert them first with "
        f"convert_format().")


def clip_to_image_size(bounding_boxes: dict, height=None, width=None,
                       bounding_box_format: str = "xyxy") -> dict:
    """Clips boxes to the image, and marks those left without area with the label -1.

    Args:
        bounding_boxes: a dict with `"boxes"` `(N, 4)` or `(batch, N, 4)` and, optionally,
            `"labels"` `(N,)` or `(batch, N)`.
        height, width: the image's size (needed for `"xyxy"`).
        bounding_box_format: `"xyxy"` (default; boxes clipped to `[0, width] x [0, height]`) or
            `"rel_xyxy"` (clipped to `[0, 1]`).

    Returns:
        A new dict with the clipped boxes (in their dtype) and, where labels were given, the
        labels of boxes whose area (width times height) is not positive set to -1.

    Raises:
        NotImplementedError: for any other format (convert the boxes first).
        ValueError: for `"xyxy"` without `height` and `width`.

    >>> clipped = clip_to_image_size({"boxes": [[-10, -20, 150, 160], [130, 0, 140, 10]],
    ...                               "labels": [0, 1]}, height=100, width=120)
    >>> clipped["boxes"].tolist(), clipped["labels"].tolist()
    ([[0, 0, 120, 100], [120, 0, 120, 10]], [0, -1])
    """
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise _unsupported_format("clip_to_image_size", bounding_box_format,
                                  ("xyxy", "rel_xyxy"))
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("clip_to_image_size() needs the image's height and width for boxes in "
                         f"'xyxy' format. Received: height={height!r}, width={width!r}")
    boxes = _tensor(bounding_boxes["boxes"])
    if bounding_box_format == "xyxy":
        height, width = _size(height, boxes), _size(width, boxes)
    else:
        height = width = 1.0
    x1, y1, x2, y2 = _columns(boxes)
    boxes = torch.cat([_clip(x1, width), _clip(y1, height), _clip(x2, width),
                       _clip(y2, height)], -1)
    result = {**bounding_boxes, "boxes": boxes}
    if bounding_boxes.get("labels") is not None:
        labels = _tensor(bounding_boxes["labels"]).to(boxes.device)
        kept = _area(boxes) > 0
        # Labels with more axes than one per box (e.g. one-hot) are marked whole.
        kept = kept.reshape(kept.shape + (1,) * (labels.dim() - kept.dim()))
        result["labels"] = torch.where(kept, labels, -1)
    return result


def _per_batch(value, batch: int, dtype, device) -> torch.Tensor:
    """A parameter of `affine_transform` as a `(batch,)` tensor (a number applies to all)."""
    return torch.as_tensor(value, dtype=dtype, device=device).reshape(-1).expand(batch)


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height,
                     width, center_x=None, center_y=None, bounding_box_format: str = "xyxy"):
    """Moves boxes as an affine transformation moves the image they lie on.

    The transformation (torchvision's parametrization, which Keras's uses) rotates by `angle`,
    scales by `scale` and shears by `shear_x`, `shear_y` about the point `(center_x * (width
    - 1), center_y * (height - 1))`, then shifts by `translate_x * (width - 1)`, `translate_y
    * (height - 1)`. Each box's corners are mapped, and the box around them is returned.

    Args:
        boxes: `(batch, N, 4)` boxes in `"xyxy"` format, or `(N, 4)` for one image.
        angle: the rotation in degrees, one per image `(batch,)` or one number for all.
        translate_x, translate_y: the shift, as fractions of `width - 1` and `height - 1`.
        scale: the scaling factor.
        shear_x, shear_y: the shear angles in degrees.
        height, width: the image's size.
        center_x, center_y: the centre of the transformation, as fractions (default 0.5).
        bounding_box_format: must be `"xyxy"`.

    Returns:
        The moved boxes, of the shape of `boxes`, in `angle`'s dtype (float32 for a number).

    Raises:
        NotImplementedError: for any format but `"xyxy"`.

    >>> boxes = affine_transform([[[0.0, 0.0, 2.0, 2.0]]], angle=0.0, translate_x=0.5,
    ...                          translate_y=0.0, scale=1.0, shear_x=0.0, shear_y=0.0,
    ...                          height=5, width=5)
    >>> boxes.tolist()
    [[[2.0, 0.0, 4.0, 2.0]]]
    """
    if bounding_box_format != "xyxy":
        raise _unsupported_format("affine_transform", bounding_box_format)
    boxes = _tensor(boxes)
    _check_boxes(boxes)
    single = boxes.dim() == 2
    if single:
        boxes = boxes.unsqueeze(0)
    batch = boxes.shape[0]
    angle = torch.as_tensor(angle, device=boxes.device)
    dtype = angle.dtype if angle.is_floating_point() else torch.float32
    params = [_per_batch(v, batch, dtype, boxes.device) for v in (
        angle, translate_x, translate_y, scale, shear_x, shear_y)]
    matrix = _inverse_affine_matrix(0.5 if center_x is None else center_x,
                                    0.5 if center_y is None else center_y, *params, height,
                                    width)
    x1, y1, x2, y2 = boxes.to(dtype).unbind(-1)
    corners = torch.stack([x1, y1, x2, y1, x2, y2, x1, y2], -1).reshape(*x1.shape, 4, 2)
    points = torch.cat([corners, torch.ones_like(corners[..., :1])], -1)
    moved = points @ matrix[:, None, :2, :].transpose(-1, -2)  # (batch, N, 4, 2)
    out = torch.cat([moved.amin(-2), moved.amax(-2)], -1)
    return out.squeeze(0) if single else out


def _inverse_affine_matrix(center_x, center_y, angle, translate_x, translate_y, scale, shear_x,
                           shear_y, height, width) -> torch.Tensor:
    """`(batch, 3, 3)` maps from input to output pixels of the transformation that
    `affine_transform` describes (torchvision's `_get_inverse_affine_matrix`, batched)."""
    degrees = math.pi / 180.0
    cx, cy = center_x * (width - 1), center_y * (height - 1)
    rotation = -angle * degrees
    tx, ty = -translate_x * (width - 1), -translate_y * (height - 1)
    sx, sy = -shear_x * degrees, -shear_y * degrees
    cos_sy, tan_sx = torch.cos(sy), torch.tan(sx)
    # The rotation-shear matrix [[a, b], [c, d]] (determinant 1), then its inverse, scaled.
    a = torch.cos(rotation - sy) / cos_sy
    b = a * tan_sx + torch.sin(rotation)
    c = -torch.sin(rotation - sy) / cos_sy
    d = torch.cos(rotation) - c * tan_sx
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    zeros, ones = torch.zeros_like(a0), torch.ones_like(a0)
    return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros, ones], -1).reshape(-1, 3, 3)


def crop(boxes, top, left, height, width, bounding_box_format: str = "xyxy"):
    """Boxes in the frame of a crop of the image: shifted by `(left, top)` and clipped to the
    crop's `width` and `height`.

    Args:
        boxes: `(N, 4)` or `(batch, N, 4)` boxes in `"xyxy"` format.
        top, left: the crop's top-left corner in the image.
        height, width: the crop's size.
        bounding_box_format: must be `"xyxy"`.

    Returns:
        The cropped boxes, in the dtype of `boxes`.

    Raises:
        NotImplementedError: for any format but `"xyxy"`.

    >>> crop([[10.0, 20.0, 50.0, 60.0]], top=10, left=20, height=40, width=30).tolist()
    [[0.0, 10.0, 30.0, 40.0]]
    """
    if bounding_box_format != "xyxy":
        raise _unsupported_format("crop", bounding_box_format)
    x1, y1, x2, y2 = _columns(_tensor(boxes))
    return torch.cat([_clip(x1 - left, width), _clip(y1 - top, height),
                      _clip(x2 - left, width), _clip(y2 - top, height)], -1)


def pad(boxes, top, left, height=None, width=None, bounding_box_format: str = "xyxy"):
    """Boxes in the frame of the image padded by `top` rows and `left` columns: shifted by
    `(left, top)`.

    Args:
        boxes: `(N, 4)` or `(batch, N, 4)` boxes in `"xyxy"` format.
        top, left: the padding above and to the left.
        height, width: the padded image's size (unused, as in Keras).
        bounding_box_format: must be `"xyxy"`.

    Returns:
        The shifted boxes, in the dtype of `boxes`.

    Raises:
        NotImplementedError: for any format but `"xyxy"`.

    >>> pad([[10.0, 20.0, 50.0, 60.0]], top=10, left=20).tolist()
    [[30.0, 30.0, 70.0, 70.0]]
    """
    if bounding_box_format != "xyxy":
        raise _unsupported_format("pad", bounding_box_format)
    x1, y1, x2, y2 = _columns(_tensor(boxes))
    return torch.cat([x1 + left, y1 + top, x2 + left, y2 + top], -1)


def _image_size(image_shape) -> tuple:
    """(height, width) of an `image_shape` `(height, width, channels)`, or (None, None)."""
    return (None, None) if image_shape is None else (image_shape[0], image_shape[1])


def _check_rank(name: str, boxes: torch.Tensor) -> None:
    if boxes.dim() not in (2, 3):
        raise ValueError(f"compute_iou() expects {name} of shape (num_boxes, 4) or (batch, "
                         f"num_boxes, 4). Received: {name}.shape={tuple(boxes.shape)}")


def _relative_needs_shape(bounding_box_format: str, image_shape) -> None:
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         "`image_shape` argument must be provided, (height, width, channels). "
                         f"Received: bounding_box_format={bounding_box_format!r}, "
                         "image_shape=None")


def compute_iou(boxes1, boxes2, bounding_box_format: str, use_masking: bool = False,
                mask_val=-1, image_shape=None):
    """The intersection over union of every box of `boxes1` with every box of `boxes2`.

    Batched and unbatched boxes mix: `(M, 4)` with `(N, 4)` gives `(M, N)`; when either has a
    batch axis, `(batch, M, N)`.

    Args:
        boxes1, boxes2: `(M, 4)` / `(N, 4)` boxes, or with a batch axis first.
        bounding_box_format: their format (case-insensitive).
        use_masking: give pairs where either box has all four coordinates negative (padding)
            the value `mask_val` instead.
        mask_val: that value (default -1).
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The IoUs, float32, `area(intersection) / (area(union) + 1e-7)`.

    Raises:
        ValueError: for boxes of another rank, or a relative format without `image_shape`.

    >>> compute_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10]], "xyxy").tolist()
    [[1.0, 0.3333333432674408]]
    """
    boxes1, boxes2 = _tensor(boxes1), _tensor(boxes2)
    _check_rank("boxes1", boxes1)
    _check_rank("boxes2", boxes2)
    _relative_needs_shape(bounding_box_format, image_shape)
    height, width = _image_size(image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width)
    first, second = boxes1.unsqueeze(-2), boxes2.unsqueeze(-3)  # (..., M, 1, 4), (..., 1, N, 4)
    top = torch.maximum(first[..., 0], second[..., 0])
    left = torch.maximum(first[..., 1], second[..., 1])
    bottom = torch.minimum(first[..., 2], second[..., 2])
    right = torch.minimum(first[..., 3], second[..., 3])
    intersection = (bottom - top).clamp_min(0) * (right - left).clamp_min(0)
    union = _area(first) + _area(second) - intersection  # the same in yxyx as in xyxy
    iou = intersection / (union + _EPSILON)
    if not use_masking:
        return iou
    padding = (boxes1.amax(-1) < 0).unsqueeze(-1) | (boxes2.amax(-1) < 0).unsqueeze(-2)
    return torch.where(padding, torch.as_tensor(mask_val, dtype=iou.dtype), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format: str, image_shape=None):
    """The complete IoU (CIoU) of each box of `boxes1` with the matching box of `boxes2`: the
    IoU less the squared distance of their centres over the squared diagonal of the box around
    both, less a term for their difference in aspect ratio.

    Args:
        boxes1, boxes2: `(..., 4)` boxes that broadcast against each other.
        bounding_box_format: their format (case-insensitive).
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The CIoU of each pair, float32, of the broadcast shape without the last axis.

    Raises:
        ValueError: for a relative format without `image_shape`.

    >>> compute_ciou([[0, 0, 10, 10]], [[0, 0, 10, 10]], "xyxy").tolist()
    [1.0]
    """
    _relative_needs_shape(bounding_box_format, image_shape)
    height, width = _image_size(image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "xyxy", height, width)
    x_min1, y_min1, x_max1, y_max1 = boxes1.unbind(-1)
    x_min2, y_min2, x_max2, y_max2 = boxes2.unbind(-1)
    width1, height1 = x_max1 - x_min1, y_max1 - y_min1 + _EPSILON
    width2, height2 = x_max2 - x_min2, y_max2 - y_min2 + _EPSILON
    intersection = ((torch.minimum(x_max1, x_max2) - torch.maximum(x_min1, x_min2)).clamp_min(0)
                    * (torch.minimum(y_max1, y_max2) - torch.maximum(y_min1, y_min2)).clamp_min(0))
    union = width1 * height1 + width2 * height2 - intersection + _EPSILON
    iou = intersection / (union + _EPSILON)
    hull_width = torch.maximum(x_max1, x_max2) - torch.minimum(x_min1, x_min2)
    hull_height = torch.maximum(y_max1, y_max2) - torch.minimum(y_min1, y_min2)
    diagonal_squared = hull_width ** 2 + hull_height ** 2 + _EPSILON
    centres_squared = (((x_min1 + x_max1) / 2 - (x_min2 + x_max2) / 2) ** 2
                       + ((y_min1 + y_max1) / 2 - (y_min2 + y_max2) / 2) ** 2)
    v = (4 / math.pi ** 2) * (torch.atan(width2 / height2) - torch.atan(width1 / height1)) ** 2
    alpha = v / (v - iou + (1 + _EPSILON))
    return iou - (centres_squared / diagonal_squared + v * alpha)


_CENTRE_FORMATS = ("center_xywh", "center_yxhw")


def _check_variance(variance):
    if variance is None:
        return None
    variance = torch.as_tensor(np.asarray(variance) if not torch.is_tensor(variance)
                               else variance, dtype=torch.float32)
    if variance.dim() == 0 or variance.shape[-1] != 4:
        raise ValueError(f"Expected variance to hold 4 numbers, one per box coordinate. "
                         f"Received: variance={variance.tolist()!r}")
    return variance


def encode_box_to_deltas(anchors, boxes, anchor_format: str, box_format: str,
                         encoding_format: str = "center_yxhw", variance=None, image_shape=None):
    """Encodes boxes as deltas from anchors: the offset of the centre in anchor sizes, and the
    log of the size ratio.

    Both are converted to `encoding_format` (a centre format); for a centre `c` and size `s`
    (per axis) the deltas are `(c_box - c_anchor) / s_anchor` and `log(s_box / s_anchor)`
    (sizes at least 1e-7), divided by `variance` when given.

    Args:
        anchors: `(N, 4)` anchor boxes.
        boxes: `(N, 4)` or `(batch, N, 4)` boxes to encode.
        anchor_format, box_format: their formats.
        encoding_format: `"center_yxhw"` (default) or `"center_xywh"`: the order of the deltas.
        variance: 4 numbers the deltas are divided by.
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The deltas, float32, of the shape of `boxes`.

    Raises:
        ValueError: for a `variance` not of length 4, or another `encoding_format`.

    >>> encode_box_to_deltas([[0, 0, 10, 10]], [[5, 0, 15, 10]], "xyxy", "xyxy").tolist()
    [[0.0, 0.5, 0.0, 0.0]]
    """
    variance = _check_variance(variance)
    if encoding_format not in _CENTRE_FORMATS:
        raise ValueError(f"Expected encoding_format to be 'center_xywh' or 'center_yxhw'. "
                         f"Received: encoding_format={encoding_format!r}")
    height, width = _image_size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    anchor_sizes = anchors[..., 2:].clamp_min(_EPSILON)
    box_sizes = boxes[..., 2:].clamp_min(_EPSILON)
    deltas = torch.cat([(boxes[..., :2] - anchors[..., :2]) / anchor_sizes,
                        torch.log(box_sizes / anchor_sizes)], -1)
    return deltas if variance is None else deltas / variance.to(deltas.device)


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format: str, box_format: str,
                           encoded_format: str = "center_yxhw", variance=None,
                           image_shape=None):
    """Decodes deltas from anchors (as `encode_box_to_deltas` makes them) back into boxes.

    Args:
        anchors: `(N, 4)` anchor boxes, or a dict of them per feature level.
        boxes_delta: `(N, 4)` or `(batch, N, 4)` deltas, or a dict with the same keys as
            `anchors`.
        anchor_format: the format of `anchors`.
        box_format: the format of the boxes returned.
        encoded_format: `"center_yxhw"` (default) or `"center_xywh"`: the order of the deltas.
        variance: 4 numbers the deltas are multiplied by first.
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The boxes, float32, of the shape of `boxes_delta` (a dict per level for dicts).

    Raises:
        ValueError: for a `variance` not of length 4, or another `encoded_format`.

    >>> decode_deltas_to_boxes([[0, 0, 10, 10]], [[0.0, 0.5, 0.0, 0.0]], "xyxy",
    ...                        "xyxy").tolist()
    [[5.0, 0.0, 15.0, 10.0]]
    """
    variance = _check_variance(variance)
    if encoded_format not in _CENTRE_FORMATS:
        raise ValueError(f"Expected encoded_format to be 'center_xywh' or 'center_yxhw'. "
                         f"Received: encoded_format={encoded_format!r}")
    height, width = _image_size(image_shape)

    def decode(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = _tensor(delta)
        if variance is not None:
            delta = delta * variance.to(delta.device)
        box = torch.cat([delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                         torch.exp(delta[..., 2:]) * anchor[..., 2:]], -1)
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)
