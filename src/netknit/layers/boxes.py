"""Bounding boxes in the inputs of image layers, and MaxNumBoundingBoxes.

Image preprocessing and augmentation layers take, besides images, a dict
`{"images": ..., "labels": ..., "bounding_boxes": {"boxes": ..., "labels": ...}}` (`labels` and
`bounding_boxes` optional), as Keras's do. Boxes are `(batch, num_boxes, 4)` (or `(num_boxes,
4)` with a single image) in the layer's `bounding_box_format`, and their labels `(batch,
num_boxes)`. A layer that moves pixels moves the boxes with them: in `"xyxy"` pixels of the
input, each box (or the box around its moved corners) is mapped to the output, clipped to the
output image, and boxes left without area get the label -1. Layers that change only pixel
values pass the boxes through. Boxes come back float32.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .convolutional import normalize_data_format
from .core import check_positive_int
from .layer import Layer

_DICT_KEYS = ("images", "labels", "bounding_boxes")


def _box_utils():
    """`netknit.utils.bounding_boxes`, imported when first needed: the `utils` package imports
    saving and models, which import the layers."""
    from ..utils import bounding_boxes

    return bounding_boxes


def check_box_format(value) -> str | None:
    """A layer's `bounding_box_format` argument, as given: None or one of the formats."""
    if value is not None:
        _box_utils().check_format("bounding_box_format", value)
    return value


def check_image_dict(layer: Layer, data: dict) -> None:
    """A readable error for a dict input with other keys than images, labels and boxes."""
    if "images" not in data or set(data) - set(_DICT_KEYS):
        raise ValueError(f"{type(layer).__name__} takes images, or a dict with the key 'images' "
                         f"and optionally 'labels' and 'bounding_boxes'. Received a dict with "
                         f"the keys {sorted(data)}.")


def read_boxes(layer: Layer, bounding_boxes, single: bool, device: torch.device,
               needs_format: bool = True) -> dict:
    """The `bounding_boxes` of a layer's input as `{"boxes": (batch, n, 4) float32, "labels":
    (batch, n)}` on `device`, with a batch axis added for a `single` image. A layer that
    `needs_format` must have been given its `bounding_box_format`."""
    if needs_format and layer.bounding_box_format is None:
        name = type(layer).__name__
        raise ValueError(
            f"{name} takes images, or a dict with the key 'images' and optionally 'labels', and "
            "'bounding_boxes' once it knows their format. You passed 'bounding_boxes' but no "
            f"bounding box format: pass a `bounding_box_format` argument to your {name} layer, "
            "e.g. `bounding_box_format='xyxy'`.")
    if not isinstance(bounding_boxes, dict) or set(bounding_boxes) != {"boxes", "labels"}:
        received = (f"a dict with the keys {sorted(bounding_boxes)}"
                    if isinstance(bounding_boxes, dict) else type(bounding_boxes).__name__)
        raise ValueError(f"Expected bounding_boxes to be a dict with the keys 'boxes' and "
                         f"'labels'. Received: {received}")
    boxes = torch.as_tensor(bounding_boxes["boxes"], dtype=torch.float32, device=device)
    labels = torch.as_tensor(bounding_boxes["labels"], device=device)
    rank = 2 if single else 3
    if boxes.dim() != rank or boxes.shape[-1] != 4 or labels.shape[:rank - 1] != boxes.shape[:-1]:
        expected = "(num_boxes, 4) and (num_boxes,)" if single else (
            "(batch, num_boxes, 4) and (batch, num_boxes)")
        raise ValueError(f"Expected the boxes and labels of {'one image' if single else 'a batch'}"
                         f" to have the shapes {expected}. Received: boxes.shape="
                         f"{tuple(boxes.shape)}, labels.shape={tuple(labels.shape)}")
    if single:
        return {"boxes": boxes.unsqueeze(0), "labels": labels.unsqueeze(0)}
    return {"boxes": boxes, "labels": labels}


def write_boxes(boxes: dict, single: bool) -> dict:
    """`read_boxes`' opposite: the batch axis removed again for a single image."""
    return {key: value.squeeze(0) for key, value in boxes.items()} if single else boxes


