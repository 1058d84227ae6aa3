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
    # An AttributeError, as in Keras 3.15.1, for each of the graph's attributes.
    for name in ("input", "output", "inputs", "outputs", "input_shape", "output_shape"):
        with pytest.raises(AttributeError, match=f"no {name} yet: its input shape is unknown"):
            getattr(model, name)
    assert not hasattr(model, "input")
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
    # Keras 3.15.1 raises ValueError.
    with pytest.raises(ValueError, match="Only layers can be added.*'dense' \\(of type str\\)"):
        keras.Sequential(["dense"])


def test_add_refuses_a_second_layer_of_the_same_name_and_keeps_the_model():
    # Keras 3.15.1: a ValueError at `add`, deferred or built, and the layer is not added.
    deferred = keras.Sequential([layers.Dense(2, name="a")])
    with pytest.raises(ValueError, match="already has a layer named 'a'"):
        deferred.add(layers.Dense(3, name="a"))
    assert len(deferred.layers) == 1
    built = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="a")])
    with pytest.raises(ValueError, match="already has a layer named 'a'"):
        built.add(layers.Dense(3, name="a"))
    assert len(built.layers) == 1 and built.output_shape == (None, 2)
    built.build((None, 3))  # the same shape again is fine, as in Keras
    with pytest.raises(ValueError, match="already takes inputs of shape \\(None, 3\\)"):
        built.build((None, 5))


def test_pop_of_an_empty_model_is_an_index_error():
    with pytest.raises(IndexError, match="no layers in model"):
        keras.Sequential().pop()
    popped = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    popped.pop()
    assert not popped.built and not hasattr(popped, "inputs")
    popped.add(layers.Dense(4))
    assert popped.output_shape == (None, 4)


def test_build_without_a_shape_keeps_a_model_with_an_input():
    # Keras 3.15.1 accepts `model.build()` on a model that starts with an Input.
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.build()
    assert model.built and model.output_shape == (None, 2)
    # Keras marks a model without an input shape built there, with no graph behind it; netknit
    # says what is missing instead.
    with pytest.raises(ValueError, match="without an input shape"):
        keras.Sequential([layers.Dense(2)]).build()


def test_a_built_model_first_gives_the_input_shape(monkeypatch):
    # Keras 3.15.1 builds `Sequential([base, Dense(1000)])` at once from `base.input_shape`, so
    # the summary has shapes and the frozen base's weights count as non-trainable.
    monkeypatch.setenv("COLUMNS", "80")
    base = keras.Sequential([keras.Input((8,)), layers.Dense(4), layers.BatchNormalization()],
                            name="base")
    base.trainable = False
    model = keras.Sequential([base, layers.Dense(1000)])
    assert model.built and model.output_shape == (None, 1000)
    assert (len(model.trainable_weights), len(model.non_trainable_weights)) == (2, 6)
    printed = []
    model.summary(print_fn=printed.append)
    assert printed[0] == KERAS_FROZEN_BASE_SUMMARY


KERAS_FROZEN_BASE_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ base (Sequential)               │ (None, 4)              │            52 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 1000)           │         5,000 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 5,052 (19.73 KB)
 Trainable params: 5,000 (19.53 KB)
 Non-trainable params: 52 (208.00 B)
"""


def test_a_layer_returning_several_tensors_passes_them_on_as_in_keras():
    # Keras 3.15.1 builds these: the LSTM's output and states are the model's outputs, or the
    # next layer's inputs.
    states = keras.Sequential([keras.Input((5, 3)), layers.LSTM(2, return_state=True)])
    assert states.output_shape == [(None, 2), (None, 2), (None, 2)]
    assert len(states(np.ones((1, 5, 3), "float32"))) == 3
    joined = keras.Sequential([keras.Input((5, 3)), layers.LSTM(2, return_state=True),
                               layers.Concatenate()])
    assert joined.output_shape == (None, 6)
