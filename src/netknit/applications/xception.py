"""Xception (Chollet, 2017): Inception's idea taken to its limit, with depthwise separable
convolutions throughout.

An entry flow (two plain convolutions, then three blocks that halve the size: two separable
convolutions and a max pooling, added to a strided 1x1 convolution of the block's input), a
middle flow of eight residual blocks of three separable 728-channel convolutions, and an exit
flow (one more halving block, then separable convolutions to 2048 channels). The default input
is 299x299; images go through `preprocess_input` ("tf" mode) first.
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    MaxPooling2D,
    SeparableConv2D,
    add,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["Xception", "decode_predictions", "preprocess_input"]


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax",
             name="xception") -> Model:
    """Instantiate Xception, a functional model with Keras's architecture and layer names.

    The default input is 299x299 RGB. Xception's weights files (`save_weights` of Keras's or
    netknit's Xception, or Keras's ImageNet file) load into it. Images go through
    `xception.preprocess_input` first.

    Args:
        include_top: whether to end with global average pooling and the dense classifier.
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        input_shape: `(height, width, 3)`, at least 71x71; only with include_top=False
            (the top needs `(299, 299, 3)`).
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        name: the model's name.

    Returns:
        A functional `Model`.

    >>> model = Xception(weights=None, include_top=False, input_shape=(71, 71, 3))
    >>> model.output_shape
    (None, 3, 3, 2048)
    """
    input_shape = application.checked_input_shape(
        "Xception", application.keras_file_name("xception", include_top), weights, include_top,
        classes, input_shape, classifier_activation, default_size=299, min_size=71)

    img_input = application.image_input(input_tensor, input_shape)
    x = Conv2D(32, 3, strides=2, use_bias=False, name="block1_conv1")(img_input)
    x = BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = Activation("relu", name="block1_conv1_act")(x)
    x = Conv2D(64, 3, use_bias=False, name="block1_conv2")(x)
    x = BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = Activation("relu", name="block1_conv2_act")(x)

    # Entry flow. Block 2 starts from an activation, so it has no ReLU of its own in front;
    # its second activation keeps Keras's name, block2_sepconv2_act.
    x = _halving_block(x, (128, 128), block=2, first_relu=False)
    x = _halving_block(x, (256, 256), block=3)
    x = _halving_block(x, (728, 728), block=4)

    # Middle flow.
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = _relu_separable(x, 728, f"block{block}_sepconv{i}")
        x = add([x, residual])

    # Exit flow.
    x = _halving_block(x, (728, 1024), block=13)
    for i, filters in ((1, 1536), (2, 2048)):
        x = SeparableConv2D(filters, 3, padding="same", use_bias=False,
                            name=f"block14_sepconv{i}")(x)
        x = BatchNormalization(axis=-1, name=f"block14_sepconv{i}_bn")(x)
        x = Activation("relu", name=f"block14_sepconv{i}_act")(x)

    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling)
    return application.make_model(img_input, input_tensor, x, name, weights)


def _relu_separable(x: SymbolicTensor, filters: int, name: str,
                    relu: bool = True) -> SymbolicTensor:
    """ReLU (named `{name}_act`), a 3x3 separable convolution and batch normalization."""
    if relu:
        x = Activation("relu", name=f"{name}_act")(x)
    x = SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    return BatchNormalization(axis=-1, name=f"{name}_bn")(x)


def _halving_block(x: SymbolicTensor, filters: tuple, block: int,
                   first_relu: bool = True) -> SymbolicTensor:
    """Two separable convolutions and a 3x3 max pooling of stride 2, added to a strided 1x1
    convolution of the input (whose layers keep Keras's automatic names)."""
    residual = Conv2D(filters[1], 1, strides=2, padding="same", use_bias=False)(x)
    residual = BatchNormalization(axis=-1)(residual)
    prefix = f"block{block}_sepconv"
    x = _relu_separable(x, filters[0], f"{prefix}1", relu=first_relu)
    x = _relu_separable(x, filters[1], f"{prefix}2")
    x = MaxPooling2D(3, strides=2, padding="same", name=f"block{block}_pool")(x)
    return add([x, residual])


def preprocess_input(x, data_format=None):
    """Xception's preprocessing: pixels from [0, 255] to [-1, 1] ("tf").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="tf")
