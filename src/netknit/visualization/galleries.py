"""Galleries of images drawn with matplotlib: plain (with class names as titles), with bounding
boxes, and with segmentation masks beside each image, as Keras's `keras.visualization.plot_*`.

Each draws a grid of axes, one image each, without ticks or gaps, then saves it to `path`, or
shows it (`plt.show()`, the default without a path), or neither (`show=False`), and returns the
matplotlib Figure (Keras returns None). A saved or shown figure is closed.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..layers.convolutional import normalize_data_format
from .drawing import channels_last_batch, draw_bounding_boxes, draw_segmentation_masks, to_numpy


def _pyplot(function: str):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"{function} draws with matplotlib, which is not installed. Install it "
                          "with `pip install matplotlib`.") from None
    return plt


def _to_255(images: np.ndarray, value_range) -> np.ndarray:
    """Images mapped linearly from `value_range` to [0, 255], in float32 as Keras does (left as
    they are when the range is already that)."""
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or not all(isinstance(v, numbers.Real) for v in value_range)
            or value_range[0] == value_range[1]):
        raise ValueError("Expected value_range to be a pair of different numbers (low, high), "
                         f"such as (0, 255) or (0, 1). Received: value_range={value_range!r}")
    low, high = value_range
    if low == 0 and high == 255:
        return images
    low, high = np.float32(low), np.float32(high)
    return (images.astype(np.float32) - low) / (high - low) * np.float32(255)


def _check_grid_size(name: str, value) -> None:
    if value is not None and (not isinstance(value, numbers.Integral) or value <= 0):
        raise ValueError(f"Expected {name} to be a positive integer or None. Received: "
                         f"{name}={value!r}")


def plot_image_gallery(images, y_true=None, y_pred=None, label_map: dict | None = None,
                       rows: int | None = None, cols: int | None = None,
                       value_range=(0, 255), scale: float = 2, path=None,
                       show: bool | None = None, transparent: bool = True, dpi: int = 60,
                       legend_handles: list | None = None, data_format: str | None = None):
    """Draws a grid of images, titled with their true and predicted class names if given.

    Without `rows` and `cols` the grid has `ceil(sqrt(batch))` rows and `batch // rows` columns
    (Keras's layout, which leaves out the images past `rows * cols`: 2 of 3 are shown; a grid
    larger than the batch leaves its last axes empty, where Keras fails). Values are mapped from
    `value_range` to [0, 255] and truncated to `uint8`; one-channel images are drawn through
    matplotlib's default colour map, as in Keras.

    Args:
        images: `(batch, height, width, channels)` images (or channels first).
        y_true: the true class index of each image, shown as "Label: name" (needs `label_map`).
        y_pred: the predicted class index of each image, shown as "Pred: name".
        label_map: class index -> name ("Unknown" for indices it lacks).
        rows: the number of rows of the grid (default: see above).
        cols: the number of columns of the grid (default: see above).
        value_range: the range of the pixel values, `(0, 255)` by default.
        scale: the size of each image in the figure, in inches (default 2).
        path: a file to save the gallery to (then it is not shown).
        show: whether to show the figure with `plt.show()` (default: when there is no `path`).
        transparent: save with a transparent background (default True).
        dpi: the resolution of the saved file (default 60).
        legend_handles: matplotlib artists (such as `Patch`es) for a legend below the images.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: for both `path` and `show=True`, labels without `label_map`, images that are
            not a 4-D batch, or a bad `value_range`, `rows` or `cols`.
        ImportError: when matplotlib is not installed.

    >>> figure = plot_image_gallery(np.zeros((4, 8, 8, 3)), show=False)
    >>> len(figure.axes)
    4
    """
    plt = _pyplot("plot_image_gallery")
    if path is not None and show:
        raise ValueError("Pass either path= (to save the gallery) or show=True (to display it), "
                         f"not both. Received: path={path!r}, show={show!r}")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("To title the images with y_true or y_pred, pass label_map too (class "
                         "index -> name).")
    _check_grid_size("rows", rows)
    _check_grid_size("cols", cols)
    images = channels_last_batch(images, normalize_data_format(data_format))
    batch = images.shape[0]
    if batch == 0:
        raise ValueError("plot_image_gallery received no images (a batch of 0).")
    show = path is None if show is None else show
    rows = rows or math.ceil(math.sqrt(batch))
    cols = cols or batch // rows
    images = _to_255(images[:rows * cols], value_range)
    y_true = None if y_true is None else to_numpy(y_true)
    y_pred = None if y_pred is None else to_numpy(y_pred)

    figure, axes = plt.subplots(nrows=rows, ncols=cols, figsize=(cols * scale, rows * scale),
                                frameon=False, layout="tight", squeeze=False, sharex="row",
                                sharey="col")
    figure.subplots_adjust(wspace=0, hspace=0)
    if legend_handles is not None:
        figure.legend(handles=legend_handles, loc="lower center")
    for index, axis in enumerate(axes.flat):
        if index < len(images):
            axis.imshow(images[index].astype("uint8"))
        axis.margins(x=0, y=0)
        axis.axis("off")
        titles = []
        if y_true is not None and index < len(y_true):
            titles.append(f"Label: {label_map.get(y_true[index], 'Unknown')}")
        if y_pred is not None and index < len(y_pred):
            titles.append(f"Pred: {label_map.get(y_pred[index], 'Unknown')}")
        if titles:
            axis.set_title("  ".join(titles), fontsize=8)

    if path is not None:
        figure.savefig(path, pad_inches=0, bbox_inches="tight", transparent=transparent,
                       dpi=dpi)
        plt.close(figure)
    elif show:
        plt.show()
        plt.close(figure)
    return figure


def plot_bounding_box_gallery(images, bounding_box_format: str, y_true: dict | None = None,
                              y_pred: dict | None = None, value_range=(0, 255),
                              true_color=(0, 188, 212), pred_color=(255, 235, 59),
                              line_thickness: int = 2, font_scale: float = 1.0,
                              text_thickness: int | None = None,
                              class_mapping: dict | None = None,
                              ground_truth_mapping: dict | None = None,
                              prediction_mapping: dict | None = None, legend: bool = False,
                              legend_handles: list | None = None, rows: int | None = None,
                              cols: int | None = None, data_format: str | None = None,
                              **kwargs):
    """Draws a grid of images with their true and predicted bounding boxes.

    The boxes are drawn by `draw_bounding_boxes` (which needs OpenCV), true ones in
    `true_color`, predicted ones over them in `pred_color`, on the images mapped from
    `value_range` to [0, 255] (Keras 3.15.1 maps them after drawing, which breaks any other
    range than (0, 255)); the grid is `plot_image_gallery`'s.

    Args:
        images: `(batch, height, width, channels)` images (or channels first).
        bounding_box_format: the format of the boxes (`"xyxy"`, `"rel_yxyx"`, ...).
        y_true: the true boxes, a dict as `draw_bounding_boxes` takes (default: none drawn).
        y_pred: the predicted boxes, the same way.
        value_range: the range of the pixel values, `(0, 255)` by default.
        true_color: the RGB colour of the true boxes, default `(0, 188, 212)`.
        pred_color: the RGB colour of the predicted boxes, default `(255, 235, 59)`.
        line_thickness: the boxes' line width in pixels (default 2).
        font_scale: the size of the class names (default 1.0).
        text_thickness: the class names' stroke width (default: `line_thickness`).
        class_mapping: class index -> name, for both kinds of boxes.
        ground_truth_mapping: the names for the true boxes, instead of `class_mapping`.
        prediction_mapping: the names for the predicted boxes, instead of `class_mapping`.
        legend: add a legend naming the two colours "Ground Truth" and "Prediction".
        legend_handles: matplotlib artists for a legend of your own (not with `legend`).
        rows: the number of rows of the grid (default as `plot_image_gallery`).
        cols: the number of columns of the grid.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        **kwargs: passed on to `plot_image_gallery` (`scale`, `path`, `show`, `dpi`, ...).

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: for images that are not a 4-D batch, or both `legend` and
            `legend_handles`.
        ImportError: when matplotlib (or, to draw boxes, OpenCV) is not installed.

    >>> boxes = {"boxes": [[[1, 1, 6, 6]]] * 2, "labels": [[0]] * 2}  # with OpenCV installed
    >>> figure = plot_bounding_box_gallery(np.zeros((2, 8, 8, 3)), "xyxy", y_true=boxes,
    ...                                    show=False)
    >>> len(figure.axes)  # plot_image_gallery's grid: 2 rows of 1
    2
    """
    _pyplot("plot_bounding_box_gallery")
    from matplotlib import patches

    if legend and legend_handles:
        raise ValueError("Pass either legend=True (a legend of the two box colours) or "
                         "legend_handles (your own), not both.")
    images = _to_255(channels_last_batch(images, normalize_data_format(data_format)),
                     value_range)
    draw = {"bounding_box_format": bounding_box_format, "line_thickness": line_thickness,
            "text_thickness": text_thickness, "font_scale": font_scale}
    if y_true is not None:
        images = draw_bounding_boxes(images, y_true, color=true_color,
                                     class_mapping=ground_truth_mapping or class_mapping, **draw)
    if y_pred is not None:
        images = draw_bounding_boxes(images, y_pred, color=pred_color,
                                     class_mapping=prediction_mapping or class_mapping, **draw)
    if legend:
        legend_handles = [patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
                          patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction")]
    return plot_image_gallery(images, value_range=(0, 255), legend_handles=legend_handles,
                              rows=rows, cols=cols, **kwargs)


def plot_segmentation_mask_gallery(images, num_classes: int, value_range=(0, 255), y_true=None,
                                   y_pred=None, color_mapping: dict | None = None,
                                   blend: bool = True, alpha: float = 0.8,
                                   ignore_index: int = -1, data_format: str | None = None,
                                   **kwargs):
    """Draws a grid with one row per image: the image, then its true masks, then its predicted
    masks, each painted over the image by `draw_segmentation_masks`.

    The images are mapped from `value_range` to [0, 255] before the masks are painted (Keras
    3.15.1 paints first, which breaks any other range than (0, 255)).

    Args:
        images: `(batch, height, width, channels)` RGB images (or channels first).
        num_classes: classes 0 to `num_classes - 1` are painted.
        value_range: the range of the pixel values, `(0, 255)` by default.
        y_true: the true class indices, `(batch, height, width)` or with a channel axis of 1
            (cast to integers); None: no column for them.
        y_pred: the predicted class indices, the same way.
        color_mapping: class index -> RGB colour (default: Keras's palette).
        blend: blend the colours with the image (default True).
        alpha: the opacity of the colours, in [0, 1] (default 0.8).
        ignore_index: the class left unpainted (default -1).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        **kwargs: passed on to `plot_image_gallery` (`scale`, `path`, `show`, `dpi`, ...).

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: for images that are not a 4-D batch, or masks of another size.
        ImportError: when matplotlib is not installed.

    >>> masks = np.ones((2, 8, 8), dtype="int32")
    >>> figure = plot_segmentation_mask_gallery(np.zeros((2, 8, 8, 3)), 2, y_true=masks,
    ...                                         show=False)
    >>> len(figure.axes)  # 2 rows of (image, true masks)
    4
    """
    _pyplot("plot_segmentation_mask_gallery")
    data_format = normalize_data_format(data_format)
    images = _to_255(channels_last_batch(images, data_format), value_range)
    paint = {"num_classes": num_classes, "color_mapping": color_mapping, "alpha": alpha,
             "ignore_index": ignore_index, "blend": blend}
    columns = [images]
    for masks in (y_true, y_pred):
        if masks is not None:
            masks = to_numpy(masks).astype(np.int32)
            if data_format == "channels_first" and masks.ndim == 4:
                masks = masks.transpose(0, 2, 3, 1)
            columns.append(draw_segmentation_masks(images, masks, **paint))
    gallery = np.stack([image for row in zip(*columns) for image in row])
    return plot_image_gallery(gallery, value_range=(0, 255), rows=len(images),
                              cols=len(columns), **kwargs)
