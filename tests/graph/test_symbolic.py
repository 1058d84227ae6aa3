"""Symbolic tensors as Keras's KerasTensor shows them."""

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
