"""`text_dataset_from_directory`: batches of the text files in a directory, labelled by folder."""

from __future__ import annotations

from .dataset_from_directory import FileDataset, check_count, check_format, check_label_args
from .dataset_from_directory import dataset_from_directory as _dataset_from_directory


class TextFileDataset(FileDataset):
    """Text files as Python strings (UTF-8, universal newlines), at most `max_length`
    characters each; a batch is a list of strings.

    Args:
        file_paths, labels, class_names, batch_size, shuffle, seed: see `FileDataset`.
        max_length: the number of characters kept from the start of each file, or None.
    """

    def __init__(self, file_paths, labels, class_names, batch_size, shuffle, seed, *,
                 max_length):
        super().__init__(file_paths, labels, class_names, batch_size, shuffle, seed)
        self.max_length = max_length

    def load(self, path: str) -> str:
        with open(path, encoding="utf-8") as f:
            return f.read() if self.max_length is None else f.read(self.max_length)

    def collate(self, samples: list[str]) -> list[str]:
        return samples


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A dataset of the `.txt` files in a directory, with labels from their subdirectories.

    Keras returns a `tf.data.Dataset` of byte strings; netknit returns a `PyDataset`
    (`TextFileDataset`) whose batches are lists of Python strings (as Keras's
    `format="grain"` gives), with int32 `(batch,)`, float32 `(batch, 1)` or float32 one-hot
    `(batch, num_classes)` label tensors as `label_mode` says. netknit has no string tensors:
    turn the strings into numbers before `fit` (e.g. a `PyDataset` of token ids). It has
    Keras's `class_names` (and `file_paths`) attributes and `len()` batches; files are read
    when their batch is asked for.

    The files, their order, the subsets and the printed lines are Keras's. With `shuffle`,
    every epoch reshuffles with a buffer of 8 batches like Keras's `tf.data` pipeline, from
    NumPy draws (see `FileDataset`).

    Args:
        directory: the directory of the files. With `labels="inferred"`, one subdirectory per
            class (searched recursively); otherwise its structure is ignored.
        labels: "inferred" (from the subdirectories), None (texts alone), or a list/tuple of
            integer labels, one per file in the sorted order of the file paths.
        label_mode: "int", "categorical", "binary" (exactly 2 classes) or None (no labels).
        class_names: with inferred labels, the subdirectories to use, in the order of their
            labels (otherwise all of them, in alphanumeric order).
        batch_size: texts per batch; None yields the texts one by one.
        max_length: keep at most this many characters of each text (Keras's `tf.data`
            version counts bytes).
        shuffle: shuffle the files (otherwise sorted alphanumerically).
        seed: the seed of the shuffles (needed with `validation_split` and `shuffle`).
        validation_split: the fraction of the files kept for validation (the last ones after
            the shuffle).
        subset: "training", "validation" or "both" (a list `[training, validation]`); only
            with `validation_split`.
        follow_links: also visit subdirectories that are symbolic links.
        format: "tf" or "grain", accepted for compatibility; the result is the same.
        verbose: print the number of files and classes found.

    >>> reviews = text_dataset_from_directory("reviews", batch_size=2, shuffle=False)
    Found 2 files belonging to 2 classes.
    >>> texts, labels = reviews[0]
    >>> texts, labels.tolist()
    (['Dull.', 'Great film.'], [0, 1])
    """
    check_label_args(labels, label_mode, class_names, "text files")
    check_format(format)
    check_count("max_length", max_length, minimum=0)
    return _dataset_from_directory(
        TextFileDataset, directory, labels=labels, label_mode=label_mode,
        class_names=class_names, formats=(".txt",), batch_size=batch_size, shuffle=shuffle,
        seed=seed, validation_split=validation_split, subset=subset,
        follow_links=follow_links, verbose=verbose, files="text files",
        allowed="Allowed format: .txt", max_length=max_length)
