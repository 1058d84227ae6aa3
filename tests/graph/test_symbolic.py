"""Symbolic tensors as Keras's KerasTensor shows them."""

import pytest
import torch

import netknit as keras


def test_dtype_reads_as_keras_name_and_equals_the_torch_dtype():
    inputs = keras.Input((3,), dtype="int32")
    assert inputs.dtype == "int32" and inputs.dtype == torch.int32 and torch.int32 == inputs.dtype
    assert isinstance(inputs.dtype, str) and str(inputs.dtype) == "int32"
    assert inputs.dtype.torch is torch.int32 and not inputs.dtype.is_floating_point
    outputs = keras.layers.Dense(2)(keras.Input((3,)))
    assert outputs.dtype == "float32" and outputs.dtype != "float16"
    assert "dtype=float32" in repr(outputs)


def test_keras_history_names_the_layer_its_call_and_the_output():
    # Keras: KerasHistory(operation, node_index, tensor_index), node 1 for a layer's second call.
    inputs = keras.Input((2,))
    dense = keras.layers.Dense(2)
    dense(inputs)
    second = dense(inputs)
    assert tuple(second._keras_history) == (dense, 1, 0)
    assert inputs._keras_history.operation.name == inputs.name
    lstm_outputs = keras.layers.LSTM(3, return_state=True)(keras.Input((4, 2)))
    assert [t._keras_history.tensor_index for t in lstm_outputs] == [0, 1, 2]


def test_input_shape_must_be_a_tuple_as_in_keras():
    with pytest.raises(ValueError, match=r"Cannot convert '4' to a shape.*shape=\(4,\)"):
        keras.Input(shape=4)
