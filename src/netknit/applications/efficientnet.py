"""EfficientNetB0 to B7 (Tan and Le, 2019): mobile inverted bottlenecks with squeeze-and-excitation,
scaled in width, depth and input size together.

B0 has seven stages of "MBConv" blocks: a 1x1 expansion (6 times the channels, except in the
first stage), a depthwise convolution, squeeze-and-excitation (global pooling, two 1x1
convolutions, the channels reweighted by a sigmoid), and a 1x1 projection; blocks that keep the
shape add their input back after a per-sample dropout that grows with depth. B1 to B7 multiply
the filters by a width coefficient (rounded to multiples of 8) and the repeats by a depth
coefficient. The model rescales its input itself (`Rescaling` and `Normalization` layers), so
its `preprocess_input` passes images through unchanged: give it pixels in [0, 255].
"""

from __future__ import annotations

import math

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
    ZeroPadding2D,
    add,
    multiply,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions

__all__ = ["EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
           "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
           "decode_predictions", "preprocess_input"]

# B0's stages: (kernel size, repeats, filters in, filters out, expansion, stride); every block
# has squeeze-and-excitation with ratio 0.25 and an identity skip where the shape allows it.
_STAGES = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
           (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
           (3, 1, 192, 320, 6, 1))
_SE_RATIO = 0.25

# He-normal-like initialization over the outputs for the convolutions, a narrow uniform one for
# the classifier (the configs Keras gives these layers).
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}


