"""`keras.ops.image`'s map_coordinates, elastic_transform, sobel_edges, ssim, scale_and_translate
and extract_patches_3d: their documented behaviour on hand-checked values, symbolic shapes,
gradients and errors; then, where Keras 3 is installed, the same values as its torch backend."""

import os

import numpy as np
import pytest
import torch

import netknit
from netknit.graph.symbolic import SymbolicTensor

image = netknit.ops.image
rng = np.random.default_rng(0)
IMAGES = rng.uniform(0, 1, (2, 10, 12, 3)).astype("float32")
VOLUMES = rng.uniform(0, 1, (2, 6, 7, 8, 3)).astype("float32")
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


# ----------------------------------------------------------------------- map_coordinates

# (a b c d) read at -4 .. 7, nearest neighbour: the extensions Keras's docstring draws.
EXTENDED = {
    "constant": [9, 9, 9, 9, 1, 2, 3, 4, 9, 9, 9, 9],
    "nearest": [1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4],
    "wrap": [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4],
    "mirror": [3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2],
    "reflect": [4, 3, 2, 1, 1, 2, 3, 4, 4, 3, 2, 1],
}


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_map_coordinates_extends_the_input_as_each_fill_mode_says(fill_mode):
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    positions = torch.arange(-4, 8, dtype=torch.float32)[None]
    got = image.map_coordinates(values, positions, 0, fill_mode, fill_value=9)
    assert got.tolist() == EXTENDED[fill_mode]


def test_map_coordinates_interpolates_linearly_and_keeps_the_input_dtype():
    grid = torch.arange(12.0).reshape(3, 4)  # value = 4 * row + column
    rows, columns = torch.tensor([[0.5, 1.25]]), torch.tensor([[2.5, 0.75]])
    got = image.map_coordinates(grid, [rows, columns], 1)
    assert got.shape == (1, 2) and got.dtype == torch.float32
    torch.testing.assert_close(got, 4 * rows + columns)
    # Integer inputs are rounded back to their dtype (half to even: 2.5 -> 2).
    ints = image.map_coordinates(torch.tensor([0, 5], dtype=torch.uint8), [[0.5, 0.7]], 1)
    assert ints.dtype == torch.uint8 and ints.tolist() == [2, 4]
    # Constant fill blends with fill_value across the edge.
    assert image.map_coordinates(torch.tensor([2.0]), [[0.5]], 1, fill_value=4.0).item() == 3.0


def test_map_coordinates_has_gradients_for_inputs_and_coordinates():
    values = torch.rand(5, 6, requires_grad=True)
    positions = (torch.rand(2, 3, 4) * 4).requires_grad_()
    image.map_coordinates(values, positions, 1, "reflect").sum().backward()
    assert values.grad.abs().sum() > 0 and positions.grad.abs().sum() > 0


def test_map_coordinates_symbolic_shape_and_errors():
    out = image.map_coordinates(netknit.Input((5, 6)), np.ones((3, 4, 2), "float32"), 1)
    assert isinstance(out, SymbolicTensor) and out.shape == (4, 2) and out.dtype == "float32"
    with pytest.raises(ValueError, match="rank of `inputs`"):
        image.map_coordinates(torch.ones(4, 4), torch.ones(3, 2), 1)
    with pytest.raises(ValueError, match="at least rank 2"):
        image.map_coordinates(torch.ones(4), torch.ones(1), 1)
    with pytest.raises(ValueError, match="fill_mode"):
        image.map_coordinates(torch.ones(4), torch.ones(1, 2), 1, "edge")
    with pytest.raises(NotImplementedError, match="order"):
        image.map_coordinates(torch.ones(4), torch.ones(1, 2), 3)


# --------------------------------------------------------------------- elastic_transform

def test_elastic_transform_without_displacement_is_the_identity():
    x = torch.from_numpy(IMAGES)
    assert torch.equal(image.elastic_transform(x, alpha=0.0, seed=1), x)
    first = x.permute(0, 3, 1, 2)
    assert torch.equal(image.elastic_transform(first, alpha=0.0, data_format="channels_first"),
                       first)
    assert torch.equal(image.elastic_transform(x[0], alpha=0.0, interpolation="nearest"), x[0])


