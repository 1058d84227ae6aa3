"""EfficientNetV2B0 to B3, S, M and L (Tan and Le, 2021): EfficientNet with fused early stages,
found by a search for training speed as well as accuracy.

The early stages use "Fused-MBConv" blocks (the 1x1 expansion and the depthwise 3x3
convolution fused into one regular 3x3 convolution), the later ones EfficientNet's MBConv
blocks with squeeze-and-excitation; blocks that keep the shape add their input back after a
per-sample dropout that grows with depth. B0 to B3 share one stage table, scaled in width and
depth; S, M and L have their own. The model rescales its input itself
(`include_preprocessing=True`), so `preprocess_input` passes images through unchanged: give it
pixels in [0, 255].
"""

from __future__ import annotations

import math

from .. import initializers
from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    GlobalAveragePooling2D,
    Normalization,
    Rescaling,
    Reshape,
    add,
    multiply,
)
from ..models import Model
from . import application
from .efficientnet import CONV_KERNEL_INITIALIZER, DENSE_KERNEL_INITIALIZER
from .imagenet_utils import TORCH_MEAN_RGB, TORCH_STD_RGB
from .imagenet_utils import decode_predictions as decode_predictions

__all__ = ["EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
           "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S", "decode_predictions",
           "preprocess_input"]

# Stages: (repeats, filters in, filters out, expansion, squeeze-and-excitation ratio, stride,
# fused). Every kernel is 3x3.
_B_STAGES = ((1, 32, 16, 1, 0, 1, True), (2, 16, 32, 4, 0, 2, True), (2, 32, 48, 4, 0, 2, True),
             (3, 48, 96, 4, 0.25, 2, False), (5, 96, 112, 6, 0.25, 1, False),
             (8, 112, 192, 6, 0.25, 2, False))
_S_STAGES = ((2, 24, 24, 1, 0, 1, True), (4, 24, 48, 4, 0, 2, True), (4, 48, 64, 4, 0, 2, True),
             (6, 64, 128, 4, 0.25, 2, False), (9, 128, 160, 6, 0.25, 1, False),
             (15, 160, 256, 6, 0.25, 2, False))
_M_STAGES = ((3, 24, 24, 1, 0, 1, True), (5, 24, 48, 4, 0, 2, True), (5, 48, 80, 4, 0, 2, True),
             (7, 80, 160, 4, 0.25, 2, False), (14, 160, 176, 6, 0.25, 1, False),
             (18, 176, 304, 6, 0.25, 2, False), (5, 304, 512, 6, 0.25, 1, False))
_L_STAGES = ((4, 32, 32, 1, 0, 1, True), (7, 32, 64, 4, 0, 2, True), (7, 64, 96, 4, 0, 2, True),
             (10, 96, 192, 4, 0.25, 2, False), (19, 192, 224, 6, 0.25, 1, False),
             (25, 224, 384, 6, 0.25, 2, False), (7, 384, 640, 6, 0.25, 1, False))

# Variant: (stages, width coefficient, depth coefficient, default input size).
_VARIANTS = {
    "B0": (_B_STAGES, 1.0, 1.0, 224), "B1": (_B_STAGES, 1.0, 1.1, 240),
    "B2": (_B_STAGES, 1.1, 1.2, 260), "B3": (_B_STAGES, 1.2, 1.4, 300),
    "S": (_S_STAGES, 1.0, 1.0, 384), "M": (_M_STAGES, 1.0, 1.0, 480),
    "L": (_L_STAGES, 1.0, 1.0, 480),
}
_BN_MOMENTUM = 0.9
_ACTIVATION = "swish"
_DROPOUT_RATE = 0.2
_DROP_CONNECT_RATE = 0.2


