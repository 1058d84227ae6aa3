"""Activation layers: values at the edges, masks, learned slopes and argument checks."""

import pytest
import torch

import netknit as keras
from netknit import layers


def test_relu_options():
    x = torch.tensor([-2.0, 0.5, 1.0, 8.0])
    out = layers.ReLU(max_value=6.0, negative_slope=0.5, threshold=1.0)(x)
    torch.testing.assert_close(out, torch.tensor([-1.5, -0.25, 0.0, 6.0]))  # Keras: 0 at threshold


def test_leaky_relu_default_slope_is_keras_0_3():
    assert layers.LeakyReLU().negative_slope == 0.3
    torch.testing.assert_close(layers.LeakyReLU()(torch.tensor([-1.0])), torch.tensor([-0.3]))


def test_elu_and_softmax_axes():
    torch.testing.assert_close(layers.ELU(alpha=2.0)(torch.tensor([-1e9])), torch.tensor([-2.0]))
    out = layers.Softmax(axis=[1, 2])(torch.zeros(1, 2, 2))
    torch.testing.assert_close(out, torch.full((1, 2, 2), 0.25))


def test_softmax_mask_gives_zero_probability():
    out = layers.Softmax()(torch.zeros(1, 3), mask=torch.tensor([[True, True, False]]))
    torch.testing.assert_close(out, torch.tensor([[0.5, 0.5, 0.0]]))


def test_prelu_learns_one_slope_per_shared_group():
    layer = layers.PReLU(alpha_initializer="ones", shared_axes=[1])
    layer(keras.Input((5, 3)))
    assert layer.get_weights()[0].shape == (1, 3)
    torch.testing.assert_close(layer(torch.full((1, 5, 3), -2.0)), torch.full((1, 5, 3), -2.0))


def test_elementwise_activations_pass_masks_on():
    inputs = keras.Input((4,), dtype="int64")
    x = layers.Embedding(5, 2, mask_zero=True)(inputs)
    for layer in (layers.ReLU(), layers.LeakyReLU(), layers.ELU(), layers.PReLU(),
                  layers.Softmax()):
        assert layer(x).has_mask


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="max_value=-1"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope=-0.1"):
        layers.LeakyReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="shared_axes"):
        layers.PReLU(shared_axes=[0])
