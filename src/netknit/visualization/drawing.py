"""Drawing on a batch of images: bounding boxes with their labels (OpenCV draws them) and
segmentation masks, as Keras's `keras.visualization.draw_*`.

Both take images as a tensor or an array, `(batch, height, width, channels)` (or channels first
with `data_format="channels_first"`), and return NumPy arrays in the same layout.
"""

from __future__ import annotations

import numpy as np
import torch

from ..layers.convolutional import normalize_data_format


def to_numpy(value) -> np.ndarray:
    """A tensor (on any device) or an array-like as a NumPy array."""
    if torch.is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def channels_last_batch(images, data_format: str) -> np.ndarray:
    """`images` as a channels-last NumPy batch; a ValueError for anything but a 4-D batch."""
    images = to_numpy(images)
    if images.ndim != 4:
        raise ValueError("Expected `images` to be a batch of images, 4-D (batch, height, width, "
                         f"channels). Received: images.shape={images.shape} (for one image, "
                         "add the batch axis: images[None])")
    return images.transpose(0, 2, 3, 1) if data_format == "channels_first" else images


def _in_layout(images: np.ndarray, data_format: str) -> np.ndarray:
    """Channels-last images back in `data_format`."""
    if data_format == "channels_first":
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    return images


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ImportError("draw_bounding_boxes draws with OpenCV (cv2), which is not installed. "
                          "Install it with `pip install opencv-python-headless` (or "
                          "`opencv-python`).") from None
    return cv2


def draw_bounding_boxes(images, bounding_boxes: dict, bounding_box_format: str,
                        class_mapping: dict | None = None, color=(128, 128, 128),
                        line_thickness: int = 2, text_thickness: int = 1,
                        font_scale: float = 1.0, data_format: str | None = None) -> np.ndarray:
    """Draws bounding boxes, and the names of their classes, on a batch of images.

    The images become `uint8`: floating-point images whose values are all at most 1 are scaled
    by 255, others clipped to [0, 255], and the values truncated; integer images are cast. Box
    corners are truncated to whole pixels. Boxes labelled -1 (padding) are skipped; a box whose
    label is in `class_mapping` gets its class name written above it (below its top edge when it
    is too close to the top), followed by `" | 0.87"` when `"confidences"` are given. OpenCV
    (`pip install opencv-python-headless`) draws them, as in Keras.

    Args:
        images: `(batch, height, width, channels)` images (or channels first), a tensor or an
            array.
        bounding_boxes: a dict with `"boxes"` `(batch, num_boxes, 4)`, `"labels"`
            `(batch, num_boxes)` and, optionally, `"confidences"` `(batch, num_boxes)`.
        bounding_box_format: the format of the boxes, one of those of
            `netknit.utils.bounding_boxes.convert_format` (`"xyxy"`, `"rel_yxyx"`, ...).
        class_mapping: class index -> name, for the labels written (default: none written).
        color: the RGB colour of boxes and text, default `(128, 128, 128)`.
        line_thickness: the boxes' line width in pixels, default 2 (OpenCV's -1 fills them).
        text_thickness: the text's stroke width, default 1 (None or 0: `line_thickness`).
        font_scale: the text size, as OpenCV's font scale, default 1.0.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        The images with the boxes drawn, a `uint8` NumPy array of the input's shape.

    Raises:
        ValueError: for images that are not a 4-D batch, or boxes without "boxes" or "labels".
        TypeError: for `bounding_boxes` that is not a dict.
        ImportError: when OpenCV is not installed.

    >>> boxes = {"boxes": [[[2, 2, 12, 9]]], "labels": [[0]]}
    >>> drawn = draw_bounding_boxes(np.zeros((1, 16, 16, 3)), boxes, "xyxy", color=(255, 0, 0))
    >>> drawn.shape, drawn.dtype, drawn[0, 2, 5].tolist()
    ((1, 16, 16, 3), dtype('uint8'), [255, 0, 0])
    """
    data_format = normalize_data_format(data_format)
    images = channels_last_batch(images, data_format)
    if not isinstance(bounding_boxes, dict):
        raise TypeError("Expected bounding_boxes to be a dict with 'boxes' and 'labels'. "
                        f"Received: bounding_boxes of type {type(bounding_boxes).__name__}")
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError("Expected bounding_boxes to be a dict with 'boxes' and 'labels'. "
                         f"Received a dict with the keys {sorted(bounding_boxes)}")
    cv2 = _cv2()
    from ..utils.bounding_boxes import convert_format

    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    boxes = to_numpy(convert_format(bounding_boxes["boxes"], bounding_box_format, "xyxy",
                                    height=images.shape[1], width=images.shape[2]))
    boxes = boxes.astype(np.int32).tolist()
    labels = to_numpy(bounding_boxes["labels"]).astype(np.int32).tolist()
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else to_numpy(confidences)

    if images.dtype.kind == "f" and images.size > 0:
        images = np.clip(images, 0, 1) * 255 if images.max() <= 1.0 else np.clip(images, 0, 255)
    # A C-ordered copy: OpenCV draws in place, and only into contiguous images.
    canvas = images.astype(np.uint8, order="C")
    for i, (image, image_boxes, image_labels) in enumerate(zip(canvas, boxes, labels)):
        for j, ((x1, y1, x2, y2), label) in enumerate(zip(image_boxes, image_labels)):
            if label == -1:
                continue
            cv2.rectangle(image, (x1, y1), (x2, y2), color, line_thickness)
            if label in class_mapping:
                text = class_mapping[label]
                if confidences is not None:
                    text = f"{text} | {confidences[i][j]:.2f}"
                cv2.putText(img=image, text=text, org=_text_origin(x1, y1, font_scale,
                                                                   text_thickness),
                            fontFace=cv2.FONT_HERSHEY_SIMPLEX, fontScale=font_scale,
                            color=color, thickness=text_thickness)
    return _in_layout(canvas, data_format)


