"""ContrastLimitedAdaptiveHistogramEqualization: what the equalization does to known images,
layouts, dtypes, dicts, errors and saving; and its pixels against real Keras 3 (torch backend),
live, skipped when Keras is not installed."""

import numpy as np
import pytest
import torch

import netknit
from netknit import layers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")

CLAHE = layers.ContrastLimitedAdaptiveHistogramEqualization
RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (2, 16, 24, 3)).astype("float32")
UNEVEN = RNG.uniform(0, 255, (2, 5, 7, 2)).astype("float32")  # tiles extended by mirroring


def _equalized(image: np.ndarray) -> np.ndarray:
    """Keras's global equalization of one channel of 8-bit levels, with NumPy: the cumulative
    count stretched from its value at level 0 to 255."""
    levels = image.astype("int64")
    cdf = np.cumsum(np.bincount(levels.ravel(), minlength=256))
    return (cdf[levels] - cdf[0]) * 255.0 / (levels.size - cdf[0])


def test_one_tile_without_clipping_is_global_histogram_equalization():
    images = IMAGES.astype("uint8")
    out = CLAHE(clip_limit=0, tile_grid_size=(1, 1))(torch.as_tensor(images)).numpy()
    expected = np.stack([np.stack([_equalized(image[..., c]) for c in range(3)], -1)
                         for image in images])
    np.testing.assert_array_equal(out, expected.astype("uint8"))  # truncated, as Keras


def test_a_tiny_clip_limit_keeps_the_levels():
    # Clipped to almost nothing, every histogram is flat and every map the identity.
    out = CLAHE(clip_limit=1e-9, tile_grid_size=(3, 4))(torch.as_tensor(IMAGES))
    np.testing.assert_allclose(out.numpy(), np.floor(IMAGES), atol=1e-3)


def test_a_limit_above_every_count_does_not_clip():
    images = torch.as_tensor(IMAGES)
    torch.testing.assert_close(CLAHE(clip_limit=300.0, tile_grid_size=(2, 2))(images),
                               CLAHE(clip_limit=0, tile_grid_size=(2, 2))(images))


def test_contrast_grows_within_the_limit():
    dim = torch.linspace(100, 120, 256).reshape(1, 16, 16, 1)
    spreads = [float(np.ptp(CLAHE(clip_limit=limit, tile_grid_size=(2, 2))(dim).numpy()))
               for limit in (1.0, 4.0, 0)]
    assert 20 < spreads[0] < spreads[1] < spreads[2] <= 255


def test_applies_alike_in_training_inference_and_a_model():
    layer = CLAHE(tile_grid_size=(2, 3))
    images = torch.as_tensor(IMAGES)
    expected = layer(images)
    assert not torch.equal(expected, images)
    torch.testing.assert_close(layer(images, training=False), expected, rtol=0, atol=0)
    inputs = netknit.Input((16, 24, 3))
    model = netknit.Model(inputs, layer(inputs))
    np.testing.assert_array_equal(model.predict(IMAGES, verbose=0), expected.numpy())


