"""Image augmentation layers against real Keras 3 (torch backend), live: pixel outputs where
the transformation can be made deterministic (factor ranges of one value, probability 1), the
warping machinery against `keras.ops.image` for given matrices and coordinates, configs (as saved
JSON) and `.keras` files moving both ways. Skipped when Keras is not installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402
from netknit.layers.augmentation import homographies, sample_images  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (3, 6, 7, 3)).astype("float32")
UNIT = IMAGES / 255
FIRST = np.ascontiguousarray(IMAGES.transpose(0, 3, 1, 2))
STEPPED = np.round(IMAGES / 20) * 20  # few levels: equalization bins with many pixels


@pytest.fixture(autouse=True)
def fresh_keras_names():
    keras.backend.clear_session()  # conftest resets netknit's; automatic names then agree


def _numpy(t):
    return np.asarray(t.detach().cpu()) if torch.is_tensor(t) else np.asarray(t)


def _config(layer):
    return json.loads(json.dumps(layer.get_config()))


def _without_build_shapes(config):
    """A Pipeline's config without the shapes its layers were built for (Keras 3.15.1 records
    the batch size of its own shape probe there, 83)."""
    for entry in config.get("layers", []):
        entry.pop("build_config", None)
    return config


# (class name, constructor kwargs, images): settings under which Keras draws nothing random.
DETERMINISTIC = [
    ("RandomGrayscale", {"factor": 1.0}, IMAGES),
    ("RandomGrayscale", {"factor": 1.0}, IMAGES.astype("uint8")),
    ("RandomGrayscale", {"factor": 1.0, "data_format": "channels_first"}, FIRST),
    ("RandomHue", {"factor": (1.0, 1.0)}, IMAGES),  # half a turn: either direction is the same
    ("RandomHue", {"factor": (1.0, 1.0), "value_range": (0, 1)}, UNIT),
    ("RandomSaturation", {"factor": (0.5, 0.5)}, IMAGES),
    ("RandomSaturation", {"factor": (0.0, 0.0)}, IMAGES),
    ("RandomSaturation", {"factor": (0.8, 0.8), "value_range": (0, 1)}, UNIT),
    ("RandomSaturation", {"factor": (0.3, 0.3), "value_range": (0, 1)}, UNIT),
    ("RandomColorDegeneration", {"factor": (0.6, 0.6)}, IMAGES),
    ("RandomColorDegeneration", {"factor": (-0.5, -0.5)}, IMAGES),
    ("RandomSharpness", {"factor": (0.2, 0.2)}, IMAGES),
    ("RandomSharpness", {"factor": (0.9, 0.9), "data_format": "channels_first"}, FIRST),
    ("RandomInvert", {"factor": (1.0, 1.0)}, IMAGES),
    ("RandomInvert", {"factor": (1.0, 1.0), "value_range": (0, 1)}, UNIT),
    ("RandomPosterization", {"factor": (4, 4)}, IMAGES),
    ("RandomPosterization", {"factor": (1, 1), "value_range": (0, 1)}, UNIT),
    ("RandomPosterization", {"factor": (7, 7)}, IMAGES),
    ("Solarization", {}, IMAGES),
    ("Solarization", {"value_range": (0, 1)}, UNIT),
    ("AutoContrast", {}, IMAGES),
    ("AutoContrast", {"value_range": (0, 1)}, UNIT * 0.5 + 0.2),
    ("Equalization", {}, IMAGES[:1]),
    ("Equalization", {"value_range": (0, 1)}, UNIT[:1]),
    ("Equalization", {"bins": 16}, IMAGES[:1]),
    ("Equalization", {}, STEPPED[:1]),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.5, 0.5)}, IMAGES),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.8, 0.8), "kernel_size": 5},
     IMAGES),
    ("RandomColorJitter", {"brightness_factor": (0.1, 0.1), "saturation_factor": (0.0, 0.0),
                           "hue_factor": (1.0, 1.0)}, IMAGES),
    ("RandomPerspective", {"factor": (1.0, 1.0), "scale": 0.0}, IMAGES),
    ("RandomElasticTransform", {"scale": 0.0}, IMAGES),
]


@pytest.mark.parametrize("name, kwargs, images", DETERMINISTIC,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(DETERMINISTIC)])
def test_deterministic_settings_give_keras_s_pixels_and_dtypes(name, kwargs, images):
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = getattr(netknit.layers, name)(**kwargs)
    expected = _numpy(theirs(images, training=True))
    got = _numpy(ours(torch.as_tensor(images), training=True))
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-4)
    single = _numpy(ours(torch.as_tensor(images[0]), training=True))
    np.testing.assert_allclose(single, expected[0], rtol=1e-5, atol=2e-4)
    assert _config(ours) == _config(theirs)


def test_a_batch_is_equalized_image_by_image():
    # Keras 3.15.1 counts one histogram per channel over the whole batch; netknit equalizes each
    # image on its own, which is what Keras gives for each image alone.
    theirs, ours = keras.layers.Equalization(), netknit.layers.Equalization()
    expected = np.stack([_numpy(theirs(image[None]))[0] for image in STEPPED])
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(STEPPED))), expected, atol=1e-4)


def test_a_random_sign_shear_is_one_of_keras_s_two():
    # RandomShear flips the sign of its shear at random per image: the same pair of outputs.
    kwargs = {"x_factor": (0.4, 0.4), "y_factor": (0.1, 0.1), "fill_mode": "constant"}
    theirs = _numpy(keras.layers.RandomShear(**kwargs)(IMAGES, training=True))
    ours = netknit.layers.RandomShear(seed=3, **kwargs)
    outcomes = [set() for _ in IMAGES]
    for _ in range(12):
        for found, image in zip(outcomes, ours(torch.as_tensor(IMAGES)).numpy()):
            found.add(image.round(3).tobytes())
    assert all(len(found) == 2 for found in outcomes)
    for found, image in zip(outcomes, theirs):
        assert any(np.allclose(np.frombuffer(f, "float32").reshape(image.shape), image,
                               atol=2e-3) for f in found)


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "nearest", "constant"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_warps_sample_as_keras_s_affine_transform(fill_mode, interpolation):
    shear_x, shear_y, shift_x, shift_y = 0.37, -0.23, 0.4, -0.3
    transform = np.array([[1, shear_x, shift_x, shear_y, 1, shift_y, 0, 0]] * 3, "float32")
    expected = keras.ops.image.affine_transform(IMAGES, transform, interpolation=interpolation,
                                                fill_mode=fill_mode, fill_value=-3.0)
    ys, xs = torch.meshgrid(torch.arange(6.0), torch.arange(7.0), indexing="ij")
    source_x = (xs + shear_x * ys + shift_x).expand(3, 6, 7)
    source_y = (shear_y * xs + ys + shift_y).expand(3, 6, 7)
    got = sample_images(torch.as_tensor(FIRST), source_x, source_y, fill_mode, -3.0,
                        interpolation)
    np.testing.assert_allclose(got.movedim(1, -1).numpy(), _numpy(expected), atol=1e-4)


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "nearest", "constant", "mirror"])
@pytest.mark.parametrize("order", [0, 1])
def test_any_coordinates_sample_as_keras_s_map_coordinates(fill_mode, order):
    # Far outside the image and between pixels, where each fill mode's seams are.
    image = IMAGES[0, :, :, 0]
    rows = RNG.uniform(-9, 14, (6, 7)).astype("float32")
    columns = RNG.uniform(-9, 15, (6, 7)).astype("float32")
    expected = keras.ops.image.map_coordinates(image, [rows, columns], order=order,
                                               fill_mode=fill_mode, fill_value=2.0)
    got = sample_images(torch.as_tensor(image)[None, None], torch.as_tensor(columns)[None],
                        torch.as_tensor(rows)[None], fill_mode, 2.0,
                        "bilinear" if order else "nearest")
    np.testing.assert_allclose(got[0, 0].numpy(), _numpy(expected), atol=1e-4)


def test_perspective_warps_as_keras_s_perspective_transform():
    start = np.array([[[0, 0], [6, 0], [0, 5], [6, 5]]] * 3, "float32")
    end = start + start * RNG.uniform(-0.4, 0.4, (3, 4, 2)).astype("float32")
    expected = keras.ops.image.perspective_transform(IMAGES, start, end, fill_value=1.5)
    maps = homographies(torch.as_tensor(start), torch.as_tensor(end))
    ys, xs = torch.meshgrid(torch.arange(6.0), torch.arange(7.0), indexing="ij")
    points = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(1, -1, 3) @ maps.mT
    points = (points[..., :2] / points[..., 2:]).reshape(3, 6, 7, 2)
    got = sample_images(torch.as_tensor(FIRST), points[..., 0], points[..., 1], "constant", 1.5,
                        "bilinear")
    np.testing.assert_allclose(got.movedim(1, -1).numpy(), _numpy(expected), atol=2e-4)


CONFIGS = [  # every new layer with arguments away from its defaults
    ("RandomShear", {"x_factor": (0.1, 0.3), "y_factor": 0.0, "fill_mode": "wrap",
                     "interpolation": "nearest", "fill_value": 2.0, "seed": 4}),
    ("RandomPerspective", {"factor": 0.5, "scale": 0.3, "fill_value": 1.0, "seed": 2}),
    ("RandomElasticTransform", {"factor": (0.2, 0.7), "scale": 0.4, "fill_mode": "mirror",
                                "value_range": (0, 1)}),
    ("RandomGrayscale", {"factor": 0.3, "seed": 2}),
    ("RandomHue", {"factor": 0.3, "value_range": (0, 1), "seed": 1}),
    ("RandomSaturation", {"factor": (0.2, 0.9)}),
    ("RandomColorJitter", {"value_range": (0, 1), "brightness_factor": 0.1,
                           "contrast_factor": (0.1, 0.3), "hue_factor": 0.2, "seed": 5}),
    ("RandomColorDegeneration", {"factor": 0.4, "data_format": "channels_first"}),
    ("RandomSharpness", {"factor": 0.7, "value_range": (0, 1)}),
    ("RandomGaussianBlur", {"factor": 0.5, "kernel_size": 5, "sigma": (0.1, 0.6)}),
    ("RandomInvert", {"factor": (0.2, 0.4)}),
    ("RandomPosterization", {"factor": (2, 6), "value_range": (0, 1)}),
    ("Solarization", {"addition_factor": (0.1, 0.2), "threshold_factor": 0.5}),
    ("AutoContrast", {"value_range": (0, 1)}),
    ("Equalization", {"value_range": (0, 1), "bins": 32}),
    ("RandomErasing", {"factor": 0.5, "scale": 0.2, "fill_value": [1.0, 2.0, 3.0]}),
    ("MixUp", {"alpha": 0.5, "seed": 1}),
    ("CutMix", {"factor": (0.2, 0.8)}),
    ("RandAugment", {"value_range": (0, 1), "num_ops": 3, "factor": (0.1, 0.4),
                     "interpolation": "nearest"}),
    ("AugMix", {"num_chains": 2, "chain_depth": 4, "factor": 0.5, "alpha": 0.5,
                "all_ops": False}),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_configs_and_symbolic_outputs_match_keras(name, kwargs):
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = getattr(netknit.layers, name)(**kwargs)
    assert _config(ours) == _config(theirs)
    assert _config(type(ours).from_config(ours.get_config())) == _config(ours)
    shape = (3, 6, 7) if kwargs.get("data_format") == "channels_first" else (6, 7, 3)
    their_out, our_out = theirs(keras.Input(shape)), ours(netknit.Input(shape))
    assert our_out.shape == tuple(their_out.shape)
    assert str(our_out.dtype).replace("torch.", "") == their_out.dtype


def test_a_pipeline_s_config_and_outputs_match_keras():
    theirs = keras.layers.Pipeline([keras.layers.RandomInvert((1.0, 1.0)),
                                    keras.layers.AutoContrast()])
    ours = netknit.layers.Pipeline([netknit.layers.RandomInvert((1.0, 1.0)),
                                    netknit.layers.AutoContrast()])
    assert _config(ours) == _config(theirs)
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(IMAGES))), _numpy(theirs(IMAGES)),
                               atol=1e-4)
    # In inference only AutoContrast applies, in both.
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(IMAGES), training=False)),
                               _numpy(theirs(IMAGES, training=False)), atol=1e-4)


def test_augmentation_models_move_both_ways(tmp_path):
    L = netknit.layers
    inputs = netknit.Input((6, 7, 3))
    x = L.Pipeline([L.RandomGrayscale(0.2), L.RandomHue(0.1)])(inputs)
    x = L.RandAugment(num_ops=1)(L.AugMix(chain_depth=1)(x))
    x = L.AutoContrast()(L.CutMix()(L.MixUp()(L.RandomShear((0.1, 0.2))(x))))
    model = netknit.Model(inputs, x)
    model.save(tmp_path / "netknit.keras")
    theirs = keras.models.load_model(tmp_path / "netknit.keras")
    expected = model.predict(IMAGES, verbose=0)
    np.testing.assert_allclose(theirs.predict(IMAGES, verbose=0), expected, atol=1e-4)
    for our_layer, their_layer in zip(model.layers[1:], theirs.layers[1:]):
        assert _without_build_shapes(_config(our_layer)) == _without_build_shapes(
            _config(their_layer))
    theirs.save(tmp_path / "keras.keras")
    back = netknit.models.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(back.predict(IMAGES, verbose=0), expected, atol=1e-4)
    assert [type(layer) for layer in back.layers] == [type(layer) for layer in model.layers]
