"""Rescaling, Normalization and CategoryEncoding compute what Keras 3.15.1 computes (the values
below are Keras's outputs for the same calls); shapes, counts and configs are in layer_db."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def test_rescaling_takes_integer_images_to_floats():
    out = layers.Rescaling(1 / 255, offset=-1)(np.full((1, 2, 2, 3), 255, "uint8"))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), 0.0, atol=1e-7)
    per_channel = layers.Rescaling([1.0, 2.0])(torch.ones(2, 2))
    assert per_channel.tolist() == [[1.0, 2.0], [1.0, 2.0]]


IMAGE = np.arange(24, dtype="float32").reshape(2, 3, 4, 1)


@pytest.mark.parametrize("kwargs, expected", [
    ({"height": 2, "width": 3}, [[1.1666666, 2.5, 3.8333335], [7.1666665, 8.5, 9.833333]]),
    ({"height": 2, "width": 2, "crop_to_aspect_ratio": True}, [[1.25, 2.75], [7.25, 8.75]]),
    # Keras pads (4 - 3) // 2 = 0 rows on each side here: the image is resized as it is.
    ({"height": 2, "width": 2, "pad_to_aspect_ratio": True}, [[1.5, 3.5], [7.5, 9.5]]),
    ({"height": 5, "width": 7, "interpolation": "nearest"},
     [[0, 0, 1, 2, 2, 3, 3], [0, 0, 1, 2, 2, 3, 3], [4, 4, 5, 6, 6, 7, 7],
      [8, 8, 9, 10, 10, 11, 11], [8, 8, 9, 10, 10, 11, 11]]),
])
def test_resizing_gives_keras_s_pixels(kwargs, expected):
    out = layers.Resizing(**kwargs)(IMAGE)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], expected, rtol=1e-6)


def test_resizing_keeps_integer_images_integer():
    out = layers.Resizing(2, 3)(IMAGE.astype("uint8"))
    assert out.dtype == torch.uint8
    assert out[0, :, :, 0].tolist() == [[1, 2, 4], [7, 8, 10]]  # rounded, as in Keras
    with pytest.raises(ValueError, match="interpolation to be one of bilinear, nearest, bicubic"):
        layers.Resizing(2, 2, interpolation="lanczos3")


def test_normalization_adapts_to_the_population_variance():
    layer = layers.Normalization()
    layer.adapt(np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]], "float32"))
    mean, variance, count = layer.get_weights()
    np.testing.assert_allclose(mean, [3.0, 6.0])
    np.testing.assert_allclose(variance, [8 / 3, 32 / 3], rtol=1e-6)
    assert count.dtype == np.int32 and count == 0  # Keras 3.15.1 leaves it at 0 too
    np.testing.assert_allclose(layer(np.array([[1.0, 2.0]], "float32")).numpy(),
                               [[-1.2247448, -1.2247448]], rtol=1e-6)


def test_adapting_on_batches_gives_the_statistics_of_the_whole():
    data = np.random.default_rng(0).standard_normal((50, 4, 3)).astype("float32") * 3 + 1
    whole, batched, loader = (layers.Normalization() for _ in range(3))
    whole.adapt(data)
    batched.adapt(data, batch_size=7)
    loader.adapt(torch.utils.data.DataLoader(torch.as_tensor(data), batch_size=16))
    expected = [data.mean(axis=(0, 1)), data.var(axis=(0, 1))]
    for layer in (whole, batched, loader):
        for got, want in zip(layer.get_weights()[:2], expected):
            np.testing.assert_allclose(got, want, rtol=1e-5)


def test_normalization_over_everything_and_inverted():
    layer = layers.Normalization(axis=None)
    layer.adapt(np.arange(6.0).reshape(3, 2))
    np.testing.assert_allclose(layer(np.arange(6.0).reshape(3, 2)).numpy()[0],
                               [-1.46385, -0.87831], rtol=1e-5)
    inverted = layers.Normalization(invert=True, mean=1.0, variance=4.0)
    assert inverted(np.array([[1.0, 2.0]])).tolist() == [[3.0, 5.0]]


def test_normalization_in_a_model_trains_and_saves(tmp_path):
    data = np.random.default_rng(1).standard_normal((64, 3)).astype("float32") * 5 + 2
    norm = layers.Normalization()
    norm.adapt(data)
    model = keras.Sequential([keras.Input((3,)), norm, layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(data, data.sum(axis=1), epochs=2, verbose=0)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 3
    model.save(tmp_path / "norm.keras")
    loaded = keras.models.load_model(tmp_path / "norm.keras")
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0))


def test_normalization_errors_say_what_to_do():
    with pytest.raises(ValueError, match="both mean and variance, or neither"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="nothing to adapt"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(np.ones((2, 2)))
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"statistics of shape \(3,\).*batch of shape \(4, 2\)"):
        layer.adapt(np.ones((4, 2)))
    with pytest.raises(ValueError, match="per sample"):
        layers.Normalization(axis=0).adapt(np.ones((4, 3)))


def test_category_encoding_modes():
    values = np.array([[0, 3, 3], [1, 1, 2]])
    count = layers.CategoryEncoding(4, output_mode="count")
    assert count(values).tolist() == [[1.0, 0.0, 0.0, 2.0], [0.0, 2.0, 1.0, 0.0]]
    weighted = count(values, count_weights=np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]))
    assert weighted.tolist() == [[1.0, 0.0, 0.0, 5.0], [0.0, 2.0, 1.0, 0.0]]
    assert layers.CategoryEncoding(4)(values).tolist() == [[1.0, 0.0, 0.0, 1.0],
                                                            [0.0, 1.0, 1.0, 0.0]]
    one_hot = layers.CategoryEncoding(4, output_mode="one_hot")
    assert one_hot(np.array([[2], [0]])).tolist() == [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]]


def test_category_encoding_refuses_what_it_cannot_encode():
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        layers.CategoryEncoding(4)(np.array([[5]]))  # Keras's message for the same call
    with pytest.raises(ValueError, match="output_mode to be one of one_hot, multi_hot, count"):
        layers.CategoryEncoding(4, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse=True"):
        layers.CategoryEncoding(4, sparse=True)


def test_keras_longer_convolution_names_are_the_same_classes():
    assert layers.Convolution2D is layers.Conv2D
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    assert type(layers.Convolution2D(4, 3)).__name__ == "Conv2D"


# ---------------------------------------------------------------------- Discretization

VALUES = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], "float32")


def test_discretization_buckets_as_keras():
    # Keras's documented example: a value equal to a boundary falls in the bin above it.
    out = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])(VALUES)
    assert out.dtype == torch.int32
    assert out.tolist() == [[0, 2, 3, 1], [1, 3, 2, 1]]


@pytest.mark.parametrize("mode, expected", [
    ("one_hot", [[[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0]],
                 [[0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0]]]),
    ("multi_hot", [[1, 1, 1], [0, 1, 1]]),
    ("count", [[1, 1, 2], [0, 2, 2]]),
])
def test_discretization_encodes_bins_as_keras(mode, expected):
    out = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)(VALUES)
    assert out.dtype == torch.float32
    assert out.tolist() == expected


def test_discretization_adapt_learns_keras_s_quantiles():
    # Keras's documented example: num_bins=4 on VALUES gives boundaries [0.0, 0.5, 1.3].
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(VALUES)
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 0.5, 1.3], rtol=1e-6)
    assert layer(VALUES).tolist() == [[0, 2, 3, 2], [1, 3, 3, 1]]
    # Keras's boundaries for 1000 normal values in batches of 250 (its summary is approximate).
    data = np.random.default_rng(0).standard_normal((1000, 1)).astype("float32")
    layer = layers.Discretization(num_bins=4, epsilon=0.05)
    layer.adapt(torch.as_tensor(data), batch_size=250)
    np.testing.assert_allclose(layer.bin_boundaries,
                               [-0.6922591, -0.1044471, 0.5872292], rtol=1e-6)


def test_discretization_config_keeps_what_adapt_learned():
    layer = layers.Discretization(num_bins=4)
    layer.adapt(VALUES)
    config = layer.get_config()
    assert list(config) == ["bin_boundaries", "num_bins", "epsilon", "output_mode", "sparse",
                            "name", "dtype"]
    clone = layers.Discretization.from_config(config)
    assert clone.bin_boundaries == layer.bin_boundaries and clone.num_bins == 4
    assert torch.equal(clone(VALUES), layer(VALUES))


def test_discretization_explains_what_it_needs():
    with pytest.raises(ValueError, match="has no bin boundaries yet"):
        layers.Discretization(num_bins=3)(VALUES)
    with pytest.raises(ValueError, match="not both or neither"):
        layers.Discretization()
    with pytest.raises(ValueError, match="output_mode to be one of int, one_hot"):
        layers.Discretization(bin_boundaries=[0.0], output_mode="tf_idf")
    with pytest.raises(ValueError, match="flat list of increasing numbers"):
        layers.Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match="nothing to adapt"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(VALUES)
    with pytest.raises(ValueError, match="sparse=True"):
        layers.Discretization(bin_boundaries=[0.0], output_mode="count", sparse=True)


@pytest.mark.parametrize("layer", [
    layers.Resizing(4, 4), layers.Resizing(4, 4, crop_to_aspect_ratio=True),
    layers.CenterCrop(2, 2), layers.CenterCrop(7, 9),
], ids=["resize", "resize-crop", "crop", "crop-resize"])
def test_one_unbatched_image_is_resized_as_in_a_batch(layer):
    # Keras 3.15.1: Resizing(4, 4)(image of shape (6, 8, 3)).shape == (4, 4, 3).
    image = torch.rand(6, 8, 3)
    torch.testing.assert_close(layer(image), layer(image[None])[0])
