"""Differences found by running keras.io examples (the GANs overriding `train_step`, the endpoint
layer pattern, custom convolution ops) on netknit beside Keras; the expected values are what
Keras 3.15 gives."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers, ops


def test_a_layer_or_model_without_call_says_so():
    class NoCall(keras.Model):
        pass

    class NoCallLayer(layers.Layer):
        pass

    x = np.ones((2, 3), "float32")
    with pytest.raises(NotImplementedError, match=r"Model NoCall does not have a `call\(\)`"):
        NoCall()(x)
    with pytest.raises(NotImplementedError, match="Layer NoCallLayer does not have a `call`"):
        NoCallLayer()(x)


class _GAN(keras.Model):
    """The keras.io GAN's shape: no `call`, only a `train_step` driving two inner models."""

    def __init__(self):
        super().__init__()
        self.discriminator = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.seen = []

    def train_step(self, real):
        self.seen.append(tuple(real.shape))
        self.d_loss_tracker.update_state(self.discriminator(real).mean())
        return {"d_loss": self.d_loss_tracker.result()}


def test_fit_on_a_model_that_cannot_build_itself_raises_keras_s_runtime_error():
    gan = _GAN()
    gan.compile()
    x = np.ones((4, 3), "float32")
    with pytest.raises(RuntimeError, match="Unable to automatically build the model") as info:
        gan.fit(x, batch_size=2, verbose=0)
    assert "does not have a `call()` method" in str(info.value)
    gan.built = True  # what the example needs in Keras as well
    history = gan.fit(x, batch_size=2, epochs=2, verbose=0)
    assert gan.seen == [(2, 3)] * 4
    assert list(history.history) == ["d_loss"] and len(history.history["d_loss"]) == 2


