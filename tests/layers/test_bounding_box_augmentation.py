"""Bounding boxes through the image layers: boxes drawn around bright rectangles still surround
them after each transformation, the images do not depend on whether boxes are given, formats,
single images, labels, errors and configs, MaxNumBoundingBoxes; and, when Keras is installed,
Keras 3's boxes for the same transformations (fixed ranges, or the transformation netknit drew
handed to Keras's `transform_bounding_boxes`)."""

import math
import os

import numpy as np
import pytest
import torch

from netknit import layers
from netknit.layers import augmentation
from netknit.utils import bounding_boxes as boxes_utils

# Four images of 24 x 28 (height x width), each black with a bright rectangle, the xyxy box
# around it, and a padding box (-1, label -1).
RECTANGLES = [(3, 2, 11, 9), (10, 12, 26, 22), (0, 5, 8, 24), (17, 0, 28, 6)]
IMAGES = torch.zeros(4, 24, 28, 1)
for index, (x1, y1, x2, y2) in enumerate(RECTANGLES):
    IMAGES[index, y1:y2, x1:x2] = 1.0
BOXES = torch.tensor([[list(r), [-1.0] * 4] for r in RECTANGLES], dtype=torch.float32)
LABELS = torch.tensor([[1, -1], [2, -1], [3, -1], [4, -1]], dtype=torch.int32)
NEAREST = {"fill_mode": "constant", "interpolation": "nearest"}


def _data(images=IMAGES, boxes=BOXES, labels=LABELS, fmt="xyxy"):
    size = images.shape[-3:-1]
    return {"images": images.clone(), "bounding_boxes": {
        "boxes": boxes_utils.convert_format(boxes, "xyxy", fmt, *size), "labels": labels}}


def _bright_box(image):
    """xyxy of the pixels above 0.5 of a channels-last image, or None."""
    rows, columns = torch.nonzero(image[..., 0] > 0.5, as_tuple=True)
    if len(rows) == 0:
        return None
    return [columns.min().item(), rows.min().item(), columns.max().item() + 1,
            rows.max().item() + 1]


def _assert_boxes_follow_images(out, tilted=False):
    """Each box holds its rectangle's bright pixels and, where the transformation keeps boxes
    upright, no more, to a pixel. A tilted rectangle's box is the box around its corners, whose
    thin tips pixels may miss, and which, clipped to the image, may hold more than the part of
    the rectangle left in it; and Keras turns boxes about the centre of the image's pixel
    centres (half a pixel off the centre of its edges), which moves a half-turned box by 1.4."""
    for image, boxes, labels in zip(out["images"], out["bounding_boxes"]["boxes"],
                                    out["bounding_boxes"]["labels"]):
        bright = _bright_box(image)
        # Padding stays without area (where the move and the clipping take it, as in Keras).
        width, height = boxes[1, 2:] - boxes[1, :2]
        assert labels[1] == -1 and width * height == 0
        if labels[0] == -1:
            assert bright is None
            continue
        box = boxes[0].tolist()
        slack = 1.5 if tilted else 1.0
        assert box[0] <= bright[0] + slack and box[1] <= bright[1] + slack, (box, bright)
        assert box[2] >= bright[2] - slack and box[3] >= bright[3] - slack, (box, bright)
        inside = box[0] > 0 and box[1] > 0 and box[2] < image.shape[1] and box[3] < (
            image.shape[0])
        if not tilted or inside:
            np.testing.assert_allclose(box, bright, atol=2.0 if tilted else 1.0)


