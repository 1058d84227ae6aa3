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
    with pytest.raises(ValueError, match="synchronized=True"):
        layers.BatchNormalization(synchronized=True)
    with pytest.raises(ValueError, match="'rmin', 'rmax' and 'dmax'"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"r_max": 2})
    with pytest.raises(ValueError, match="dmax=-1"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"dmax": -1})
    with pytest.raises(ValueError, match="renorm_momentum=2"):
        layers.BatchNormalization(renorm=True, renorm_momentum=2)
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


# ---------------------------------------------------------------------- RMSNormalization


def test_rms_normalization_matches_keras():
    layer = layers.RMSNormalization()
    layer.build((None, 3))
    layer.set_weights([np.array([0.5, 1.0, 2.0], "float32")])
    out = layer(torch.tensor([[1.0, 2.0, 3.0], [-4.0, 0.0, 2.0]]))
    # Keras 3.15.1's output for the same weights and input.
    np.testing.assert_allclose(out.detach().numpy(), [[0.231455, 0.92582, 2.77746],
                                                       [-0.774597, 0.0, 1.549193]], rtol=1e-5)


def test_rms_normalization_over_trailing_axes_matches_keras():
    x = torch.arange(12.0).reshape(1, 2, 2, 3) - 5
    out = layers.RMSNormalization(axis=[-2, -1], epsilon=0.1)(x)
    expected = [[[-1.642511, -1.314009, -0.985506], [-0.657004, -0.328502, 0.0]],
                [[0.255934, 0.511868, 0.767802], [1.023736, 1.27967, 1.535604]]]
    np.testing.assert_allclose(out.detach().numpy()[0], expected, rtol=1e-5)


def test_rms_normalization_over_a_middle_axis_normalizes_that_axis():
    # Keras 3.15.1 on torch hands axis=1 of a 3-D input to F.rms_norm as if it were the last
    # axis (and fails); netknit normalizes along axis 1, as the other backends do.
    x = _x(2, 4, 3)
    layer = layers.RMSNormalization(axis=1, epsilon=0.0)
    out = layer(x)
    assert tuple(layer.scale.shape) == (4,)
    expected = x / x.square().mean(1, keepdim=True).sqrt()
    torch.testing.assert_close(out, expected)
    assert layer.get_config()["axis"] == [1]


def test_rms_normalization_checks_its_arguments_and_axes():
    with pytest.raises(ValueError, match="non-negative epsilon"):
        layers.RMSNormalization(epsilon=-1)
    with pytest.raises(TypeError, match="axis"):
        layers.RMSNormalization(axis="last")
    with pytest.raises(keras.ShapeError, match="axis 3"):
        layers.RMSNormalization(axis=3)(keras.Input((4, 2)))


# ---------------------------------------------------------------------- SpectralNormalization


def _spectral_dense(kernel):
    layer = layers.SpectralNormalization(layers.Dense(2, use_bias=False))
    layer.build((None, 2))
    layer.set_weights([np.asarray(kernel, "float32"), np.array([[1.0, 0.0]], "float32")])
    return layer


def test_spectral_normalization_divides_the_kernel_by_its_largest_singular_value():
    layer = _spectral_dense([[3.0, 0.0], [0.0, 1.0]])
    layer.power_iterations = 5
    out = layer(torch.tensor([[1.0, 1.0]]), training=True)
    # u starts on the top singular vector, so the estimate is exact: sigma = 3.
    torch.testing.assert_close(out, torch.tensor([[1.0, 1.0 / 3.0]]))
    torch.testing.assert_close(layer.layer.kernel.detach(), torch.tensor([[1.0, 0.0],
                                                                          [0.0, 1.0 / 3.0]]))
    assert layer.kernel is layer.layer.kernel


def test_spectral_normalization_leaves_the_kernel_alone_in_inference_and_when_zero():
    layer = _spectral_dense([[3.0, 0.0], [0.0, 1.0]])
    layer(torch.ones(1, 2))
    assert layer.layer.kernel[0, 0].item() == 3.0
    zero = _spectral_dense(np.zeros((2, 2)))
    zero(torch.ones(1, 2), training=True)
    assert not zero.layer.kernel.detach().any()
    assert zero.vector_u.tolist() == [[1.0, 0.0]]


def test_spectral_normalization_lists_weights_in_keras_order():
    layer = layers.SpectralNormalization(layers.Dense(3))
    layer(keras.Input((4,)))
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (1, 3), (3,)]
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(4, 3), (3,)]
    assert [tuple(w.shape) for w in layer.non_trainable_weights] == [(1, 3)]
    assert layer.count_params() == 18


def test_spectral_normalization_checks_its_arguments():
    with pytest.raises(ValueError, match="positive integer for power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="wraps a Layer"):
        layers.SpectralNormalization("dense")
    with pytest.raises(ValueError, match="Flatten has neither"):
        layers.SpectralNormalization(layers.Flatten())(keras.Input((3,)))


def test_spectral_normalization_trains_inside_fit():
    model = keras.Sequential([keras.Input((3,)),
                              layers.SpectralNormalization(layers.Dense(4)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.random.default_rng(0).standard_normal((16, 3)), np.zeros((16, 1))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    # After a normalization step the kernel's largest singular value is about 1 (one power
    # iteration per step, then an SGD update).
    sigma = torch.linalg.matrix_norm(model.layers[0].kernel.detach(), ord=2)
    assert 0.5 < float(sigma) < 1.5
