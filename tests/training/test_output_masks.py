"""Masks in training and in graphs as Keras 3.15.1 applies them: a sequence model's output mask
leaves padded steps out of its loss and metrics; a layer of the user's called inside a model
finds its inputs' masks on them; `mask` is filled only for a call on one tensor argument."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers, ops


def _tagger(lib):
    inputs = lib.Input((7,), dtype="int32")
    x = lib.layers.Embedding(20, 4, mask_zero=True)(inputs)
    x = lib.layers.LSTM(6, return_sequences=True)(x)
    return lib.Model(inputs, lib.layers.Dense(5, activation="softmax")(x))


def _tokens():
    rng = np.random.RandomState(0)
    x = rng.randint(1, 20, (16, 7))
    x[:, 5:] = 0
    x[::3, 3:] = 0
    return x, rng.randint(0, 5, (16, 7))


def test_padded_steps_are_left_out_of_the_loss_and_the_metrics():
    x, y = _tokens()
    model = _tagger(keras)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    probabilities = model.predict(x, verbose=0)
    counted = x != 0
    picked = np.take_along_axis(probabilities, y[..., None], -1)[..., 0]
    assert logs["loss"] == pytest.approx(-np.log(picked)[counted].mean(), rel=1e-5)
    hits = probabilities.argmax(-1) == y
    assert logs["accuracy"] == pytest.approx(hits[counted].mean(), rel=1e-5)
    assert counted.sum() == 68  # of 112 steps: the average is not over the padding


def test_losses_metrics_and_training_match_keras_with_an_output_mask(real_keras):
    x, y = _tokens()
    theirs, ours = _tagger(real_keras), _tagger(keras)
    ours.set_weights(theirs.get_weights())
    weights = np.ones((16, 7))
    weights[:, 0] = 2.0
    for model in (theirs, ours):
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                      weighted_metrics=["accuracy"])
    for kwargs in ({}, {"sample_weight": weights}):
        expected = theirs.evaluate(x, y, verbose=0, return_dict=True, **kwargs)
        got = ours.evaluate(x, y, verbose=0, return_dict=True, **kwargs)
        assert got == pytest.approx({k: float(v) for k, v in expected.items()}, rel=1e-5)
    expected = theirs.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    got = ours.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == pytest.approx([float(v) for v in expected[key]], rel=1e-4)


class Encoder(layers.Layer):
    """keras.io's translation example's encoder: it calls attention on its own inputs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(num_heads=2, key_dim=4)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return self.attention(query=inputs, value=inputs, key=inputs)


def test_a_layer_inside_a_model_finds_its_inputs_masks_on_them():
    inputs = keras.Input((5,), dtype="int32")
    embedding, encoder = layers.Embedding(10, 4, mask_zero=True), Encoder()
    model = keras.Model(inputs, encoder(embedding(inputs)))
    tokens = np.array([[1, 2, 3, 0, 0]])
    x = embedding(torch.as_tensor(tokens))
    mask = torch.as_tensor(tokens != 0)
    masked = encoder.attention(x, x, x, query_mask=mask, value_mask=mask, key_mask=mask)
    plain = x.detach().clone()  # no mask on it
    unmasked = encoder.attention(plain, plain)
    got = model.predict(tokens, verbose=0)
    assert got == pytest.approx(ops.convert_to_numpy(masked), abs=1e-6)
    assert not np.allclose(got, ops.convert_to_numpy(unmasked), atol=1e-4)
    # Eagerly too: the masks an Embedding left on its output fill query_mask, value_mask and
    # key_mask of an attention called on several tensors.
    assert ops.convert_to_numpy(encoder(x)) == pytest.approx(got, abs=1e-6)


class Decoder(layers.Layer):
    """A call on two tensor arguments and `mask`: Keras fills no `mask` then."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, encoder_outputs, mask=None):
        self.got_mask = mask
        return inputs + ops.mean(encoder_outputs, axis=1, keepdims=True)


def test_a_call_on_two_tensor_arguments_gets_no_mask_but_passes_the_first_one_s_on():
    source, target = keras.Input((4,), dtype="int32"), keras.Input((3,), dtype="int32")
    embedding = layers.Embedding(10, 2, mask_zero=True)
    decoder = Decoder()
    outputs = decoder(embedding(target), embedding(source))
    model = keras.Model([source, target], outputs)
    result = model([np.array([[1, 2, 0, 0]]), np.array([[3, 0, 0]])])
    assert decoder.got_mask is None
    assert result._keras_mask.tolist() == [[True, False, False]]
