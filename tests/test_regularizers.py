"""Regularizers: penalties checked against numbers computed with real Keras 3.15.1."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import regularizers

W = torch.tensor([[1.0, 0.0, 2.0], [0.5, -1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.3, -0.2]])


@pytest.mark.parametrize("mode, expected", [("rows", 0.043887849897146225),
                                            ("columns", 0.04703565314412117)])
def test_orthogonal_regularizer_as_keras(mode, expected):
    regularizer = regularizers.OrthogonalRegularizer(0.1, mode)
    assert float(regularizer(W)) == pytest.approx(expected, rel=1e-6)
    # Keras keeps the factor as a float32 tensor, so its config holds the float32 value.
    assert regularizer.get_config() == {"factor": 0.10000000149011612, "mode": mode}


def test_orthogonal_regularizer_by_name_and_in_a_layer():
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    layer = keras.layers.Dense(3, kernel_regularizer="orthogonal_regularizer")
    model = keras.Sequential([keras.Input((4,)), layer])
    layer.set_weights([W.numpy(), np.zeros(3, "float32")])
    model(np.ones((2, 4), "float32"))
    penalties = [float(v.detach()) for v in model.losses]
    assert penalties == pytest.approx([0.0043887849897146225], rel=1e-6)
    config = layer.get_config()["kernel_regularizer"]
    assert config == {"module": "keras.regularizers", "class_name": "OrthogonalRegularizer",
                      "config": {"factor": 0.009999999776482582, "mode": "rows"},
                      "registered_name": None}
    rebuilt = regularizers.get(config)
    assert isinstance(rebuilt, regularizers.OrthogonalRegularizer)
    assert rebuilt.get_config() == config["config"]


def test_orthogonal_regularizer_checks_its_arguments():
    with pytest.raises(ValueError, match="mode='diagonal'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="factor=-1"):
        regularizers.OrthogonalRegularizer(factor=-1)
    with pytest.raises(ValueError, match=r"shape \(2, 2, 2\)"):
        regularizers.OrthogonalRegularizer()(torch.ones(2, 2, 2))