def _text_origin(x: int, y: int, font_scale: float, thickness: int) -> tuple[int, int]:
    """Where a box's label starts (its baseline's left end): above the box's top-left corner,
    or inside the box when there is no room above (Keras's offsets)."""
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


def _palette(num_classes: int) -> list[list[int]]:
    """Keras's default colour of each class: `i * (2**25 - 1, 2**15 - 1, 2**21 - 1) % 255`."""
    primes = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [(i * primes % 255).tolist() for i in range(num_classes)]


def draw_segmentation_masks(images, segmentation_masks, num_classes: int | None = None,
                            color_mapping: dict | None = None, alpha: float = 0.8,
                            blend: bool = True, ignore_index: int = -1,
                            data_format: str | None = None) -> np.ndarray:
    """Paints segmentation masks over a batch of images, one colour per class.

    A pixel of class `c` (0 <= c < `num_classes`) takes the colour of `c` and is blended with
    the image: `image * (1 - alpha) + colour * alpha`, truncated to `uint8`. Pixels of other
    classes, and of `ignore_index`, keep the image. As in Keras, class 0 is painted too (black,
    in the default palette) unless it is the `ignore_index`.

    Args:
        images: `(batch, height, width, channels)` images (or channels first), RGB, in [0, 255].
        segmentation_masks: integer class indices, `(batch, height, width)` or with a channel
            axis of 1 (placed as `data_format` says).
        num_classes: classes 0 to `num_classes - 1` are painted. None (default): one more than
            the largest index in the masks, so that every class is painted (Keras 3.15.1 takes
            the largest index itself, which leaves that class unpainted on JAX, and fails on
            torch).
        color_mapping: class index -> RGB colour for each painted class (default: Keras's
            palette, `_palette`).
        alpha: the opacity of the colours, in [0, 1] (default 0.8).
        blend: False returns the painted images without blending, as float32.
        ignore_index: the class left unpainted (default -1).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        The painted images, a NumPy array of the input's shape: `uint8`, or float32 when
        `blend` is False.

    Raises:
        ValueError: for images that are not a 4-D batch, masks of another size, `alpha` outside
            [0, 1], or a `color_mapping` without a colour for a class.
        TypeError: for masks that are not integers.

    >>> masks = np.array([[[0, 1], [1, 2]]])
    >>> draw_segmentation_masks(np.full((1, 2, 2, 3), 100), masks, num_classes=3,
    ...                         color_mapping={0: (0, 0, 0), 1: (255, 0, 0), 2: (0, 0, 255)},
    ...                         ignore_index=0)[0, :, :, 2].tolist()
    [[100, 20], [20, 224]]
    """
    data_format = normalize_data_format(data_format)
    images = channels_last_batch(images, data_format).astype(np.float32)
    masks = to_numpy(segmentation_masks)
    if masks.dtype.kind not in "iu":
        raise TypeError("Expected segmentation_masks to hold integer class indices. Received: "
                        f"segmentation_masks.dtype={masks.dtype}")
    if masks.ndim == 4:
        masks = masks[:, 0] if data_format == "channels_first" else masks[..., 0]
    if masks.shape != images.shape[:3]:
        raise ValueError(f"Expected segmentation_masks of shape {images.shape[:3]} (batch, "
                         f"height, width), or with a channel axis of 1, to match the images. "
                         f"Received: segmentation_masks.shape={to_numpy(segmentation_masks).shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"Expected alpha to be in [0, 1]. Received: alpha={alpha!r}")
    if num_classes is None:
        num_classes = int(masks.max()) + 1 if masks.size else 0
    colors = _palette(num_classes) if color_mapping is None else _mapped_colors(
        color_mapping, num_classes)

    painted = images
    if num_classes > 0:
        table = np.array(colors, dtype=np.float32).reshape(num_classes, -1)
        if table.shape[1] not in (1, images.shape[-1]):
            raise ValueError(f"Expected colours of {images.shape[-1]} values (or 1), one per "
                             f"channel of the images. Received colours of {table.shape[1]}.")
        drawn = (masks >= 0) & (masks < num_classes) & (masks != ignore_index)
        painted = np.where(drawn[..., None], table[np.clip(masks, 0, num_classes - 1)], images)
    if not blend:
        return _in_layout(painted, data_format)
    blended = images * (1 - alpha) + painted * alpha
    blended = np.where((masks != ignore_index)[..., None], blended, images)
    return _in_layout(blended.astype(np.uint8), data_format)


def _mapped_colors(color_mapping: dict, num_classes: int) -> list:
    missing = [c for c in range(num_classes) if c not in color_mapping]
    if missing:
        raise ValueError(f"Expected color_mapping to give a colour to every class from 0 to "
                         f"{num_classes - 1}. Missing: {missing}")
    return [color_mapping[c] for c in range(num_classes)]
