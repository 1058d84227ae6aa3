"""to_categorical and normalize give what Keras 3 gives (values recorded from Keras 3.15)."""

import numpy as np
import pytest
import torch

import netknit as keras


def test_to_categorical_like_keras():
    out = keras.utils.to_categorical([0, 2, 1])
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert out.dtype == np.float64
    column = keras.utils.to_categorical(np.array([[1], [0]]), num_classes=3)
    assert column.shape == (2, 3)  # the trailing axis of size 1 is dropped
    with pytest.raises(ValueError, match="labels in \\[0, 2\\)"):
        keras.utils.to_categorical([0, 2], num_classes=2)


def test_normalize_like_keras():
    np.testing.assert_allclose(keras.utils.normalize(np.array([[3.0, 4.0]])), [[0.6, 0.8]])
    np.testing.assert_array_equal(keras.utils.normalize(np.zeros((1, 2))), [[0.0, 0.0]])


def test_normalize_keeps_numpy_dtypes_and_gives_tensors_for_other_inputs():
    # Keras 3.15.1: float32 NumPy in, float32 NumPy out; a list or a tensor gives a float32
    # backend tensor.
    out = keras.utils.normalize(np.array([[3.0, 4.0]], dtype="float32"))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    for given in ([[3.0, 4.0]], torch.tensor([[3.0, 4.0]])):
        out = keras.utils.normalize(given)
        assert torch.is_tensor(out) and out.dtype == torch.float32
        np.testing.assert_allclose(out.numpy(), [[0.6, 0.8]], rtol=1e-6)


def test_to_categorical_of_a_tensor_is_a_tensor():
    # Keras 3.15.1 (torch backend) returns torch's one-hot encoding, int64.
    out = keras.utils.to_categorical(torch.tensor([[0], [2]]), num_classes=3)
    assert torch.is_tensor(out) and out.dtype == torch.int64
    np.testing.assert_array_equal(out.numpy(), [[1, 0, 0], [0, 0, 1]])
