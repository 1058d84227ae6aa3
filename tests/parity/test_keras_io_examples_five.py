"""Differences found by running keras.io examples (the miniature GPT, timeseries classification
with a Transformer, named entity recognition with a Transformer) on netknit beside Keras.

The miniature GPT compiles a two-output model with `loss=[loss_fn, None]` and trains it on one
target array: Keras gives that target to the one output that has a loss."""

import numpy as np
import pytest

import netknit as keras

RNG = np.random.RandomState(0)
X = RNG.randn(8, 4).astype("float32")
Y = RNG.randint(0, 2, 8)


def _two_outputs(lib, losses):
    inputs = lib.Input((4,))
    logits = lib.layers.Dense(3, name="logits")(inputs)
    features = lib.layers.Dense(2, name="features")(inputs)
    model = lib.Model(inputs, [logits, features])
    model.compile("sgd", loss=losses)
    return model


def _crossentropy(logits, y):
    return float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits))


@pytest.mark.parametrize("targets", [Y, [Y], (Y,)], ids=["array", "list", "tuple"])
@pytest.mark.parametrize("with_loss", [0, 1])
def test_one_target_goes_to_the_only_output_with_a_loss(targets, with_loss):
    losses = [None, None]
    losses[with_loss] = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = _two_outputs(keras, losses)
    outputs = model.predict(X, verbose=0)
    loss = model.evaluate(X, targets, verbose=0)
    assert loss == pytest.approx(_crossentropy(outputs[with_loss], Y), rel=1e-6)


def test_targets_that_fit_neither_outputs_nor_losses_are_refused():
    model = _two_outputs(keras, ["sparse_categorical_crossentropy", None])
    with pytest.raises(ValueError, match="2 outputs .* but 3 target arrays"):
        model.evaluate(X, [Y, Y, Y], verbose=0)


def _miniature_gpt(lib, vocab_size=20, maxlen=6, embed_dim=8):
    """The example's model, shrunk and without dropout: token and position embeddings, one
    Transformer block whose attention gets the example's tiled causal mask, logits over the
    vocabulary; the block's output is a second output without a loss."""
    ops, layers = lib.ops, lib.layers

    class CausalBlock(layers.Layer):
        def __init__(self):
            super().__init__()
            self.att = layers.MultiHeadAttention(2, embed_dim)
            self.norm = layers.LayerNormalization(epsilon=1e-6)

        def call(self, inputs):
            batch_size, seq_len = ops.shape(inputs)[0], ops.shape(inputs)[1]
            lower = ops.arange(seq_len)[:, None] >= ops.arange(seq_len)
            mask = ops.reshape(ops.cast(lower, "bool"), [1, seq_len, seq_len])
            mask = ops.tile(mask, ops.concatenate(
                [ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])], 0))
            return self.norm(inputs + self.att(inputs, inputs, attention_mask=mask))

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self):
            super().__init__()
            self.token_emb = layers.Embedding(vocab_size, embed_dim)
            self.pos_emb = layers.Embedding(maxlen, embed_dim)

        def call(self, x):
            return self.token_emb(x) + self.pos_emb(ops.arange(0, ops.shape(x)[-1], 1))

    inputs = layers.Input(shape=(maxlen,), dtype="int32")
    x = CausalBlock()(TokenAndPositionEmbedding()(inputs))
    model = lib.Model(inputs, [layers.Dense(vocab_size)(x), x])
    model.compile("adam", loss=[lib.losses.SparseCategoricalCrossentropy(from_logits=True), None])
    return model


def test_miniature_gpt_trains_as_in_keras(real_keras):
    tokens = np.random.RandomState(1).randint(0, 20, size=(16, 7)).astype("int32")
    x, y = tokens[:, :-1], tokens[:, 1:]
    reference = _miniature_gpt(real_keras)
    model = _miniature_gpt(keras)
    model.set_weights(reference.get_weights())

    expected = reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    assert list(history) == list(expected) == ["loss"]
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-5)
    prompt = np.array([[5, 6, 7, 0, 0, 0]])
    logits, features = model.predict(prompt, verbose=0)
    expected_logits, expected_features = reference.predict(prompt, verbose=0)
    assert logits.shape == (1, 6, 20) and features.shape == (1, 6, 8)
    np.testing.assert_allclose(logits, expected_logits, atol=1e-5)
    np.testing.assert_allclose(features, expected_features, atol=1e-5)
