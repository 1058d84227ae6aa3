"""Attention layers: reference math, masks, causal masking, weight layouts and errors."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers
from netknit.layers.layer import linear_weight


def _x(*shape, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).standard_normal(shape).astype("float32"))


def _reference_mha(layer, q, v, mask=None):
    """Keras's math written out with einsum on Keras-layout weights."""
    wq, bq, wk, bk, wv, bv, wo, bo = [torch.as_tensor(w) for w in layer.get_weights()]
    query = torch.einsum("btd,dhk->bthk", q, wq) + bq
    key = torch.einsum("bsd,dhk->bshk", v, wk) + bk
    value = torch.einsum("bsd,dhk->bshk", v, wv) + bv
    scores = torch.einsum("bshk,bthk->bhts", key, query / np.sqrt(wq.shape[-1]))
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None], -1e9)
    probs = torch.softmax(scores, -1)
    return torch.einsum("hvo,bthv->bto", wo, torch.einsum("bhts,bshv->bthv", probs, value)) + bo


def test_multi_head_attention_matches_the_written_out_math():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    q, v = _x(2, 4, 5), _x(2, 6, 5, seed=1)
    layer(q, v)
    rng = np.random.default_rng(2)
    layer.set_weights([rng.standard_normal(w.shape).astype("float32")
                       for w in layer.get_weights()])
    mask = torch.as_tensor(rng.random((2, 4, 6)) > 0.3)
    mask[..., 0] = True
    torch.testing.assert_close(layer(q, v), _reference_mha(layer, q, v), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(layer(q, v, attention_mask=mask),
                               _reference_mha(layer, q, v, mask), rtol=1e-4, atol=1e-5)


def test_causal_mask_hides_future_steps():
    layer = layers.MultiHeadAttention(num_heads=1, key_dim=2)
    x = _x(1, 4, 3)
    _, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    assert scores.shape == (1, 1, 4, 4)
    assert torch.all(scores[0, 0].triu(1) == 0)
    changed = x.clone()
    changed[:, -1] += 5
    torch.testing.assert_close(layer(changed, changed, use_causal_mask=True)[:, :3],
                               layer(x, x, use_causal_mask=True)[:, :3])


def test_weights_have_keras_shapes_over_linear_memory():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=7)
    layer(keras.Input((5, 6)), keras.Input((8, 2)))
    keras_shapes = [(6, 2, 3), (2, 3), (2, 2, 3), (2, 3), (2, 2, 4), (2, 4), (2, 4, 7), (7,)]
    assert [w.shape for w in layer.get_weights()] == keras_shapes
    assert [tuple(w.shape) for w in layer.weights] == keras_shapes  # as Keras 3.15.1 lists them
    # Behind the Keras shapes, F.linear's (out, in) matrices, without copies.
    assert linear_weight(layer.query_kernel).is_contiguous()
    assert linear_weight(layer.output_kernel, 2).shape == (7, 8)
    assert linear_weight(layer.output_kernel, 2).is_contiguous()


def test_query_padding_mask_flows_through_a_model():
    inputs = keras.Input((5,), dtype="int64")
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    attended = layers.MultiHeadAttention(2, 2)(x, x)
    assert attended.has_mask
    model = keras.Model(inputs, attended)
    ids = torch.tensor([[3, 4, 0, 0, 0]])
    direct = model.layers[2](model.layers[1](ids), model.layers[1](ids),
                             query_mask=ids != 0, value_mask=ids != 0)
    torch.testing.assert_close(model(ids), direct)


def test_attention_and_additive_attention_scores():
    q, v = _x(2, 3, 4), _x(2, 5, 4, seed=1)
    out, weights = layers.Attention()([q, v], return_attention_scores=True)
    torch.testing.assert_close(weights, torch.softmax(q @ v.transpose(1, 2), -1))
    torch.testing.assert_close(out, weights @ v)
    additive = layers.AdditiveAttention(use_scale=False)
    expected = torch.softmax(torch.tanh(q[:, :, None] + v[:, None]).sum(-1), -1) @ v
    torch.testing.assert_close(additive([q, v]), expected)


def test_attention_value_mask_and_query_mask():
    q, v = _x(1, 2, 3), _x(1, 4, 3, seed=1)
    mask = [torch.tensor([[True, False]]), torch.tensor([[True, True, False, False]])]
    out, weights = layers.Attention()([q, v], mask=mask, return_attention_scores=True)
    assert torch.all(weights[..., 2:] == 0)
    assert torch.all(out[:, 1] == 0)


