"""netknit.visualization: masks and boxes drawn on known pixels, gallery figures (their axes,
titles and image data), errors, the optional OpenCV and matplotlib; and the same outputs against
real Keras 3 (torch backend), live. Keras comparisons skip without Keras, box drawing without
OpenCV (`opencv-python-headless`)."""

import sys

import numpy as np
import pytest
import torch

from netknit import visualization

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")
plt = pytest.importorskip("matplotlib.pyplot")

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (4, 20, 30, 3)).astype("float32")
MASKS = RNG.integers(-1, 4, (4, 20, 30, 1)).astype("int32")
BOXES = {"boxes": np.array([[[2, 3, 25, 15], [10, 12, 28, 19]]] * 4, "float32"),
         "labels": np.array([[1, 0], [0, -1], [2, 1], [1, 1]]),
         "confidences": np.array([[0.9, 0.25]] * 4)}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _image_data(figure) -> list:
    return [np.asarray(axis.images[0].get_array()) if axis.images else None
            for axis in figure.axes]


# ---------------------------------------------------------------------- segmentation masks


def test_masks_are_painted_and_blended_with_the_class_colours():
    masks = np.array([[[0, 1], [1, 2]]])
    colors = {0: (0, 0, 0), 1: (255, 0, 0), 2: (0, 0, 255)}
    images = np.full((1, 2, 2, 3), 100)
    out = visualization.draw_segmentation_masks(images, masks, 3, colors, ignore_index=0)
    assert out.dtype == np.uint8 and out.shape == (1, 2, 2, 3)
    assert out[0, 0, 0].tolist() == [100, 100, 100]  # the ignored class
    assert out[0, 0, 1].tolist() == [224, 20, 20]  # 100 * 0.2 + 255 * 0.8, truncated
    assert out[0, 1, 1].tolist() == [20, 20, 224]
    painted = visualization.draw_segmentation_masks(images, masks[..., None], 3, colors,
                                                    blend=False, ignore_index=0)
    assert painted.dtype == np.float32
    assert painted[0, :, :, 0].tolist() == [[100, 255], [255, 0]]


def test_masks_default_palette_layout_and_class_count():
    out = visualization.draw_segmentation_masks(IMAGES, MASKS, blend=False)
    # Keras's palette: i * (2**25 - 1, 2**15 - 1, 2**21 - 1) % 255; None paints classes 0-3.
    for cls in range(4):
        expected = [cls * p % 255 for p in (2**25 - 1, 2**15 - 1, 2**21 - 1)]
        assert (out[MASKS[..., 0] == cls] == expected).all()
    np.testing.assert_array_equal(out[MASKS[..., 0] == -1], IMAGES[MASKS[..., 0] == -1])
    first = visualization.draw_segmentation_masks(
        torch.as_tensor(IMAGES).permute(0, 3, 1, 2), torch.as_tensor(MASKS[..., 0]),
        data_format="channels_first")
    np.testing.assert_array_equal(first.transpose(0, 2, 3, 1),
                                  visualization.draw_segmentation_masks(IMAGES, MASKS))


@pytest.mark.parametrize("call, error, message", [
    (lambda: visualization.draw_segmentation_masks(IMAGES, MASKS.astype("float32")), TypeError,
     r"integer class indices"),
    (lambda: visualization.draw_segmentation_masks(IMAGES, MASKS, alpha=1.5), ValueError,
     r"alpha to be in \[0, 1\]"),
    (lambda: visualization.draw_segmentation_masks(IMAGES, MASKS, 3, {0: (1, 2, 3)}),
     ValueError, r"Missing: \[1, 2\]"),
    (lambda: visualization.draw_segmentation_masks(IMAGES, MASKS[:, :10]), ValueError,
     r"segmentation_masks of shape \(4, 20, 30\)"),
    (lambda: visualization.draw_segmentation_masks(IMAGES[0], MASKS[0]), ValueError,
     r"images\[None\]"),
    (lambda: visualization.draw_segmentation_masks(IMAGES, MASKS, 2, {0: (1, 2), 1: (3, 4)}),
     ValueError, r"colours of 3 values \(or 1\)"),
])
def test_mask_errors_say_what_is_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------- bounding boxes