def test_elastic_transform_is_repeatable_from_a_seed():
    x = torch.from_numpy(IMAGES)
    same = image.elastic_transform(x, seed=3), image.elastic_transform(x, seed=3)
    assert torch.equal(*same) and not torch.equal(same[0], x)
    assert not torch.equal(same[0], image.elastic_transform(x, seed=4))
    generator = netknit.random.SeedGenerator(7)
    draws = image.elastic_transform(x, seed=generator), image.elastic_transform(x, seed=generator)
    assert not torch.equal(*draws)
    again = netknit.random.SeedGenerator(7)
    assert torch.equal(image.elastic_transform(x, seed=again), draws[0])


def test_elastic_transform_stays_in_the_images_range_and_keeps_dtype():
    x = torch.from_numpy(IMAGES)
    out = image.elastic_transform(x, alpha=40.0, sigma=2.0, seed=0)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= x.min() and out.max() <= x.max()
    filled = image.elastic_transform(x, alpha=80.0, sigma=1.0, fill_mode="constant",
                                     fill_value=5.0, seed=0)
    assert (filled == 5.0).any() and filled.max() <= 5.0 + 1e-5
    pixels = (x * 255).to(torch.uint8)[0]
    warped = image.elastic_transform(pixels, seed=0)
    assert warped.dtype == torch.uint8 and warped.shape == pixels.shape
    grad = x.clone().requires_grad_()
    image.elastic_transform(grad, seed=0).sum().backward()
    assert grad.grad.abs().sum() > 0


def test_elastic_transform_symbolic_and_errors():
    out = image.elastic_transform(netknit.Input((16, 16, 3)), seed=1)
    assert out.shape == (None, 16, 16, 3) and out.dtype == "float32"
    with pytest.raises(ValueError, match="rank"):
        image.elastic_transform(torch.ones(4, 4))
    with pytest.raises(ValueError, match="interpolation"):
        image.elastic_transform(torch.ones(4, 4, 1), interpolation="bicubic")
    with pytest.raises(ValueError, match="fill_mode"):
        image.elastic_transform(torch.ones(4, 4, 1), fill_mode="edge")
    with pytest.raises(ValueError, match="sigma"):
        image.elastic_transform(torch.ones(4, 4, 1), sigma=0.0)
    with pytest.raises(ValueError, match="data_format"):
        image.elastic_transform(torch.ones(4, 4, 1), data_format="NHWC")


# --------------------------------------------------------------------- sobel_edges, ssim

def test_sobel_edges_finds_a_vertical_edge():
    x = torch.zeros(1, 6, 6, 1)
    x[0, :, 3:, 0] = 1.0
    edges = image.sobel_edges(x)
    assert edges.shape == (1, 6, 6, 1, 2) and edges.dtype == torch.float32
    dy, dx = edges[0, 1:-1, :, 0, 0], edges[0, 1:-1, :, 0, 1]
    assert torch.equal(dy, torch.zeros_like(dy))
    assert dx[:, 2:4].eq(4.0).all() and dx[:, :2].eq(0).all() and dx[:, 4].eq(0).all()
    first = image.sobel_edges(x.permute(0, 3, 1, 2), data_format="channels_first")
    assert torch.equal(first, edges.permute(0, 3, 1, 2, 4))
    assert image.sobel_edges(x.to(torch.uint8)).dtype == torch.float32


def test_sobel_edges_symbolic_and_errors():
    out = image.sobel_edges(netknit.Input((8, 9, 3)))
    assert out.shape == (None, 8, 9, 3, 2)
    with pytest.raises(ValueError, match="rank 4"):
        image.sobel_edges(torch.ones(8, 8, 3))


