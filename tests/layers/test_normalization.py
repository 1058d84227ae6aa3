"""Normalization layers: training vs inference, moving statistics, masks, axes and errors."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def _x(*shape, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).standard_normal(shape).astype("float32"))


def test_batchnorm_inference_uses_moving_statistics():
    layer = layers.BatchNormalization(epsilon=0.0)
    layer.build((None, 2))
    layer.set_weights([np.array([2.0, 1.0]), np.array([0.5, 0.0]), np.array([1.0, -1.0]),
                       np.array([4.0, 1.0])])
    out = layer(torch.tensor([[3.0, 0.0]]))
    torch.testing.assert_close(out, torch.tensor([[2.5, 1.0]]))


def test_batchnorm_training_uses_batch_statistics_and_updates_moving_ones():
    layer = layers.BatchNormalization(momentum=0.5, epsilon=0.0, center=False, scale=False)
    x = torch.tensor([[1.0], [3.0]])
    out = layer(x, training=True)
    torch.testing.assert_close(out, torch.tensor([[-1.0], [1.0]]))
    mean, variance = layer.get_weights()
    # moving = moving * momentum + batch * (1 - momentum), with the biased batch variance.
    np.testing.assert_allclose(mean, [0.0 * 0.5 + 2.0 * 0.5])
    np.testing.assert_allclose(variance, [1.0 * 0.5 + 1.0 * 0.5])


def test_frozen_batchnorm_stays_in_inference_mode():
    layer = layers.BatchNormalization()
    layer(_x(4, 3))
    layer.trainable = False
    before = layer.get_weights()
    layer(_x(4, 3) + 5, training=True)
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert layer.non_trainable_weights and not layer.trainable_weights


def test_batchnorm_weight_order_and_kinds_follow_keras():
    layer = layers.BatchNormalization()
    layer.build((None, 3))
    assert [tuple(w.shape) for w in layer.weights] == [(3,)] * 4
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    assert set(dict(layer.named_buffers())) == {"moving_mean", "moving_variance"}


def test_batchnorm_masked_steps_do_not_count():
    layer = layers.BatchNormalization(momentum=0.0, center=False, scale=False)
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[True, True, False]])
    layer(x, training=True, mask=mask)
    np.testing.assert_allclose(layer.get_weights()[0], [2.0], rtol=1e-5)


def test_batchnorm_channels_first_normalizes_axis_1():
    layer = layers.BatchNormalization(axis=1)
    x = _x(2, 3, 4, 4)
    out = layer(x, training=True)
    torch.testing.assert_close(out.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)


def test_layernorm_normalizes_each_sample_over_any_axes():
    x = _x(2, 3, 4)
    out = layers.LayerNormalization(axis=[1, 2], epsilon=0.0)(x)
    torch.testing.assert_close(out.mean((1, 2)), torch.zeros(2), atol=1e-5, rtol=0)
    middle = layers.LayerNormalization(axis=1, epsilon=0.0)(x)
    torch.testing.assert_close(middle.std(1, unbiased=False), torch.ones(2, 4), atol=1e-4,
                               rtol=0)


def test_layernorm_rms_scaling_is_deprecated_as_in_keras():
    with pytest.warns(UserWarning, match="deprecated"):
        layer = layers.LayerNormalization(rms_scaling=True)
    layer(_x(2, 4))
    assert [w.shape for w in layer.get_weights()] == [(4,)]


def test_groupnorm_instance_mode_sets_groups_to_channels():
    layer = layers.GroupNormalization(groups=-1)
    layer(keras.Input((5, 4)))
    assert layer.get_config()["groups"] == 4


def test_unit_normalization_leaves_zero_vectors_at_zero():
    out = layers.UnitNormalization()(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
    torch.testing.assert_close(out, torch.tensor([[0.6, 0.8], [0.0, 0.0]]))


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="momentum=2"):
        layers.BatchNormalization(momentum=2)
    with pytest.raises(ValueError, match="renorm=True"):
        layers.BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="groups=0"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(keras.ShapeError, match="axis 3"):
        layers.LayerNormalization(axis=3)(keras.Input((4,)))


def test_batchnorm_in_a_model_follows_fit_mode():
    model = keras.Sequential([keras.Input((3,)), layers.BatchNormalization()])
    x = _x(8, 3) * 3 + 2
    torch.testing.assert_close(model(x), x / np.sqrt(1 + 1e-3), rtol=1e-5, atol=1e-5)
    trained = model(x, training=True)
    torch.testing.assert_close(trained.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