def test_boxes_need_opencv_only_when_drawing(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # as if OpenCV were not installed
    with pytest.raises(ImportError, match=r"pip install opencv-python-headless"):
        visualization.draw_bounding_boxes(IMAGES, BOXES, "xyxy")
    with pytest.raises(TypeError, match=r"a dict with 'boxes' and 'labels'"):
        visualization.draw_bounding_boxes(IMAGES, [BOXES["boxes"]], "xyxy")
    with pytest.raises(ValueError, match=r"Received a dict with the keys \['boxes'\]"):
        visualization.draw_bounding_boxes(IMAGES, {"boxes": BOXES["boxes"]}, "xyxy")
    figure = visualization.plot_bounding_box_gallery(IMAGES, "xyxy", legend=True, show=False)
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["Ground Truth",
                                                                     "Prediction"]


def test_boxes_are_drawn_in_their_colour_and_skipped_when_labelled_minus_one():
    pytest.importorskip("cv2")
    boxes = {"boxes": [[[4, 6, 20, 16], [1, 1, 3, 3]]], "labels": [[0, -1]]}
    out = visualization.draw_bounding_boxes(np.zeros((1, 24, 30, 3)), boxes, "xyxy",
                                            color=(255, 0, 0), line_thickness=1)
    assert out.dtype == np.uint8 and out.shape == (1, 24, 30, 3)
    assert (out[0, 6, 4:21] == [255, 0, 0]).all() and (out[0, 6:17, 20] == [255, 0, 0]).all()
    assert (out[0, 7:16, 5:20] == 0).all()  # inside
    assert (out[0, :4, :4] == 0).all()  # the padding box
    relative = {"boxes": [[[6 / 24, 4 / 30, 16 / 24, 20 / 30]]], "labels": [[0]]}
    np.testing.assert_array_equal(visualization.draw_bounding_boxes(
        torch.zeros(1, 3, 24, 30), relative, "rel_yxyx", color=(255, 0, 0), line_thickness=1,
        data_format="channels_first").transpose(0, 2, 3, 1)[0, 6:17, 4:21],
        out[0, 6:17, 4:21])
    # A class name is written above the box; without a mapping nothing is.
    named = visualization.draw_bounding_boxes(np.zeros((1, 60, 60, 3)), {
        "boxes": [[[5, 40, 50, 55]]], "labels": [[0]]}, "xyxy", class_mapping={0: "cat"})
    assert named[0, :32].any()
    assert not visualization.draw_bounding_boxes(np.zeros((1, 60, 60, 3)), {
        "boxes": [[[5, 40, 50, 55]]], "labels": [[0]]}, "xyxy")[0, :32].any()


# ---------------------------------------------------------------------- galleries


def test_a_gallery_lays_out_the_images_with_their_titles():
    figure = visualization.plot_image_gallery(
        IMAGES, y_true=np.array([0, 1, 2, 5]), y_pred=[1, 1, 0, 2],
        label_map={0: "cat", 1: "dog", 2: "bird"}, show=False)
    assert len(figure.axes) == 4 and tuple(figure.get_size_inches()) == (4, 4)
    assert [a.get_title() for a in figure.axes] == [
        "Label: cat  Pred: dog", "Label: dog  Pred: dog", "Label: bird  Pred: cat",
        "Label: Unknown  Pred: bird"]
    assert not any(a.axison for a in figure.axes)
    for data, image in zip(_image_data(figure), IMAGES):
        np.testing.assert_array_equal(data, image.astype("uint8"))
    # Keras's default layout: ceil(sqrt(3)) = 2 rows of 3 // 2 = 1 image.
    assert len(visualization.plot_image_gallery(IMAGES[:3], show=False).axes) == 2
    # A grid larger than the batch leaves its last axes empty.
    assert [d is None for d in _image_data(visualization.plot_image_gallery(
        IMAGES[:3], rows=2, cols=2, show=False))] == [False, False, False, True]


def test_a_gallery_maps_the_value_range_and_layout():
    expected = _image_data(visualization.plot_image_gallery(IMAGES, show=False))
    unit = visualization.plot_image_gallery(torch.as_tensor(IMAGES / 255).permute(0, 3, 1, 2),
                                            value_range=(0, 1), data_format="channels_first",
                                            show=False)
    for got, want in zip(_image_data(unit), expected):
        assert np.abs(got.astype(int) - want).max() <= 1  # truncation after rounding


def test_a_gallery_saved_to_a_file_is_closed(tmp_path):
    figure = visualization.plot_image_gallery(IMAGES, path=tmp_path / "gallery.png")
    assert (tmp_path / "gallery.png").stat().st_size > 0
    assert not plt.fignum_exists(figure.number)


@pytest.mark.parametrize("kwargs, message", [
    ({"path": "x.png", "show": True}, r"either path= .* or show=True"),
    ({"y_true": [0, 1, 2, 3]}, r"pass label_map too"),
    ({"rows": 0}, r"rows to be a positive integer"),
    ({"value_range": (1, 1)}, r"pair of different numbers"),
])
def test_gallery_errors_say_what_is_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        visualization.plot_image_gallery(IMAGES, **kwargs)


def test_galleries_need_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install matplotlib"):
        visualization.plot_image_gallery(IMAGES, show=False)


def test_a_mask_gallery_shows_each_image_beside_its_masks():
    figure = visualization.plot_segmentation_mask_gallery(
        IMAGES[:2], 4, y_true=MASKS[:2], y_pred=MASKS[2:], show=False)
    assert len(figure.axes) == 6 and tuple(figure.get_size_inches()) == (6, 4)
    true = visualization.draw_segmentation_masks(IMAGES[:2], MASKS[:2], 4)
    pred = visualization.draw_segmentation_masks(IMAGES[:2], MASKS[2:], 4)
    expected = [IMAGES[0], true[0], pred[0], IMAGES[1], true[1], pred[1]]
    for got, want in zip(_image_data(figure), expected):
        np.testing.assert_array_equal(got, want.astype("uint8"))
    # Masks are painted on the images in [0, 255], whatever their range.
    unit = visualization.plot_segmentation_mask_gallery(IMAGES[:2] / 255, 4, (0, 1),
                                                        y_true=MASKS[:2], show=False)
    assert np.abs(_image_data(unit)[1].astype(int) - true[0]).max() <= 1


# ---------------------------------------------------------------------- against Keras


@pytest.fixture
def keras():
    return pytest.importorskip("keras")


def _keras_figure(function, *args, **kwargs):
    plt.close("all")
    function(*args, show=False, **kwargs)  # Keras returns None and leaves the figure open
    return plt.gcf()


def _same_figures(theirs, ours):
    assert tuple(ours.get_size_inches()) == tuple(theirs.get_size_inches())
    assert [a.get_title() for a in ours.axes] == [a.get_title() for a in theirs.axes]
    assert [[t.get_text() for t in legend.get_texts()] for legend in ours.legends] == [
        [t.get_text() for t in legend.get_texts()] for legend in theirs.legends]
    for got, want in zip(_image_data(ours), _image_data(theirs), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kwargs", [
    {}, {"num_classes": 4, "alpha": 0.35}, {"num_classes": 4, "ignore_index": 0},
    {"num_classes": 4, "blend": False},
    {"num_classes": 4, "color_mapping": {0: (1, 2, 3), 1: (200, 100, 0), 2: (9, 250, 77),
                                         3: (255, 255, 255)}},
], ids=["inferred", "alpha", "ignore", "painted", "colours"])
def test_masks_equal_keras_s(keras, kwargs):
    # Keras takes the largest index as the class count: for it, 4 is the masks' 0-3.
    theirs = keras.visualization.draw_segmentation_masks(IMAGES, MASKS,
                                                         **{"num_classes": 4, **kwargs})
    ours = visualization.draw_segmentation_masks(IMAGES, MASKS, **kwargs)
    theirs = np.asarray(theirs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("images, fmt, kwargs", [
    (IMAGES, "xyxy", {}),
    (IMAGES / 255, "xyxy", {"class_mapping": {0: "cat", 1: "dog"}}),
    (IMAGES.astype("uint8"), "xyxy", {"class_mapping": {1: "dog", 2: "x"}, "color": (255, 0, 0),
                                      "line_thickness": 1, "text_thickness": 2,
                                      "font_scale": 0.4}),
    (IMAGES, "center_yxhw", {"class_mapping": {0: "cat"}}),
], ids=["plain", "unit-names", "uint8-options", "center_yxhw"])
def test_boxes_equal_keras_s(keras, images, fmt, kwargs):
    pytest.importorskip("cv2")
    boxes = dict(BOXES, boxes=np.asarray(keras.utils.bounding_boxes.convert_format(
        BOXES["boxes"], "xyxy", fmt)))
    theirs = keras.visualization.draw_bounding_boxes(images, dict(boxes), fmt, **kwargs)
    ours = visualization.draw_bounding_boxes(torch.as_tensor(images), boxes, fmt, **kwargs)
    np.testing.assert_array_equal(ours, theirs)


def test_image_galleries_equal_keras_s(keras):
    kwargs = {"y_true": np.array([0, 1, 2, 7]), "y_pred": np.array([1, 1, 0, 2]),
              "label_map": {0: "a", 1: "b", 2: "c"}, "scale": 1.5}
    _same_figures(_keras_figure(keras.visualization.plot_image_gallery, IMAGES, **kwargs),
                  visualization.plot_image_gallery(IMAGES, show=False, **kwargs))
    for images, kwargs in [(IMAGES[:3], {}), (IMAGES[:3], {"rows": 1, "cols": 3}),
                           (IMAGES / 127.5 - 1, {"value_range": (-1, 1)}),
                           (IMAGES[..., :1], {})]:
        _same_figures(_keras_figure(keras.visualization.plot_image_gallery, images, **kwargs),
                      visualization.plot_image_gallery(images, show=False, **kwargs))


def test_box_and_mask_galleries_equal_keras_s(keras):
    args = (IMAGES[:3], 4)
    kwargs = {"y_true": MASKS[:3], "y_pred": MASKS[1:], "alpha": 0.5}
    _same_figures(_keras_figure(keras.visualization.plot_segmentation_mask_gallery, *args,
                                **kwargs),
                  visualization.plot_segmentation_mask_gallery(*args, show=False, **kwargs))
    _same_figures(_keras_figure(keras.visualization.plot_bounding_box_gallery, IMAGES, "xyxy",
                                legend=True),
                  visualization.plot_bounding_box_gallery(IMAGES, "xyxy", legend=True,
                                                          show=False))
    pytest.importorskip("cv2")
    kwargs = {"y_true": BOXES, "y_pred": dict(BOXES, labels=BOXES["labels"][::-1]),
              "class_mapping": {0: "a", 1: "b"}, "legend": True, "line_thickness": 1}
    _same_figures(_keras_figure(keras.visualization.plot_bounding_box_gallery, IMAGES, "xyxy",
                                **kwargs),
                  visualization.plot_bounding_box_gallery(IMAGES, "xyxy", show=False,
                                                          **kwargs))


def test_a_saved_gallery_has_keras_s_pixels(keras, tmp_path):
    from matplotlib.image import imread

    kwargs = {"y_true": MASKS[:2], "y_pred": MASKS[2:]}
    keras.visualization.plot_segmentation_mask_gallery(IMAGES[:2], 4, path=tmp_path / "k.png",
                                                       **kwargs)
    visualization.plot_segmentation_mask_gallery(IMAGES[:2], 4, path=tmp_path / "n.png",
                                                 **kwargs)
    np.testing.assert_array_equal(imread(tmp_path / "n.png"), imread(tmp_path / "k.png"))