GEOMETRIC = [
    (layers.RandomFlip, {}),
    (layers.RandomTranslation, {"height_factor": 0.3, "width_factor": 0.3, **NEAREST}),
    (layers.RandomZoom, {"height_factor": 0.4, **NEAREST}),
    (layers.RandomZoom, {"height_factor": (-0.4, -0.2), "width_factor": (0.1, 0.5), **NEAREST}),
    (layers.RandomRotation, {"factor": 0.5, **NEAREST}),
    (layers.RandomShear, {"x_factor": 0.3, "y_factor": 0.3, **NEAREST}),
    (layers.RandomPerspective, {"factor": (1.0, 1.0), "scale": 0.4,
                                "interpolation": "nearest"}),
    (layers.RandomCrop, {"height": 14, "width": 18}),
]
IDS = ["flip", "translation", "zoom", "zoom-xy", "rotation", "shear", "perspective", "crop"]


@pytest.mark.parametrize("cls, kwargs", GEOMETRIC, ids=IDS)
def test_boxes_still_surround_their_rectangles(cls, kwargs):
    for seed in range(3):
        layer = cls(**kwargs, seed=seed, bounding_box_format="xyxy")
        out = layer(_data())
        _assert_boxes_follow_images(out, tilted=cls in (
            layers.RandomRotation, layers.RandomShear, layers.RandomPerspective))
        # The images are those the layer gives without boxes.
        plain = cls(**kwargs, seed=seed)(IMAGES.clone())
        torch.testing.assert_close(out["images"], plain, rtol=0, atol=0)


@pytest.mark.parametrize("layer", [
    lambda **k: layers.RandomCrop(14, 18, **k),  # inference: the centred window, resized
    lambda **k: layers.CenterCrop(12, 20, **k),
    lambda **k: layers.CenterCrop(30, 30, **k),  # larger than the image: 1:1 crop, resized
    lambda **k: layers.Resizing(12, 14, interpolation="nearest", **k),
    lambda **k: layers.Resizing(20, 12, interpolation="nearest", crop_to_aspect_ratio=True,
                                **k),
    lambda **k: layers.Resizing(16, 16, interpolation="nearest", pad_to_aspect_ratio=True,
                                **k),
], ids=["crop-inference", "center-crop", "center-crop-resize", "resize", "resize-crop",
        "resize-pad"])
def test_boxes_follow_crops_and_resizes_in_inference(layer):
    _assert_boxes_follow_images(layer(bounding_box_format="xyxy")(_data(), training=False))


def test_channels_first_images():
    data = _data()
    data["images"] = data["images"].movedim(-1, 1)
    first = {"data_format": "channels_first", "bounding_box_format": "xyxy"}
    for layer in (layers.RandomZoom(0.3, seed=2, **NEAREST, **first),
                  layers.CenterCrop(12, 20, **first),
                  layers.Resizing(16, 16, pad_to_aspect_ratio=True, interpolation="nearest",
                                  **first)):
        out = layer(data)
        _assert_boxes_follow_images({**out, "images": out["images"].movedim(1, -1)})


@pytest.mark.parametrize("fmt", boxes_utils.FORMATS)
def test_every_format_gives_the_same_boxes(fmt):
    layer = layers.RandomRotation((0.1, 0.1), bounding_box_format=fmt)
    out = layer(_data(fmt=fmt))["bounding_boxes"]
    reference = layers.RandomRotation((0.1, 0.1), bounding_box_format="xyxy")(_data())
    expected = boxes_utils.convert_format(reference["bounding_boxes"]["boxes"], "xyxy", fmt,
                                          24, 28)
    torch.testing.assert_close(out["boxes"], expected, rtol=1e-5, atol=1e-4)
    resized = layers.Resizing(12, 14, bounding_box_format=fmt)(_data(fmt=fmt))
    expected = boxes_utils.convert_format(BOXES[:, :1] / 2, "xyxy", fmt, 12, 14)
    torch.testing.assert_close(resized["bounding_boxes"]["boxes"][:, :1], expected)


