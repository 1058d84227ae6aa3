"""ResNet50, ResNet101 and ResNet152 (He et al., 2015), and the builder ResNetV2 shares.

A ResNet is a stem (7x7 convolution, max pooling), four stacks of bottleneck residual blocks and
a top. `build_resnet` makes the stem and the top; the blocks come from a `stack_fn`. Version 1
blocks (here) normalize after each convolution and add before the last activation; version 2
blocks (`resnet_v2.py`) normalize and activate before each convolution ("pre-activation").
Images go through `preprocess_input` ("caffe" mode) first.
"""

from __future__ import annotations

from collections.abc import Callable

from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    MaxPooling2D,
    ZeroPadding2D,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["ResNet101", "ResNet152", "ResNet50", "decode_predictions", "preprocess_input"]

# ResNet's batch normalization: Keras's default momentum, a smaller epsilon than its default.
_BN_EPSILON = 1.001e-5


def batch_norm(name: str) -> BatchNormalization:
    return BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name)


def build_resnet(stack_fn: Callable, preact: bool, use_bias: bool, model: str, include_top,
                 weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                 name) -> Model:
    """A ResNet: the stem, `stack_fn`'s residual stacks, and the top.

    Args:
        stack_fn: builds the residual stacks on the stem's output.
        preact: version 2 (pre-activation): the stem convolution is not normalized; the last
            stack's output is ("post_bn", "post_relu").
        use_bias: whether the stem convolution has a bias.
        model: the public name, for messages.
    """
    input_shape = application.checked_input_shape(
        model, application.keras_file_name(model.lower(), include_top), weights, include_top,
        classes, input_shape, classifier_activation)

    img_input = application.image_input(input_tensor, input_shape)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = batch_norm("conv1_bn")(x)
        x = Activation("relu", name="conv1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    x = stack_fn(x)
    if preact:
        x = batch_norm("post_bn")(x)
        x = Activation("relu", name="post_relu")(x)

    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling, avg_name="avg_pool", max_name="max_pool")
    return application.make_model(img_input, input_tensor, x, name, weights)


def residual_block_v1(x: SymbolicTensor, filters: int, kernel_size: int = 3, stride: int = 1,
                      conv_shortcut: bool = True, name: str = "") -> SymbolicTensor:
    """A bottleneck block: 1x1 (stride), kxk and 1x1 (4 * filters) convolutions, each normalized,
    added to the shortcut (a strided 1x1 convolution, or the input itself), then a ReLU."""
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = batch_norm(f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = batch_norm(f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
    x = batch_norm(f"{name}_2_bn")(x)
    x = Activation("relu", name=f"{name}_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = batch_norm(f"{name}_3_bn")(x)
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x: SymbolicTensor, filters: int, blocks: int, stride1: int = 2,
                             name: str = "") -> SymbolicTensor:
    """`blocks` version-1 blocks; the first has a convolution shortcut and stride `stride1`."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _resnet_v1(blocks: tuple, model: str, include_top, weights, input_tensor, input_shape,
               pooling, classes, classifier_activation, name) -> Model:
    def stack_fn(x):
        x = stack_residual_blocks_v1(x, 64, blocks[0], stride1=1, name="conv2")
        x = stack_residual_blocks_v1(x, 128, blocks[1], name="conv3")
        x = stack_residual_blocks_v1(x, 256, blocks[2], name="conv4")
        return stack_residual_blocks_v1(x, 512, blocks[3], name="conv5")

    return build_resnet(stack_fn, False, True, model, include_top, weights, input_tensor,
                        input_shape, pooling, classes, classifier_activation, name)


RESNET_DOC = """Instantiate {model}, a functional model with Keras's architecture and layer names.

    The default input is 224x224 RGB. {model}'s weights files (`save_weights` of Keras's or
    netknit's {model}) load into it. Images go through `{module}.preprocess_input` first.

    Args:
        include_top: whether to end with global average pooling and the dense classifier.
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        input_shape: `(height, width, 3)`, at least 32x32; only with include_top=False
            (the top needs `(224, 224, 3)`).
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        name: the model's name.

    Returns:
        A functional `Model`.

    >>> model = {model}(weights=None, include_top=False, input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 2, 2, 2048)
    """


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax",
             name="resnet50") -> Model:
    return _resnet_v1((3, 4, 6, 3), "ResNet50", include_top, weights, input_tensor,
                      input_shape, pooling, classes, classifier_activation, name)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax",
              name="resnet101") -> Model:
    return _resnet_v1((3, 4, 23, 3), "ResNet101", include_top, weights, input_tensor,
                      input_shape, pooling, classes, classifier_activation, name)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax",
              name="resnet152") -> Model:
    return _resnet_v1((3, 8, 36, 3), "ResNet152", include_top, weights, input_tensor,
                      input_shape, pooling, classes, classifier_activation, name)


for _function in (ResNet50, ResNet101, ResNet152):
    _function.__doc__ = RESNET_DOC.format(model=_function.__name__, module="resnet")
del _function


def preprocess_input(x, data_format=None):
    """ResNet's preprocessing: RGB to BGR, then each channel minus its ImageNet mean ("caffe").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="caffe")
