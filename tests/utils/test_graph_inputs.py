"""`get_source_inputs` finds the Input tensors behind a symbolic tensor, as Keras's does."""

import pytest

import netknit as keras
from netknit import layers


def test_sources_of_a_merged_branch_in_order():
    a, b, unused = keras.Input((3,)), keras.Input((3,)), keras.Input((3,))
    merged = layers.Dense(2)(layers.Concatenate()([a, layers.Dense(3)(b)]) * 2)
    sources = keras.utils.get_source_inputs(merged)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert keras.utils.get_source_inputs(unused)[0] is unused


def test_a_real_tensor_is_refused():
    with pytest.raises(TypeError, match="symbolic tensor"):
        keras.utils.get_source_inputs([1, 2])


def test_registered_objects_are_found_by_name():
    @keras.saving.register_keras_serializable(package="tests")
    class Marker(layers.Layer):
        pass

    assert keras.utils.get_registered_object("tests>Marker") is Marker
    assert keras.saving.get_registered_object("Other", module_objects={"Other": 1}) == 1
    assert keras.saving.get_registered_object("Missing") is None