def test_layouts_single_images_batches_and_value_ranges_agree():
    images = torch.as_tensor(UNEVEN)
    expected = CLAHE(tile_grid_size=(2, 3))(images)
    first = CLAHE(tile_grid_size=(2, 3), data_format="channels_first")(images.movedim(-1, 1))
    torch.testing.assert_close(first.movedim(1, -1), expected, rtol=0, atol=0)
    torch.testing.assert_close(CLAHE(tile_grid_size=(2, 3))(images[1]), expected[1])
    torch.testing.assert_close(CLAHE(tile_grid_size=(2, 3))(images[1:]), expected[1:])
    # The same 8-bit levels in (-1, 1) (mid-level, so that rounding moves none).
    levels = torch.floor(images) + 0.5
    unit = CLAHE(tile_grid_size=(2, 3), value_range=(-1, 1))(levels / 127.5 - 1)
    torch.testing.assert_close((unit + 1) * 127.5, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("dtype, expected", [
    (torch.uint8, torch.uint8), (torch.int32, torch.int32),
    # Floating images are cast to the layer's float32 first, as Keras's autocast does.
    (torch.float16, torch.float32), (torch.float64, torch.float32)])
def test_integer_images_keep_their_dtype(dtype, expected):
    images = torch.as_tensor(IMAGES).to(dtype)
    out = CLAHE(tile_grid_size=(4, 4))(images)
    assert out.dtype == expected and out.shape == images.shape
    assert 0 <= float(out.min()) and float(out.max()) <= 255
    assert CLAHE()(netknit.Input((8, 8, 1), dtype="uint8")).dtype == torch.uint8
    symbolic = CLAHE()({"images": netknit.Input((8, 8, 1), dtype="uint8"),
                        "labels": netknit.Input((2,), dtype="int32")})
    assert (symbolic["images"].dtype, symbolic["labels"].dtype) == (torch.uint8, torch.int32)


def test_a_dict_of_images_and_labels_keeps_the_labels():
    labels = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    out = CLAHE(tile_grid_size=(2, 2))({"images": torch.as_tensor(IMAGES), "labels": labels})
    torch.testing.assert_close(out["images"], CLAHE(tile_grid_size=(2, 2))(
        torch.as_tensor(IMAGES)))
    assert out["labels"] is labels


@pytest.mark.parametrize("kwargs, message", [
    ({"clip_limit": -1.0}, r"clip_limit to be a number >= 0 \(0 turns clipping off\)"),
    ({"clip_limit": "4"}, r"Received: clip_limit='4'"),
    ({"tile_grid_size": (0, 8)}, r"tile_grid_size to be a positive integer"),
    ({"tile_grid_size": (2, 2, 2)}, r"tuple of 2 positive integers"),
    ({"value_range": (1, 1)}, r"pair of different numbers"),
    ({"data_format": "NHWC"}, r"channels_last"),
])
def test_bad_arguments_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CLAHE(**kwargs)


def test_config_and_keras_file_round_trip(tmp_path):
    layer = CLAHE(value_range=[0, 1], clip_limit=2.5, tile_grid_size=[2, 3])
    assert {k: layer.get_config()[k] for k in ("value_range", "clip_limit", "tile_grid_size",
                                                "data_format")} == {
        "value_range": (0, 1), "clip_limit": 2.5, "tile_grid_size": (2, 3),
        "data_format": "channels_last"}
    assert "seed" not in layer.get_config()
    inputs = netknit.Input((5, 7, 2))
    model = netknit.Model(inputs, layer(inputs))
    model.save(tmp_path / "clahe.keras")
    loaded = netknit.models.load_model(tmp_path / "clahe.keras")
    assert isinstance(loaded.layers[1], CLAHE)
    np.testing.assert_array_equal(loaded.predict(UNEVEN / 255, verbose=0),
                                  model.predict(UNEVEN / 255, verbose=0))


# ---------------------------------------------------------------------- against Keras


@pytest.fixture
def keras():
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    return keras


@pytest.fixture
def keras_as_on_jax(keras, monkeypatch):
    """Keras with its torch backend's two departures from its JAX backend undone for the call:
    histograms counted in float32 (torch's one_hot gives int64, which truncates the clip limit)
    and "symmetric" padding that mirrors (torch's backend repeats the edge)."""
    from keras.src.backend.torch import nn as torch_nn
    from keras.src.backend.torch import numpy as torch_numpy

    one_hot, pad = torch_nn.one_hot, torch_numpy.pad

    def float_one_hot(x, num_classes, **kwargs):
        return one_hot(x, num_classes, **kwargs).float()

    def mirroring_pad(x, pad_width, mode="constant", **kwargs):
        if mode != "symmetric":
            return pad(x, pad_width, mode=mode, **kwargs)
        return torch.as_tensor(np.pad(np.asarray(x), pad_width, mode="symmetric"))

    monkeypatch.setattr(torch_nn, "one_hot", float_one_hot)
    monkeypatch.setattr(torch_numpy, "pad", mirroring_pad)
    return keras


def _compare(keras, images, **kwargs):
    expected = np.asarray(keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)(
        images))
    got = CLAHE(**kwargs)(torch.as_tensor(images)).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


