"""What Keras's guides on subclassing layers, masking and padding, and RNNs show, on netknit.

Values hard-coded here are what Keras 3.15 (torch backend) gave for the same code.
"""

import numpy as np
import pytest
import torch

import netknit


def _split_layer(keras):
    """The masking guide's TemporalSplit: two halves along time, each with its half of the mask."""
    ops = keras.ops

    class TemporalSplit(keras.layers.Layer):
        def call(self, inputs):
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else ops.split(mask, 2, axis=1)

    return TemporalSplit()


def _split_model(keras):
    inputs = keras.Input((6, 3))
    first, second = _split_layer(keras)(keras.layers.Masking()(inputs))
    lstm = keras.layers.LSTM
    return keras.Model(inputs, [lstm(2, name="first")(first), lstm(2, name="second")(second)])


def _padded_steps():
    x = np.ones((3, 6, 3), "float32") * np.arange(1, 7, dtype="float32")[None, :, None]
    x[0, 3:] = 0  # the second half of sample 0 is all padding
    x[1, :2] = 0
    return x


def test_an_eager_split_layer_gives_each_output_its_half_of_the_mask():
    padded = np.array([[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0]])
    embedded = torch.tensor(padded, dtype=torch.float32)[..., None].repeat(1, 1, 4)
    first, second = _split_layer(netknit)(netknit.layers.Masking()(embedded))
    assert first._keras_mask.tolist() == [[True, True, True], [True, True, True]]
    assert second._keras_mask.tolist() == [[False, False, False], [True, True, False]]


def test_a_model_hands_each_output_of_a_split_layer_its_own_mask():
    model = _split_model(netknit)
    first, second = model.predict(_padded_steps(), verbose=0)
    # Sample 0's second half is all masked: its LSTM keeps the zero initial state.
    np.testing.assert_array_equal(second[0], [0.0, 0.0])
    assert np.abs(second[1:]).min() > 0 and np.abs(first).min() > 0


def test_split_layer_masks_match_keras(real_keras):
    reference, model = _split_model(real_keras), _split_model(netknit)
    model.set_weights(reference.get_weights())
    x = _padded_steps()
    for expected, got in zip(reference.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, expected, atol=1e-6)


def _guide_layers(keras):
    """The subclassing guide's Linear (weights made unnamed in __init__) and ComputeSum."""

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal")
            self.b = self.add_weight(shape=(units,), initializer="zeros")

    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(shape=(input_dim,), initializer="zeros",
                                         trainable=False)

    return Linear, ComputeSum


def _unnamed_weight_paths(keras):
    linear, compute_sum = _guide_layers(keras)
    layers = [linear(4, 2), compute_sum(2), linear(4, 2)]
    return [w.path for layer in layers for w in layer.weights]


def test_unnamed_weights_are_numbered_across_the_session_as_in_keras():
    assert _unnamed_weight_paths(netknit) == [
        "linear/variable", "linear/variable_1", "compute_sum/variable_2",
        "linear_1/variable_3", "linear_1/variable_4",
    ]
    layer = _guide_layers(netknit)[0](4, 2)
    assert layer.w is layer.weights[0]  # still reachable by the attribute it was assigned to


def test_unnamed_weight_paths_match_keras(real_keras):
    real_keras.backend.clear_session()
    assert _unnamed_weight_paths(netknit) == _unnamed_weight_paths(real_keras)


@pytest.mark.parametrize("cell", [False, True])
def test_the_rnn_guides_encoder_decoder_matches_keras(real_keras, cell):
    def build(keras):
        layers = keras.layers
        encoder_input, decoder_input = layers.Input((None,)), layers.Input((None,))
        _, h, c = layers.LSTM(8, return_state=True, name="encoder")(
            layers.Embedding(50, 6)(encoder_input))
        decoder = layers.RNN(layers.LSTMCell(8)) if cell else layers.LSTM(8)
        decoded = decoder(layers.Embedding(60, 6)(decoder_input), initial_state=[h, c])
        return keras.Model([encoder_input, decoder_input], layers.Dense(3)(decoded))

    reference, model = build(real_keras), build(netknit)
    model.set_weights(reference.get_weights())
    rng = np.random.RandomState(0)
    x = [rng.randint(0, 50, (3, 7)), rng.randint(0, 60, (3, 5))]
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0),
                               atol=1e-6)
