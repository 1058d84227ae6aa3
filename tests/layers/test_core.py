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


def test_dense_kernel_lies_in_memory_as_linears_weight_and_its_gradient_too():
    # Keras's shape (in, units) with nn.Linear's (units, in) memory: the matrix product of a
    # narrow output reads that order faster; autograd, optimizers and set_weights keep it.
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    layer = model.layers[0]
    assert tuple(layer.kernel.shape) == (6, 2) and layer.kernel.stride() == (1, 6)
    model.compile(optimizer="adam", loss="mse")
    model.fit(torch.randn(8, 6).numpy(), torch.randn(8, 1).expand(8, 2).numpy(), verbose=0)
    assert layer.kernel.stride() == (1, 6)
    kernel = torch.arange(12.0).reshape(6, 2).numpy()
    layer.set_weights([kernel, torch.zeros(2).numpy()])
    assert layer.kernel.stride() == (1, 6)
    torch.testing.assert_close(layer.kernel.detach(), torch.from_numpy(kernel))
    assert layer.get_weights()[0].tolist() == kernel.tolist()
    assert layer.get_weights()[0].flags.c_contiguous  # as Keras returns them
