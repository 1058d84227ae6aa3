"""Convolution, pooling and spatial reshaping layers against real Keras 3, live.

Each case builds the same layer in both, copies Keras's weights over with `get_weights` →
`set_weights`, and compares output shapes, parameter counts, config keys and values, and outputs.
Skipped when Keras is not installed.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import netknit  # noqa: E402

# Keras's own NumPy-2 deprecation warnings are not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

CASES = [
    ("Conv1D", {"filters": 3, "kernel_size": 3}, (7, 2)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (9, 2)),
    ("Conv1D", {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same"}, (10, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": (3, 3), "activation": "relu"}, (6, 5, 2)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (6, 7, 2)),
    ("Conv2D", {"filters": 3, "kernel_size": 2, "padding": "same"}, (5, 5, 2)),
    ("Conv2D", {"filters": 4, "kernel_size": (2, 3), "strides": (2, 1), "padding": "same"},
     (5, 6, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2, "use_bias": False}, (5, 5, 4)),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
     (7, 7, 1)),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                "data_format": "channels_first"}, (3, 6, 5)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same"}, (3, 4, 5, 2)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2}, (4, 3)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
     (4, 3, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1},
     (3, 4, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same",
                         "output_padding": 1}, (3, 3, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3}, (3, 3, 1)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same",
                         "data_format": "channels_first"}, (2, 4, 4)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2}, (2, 2, 2, 1)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, (5, 5, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "padding": "same"}, (6, 6, 2)),
    ("DepthwiseConv1D", {"kernel_size": 2, "depth_multiplier": 3}, (5, 2)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, (5, 5, 3)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
     (6, 5, 2)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "padding": "same"}, (6, 2)),
    ("MaxPooling1D", {}, (7, 2)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (8, 2)),
    ("MaxPooling2D", {}, (6, 6, 3)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 6, 2)),
    ("MaxPooling2D", {"pool_size": 2, "strides": 1, "padding": "same"}, (4, 4, 2)),
    ("MaxPooling2D", {"pool_size": (2, 3), "data_format": "channels_first"}, (2, 6, 6)),
    ("MaxPooling3D", {"pool_size": 2}, (4, 4, 4, 2)),
    ("AveragePooling1D", {"pool_size": 2}, (7, 2)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (6, 2)),
    ("AveragePooling2D", {"pool_size": 2, "strides": 2, "padding": "same"}, (5, 5, 2)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": "same"}, (4, 5, 2)),
    ("AveragePooling2D", {"pool_size": 2, "strides": 1, "padding": "same"}, (4, 4, 2)),
    ("AveragePooling2D", {"pool_size": 4, "strides": 1, "padding": "same"}, (5, 6, 2)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (6, 2)),
    ("AveragePooling3D", {"pool_size": 2}, (4, 4, 4, 1)),
    ("GlobalAveragePooling1D", {}, (5, 3)),
    ("GlobalAveragePooling2D", {"keepdims": True}, (4, 5, 3)),
    ("GlobalAveragePooling2D", {"data_format": "channels_first"}, (3, 4, 5)),
    ("GlobalAveragePooling3D", {}, (2, 3, 4, 2)),
    ("GlobalMaxPooling1D", {"keepdims": True}, (5, 3)),
    ("GlobalMaxPooling2D", {}, (4, 5, 3)),
    ("GlobalMaxPooling3D", {}, (2, 3, 4, 2)),
    ("AdaptiveAveragePooling1D", {"output_size": 3}, (8, 2)),
    ("AdaptiveAveragePooling1D", {"output_size": 5, "data_format": "channels_first"}, (2, 3)),
    ("AdaptiveAveragePooling2D", {"output_size": (2, 3)}, (5, 7, 2)),
    ("AdaptiveAveragePooling2D", {"output_size": 4, "data_format": "channels_first"}, (2, 5, 7)),
    ("AdaptiveAveragePooling3D", {"output_size": (2, 3, 2)}, (3, 5, 4, 2)),
    ("AdaptiveMaxPooling1D", {"output_size": 4}, (6, 2)),
    ("AdaptiveMaxPooling2D", {"output_size": (4, 4)}, (3, 5, 2)),
    ("AdaptiveMaxPooling2D", {"output_size": (3, 2), "data_format": "channels_first"},
     (2, 7, 5)),
    ("AdaptiveMaxPooling3D", {"output_size": (1, 2, 3)}, (2, 3, 4, 2)),
    ("ZeroPadding1D", {"padding": (1, 2)}, (4, 3)),
    ("ZeroPadding1D", {"padding": 1, "data_format": "channels_first"}, (3, 4)),
    ("ZeroPadding2D", {"padding": ((1, 2), (0, 1))}, (3, 4, 2)),
    ("ZeroPadding2D", {"padding": (1, 2), "data_format": "channels_first"}, (2, 3, 4)),
    ("Cropping1D", {"cropping": (1, 2)}, (6, 2)),
    ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, (5, 6, 2)),
    ("Cropping2D", {"cropping": 1, "data_format": "channels_first"}, (2, 5, 4)),
    ("UpSampling1D", {"size": 3}, (4, 2)),
    ("UpSampling2D", {}, (3, 4, 2)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (3, 4, 2)),
    ("UpSampling2D", {"size": 3, "interpolation": "bilinear", "data_format": "channels_first"},
     (2, 3, 3)),
    ("ZeroPadding3D", {}, (2, 3, 4, 2)),
    ("ZeroPadding3D", {"padding": (1, 2, 0)}, (2, 3, 4, 2)),
    ("ZeroPadding3D", {"padding": ((1, 0), (0, 2), (3, 1)), "data_format": "channels_first"},
     (2, 3, 4, 2)),
    ("Cropping3D", {}, (4, 5, 6, 2)),
    ("Cropping3D", {"cropping": ((1, 0), (0, 2), (1, 1))}, (4, 5, 6, 2)),
    ("Cropping3D", {"cropping": 1, "data_format": "channels_first"}, (2, 4, 5, 6)),
    ("UpSampling3D", {}, (2, 3, 4, 2)),
    ("UpSampling3D", {"size": (1, 2, 3), "data_format": "channels_first"}, (2, 3, 4, 2)),
]

# Keras's initializer configs carry keys of its own (input_axes, ...); those are compared elsewhere.
_SKIP_VALUES = ("initializer",)


def _build_both(name, kwargs, input_shape):
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = getattr(netknit.layers, name)(**kwargs)
    their_out = theirs(keras.Input(shape=input_shape))
    our_out = ours(netknit.Input(shape=input_shape))
    return theirs, ours, their_out, our_out


@pytest.mark.parametrize("name,kwargs,input_shape", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_keras(name, kwargs, input_shape):
    theirs, ours, their_out, our_out = _build_both(name, kwargs, input_shape)
    assert our_out.shape == tuple(their_out.shape)
    assert ours.count_params() == theirs.count_params()

    their_config, our_config = theirs.get_config(), ours.get_config()
    assert list(our_config) == list(their_config)
    for key, value in their_config.items():
        if key != "name" and not key.endswith(_SKIP_VALUES):
            assert our_config[key] == value, key

    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    x = rng.standard_normal((2,) + input_shape).astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    got = ours(x).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
