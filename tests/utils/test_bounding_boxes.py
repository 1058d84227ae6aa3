"""keras.utils.bounding_boxes: hand-checked values, the errors, and (when Keras is installed)
the same calls in Keras 3 on its torch backend."""

import itertools
import os

import numpy as np
import pytest
import torch

from netknit.utils import bounding_boxes as boxes_utils

FORMATS = boxes_utils.FORMATS
RNG = np.random.default_rng(0)
# (batch, N, 4) xyxy boxes inside a 30 x 40 (height x width) image, and their labels.
CORNERS = RNG.uniform(0, 15, (2, 5, 2))
BOXES = np.concatenate([CORNERS, CORNERS + RNG.uniform(1, 15, (2, 5, 2))], -1).astype("float32")
LABELS = np.arange(10).reshape(2, 5)


@pytest.fixture(scope="module")
def keras_boxes():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    return keras.utils.bounding_boxes


keras_warnings = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                            "ignore::UserWarning:keras")


def _numpy(value):
    return np.asarray(value.detach().cpu()) if torch.is_tensor(value) else np.asarray(value)


def test_convert_format_by_hand():
    box = [[10, 20, 30, 60]]  # xyxy, in a 100 x 200 image
    expected = {"xyxy": [10, 20, 30, 60], "yxyx": [20, 10, 60, 30], "xywh": [10, 20, 20, 40],
                "center_xywh": [20, 40, 20, 40], "center_yxhw": [40, 20, 40, 20],
                "rel_xyxy": [0.05, 0.2, 0.15, 0.6], "rel_yxyx": [0.2, 0.05, 0.6, 0.15],
                "rel_xywh": [0.05, 0.2, 0.1, 0.4], "rel_center_xywh": [0.1, 0.4, 0.1, 0.4]}
    for target, values in expected.items():
        out = boxes_utils.convert_format(box, "XYXY", target.upper(), height=100, width=200)
        assert out.dtype == torch.float32
        np.testing.assert_allclose(_numpy(out), [values], rtol=1e-6)
        back = boxes_utils.convert_format(out, target, "xyxy", height=100, width=200)
        np.testing.assert_allclose(_numpy(back), box, rtol=1e-5)


