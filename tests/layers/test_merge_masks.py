"""The element-wise merges' masks, as Keras 3.15.1 combines them: the output mask is the `or` of
the input masks (None when an input has none), and Multiply, Maximum and Minimum let only the
steps an input's mask keeps take part. Checked in functional graphs, eager subclassed models and
eager calls on masked tensors."""

import numpy as np
import pytest
import torch

import netknit as keras

X = [np.array([[1, 2, 3, 0, 0], [1, 0, 0, 0, 0]]), np.array([[4, 5, 0, 0, 0], [0, 0, 0, 0, 0]])]
MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]

# Keras 3.15.1's predictions of `_model(keras, merge, second_masked)` with `_weights`.
KERAS = {
    ("Add", True): [[-0.11389341, -0.08731380], [-0.08112933, -0.07894932]],
    ("Add", False): [[-0.11947923, -0.10175025], [-0.12200799, -0.10653596]],
    ("Multiply", True): [[-0.09889919, -0.05425647], [-0.07572540, -0.06243193]],
    ("Multiply", False): [[-0.11580563, -0.09073944], [-0.12057893, -0.09825560]],
    ("Maximum", True): [[-0.11010548, -0.07436792], [-0.07572540, -0.06243193]],
    ("Minimum", False): [[-0.11496071, -0.08935715], [-0.12088504, -0.09872554]],
}


def _weights(model):
    return [np.sin(np.arange(w.size) * 0.37 + i).reshape(w.shape).astype("float32") * 0.5
            for i, w in enumerate(model.get_weights())]


def _model(k, merge, second_masked=True):
    a, b = k.Input((5,), dtype="int32"), k.Input((5,), dtype="int32")
    e1 = k.layers.Embedding(10, 3, mask_zero=True)(a)
    e2 = k.layers.Embedding(10, 3, mask_zero=second_masked)(b)
    model = k.Model([a, b], k.layers.LSTM(2)(getattr(k.layers, merge)()([e1, e2])))
    model.set_weights(_weights(model))
    return model


def _subclassed(k, merge):
    class TwoEmbeddings(k.Model):
        def __init__(self):
            super().__init__()
            self.e1 = k.layers.Embedding(10, 3, mask_zero=True)
            self.e2 = k.layers.Embedding(10, 3, mask_zero=True)
            self.merge = getattr(k.layers, merge)()
            self.lstm = k.layers.LSTM(2)

        def call(self, x):
            return self.lstm(self.merge([self.e1(x[0]), self.e2(x[1])]))

    model = TwoEmbeddings()
    model(X)
    model.set_weights(_weights(model))
    return model


@pytest.mark.parametrize("merge, second_masked", list(KERAS))
def test_predictions_equal_keras(merge, second_masked):
    expected = np.array(KERAS[merge, second_masked])
    np.testing.assert_allclose(_model(keras, merge, second_masked).predict(X, verbose=0),
                               expected, atol=1e-6)
    if second_masked:
        np.testing.assert_allclose(_subclassed(keras, merge)(X).detach().numpy(), expected,
                                   atol=1e-6)


def test_mask_is_the_or_of_the_inputs_masks():
    m1, m2 = torch.tensor(X[0] != 0), torch.tensor(X[1] != 0)
    x = [torch.ones(2, 5, 3), torch.ones(2, 5, 3)]
    for merge in MERGES[:-1]:
        layer = getattr(keras.layers, merge)()
        assert layer.compute_mask(x, [m1, m2]).tolist() == (m1 | m2).tolist()
        assert layer.compute_mask(x, [m1, None]) is None
        assert layer.compute_mask(x, None) is None
        with pytest.raises(ValueError, match="should be a list"):
            layer.compute_mask(x, m1)


def test_eager_calls_put_the_or_on_the_output():
    embedding = keras.layers.Embedding(10, 3, mask_zero=True)
    a, b = embedding(torch.tensor(X[0])), embedding(torch.tensor(X[1]))
    expected = (X[0] != 0) | (X[1] != 0)
    for merge in MERGES:
        output = getattr(keras.layers, merge)()([a, b])
        np.testing.assert_array_equal(output._keras_mask.numpy(), expected)
    assert not hasattr(keras.layers.Add()([a, torch.ones(2, 5, 3)]), "_keras_mask")


def test_multiply_counts_masked_steps_as_one():
    values = [torch.full((1, 2, 1), 3.0), torch.full((1, 2, 1), 5.0)]
    masks = [torch.tensor([[True, False]]), torch.tensor([[False, False]])]
    # The first step: 3 * 1; the second, dropped by both, is zeroed.
    assert keras.layers.Multiply()(values, mask=masks).flatten().tolist() == [3.0, 0.0]
    # With one input unmasked nothing is zeroed: 3 * 5, then 1 * 5.
    assert keras.layers.Multiply()(values, mask=[masks[0], None]).flatten().tolist() == [
        15.0, 5.0]
    assert keras.layers.Maximum()(values, mask=masks).flatten().tolist() == [3.0, 3.0]
    assert keras.layers.Minimum()([values[1], values[0]], mask=masks).flatten().tolist() == [
        5.0, 5.0]


@pytest.mark.parametrize("merge", MERGES)
def test_matches_keras(real_keras, merge):
    for second_masked in (True, False):
        theirs, ours = _model(real_keras, merge, second_masked), _model(keras, merge,
                                                                        second_masked)
        np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0),
                                   atol=1e-6)
    theirs, ours = _subclassed(real_keras, merge), _subclassed(keras, merge)
    np.testing.assert_allclose(ours(X).detach().numpy(), theirs(X).detach().numpy(), atol=1e-6)