def test_single_images_labels_dtypes_and_inference():
    layer = layers.RandomTranslation((0.25, 0.25), (0.0, 0.0), bounding_box_format="xyxy")
    single = layer({"images": IMAGES[1], "labels": torch.tensor(5),
                    "bounding_boxes": {"boxes": BOXES[1].int(), "labels": LABELS[1].float()}})
    boxes = single["bounding_boxes"]
    assert boxes["boxes"].dtype == torch.float32 and boxes["labels"].dtype == torch.float32
    assert boxes["boxes"].tolist() == [[10, 18, 26, 24], [0, 5, 0, 5]]  # clipped at the bottom
    assert single["labels"] == 5 and single["images"].shape == (24, 28, 1)
    # Shifted up by 12: the rectangles in the top 12 rows leave the image.
    up = layers.RandomTranslation((-0.5, -0.5), (0.0, 0.0), bounding_box_format="xyxy")
    gone = up(_data())["bounding_boxes"]
    assert gone["labels"][:, 0].tolist() == [-1, 2, 3, -1] and gone["labels"].dtype == torch.int32
    data = _data()
    same = layer(data, training=False)  # the identity in inference
    assert same["bounding_boxes"]["boxes"] is data["bounding_boxes"]["boxes"]


def test_colour_layers_pass_boxes_and_mixup_adds_the_partners():
    out = layers.RandomBrightness(0.2, bounding_box_format="rel_xyxy")(_data(fmt="rel_xyxy"))
    expected = boxes_utils.convert_format(BOXES, "xyxy", "rel_xyxy", 24, 28)
    torch.testing.assert_close(out["bounding_boxes"]["boxes"], expected)
    mixed = layers.MixUp(seed=1, bounding_box_format="xyxy")(_data())["bounding_boxes"]
    assert mixed["boxes"].shape == (4, 4, 4) and mixed["labels"].shape == (4, 4)
    torch.testing.assert_close(mixed["boxes"][:, :2], BOXES)
    assert sorted(mixed["labels"][:, 2].tolist()) == [1, 2, 3, 4]  # a permutation's boxes


def test_rand_augment_moves_boxes_with_the_operations_it_draws():
    for seed in range(4):
        layer = layers.RandAugment(value_range=(0, 1), num_ops=3, seed=seed,
                                   bounding_box_format="xyxy")
        out = layer(_data())
        plain = layers.RandAugment(value_range=(0, 1), num_ops=3, seed=seed)(IMAGES.clone())
        torch.testing.assert_close(out["images"], plain, rtol=0, atol=0)
        boxes = out["bounding_boxes"]["boxes"][:, 0]  # (colour operations leave the padding)
        assert (boxes >= 0).all() and (boxes[:, 2] <= 28).all() and (boxes[:, 3] <= 24).all()


