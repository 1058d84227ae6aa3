"""MobileNetV3Small and MobileNetV3Large (Howard et al., 2019): MobileNetV2's inverted residual
blocks, found by architecture search, with squeeze-and-excitation and hard-swish activations.

Each block expands its input with a 1x1 convolution, filters it with a depthwise convolution
(3x3 or 5x5), reweights the channels by squeeze-and-excitation in some blocks (a hard sigmoid
gate), and projects it back with a linear 1x1 convolution; blocks that keep the shape add their
input back. The minimalistic variants use 3x3 kernels, ReLU and no squeeze-and-excitation. The
model rescales its input itself (`include_preprocessing=True`), so `preprocess_input` passes
images through unchanged: give it pixels in [0, 255].
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor, is_symbolic
from ..layers import (
    Activation,
    Add,
    BatchNormalization,
    Conv2D,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Multiply,
    ReLU,
    Rescaling,
    ZeroPadding2D,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .mobilenet_v2 import _make_divisible

__all__ = ["MobileNetV3Large", "MobileNetV3Small", "decode_predictions", "preprocess_input"]

# The blocks: (expansion, filters, kernel size, stride, squeeze-and-excitation, activation).
# A kernel size of None is the model's (5, or 3 when minimalistic); "model" is the model's
# activation (hard swish, or ReLU when minimalistic); squeeze-and-excitation is never used by
# the minimalistic models.
_SMALL_BLOCKS = (
    (1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"),
    (88 / 24, 24, 3, 1, False, "relu"), (4, 40, None, 2, True, "model"),
    (6, 40, None, 1, True, "model"), (6, 40, None, 1, True, "model"),
    (3, 48, None, 1, True, "model"), (3, 48, None, 1, True, "model"),
    (6, 96, None, 2, True, "model"), (6, 96, None, 1, True, "model"),
    (6, 96, None, 1, True, "model"),
)
_LARGE_BLOCKS = (
    (1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
    (3, 40, None, 2, True, "relu"), (3, 40, None, 1, True, "relu"),
    (3, 40, None, 1, True, "relu"), (6, 80, 3, 2, False, "model"),
    (2.5, 80, 3, 1, False, "model"), (2.3, 80, 3, 1, False, "model"),
    (2.3, 80, 3, 1, False, "model"), (6, 112, 3, 1, True, "model"),
    (6, 112, 3, 1, True, "model"), (6, 160, None, 2, True, "model"),
    (6, 160, None, 1, True, "model"), (6, 160, None, 1, True, "model"),
)
_SE_RATIO = 0.25


def build_mobilenet_v3(blocks: tuple, last_point_channels: int, model_type: str, input_shape,
                       alpha, minimalistic, include_top, weights, input_tensor, classes,
                       pooling, dropout_rate, classifier_activation, include_preprocessing,
                       name) -> Model:
    """A MobileNetV3 of `blocks`, whose top widens to `last_point_channels` before the
    classifier."""
    # 1. Keras's checks, in its order. MobileNetV3 takes any input size, even with its top.
    application.check_weights(weights, include_top, classes)
    application.check_input_tensor_width(input_tensor, input_shape)
    if input_shape is None:
        if input_tensor is not None and is_symbolic(input_tensor):
            input_shape = (input_tensor.shape[2], input_tensor.shape[1], 3)
        else:
            input_shape = (None, None, 3)
    rows, cols = input_shape[0], input_shape[1]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32. Received: input_shape={input_shape}")
    if application.is_imagenet(weights):
        if alpha not in ((1.0,) if minimalistic else (0.75, 1.0)):
            raise ValueError(
                "ImageNet weights exist for alpha 0.75 or 1.0, and for alpha 1.0 only when "
                f"minimalistic. Received: alpha={alpha}, minimalistic={minimalistic}"
            )
        if include_top:
            application.check_classifier_activation(classifier_activation, weights)
        variant = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        top = "" if include_top else "_no_top_v2"
        application.refuse_imagenet(weights, f"MobileNetV3{model_type.title()}",
                                    f"weights_mobilenet_v3_{variant}{top}.h5")

    # 2. The network.
    if minimalistic:
        kernel, activation, se_ratio = 3, _relu, None
    else:
        kernel, activation, se_ratio = 5, _hard_swish, _SE_RATIO
    img_input = application.image_input(input_tensor, tuple(input_shape))
    x = img_input
    if include_preprocessing:
        x = Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
               name="conv")(x)
    x = _batch_norm("conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, kernel_size, stride, se, block_activation) in enumerate(
            blocks):
        x = _inverted_res_block(
            x, expansion, _make_divisible(filters * alpha, 8), kernel_size or kernel, stride,
            se_ratio if se else None, activation if block_activation == "model" else _relu,
            block_id)

    last_conv_channels = _make_divisible(x.shape[-1] * 6, 8)
    if alpha > 1.0:
        last_point_channels = _make_divisible(last_point_channels * alpha, 8)
    x = Conv2D(last_conv_channels, kernel_size=1, padding="same", use_bias=False,
               name="conv_1")(x)
    x = _batch_norm("conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Conv2D(last_point_channels, kernel_size=1, padding="same", use_bias=True,
                   name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate)(x)
        x = Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = Flatten()(x)
        application.check_classifier_activation(classifier_activation, weights)
        x = Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling, avg_name="avg_pool", max_name="max_pool")
    return application.make_model(img_input, input_tensor, x, name, weights)


def _batch_norm(name: str) -> BatchNormalization:
    return BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _relu(x: SymbolicTensor) -> SymbolicTensor:
    return ReLU()(x)


def _hard_swish(x: SymbolicTensor) -> SymbolicTensor:
    return Activation("hard_swish")(x)


def _hard_sigmoid(x: SymbolicTensor) -> SymbolicTensor:
    # Written with operators, as Keras writes it: its graph records the addition and the
    # product as operations, not layers.
    return ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _se_block(inputs: SymbolicTensor, filters: int, se_ratio: float,
              prefix: str) -> SymbolicTensor:
    """Squeeze-and-excitation: each channel scaled by a gate in [0, 1] computed from the
    channels' means."""
    x = GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = Conv2D(_make_divisible(filters * se_ratio, 8), kernel_size=1, padding="same",
               name=f"{prefix}squeeze_excite_conv")(x)
    x = ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = Conv2D(filters, kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x: SymbolicTensor, expansion: float, filters: int, kernel_size: int,
                        stride: int, se_ratio: float | None, activation,
                        block_id: int) -> SymbolicTensor:
    """Expand (not in block 0), depthwise (stride), squeeze-and-excitation (if `se_ratio`),
    project; add the input when the shape is kept. Layers are named `expanded_conv_*` in block
    0, `expanded_conv_{block_id}_*` after."""
    shortcut = x
    in_channels = x.shape[-1]
    expanded = _make_divisible(in_channels * expansion, 8)
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = Conv2D(expanded, kernel_size=1, padding="same", use_bias=False,
                   name=f"{prefix}expand")(x)
        x = _batch_norm(f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = ZeroPadding2D(padding=application.correct_pad(x, kernel_size),
                          name=f"{prefix}depthwise_pad")(x)
    x = DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                        use_bias=False, name=f"{prefix}depthwise")(x)
    x = _batch_norm(f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, expanded, se_ratio, prefix)
    x = Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
               name=f"{prefix}project")(x)
    x = _batch_norm(f"{prefix}project_bn")(x)
    if stride == 1 and in_channels == filters:
        x = Add(name=f"{prefix}add")([shortcut, x])
    return x


