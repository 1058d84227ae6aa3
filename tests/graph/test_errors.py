"""Shape errors that teach: raised while the graph is built, naming layers, shapes and a fix."""

import pytest

import netknit as keras
from netknit import layers


def test_add_of_different_sizes_suggests_a_dense_projection():
    a, b = keras.Input((10,)), keras.Input((5,))
    x = layers.Dense(32, name="wide")(a)
    y = layers.Dense(16, name="narrow")(b)
    with pytest.raises(keras.ShapeError) as info:
        layers.Add()([x, y])
    message = str(info.value)
    assert "'add' (Add)" in message
    assert "(None, 32) and (None, 16) do not" in message
    assert "input 0: (None, 32), produced by layer 'wide' (Dense)" in message
    assert "input 1: (None, 16), produced by layer 'narrow' (Dense)" in message
    assert "Dense(32) on input 1" in message


def test_multiply_of_different_sizes():
    a, b = keras.Input((4,)), keras.Input((6,))
    with pytest.raises(keras.ShapeError, match="(?s)Multiply combines.*Dense\\(6\\) on input 0"):
        layers.Multiply()([a, b])


def test_dense_on_4d_tensor_merged_with_vector_explains_flatten():
    image = keras.Input((8, 8, 3))
    vector = keras.Input((16,))
    projected = layers.Dense(16, name="project")(image)  # Dense works on the last axis
    assert projected.shape == (None, 8, 8, 16)
    with pytest.raises(keras.ShapeError) as info:
        layers.concatenate([projected, vector])
    message = str(info.value)
    assert "ranks differ (4-D and 2-D)" in message
    assert "(None, 8, 8, 16), produced by layer 'project' (Dense)" in message
    assert "Flatten() or Reshape((1024,))" in message and "(None, 1024)" in message


def test_shape_error_is_a_value_error_and_raised_at_construction():
    assert issubclass(keras.ShapeError, ValueError)
    a = keras.Input((3, 2))
    with pytest.raises(ValueError):
        layers.Concatenate()([a, keras.Input((4, 5))])


def test_concatenate_non_axis_mismatch_names_the_axis():
    with pytest.raises(keras.ShapeError, match="axis 1 is 2 in input 0 .* and 4 in input 1"):
        layers.Concatenate()([keras.Input((2, 3)), keras.Input((4, 5))])


def test_merge_called_on_single_tensor():
    with pytest.raises(keras.ShapeError, match="list of at least 1 tensors; it was called on a "
                       "single tensor \\(None, 3\\)"):
        layers.Add()(keras.Input((3,)))


def test_unknown_identifiers_suggest_the_nearest():
    with pytest.raises(ValueError, match="Unknown activation: 'sigmod'. Did you mean 'sigmoid'"):
        keras.activations.get("sigmod")