def test_convert_format_takes_dicts_and_dtypes_and_per_image_sizes():
    data = {"boxes": np.array([[1, 2, 3, 4]]), "labels": np.array([7])}
    out = boxes_utils.convert_format(data, "xyxy", "xywh", dtype="int32")
    assert out["boxes"].dtype == torch.int32 and out["boxes"].tolist() == [[1, 2, 2, 2]]
    assert out["labels"] is data["labels"] and isinstance(data["boxes"], np.ndarray)
    # A size per image, (batch, 1, 1), broadcasts against the coordinates.
    sizes = torch.tensor([10.0, 20.0]).reshape(2, 1, 1)
    rel = boxes_utils.convert_format(torch.ones(2, 3, 4), "rel_xyxy", "xyxy", sizes, sizes)
    assert rel[:, 0, 0].tolist() == [10.0, 20.0]


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: boxes_utils.convert_format(np.zeros((2, 3)), "xyxy", "xywh"), ValueError,
     r"last dimension of 4. Received: boxes.shape=\(2, 3\)"),
    (lambda: boxes_utils.convert_format(np.zeros((2, 4)), "xyxy", "xyz"), ValueError,
     r"one of xyxy, yxyx.*target='xyz'"),
    (lambda: boxes_utils.convert_format(np.zeros((2, 4)), "xyxy", "rel_xywh"), ValueError,
     r"needs the image's height and width"),
    (lambda: boxes_utils.clip_to_image_size({"boxes": np.zeros((1, 4))}), ValueError,
     r"needs the image's height and width"),
    (lambda: boxes_utils.clip_to_image_size({"boxes": np.zeros((1, 4))}, 2, 2, "xywh"),
     NotImplementedError, r"'xyxy' or 'rel_xyxy' format only"),
    (lambda: boxes_utils.crop(np.zeros((1, 4)), 0, 0, 2, 2, "yxyx"), NotImplementedError,
     r"crop\(\) works on boxes in 'xyxy'"),
    (lambda: boxes_utils.compute_iou(np.zeros(4), np.zeros((1, 4)), "xyxy"), ValueError,
     r"boxes1 of shape \(num_boxes, 4\)"),
    (lambda: boxes_utils.compute_iou(np.zeros((1, 4)), np.zeros((1, 4)), "rel_xyxy"),
     ValueError, r"`image_shape` argument must be provided"),
    (lambda: boxes_utils.encode_box_to_deltas(np.ones((1, 4)), np.ones((1, 4)), "xyxy", "xyxy",
                                              variance=[1, 2]), ValueError, r"4 numbers"),
    (lambda: boxes_utils.decode_deltas_to_boxes(np.ones((1, 4)), np.ones((1, 4)), "xyxy",
                                                "xyxy", encoded_format="xyxy"), ValueError,
     r"'center_xywh' or 'center_yxhw'"),
])
def test_errors_say_what_is_allowed(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_clip_marks_boxes_left_without_area():
    out = boxes_utils.clip_to_image_size(
        {"boxes": np.array([[-10.0, -20, 150, 160], [130, 0, 140, 10]]),
         "labels": np.array([[1, 0], [0, 1]])}, height=100, width=120)
    assert out["boxes"].tolist() == [[0, 0, 120, 100], [120, 0, 120, 10]]
    assert out["labels"].tolist() == [[1, 0], [-1, -1]]  # one-hot labels: the whole row
    rel = boxes_utils.clip_to_image_size({"boxes": torch.tensor([[-0.5, 0.2, 1.5, 0.4]])},
                                         bounding_box_format="rel_xyxy")
    np.testing.assert_allclose(_numpy(rel["boxes"]), [[0, 0.2, 1, 0.4]], rtol=1e-6)


def test_affine_crop_and_pad_by_hand():
    # A quarter turn about the centre of a 5 x 5 image: the top-left square goes bottom-left.
    turned = boxes_utils.affine_transform([[0.0, 0.0, 2.0, 2.0]], 90.0, 0.0, 0.0, 1.0, 0.0, 0.0,
                                          5, 5)
    np.testing.assert_allclose(_numpy(turned), [[0, 2, 2, 4]], atol=1e-5)
    assert boxes_utils.crop(np.array([[10, 20, 50, 60]]), 10, 20, 40, 30).tolist() == [
        [0, 10, 30, 40]]
    assert boxes_utils.pad(torch.tensor([[10, 20, 50, 60]]), 10, 20).tolist() == [
        [30, 30, 70, 70]]


def test_iou_shapes_masking_and_ciou():
    first = np.array([[0, 0, 10, 10], [5, 5, 15, 15.0]])
    second = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [-1, -1, -1, -1.0]])
    iou = boxes_utils.compute_iou(first, second, "xyxy", use_masking=True)
    np.testing.assert_allclose(_numpy(iou), [[1, 0, -1], [25 / 175, 0, -1]], rtol=1e-5)
    assert boxes_utils.compute_iou(first[None], second, "xyxy").shape == (1, 2, 3)
    assert boxes_utils.compute_iou(first, second[None], "yxyx").shape == (1, 2, 3)
    ciou = boxes_utils.compute_ciou(first, second[:2], "xyxy")
    assert ciou.shape == (2,) and abs(float(ciou[0]) - 1) < 1e-5 and float(ciou[1]) < 0


def test_deltas_round_trip():
    anchors = BOXES[0]
    deltas = boxes_utils.encode_box_to_deltas(anchors, BOXES, "xyxy", "rel_yxyx",
                                              variance=[0.1, 0.1, 0.2, 0.2],
                                              image_shape=(30, 40, 3))
    assert deltas.shape == (2, 5, 4)
    decoded = boxes_utils.decode_deltas_to_boxes({"p3": anchors}, {"p3": deltas}, "xyxy",
                                                 "rel_yxyx", variance=[0.1, 0.1, 0.2, 0.2],
                                                 image_shape=(30, 40, 3))
    np.testing.assert_allclose(_numpy(decoded["p3"]), BOXES, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- against Keras


@keras_warnings
def test_every_conversion_matches_keras(keras_boxes):
    assert sorted(boxes_utils.__all__) == sorted(
        name for name in dir(keras_boxes) if not name.startswith("_"))
    for source, target in itertools.product(FORMATS, FORMATS):
        given = _numpy(boxes_utils.convert_format(BOXES, "xyxy", source, 30, 40))
        ours = boxes_utils.convert_format(given, source, target, height=30, width=40)
        theirs = keras_boxes.convert_format(given.copy(), source, target, height=30, width=40)
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-6, atol=1e-6,
                                   err_msg=f"{source} -> {target}")