def test_errors_teach_the_fix():
    with pytest.raises(ValueError, match="num_heads=0"):
        layers.MultiHeadAttention(0, 2)
    layer = layers.MultiHeadAttention(2, 2)
    layer(keras.Input((3, 4)), keras.Input((3, 4)))
    with pytest.raises(keras.ShapeError, match="built for query, value and key features"):
        layer(keras.Input((3, 8)), keras.Input((3, 4)))
    with pytest.raises(ValueError, match="score_mode='sum'"):
        layers.Attention(score_mode="sum")


def test_group_query_attention_shares_each_key_value_head_with_its_query_heads():
    layer = layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    q, v = _x(2, 3, 6), _x(2, 5, 6, seed=1)
    out, scores = layer(q, v, return_attention_scores=True)
    assert layer.name.startswith("grouped_query_attention")
    assert [w.shape for w in layer.get_weights()] == [
        (6, 4, 2), (4, 2), (6, 2, 2), (2, 2), (6, 2, 2), (2, 2), (4, 2, 6), (6,)]
    # The same layer as multi-head attention with each key/value head repeated for its queries.
    mha = layers.MultiHeadAttention(4, 2)
    mha(q, v)
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    repeat = [np.repeat(w, 2, axis=-2) for w in (wk, bk, wv, bv)]
    mha.set_weights([wq, bq, *repeat[:2], *repeat[2:], wo, bo])
    expected, expected_scores = mha(q, v, return_attention_scores=True)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(scores, expected_scores)
    torch.testing.assert_close(layer(q, v), expected)  # the fused kernel, grouped heads


def test_group_query_attention_sliding_window_limits_the_band():
    layer = layers.GroupQueryAttention(2, 2, 1, sliding_window=2)
    x = _x(1, 5, 4)
    _, scores = layer(x, x, return_attention_scores=True, use_causal_mask=True)
    allowed = torch.tensor([[t - 1 <= s <= t for s in range(5)] for t in range(5)])
    assert torch.all((scores[0] > 0) == allowed)


def test_group_query_attention_bad_arguments_say_what_is_allowed():
    with pytest.raises(ValueError, match="num_query_heads=3, num_key_value_heads=2"):
        layers.GroupQueryAttention(2, 3, 2)
    with pytest.raises(ValueError, match="head_dim=0"):
        layers.GroupQueryAttention(0, 2, 1)
    with pytest.raises(ValueError, match="sliding_window=0"):
        layers.GroupQueryAttention(2, 2, 1, sliding_window=0)
    with pytest.raises(ValueError, match="flash_attention=True does not support dropout"):
        layers.GroupQueryAttention(2, 2, 1, dropout=0.1, flash_attention=True)
    with pytest.raises(keras.ShapeError, match=r"Dense\(6\)"):
        layers.GroupQueryAttention(2, 2, 1)(keras.Input((3, 6)), keras.Input((4, 5)))


def test_weight_paths_are_keras_s_einsum_dense_paths():
    # Keras 3.15.1: each projection is an EinsumDense sublayer, so `w.name` is "kernel".
    inputs = keras.Input((5, 6))
    attention = layers.MultiHeadAttention(2, 4, name="mha")
    attention(inputs, inputs)
    assert [w.path for w in attention.weights] == [
        "mha/query/kernel", "mha/query/bias", "mha/key/kernel", "mha/key/bias",
        "mha/value/kernel", "mha/value/bias", "mha/attention_output/kernel",
        "mha/attention_output/bias"]
    assert attention.weights[0].name == "kernel"
    grouped = layers.GroupQueryAttention(4, 4, 2, name="gqa", use_bias=False)
    grouped(inputs, inputs)
    assert [w.path for w in grouped.weights] == [
        "gqa/query/kernel", "gqa/key/kernel", "gqa/value/kernel", "gqa/attention_output/kernel"]


def test_calls_that_name_every_argument_as_keras_allows(tmp_path):
    """`mha(query=q, value=v)` (Keras writes such calls with no positional args in its files)."""
    torch.manual_seed(0)
    attention = layers.MultiHeadAttention(2, 3)
    x = torch.rand(2, 4, 5)
    torch.testing.assert_close(attention(query=x, value=x), attention(x, x))
    query = keras.Input((4, 5))
    model = keras.Model(query, attention(query=query, value=query))
    assert model.output.shape == (None, 4, 5)
    model.save(tmp_path / "named.keras")
    loaded = keras.saving.load_model(tmp_path / "named.keras")
    torch.testing.assert_close(loaded(x), attention(x, x))
    assert layers.Dense(3)(inputs=x).shape == (2, 4, 3)
