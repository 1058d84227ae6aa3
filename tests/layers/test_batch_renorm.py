"""BatchNormalization(renorm=True): Keras's variables, training and inference numbers, config."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

CLIPPING = {"rmin": 0.8, "rmax": 1.5, "dmax": 0.3}


def _reference_step(x, stats, momentum, renorm_momentum, epsilon, clipping):
    """Batch renormalization by hand (channels last, gamma 1, beta 0): output, new stats."""
    mean, variance = x.mean(0), x.var(0)
    stddev = np.sqrt(variance + epsilon)
    renorm_stddev = np.maximum(stats["renorm_stddev"], np.sqrt(epsilon))
    r = np.clip(stddev / renorm_stddev, clipping["rmin"], clipping["rmax"])
    d = np.clip((mean - stats["renorm_mean"]) / renorm_stddev, -clipping["dmax"],
                clipping["dmax"])
    outputs = (x - mean) / stddev * r + d
    new = {
        "moving_mean": stats["moving_mean"] * momentum + mean * (1 - momentum),
        "moving_stddev": stats["moving_stddev"] * momentum + stddev * (1 - momentum),
        "renorm_mean": stats["renorm_mean"] * renorm_momentum + mean * (1 - renorm_momentum),
        "renorm_stddev": (stats["renorm_stddev"] * renorm_momentum
                          + stddev * (1 - renorm_momentum)),
    }
    new["moving_variance"] = np.maximum(new["moving_stddev"] ** 2 - epsilon, 0)
    return outputs, new


def test_variables_are_keras_s():
    layer = layers.BatchNormalization(renorm=True, moving_variance_initializer="constant")
    layer.build((None, 3))
    assert [w.path for w in layer.weights] == [
        "batch_normalization/gamma", "batch_normalization/beta",
        "batch_normalization/moving_mean", "batch_normalization/moving_variance",
        "batch_normalization/moving_stddev", "batch_normalization/renorm_mean",
        "batch_normalization/renorm_stddev"]
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert layer.count_params() == 21
    # The standard deviations start at the root of the variance's initial value (constant: 0).
    assert not layer.moving_stddev.any() and not layer.renorm_stddev.any()
    config = layer.get_config()
    assert (config["renorm"], config["renorm_clipping"], config["renorm_momentum"]) == (
        True, {}, 0.99)
    rebuilt = layers.BatchNormalization.from_config(config)
    rebuilt.build((None, 3))
    assert [w.name for w in rebuilt.weights] == [w.name for w in layer.weights]


def test_training_and_inference_follow_batch_renormalization():
    momentum, renorm_momentum, epsilon = 0.8, 0.5, 1e-3
    layer = layers.BatchNormalization(renorm=True, renorm_clipping=CLIPPING, momentum=momentum,
                                      renorm_momentum=renorm_momentum, epsilon=epsilon)
    layer.build((None, 3))
    stats = {n: getattr(layer, n).numpy().astype(np.float64) for n in (
        "moving_mean", "moving_stddev", "renorm_mean", "renorm_stddev")}
    state = np.random.RandomState(0)
    for _ in range(3):
        x = state.randn(8, 3) * np.array([0.5, 2.0, 1.0]) + np.array([0.0, 1.0, -2.0])
        expected, stats = _reference_step(x, stats, momentum, renorm_momentum, epsilon, CLIPPING)
        outputs = layer(torch.tensor(x, dtype=torch.float32), training=True)
        np.testing.assert_allclose(outputs.detach().numpy(), expected, atol=1e-5)
        for name, value in stats.items():
            np.testing.assert_allclose(getattr(layer, name).numpy(), value, atol=1e-6)
    x = state.randn(4, 3)
    expected = (x - stats["moving_mean"]) / np.sqrt(stats["moving_variance"] + epsilon)
    np.testing.assert_allclose(layer(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               expected, atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    {"renorm": True},
    {"renorm": True, "renorm_clipping": CLIPPING, "scale": False, "axis": 1},
])
def test_matches_keras(kwargs, real_keras):
    ours, theirs = layers.BatchNormalization(**kwargs), real_keras.layers.BatchNormalization(
        **kwargs)
    ours.build((None, 3, 4))
    theirs.build((None, 3, 4))
    state = np.random.RandomState(1)
    weights = [np.abs(state.randn(*w.shape)).astype("float32") + 0.5 for w in theirs.weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    for _ in range(2):
        x = (state.randn(6, 3, 4) * 3 + 1).astype("float32")
        np.testing.assert_allclose(
            ours(torch.as_tensor(x), training=True).detach().numpy(),
            real_keras.ops.convert_to_numpy(theirs(x, training=True)), atol=1e-5)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, keras_weight, atol=1e-5)
    assert ours.get_config() | {"name": None} == theirs.get_config() | {"name": None}


def test_fit_updates_the_renorm_statistics():
    model = keras.Sequential([keras.Input((3,)), layers.BatchNormalization(renorm=True)])
    model.compile("sgd", "mse")
    state = np.random.RandomState(0)
    model.fit(state.randn(16, 3) + 2.0, state.randn(16, 3), epochs=1, batch_size=8, verbose=0)
    layer = model.layers[0]
    assert (layer.renorm_mean.numpy() > 0.01).all()
    np.testing.assert_allclose(layer.moving_variance.numpy(),
                               layer.moving_stddev.numpy() ** 2 - layer.epsilon, rtol=1e-5)
