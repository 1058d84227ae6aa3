"""`audio_dataset_from_directory`: batches of the WAV files in a directory, labelled by folder."""

from __future__ import annotations

import math
import wave

import numpy as np
import torch

from .dataset_from_directory import FileDataset, check_count, check_label_args
from .dataset_from_directory import dataset_from_directory as _dataset_from_directory

ALLOWED_FORMATS = (".wav",)


def read_wav(path: str, desired_samples: int | None = None) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV file as `tf.audio.decode_wav` reads it: float32 `(samples, channels)`
    of `sample / 32768` (in [-1, 1)), cropped or padded with zeros to `desired_samples` when
    given; and its sampling rate."""
    try:
        with wave.open(path, "rb") as f:
            width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
            frames = f.readframes(f.getnframes())
    except wave.Error as error:
        raise ValueError(f"Cannot read {path} as a 16-bit PCM WAV file ({error}).") from error
    if width != 2:
        raise ValueError(f"Can only read 16-bit WAV files (as tf.audio.decode_wav), but {path} "
                         f"has {8 * width}-bit samples.")
    audio = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).astype("float32") / 32768
    if desired_samples is not None:
        audio = audio[:desired_samples]
        audio = np.pad(audio, ((0, desired_samples - len(audio)), (0, 0)))
    return audio, rate


class AudioFileDataset(FileDataset):
    """WAV files as float32 tensors `(samples, channels)`.

    Args:
        file_paths, labels, class_names, batch_size, shuffle, seed: see `FileDataset`.
        sampling_rate: resample to this rate (with `scipy.signal.resample_poly`), or None.
        output_sequence_length: crop or pad every file to this many samples (at its own
            rate, before resampling, as Keras does), or None.
        ragged: batches are lists of tensors of their own lengths; otherwise, without
            `output_sequence_length`, the batch is padded with zeros to its longest file.
    """

    def __init__(self, file_paths, labels, class_names, batch_size, shuffle, seed, *,
                 sampling_rate, output_sequence_length, ragged):
        super().__init__(file_paths, labels, class_names, batch_size, shuffle, seed)
        self.sampling_rate = sampling_rate
        self.output_sequence_length = output_sequence_length
        self.ragged = ragged

    def load(self, path: str) -> torch.Tensor:
        audio, rate = read_wav(path, self.output_sequence_length)
        if self.sampling_rate is not None and rate != self.sampling_rate:
            from scipy.signal import resample_poly

            common = math.gcd(self.sampling_rate, rate)
            audio = resample_poly(audio, self.sampling_rate // common, rate // common, axis=0)
            audio = audio.astype("float32")
        return torch.from_numpy(audio)

    def collate(self, samples: list[torch.Tensor]):
        if self.ragged:
            return samples
        if self.output_sequence_length is None:
            return torch.nn.utils.rnn.pad_sequence(samples, batch_first=True)
        return torch.stack(samples)


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, batch_size=32, sampling_rate=None,
                                 output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None,
                                 follow_links=False, verbose=True):
    """A dataset of the `.wav` files in a directory, with labels from their subdirectories.

    Keras returns a `tf.data.Dataset`; netknit returns a `PyDataset` (`AudioFileDataset`) that
    `fit`, `evaluate` and `predict` read, with Keras's `class_names` (and `file_paths`)
    attributes, `len()` batches, and batches of torch tensors: audio float32 `(batch,
    samples, channels)` with values `sample / 32768` as `tf.audio.decode_wav` gives, labels
    int32 `(batch,)`, float32 `(batch, 1)` or float32 one-hot `(batch, num_classes)` as
    `label_mode` says. Files are read when their batch is asked for.

    Supported files: 16-bit PCM WAV (what `tf.audio.decode_wav` reads), read with Python's
    `wave` module. `ragged=True` yields lists of tensors (torch has no ragged tensor), and
    `sampling_rate` resamples with SciPy's `resample_poly` (Keras needs tensorflow-io, whose
    resampler gives slightly different values). With `shuffle`, every epoch reshuffles with
    a buffer of 8 batches like Keras's `tf.data` pipeline, from NumPy draws (see
    `FileDataset`).

    Args:
        directory: the directory of the files. With `labels="inferred"`, one subdirectory per
            class (searched recursively); otherwise its structure is ignored.
        labels: "inferred" (from the subdirectories), None (audio alone), or a list/tuple of
            integer labels, one per file in the sorted order of the file paths.
        label_mode: "int", "categorical", "binary" (exactly 2 classes) or None (no labels).
        class_names: with inferred labels, the subdirectories to use, in the order of their
            labels (otherwise all of them, in alphanumeric order).
        batch_size: files per batch; None yields the files one by one.
        sampling_rate: the rate (samples per second) to resample every file to, or None.
        output_sequence_length: crop or pad every file to this many samples (counted at the
            file's own rate: Keras crops before resampling). None pads each batch to its
            longest file.
        ragged: yield each file at its own length (not with `output_sequence_length`).
        shuffle: shuffle the files (otherwise sorted alphanumerically).
        seed: the seed of the shuffles (needed with `validation_split` and `shuffle`).
        validation_split: the fraction of the files kept for validation (the last ones after
            the shuffle).
        subset: "training", "validation" or "both" (a tuple `(training, validation)`); only
            with `validation_split`.
        follow_links: also visit subdirectories that are symbolic links.
        verbose: print the number of files and classes found.

    >>> speech = audio_dataset_from_directory("commands", output_sequence_length=16000)
    Found 120 files belonging to 4 classes.
    >>> audio, labels = speech[0]
    >>> audio.shape, labels.shape
    (torch.Size([32, 16000, 1]), torch.Size([32]))
    """
    check_label_args(labels, label_mode, class_names, "audio files")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    check_count("output_sequence_length", output_sequence_length)
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("`sampling_rate` should have an integer value. "
                             f"Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. "
                             f"Received: sampling_rate={sampling_rate}")
        try:
            import scipy.signal  # noqa: F401
        except ImportError:
            raise ImportError("To use the argument `sampling_rate`, install SciPy "
                              "(pip install scipy), which resamples the audio.") from None
    datasets = _dataset_from_directory(
        AudioFileDataset, directory, labels=labels, label_mode=label_mode,
        class_names=class_names, formats=ALLOWED_FORMATS, batch_size=batch_size,
        shuffle=shuffle, seed=seed, validation_split=validation_split, subset=subset,
        follow_links=follow_links, verbose=verbose, files="audio files",
        allowed=f"Allowed format(s): {ALLOWED_FORMATS}", sampling_rate=sampling_rate,
        output_sequence_length=output_sequence_length, ragged=ragged)
    # Keras returns the audio subsets of "both" as a tuple (the image and text ones as a list).
    return tuple(datasets) if isinstance(datasets, list) else datasets
