"""Differences found by running keras.io examples (Grad-CAM, image classification from scratch,
collaborative filtering) on netknit beside Keras 3.15."""

import numpy as np
import pytest
import torch

import netknit as keras

LAYERS = {
    "dense": (lambda act: keras.layers.Dense(3, activation=act), (2, 4)),
    "einsum_dense": (lambda act: keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 3),
                                                          activation=act), (2, 2, 4)),
    "conv2d": (lambda act: keras.layers.Conv2D(2, 1, activation=act), (2, 3, 3, 1)),
    "separable_conv2d": (lambda act: keras.layers.SeparableConv2D(2, 1, activation=act),
                         (2, 3, 3, 1)),
    "conv1d_transpose": (lambda act: keras.layers.Conv1DTranspose(2, 1, activation=act),
                         (2, 4, 1)),
}


def _outputs(layer, x):
    return layer(torch.from_numpy(x)).detach().numpy()


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_activation_set_after_build_is_used(kind):
    # Grad-CAM sets the built classifier's activation to None to read logits; Keras reads the
    # attribute at each call, so a function set on a linear layer applies too.
    make, shape = LAYERS[kind]
    x = np.linspace(-2.0, 2.0, int(np.prod(shape)), dtype="float32").reshape(shape)
    linear = make(None)
    linear.build(shape)
    logits = _outputs(linear, x)
    assert logits.min() < 0  # so that relu below changes something

    squashed = make("softmax" if kind == "dense" else "sigmoid")
    squashed.build(shape)
    squashed.set_weights(linear.get_weights())
    squashed.activation = None
    np.testing.assert_allclose(_outputs(squashed, x), logits, rtol=1e-6, atol=1e-6)

    linear.activation = keras.activations.relu
    np.testing.assert_allclose(_outputs(linear, x), np.maximum(logits, 0), rtol=1e-6, atol=1e-6)


def _grad_cam_model(lib):
    layers = lib.layers
    inputs = lib.Input((8, 8, 3))
    x = layers.Rescaling(1.0 / 127.5, offset=-1)(inputs)
    x = layers.Conv2D(4, 3, strides=2, padding="same")(x)
    x = layers.SeparableConv2D(6, 3, padding="same", name="last_conv")(x)
    x = layers.Activation("relu", name="last_conv_act")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(5, activation="softmax", name="predictions")(x)
    return lib.Model(inputs, outputs)


def _heatmap(lib, model, image):
    # The example's make_gradcam_heatmap, with torch autograd in place of tf.GradientTape.
    grad_model = lib.Model(model.input, [model.get_layer("last_conv_act").output, model.output])
    conv_outputs, preds = grad_model(torch.from_numpy(image))
    class_channel = preds[:, int(preds[0].argmax())]
    grads = torch.autograd.grad(class_channel.sum(), conv_outputs)[0]
    pooled_grads = grads.mean(dim=(0, 1, 2))
    heatmap = (conv_outputs[0] @ pooled_grads[..., None]).squeeze()
    heatmap = torch.clamp(heatmap, min=0) / heatmap.max()
    return preds.detach().numpy(), heatmap.detach().numpy()


def test_grad_cam_matches_keras(real_keras):
    real_keras.utils.set_random_seed(1)
    reference = _grad_cam_model(real_keras)
    model = _grad_cam_model(keras)
    model.set_weights(reference.get_weights())
    for m in (reference, model):
        m.layers[-1].activation = None
    image = np.random.RandomState(0).uniform(0, 255, (1, 8, 8, 3)).astype("float32")

    expected_preds, expected_heatmap = _heatmap(real_keras, reference, image)
    preds, heatmap = _heatmap(keras, model, image)
    assert heatmap.shape == (4, 4)
    np.testing.assert_allclose(preds, expected_preds, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(heatmap, expected_heatmap, rtol=1e-5, atol=1e-6)
    # Logits, not probabilities: they do not sum to one.
    assert abs(float(preds.sum()) - 1.0) > 1e-3