def test_ssim_of_an_image_with_itself_is_one_and_it_trains():
    x = torch.from_numpy(IMAGES)
    torch.testing.assert_close(image.ssim(x, x, filter_size=7), torch.ones(2))
    noisy = (x + 0.2 * torch.rand_like(x)).clamp(0, 1)
    values = image.ssim(x, noisy, filter_size=7)
    assert values.shape == (2,) and (values < 0.99).all()
    assert image.ssim(x[0], noisy[0], filter_size=7).shape == ()
    torch.testing.assert_close(image.ssim(x[0], noisy[0], filter_size=7), values[0])
    first = image.ssim(x.permute(0, 3, 1, 2), noisy.permute(0, 3, 1, 2),
                       filter_size=7, data_format="channels_first")
    torch.testing.assert_close(first, values)
    guess = noisy.clone().requires_grad_()
    (1 - image.ssim(x, guess, filter_size=7)).mean().backward()
    assert torch.isfinite(guess.grad).all() and guess.grad.abs().sum() > 0


def test_ssim_symbolic_and_errors():
    a, b = netknit.Input((16, 16, 3)), netknit.Input((16, 16, 3))
    model = netknit.Model([a, b], image.ssim(a, b, filter_size=5))
    assert model.output_shape == (None,)
    data = np.ones((2, 16, 16, 3), "float32")
    np.testing.assert_allclose(model.predict([data, data], verbose=0), [1.0, 1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        image.ssim(torch.ones(16, 16, 3), torch.ones(16, 17, 3))
    with pytest.raises(ValueError, match="filter_size"):
        image.ssim(torch.ones(8, 8, 3), torch.ones(8, 8, 3))
    with pytest.raises(ValueError, match="rank"):
        image.ssim(torch.ones(16, 16), torch.ones(16, 16))


# ----------------------------------------------------------------- scale_and_translate

def test_scale_and_translate_docstring_example():
    images = torch.arange(9.0).reshape(3, 3)
    scale = torch.tensor([2.0, 2.0])
    got = image.scale_and_translate(images, (5, 5), scale, -(scale / 2 - 0.5), (0, 1), "linear")
    expected = torch.arange(5.0)[None] * 0.5 + torch.arange(5.0)[:, None] * 1.5
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
def test_scale_and_translate_with_unit_scale_is_the_identity(method):
    x = torch.from_numpy(IMAGES)
    got = image.scale_and_translate(x, x.shape, [1.0, 1.0], [0.0, 0.0], (1, 2), method)
    torch.testing.assert_close(got, x)


def test_scale_and_translate_dtypes_gradients_symbolic_and_errors():
    pixels = torch.from_numpy(IMAGES * 255).to(torch.uint8)
    small = image.scale_and_translate(pixels, (2, 5, 6, 3), [0.5, 0.5], [0.0, 0.0], (1, 2),
                                      "bicubic")
    assert small.shape == (2, 5, 6, 3) and small.dtype == torch.uint8
    x = torch.from_numpy(IMAGES).requires_grad_()
    scale = torch.tensor([0.5, 1.5], requires_grad=True)
    image.scale_and_translate(x, (2, 5, 18, 3), scale, torch.zeros(2), (-3, -2),
                              "cubic").sum().backward()
    assert x.grad.abs().sum() > 0 and scale.grad.abs().sum() > 0
    out = image.scale_and_translate(netknit.Input((8, 8, 3)), (None, 4, 12, 3), [0.5, 1.5],
                                    [0.0, 0.0], (1, 2), "cubic")
    assert out.shape == (None, 4, 12, 3)
    with pytest.raises(ValueError, match="method"):
        image.scale_and_translate(x, (2, 5, 5, 3), [1, 1], [0, 0], (1, 2), "area")
    with pytest.raises(ValueError, match="keep the size"):
        image.scale_and_translate(x, (2, 5, 5, 4), [1, 1], [0, 0], (1, 2), "linear")
    with pytest.raises(ValueError, match="one value per axis"):
        image.scale_and_translate(x, (2, 5, 5, 3), [1, 1, 1], [0, 0], (1, 2), "linear")


# -------------------------------------------------------------------- extract_patches_3d

def test_extract_patches_3d_copies_each_patch():
    x = torch.from_numpy(VOLUMES)
    patches = image.extract_patches_3d(x, (2, 3, 2))
    assert patches.shape == (2, 3, 2, 4, 36)
    torch.testing.assert_close(patches[1, 2, 1, 3], x[1, 4:6, 3:6, 6:8].reshape(-1))
    assert image.extract_patches_3d(x[0], 2, strides=1).shape == (5, 6, 7, 24)
    first = image.extract_patches_3d(x.permute(0, 4, 1, 2, 3), 2,
                                     data_format="channels_first")
    assert first.shape == (2, 24, 3, 3, 4)
    assert image.extract_patches_3d(x, 3, padding="same", strides=2).shape == (2, 3, 4, 4, 81)
    # extract_patches takes 3 sizes too, and single images.
    torch.testing.assert_close(image.extract_patches(x, (2, 3, 2)), patches)
    assert image.extract_patches(x[0, 0], 3, strides=1).shape == (5, 6, 27)


def test_extract_patches_3d_symbolic_and_errors():
    out = image.extract_patches_3d(netknit.Input((6, 6, 6, 2)), 2)
    assert out.shape == (None, 3, 3, 3, 16)
    assert out._keras_history[0].get_config()["size"] == [2, 2, 2]
    with pytest.raises(TypeError, match="length 3"):
        image.extract_patches_3d(torch.ones(1, 4, 4, 4, 1), (2, 2))
    with pytest.raises(ValueError, match="strides"):
        image.extract_patches_3d(torch.ones(1, 4, 4, 4, 1), 2, strides=(1, 1))
    with pytest.raises(ValueError, match="rank 4 or 5"):
        image.extract_patches_3d(torch.ones(4, 4, 1), 2)
    with pytest.raises(ValueError, match="length 2 or 3"):
        image.extract_patches(torch.ones(1, 4, 4, 1), (1, 1, 1, 1))


# ------------------------------------------------------------------------- against Keras

@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    module = pytest.importorskip("keras")
    if module.backend.backend() != "torch":
        pytest.skip("Keras runs on another backend than torch")
    return module


COORDINATES = rng.uniform(-3, 12, (2, 4, 5)).astype("float32")
SCALE, SHIFT = np.array([0.45, 1.6], "float32"), np.array([0.3, -1.2], "float32")
CALLS = {
    **{f"map_coordinates-{order}-{mode}": (
        "map_coordinates", (IMAGES[0, ..., 0], COORDINATES, order, mode, 0.5), {})
       for order in (0, 1) for mode in FILL_MODES},
    "map_coordinates-3d": ("map_coordinates", (IMAGES[0], np.stack(
        [COORDINATES[0], COORDINATES[1], COORDINATES[0] / 4]), 1, "reflect"), {}),
    "map_coordinates-uint8": ("map_coordinates", (
        (IMAGES[0, ..., 0] * 255).astype("uint8"), COORDINATES, 1, "constant", 7.6), {}),
    "sobel_edges": ("sobel_edges", (IMAGES,), {}),
    "sobel_edges-first": ("sobel_edges", (IMAGES.transpose(0, 3, 1, 2),),
                          {"data_format": "channels_first"}),
    "ssim": ("ssim", (IMAGES, IMAGES[::-1]), {"filter_size": 7}),
    "ssim-single": ("ssim", (IMAGES[0], np.sqrt(IMAGES[0])), {"filter_size": 5}),
    "ssim-255": ("ssim", (IMAGES * 255, np.sqrt(IMAGES) * 255),
                 {"max_val": 255.0, "filter_size": 3, "filter_sigma": 0.8, "k1": 0.02}),
    "ssim-first": ("ssim", (IMAGES.transpose(0, 3, 1, 2), np.sqrt(IMAGES).transpose(0, 3, 1, 2)),
                   {"filter_size": 9, "data_format": "channels_first"}),
    **{f"scale_and_translate-{method}-{antialias}": (
        "scale_and_translate", (IMAGES, (2, 5, 19, 3), SCALE, SHIFT, (1, 2), method, antialias),
        {}) for method in ("linear", "bicubic", "lanczos3", "lanczos5")
       for antialias in (True, False)},
    "scale_and_translate-uint8": ("scale_and_translate", (
        (IMAGES * 255).astype("uint8"), (2, 5, 19, 3), SCALE, SHIFT, (1, 2), "cubic"), {}),
    "extract_patches_3d": ("extract_patches_3d", (VOLUMES, 2), {}),
    "extract_patches_3d-single": ("extract_patches_3d", (VOLUMES[0], (2, 3, 2)),
                                  {"strides": (1, 2, 3), "padding": "same"}),
    "extract_patches_3d-first": ("extract_patches_3d", (VOLUMES.transpose(0, 4, 1, 2, 3), 2),
                                 {"strides": 1, "dilation_rate": 2,
                                  "data_format": "channels_first"}),
}


@pytest.mark.parametrize("case", sorted(CALLS))
def test_same_values_as_keras(keras, case):
    name, args, kwargs = CALLS[case]
    expected = keras.ops.convert_to_numpy(getattr(keras.ops.image, name)(*args, **kwargs))
    got = getattr(image, name)(*args, **kwargs)
    assert tuple(got.shape) == expected.shape and str(got.dtype) == f"torch.{expected.dtype}"
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {},
    {"alpha": 5.0, "sigma": 1.0, "interpolation": "nearest", "fill_mode": "wrap"},
    {"alpha": 30.0, "sigma": 2.0, "fill_mode": "constant", "fill_value": 0.5},
    {"sigma": 0.7, "alpha": 3.0, "fill_mode": "mirror", "data_format": "channels_first"},
])
def test_elastic_transform_matches_keras_on_the_same_draws(keras, kwargs):
    """Keras's torch backend draws its fields from torch's global generator (it ignores the
    seed off the meta device); netknit does too with seed=None: seeding torch alike gives both
    the same fields, and the same pixels but for the rounding of a separable blur."""
    x = IMAGES.transpose(0, 3, 1, 2) if kwargs.get("data_format") else IMAGES
    for inputs in (x, x[0]):
        torch.manual_seed(11)
        expected = keras.ops.convert_to_numpy(keras.ops.image.elastic_transform(inputs, **kwargs))
        torch.manual_seed(11)
        got = image.elastic_transform(inputs, **kwargs)
        assert got.shape == expected.shape and got.dtype == torch.float32
        np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=2e-5)