@keras_warnings
def test_clip_crop_pad_affine_match_keras(keras_boxes):
    spread = BOXES * 3 - 10  # some boxes leave the 30 x 40 image
    for fmt, height, width, boxes in (("xyxy", 30, 40, spread), ("rel_xyxy", None, None,
                                                                  spread / 40)):
        data = {"boxes": boxes, "labels": LABELS}
        ours = boxes_utils.clip_to_image_size(data, height, width, fmt)
        theirs = keras_boxes.clip_to_image_size(dict(data), height, width, fmt)
        np.testing.assert_allclose(_numpy(ours["boxes"]), _numpy(theirs["boxes"]), rtol=1e-6)
        np.testing.assert_array_equal(_numpy(ours["labels"]), _numpy(theirs["labels"]))
    for function, args in ((boxes_utils.crop, (3, 5, 20, 25)), (boxes_utils.pad, (3, 5))):
        ours = function(spread, *args)
        theirs = getattr(keras_boxes, function.__name__)(spread, *args)
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-6)
    params = [torch.tensor(v, dtype=torch.float32) for v in (
        [30.0, -75.0], [0.1, -0.2], [0.05, 0.0], [1.2, 0.8], [10.0, 0.0], [0.0, -15.0])]
    ours = boxes_utils.affine_transform(BOXES, *params, 30, 40, center_x=0.4)
    theirs = keras_boxes.affine_transform(torch.as_tensor(BOXES), *params, 30, 40,
                                          center_x=0.4)
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-5, atol=1e-4)


@keras_warnings
def test_iou_ciou_and_deltas_match_keras(keras_boxes):
    padded = BOXES.copy()
    padded[1, 4] = -1  # a padding box, masked
    for first, second in ((padded[0], padded[1]), (padded, padded[0]), (padded, padded)):
        # Keras's masking fails on batched boxes against unbatched ones (netknit broadcasts).
        for masking in (False, True) if first.ndim == second.ndim else (False,):
            ours = boxes_utils.compute_iou(first, second, "xyxy", use_masking=masking)
            theirs = keras_boxes.compute_iou(first, second, "xyxy", use_masking=masking)
            np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-6, atol=1e-7)
    rel = _numpy(boxes_utils.convert_format(BOXES, "xyxy", "rel_yxyx", 30, 40))
    np.testing.assert_allclose(
        _numpy(boxes_utils.compute_iou(rel, rel[0], "rel_yxyx", image_shape=(30, 40, 3))),
        _numpy(keras_boxes.compute_iou(rel, rel[0], "rel_yxyx", image_shape=(30, 40, 3))),
        rtol=1e-6, atol=1e-7)
    for fmt in ("xyxy", "center_xywh"):
        given = _numpy(boxes_utils.convert_format(BOXES, "xyxy", fmt))
        np.testing.assert_allclose(
            _numpy(boxes_utils.compute_ciou(given, given[::-1], fmt)),
            _numpy(keras_boxes.compute_ciou(given, given[::-1], fmt)), rtol=1e-5, atol=1e-6)
    for encoding, variance in (("center_yxhw", None), ("center_xywh", [0.1, 0.1, 0.2, 0.2])):
        kwargs = {"variance": variance, "image_shape": (30, 40, 3)}
        ours = boxes_utils.encode_box_to_deltas(BOXES[0], BOXES, "xyxy", "xywh", encoding,
                                                **kwargs)
        theirs = keras_boxes.encode_box_to_deltas(BOXES[0], BOXES, "xyxy", "xywh", encoding,
                                                  **kwargs)
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-5, atol=1e-6)
        ours = boxes_utils.decode_deltas_to_boxes(BOXES[0], _numpy(ours), "xyxy", "rel_xywh",
                                                  encoding, **kwargs)
        theirs = keras_boxes.decode_deltas_to_boxes(BOXES[0], theirs, "xyxy",
                                                    "rel_xywh", encoding, **kwargs)
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-5, atol=1e-6)
