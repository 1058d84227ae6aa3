"""Merging layers' configs as Keras writes them."""

import numpy as np

import netknit as keras


def test_dot_keeps_its_axes_as_given():
    # Keras 3.15.1: Dot(axes=1).get_config()["axes"] == 1; a pair stays a pair.
    assert keras.layers.Dot(axes=1).get_config()["axes"] == 1
    assert keras.layers.Dot(axes=(2, 2)).get_config()["axes"] == (2, 2)
    dot = keras.layers.Dot.from_config(keras.layers.Dot(axes=-1).get_config())
    out = dot([np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")])
    np.testing.assert_allclose(out.numpy(), [[6.0], [6.0]])
