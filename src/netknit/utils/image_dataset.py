"""`image_dataset_from_directory`: batches of the images in a directory, labelled by folder."""

from __future__ import annotations

import torch

from ..layers.preprocessing import resize_images
from .dataset_from_directory import FileDataset, check_format, check_label_args
from .dataset_from_directory import dataset_from_directory as _dataset_from_directory
from .image_utils import _data_format, img_to_array, load_img

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_NUM_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
# Keras accepts TensorFlow's resize methods; on torch these have no counterpart.
_TF_ONLY_INTERPOLATIONS = ("area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


class ImageFileDataset(FileDataset):
    """Images read with Pillow and resized as Keras's torch backend resizes them
    (`keras.ops.image.resize`), as float32 tensors with values in [0, 255].

    Args:
        file_paths, labels, class_names, batch_size, shuffle, seed: see `FileDataset`.
        image_size: `(height, width)` of every image.
        color_mode: "grayscale", "rgb" or "rgba".
        interpolation: "bilinear", "nearest" or "bicubic".
        crop_to_aspect_ratio: resize the largest centred crop of the target's aspect ratio.
        pad_to_aspect_ratio: pad with zeros (centred) to the target's aspect ratio first.
        data_format: "channels_last" (images `(height, width, channels)`) or "channels_first".
    """

    def __init__(self, file_paths, labels, class_names, batch_size, shuffle, seed, *,
                 image_size, color_mode, interpolation, crop_to_aspect_ratio,
                 pad_to_aspect_ratio, data_format):
        super().__init__(file_paths, labels, class_names, batch_size, shuffle, seed)
        self.image_size = tuple(image_size)
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format

    def load(self, path: str) -> torch.Tensor:
        image = torch.from_numpy(img_to_array(load_img(path, color_mode=self.color_mode),
                                              data_format="channels_first"))
        image = resize_images(image[None], *self.image_size, self.interpolation,
                              self.crop_to_aspect_ratio, self.pad_to_aspect_ratio)[0]
        return image if self.data_format == "channels_first" else image.permute(1, 2, 0)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """A dataset of the images in a directory (`.bmp`, `.gif`, `.jpeg`, `.jpg`, `.png`; the
    first frame of an animation), with labels from their subdirectories.

    Keras returns a `tf.data.Dataset`; netknit returns a `PyDataset` (`ImageFileDataset`) that
    `fit`, `evaluate` and `predict` read, with Keras's `class_names` and `file_paths`
    attributes, `len()` batches, and batches of torch tensors: images float32 `(batch, height,
    width, channels)` with values in [0, 255] (not rescaled), labels int32 `(batch,)`
    ("int"), float32 `(batch, 1)` ("binary") or float32 one-hot `(batch, num_classes)`
    ("categorical"). Files are read and decoded when their batch is asked for.

    The files, their order, the subsets and the printed "Found N files belonging to K
    classes." lines are Keras's; pixels are those of Keras on its torch backend (Pillow
    decoding, `keras.ops.image.resize`). With `shuffle`, every epoch reshuffles with a buffer
    of 8 batches like Keras's `tf.data` pipeline, from NumPy draws (see `FileDataset`).

    Args:
        directory: the directory of the images. With `labels="inferred"`, one subdirectory per
            class (searched recursively); otherwise its structure is ignored.
        labels: "inferred" (from the subdirectories), None (images alone), or a list/tuple of
            integer labels, one per image in the sorted order of the image paths.
        label_mode: "int", "categorical", "binary" (exactly 2 classes) or None (no labels).
        class_names: with inferred labels, the subdirectories to use, in the order of their
            labels (otherwise all of them, in alphanumeric order).
        color_mode: "grayscale", "rgb" or "rgba": images of 1, 3 or 4 channels.
        batch_size: images per batch; None yields the images one by one.
        image_size: `(height, width)` (or one int for both) every image is resized to.
        shuffle: shuffle the files (otherwise sorted alphanumerically).
        seed: the seed of the shuffles (needed with `validation_split` and `shuffle`).
        validation_split: the fraction of the files kept for validation (the last ones after
            the shuffle).
        subset: "training", "validation" or "both" (a list `[training, validation]`); only
            with `validation_split`.
        interpolation: "bilinear", "nearest" or "bicubic" (TensorFlow's other resize methods
            have no torch counterpart, as in Keras on torch).
        follow_links: also visit subdirectories that are symbolic links.
        crop_to_aspect_ratio: resize the largest centred crop of the target's aspect ratio,
            so the image is not distorted.
        pad_to_aspect_ratio: pad with zeros to the target's aspect ratio instead.
        data_format: "channels_last" (default) or "channels_first".
        format: "tf" or "grain", accepted for compatibility; the result is the same.
        verbose: print the number of files and classes found.

    >>> train, valid = image_dataset_from_directory("photos", image_size=(64, 64),
    ...                                             validation_split=0.2, subset="both", seed=1)
    Found 100 files belonging to 2 classes.
    Using 80 files for training.
    Using 20 files for validation.
    >>> model.fit(train, validation_data=valid, epochs=3)
    """
    check_label_args(labels, label_mode, class_names, "image files")
    if color_mode not in _NUM_CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation in _TF_ONLY_INTERPOLATIONS:
        raise ValueError(f"interpolation={interpolation!r} is a TensorFlow resize method, which "
                         "Keras's torch backend does not support either. Use 'bilinear', "
                         "'nearest' or 'bicubic'.")
    if interpolation not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("Argument `interpolation` should be one of ('bilinear', 'nearest', "
                         f"'bicubic'). Received: interpolation={interpolation}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
    check_format(format)
    if data_format is not None:
        data_format = str(data_format).lower()
    data_format = _data_format(data_format)
    return _dataset_from_directory(
        ImageFileDataset, directory, labels=labels, label_mode=label_mode,
        class_names=class_names, formats=ALLOWLIST_FORMATS, batch_size=batch_size,
        shuffle=shuffle, seed=seed, validation_split=validation_split, subset=subset,
        follow_links=follow_links, verbose=verbose, files="images",
        allowed=f"Allowed formats: {ALLOWLIST_FORMATS}", image_size=image_size,
        color_mode=color_mode, interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio, pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format=data_format)
