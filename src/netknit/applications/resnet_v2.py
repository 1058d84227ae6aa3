"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., 2016): pre-activation ResNets.

Each block normalizes and activates its input before the convolutions, and its output is the
plain sum of shortcut and residual; the network ends with one more normalization and ReLU
("post_bn", "post_relu"). The stem and the top are ResNet's (`resnet.build_resnet`). Images go
through `preprocess_input` ("tf" mode: pixels to [-1, 1]) first.
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor
from ..layers import Activation, Add, Conv2D, MaxPooling2D, ZeroPadding2D
from ..models import Model
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input
from .resnet import RESNET_DOC, batch_norm, build_resnet

__all__ = ["ResNet101V2", "ResNet152V2", "ResNet50V2", "decode_predictions", "preprocess_input"]


def residual_block_v2(x: SymbolicTensor, filters: int, kernel_size: int = 3, stride: int = 1,
                      conv_shortcut: bool = False, name: str = "") -> SymbolicTensor:
    """A pre-activation bottleneck block; the stride is on its 3x3 convolution, and its shortcut
    is a 1x1 convolution of the activated input, a strided 1x1 max pooling, or the input."""
    preact = batch_norm(f"{name}_preact_bn")(x)
    preact = Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = batch_norm(f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = batch_norm(f"{name}_2_bn")(x)
    x = Activation("relu", name=f"{name}_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x: SymbolicTensor, filters: int, blocks: int, stride1: int = 2,
                             name: str = "") -> SymbolicTensor:
    """`blocks` version-2 blocks: the first has a convolution shortcut, the last stride
    `stride1`."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _resnet_v2(blocks: tuple, model: str, include_top, weights, input_tensor, input_shape,
               pooling, classes, classifier_activation, name) -> Model:
    def stack_fn(x):
        x = stack_residual_blocks_v2(x, 64, blocks[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, blocks[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, blocks[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, blocks[3], stride1=1, name="conv5")

    return build_resnet(stack_fn, True, True, model, include_top, weights, input_tensor,
                        input_shape, pooling, classes, classifier_activation, name)


def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
               pooling=None, classes=1000, classifier_activation="softmax",
               name="resnet50v2") -> Model:
    return _resnet_v2((3, 4, 6, 3), "ResNet50V2", include_top, weights, input_tensor,
                      input_shape, pooling, classes, classifier_activation, name)


def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet101v2") -> Model:
    return _resnet_v2((3, 4, 23, 3), "ResNet101V2", include_top, weights, input_tensor,
                      input_shape, pooling, classes, classifier_activation, name)


def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet152v2") -> Model:
    return _resnet_v2((3, 8, 36, 3), "ResNet152V2", include_top, weights, input_tensor,
                      input_shape, pooling, classes, classifier_activation, name)


for _function in (ResNet50V2, ResNet101V2, ResNet152V2):
    _function.__doc__ = RESNET_DOC.format(model=_function.__name__, module="resnet_v2")
del _function


def preprocess_input(x, data_format=None):
    """ResNetV2's preprocessing: pixels from [0, 255] to [-1, 1] ("tf").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="tf")