class _LogisticEndpoint(layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.accuracy_fn = keras.metrics.BinaryAccuracy(name="accuracy")

    def call(self, logits, targets=None):
        if targets is not None:
            self.add_loss(self.loss_fn(targets, logits))
            self.accuracy_fn.update_state(targets, logits)
        return ops.sigmoid(logits)


def test_a_metric_held_by_a_layer_is_listed_logged_and_reset_by_the_model():
    inputs, targets = keras.Input((4,)), keras.Input((1,))
    endpoint = _LogisticEndpoint()
    model = keras.Model([inputs, targets], endpoint(layers.Dense(1)(inputs), targets))
    assert [m.name for m in endpoint.metrics] == ["accuracy"]
    assert [m.name for m in model.metrics] == ["accuracy"]
    model.compile("sgd")
    rng = np.random.RandomState(0)
    x = [rng.rand(8, 4).astype("float32"), (rng.rand(8, 1) > 0.5).astype("float32")]
    history = model.fit(x, batch_size=4, epochs=2, verbose=0)
    assert [m.name for m in model.metrics] == ["loss", "accuracy"]
    assert sorted(history.history) == ["accuracy", "loss"]
    assert len(history.history["accuracy"]) == 2
    loss, accuracy = model.evaluate(x, verbose=0)
    assert accuracy == pytest.approx(float(endpoint.accuracy_fn.result()))
    # reset at the start of each evaluation: only its 8 samples are counted
    assert float(endpoint.accuracy_fn.count) == 8


def _nested_metric_names(lib):
    class Holder(lib.layers.Layer):
        def __init__(self, metric_name, inner=(), **kwargs):
            super().__init__(**kwargs)
            self.metric = lib.metrics.Mean(name=metric_name)
            self.inner = list(inner)

        def call(self, x):
            for layer in self.inner:
                x = layer(x)
            return x

    class Outer(lib.Model):
        def __init__(self):
            super().__init__()
            self.own = lib.metrics.Sum(name="own")
            self.a = Holder("a", inner=[Holder("a1", inner=[Holder("a1x")]), Holder("a2")])
            self.b = Holder("b")

        def call(self, x):
            return self.b(self.a(x))

    model = Outer()
    model(np.ones((1, 2), "float32"))
    return [m.name for m in model.metrics]


def test_metrics_of_nested_layers_come_in_keras_s_order():
    # Keras lists an inner layer's metric once per layer above it (through each holder, and on
    # its own), the layers inside a holder visited last to first.
    assert _nested_metric_names(keras) == [
        "own", "a", "a1", "a1x", "a2", "a2", "a1", "a1x", "a1x", "b"]


def test_metrics_of_nested_layers_match_keras(real_keras):
    assert _nested_metric_names(keras) == _nested_metric_names(real_keras)


def _standardized(kernel):
    mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
    return (kernel - mean) / ops.sqrt(var + 1e-10)


class _WithOverride(layers.Conv2D):
    def convolution_op(self, inputs, kernel):
        return ops.conv(inputs, _standardized(kernel), padding="valid", strides=self.strides)


class _WithCall(layers.Conv2D):
    def call(self, inputs):
        return self.convolution_op(inputs, _standardized(self.kernel)) + self.bias


def test_convolution_op_is_keras_s_hook_for_a_transformed_kernel():
    x = torch.tensor(np.random.RandomState(0).rand(2, 6, 6, 3).astype("float32"))
    plain = layers.Conv2D(4, 3, activation="relu", bias_initializer="ones")
    override = _WithOverride(4, 3, activation="relu", bias_initializer="ones")
    with_call = _WithCall(4, 3, activation="relu", bias_initializer="ones")
    expected = plain(x)
    for layer in (override, with_call):
        layer(x)
        layer.set_weights(plain.get_weights())
    # convolution_op is the convolution alone: no bias, no activation
    torch.testing.assert_close(ops.relu(plain.convolution_op(x, plain.kernel) + 1.0), expected)
    standardized = ops.relu(ops.conv(x, _standardized(plain.kernel)) + 1.0)
    torch.testing.assert_close(override(x), standardized)  # bias and activation still applied
    torch.testing.assert_close(ops.relu(with_call(x)), standardized)
    assert bool((with_call(x) < 0).any())  # its own call leaves the activation out, as in Keras


@pytest.mark.parametrize("kwargs", [{"padding": "causal", "dilation_rate": 2},
                                    {"data_format": "channels_first", "strides": 2}])
def test_convolution_op_keeps_the_layer_s_padding_and_layout(kwargs):
    layer = layers.Conv1D(2, 3, **kwargs)
    x = torch.tensor(np.random.RandomState(1).rand(2, 4, 9).astype("float32"))
    bias_shape = (-1, 1) if kwargs.get("data_format") == "channels_first" else (-1,)
    expected = layer(x)
    torch.testing.assert_close(
        layer.convolution_op(x, layer.kernel) + layer.bias.reshape(bias_shape), expected)


def test_a_seed_generator_draws_keras_s_sequence_of_seeds():
    # The GAN examples draw their latent vectors from a SeedGenerator: Keras seeds its draws
    # with the initial seed, then one more each time.
    generator = keras.random.SeedGenerator(42)
    for seed in (42, 43, 44):
        torch.testing.assert_close(keras.random.normal((3,), seed=generator),
                                   keras.random.normal((3,), seed=seed))


def test_seeded_truncated_normal_dropout_and_shuffle_draw_keras_s_numbers():
    random = keras.random
    np.testing.assert_allclose(random.truncated_normal((4,), seed=3),
                               [-0.0766, 0.6648, -0.0517, 0.9132], atol=1e-4)
    assert random.dropout(torch.ones(8), 0.5, seed=3).tolist() == [2.0] * 6 + [0.0] * 2
    assert random.shuffle(torch.arange(6), seed=3).tolist() == [0, 3, 5, 1, 2, 4]
    # along a later axis each row gets its own order, as in Keras
    assert random.shuffle(torch.arange(8).reshape(2, 4), axis=1, seed=3).tolist() == [
        [0, 3, 1, 2], [5, 4, 7, 6]]


def _seeded_draws(lib):
    random, generator = lib.random, lib.random.SeedGenerator(9)
    return [np.asarray(draw) for draw in (
        random.normal((2, 3), seed=generator), random.uniform((5,), seed=generator),
        random.truncated_normal((2, 3), mean=1.0, stddev=0.5, seed=generator),
        random.dropout(torch.ones(2, 4), 0.5, noise_shape=(None, 1), seed=7),
        random.shuffle(torch.arange(12).reshape(3, 4), axis=1, seed=generator))]


def test_seeded_draws_match_keras(real_keras):
    for ours, theirs in zip(_seeded_draws(keras), _seeded_draws(real_keras)):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
