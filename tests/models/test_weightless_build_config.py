"""Which layers without weights record a `build_config` in a saved model's config: those Keras
builds when made (Dropout, Activation, pooling, Reshape, ...) none, every other one the shapes
of its first call (Flatten, Rescaling, Discretization, a user's call-only layer)."""

import pytest

import netknit as keras
from netknit import layers


class _Doubles(layers.Layer):
    def forward(self, x):
        return x * 2


CASES = [
    (lambda: layers.Flatten(), (3, 4), [None, 3, 4]),
    (lambda: layers.Discretization(bin_boundaries=[0.0, 1.0]), (3,), [None, 3]),
    (lambda: layers.Permute((2, 1)), (3, 4), [None, 3, 4]),
    (lambda: layers.RepeatVector(2), (3,), [None, 3]),
    (lambda: layers.Cropping1D(1), (4, 3), [None, 4, 3]),
    (lambda: layers.ZeroPadding2D(1), (4, 4, 3), [None, 4, 4, 3]),
    (lambda: layers.UpSampling2D(2), (4, 4, 3), [None, 4, 4, 3]),
    (lambda: layers.CategoryEncoding(4), (3,), [None, 3]),
    (lambda: layers.Rescaling(0.5), (3,), [None, 3]),
    (lambda: layers.Resizing(2, 2), (4, 4, 3), [None, 4, 4, 3]),
    (lambda: layers.CenterCrop(2, 2), (4, 4, 3), [None, 4, 4, 3]),
    (lambda: layers.RandomFlip(), (4, 4, 3), [None, 4, 4, 3]),
    (lambda: layers.Lambda(lambda x: x), (3,), [None, 3]),
    (lambda: _Doubles(), (3,), [None, 3]),
    (lambda: layers.Dropout(0.5), (3,), None),
    (lambda: layers.Activation("relu"), (3,), None),
    (lambda: layers.Reshape((4, 3)), (3, 4), None),
    (lambda: layers.Identity(), (3,), None),
    (lambda: layers.MaxPooling2D(2), (4, 4, 3), None),
    (lambda: layers.GlobalAveragePooling1D(), (4, 3), None),
    (lambda: layers.GaussianNoise(0.1), (3,), None),
    (lambda: layers.ReLU(), (3,), None),
    (lambda: layers.Masking(), (4, 3), None),
    (lambda: layers.UnitNormalization(), (3,), None),
]


def _recorded(entry):
    build_config = entry.get("build_config")
    return None if build_config is None else list(build_config["input_shape"])


@pytest.mark.parametrize("make, shape, expected", CASES)
def test_build_config_in_sequential_and_functional(make, shape, expected):
    sequential = keras.Sequential([keras.Input(shape), make()])
    assert _recorded(sequential.get_config()["layers"][1]) == expected
    inputs = keras.Input(shape)
    functional = keras.Model(inputs, make()(inputs))
    assert _recorded(functional.get_config()["layers"][1]) == expected


@pytest.mark.parametrize("make, shape, expected", CASES[:12] + CASES[14:])
def test_build_config_matches_keras(make, shape, expected, real_keras):
    layer = make()
    theirs = real_keras.layers.deserialize(layers.serialize(layer))
    model = real_keras.Sequential([real_keras.Input(shape), theirs])
    assert _recorded(model.get_config()["layers"][1]) == expected
