"""EinsumDense computes what Keras 3.15.1 computes (the expected arrays are Keras's outputs for the
same weights and inputs); kernel and bias shapes, counts and configs are in layer_db."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def _ramp(shape, modulus, offset, scale):
    """Small deterministic values: (arange % modulus - offset) / scale."""
    return (np.arange(np.prod(shape), dtype="float32").reshape(shape) % modulus - offset) / scale


def _layer(equation, output_shape, bias_axes, input_shape, activation=None):
    layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation=activation)
    layer.build((None,) + input_shape)
    layer.set_weights([_ramp(w.shape, 5, 2, 4) for w in layer.get_weights()])
    return layer


@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape, expected", [
    # A projection into heads, the bias on the last output axis only (shape (2,)).
    ("abc,cde->abde", (None, 2, 2), "e", (2, 3),
     [[[[-0.375, 0.375], [0.0, -0.5]], [[0.0, 0.0], [-1.125, -0.5]]],
      [[[-2.25, -0.375], [0.375, 0.375]], [[-0.125, 0.125], [-0.75, -0.5]]]]),
    # A contraction over a middle axis: not a linear map of the last axes, so torch.einsum.
    ("abc,bd->acd", (3, 2), None, (2, 3),
     [[[0.75, 0.375], [0.5, 0.375], [0.25, 0.375]], [[-0.75, -0.5], [0.75, 0.375],
                                                      [0.5, 0.375]]]),
    # Axes passed through on the right; the bias (2, 1) broadcasts over them.
    ("ab...,bc->ac...", 2, "c", (3, 2),
     [[[0.5, 0.5], [-0.25, -0.5]], [[-1.25, 0.5], [-0.875, -0.25]]]),
])
def test_outputs_match_keras(equation, output_shape, bias_axes, input_shape, expected):
    layer = _layer(equation, output_shape, bias_axes, input_shape)
    x = torch.as_tensor(_ramp((2,) + input_shape, 7, 3, 2))
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape", [
    ("ab,bc->ac", 3, "c", (4,)),
    ("abc,cd->abd", (None, 3), "d", (5, 4)),
    ("abc,cde->abde", (None, 2, 3), "de", (5, 4)),
    ("abcd,cde->abe", (3, 7), "b", (3, 4, 6)),
    ("...b,bc->...c", 3, "c", (2, 5, 4)),
])
def test_linear_maps_run_as_f_linear_and_equal_torch_einsum(equation, output_shape, bias_axes,
                                                            input_shape):
    layer = _layer(equation, output_shape, bias_axes, input_shape)
    assert layer._contracted  # the F.linear path
    x = torch.randn((2,) + input_shape)
    expected = torch.einsum(equation, x, layer.kernel) + layer.bias
    torch.testing.assert_close(layer(x), expected)


def test_a_dense_equation_is_dense():
    dense, einsum = layers.Dense(3, activation="tanh"), layers.EinsumDense(
        "ab,bc->ac", 3, bias_axes="c", activation="tanh")
    dense.build((None, 4))
    einsum.build((None, 4))
    einsum.set_weights(dense.get_weights())
    x = torch.randn(5, 4)
    torch.testing.assert_close(einsum(x), dense(x))


def test_none_in_output_shape_takes_the_input_s_size():
    # Keras 3.15.1 leaves such an axis unknown, (None, None, 4); its value is the input's.
    layer = layers.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d")
    assert layer(keras.Input((5, 3))).shape == (None, 5, 4)
    assert layer.get_config()["output_shape"] == (None, 4)


def test_kernel_fans_are_the_equation_s_input_and_output_axes():
    # Keras draws glorot_uniform with fan_in = c = 8 and fan_out = d * e = 64, not from the
    # kernel's last two axes (which would give fans 32 and 64).
    layer = layers.EinsumDense("abc,cde->abde", (None, 4, 16), bias_axes="de")
    layer.build((None, 5, 8))
    limit = np.sqrt(6 / (8 + 64))
    assert 0.9 * limit < float(layer.kernel.detach().abs().max()) <= limit


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"equation": "ab->b", "output_shape": 2}, ValueError, r"form 'ab,bc->ac'"),
    ({"equation": "ab,bc->ad", "output_shape": 2}, ValueError, r"Output letter 'd'"),
    ({"equation": "ab,bcx->ac", "output_shape": 2}, ValueError, r"Kernel letter 'x'"),
    ({"equation": "ab,bc->ac", "output_shape": 2, "bias_axes": "b"}, ValueError,
     r"letters of the output 'ac'"),
    ({"equation": "ab,bc->ac", "output_shape": -2}, ValueError, r"positive int"),
    ({"equation": "ab,bc->ac", "output_shape": 2, "lora_rank": -4}, ValueError, r"lora_rank=-4"),
])
def test_arguments_are_checked_in_the_constructor(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        layers.EinsumDense(**kwargs)


def test_shape_errors_teach():
    with pytest.raises(keras.ShapeError, match=r"output_shape \(3, 4\) should give the sizes of "
                                               r"the 1 output axes 'c'"):
        layers.EinsumDense("ab,bc->ac", (3, 4))(keras.Input((5,)))
    with pytest.raises(keras.ShapeError, match=r"sizes of axes 'bc' for its kernel"):
        layers.EinsumDense("ab,bc->ac", (None,))(keras.Input((5,)))
    built = layers.EinsumDense("...b,bc->...c", 3)
    built(keras.Input((4, 5)))
    with pytest.raises(keras.ShapeError, match=r"expects 3-D inputs \(ndim=3\)"):
        built(keras.Input((2, 4, 5)))
