"""Embedding and Masking: lookups, the masks they start, and masks consumed downstream."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def test_embedding_looks_up_rows_and_accepts_float_ids_like_keras():
    layer = layers.Embedding(4, 2)
    layer.build(None)
    table = np.arange(8, dtype="float32").reshape(4, 2)
    layer.set_weights([table])
    out = layer(torch.tensor([[3, 0]]))
    np.testing.assert_array_equal(out.detach().numpy(), [[[6, 7], [0, 1]]])
    np.testing.assert_array_equal(layer(torch.tensor([[3.0]])).detach().numpy(), [[[6, 7]]])


def test_embedding_initial_weights_and_deprecated_input_length():
    table = np.ones((3, 2), dtype="float32")
    layer = layers.Embedding(3, 2, weights=table)
    np.testing.assert_array_equal(layer.get_weights()[0], table)
    with pytest.warns(UserWarning, match="input_length"):
        layers.Embedding(3, 2, input_length=5)
    with pytest.raises(ValueError, match="input_dim=0"):
        layers.Embedding(0, 2)


def test_embedding_mask_zero_masks_padding_in_a_model():
    inputs = keras.Input((4,), dtype="int64")
    embedded = layers.Embedding(10, 3, mask_zero=True)(inputs)
    assert embedded.has_mask
    pooled = layers.GlobalAveragePooling1D()(embedded)
    assert not pooled.has_mask
    model = keras.Model(inputs, pooled)
    ids = torch.tensor([[1, 2, 0, 0]])
    table = model.layers[1].embeddings.detach()
    torch.testing.assert_close(model(ids), table[[1, 2]].mean(0, keepdim=True))


def test_masked_lstm_ignores_trailing_padding():
    def model():
        keras.backend.clear_session()
        torch.manual_seed(0)
        return keras.Sequential([keras.Input((5,), dtype="int64"),
                                 layers.Embedding(10, 4, mask_zero=True), layers.LSTM(3)])

    padded, short = model(), model()
    short.set_weights(padded.get_weights())
    ids = torch.tensor([[4, 2, 7, 0, 0]])
    torch.testing.assert_close(padded(ids), short.layers[1](short.layers[0](ids[:, :3])))


def test_masking_zeroes_and_masks_padded_steps():
    layer = layers.Masking(mask_value=-1.0)
    x = torch.tensor([[[1.0, -1.0], [-1.0, -1.0]]])
    torch.testing.assert_close(layer(x), torch.tensor([[[1.0, -1.0], [0.0, 0.0]]]))
    assert layer.compute_mask(x).tolist() == [[True, False]]
    assert layer(keras.Input((2, 2))).has_mask


def test_reversible_embedding_projects_back_through_its_embeddings():
    layer = layers.ReversibleEmbedding(5, 3)
    vectors = layer(torch.tensor([[1, 4]]))
    table = torch.as_tensor(layer.get_weights()[0])
    torch.testing.assert_close(layer(vectors, reverse=True), vectors @ table.T)
    untied = layers.ReversibleEmbedding(5, 3, tie_weights=False, logit_soft_cap=0.5)
    untied.build(None)
    reverse = torch.as_tensor(untied.get_weights()[1])
    logits = untied(vectors, reverse=True)
    torch.testing.assert_close(logits, torch.tanh(vectors @ reverse / 0.5) * 0.5)
    assert logits.abs().max() < 0.5


def test_reversible_embedding_masks_only_its_forward_outputs():
    ids = keras.Input((4,), dtype="int64")
    layer = layers.ReversibleEmbedding(6, 3, mask_zero=True)
    vectors = layer(ids)
    logits = layer(vectors, reverse=True)
    assert vectors.has_mask and not logits.has_mask
    assert logits.shape == (None, 4, 6)
    with pytest.raises(keras.ShapeError, match=r"Dense\(3\)"):
        layer(keras.Input((4, 5)), reverse=True)
    with pytest.raises(ValueError, match="logit_soft_cap=0"):
        layers.ReversibleEmbedding(6, 3, logit_soft_cap=0)
