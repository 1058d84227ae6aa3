"""image/text/audio_dataset_from_directory: Keras 3.15.1's files, order, subsets, labels and
messages (checked against Keras's own indexing where Keras is installed), Keras-on-torch pixels,
and batches `fit` reads."""

import math
import os
import wave

import numpy as np
import pytest
import torch

import netknit as keras
from netknit.utils.dataset_from_directory import FileDataset

PIL = pytest.importorskip("PIL.Image")


def _save_image(path, height, width, mode="RGB", seed=0):
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, channels), "uint8")
    image = PIL.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path)


@pytest.fixture
def image_dir(tmp_path):
    """Two classes of images of several sizes, modes and formats, with files and folders that
    indexing skips (unless labels are not inferred, for the top-level image)."""
    root = tmp_path / "images"
    _save_image(root / "dogs" / "d1.png", 9, 13, "RGBA", 1)
    _save_image(root / "dogs" / "d2.gif", 8, 8, "RGB", 2)
    _save_image(root / "dogs" / "d3.jpeg", 11, 6, "L", 3)
    _save_image(root / "cats" / "c1.png", 10, 14, "RGB", 4)
    _save_image(root / "cats" / "c2.JPG", 12, 9, "RGB", 5)
    _save_image(root / "cats" / "nested" / "c3.bmp", 7, 7, "RGB", 6)
    _save_image(root / ".hidden" / "h.png", 4, 4, "RGB", 7)
    _save_image(root / "stray.png", 5, 5, "RGB", 8)
    (root / "cats" / "notes.txt").write_text("not an image")
    return str(root)


def test_images_labels_and_attributes(image_dir, capsys):
    dataset = keras.utils.image_dataset_from_directory(image_dir, image_size=(6, 5),
                                                       batch_size=4, shuffle=False)
    assert capsys.readouterr().out == "Found 6 files belonging to 2 classes.\n"
    assert isinstance(dataset, keras.utils.PyDataset)
    assert dataset.class_names == ["cats", "dogs"] and len(dataset) == 2
    assert [os.path.relpath(p, image_dir) for p in dataset.file_paths] == [
        "cats/c1.png", "cats/c2.JPG", "cats/nested/c3.bmp", "dogs/d1.png", "dogs/d2.gif",
        "dogs/d3.jpeg"]
    images, labels = dataset[0]
    assert images.shape == (4, 6, 5, 3) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 255 and images.max() > 1  # not rescaled
    assert labels.dtype == torch.int32 and labels.tolist() == [0, 0, 0, 1]
    assert [tuple(x.shape) for x, _ in dataset] == [(4, 6, 5, 3), (2, 6, 5, 3)]
    with pytest.raises(IndexError, match="out of range"):
        dataset[2]


@pytest.mark.parametrize("label_mode, shape, dtype", [
    ("binary", (6, 1), torch.float32), ("categorical", (6, 2), torch.float32)])
def test_label_modes(image_dir, label_mode, shape, dtype):
    dataset = keras.utils.image_dataset_from_directory(
        image_dir, label_mode=label_mode, image_size=4, batch_size=8, shuffle=False,
        verbose=False)
    labels = dataset[0][1]
    assert labels.shape == shape and labels.dtype == dtype
    expected = [0, 0, 0, 1, 1, 1]
    assert (labels[:, 0] if label_mode == "binary" else labels.argmax(-1)).tolist() == expected