_MOBILENET_V3_DOC = """Instantiate {model}, a functional model with Keras's architecture and
    layer names.

    It takes RGB images of any size of at least 32x32, with pixels in [0, 255] (the model
    rescales them itself unless `include_preprocessing=False`); ImageNet weights were trained
    at 224x224.

    Args:
        input_shape: `(height, width, 3)`, at least 32x32; None for any size. Given with
            `input_tensor`, its width must be the tensor's.
        alpha: the width multiplier: < 1 thins every layer, > 1 widens it, also the last
            convolution of the top (0.75 or 1.0 with ImageNet weights).
        minimalistic: 3x3 kernels, ReLU and no squeeze-and-excitation.
        include_top: whether to end with the classifier (global pooling, two 1x1
            convolutions, dropout).
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        classes: the number of classes of the top (1000 with ImageNet weights).
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        dropout_rate: the dropout before the classifier's last convolution.
        classifier_activation: the top's activation; None gives logits.
        include_preprocessing: whether the model starts by rescaling [0, 255] to [-1, 1].
        name: the model's name.

    Returns:
        A functional `Model`.

    >>> model = {model}(weights=None, include_top=False, input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 2, 2, {channels})
    """


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Small") -> Model:
    return build_mobilenet_v3(_SMALL_BLOCKS, 1024, "small", input_shape, alpha, minimalistic,
                              include_top, weights, input_tensor, classes, pooling,
                              dropout_rate, classifier_activation, include_preprocessing, name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Large") -> Model:
    return build_mobilenet_v3(_LARGE_BLOCKS, 1280, "large", input_shape, alpha, minimalistic,
                              include_top, weights, input_tensor, classes, pooling,
                              dropout_rate, classifier_activation, include_preprocessing, name)


MobileNetV3Small.__doc__ = _MOBILENET_V3_DOC.format(model="MobileNetV3Small", channels=576)
MobileNetV3Large.__doc__ = _MOBILENET_V3_DOC.format(model="MobileNetV3Large", channels=960)


def preprocess_input(x, data_format=None):
    """MobileNetV3 needs no preprocessing (the model rescales its input): returns `x`.

    Args:
        x: images with pixels in [0, 255].
        data_format: unused; kept for the same signature as the other models'.
    """
    return x