def move_boxes(boxes: dict, bounding_box_format: str, size: tuple, new_size: tuple,
               move: Callable[[torch.Tensor], torch.Tensor]) -> dict:
    """Boxes carried from an image of `size` (height, width) to one of `new_size`: converted to
    `"xyxy"` pixels, passed through `move` (xyxy -> xyxy), clipped to the new image (the labels
    of boxes left without area set to -1) and converted back."""
    utils = _box_utils()
    xyxy = utils.convert_format(boxes["boxes"], bounding_box_format, "xyxy", *size)
    moved = utils.clip_to_image_size({"boxes": move(xyxy), "labels": boxes["labels"]},
                                     *new_size)
    moved["boxes"] = utils.convert_format(moved["boxes"], "xyxy", bounding_box_format,
                                          *new_size)
    return moved


def crop_move(top: int, left: int, crop_size: tuple, new_size: tuple):
    """The `move` for a crop of `crop_size` (height, width) at `(top, left)` resized to
    `new_size`."""
    scale = torch.tensor([new_size[1] / crop_size[1], new_size[0] / crop_size[0]] * 2)
    offset = torch.tensor([left, top] * 2, dtype=torch.float32)
    return lambda xyxy: (xyxy - offset.to(xyxy.device)) * scale.to(xyxy.device)


class MaxNumBoundingBoxes(Layer):
    """Pads or truncates the bounding boxes of each image to `max_number`.

    Takes `{"images": ..., "bounding_boxes": {"boxes": ..., "labels": ...}}` (and `"labels"`):
    boxes past `max_number` are dropped, and missing ones are added with all four coordinates
    and the label `fill_value`; images and labels pass unchanged, as do inputs without boxes.

    Args:
        max_number: the number of boxes per image afterwards, a positive integer.
        fill_value: the coordinates and label of added boxes (default -1).
        bounding_box_format: the boxes' format (kept in the config; not needed here).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    >>> layer = MaxNumBoundingBoxes(max_number=3)
    >>> out = layer({"images": torch.zeros(1, 8, 8, 3),
    ...              "bounding_boxes": {"boxes": torch.tensor([[[1.0, 1.0, 4.0, 4.0]]]),
    ...                                 "labels": torch.tensor([[2]])}})
    >>> out["bounding_boxes"]["labels"].tolist()
    [[2, -1, -1]]
    """

    # Keras's call (saved graphs record it) takes `training`, True and unused.
    _keras_call_arguments = {"training": True}

    def __init__(self, max_number, fill_value=-1, bounding_box_format=None, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_number = check_positive_int("max_number", max_number)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)) or (
                int(fill_value) != fill_value):
            raise ValueError(f"Expected fill_value to be an integer. Received: "
                             f"fill_value={fill_value!r}")
        self.fill_value = int(fill_value)
        self.bounding_box_format = check_box_format(bounding_box_format)
        self.data_format = normalize_data_format(data_format)
        self.built = True

    def forward(self, inputs):
        if not isinstance(inputs, dict) or "bounding_boxes" not in inputs:
            return inputs
        check_image_dict(self, inputs)
        single = inputs["images"].dim() == 3
        # The boxes are not moved, so their format does not matter (Keras asks for it).
        boxes = read_boxes(self, inputs["bounding_boxes"], single, inputs["images"].device,
                           needs_format=False)
        missing = max(self.max_number - boxes["boxes"].shape[1], 0)
        padded = {}
        for key, value in boxes.items():
            value = value[:, :self.max_number]
            # F.pad pads the last axes first: nothing there, `missing` after the boxes' axis.
            widths = (0, 0) * (value.dim() - 2) + (0, missing)
            padded[key] = F.pad(value, widths, value=self.fill_value)
        return {**inputs, "bounding_boxes": write_boxes(padded, single)}

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, dict) or "bounding_boxes" not in input_shape:
            return input_shape
        boxes = input_shape["bounding_boxes"]
        position = 1 if len(input_shape["images"]) == 4 else 0
        resized = {key: tuple(shape[:position]) + (self.max_number,)
                   + tuple(shape[position + 1:]) for key, shape in boxes.items()}
        return {**input_shape, "bounding_boxes": resized}

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        # Keras's config leaves fill_value out (it then loads as -1); kept last here.
        return {**config, "max_number": self.max_number, "fill_value": self.fill_value}
