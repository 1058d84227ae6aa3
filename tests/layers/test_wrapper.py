"""Wrapper, the base of TimeDistributed and SpectralNormalization: a user's own wrapper gets the
wrapped layer built, listed, saved in its config and rebuilt on load."""

import numpy as np
import pytest
import torch
from torch import nn

import netknit as keras
from netknit import layers


class Twice(layers.Wrapper):
    """Applies its layer twice: `layer(layer(x))`."""

    def forward(self, inputs):
        return nn.Module.__call__(self.layer, nn.Module.__call__(self.layer, inputs))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(self.layer.compute_output_shape(input_shape))


def test_a_wrapper_builds_lists_and_applies_its_layer():
    wrapper = Twice(layers.Dense(3))
    assert wrapper(keras.Input((3,))).shape == (None, 3)
    assert wrapper.layer.built
    assert [tuple(w.shape) for w in wrapper.weights] == [(3, 3), (3,)]
    x = torch.randn(2, 3)
    torch.testing.assert_close(wrapper(x), wrapper.layer(wrapper.layer(x)))


def test_a_wrapper_s_config_holds_its_built_layer():
    wrapper = Twice(layers.Dense(3), name="twice")
    wrapper(keras.Input((3,)))
    config = wrapper.get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert config["layer"]["build_config"] == {"input_shape": (None, 3)}
    clone = Twice.from_config(config)
    assert clone.layer.built and clone.layer.units == 3
    clone.set_weights(wrapper.get_weights())
    x = torch.randn(4, 3)
    torch.testing.assert_close(clone(x), wrapper(x))


def test_a_model_with_a_wrapper_saves_and_loads(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, Twice(layers.Dense(3))(inputs))
    model.save(tmp_path / "twice.keras")
    loaded = keras.models.load_model(tmp_path / "twice.keras", custom_objects={"Twice": Twice})
    x = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_the_wrappers_are_wrappers():
    assert issubclass(layers.TimeDistributed, layers.Wrapper)
    assert issubclass(layers.SpectralNormalization, layers.Wrapper)
    with pytest.raises(ValueError, match="TimeDistributed wraps a Layer"):
        layers.TimeDistributed(torch.nn.Linear(2, 2))