def build_efficientnet_v2(variant: str, include_top, weights, input_tensor, input_shape,
                          pooling, classes, classifier_activation, include_preprocessing,
                          name) -> Model:
    """An EfficientNetV2 of `variant` ("B0", ..., "L")."""
    stages, width_coefficient, depth_coefficient, default_size = _VARIANTS[variant]
    input_shape = application.checked_input_shape(
        f"EfficientNetV2{variant}", f"{name}{'' if include_top else '_notop'}.h5", weights,
        include_top, classes, input_shape, classifier_activation, default_size)

    def round_filters(filters: int, divisor: int = 8) -> int:
        scaled = filters * width_coefficient
        return int(max(divisor, int(scaled + divisor / 2) // divisor * divisor))

    img_input = application.image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing:
        # The B models were trained on ImageNet-normalized pixels, S, M and L on [-1, 1].
        if variant.startswith("B") and input_shape[-1] == 3:
            x = Rescaling(scale=1.0 / 255)(x)
            x = Normalization(mean=list(TORCH_MEAN_RGB), variance=[s**2 for s in TORCH_STD_RGB],
                              axis=3)(x)
        else:
            x = Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = Conv2D(round_filters(stages[0][1]), kernel_size=3, strides=2,
               kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same", use_bias=False,
               name="stem_conv")(x)
    x = BatchNormalization(axis=3, momentum=_BN_MOMENTUM, name="stem_bn")(x)
    x = Activation(_ACTIVATION, name="stem_activation")(x)

    total_blocks = float(sum(stage[0] for stage in stages))
    block_index = 0
    for i, (repeats, filters_in, filters_out, expansion, se_ratio, strides, fused) in enumerate(
            stages):
        filters_in, filters_out = round_filters(filters_in), round_filters(filters_out)
        block = fused_mbconv_block if fused else mbconv_block
        for j in range(int(math.ceil(depth_coefficient * repeats))):
            if j > 0:
                strides, filters_in = 1, filters_out
            x = block(x, filters_in, filters_out, expansion, strides, se_ratio,
                      _DROP_CONNECT_RATE * block_index / total_blocks,
                      name=f"block{i + 1}{chr(j + 97)}_")
            block_index += 1

    x = Conv2D(round_filters(1280), kernel_size=1, strides=1,
               kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same", use_bias=False,
               name="top_conv")(x)
    x = BatchNormalization(axis=3, momentum=_BN_MOMENTUM, name="top_bn")(x)
    x = Activation(activation=_ACTIVATION, name="top_activation")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dropout(_DROPOUT_RATE, name="top_dropout")(x)
        x = Dense(classes, activation=classifier_activation,
                  kernel_initializer=DENSE_KERNEL_INITIALIZER,
                  bias_initializer=initializers.Constant(0.0), name="predictions")(x)
    else:
        x = application.pool_features(x, pooling, avg_name="avg_pool", max_name="max_pool")
    return application.make_model(img_input, input_tensor, x, name, weights)


def _conv(filters: int, kernel_size: int, name: str, strides: int = 1, **kwargs) -> Conv2D:
    return Conv2D(filters, kernel_size=kernel_size, strides=strides, padding="same",
                  use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER, name=name, **kwargs)


def _batch_norm(name: str) -> BatchNormalization:
    return BatchNormalization(axis=3, momentum=_BN_MOMENTUM, name=name)


def _squeeze_excite(x: SymbolicTensor, filters_in: int, filters: int, se_ratio: float,
                    name: str) -> SymbolicTensor:
    """Each of the `filters` channels reweighted by a gate in (0, 1) from the channels' means."""
    se = GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = Conv2D(max(1, int(filters_in * se_ratio)), 1, padding="same", activation=_ACTIVATION,
                kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_reduce")(se)
    se = Conv2D(filters, 1, padding="same", activation="sigmoid",
                kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_expand")(se)
    return multiply([x, se], name=f"{name}se_excite")


def _residual(x: SymbolicTensor, inputs: SymbolicTensor, drop_rate: float,
              name: str) -> SymbolicTensor:
    """The input added back, after stochastic depth (dropping the whole branch of a sample)."""
    if drop_rate:
        x = Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
    return add([x, inputs], name=f"{name}add")


def mbconv_block(inputs: SymbolicTensor, filters_in: int, filters_out: int, expansion: int,
                 strides: int, se_ratio: float, drop_rate: float, name: str) -> SymbolicTensor:
    """1x1 expansion, depthwise 3x3 convolution, squeeze-and-excitation, 1x1 projection."""
    filters = filters_in * expansion
    x = inputs
    if expansion != 1:
        x = _conv(filters, 1, f"{name}expand_conv")(x)
        x = _batch_norm(f"{name}expand_bn")(x)
        x = Activation(_ACTIVATION, name=f"{name}expand_activation")(x)
    x = DepthwiseConv2D(kernel_size=3, strides=strides,
                        depthwise_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                        use_bias=False, name=f"{name}dwconv2")(x)
    x = _batch_norm(f"{name}bn")(x)
    x = Activation(_ACTIVATION, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(x, filters_in, filters, se_ratio, name)
    x = _conv(filters_out, 1, f"{name}project_conv")(x)
    x = _batch_norm(f"{name}project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        x = _residual(x, inputs, drop_rate, name)
    return x


def fused_mbconv_block(inputs: SymbolicTensor, filters_in: int, filters_out: int,
                       expansion: int, strides: int, se_ratio: float, drop_rate: float,
                       name: str) -> SymbolicTensor:
    """A regular 3x3 expansion (the stride), then a 1x1 projection; without expansion, one 3x3
    convolution and its activation."""
    filters = filters_in * expansion
    x = inputs
    if expansion != 1:
        x = _conv(filters, 3, f"{name}expand_conv", strides=strides)(x)
        x = _batch_norm(f"{name}expand_bn")(x)
        x = Activation(activation=_ACTIVATION, name=f"{name}expand_activation")(x)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(x, filters_in, filters, se_ratio, name)
    if expansion != 1:
        x = _conv(filters_out, 1, f"{name}project_conv")(x)
    else:
        x = _conv(filters_out, 3, f"{name}project_conv", strides=strides)(x)
    x = _batch_norm(f"{name}project_bn")(x)
    if expansion == 1:
        x = Activation(activation=_ACTIVATION, name=f"{name}project_activation")(x)
    if strides == 1 and filters_in == filters_out:
        x = _residual(x, inputs, drop_rate, name)
    return x


_EFFICIENTNET_V2_DOC = """Instantiate {model}, a functional model with Keras's architecture and
    layer names.

    The default input is {size}x{size} RGB with pixels in [0, 255]: the model rescales them
    itself unless `include_preprocessing=False`.

    Args:
        include_top: whether to end with global average pooling, dropout and the classifier.
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        input_shape: `(height, width, 3)`, at least 32x32; only with include_top=False
            (the top needs `({size}, {size}, 3)`).
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        include_preprocessing: whether the model starts by rescaling the pixels ({scaling}).
        name: the model's name. Keras picks the stage table by the model's name, so only the
            default name builds in Keras; netknit picks it by the builder.

    Returns:
        A functional `Model`.
    """


def _variant(variant: str):
    model = f"EfficientNetV2{variant}"
    default_name = f"efficientnetv2-{variant.lower()}"

    def builder(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                include_preprocessing=True, name=default_name) -> Model:
        return build_efficientnet_v2(variant, include_top, weights, input_tensor, input_shape,
                                     pooling, classes, classifier_activation,
                                     include_preprocessing, name)

    scaling = ("to [0, 1], then standardized with ImageNet's mean and standard deviation"
               if variant.startswith("B") else "to [-1, 1]")
    builder.__name__ = builder.__qualname__ = model
    builder.__doc__ = _EFFICIENTNET_V2_DOC.format(model=model, size=_VARIANTS[variant][3],
                                                  scaling=scaling)
    return builder


EfficientNetV2B0 = _variant("B0")
EfficientNetV2B1 = _variant("B1")
EfficientNetV2B2 = _variant("B2")
EfficientNetV2B3 = _variant("B3")
EfficientNetV2S = _variant("S")
EfficientNetV2M = _variant("M")
EfficientNetV2L = _variant("L")


def preprocess_input(x, data_format=None):
    """EfficientNetV2 needs no preprocessing (the model rescales its input): returns `x`.

    Args:
        x: images with pixels in [0, 255].
        data_format: unused; kept for the same signature as the other models'.
    """
    return x