def build_efficientnet(width_coefficient: float, depth_coefficient: float, default_size: int,
                       dropout_rate: float, model: str, include_top, weights, input_tensor,
                       input_shape, pooling, classes, classifier_activation, name,
                       drop_connect_rate: float = 0.2, depth_divisor: int = 8,
                       activation: str = "swish") -> Model:
    """An EfficientNet: B0's stages with filters scaled by `width_coefficient` and repeats by
    `depth_coefficient`, for `default_size` inputs, with dropout `dropout_rate` before the
    classifier."""
    input_shape = application.checked_input_shape(
        model, f"{name}{'' if include_top else '_notop'}.h5", weights, include_top, classes,
        input_shape, classifier_activation, default_size)

    def round_filters(filters: int) -> int:
        scaled = filters * width_coefficient
        rounded = max(depth_divisor,
                      int(scaled + depth_divisor / 2) // depth_divisor * depth_divisor)
        if rounded < 0.9 * scaled:
            rounded += depth_divisor
        return int(rounded)

    def round_repeats(repeats: int) -> int:
        return int(math.ceil(depth_coefficient * repeats))

    img_input = application.image_input(input_tensor, input_shape)
    # The ImageNet weights (refused above) would add a third layer rescaling by ImageNet's
    # standard deviations: their Normalization layer holds the variances instead.
    x = Rescaling(1.0 / 255.0)(img_input)
    x = Normalization(axis=3)(x)
    x = ZeroPadding2D(padding=application.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = BatchNormalization(axis=3, name="stem_bn")(x)
    x = Activation(activation, name="stem_activation")(x)

    total_blocks = float(sum(round_repeats(stage[1]) for stage in _STAGES))
    block_index = 0
    for i, (kernel_size, repeats, filters_in, filters_out, expansion, strides) in enumerate(
            _STAGES):
        filters_in, filters_out = round_filters(filters_in), round_filters(filters_out)
        for j in range(round_repeats(repeats)):
            if j > 0:
                strides, filters_in = 1, filters_out
            x = mbconv_block(x, activation, drop_connect_rate * block_index / total_blocks,
                             name=f"block{i + 1}{chr(j + 97)}_", filters_in=filters_in,
                             filters_out=filters_out, kernel_size=kernel_size, strides=strides,
                             expand_ratio=expansion, se_ratio=_SE_RATIO)
            block_index += 1

    x = Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv")(x)
    x = BatchNormalization(axis=3, name="top_bn")(x)
    x = Activation(activation, name="top_activation")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate, name="top_dropout")(x)
        x = Dense(classes, activation=classifier_activation,
                  kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling, avg_name="avg_pool", max_name="max_pool")
    return application.make_model(img_input, input_tensor, x, name, weights)


def mbconv_block(inputs: SymbolicTensor, activation: str = "swish", drop_rate: float = 0.0,
                 name: str = "", filters_in: int = 32, filters_out: int = 16,
                 kernel_size: int = 3, strides: int = 1, expand_ratio: int = 1,
                 se_ratio: float = 0.0, id_skip: bool = True) -> SymbolicTensor:
    """One mobile inverted bottleneck block; its layers are named `{name}expand_conv`, ..."""
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = Conv2D(filters, 1, padding="same", use_bias=False,
                   kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}expand_conv")(x)
        x = BatchNormalization(axis=3, name=f"{name}expand_bn")(x)
        x = Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = ZeroPadding2D(padding=application.correct_pad(x, kernel_size),
                          name=f"{name}dwconv_pad")(x)
    x = DepthwiseConv2D(kernel_size, strides=strides,
                        padding="valid" if strides == 2 else "same", use_bias=False,
                        depthwise_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}dwconv")(x)
    x = BatchNormalization(axis=3, name=f"{name}bn")(x)
    x = Activation(activation, name=f"{name}activation")(x)

    if 0 < se_ratio <= 1:
        # Squeeze to one value per channel, excite: a weight in (0, 1) for each channel.
        se = GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se = Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
        se = Conv2D(max(1, int(filters_in * se_ratio)), 1, padding="same",
                    activation=activation, kernel_initializer=CONV_KERNEL_INITIALIZER,
                    name=f"{name}se_reduce")(se)
        se = Conv2D(filters, 1, padding="same", activation="sigmoid",
                    kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_expand")(se)
        x = multiply([x, se], name=f"{name}se_excite")

    x = Conv2D(filters_out, 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}project_conv")(x)
    x = BatchNormalization(axis=3, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # Stochastic depth: drop the whole residual branch of a sample.
            x = Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = add([x, inputs], name=f"{name}add")
    return x


_EFFICIENTNET_DOC = """Instantiate {model}, a functional model with Keras's architecture and layer
    names.

    The default input is {size}x{size} RGB with pixels in [0, 255]: the model rescales them
    itself. Keras's model for weights="imagenet" has one more layer, with no weights (a
    `Rescaling` by ImageNet's standard deviations); loaded from a path, in Keras as here, its
    ImageNet file goes into a model without that layer.

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
        name: the model's name.

    Returns:
        A functional `Model`.
    """

# (width, depth, default input size, top dropout) of B0 to B7.
_SCALING = {"B0": (1.0, 1.0, 224, 0.2), "B1": (1.0, 1.1, 240, 0.2), "B2": (1.1, 1.2, 260, 0.3),
            "B3": (1.2, 1.4, 300, 0.3), "B4": (1.4, 1.8, 380, 0.4), "B5": (1.6, 2.2, 456, 0.4),
            "B6": (1.8, 2.6, 528, 0.5), "B7": (2.0, 3.1, 600, 0.5)}


def _variant(size: str):
    model = f"EfficientNet{size}"
    default_name = model.lower()

    def builder(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name=default_name) -> Model:
        return build_efficientnet(*_SCALING[size], model, include_top, weights, input_tensor,
                                  input_shape, pooling, classes, classifier_activation, name)

    builder.__name__ = builder.__qualname__ = model
    builder.__doc__ = _EFFICIENTNET_DOC.format(model=model, size=_SCALING[size][2])
    return builder


EfficientNetB0 = _variant("B0")
EfficientNetB1 = _variant("B1")
EfficientNetB2 = _variant("B2")
EfficientNetB3 = _variant("B3")
EfficientNetB4 = _variant("B4")
EfficientNetB5 = _variant("B5")
EfficientNetB6 = _variant("B6")
EfficientNetB7 = _variant("B7")


def preprocess_input(x, data_format=None):
    """EfficientNet needs no preprocessing (the model rescales its input): returns `x`.

    Args:
        x: images with pixels in [0, 255].
        data_format: unused; kept for the same signature as the other models'.
    """
    return x