def test_pipelines_and_max_num_bounding_boxes():
    pipeline = layers.Pipeline([layers.RandomFlip("horizontal", bounding_box_format="xyxy"),
                                layers.Resizing(12, 14, bounding_box_format="xyxy",
                                                interpolation="nearest"),
                                layers.MaxNumBoundingBoxes(3, fill_value=-2)])
    out = pipeline(_data())
    assert out["bounding_boxes"]["labels"][:, 2].tolist() == [-2] * 4
    out["bounding_boxes"] = {k: v[:, :2] for k, v in out["bounding_boxes"].items()}
    _assert_boxes_follow_images(out)
    cut = layers.MaxNumBoundingBoxes(1)({"images": IMAGES[0], "bounding_boxes": {
        "boxes": BOXES[0], "labels": LABELS[0]}})["bounding_boxes"]
    assert cut["boxes"].tolist() == [list(RECTANGLES[0])] and cut["labels"].tolist() == [1]
    assert layers.MaxNumBoundingBoxes(2)(IMAGES) is IMAGES
    shapes = {"images": (None, 8, 8, 3), "bounding_boxes": {"boxes": (None, 5, 4),
                                                            "labels": (None, 5)}}
    assert layers.MaxNumBoundingBoxes(3).compute_output_shape(shapes)["bounding_boxes"] == {
        "boxes": (None, 3, 4), "labels": (None, 3)}


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: layers.RandomFlip()(_data()), ValueError,
     r"passed 'bounding_boxes' but no bounding box format.*RandomFlip"),
    (lambda: layers.Resizing(4, 4)(_data()), ValueError, r"no bounding box format"),
    (lambda: layers.RandomFlip(bounding_box_format="xyxy")(
        {"images": IMAGES, "bounding_boxes": {"boxes": BOXES}}), ValueError,
     r"dict with the keys 'boxes' and 'labels'. Received: a dict with the keys \['boxes'\]"),
    (lambda: layers.RandomFlip(bounding_box_format="xyxy")(
        {"images": IMAGES, "bounding_boxes": BOXES}), ValueError, r"Received: Tensor"),
    (lambda: layers.RandomFlip(bounding_box_format="xyxy")(
        {"images": IMAGES, "bounding_boxes": {"boxes": BOXES[0], "labels": LABELS[0]}}),
     ValueError, r"\(batch, num_boxes, 4\) and \(batch, num_boxes\)"),
    (lambda: layers.RandomZoom(0.1, bounding_box_format="corners"), ValueError,
     r"bounding_box_format to be one of xyxy, yxyx"),
    (lambda: layers.RandomElasticTransform(bounding_box_format="xyxy")(_data()),
     NotImplementedError, r"RandomElasticTransform cannot move bounding boxes"),
    (lambda: layers.CutMix(bounding_box_format="xyxy")(_data()), NotImplementedError,
     r"CutMix cannot carry bounding boxes"),
    (lambda: layers.MaxNumBoundingBoxes(0), ValueError, r"max_number"),
])
def test_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("layer", [
    lambda **k: layers.RandomFlip(**k), lambda **k: layers.RandomShear(0.2, **k),
    lambda **k: layers.RandomCrop(3, 4, **k), lambda **k: layers.Resizing(3, 4, **k),
    lambda **k: layers.CenterCrop(3, 4, **k), lambda **k: layers.RandAugment(**k),
    lambda **k: layers.MaxNumBoundingBoxes(3, **k)])
def test_config_has_the_format_only_when_given(layer):
    assert "bounding_box_format" not in layer().get_config()
    config = layer(bounding_box_format="rel_xywh").get_config()
    assert config["bounding_box_format"] == "rel_xywh"
    assert type(layer()).from_config(config).get_config() == config


# ---------------------------------------------------------------------- against Keras


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


keras_warnings = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                            "ignore::UserWarning:keras")


def _assert_same_boxes(ours, theirs, atol=1e-4):
    np.testing.assert_allclose(np.asarray(ours["boxes"]), np.asarray(theirs["boxes"].cpu()),
                               rtol=1e-5, atol=atol)
    np.testing.assert_array_equal(np.asarray(ours["labels"]), np.asarray(theirs["labels"]))


