"""Discretization and RandomCrop against real Keras 3, live: outputs and their dtypes, inferred
shapes and dtypes, configs (as saved JSON), the boundaries adapt learns, and `.keras` files moving
both ways. Skipped when Keras is not installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")


@pytest.fixture(autouse=True)
def fresh_keras_names():
    keras.backend.clear_session()  # conftest resets netknit's; automatic names then agree


def _numpy(t):
    return np.asarray(t.detach().cpu()) if torch.is_tensor(t) else np.asarray(t)


def _same_config(ours, theirs):
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))


# ---------------------------------------------------------------------- Discretization

DISCRETIZATIONS = [
    {"bin_boundaries": [-1.0, 0.0, 0.5, 1.0]},
    {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "one_hot"},
    {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "multi_hot"},
    {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "count"},
    {"bin_boundaries": [0.0], "output_mode": "count", "dtype": "float64"},
]


@pytest.mark.parametrize("kwargs", DISCRETIZATIONS, ids=lambda k: k.get("output_mode", "int"))
@pytest.mark.parametrize("shape", [(6, 4), (6, 1), (4,), (2, 3, 4)], ids=str)
def test_discretization_matches_keras(kwargs, shape):
    theirs = keras.layers.Discretization(**kwargs)
    ours = netknit.layers.Discretization(**kwargs)
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    expected, got = _numpy(theirs(x)), _numpy(ours(torch.as_tensor(x)))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    if len(shape) > 1:
        their_out = theirs(keras.Input(shape[1:]))
        our_out = ours(netknit.Input(shape[1:]))
        assert our_out.shape == tuple(their_out.shape)
        assert str(our_out.dtype).replace("torch.", "") == their_out.dtype
    _same_config(ours, theirs)


@pytest.mark.parametrize("num_bins, epsilon, batches", [
    (4, 0.01, 1), (5, 0.01, 4), (7, 0.05, 3), (6, 0.01, 2),
])
def test_discretization_adapt_learns_keras_s_boundaries(num_bins, epsilon, batches):
    rng = np.random.default_rng(num_bins)
    data = np.round(rng.standard_normal((1200, 3)) * 3, 1).astype("float32")
    theirs = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    # Keras's adapt needs TensorFlow's tf.data; its per-batch steps are the same computation.
    theirs.reset_state()
    for batch in np.array_split(data, batches):
        theirs.update_state(batch)
    theirs.finalize_state()
    ours = netknit.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt(iter([torch.as_tensor(b) for b in np.array_split(data, batches)]))
    assert ours.bin_boundaries == theirs.bin_boundaries
    np.testing.assert_array_equal(_numpy(ours(torch.as_tensor(data))), _numpy(theirs(data)))
    _same_config(ours, theirs)


def test_an_adapted_discretization_moves_both_ways(tmp_path):
    layer = netknit.layers.Discretization(num_bins=4, output_mode="one_hot")
    layer.adapt(np.random.default_rng(0).standard_normal((50, 2)).astype("float32"))
    inputs = netknit.Input((2,))
    model = netknit.Model(inputs, layer(inputs))
    x = np.random.default_rng(1).standard_normal((3, 2)).astype("float32")
    model.save(tmp_path / "netknit.keras")
    theirs = keras.models.load_model(tmp_path / "netknit.keras")
    np.testing.assert_array_equal(theirs.predict(x, verbose=0), model.predict(x, verbose=0))
    theirs.save(tmp_path / "keras.keras")
    back = netknit.models.load_model(tmp_path / "keras.keras")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.layers[1].bin_boundaries == layer.bin_boundaries


# ---------------------------------------------------------------------- RandomCrop

CROPS = [  # (height, width), image shape without the batch axis, data format
    ((3, 4), (2, 3, 1), "channels_last"),  # smaller than the target
    ((4, 4), (8, 3, 2), "channels_last"),  # narrower
    ((3, 4), (5, 4, 2), "channels_last"),  # as wide
    ((3, 4), (3, 7, 2), "channels_last"),  # as high
    ((3, 4), (2, 5, 3), "channels_first"),
    ((6, 6), (3, 4, 5), "channels_first"),
]


@pytest.mark.parametrize("size, shape, data_format", CROPS)
def test_random_crop_matches_keras_where_keras_does_not_draw(size, shape, data_format):
    # An image not larger than the target on both sides is cropped and resized deterministically.
    theirs = keras.layers.RandomCrop(*size, seed=1, data_format=data_format)
    ours = netknit.layers.RandomCrop(*size, seed=1, data_format=data_format)
    x = np.random.default_rng(0).standard_normal((2,) + shape).astype("float32")
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(x), training=True)),
                               _numpy(theirs(x, training=True)), rtol=1e-5, atol=1e-6)
    assert ours(netknit.Input(shape)).shape == tuple(theirs(keras.Input(shape)).shape)
    _same_config(ours, theirs)


@pytest.mark.parametrize("size, shape, data_format", CROPS + [((3, 4), (6, 7, 2), "channels_last")])
def test_random_crop_inference_is_keras_s_documented_centre_crop(size, shape, data_format):
    # Keras 3.15.1's RandomCrop returns images uncropped in inference, against its docs and its
    # own output shape; it computes the documented window (get_random_transformation), and its
    # Resizing(crop_to_aspect_ratio=True) crops and resizes exactly so.
    theirs = keras.layers.RandomCrop(*size, data_format=data_format)
    reference = keras.layers.Resizing(*size, crop_to_aspect_ratio=True, data_format=data_format)
    ours = netknit.layers.RandomCrop(*size, data_format=data_format)
    x = np.random.default_rng(0).standard_normal((2,) + shape).astype("float32")
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(x), training=False)),
                               _numpy(reference(x)), rtol=1e-5, atol=1e-6)
    spatial = shape[:2] if data_format == "channels_last" else shape[1:]
    top, left = theirs.get_random_transformation(x, training=False)
    assert ours._centred_crop(*spatial)[:2] == (top, left)


def test_random_crop_moves_both_ways(tmp_path):
    inputs = netknit.Input((6, 7, 2))
    model = netknit.Model(inputs, netknit.layers.RandomCrop(3, 4, seed=3)(inputs))
    model.save(tmp_path / "netknit.keras")
    theirs = keras.models.load_model(tmp_path / "netknit.keras")
    assert theirs.output_shape == model.output_shape
    _same_config(model.layers[1], theirs.layers[1])
    theirs.save(tmp_path / "keras.keras")
    back = netknit.models.load_model(tmp_path / "keras.keras")
    assert back.layers[1].get_config() == model.layers[1].get_config()
    x = np.random.default_rng(0).standard_normal((2, 6, 7, 2)).astype("float32")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
