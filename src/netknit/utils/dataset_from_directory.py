"""What the `*_dataset_from_directory` utilities share: indexing a directory, the validation
split, labels, and `FileDataset`, the `PyDataset` that reads the files one batch at a time.

Keras builds a `tf.data` (or Grain) pipeline; netknit returns a `FileDataset`, which `fit`,
`evaluate` and `predict` read like any `PyDataset` and which iterates as
`for inputs, labels in dataset:`. The files, their order, the subsets and the labels are
Keras's: the directory is indexed and shuffled the way `keras.utils.index_directory` does it.

Layout of a directory with inferred labels (one subdirectory per class, searched recursively;
classes in alphanumeric order unless `class_names` says otherwise):

    main_directory/
    ...class_a/
    ......a_image_1.jpg
    ......a_image_2.jpg
    ...class_b/
    ......b_image_1.jpg
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from ..training.progress import write_line
from .py_dataset import PyDataset

LABEL_MODES = ("int", "categorical", "binary", None)


def check_label_args(labels, label_mode, class_names, files: str) -> None:
    """Keras's checks of `labels`, `class_names` and `label_mode`; `files` names the files
    (e.g. "image files") in the message."""
    if labels is not None and not (isinstance(labels, str) and labels == "inferred"):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                f"as the number of {files} in the target directory. If you wish to infer the "
                'labels from the subdirectory names in the target directory, pass '
                '`labels="inferred"`. If you wish to get a dataset that only contains the '
                f"{files} (no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in LABEL_MODES:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")


def check_validation_split_arg(validation_split, subset, shuffle, seed) -> None:
    """Keras's checks of `validation_split` and `subset` (and of the seed a split needs)."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset.")


