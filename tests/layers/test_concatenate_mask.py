"""Concatenate's mask, as Keras combines it: missing masks are all True, masks are broadcast to
their inputs, concatenated along the axis, and reduced with `any` over the last axis."""

import numpy as np
import pytest
import torch

import netknit as keras

M = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], bool)
X = [np.ones((2, 4, 3), "float32"), np.ones((2, 4, 3), "float32")]


def test_missing_mask_counts_as_ones_on_last_axis():
    mask = keras.layers.Concatenate().compute_mask(X, [M, None])
    assert isinstance(mask, torch.Tensor)
    assert mask.dtype == torch.bool
    assert mask.tolist() == [[True] * 4, [True] * 4]


def test_masks_concatenate_along_time_axis():
    mask = keras.layers.Concatenate(axis=1).compute_mask(X, [M, None])
    assert mask.tolist() == [[True, True, False, False, True, True, True, True],
                             [True, False, False, False, True, True, True, True]]


def test_two_masks_any_over_features():
    mask = keras.layers.Concatenate().compute_mask(X, [M, M[:, ::-1]])
    assert mask.tolist() == (M | M[:, ::-1]).tolist()


def test_no_masks():
    layer = keras.layers.Concatenate()
    assert layer.compute_mask(X, None) is None
    assert layer.compute_mask(X, [None, None]) is None
    with pytest.raises(ValueError):
        layer.compute_mask(X, [M])


def _model(k):
    inp = k.Input((4,), dtype="int32")
    a = k.layers.Embedding(10, 3, mask_zero=True)(inp)
    b = k.layers.Embedding(10, 3)(inp)
    return k.Model(inp, k.layers.LSTM(2)(k.layers.Concatenate()([a, b])))


def test_lstm_after_partly_masked_concatenate_sees_every_step():
    model = _model(keras)
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    # With one input unmasked the merged mask is all True: the same as no mask at all.
    unmasked = keras.Model(model.inputs, model.outputs)
    embeddings[0].mask_zero = False
    expected = unmasked.predict(x, verbose=0)
    embeddings[0].mask_zero = True
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_matches_keras(real_keras):
    theirs, ours = _model(real_keras), _model(keras)
    ours.set_weights(theirs.get_weights())
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    for axis, masks in ((-1, [M, None]), (1, [M, None]), (-1, [M, M[:, ::-1]])):
        np.testing.assert_array_equal(
            keras.layers.Concatenate(axis=axis).compute_mask(X, masks).numpy(),
            np.asarray(real_keras.layers.Concatenate(axis=axis).compute_mask(X, masks)))
