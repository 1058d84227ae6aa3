"""Dense keeps its kernel in Keras's layout, so Keras code that reads it directly works."""

import torch

import netknit as keras


def test_dense_kernel_has_keras_shape_and_computes_inputs_at_kernel_plus_bias():
    layer = keras.layers.Dense(3)
    inputs = torch.randn(5, 4)
    outputs = layer(inputs)
    assert tuple(layer.kernel.shape) == (4, 3) and tuple(layer.bias.shape) == (3,)
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (3,)]
    torch.testing.assert_close(outputs, inputs @ layer.kernel + layer.bias)
    # Inputs of rank 3, and no bias, take the other path through the same kernel.
    sequence = torch.randn(2, 5, 4)
    torch.testing.assert_close(layer(sequence), sequence @ layer.kernel + layer.bias)
    plain = keras.layers.Dense(2, use_bias=False)
    torch.testing.assert_close(plain(inputs), inputs @ plain.kernel)
