"""Sequential: lists, add, pop, Input first, input_shape/input_dim, deferred build, nesting."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def test_add_with_input_dim_and_input_shape():
    model = keras.Sequential()
    model.add(layers.Dense(2, input_dim=1))
    assert model.input_shape == (None, 1) and model.output_shape == (None, 2)
    model.add(layers.Dense(3))
    assert model.output_shape == (None, 3)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    other = keras.Sequential([layers.Dense(4, input_shape=(7,))])
    assert other.input_shape == (None, 7) and other.count_params() == 32


def test_input_first_is_not_a_layer_of_the_model():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"]
    assert model.inputs[0].shape == (None, 4)


def test_pop_removes_the_last_layer_and_rebuilds():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.Dense(3), layers.Dense(1)])
    popped = model.pop()
    assert popped.name == "dense_2"
    assert model.output_shape == (None, 3) and model.count_params() == 40 + 27
    assert len(model.weights) == 4


def test_a_sequential_without_layers_refuses_to_run():
    # After popping its only layer the model used to run that layer still.
    popped = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    popped(torch.zeros(1, 3))
    popped.pop()
    for model in (popped, keras.Sequential([keras.Input((3,))]), keras.Sequential()):
        with pytest.raises(ValueError, match="cannot be built because it has no layers"):
            model(torch.zeros(1, 3))


def test_deferred_build_on_first_call_keeps_the_batch_size_like_keras():
    model = keras.Sequential([layers.Dense(2)])
    assert not model.built
    with pytest.raises(ValueError, match="input shape is unknown"):
        _ = model.input
    out = model(np.zeros((3, 5)))
    assert out.shape == (3, 2) and model.built
    assert model.input_shape == (3, 5) and model.count_params() == 12
    assert model(torch.zeros(7, 5)).shape == (7, 2)  # other batch sizes still run


def test_unbuilt_sequential_summary_and_count_params():
    model = keras.Sequential([layers.Dense(2)])
    printed = []
    model.summary(print_fn=printed.append)
    assert "? " in printed[0] and "0 (unbuilt)" in printed[0]
    with pytest.raises(ValueError, match="not built yet"):
        model.count_params()


def test_sequential_inside_functional_and_shape_mismatch_names_both_models():
    first = keras.Sequential([layers.Dense(64, input_shape=(10,)), layers.Dense(64)], name="first")
    second = keras.Sequential([layers.Dense(16, input_shape=(32,)), layers.Dense(1)], name="second")
    x = keras.Input((10,))
    with pytest.raises(keras.ShapeError) as info:
        second(first(x))
    message = str(info.value)
    assert "'second' (Sequential)" in message
    assert "expects input (None, 32)" in message and "received (None, 64)" in message
    assert "produced by layer 'first' (Sequential)" in message
    assert "Dense(32)" in message


def test_adding_an_incompatible_layer_fails_at_add_time():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    with pytest.raises(keras.ShapeError, match="RepeatVector"):
        model.add(layers.RepeatVector(2))
        model.add(layers.RepeatVector(2))


def test_only_layers_can_be_added():
    with pytest.raises(TypeError, match="Only layers can be added"):
        keras.Sequential(["dense"])