SYMBOLIC = {
    "map_coordinates": lambda lib: lib.ops.image.map_coordinates(
        lib.Input(batch_shape=(2, 5, 6)), lib.Input(batch_shape=(3, 4, 2)), 0),
    "elastic_transform": lambda lib: lib.ops.image.elastic_transform(
        lib.Input((3, 16, 16)), data_format="channels_first"),
    "sobel_edges": lambda lib: lib.ops.image.sobel_edges(lib.Input((8, 9, 3))),
    "ssim": lambda lib: lib.ops.image.ssim(lib.Input((16, 16, 3)), lib.Input((16, 16, 3))),
    "scale_and_translate": lambda lib: lib.ops.image.scale_and_translate(
        lib.Input((8, 8, 3)), (None, 4, 12, 3), SCALE, SHIFT, (1, 2), "cubic"),
    "extract_patches_3d": lambda lib: lib.ops.image.extract_patches_3d(
        lib.Input((6, 7, 8, 2)), (2, 3, 2), strides=1),
}


@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_symbolic_outputs_and_configs_as_keras_s(keras, name):
    theirs, ours = SYMBOLIC[name](keras), SYMBOLIC[name](netknit)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == theirs.dtype
    their_op, our_op = theirs._keras_history[0], ours._keras_history[0]
    assert type(our_op).__name__ == type(their_op).__name__
    if name != "extract_patches_3d":  # Keras fills in its strides and data_format there
        assert our_op.get_config() | {"name": None} == {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in their_op.get_config().items()} | {"name": None}


def test_ssim_gradients_match_keras(keras):
    target = torch.from_numpy(IMAGES)
    grads = []
    for ssim in (keras.ops.image.ssim, image.ssim):
        guess = torch.from_numpy(np.sqrt(IMAGES)).requires_grad_()
        (1 - ssim(target, guess, filter_size=7)).mean().backward()
        grads.append(guess.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-7)