def test_unbatched_unlabelled_and_listed_labels(image_dir, capsys):
    single = keras.utils.image_dataset_from_directory(
        image_dir, color_mode="grayscale", batch_size=None, image_size=(3, 4), shuffle=False,
        data_format="channels_first", verbose=False)
    image, label = single[5]
    assert len(single) == 6 and image.shape == (1, 3, 4) and label.shape == ()
    # Without inferred labels the whole tree is indexed, as in Keras: the top-level image and
    # the hidden folder's too.
    images = keras.utils.image_dataset_from_directory(image_dir, labels=None, image_size=4,
                                                      shuffle=False)
    assert capsys.readouterr().out == "Found 8 files.\n"
    assert images.class_names is None and images[0].shape == (8, 4, 4, 3)
    listed = keras.utils.image_dataset_from_directory(
        image_dir, labels=[3, 1, 1, 3, 3, 1, 1, 1], label_mode="categorical", image_size=4,
        shuffle=False, verbose=False)
    assert listed.class_names == ["1", "3"]
    # As tf.one_hot: labels beyond the number of classes are rows of zeros.
    assert listed[0][1].sum(-1).tolist() == [0, 1, 1, 0, 0, 1, 1, 1]


def _names(dataset):
    return [os.path.basename(p) for p in dataset.file_paths]


def test_class_names_pick_and_order_the_classes(image_dir):
    dataset = keras.utils.image_dataset_from_directory(
        image_dir, class_names=["dogs"], image_size=4, shuffle=False, verbose=False)
    assert _names(dataset) == ["d1.png", "d2.gif", "d3.jpeg"] and dataset.class_names == ["dogs"]
    swapped = keras.utils.image_dataset_from_directory(
        image_dir, class_names=["dogs", "cats"], image_size=4, shuffle=False, verbose=False)
    assert swapped[0][1].tolist() == [0, 0, 0, 1, 1, 1]


def test_follow_links(image_dir, tmp_path):
    _save_image(tmp_path / "elsewhere" / "e.png", 4, 4)
    os.symlink(tmp_path / "elsewhere", os.path.join(image_dir, "cats", "linked"))
    kwargs = dict(image_size=4, shuffle=False, verbose=False)
    assert "e.png" not in _names(keras.utils.image_dataset_from_directory(image_dir, **kwargs))
    assert "e.png" in _names(keras.utils.image_dataset_from_directory(
        image_dir, follow_links=True, **kwargs))


def test_subsets_split_the_shuffled_files(image_dir, capsys):
    train, valid = keras.utils.image_dataset_from_directory(
        image_dir, image_size=4, validation_split=0.4, subset="both", seed=3, batch_size=2)
    assert capsys.readouterr().out == ("Found 6 files belonging to 2 classes.\n"
                                       "Using 4 files for training.\nUsing 2 files for "
                                       "validation.\n")
    assert sorted(train.file_paths + valid.file_paths) == sorted(
        keras.utils.image_dataset_from_directory(image_dir, shuffle=False,
                                                 verbose=False).file_paths)
    alone = keras.utils.image_dataset_from_directory(
        image_dir, image_size=4, validation_split=0.4, subset="validation", seed=3,
        verbose=False)
    assert alone.file_paths == valid.file_paths
    assert capsys.readouterr().out == "Using 2 files for validation.\n"


class _Names(FileDataset):
    """Batches of the file names themselves, to look at the order."""

    def load(self, path):
        return path

    def collate(self, samples):
        return samples


def test_shuffling_is_a_seeded_buffer_shuffle_redrawn_each_epoch():
    paths = [str(i) for i in range(50)]
    dataset = _Names(paths, None, None, batch_size=2, shuffle=True, seed=7)
    first = [int(p) for batch in dataset for p in batch]  # iterating ends the epoch
    second = [int(p) for batch in dataset for p in batch]
    assert sorted(first) == sorted(second) == list(range(50)) and first != second
    again = _Names(paths, None, None, batch_size=2, shuffle=True, seed=7)
    assert [int(p) for batch in again for p in batch] == first
    # A buffer of 8 batches: the k-th file out was among the first 16 + k files in.
    assert all(index < 16 + k for k, index in enumerate(first + second))
    still = _Names(paths, None, None, batch_size=None, shuffle=False, seed=7)
    assert list(still) == paths == list(still)