def check_count(name: str, value, minimum: int = 1) -> None:
    """`value` is None or an integer of at least `minimum` (Keras leaves this to TensorFlow)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < minimum):
        raise ValueError(f"Expected None or an integer of at least {minimum} for {name}. "
                         f"Received: {name}={value!r}")


def check_format(format: str) -> None:
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


def index_directory(directory, labels, formats: tuple[str, ...], class_names=None,
                    shuffle: bool = True, seed: int | None = None, follow_links: bool = False,
                    verbose: bool = True):
    """The files in `directory` whose names end with one of `formats`, and their labels.

    As Keras's `index_directory`: with `labels="inferred"` each visible subdirectory is a class
    (alphanumeric order, or the order of `class_names`) searched recursively; otherwise the
    whole tree is indexed, and `labels` is None or one integer per file in sorted path order.
    Files come sorted (by directory, then name) unless `shuffle`, which permutes them with
    NumPy's `RandomState(seed)`, the same permutation Keras draws.

    Returns:
        `(file_paths, labels, class_names)`: paths as strings, an int32 array of labels (or
        the `labels` given, shuffled; None without labels), and the class names (None without
        labels; the sorted labels as strings for a list of labels).
    """
    if isinstance(labels, str) and labels == "inferred":
        subdirs = [name for name in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of "
                    f"the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot "
                                 "be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` "
                             "cannot be specified (the `class_names` will be the sorted list "
                             "of labels).")
        subdirs = [""]  # index from the directory itself down
    file_paths, inferred = [], []
    for index, subdir in enumerate(subdirs):
        names = _files_under(os.path.join(directory, subdir), follow_links, formats)
        file_paths += [os.path.join(directory, subdir, name) for name in names]
        inferred += [index] * len(names)
    if isinstance(labels, str):
        labels = np.asarray(inferred, dtype="int32")
        class_names = subdirs
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(file_paths):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(file_paths)} "
                f"files in directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if labels is None:
            write_line(f"Found {len(file_paths)} files.")
        else:
            write_line(f"Found {len(file_paths)} files belonging to {len(class_names)} classes.")
    if shuffle:
        # Keras shuffles the paths and the labels with two fresh RandomState(seed): one
        # permutation applied to both.
        if seed is None:
            seed = np.random.randint(1e6)
        order = np.random.RandomState(seed).permutation(len(file_paths))
        file_paths = [file_paths[i] for i in order]
        if labels is not None:
            labels = np.asarray(labels)[order]
    return file_paths, labels, class_names


def _files_under(directory: str, follow_links: bool, formats: tuple[str, ...]) -> list[str]:
    """Paths below `directory` (relative to it) of the files with an allowed extension, sorted
    by directory, then by name."""
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda entry: entry[0]):
        relative_root = os.path.relpath(root, directory)
        found += [os.path.normpath(os.path.join(relative_root, name))
                  for name in sorted(files) if name.lower().endswith(formats)]
    return found


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """The training part (all but the last `validation_split` of the samples) or the validation
    part (the last), as Keras splits, printing how many files the part uses."""
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    # Keras prints the split whatever `verbose` says; a split of 0 files leaves the training
    # part empty (`samples[:-0]`), as in Keras.
    if subset == "training":
        write_line(f"Using {len(samples) - num_val_samples} files for training.")
        part = slice(None, -num_val_samples)
    elif subset == "validation":
        write_line(f"Using {num_val_samples} files for validation.")
        part = slice(-num_val_samples, None)
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: '
                         f"{subset}")
    return samples[part], None if labels is None else labels[part]


def encode_labels(labels, label_mode: str | None, num_classes: int) -> torch.Tensor | None:
    """The labels as Keras's datasets yield them: int32 class indices (`"int"`), float32 0/1
    of shape `(n, 1)` (`"binary"`) or float32 one-hot rows (`"categorical"`; a label outside
    `range(num_classes)` gets a row of zeros, as `tf.one_hot` gives)."""
    if label_mode is None:
        return None
    labels = np.asarray(labels)
    if label_mode == "int":
        return torch.from_numpy(labels.astype("int32"))
    if label_mode == "binary":
        return torch.from_numpy(labels.astype("float32")[:, None])
    return torch.from_numpy((labels[:, None] == np.arange(num_classes)).astype("float32"))


class FileDataset(PyDataset):
    """A `PyDataset` of files read when their batch is asked for, with their labels.

    Batch `i` holds the files at positions `i * batch_size` to `(i + 1) * batch_size` of the
    epoch's order. Without `shuffle` the order is `file_paths`. With `shuffle`, every epoch
    (`on_epoch_end`) draws a new order the way `tf.data`'s `shuffle(buffer_size, seed)`
    reshuffles each iteration in Keras: files pass through a buffer of `buffer_size` files,
    from which the next one is picked at random. The draws are NumPy's, seeded with
    `(seed, epoch)`, so the epochs repeat for a seed but are not the ones TensorFlow draws.

    Subclasses read one file (`load`) and put samples together into a batch (`collate`).

    Args:
        file_paths: the files, as strings.
        labels: a tensor with one label per file (first axis), or None.
        class_names: the names of the classes, or None.
        batch_size: files per batch (the last batch may be smaller); None yields the samples
            one by one.
        shuffle: reshuffle every epoch.
        seed: the seed of the shuffles.
    """

    def __init__(self, file_paths: list[str], labels: torch.Tensor | None, class_names,
                 batch_size: int | None, shuffle: bool, seed: int | None):
        super().__init__()
        self.file_paths = file_paths
        self.class_names = class_names
        self.batch_size = batch_size
        self.labels = labels
        self.shuffle = shuffle
        self.seed = seed
        # Keras's buffer: 8 batches, or 1024 samples when unbatched.
        self.buffer_size = batch_size * 8 if batch_size is not None else 1024
        self.epoch = 0
        self.order = self._epoch_order()

    def load(self, path: str):
        """One sample: the content of the file at `path`."""
        raise NotImplementedError

    def collate(self, samples: list):
        """One batch of `samples` (by default stacked into one tensor)."""
        return torch.stack(samples)

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range: the dataset has "
                             f"{len(self)} batches.")
        if self.batch_size is None:
            position = int(self.order[index])
            inputs = self.load(self.file_paths[position])
            labels = None if self.labels is None else self.labels[position]
        else:
            positions = self.order[index * self.batch_size:(index + 1) * self.batch_size]
            inputs = self.collate([self.load(self.file_paths[i]) for i in positions])
            labels = None if self.labels is None else self.labels[torch.from_numpy(positions)]
        return inputs if labels is None else (inputs, labels)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.epoch += 1
            self.order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        size = len(self.file_paths)
        if not self.shuffle:
            return np.arange(size)
        draws = np.random.default_rng((self.seed, self.epoch)).random(size)
        buffer = list(range(min(self.buffer_size, size)))
        upcoming = len(buffer)
        order = np.empty(size, dtype=np.int64)
        for position, draw in enumerate(draws):
            slot = int(draw * len(buffer))
            order[position] = buffer[slot]
            if upcoming < size:  # the next file takes the place of the one that left
                buffer[slot] = upcoming
                upcoming += 1
            else:  # the input is spent: the buffer shrinks
                buffer[slot] = buffer[-1]
                buffer.pop()
        return order


def dataset_from_directory(dataset_class: type[FileDataset], directory, *, labels, label_mode,
                           class_names, formats: tuple[str, ...], batch_size, shuffle, seed,
                           validation_split, subset, follow_links, verbose, files: str,
                           allowed: str, **options):
    """Indexes `directory` and returns a `dataset_class` of its files (a list of the training
    and the validation dataset for `subset="both"`), as Keras's `*_dataset_from_directory`.

    Args:
        dataset_class: the `FileDataset` subclass that reads the files.
        directory, labels, label_mode, class_names, batch_size, shuffle, seed,
            validation_split, subset, follow_links, verbose: as the `*_dataset_from_directory`
            functions take them.
        formats: the allowed file extensions, lowercase.
        files: what the files are, for messages ("images", "text files", "audio files").
        allowed: the allowed extensions as Keras's messages state them.
        options: keyword arguments of `dataset_class` for reading the files.
    """
    check_count("batch_size", batch_size)
    if labels is None or label_mode is None:
        labels = label_mode = None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    labels = encode_labels(labels, label_mode, len(class_names or ()))

    def make(paths, part_labels, part_shuffle, empty_message):
        if not paths:
            raise ValueError(f"{empty_message} {directory}. {allowed}")
        return dataset_class(paths, part_labels, class_names, batch_size=batch_size,
                             shuffle=part_shuffle, seed=seed, **options)

    if subset == "both":
        train = get_training_or_validation_split(file_paths, labels, validation_split,
                                                 "training")
        valid = get_training_or_validation_split(file_paths, labels, validation_split,
                                                 "validation")
        # As in Keras, the validation dataset of "both" keeps its order.
        return [make(*train, shuffle, f"No training {files} found in directory"),
                make(*valid, False, f"No validation {files} found in directory")]
    file_paths, labels = get_training_or_validation_split(file_paths, labels, validation_split,
                                                          subset)
    return make(file_paths, labels, shuffle, f"No {files} found in directory")
