"""MobileNet (Howard et al., 2017): depthwise separable convolutions, thinned by `alpha`.

After a strided 3x3 convolution, 13 blocks each run a 3x3 depthwise convolution and a 1x1
pointwise convolution, both normalized and followed by ReLU6. `alpha` scales every block's
number of filters; `depth_multiplier` the depthwise convolutions' outputs per channel. Images go
through `preprocess_input` ("tf" mode: pixels to [-1, 1]) first.
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    DepthwiseConv2D,
    Dropout,
    GlobalAveragePooling2D,
    ReLU,
    Reshape,
    ZeroPadding2D,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

# The input sizes ImageNet weights exist for, and the widths (alpha).
IMAGENET_SIZES = (128, 160, 192, 224)
IMAGENET_ALPHAS = (0.25, 0.50, 0.75, 1.0)

# (pointwise filters, stride) of the 13 depthwise separable blocks.
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
           (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,
              weights="imagenet", input_tensor=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=None) -> Model:
    """Instantiate MobileNet, a functional model with Keras's architecture and layer names.

    The default input is 224x224 RGB; ImageNet weights exist for square inputs of 128, 160, 192
    or 224 pixels. Weights files of Keras's MobileNet (`save_weights`) load into it.

    Args:
        input_shape: `(height, width, 3)`, at least 32x32; with include_top=True, only a
            square input of 128, 160, 192 or 224 pixels is used as given (else 224x224).
        alpha: the width multiplier: < 1 thins every layer, > 1 widens it (0.25, 0.5, 0.75 or
            1.0 with ImageNet weights).
        depth_multiplier: outputs per channel of the depthwise convolutions (1 with ImageNet
            weights).
        dropout: the dropout rate before the classifier.
        include_top: whether to end with the classifier (a 1x1 convolution over the pooled
            features).
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        name: the model's name; by default `mobilenet_{alpha:.2f}_{rows}`.

    Returns:
        A functional `Model`.

    >>> model = MobileNet(weights=None, alpha=0.25, include_top=False, input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 2, 2, 256)
    """
    application.check_weights(weights, include_top, classes)
    default_size = 224
    if input_shape is not None:
        rows, cols = input_shape[0], input_shape[1]
        if rows == cols and rows in IMAGENET_SIZES:
            default_size = rows
    input_shape = application.image_input_shape(input_shape, default_size=default_size,
                                                min_size=32, require_flatten=include_top,
                                                weights=weights)
    rows = input_shape[0]
    if application.is_imagenet(weights):
        if depth_multiplier != 1:
            raise ValueError("ImageNet weights exist for depth_multiplier=1 only. Received: "
                             f"depth_multiplier={depth_multiplier}")
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError("ImageNet weights exist for alpha 0.25, 0.50, 0.75 or 1.0 only. "
                             f"Received: alpha={alpha}")
    if include_top:
        application.check_classifier_activation(classifier_activation, weights)
    if application.is_imagenet(weights):
        # Keras loads the 224x224 weights for other sizes.
        size = rows if rows == input_shape[1] and rows in IMAGENET_SIZES else 224
        alpha_text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0"}.get(alpha, "2_5")
        application.refuse_imagenet(weights, "MobileNet", f"mobilenet_{alpha_text}_{size}_tf"
                                    f"{'' if include_top else '_no_top'}.h5")

    img_input = application.image_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, 1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, (stride, stride), block_id)

    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Dropout(dropout, name="dropout")(x)
        x = Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = Reshape((classes,), name="reshape_2")(x)
        x = Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    return application.make_model(img_input, input_tensor, x, name, weights)


def _conv_block(inputs: SymbolicTensor, filters: int, alpha: float, kernel=(3, 3),
                strides=(1, 1)) -> SymbolicTensor:
    """The first convolution ("conv1"), normalized, then ReLU6."""
    x = Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False, strides=strides,
               name="conv1")(inputs)
    x = BatchNormalization(axis=-1, name="conv1_bn")(x)
    return ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs: SymbolicTensor, pointwise_conv_filters: int, alpha: float,
                          depth_multiplier: int = 1, strides=(1, 1),
                          block_id: int = 1) -> SymbolicTensor:
    """Depthwise 3x3 and pointwise 1x1 convolutions, each normalized, then ReLU6. A strided
    block pads one row and column at the end and convolves without padding."""
    if strides == (1, 1):
        x = inputs
    else:
        x = ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                        depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                        name=f"conv_dw_{block_id}")(x)
    x = BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same", use_bias=False,
               strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def preprocess_input(x, data_format=None):
    """MobileNet's preprocessing: pixels from [0, 255] to [-1, 1] ("tf").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="tf")
