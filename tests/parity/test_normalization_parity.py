"""Normalization, activation, noise, embedding and masking layers against real Keras 3, live.

Each case builds the same layer in both libraries, copies Keras's weights over with
`get_weights` -> `set_weights`, and compares output shapes, parameter counts, configs (as saved
JSON) and outputs, in inference and, where it differs, in training mode (BatchNormalization's
batch statistics and moving averages). Skipped when Keras is not installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch

import netknit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

# name: (factory, input shape without batch, input dtype)
CASES = {
    "batchnorm": (lambda L: L.BatchNormalization(), (5, 3), "float32"),
    "batchnorm-axis1": (lambda L: L.BatchNormalization(axis=1, momentum=0.9, center=False),
                        (3, 4, 4), "float32"),
    "batchnorm-noscale": (lambda L: L.BatchNormalization(scale=False, epsilon=0.1), (4,),
                          "float32"),
    "layernorm": (lambda L: L.LayerNormalization(), (5, 3), "float32"),
    "layernorm-axes": (lambda L: L.LayerNormalization(axis=[-1, -2], center=False), (3, 4, 2),
                       "float32"),
    "layernorm-epsilon": (lambda L: L.LayerNormalization(epsilon=1e-5, scale=False), (3, 4),
                          "float32"),
    "groupnorm": (lambda L: L.GroupNormalization(groups=2), (5, 4), "float32"),
    "groupnorm-instance": (lambda L: L.GroupNormalization(groups=-1, scale=False), (3, 3, 4),
                           "float32"),
    "groupnorm-axis1": (lambda L: L.GroupNormalization(groups=3, axis=1), (6, 2, 2), "float32"),
    "unitnorm": (lambda L: L.UnitNormalization(), (5, 3), "float32"),
    "rmsnorm": (lambda L: L.RMSNormalization(), (5, 3), "float32"),
    "rmsnorm-axes": (lambda L: L.RMSNormalization(axis=[-2, -1], epsilon=1e-2), (3, 4, 2),
                     "float32"),
    "spectralnorm-dense": (lambda L: L.SpectralNormalization(L.Dense(3)), (4,), "float32"),
    "spectralnorm-conv": (lambda L: L.SpectralNormalization(L.Conv2D(2, 2), power_iterations=3),
                          (5, 5, 3), "float32"),
    "unitnorm-axes": (lambda L: L.UnitNormalization(axis=[1, 2]), (3, 4), "float32"),
    "embedding": (lambda L: L.Embedding(10, 4), (5,), "int32"),
    "embedding-mask": (lambda L: L.Embedding(10, 3, mask_zero=True), (2, 5), "int32"),
    "masking": (lambda L: L.Masking(0.5), (5, 3), "float32"),
    "softmax": (lambda L: L.Softmax(), (5, 3), "float32"),
    "softmax-axes": (lambda L: L.Softmax(axis=[1, 2]), (5, 3), "float32"),
    "relu": (lambda L: L.ReLU(), (6,), "float32"),
    "relu-args": (lambda L: L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.5), (6,),
                  "float32"),
    "leaky-relu": (lambda L: L.LeakyReLU(), (6,), "float32"),
    "leaky-relu-slope": (lambda L: L.LeakyReLU(negative_slope=0.05), (6,), "float32"),
    "prelu": (lambda L: L.PReLU(), (3, 4), "float32"),
    "prelu-shared": (lambda L: L.PReLU(alpha_initializer="ones", shared_axes=[1, 2]), (3, 3, 2),
                     "float32"),
    "elu": (lambda L: L.ELU(alpha=0.5), (6,), "float32"),
    "gaussian-noise": (lambda L: L.GaussianNoise(0.1, seed=3), (6,), "float32"),
    "gaussian-dropout": (lambda L: L.GaussianDropout(0.2), (6,), "float32"),
    "spatial-dropout1d": (lambda L: L.SpatialDropout1D(0.3), (5, 3), "float32"),
    "spatial-dropout2d": (lambda L: L.SpatialDropout2D(0.3, data_format="channels_first"),
                          (2, 3, 3), "float32"),
    "spatial-dropout3d": (lambda L: L.SpatialDropout3D(0.3), (2, 2, 2, 3), "float32"),
    "activity-regularization": (lambda L: L.ActivityRegularization(l1=0.01, l2=0.1), (6,),
                                "float32"),
}


def _data(shape, dtype, seed=0, batch=4):
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        x = rng.integers(0, 10, size=(batch,) + shape)
        x[:, -1] = 0  # trailing padding, for the masks
        return x.astype(dtype)
    x = rng.standard_normal((batch,) + shape).astype("float32")
    return x


def _build_pair(key):
    factory, shape, dtype = CASES[key]
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = factory(keras.layers), factory(netknit.layers)
    their_out = theirs(keras.Input(shape, dtype=dtype))
    our_out = ours(netknit.Input(shape, dtype=dtype))
    weights = theirs.get_weights()
    rng = np.random.default_rng(7)
    # Random weights (positive variances) so that every weight's role is checked.
    weights = [np.abs(rng.standard_normal(w.shape)).astype(w.dtype) + 0.1 for w in weights]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return theirs, ours, their_out, our_out, shape, dtype


def _numpy(t):
    return np.asarray(t.detach().cpu()) if torch.is_tensor(t) else np.asarray(t)


@pytest.mark.parametrize("key", CASES)
def test_shapes_params_config_and_inference_outputs_match_keras(key):
    theirs, ours, their_out, our_out, shape, dtype = _build_pair(key)
    assert our_out.shape == tuple(their_out.shape)
    assert ours.count_params() == theirs.count_params()
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    x = _data(shape, dtype)
    if key == "masking":
        x[:, 1] = 0.5
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(x))), _numpy(theirs(x)),
                               rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("key", ["batchnorm", "batchnorm-axis1", "batchnorm-noscale"])
def test_batchnorm_training_outputs_and_moving_statistics_match_keras(key):
    theirs, ours, _, _, shape, dtype = _build_pair(key)
    for step in range(2):
        x = _data(shape, dtype, seed=step)
        expected = _numpy(theirs(x, training=True))
        got = _numpy(ours(torch.as_tensor(x), training=True))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_frozen_batchnorm_runs_in_inference_mode_as_in_keras():
    theirs, ours, _, _, shape, dtype = _build_pair("batchnorm")
    theirs.trainable = ours.trainable = False
    x = _data(shape, dtype)
    np.testing.assert_allclose(_numpy(ours(torch.as_tensor(x), training=True)),
                               _numpy(theirs(x, training=True)), rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_batchnorm_masked_training_matches_keras():
    theirs, ours, _, _, shape, dtype = _build_pair("batchnorm")
    x = _data(shape, dtype)
    mask = np.ones((4, 5), dtype=bool)
    mask[:, 3:] = False
    expected = _numpy(theirs(x, training=True, mask=mask))
    got = _numpy(ours(torch.as_tensor(x), training=True, mask=torch.as_tensor(mask)))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_activity_regularization_penalty_matches_keras():
    theirs, ours, _, _, shape, dtype = _build_pair("activity-regularization")
    x = _data(shape, dtype)
    theirs(x)
    ours(torch.as_tensor(x))
    np.testing.assert_allclose(float(ours.losses[0]), float(theirs.losses[0]), rtol=1e-5)


@pytest.mark.parametrize("key", ["masking", "embedding-mask"])
def test_masks_match_keras(key):
    theirs, ours, _, _, shape, dtype = _build_pair(key)
    x = _data(shape, dtype)
    if key == "masking":
        x[:, 1] = 0.5
    expected = _numpy(theirs.compute_mask(x, None))
    got = _numpy(ours.compute_mask(torch.as_tensor(x), None))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("key", ["spectralnorm-dense", "spectralnorm-conv"])
def test_spectral_normalization_training_steps_match_keras(key):
    theirs, ours, _, _, shape, dtype = _build_pair(key)
    for step in range(3):
        x = _data(shape, dtype, seed=step)
        expected = _numpy(theirs(x, training=True))
        got = _numpy(ours(torch.as_tensor(x), training=True))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # The normalized kernel and the power iteration's vector, as Keras leaves them.
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_spectral_normalization_weights_file_moves_both_ways(tmp_path):
    factory = CASES["spectralnorm-dense"][0]
    theirs = keras.Sequential([keras.Input((4,)), factory(keras.layers)])
    ours = netknit.Sequential([netknit.Input((4,)), factory(netknit.layers)])
    theirs.save_weights(tmp_path / "k.weights.h5")
    ours.load_weights(tmp_path / "k.weights.h5")
    x = _data((4,), "float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
