"""Activation functions: values checked against numbers computed with real Keras 3.15.1."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import activations

X = torch.tensor([[-2.0, -0.7, -0.3, 0.0, 0.4, 0.5, 1.2, 3.0]])


@pytest.mark.parametrize("name, kwargs, expected", [
    ("hard_shrink", {}, [-2.0, -0.7, 0.0, 0.0, 0.0, 0.0, 1.2, 3.0]),
    ("hard_shrink", {"threshold": 1.0}, [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.2, 3.0]),
    ("soft_shrink", {}, [-1.5, -0.2, 0.0, 0.0, 0.0, 0.0, 0.7, 2.5]),
    ("soft_shrink", {"threshold": 1.0}, [-1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 2.0]),
    ("sparse_sigmoid", {}, [0.0, 0.15, 0.35, 0.5, 0.7, 0.75, 1.0, 1.0]),
    ("threshold", {"threshold": 0.4, "default_value": -5.0},
     [-5.0, -5.0, -5.0, -5.0, -5.0, 0.5, 1.2, 3.0]),
])
def test_values_as_keras(name, kwargs, expected):
    fn = activations.get(name)
    assert fn is getattr(activations, name) and activations.serialize(fn) == name
    np.testing.assert_allclose(fn(X, **kwargs)[0].numpy(), expected, rtol=1e-6, atol=1e-7)


def test_sparsemax_projects_onto_the_simplex():
    # Keras 3.15.1 agrees where one entry takes all the mass.
    one_hot = activations.sparsemax(torch.tensor([[-0.5, 0, 1, 2, 3], [0.1, 0.1, 5.0, 0.2, 0.3]]))
    np.testing.assert_array_equal(one_hot.numpy(), [[0, 0, 0, 0, 1], [0, 0, 1, 0, 0]])
    # Where several entries share it, Keras 3.15.1 gives [0, 0, 0.25] (a sum of 0.25): its
    # threshold adds up every partial sum of the support (keras-team/keras#23425, fixed after
    # 3.15.1). This is the projection: [0, 0.25, 0.75].
    shared = activations.sparsemax(torch.tensor([[0.0, 0.5, 1.0]]))
    np.testing.assert_allclose(shared.numpy(), [[0.0, 0.25, 0.75]])
    x = torch.randn(4, 3, 6, generator=torch.Generator().manual_seed(0))
    for axis in (-1, 1, 0):
        out = activations.sparsemax(x, axis=axis)
        torch.testing.assert_close(out.sum(dim=axis), torch.ones(out.sum(dim=axis).shape))
        assert (out >= 0).all()


def test_activations_by_name_in_layers():
    layer = keras.layers.Dense(3, activation="sparse_sigmoid")
    assert layer.get_config()["activation"] == "sparse_sigmoid"
    assert keras.layers.Activation("sparsemax")(torch.tensor([[0.0, 0.5, 1.0]])).sum() == 1