@keras_warnings
@pytest.mark.parametrize("name, kwargs, fmt", [
    ("RandomTranslation", {"height_factor": (0.25, 0.25), "width_factor": (-0.1, -0.1)},
     "center_xywh"),
    ("RandomTranslation", {"height_factor": (-0.5, -0.5), "width_factor": (0.3, 0.3)}, "xyxy"),
    ("RandomZoom", {"height_factor": (0.5, 0.5)}, "rel_yxyx"),
    ("RandomZoom", {"height_factor": (-0.3, -0.3), "width_factor": (0.2, 0.2)}, "xywh"),
    ("RandomRotation", {"factor": (0.1, 0.1)}, "xyxy"),  # Keras assumes xyxy here
    ("RandomRotation", {"factor": (-0.3, -0.3)}, "xyxy"),
    ("Resizing", {"height": 12, "width": 14}, "rel_center_xywh"),
    ("Resizing", {"height": 12, "width": 12, "crop_to_aspect_ratio": True}, "xyxy"),
    ("Resizing", {"height": 14, "width": 14, "pad_to_aspect_ratio": True}, "yxyx"),
    ("CenterCrop", {"height": 12, "width": 20}, "xyxy"),
    ("CenterCrop", {"height": 30, "width": 30}, "rel_xyxy"),
    ("MaxNumBoundingBoxes", {"max_number": 3, "fill_value": -3}, "xyxy"),
    ("RandomContrast", {"factor": 0.5}, "xywh"),
])
def test_fixed_transformations_give_keras_s_boxes(keras, name, kwargs, fmt):
    ours = getattr(layers, name)(**kwargs, bounding_box_format=fmt)(_data(fmt=fmt))
    data = {k: v for k, v in _data(fmt=fmt).items()}
    theirs = getattr(keras.layers, name)(**kwargs, bounding_box_format=fmt)(data, training=True)
    _assert_same_boxes(ours["bounding_boxes"], theirs["bounding_boxes"])


def _keras_boxes(keras_layer, transformation, fmt="xyxy"):
    keras_layer.bounding_box_format = fmt
    given = _data(fmt=fmt)["bounding_boxes"]
    return keras_layer.transform_bounding_boxes(dict(given), transformation, training=True)


def _record(layer, name):
    """Wraps `layer.<name>` so that its results are kept, in a list that is returned."""
    results, method = [], getattr(layer, name)

    def recording(*args):
        results.append(method(*args))
        return results[-1]

    setattr(layer, name, recording)
    return results


@keras_warnings
def test_drawn_flips_rotations_and_shears_give_keras_s_boxes(keras):
    flip = layers.RandomFlip("horizontal", seed=1, bounding_box_format="xyxy")
    ours = flip(_data())
    flips = torch.tensor([not torch.equal(o, i) for o, i in zip(ours["images"], IMAGES)])
    assert 0 < flips.sum() < 4
    theirs = _keras_boxes(keras.layers.RandomFlip("horizontal"), {
        "flips": flips.reshape(4, 1, 1, 1), "input_shape": tuple(IMAGES.shape)})
    # Not the padding: Keras clips flipped boxes in relative units to the width in pixels.
    _assert_same_boxes({k: v[:, :1] for k, v in ours["bounding_boxes"].items()},
                       {k: v[:, :1] for k, v in theirs.items()})

    rotation = layers.RandomRotation(0.4, seed=1, bounding_box_format="xyxy")
    matrices = _record(rotation, "_matrices")
    ours = rotation(_data())["bounding_boxes"]
    angles = torch.atan2(matrices[0][:, 1, 0], matrices[0][:, 0, 0]) * 180 / math.pi
    theirs = _keras_boxes(keras.layers.RandomRotation(0.4), {
        "angle": angles, "image_height": 24, "image_width": 28, "batch_size": 4})
    _assert_same_boxes(ours, theirs)

    # Keras shears boxes in relative coordinates: the same as the image on a square one.
    square = {"images": IMAGES[..., :24, :].clone(), "bounding_boxes": {
        "boxes": BOXES.clamp(max=24), "labels": LABELS}}
    for seed in range(3):
        shear = layers.RandomShear(x_factor=0.4, seed=seed, bounding_box_format="xyxy")
        matrices = _record(shear, "_matrices")
        ours = shear({**square})["bounding_boxes"]
        factors = torch.stack([matrices[0][:, 0, 1], matrices[0][:, 1, 0]], -1)
        keras_shear = keras.layers.RandomShear(x_factor=0.4, bounding_box_format="xyxy")
        theirs = keras_shear.transform_bounding_boxes(
            dict(square["bounding_boxes"]), {"shear_factor": factors,
                                             "input_shape": (4, 24, 24, 1)})
        _assert_same_boxes(ours, theirs)


