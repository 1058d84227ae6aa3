"""Augmentation layers in models, as Keras 3.15.1 runs them: a model called directly augments
(Keras's `call` of these layers defaults to training=True), `predict`, `evaluate` and `export`
never do, `fit` does; and the dtypes Keras gives integer images, in training and inference."""

import json
import warnings

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

IMAGES = np.arange(32, dtype="float32").reshape(2, 4, 4, 1)


def _shift():
    """An augmentation whose training output is known: every pixel + 500."""
    return layers.RandomBrightness((0.5, 0.5), value_range=(0, 1000))


def _augmented(outputs) -> bool:
    return not np.allclose(np.asarray(outputs), IMAGES)


def _sequential():
    return keras.Sequential([keras.Input((4, 4, 1)), _shift()])


def _functional():
    inputs = keras.Input((4, 4, 1))
    return keras.Model(inputs, _shift()(inputs))


def _nested():
    inputs = keras.Input((4, 4, 1))
    return keras.Model(inputs, layers.Identity()(_sequential()(inputs)))


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.shift = _shift()

    def call(self, x):
        return self.shift(x)


@pytest.mark.parametrize("make", [_sequential, _functional, _nested])
def test_a_model_called_directly_augments_and_keras_s_loops_follow_the_mode(make):
    model = make()
    assert _augmented(model(IMAGES))
    assert _augmented(model(IMAGES, training=True))
    assert not _augmented(model(IMAGES, training=False))
    assert not _augmented(model.predict(IMAGES, verbose=0))
    assert not _augmented(model.predict_on_batch(IMAGES))
    model.compile(loss="mse")
    assert model.evaluate(IMAGES, IMAGES, verbose=0) == 0.0
    assert model.test_on_batch(IMAGES, IMAGES) == 0.0
    # Every pixel off by 500 in training, as Keras 3.15.1's losses show.
    assert model.fit(IMAGES, IMAGES, verbose=0).history["loss"] == [250000.0]
    assert model.train_on_batch(IMAGES, IMAGES) == 250000.0
    assert _augmented(model(IMAGES))  # after fit too
    model.eval()  # the torch mode does not stop Keras's default outside the loops
    assert _augmented(model(IMAGES))


def test_dropout_and_noise_in_a_model_stay_off_unless_told():
    for layer in (layers.Dropout(0.5, seed=1), layers.GaussianNoise(1.0, seed=1)):
        model = keras.Sequential([keras.Input((4, 4, 1)), layer])
        assert not _augmented(model(IMAGES))
        assert _augmented(model(IMAGES, training=True))
        assert not _augmented(model.predict(IMAGES, verbose=0))


def test_a_subclassed_model_s_augmentation_stays_off_in_predict_and_evaluate():
    model = _Subclassed()
    assert _augmented(model(IMAGES))
    assert not _augmented(model.predict(IMAGES, verbose=0))
    model.compile(loss="mse")
    assert model.evaluate(IMAGES, IMAGES, verbose=0) == 0.0


def test_a_saved_model_keeps_the_default_and_a_recorded_training_false(tmp_path):
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, [_shift()(inputs), _shift()(inputs, training=False)])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert [_augmented(o) for o in loaded(IMAGES)] == [True, False]
    assert [_augmented(o) for o in loaded(IMAGES, training=True)] == [True, True]
    assert [_augmented(o) for o in loaded.predict(IMAGES, verbose=0)] == [False, False]


def test_export_traces_the_model_in_inference(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 1)), _shift(), layers.Dropout(0.5)])
    model.export(tmp_path / "m.pt2", format="torch", verbose=False)
    program = torch.export.load(tmp_path / "m.pt2")
    np.testing.assert_array_equal(program.module()(torch.from_numpy(IMAGES)).numpy(), IMAGES)


# ---------------------------------------------------------------------- dtypes

# Layer name -> constructor arguments, for netknit's and Keras's layers alike.
_IN_INFERENCE_AS_FLOATS = {
    "RandomFlip": {}, "RandomRotation": {"factor": 0.1}, "RandomZoom": {"height_factor": 0.1},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.1},
    "RandomShear": {"x_factor": 0.1}, "RandomPerspective": {}, "RandomElasticTransform": {},
    "RandomSharpness": {"factor": 0.2}, "RandomGaussianBlur": {}, "Solarization": {},
    "RandomErasing": {}, "CutMix": {}, "RandAugment": {}, "AugMix": {},
}
_IN_INFERENCE_AS_GIVEN = {
    "RandomContrast": {"factor": 0.2}, "RandomBrightness": {"factor": 0.2},
    "RandomHue": {"factor": 0.2}, "RandomSaturation": {"factor": 0.2},
    "RandomColorDegeneration": {"factor": 0.2}, "RandomColorJitter": {"brightness_factor": 0.2},
    "RandomGrayscale": {}, "RandomPosterization": {"factor": (4, 4)}, "RandomInvert": {},
    "MixUp": {},
}
_UINT8 = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype("uint8")


