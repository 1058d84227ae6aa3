"""Augmentation layers: Keras's transformations (the expected arrays are Keras 3.15.1's outputs
for the same calls, with ranges narrowed to one value so that nothing is random), random only in
training, and the identity where Keras's loops run in inference."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

IMAGE = np.arange(20, dtype="float32").reshape(1, 4, 5, 1)


@pytest.mark.parametrize("layer, expected", [
    (lambda: layers.RandomRotation((0.25, 0.25), fill_mode="constant", fill_value=-1),
     [[1.25, 6, 11, 16, 8.75], [0.75, 5, 10, 15, 8.25], [0.25, 4, 9, 14, 7.75],
      [-0.25, 3, 8, 13, 7.25]]),
    (lambda: layers.RandomRotation((0.25, 0.25), fill_mode="reflect"),
     [[3.5, 6, 11, 16, 18.5], [2.5, 5, 10, 15, 17.5], [1.5, 4, 9, 14, 16.5],
      [0.5, 3, 8, 13, 15.5]]),
    (lambda: layers.RandomZoom((0.5, 0.5), fill_mode="constant", fill_value=-1),
     [[-1, -0.625, -0.25, 0.125, -1], [-1, 4.25, 5.75, 7.25, -1], [-1, 11.75, 13.25, 14.75, -1],
      [-1, 3.125, 3.5, 3.875, -1]]),
    (lambda: layers.RandomTranslation((0.25, 0.25), (0.2, 0.2), fill_mode="reflect"),
     [[0, 0, 1, 2, 3], [0, 0, 1, 2, 3], [5, 5, 6, 7, 8], [10, 10, 11, 12, 13]]),
    (lambda: layers.RandomTranslation((0.0, 0.0), (-0.4, -0.4), fill_mode="wrap"),
     [[2, 3, 4, 0, 1], [7, 8, 9, 5, 6], [12, 13, 14, 10, 11], [17, 18, 19, 15, 16]]),
    (lambda: layers.RandomBrightness((0.1, 0.1)),
     np.arange(20).reshape(4, 5) + 25.5),
], ids=["rotate-constant", "rotate-reflect", "zoom-out-constant", "shift-reflect", "shift-wrap",
        "brightness"])
def test_fixed_transformations_give_keras_s_pixels(layer, expected):
    out = layer()(IMAGE, training=True)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], expected, rtol=1e-5, atol=1e-5)


def test_called_directly_they_augment_unless_told_otherwise():
    flip = layers.RandomFlip("horizontal", seed=0)
    images = np.random.default_rng(0).random((64, 3, 4, 2)).astype("float32")
    out = flip(images).numpy()  # training=True by default, as Keras's
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images)]
    kept = [np.array_equal(o, i) for o, i in zip(out, images)]
    assert all(f or k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 54
    np.testing.assert_array_equal(flip(images, training=False).numpy(), images)


def test_a_seed_repeats_the_draws():
    images = np.random.default_rng(0).random((8, 6, 6, 3)).astype("float32")
    first, second = (layers.RandomRotation(0.2, seed=7)(images) for _ in range(2))
    torch.testing.assert_close(first, second)
    assert not torch.equal(first, torch.as_tensor(images))


def test_inside_a_model_fit_augments_and_predict_does_not():
    augment = keras.Sequential([layers.RandomFlip(), layers.RandomRotation(0.1),
                                layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1),
                                layers.RandomContrast(0.2), layers.RandomBrightness(0.1)])
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, layers.Dense(1)(layers.Flatten()(augment(inputs))))
    images = np.random.default_rng(1).random((16, 8, 8, 3)).astype("float32") * 255
    np.testing.assert_array_equal(augment.predict(images, verbose=0), images)
    model.compile(optimizer="adam", loss="mse")
    seen = []
    augment.layers[0].register_forward_hook(lambda m, i, o: seen.append(torch.equal(i[0], o)))
    model.fit(images, np.zeros((16, 1), "float32"), batch_size=16, epochs=3, verbose=0)
    assert not all(seen)  # some flips happened in training
    np.testing.assert_allclose(model.predict(images, verbose=0),
                               model.predict(images, verbose=0))


def test_a_keras_config_recording_training_true_still_predicts_in_inference():
    """Keras records `training: true` on augmentation layer calls; its loops override it."""
    inputs = keras.Input((4, 5, 1))
    config = keras.Model(inputs, layers.RandomFlip()(inputs)).get_config()
    config["layers"][1]["inbound_nodes"][0]["kwargs"] = {"training": True}
    model = keras.Model.from_config(config)
    images = np.random.default_rng(2).random((32, 4, 5, 1)).astype("float32")
    np.testing.assert_array_equal(model.predict(images, verbose=0), images)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="mode to be one of horizontal, vertical"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="fill_mode to be one of reflect, wrap, constant"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match=r"factor to be a number or a pair of numbers in \[0, 1\]"):
        layers.RandomContrast(1.5)


def test_alpha_dropout_keeps_mean_and_variance_of_selu_activations():
    layer = layers.AlphaDropout(0.2)
    x = torch.randn(200_000)
    out = layer(x, training=True)
    assert abs(out.mean().item()) < 0.02 and abs(out.std().item() - 1) < 0.02
    assert torch.equal(layer(x), x)  # inference


def test_training_true_recorded_in_a_graph_is_overridden_by_keras_s_loops():
    inputs = keras.Input((1000,))
    model = keras.Model(inputs, layers.Dropout(0.5)(inputs, training=True))
    ones = np.ones((1, 1000), "float32")
    assert (model.predict(ones, verbose=0) == 0).mean() == 0  # as in Keras 3.15.1
    assert 0.3 < (model(ones).numpy() == 0).mean() < 0.7  # a direct call keeps it


# ---------------------------------------------------------------------- RandomCrop


def test_random_crop_takes_one_random_window_per_batch_in_training():
    images = torch.randn(3, 6, 7, 2)
    layer = layers.RandomCrop(3, 4, seed=5)
    windows = set()
    for _ in range(40):
        out = layer(images)  # called directly: training, as in Keras
        found = [(top, left) for top in range(4) for left in range(4)
                 if torch.equal(out, images[:, top:top + 3, left:left + 4])]
        assert len(found) == 1
        windows.add(found[0])
    assert len(windows) > 10
    again = layers.RandomCrop(3, 4, seed=5)
    assert torch.equal(layers.RandomCrop(3, 4, seed=5)(images), again(images))


def test_random_crop_of_a_too_small_image_stretches_keras_s_window_in_training():
    # Keras 3.15.1: the image is not wider than 6, so the 3 x 6 window at the centred
    # aspect-ratio crop's corner (row 1) is taken, 3 x 5 here, and resized to 3 x 6.
    out = layers.RandomCrop(3, 6)(IMAGE, training=True)
    expected = [[5.0, 5.75, 6.58333, 7.41667, 8.25, 9.0],
                [10.0, 10.75, 11.58333, 12.41667, 13.25, 14.0],
                [15.0, 15.75, 16.58333, 17.41667, 18.25, 19.0]]
    np.testing.assert_allclose(out[0, ..., 0].numpy(), expected, rtol=1e-5)


def test_random_crop_centre_crops_to_the_aspect_ratio_and_resizes_in_inference():
    # What Keras documents (and its Resizing(crop_to_aspect_ratio=True) computes); Keras 3.15.1's
    # RandomCrop itself returns the images uncropped in inference.
    out = layers.RandomCrop(3, 6)(IMAGE, training=False)
    expected = [[5.0, 5.75, 6.58333, 7.41667, 8.25, 9.0],
                [7.5, 8.25, 9.08333, 9.91667, 10.75, 11.5],
                [10.0, 10.75, 11.58333, 12.41667, 13.25, 14.0]]
    np.testing.assert_allclose(out[0, ..., 0].numpy(), expected, rtol=1e-5)
    square = layers.RandomCrop(2, 2)(IMAGE, training=False)
    assert square[0, ..., 0].tolist() == [[3.0, 5.0], [13.0, 15.0]]
    same_aspect = layers.RandomCrop(4, 4)(IMAGE, training=False)  # a crop, nothing to resize
    assert torch.equal(same_aspect, torch.as_tensor(IMAGE[:, :, :4]))


def test_random_crop_in_a_model_gives_its_output_shape_in_predict():
    inputs = keras.Input((5, 8, 1))
    model = keras.Model(inputs, layers.RandomCrop(4, 6)(inputs))
    images = np.random.default_rng(0).random((2, 5, 8, 1)).astype("float32")
    # The largest 2:3 window, 5 x 7 at column 0, resized to 4 x 6.
    expected = torch.nn.functional.interpolate(torch.as_tensor(images[:, :, :7]).movedim(-1, 1),
                                               size=(4, 6), mode="bilinear").movedim(1, -1)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected.numpy(), rtol=1e-6)


def test_random_crop_outputs_floats_for_single_and_integer_images():
    single = layers.RandomCrop(2, 3)(np.full((4, 5, 3), 7, "uint8"))
    assert single.shape == (2, 3, 3) and single.dtype == torch.float32
    first = layers.RandomCrop(2, 3, data_format="channels_first")(torch.zeros(2, 3, 4, 5))
    assert first.shape == (2, 3, 2, 3)
    with pytest.raises(ValueError, match="positive integer for width"):
        layers.RandomCrop(2, 0)


# ---------------------------------------------------------------------- shear, perspective, elastic


def test_shear_reads_along_x_by_y_times_the_factor_either_way():
    layer = layers.RandomShear(x_factor=(0.5, 0.5), fill_mode="constant", fill_value=-1)
    # Row y reads x + 0.5 y (or x - 0.5 y): row 2 is shifted by one pixel.
    seen = {tuple(layer(IMAGE)[0, 2, :, 0].tolist()) for _ in range(20)}
    assert seen == {(11.0, 12.0, 13.0, 14.0, -1.0), (-1.0, 10.0, 11.0, 12.0, 13.0)}
    assert torch.equal(layer(IMAGE)[0, 0], torch.as_tensor(IMAGE[0, 0]))  # row 0 stays


def test_perspective_keeps_the_top_left_corner_and_is_identity_without_scale():
    images = torch.rand(6, 5, 7, 2)
    assert torch.allclose(layers.RandomPerspective((1.0, 1.0), scale=0.0)(images), images,
                          atol=1e-5)
    warped = layers.RandomPerspective((1.0, 1.0), scale=0.8, seed=1)(images)
    assert torch.allclose(warped[:, 0, 0], images[:, 0, 0], atol=1e-5)
    assert not torch.allclose(warped, images)
    assert torch.equal(layers.RandomPerspective((0.0, 0.0))(images), images)  # probability 0


def test_elastic_transform_is_smooth_repeatable_and_within_the_value_range():
    images = torch.rand(4, 16, 12, 3)
    first, second = (layers.RandomElasticTransform((1.0, 1.0), value_range=(0, 1), seed=3)(images)
                     for _ in range(2))
    assert torch.equal(first, second) and not torch.allclose(first, images)
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(layers.RandomElasticTransform(scale=0.0)(images), images)
    with pytest.raises(ValueError, match="fill_mode to be one of .*mirror"):
        layers.RandomElasticTransform(fill_mode="edge")
    with pytest.raises(ValueError, match="fill_mode to be one of reflect, wrap, constant, nearest"):
        layers.RandomShear(fill_mode="mirror")


def test_shear_takes_keras_s_factor_pairs_and_reads_its_own_configs():
    layer = layers.RandomShear(0.2, (0.1, 0.3))
    assert (layer.x_factor, layer.y_factor) == ((-0.2, 0.2), (0.1, 0.3))
    assert layers.RandomShear.from_config(layer.get_config()).x_factor == (-0.2, 0.2)
    with pytest.raises(ValueError, match=r"x_factor to be a number in \[0, 1\]"):
        layers.RandomShear(-0.2)


def test_new_random_layers_are_the_identity_in_predict():
    L = layers
    augment = keras.Sequential([
        L.RandomShear(0.2, 0.2), L.RandomPerspective(), L.RandomElasticTransform(),
        L.RandomGrayscale(), L.RandomHue(0.2), L.RandomSaturation(0.3),
        L.RandomColorJitter(brightness_factor=0.1, hue_factor=0.1),
        L.RandomColorDegeneration(0.3), L.RandomSharpness(0.4), L.RandomGaussianBlur(),
        L.RandomInvert(), L.RandomPosterization(4), L.Solarization(0.2, 0.5),
        L.RandomErasing(), L.MixUp(), L.CutMix(), L.RandAugment(), L.AugMix(),
        L.Pipeline([L.RandomFlip(), L.RandomInvert()])])
    images = np.random.default_rng(3).uniform(0, 255, (4, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(augment.predict(images, verbose=0), images)
    assert not np.array_equal(augment(images, training=True).numpy(), images)