@keras_warnings
def test_drawn_perspectives_and_crops_give_keras_s_boxes(keras, monkeypatch):
    points = []
    original = augmentation.homographies
    monkeypatch.setattr(augmentation, "homographies",
                        lambda start, end: points.append((start, end)) or original(start, end))
    layer = layers.RandomPerspective((1.0, 1.0), scale=0.5, seed=0, bounding_box_format="xyxy")
    ours = layer(_data())["bounding_boxes"]
    start, end = points[0]
    theirs = _keras_boxes(keras.layers.RandomPerspective(scale=0.5), {
        "apply_perspective": torch.ones(4, dtype=torch.bool), "start_points": start,
        "end_points": end, "input_shape": tuple(IMAGES.shape)})
    _assert_same_boxes(ours, theirs, atol=2e-3)

    # Keras's RandomCrop shifts x by the top offset and y by the left one, and clips only at 0:
    # the same as netknit's for a window at (3, 3) that holds the boxes.
    crop = layers.RandomCrop(20, 25, bounding_box_format="xyxy")
    monkeypatch.setattr(crop, "_host_randint", lambda high: 3)
    inside = {"images": IMAGES[:2].clone(), "bounding_boxes": {
        "boxes": torch.tensor([[[4.0, 5.0, 10.0, 12.0]], [[6.0, 4.0, 20.0, 15.0]]]),
        "labels": LABELS[:2, :1]}}
    ours = crop(inside)["bounding_boxes"]
    keras_crop = keras.layers.RandomCrop(20, 25, bounding_box_format="xyxy")
    theirs = keras_crop.transform_bounding_boxes(dict(inside["bounding_boxes"]), (3, 3))
    _assert_same_boxes(ours, theirs)


@keras_warnings
def test_resizing_with_padding_keeps_to_the_image_where_keras_s_rounding_does_not(keras):
    kwargs = {"height": 12, "width": 12, "pad_to_aspect_ratio": True,
              "bounding_box_format": "xyxy"}
    ours = layers.Resizing(**kwargs)(_data())["bounding_boxes"]["boxes"][:, 0]
    theirs = keras.layers.Resizing(**kwargs)(_data(), training=True)["bounding_boxes"]
    # The image gets 2 rows above and below (28 x 28) and shrinks by 12/28: its content starts
    # 2 * 12/28 rows down. Keras's boxes start at row 0 and, its float32 offset (12 - 28 * 12/28)
    # // 2 coming to -1, a column left.
    shift = torch.tensor([0.0, 2 * 12 / 28] * 2)
    torch.testing.assert_close(ours, (BOXES[:, 0] * 12 / 28 + shift).clamp(0, 12))
    torch.testing.assert_close(theirs["boxes"][:, 0].cpu(),
                               (ours - torch.tensor([1.0, 2 * 12 / 28] * 2)).clamp(0, 12))


@keras_warnings
@pytest.mark.parametrize("name, args", [
    ("RandomFlip", ()), ("RandomRotation", (0.1,)), ("RandomCrop", (3, 4)),
    ("Resizing", (3, 4)), ("CenterCrop", (3, 4)), ("RandAugment", ()), ("AutoContrast", ()),
    ("MaxNumBoundingBoxes", (3,))])
def test_configs_with_a_format_load_both_ways(keras, name, args):
    ours = getattr(layers, name)(*args, bounding_box_format="rel_xyxy").get_config()
    theirs = getattr(keras.layers, name)(*args, bounding_box_format="rel_xyxy").get_config()
    # netknit's MaxNumBoundingBoxes keeps its fill_value, which Keras 3.15.1's config loses.
    assert set(ours) - set(theirs) == ({"fill_value"} if name == "MaxNumBoundingBoxes" else set())
    assert set(theirs) <= set(ours) and ours["bounding_box_format"] == "rel_xyxy"
    getattr(layers, name).from_config(theirs)
    getattr(keras.layers, name).from_config(ours)