@pytest.mark.parametrize("name", sorted(_IN_INFERENCE_AS_FLOATS))
def test_layers_that_move_pixels_give_integer_images_as_floats_in_inference(name):
    for images in (_UINT8, torch.from_numpy(_UINT8)):
        out = getattr(layers, name)(**_IN_INFERENCE_AS_FLOATS[name])(images, training=False)
        assert out.dtype == torch.float32
        np.testing.assert_array_equal(out.numpy(), _UINT8)
    pipeline = layers.Pipeline([layers.RandomFlip()])
    assert pipeline(_UINT8, training=False).dtype == torch.float32


@pytest.mark.parametrize("name", sorted(_IN_INFERENCE_AS_GIVEN))
def test_value_layers_give_integer_images_back_as_they_came_in_inference(name):
    out = getattr(layers, name)(**_IN_INFERENCE_AS_GIVEN[name])(_UINT8, training=False)
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.numpy(), _UINT8)


def test_integer_image_dtypes_match_keras_live(real_keras):
    for name, kwargs in {**_IN_INFERENCE_AS_FLOATS, **_IN_INFERENCE_AS_GIVEN}.items():
        for dtype in ("uint8", "int32"):
            # Keras's RandomSaturation refuses integer images in training; netknit's takes them.
            for training in (False,) if name == "RandomSaturation" else (True, False):
                images = _UINT8.astype(dtype)
                with warnings.catch_warnings():  # Keras's RandAugment warns from torch
                    warnings.simplefilter("ignore")
                    theirs = getattr(real_keras.layers, name)(**kwargs)(images,
                                                                        training=training)
                ours = getattr(layers, name)(**kwargs)(images, training=training)
                assert str(ours.dtype) == str(theirs.dtype), (name, dtype, training)


def test_random_brightness_keeps_integer_images_integers_with_keras_s_values():
    images = np.array([[[[0, 5, 10], [100, 200, 250]]]])
    # Keras 3.15.1: the amount is truncated to an integer (25.5 -> 25, 6.91 -> 6), then clipped.
    for factor, expected in [((0.1, 0.1), [25, 30, 35, 125, 225, 255]),
                             ((-0.1, -0.1), [0, 0, 0, 75, 175, 225]),
                             ((0.0271, 0.0271), [6, 11, 16, 106, 206, 255])]:
        out = layers.RandomBrightness(factor)(images.astype("int32"))
        assert out.dtype == torch.int32
        assert out.flatten().tolist() == expected
    # Keras's uint8 sum wraps around (250 + 25 -> 19); netknit clips it to the value range.
    out = layers.RandomBrightness((0.1, 0.1))(images.astype("uint8"))
    assert out.dtype == torch.uint8 and out.flatten().tolist() == [25, 30, 35, 125, 225, 255]


def test_center_crop_gives_integer_images_as_floats_also_symbolically():
    out = layers.CenterCrop(6, 2)(_UINT8)
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), _UINT8[:, 1:7, 3:5].astype("float32"))
    # Stretched, in floats (Keras 3.15.1's values: 137.5, 91.5, not uint8's 137 or 138, 91 or 92).
    images = np.array([[[[100], [175]], [[30], [61]]]], dtype="uint8")
    assert layers.CenterCrop(3, 3)(images).flatten().tolist() == [
        100.0, 137.5, 175.0, 65.0, 91.5, 118.0, 30.0, 45.5, 61.0]
    assert layers.CenterCrop(6, 2)(keras.Input((8, 8, 3), dtype="uint8")).dtype == "float32"
    assert layers.Resizing(6, 2)(keras.Input((8, 8, 3), dtype="uint8")).dtype == "uint8"


@pytest.mark.parametrize("make, recorded", [
    (lambda: layers.RandomFlip(), {"training": True}),
    (lambda: layers.RandomCrop(4, 4), {"training": True}),
    (lambda: layers.Pipeline([layers.RandomFlip()]), {"training": True, "mask": None}),
    (lambda: layers.RandomRotation(0.1), {}),
    (lambda: layers.CenterCrop(4, 4), {}),
])
def test_saved_graphs_record_training_on_integer_inputs_where_keras_does(make, recorded):
    inputs = keras.Input((8, 8, 3), dtype="uint8")
    config = keras.Model(inputs, make()(inputs)).get_config()
    assert json.loads(json.dumps(config["layers"][1]["inbound_nodes"][0]["kwargs"])) == recorded

