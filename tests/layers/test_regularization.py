"""Noise and regularization layers: identities in inference, Keras's statistics in training."""

import math

import pytest
import torch

import netknit as keras
from netknit import layers


@pytest.mark.parametrize("layer", [layers.GaussianNoise(0.5), layers.GaussianDropout(0.5),
                                   layers.SpatialDropout1D(0.5)], ids=type)
def test_noise_layers_are_identities_in_inference(layer):
    x = torch.randn(4, 5, 3)
    assert layer(x) is x


def test_gaussian_noise_and_dropout_statistics_in_training():
    x = torch.ones(20000)
    noisy = layers.GaussianNoise(0.5)(x, training=True)
    assert abs(noisy.std().item() - 0.5) < 0.02
    dropped = layers.GaussianDropout(0.2)(x, training=True)
    assert abs(dropped.mean().item() - 1) < 0.02
    assert abs(dropped.std().item() - math.sqrt(0.2 / 0.8)) < 0.02


@pytest.mark.parametrize("cls,shape", [(layers.SpatialDropout1D, (8, 6, 5)),
                                       (layers.SpatialDropout2D, (8, 3, 3, 5)),
                                       (layers.SpatialDropout3D, (8, 2, 2, 2, 5))])
def test_spatial_dropout_drops_whole_channels(cls, shape):
    out = cls(0.5)(torch.ones(shape), training=True)
    per_channel = out.flatten(1, -2)  # (batch, positions, channels)
    assert ((per_channel == 0).all(1) | (per_channel == 2).all(1)).all()


def test_activity_regularization_adds_a_per_sample_penalty():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.5)
    x = torch.tensor([[1.0, -2.0], [0.0, 1.0]])
    layer(x)
    torch.testing.assert_close(layer.losses[0], torch.tensor((0.1 * 4 + 0.5 * 6) / 2))


def test_activity_regularization_inside_a_model_reaches_model_losses():
    model = keras.Sequential([keras.Input((2,)), layers.ActivityRegularization(l2=1.0)])
    model(torch.ones(4, 2))
    torch.testing.assert_close(model.losses[0], torch.tensor(2.0))


def test_bad_rates_say_what_was_received():
    with pytest.raises(ValueError, match="rate=1.5"):
        layers.GaussianDropout(1.5)
    with pytest.raises(ValueError, match="stddev=-1"):
        layers.GaussianNoise(-1)
