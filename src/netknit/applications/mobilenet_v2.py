"""MobileNetV2 (Sandler et al., 2018): inverted residual blocks with linear bottlenecks.

Each block widens its input with a 1x1 convolution ("expand", 6 times the channels), filters it
with a 3x3 depthwise convolution, and narrows it again with a 1x1 convolution ("project") that
has no activation; blocks that keep the shape add their input back. `alpha` scales the filters,
rounded to multiples of 8. Images go through `preprocess_input` ("tf" mode) first.
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor, is_symbolic
from ..layers import (
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    GlobalAveragePooling2D,
    ReLU,
    ZeroPadding2D,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

# The input sizes ImageNet weights exist for, and the widths (alpha).
IMAGENET_SIZES = (96, 128, 160, 192, 224)
IMAGENET_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)

# (filters, stride, expansion) of the 17 inverted residual blocks, block_id 0 to 16.
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
           (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
           (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",
                input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax",
                name=None) -> Model:
    """Instantiate MobileNetV2, a functional model with Keras's architecture and layer names.

    The default input is 224x224 RGB; ImageNet weights exist for square inputs of 96, 128,
    160, 192 or 224 pixels. Weights files of Keras's MobileNetV2 (`save_weights`) load into it.

    Args:
        input_shape: `(height, width, 3)`, at least 32x32. With include_top=True only a square
            input of 96, 128, 160, 192 or 224 pixels is used as given (else 224x224). Given
            with `input_tensor`, its width must be the tensor's.
        alpha: the width multiplier: < 1 thins every layer, > 1 widens it, also the last
            convolution (0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 with ImageNet weights).
        include_top: whether to end with global average pooling and the dense classifier.
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on; without
            `input_shape`, its size chooses the default size.
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        name: the model's name; by default `mobilenetv2_{alpha:.2f}_{rows}`.

    Returns:
        A functional `Model`.

    >>> model = MobileNetV2(weights=None, alpha=0.35, include_top=False,
    ...                     input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 2, 2, 1280)
    """
    application.check_weights(weights, include_top, classes)
    application.check_input_tensor_width(input_tensor, input_shape)
    if input_shape is not None:
        sizes = input_shape[0], input_shape[1]
    elif input_tensor is not None and is_symbolic(input_tensor):
        sizes = input_tensor.shape[1], input_tensor.shape[2]
    else:
        sizes = None, None
    default_size = sizes[0] if sizes[0] == sizes[1] and sizes[0] in IMAGENET_SIZES else 224
    input_shape = application.image_input_shape(input_shape, default_size=default_size,
                                                min_size=32, require_flatten=include_top,
                                                weights=weights)
    rows = input_shape[0]
    if application.is_imagenet(weights) and alpha not in IMAGENET_ALPHAS:
        raise ValueError("ImageNet weights exist for alpha 0.35, 0.50, 0.75, 1.0, 1.3 or 1.4 "
                         f"only. Received: alpha={alpha}")
    if include_top:
        application.check_classifier_activation(classifier_activation, weights)
    if application.is_imagenet(weights):
        # Keras loads the 224x224 weights for other sizes.
        size = rows if rows == input_shape[1] and rows in IMAGENET_SIZES else 224
        application.refuse_imagenet(
            weights, "MobileNetV2", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_"
            f"{float(alpha)}_{size}{'' if include_top else '_no_top'}.h5")

    img_input = application.image_input(input_tensor, input_shape)
    x = Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
               use_bias=False, name="Conv1")(img_input)
    x = _batch_norm("bn_Conv1")(x)
    x = ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)

    # Widening the network widens its last convolution too; thinning it does not.
    last_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _batch_norm("Conv_1_bn")(x)
    x = ReLU(6.0, name="out_relu")(x)

    if include_top:
        x = GlobalAveragePooling2D()(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    return application.make_model(img_input, input_tensor, x, name, weights)


def _batch_norm(name: str) -> BatchNormalization:
    return BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs: SymbolicTensor, expansion: int, stride: int, alpha: float,
                        filters: int, block_id: int) -> SymbolicTensor:
    """Expand (not in block 0), depthwise 3x3 (stride), project; add the input when the shape
    is kept. Block 0's layers are named `expanded_conv_*`, the others `block_{id}_*`."""
    in_channels = inputs.shape[-1]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                   activation=None, name=f"{prefix}expand")(x)
        x = _batch_norm(f"{prefix}expand_BN")(x)
        x = ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = ZeroPadding2D(padding=application.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                        padding="same" if stride == 1 else "valid",
                        name=f"{prefix}depthwise")(x)
    x = _batch_norm(f"{prefix}depthwise_BN")(x)
    x = ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
               name=f"{prefix}project")(x)
    x = _batch_norm(f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return Add(name=f"{prefix}add")([inputs, x])
    return x


def _make_divisible(value: float, divisor: int) -> int:
    """`value` rounded to the nearest multiple of `divisor` (at least `divisor`), rounded up
    once more if that loses over 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def preprocess_input(x, data_format=None):
    """MobileNetV2's preprocessing: pixels from [0, 255] to [-1, 1] ("tf").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="tf")
