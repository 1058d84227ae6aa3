"""keras.layers.serialize / deserialize, with the entries Keras 3.15.1 writes."""

import pytest
import torch

import netknit as keras


def test_serialize_gives_keras_entry_without_build_config_until_built():
    entry = keras.layers.serialize(keras.layers.Dense(3, name="d"))
    assert entry["module"] == "keras.layers"
    assert entry["class_name"] == "Dense"
    assert entry["registered_name"] is None
    assert entry["config"]["units"] == 3
    assert "build_config" not in entry


def test_layer_built_by_hand_records_its_build_shape_and_comes_back_built():
    dense = keras.layers.Dense(3)
    dense.build((None, 2))
    entry = keras.layers.serialize(dense)
    assert entry["build_config"] == {"input_shape": (None, 2)}  # as Keras writes it
    rebuilt = keras.layers.deserialize(entry)
    assert rebuilt.built and tuple(rebuilt.kernel.shape) == (2, 3)


def test_eager_call_records_the_batch_shape_it_was_built_for():
    dense = keras.layers.Dense(3)
    dense(torch.ones(4, 2))
    assert keras.layers.serialize(dense)["build_config"] == {"input_shape": (4, 2)}


def test_deserialize_uses_custom_objects():
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    entry = keras.layers.serialize(Scale(3.0))
    layer = keras.layers.deserialize(entry, custom_objects={"Scale": Scale})
    assert isinstance(layer, Scale) and layer.factor == 3.0


def test_deserialize_rejects_what_is_not_a_config():
    with pytest.raises(TypeError, match="layer config dict"):
        keras.layers.deserialize("dense")
    with pytest.raises(TypeError, match="expects a layer"):
        keras.layers.serialize("dense")
