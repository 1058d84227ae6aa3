"""`keras.backend` helpers and `keras.device`."""

import pytest
import torch

import netknit as keras


def test_device_scope_places_new_tensors_and_weights():
    with keras.device("cpu") as chosen:
        assert chosen == torch.device("cpu")
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    assert layer.kernel.device.type == "cpu"
    with keras.device("meta"):  # any torch device name works, as in Keras's torch backend
        assert keras.ops.ones((2,)).device.type == "meta"
    assert torch.ones(1).device.type == "cpu"


def test_device_needs_a_name():
    with pytest.raises(ValueError, match="'gpu:0' or 'cpu'"):
        with keras.device(0):
            pass
