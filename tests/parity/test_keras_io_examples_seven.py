"""Differences found by running the keras.io sequence-to-sequence Transformer example
(neural_machine_translation_with_transformer) on netknit beside Keras; the expected values are
what Keras 3.15 gives."""

import numpy as np

import netknit as keras


def _positional_embedding_class(lib):
    class PositionalEmbedding(lib.layers.Layer):
        def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_embeddings = lib.layers.Embedding(vocab_size, embed_dim)
            self.position_embeddings = lib.layers.Embedding(sequence_length, embed_dim)

        def call(self, inputs):
            positions = lib.ops.arange(0, lib.ops.shape(inputs)[-1], 1)
            return self.token_embeddings(inputs) + self.position_embeddings(positions)

    return PositionalEmbedding


def _embedding_model(lib):
    # Shape inference runs the layer on stand-ins 83 and 89 steps long, more positions than
    # the table of 6 holds: Keras's stand-ins carry no data, so no index is out of range.
    tokens = lib.Input((None,), dtype="int64")
    return lib.Model(tokens, _positional_embedding_class(lib)(6, 50, 4)(tokens))


def test_an_embedding_of_positions_past_the_stand_in_length_gets_its_shape():
    model = _embedding_model(keras)
    assert model.output.shape == (None, None, 4)
    assert model.count_params() == 50 * 4 + 6 * 4
    assert all(w.numpy().any() for w in model.weights)  # real weights, not stand-ins
    tokens = np.random.RandomState(0).randint(0, 50, (3, 6))
    assert model.predict(tokens, verbose=0).shape == (3, 6, 4)


def test_positional_embedding_model_matches_keras(real_keras):
    ours, theirs = _embedding_model(keras), _embedding_model(real_keras)
    ours.set_weights(theirs.get_weights())
    tokens = np.random.RandomState(1).randint(0, 50, (2, 5))
    np.testing.assert_allclose(ours.predict(tokens, verbose=0),
                               theirs.predict(tokens, verbose=0), atol=1e-6)


def test_sequential_built_by_its_first_call_takes_other_sizes():
    # Keras 3.15: a Sequential's eager call checks the number of axes only.
    model = keras.Sequential([keras.layers.Dense(3)])
    model(np.zeros((2, 5, 4), "float32"))
    assert tuple(model(np.zeros((3, 6, 4), "float32")).shape) == (3, 6, 3)


def test_layer_holding_a_sequential_is_called_on_any_sequence_length():
    # The example's encoder keeps its feed-forward block as a Sequential without an Input.
    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.proj = keras.Sequential([keras.layers.Dense(3)])

        def call(self, inputs):
            return self.proj(inputs)

    block = Block()
    assert block(keras.Input((None, 4))).shape == (None, None, 3)
    assert tuple(block(np.zeros((2, 7, 4), "float32")).shape) == (2, 7, 3)
    assert block.count_params() == 15