@pytest.mark.parametrize("kwargs, message", [
    (dict(labels="folders"), "list/tuple of integer labels"),
    (dict(labels=[0, 1], class_names=["a"]), "only pass `class_names`"),
    (dict(label_mode="sparse"), "`label_mode` argument must be one of"),
    (dict(color_mode="hsv"), "`color_mode` must be one of"),
    (dict(image_size=(1, 2, 3)), "Invalid `image_size`"),
    (dict(interpolation="area"), "TensorFlow resize method"),
    (dict(interpolation="cubic"), "`interpolation` should be one of"),
    (dict(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "Only one of"),
    (dict(format="torch"), "`format` should be either"),
    (dict(batch_size=0), "at least 1 for batch_size"),
    (dict(data_format="nhwc"), "data_format"),
    (dict(validation_split=1.5, subset="training", seed=1), "between 0 and 1"),
    (dict(subset="training"), "`validation_split` must be set"),
    (dict(validation_split=0.2, subset="testing", seed=1), "`subset` must be either"),
    (dict(validation_split=0.2, subset="both"), "must provide a `seed`"),
    (dict(labels=[0, 1]), "lengths of `labels` to match"),
    (dict(class_names=["cats", "cows"]), "did not match the names of the subdirectories"),
    (dict(labels=None, class_names=["cats"]), "`class_names` cannot be specified"),
    (dict(label_mode="binary", class_names=["cats"]), "exactly 2 class_names"),
    (dict(validation_split=0.1, subset="training", seed=1), "No images found in directory"),
])
def test_image_argument_errors(image_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.image_dataset_from_directory(image_dir, verbose=False, **kwargs)


def test_fit_evaluate_and_predict_read_an_image_directory(image_dir):
    train, valid = keras.utils.image_dataset_from_directory(
        image_dir, image_size=(8, 8), batch_size=2, validation_split=0.34, subset="both",
        seed=1, verbose=False)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(2, "softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=valid, epochs=2, verbose=0)
    assert len(history.history["loss"]) == len(history.history["val_loss"]) == 2
    assert math.isfinite(model.evaluate(valid, verbose=0)[0])
    assert model.predict(valid, verbose=0).shape == (len(valid.file_paths), 2)


def test_keras_preprocessing_aliases():
    assert keras.preprocessing.image_dataset_from_directory is \
        keras.utils.image_dataset_from_directory
    assert keras.preprocessing.text_dataset_from_directory is \
        keras.utils.text_dataset_from_directory


# Text ------------------------------------------------------------------------------------------

@pytest.fixture
def text_dir(tmp_path):
    root = tmp_path / "texts"
    for path, text in [("neg/a.txt", "Dull, dull."), ("neg/b.TXT", "Zzz"),
                       ("pos/c.txt", "Great film é!"), ("pos/d.md", "skipped")]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return str(root)


def test_texts_are_python_strings(text_dir, capsys):
    dataset = keras.utils.text_dataset_from_directory(text_dir, batch_size=2, shuffle=False,
                                                      max_length=12, label_mode="binary")
    assert capsys.readouterr().out == "Found 3 files belonging to 2 classes.\n"
    texts, labels = dataset[0]
    assert texts == ["Dull, dull.", "Zzz"] and labels.tolist() == [[0.0], [0.0]]
    assert dataset[1][0] == ["Great film é"]  # max_length counts characters
    single = keras.utils.text_dataset_from_directory(text_dir, batch_size=None, labels=None,
                                                     shuffle=False, verbose=False)
    assert single[2] == "Great film é!" and single.class_names is None
    # 40% of 2 files is 0 files: Keras's training part `files[:-0]` is empty.
    with pytest.raises(ValueError, match="No text files found.*Allowed format: .txt"):
        keras.utils.text_dataset_from_directory(os.path.join(text_dir, "neg"), labels=None,
                                                validation_split=0.4, subset="training",
                                                seed=1, verbose=False)
    with pytest.raises(ValueError, match="`format` should be"):
        keras.utils.text_dataset_from_directory(text_dir, format="torch")
    with pytest.raises(ValueError, match="at least 0 for max_length"):
        keras.utils.text_dataset_from_directory(text_dir, max_length=2.5)


# Audio -----------------------------------------------------------------------------------------

def _save_wav(path, samples, rate=8000, width=2):
    samples = np.asarray(samples)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples.astype("<i2" if width == 2 else "u1").tobytes())


@pytest.fixture
def audio_dir(tmp_path):
    root = tmp_path / "sounds"
    _save_wav(root / "no" / "n1.wav", [0, 16384, -32768, 32767, 100])
    _save_wav(root / "yes" / "y1.WAV", [1, 2, 3])
    _save_wav(root / "yes" / "y2.wav", np.arange(8) * 1000)
    return str(root)


def test_audio_is_padded_cropped_or_ragged(audio_dir, capsys):
    dataset = keras.utils.audio_dataset_from_directory(audio_dir, batch_size=3, shuffle=False)
    assert capsys.readouterr().out == "Found 3 files belonging to 2 classes.\n"
    audio, labels = dataset[0]
    assert audio.shape == (3, 8, 1) and audio.dtype == torch.float32
    np.testing.assert_array_equal(audio[0, :, 0], [0, 0.5, -1, 32767 / 32768, 100 / 32768,
                                                   0, 0, 0])
    assert labels.tolist() == [0, 1, 1] and dataset.class_names == ["no", "yes"]
    fixed = keras.utils.audio_dataset_from_directory(
        audio_dir, batch_size=3, shuffle=False, output_sequence_length=4, verbose=False)
    assert fixed[0][0].shape == (3, 4, 1) and fixed[0][0][1, 3, 0] == 0
    ragged = keras.utils.audio_dataset_from_directory(audio_dir, batch_size=3, shuffle=False,
                                                      ragged=True, verbose=False)
    assert [tuple(a.shape) for a in ragged[0][0]] == [(5, 1), (3, 1), (8, 1)]


def test_audio_stereo_resampling_and_subsets(tmp_path, audio_dir):
    stereo = tmp_path / "stereo" / "s.wav"
    _save_wav(stereo, np.stack([np.arange(16), -np.arange(16)], axis=1), rate=16000)
    dataset = keras.utils.audio_dataset_from_directory(
        str(stereo.parent), labels=None, batch_size=None, sampling_rate=8000, verbose=False)
    assert dataset[0].shape == (8, 2)
    train, valid = keras.utils.audio_dataset_from_directory(
        audio_dir, validation_split=0.34, subset="both", seed=0, verbose=False)
    assert len(train.file_paths) == 2 and len(valid.file_paths) == 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(ragged=True, output_sequence_length=4), "Cannot set both"),
    (dict(sampling_rate=8000.0), "integer value"),
    (dict(sampling_rate=0), "higher than 0"),
    (dict(output_sequence_length=-1), "at least 1 for output_sequence_length"),
    (dict(label_mode="binary", labels=[0, 1, 2]), "exactly 2 class_names"),
])
def test_audio_argument_errors(audio_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.audio_dataset_from_directory(audio_dir, verbose=False, **kwargs)


def test_audio_reads_only_16_bit_wav(tmp_path):
    _save_wav(tmp_path / "bytes" / "b.wav", [0, 128, 255], width=1)
    dataset = keras.utils.audio_dataset_from_directory(str(tmp_path / "bytes"), labels=None,
                                                       verbose=False)
    with pytest.raises(ValueError, match="16-bit"):
        dataset[0]


# Against Keras ---------------------------------------------------------------------------------

@pytest.fixture
def real_keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("labels, class_names, shuffle, seed, follow_links", [
    ("inferred", None, False, None, False),
    ("inferred", None, True, 11, False),
    ("inferred", ["dogs", "cats"], True, 5, True),
    (None, None, True, 2, False),
    ([1, 0, 2, 2, 1, 0, 1, 0], None, True, 9, False),
])
def test_index_matches_keras(image_dir, tmp_path, capsys, real_keras, labels, class_names,
                             shuffle, seed, follow_links):
    from keras.src.utils import dataset_utils

    from netknit.utils import dataset_from_directory as ours

    _save_image(tmp_path / "linked_dir" / "z.png", 4, 4)
    os.symlink(tmp_path / "linked_dir", os.path.join(image_dir, "dogs", "link"))
    formats = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
    args = (image_dir, formats, class_names, shuffle, seed, follow_links)
    # Keras shuffles a list of labels in place: each call gets its own.
    copy = list(labels) if isinstance(labels, list) else labels
    expected = dataset_utils.index_directory(image_dir, copy, *args[1:])
    printed = capsys.readouterr().out
    got = ours.index_directory(image_dir, labels, *args[1:])
    assert labels == [1, 0, 2, 2, 1, 0, 1, 0] or not isinstance(labels, list)
    assert capsys.readouterr().out == printed
    assert got[0] == expected[0] and got[2] == expected[2]
    assert (got[1] is None) == (expected[1] is None)
    if got[1] is not None:
        np.testing.assert_array_equal(got[1], expected[1])
    for subset in ("training", "validation"):
        paths, part = ours.get_training_or_validation_split(got[0], got[1], 0.3, subset)
        keras_paths, keras_part = dataset_utils.get_training_or_validation_split(
            expected[0], expected[1], 0.3, subset)
        assert paths == keras_paths
        if part is not None:
            np.testing.assert_array_equal(part, keras_part)


def test_datasets_hold_the_files_keras_picks(image_dir, real_keras):
    from keras.src.utils import dataset_utils

    formats = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
    # Without a seed, the one drawn from NumPy's global generator, as Keras draws it.
    np.random.seed(4)
    dataset = keras.utils.image_dataset_from_directory(image_dir, image_size=4, verbose=False)
    np.random.seed(4)
    paths, _, _ = dataset_utils.index_directory(image_dir, "inferred", formats,
                                                seed=np.random.randint(1e6), verbose=False)
    assert dataset.file_paths == paths
    train, valid = keras.utils.image_dataset_from_directory(
        image_dir, validation_split=0.5, subset="both", seed=8, verbose=False)
    paths, labels, _ = dataset_utils.index_directory(image_dir, "inferred", formats, seed=8,
                                                     verbose=False)
    for part, subset in ((train, "training"), (valid, "validation")):
        expected = dataset_utils.get_training_or_validation_split(paths, labels, 0.5, subset)
        assert part.file_paths == expected[0]
        assert part.labels.tolist() == expected[1].tolist()


@pytest.mark.parametrize("color_mode, interpolation, crop, pad, data_format", [
    ("rgb", "bilinear", False, False, "channels_last"),
    ("grayscale", "nearest", False, False, "channels_last"),
    ("rgba", "bicubic", True, False, "channels_last"),
    ("rgb", "bilinear", False, True, "channels_first"),
    ("grayscale", "bicubic", False, True, "channels_last"),
    ("rgb", "nearest", True, False, "channels_first"),
])
def test_pixels_match_keras_load_img_and_resize(image_dir, real_keras, color_mode,
                                                interpolation, crop, pad, data_format):
    size = (6, 9)
    dataset = keras.utils.image_dataset_from_directory(
        image_dir, labels=None, color_mode=color_mode, batch_size=None, image_size=size,
        shuffle=False, interpolation=interpolation, crop_to_aspect_ratio=crop,
        pad_to_aspect_ratio=pad, data_format=data_format, verbose=False)
    for index, path in enumerate(dataset.file_paths):
        array = real_keras.utils.img_to_array(
            real_keras.utils.load_img(path, color_mode=color_mode), data_format=data_format)
        expected = real_keras.ops.image.resize(
            array, size, interpolation=interpolation, crop_to_aspect_ratio=crop,
            pad_to_aspect_ratio=pad, data_format=data_format)
        np.testing.assert_allclose(dataset[index].numpy(),
                                   real_keras.ops.convert_to_numpy(expected), atol=1e-4)
