"""`keras.ops.image` against real Keras 3 (torch backend), live: same pixels, shapes and dtypes;
on symbolic inputs, the same operation saved with the same settings. Skipped without Keras."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

rng = np.random.default_rng(0)
IMAGES = rng.uniform(0, 1, (2, 7, 9, 3)).astype("float32")
# No exact .5 pixel positions: Keras and torch break nearest-neighbour ties differently.
AFFINE = np.array([[1.0, 0.37, -2.1, 0.31, 1.0, -1.2, 0, 0]] * 2, "float32")
CORNERS = np.array([[0, 0], [8, 0], [0, 6], [8, 6]], "float32")
MOVED = np.array([[1, 0], [7, 1], [0, 5], [8, 6]], "float32")

CALLS = {
    "rgb_to_grayscale": ("rgb_to_grayscale", (IMAGES,), {}),
    "rgb_to_grayscale-single": ("rgb_to_grayscale", (IMAGES[0],), {}),
    "rgb_to_hsv": ("rgb_to_hsv", (IMAGES,), {}),
    "hsv_to_rgb": ("hsv_to_rgb", (IMAGES,), {}),
    "resize": ("resize", (IMAGES, (4, 5)), {}),
    "resize-crop": ("resize", (IMAGES, (4, 5)), {"crop_to_aspect_ratio": True}),
    "resize-pad": ("resize", (IMAGES, (4, 4)), {"pad_to_aspect_ratio": True}),
    "resize-nearest": ("resize", (IMAGES, (14, 10)), {"interpolation": "nearest"}),
    "resize-bicubic": ("resize", (IMAGES, (5, 6)), {"interpolation": "bicubic"}),
    # Keras's default data_format (None) is read as channels-first by its torch blur.
    "gaussian_blur": ("gaussian_blur", (IMAGES,), {"data_format": "channels_last"}),
    "gaussian_blur-sigmas": ("gaussian_blur", (IMAGES,), {"kernel_size": (5, 5),
                                                          "sigma": (2.0, 1.0),
                                                          "data_format": "channels_last"}),
    **{f"affine_transform-{mode}": ("affine_transform", (IMAGES, AFFINE), {"fill_mode": mode})
       for mode in ("constant", "reflect", "wrap", "nearest", "mirror")},
    "affine_transform-nearest-pixels": ("affine_transform", (IMAGES, AFFINE),
                                        {"interpolation": "nearest"}),
    "affine_transform-fill": ("affine_transform", (IMAGES, AFFINE), {"fill_value": 0.5}),
    "perspective_transform": ("perspective_transform", (IMAGES, CORNERS, MOVED), {}),
    "crop_images": ("crop_images", (IMAGES,), {"top_cropping": 1, "bottom_cropping": 2,
                                               "left_cropping": 1, "target_width": 5}),
    "pad_images": ("pad_images", (IMAGES,), {"top_padding": 1, "target_height": 10,
                                             "left_padding": 2, "right_padding": 1}),
    "extract_patches": ("extract_patches", (IMAGES, 3), {}),
    "extract_patches-same": ("extract_patches", (IMAGES, (2, 3)), {"strides": 1,
                                                                   "padding": "same"}),
}


@pytest.mark.parametrize("case", sorted(CALLS))
def test_same_pixels_as_keras(case):
    name, args, kwargs = CALLS[case]
    expected = np.asarray(getattr(keras.ops.image, name)(*args, **kwargs))
    got = getattr(netknit.ops.image, name)(*args, **kwargs)
    assert str(got.dtype) == "torch.float32" and tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_a_symbolic_resize_saves_and_loads_as_keras_s():
    def build(lib):
        x = lib.Input((8, 8, 3))
        return lib.Model(x, lib.ops.image.resize(lib.ops.image.rgb_to_grayscale(x), (4, 4)))

    theirs, ours = build(keras), build(netknit)
    assert ours.output_shape == tuple(theirs.output.shape) == (None, 4, 4, 1)
    their_entry, our_entry = theirs.get_config()["layers"][-1], ours.get_config()["layers"][-1]
    assert (our_entry["module"], our_entry["class_name"]) == ("keras.src.ops.image", "Resize")
    assert {k: v for k, v in our_entry["config"].items() if k != "name"} == {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in their_entry["config"].items() if k != "name"}
    rebuilt = netknit.Model.from_config(theirs.get_config())
    data = rng.uniform(0, 1, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(rebuilt.predict(data, verbose=0),
                               theirs.predict(data, verbose=0), rtol=1e-5, atol=1e-6)