SQUARE = RNG.uniform(0, 255, (2, 15, 16, 3)).astype("float32")  # 8x8 tiles, one row mirrored

# Where Keras's torch backend agrees with its JAX backend: clip limits of whole counts (4.0 on
# 64-pixel tiles is 1) and at most one row or column added.
AS_ON_TORCH = [
    ({"tile_grid_size": (2, 2)}, SQUARE),
    ({"tile_grid_size": (2, 2), "clip_limit": 8.0}, SQUARE.astype("uint8")),
    ({"tile_grid_size": (2, 2), "value_range": (0, 1)}, SQUARE / 255),
    ({"tile_grid_size": (2, 2), "value_range": (0.1, 0.9)}, SQUARE / 255 * 0.8 + 0.1),
    ({"tile_grid_size": (2, 2), "data_format": "channels_first"},
     np.ascontiguousarray(SQUARE.transpose(0, 3, 1, 2))),
    ({"tile_grid_size": (2, 2)}, SQUARE[0]),
    ({"clip_limit": 0}, IMAGES),
    ({"clip_limit": 0, "tile_grid_size": (3, 5)}, UNEVEN.astype("int32")),
]


@pytest.mark.parametrize("kwargs, images", AS_ON_TORCH, ids=[str(i) for i in
                                                              range(len(AS_ON_TORCH))])
def test_pixels_equal_keras_s_on_torch(keras, kwargs, images):
    _compare(keras, images, **kwargs)


AS_ON_JAX = [
    ({}, IMAGES),  # 2x3 tiles: a limit of 0.09 counts, which Keras on torch truncates to 0
    ({"clip_limit": 1.5, "tile_grid_size": (4, 4)}, IMAGES),
    ({"tile_grid_size": (4, 4)}, UNEVEN),
    ({"tile_grid_size": (3, 5), "value_range": (-1, 1)}, UNEVEN / 127.5 - 1),
    ({"tile_grid_size": (8, 3)}, RNG.uniform(0, 255, (1, 3, 20, 1)).astype("float32")),
    ({"clip_limit": 2.5}, UNEVEN[0].astype("uint8")),
]


@pytest.mark.parametrize("kwargs, images", AS_ON_JAX, ids=[str(i) for i in range(len(AS_ON_JAX))])
def test_pixels_equal_keras_s_on_jax(keras_as_on_jax, kwargs, images):
    _compare(keras_as_on_jax, images, **kwargs)


def test_config_symbolic_output_and_keras_files_match_keras(keras, tmp_path):
    import json

    kwargs = {"value_range": (0, 1), "clip_limit": 8.0, "tile_grid_size": (2, 2)}  # 2 counts
    theirs, ours = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs), CLAHE(
        **kwargs)
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(
        theirs.get_config()))
    their_out, our_out = theirs(keras.Input((16, 16, 3))), ours(netknit.Input((16, 16, 3)))
    assert our_out.shape == tuple(their_out.shape)
    assert str(our_out.dtype).replace("torch.", "") == their_out.dtype

    images = SQUARE / 255
    inputs = netknit.Input((15, 16, 3))
    model = netknit.Model(inputs, ours(inputs))
    model.save(tmp_path / "netknit.keras")
    loaded = keras.models.load_model(tmp_path / "netknit.keras")
    expected = model.predict(images, verbose=0)
    np.testing.assert_array_equal(np.asarray(loaded.predict(images, verbose=0)), expected)
    loaded.save(tmp_path / "keras.keras")
    back = netknit.models.load_model(tmp_path / "keras.keras")
    np.testing.assert_array_equal(back.predict(images, verbose=0), expected)
