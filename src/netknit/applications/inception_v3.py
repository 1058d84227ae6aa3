"""InceptionV3 (Szegedy et al., 2016): Inception modules with factorized convolutions.

A stem of plain convolutions and max poolings, then eleven Inception modules ("mixed0" to
"mixed10"): each runs parallel branches (1x1 convolutions, stacks of 3x3 ones, 7x7 ones
factorized into 1x7 and 7x1, and a pooling) and concatenates them along the channels. Two
modules ("mixed3", "mixed8") halve the size. Every convolution is followed by batch
normalization without a scale and a ReLU; only the module outputs are named, the rest keep
Keras's automatic names. The default input is 299x299; images go through `preprocess_input`
("tf" mode) first.
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    MaxPooling2D,
    concatenate,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="inception_v3") -> Model:
    """Instantiate InceptionV3, a functional model with Keras's architecture and layer names.

    The default input is 299x299 RGB. InceptionV3's weights files (`save_weights` of Keras's
    or netknit's InceptionV3, or Keras's ImageNet file) load into it. Images go through
    `inception_v3.preprocess_input` first.

    Args:
        include_top: whether to end with global average pooling and the dense classifier.
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        input_shape: `(height, width, 3)`, at least 75x75; only with include_top=False
            (the top needs `(299, 299, 3)`).
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        name: the model's name.

    Returns:
        A functional `Model`.

    >>> model = InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3))
    >>> model.output_shape
    (None, 1, 1, 2048)
    """
    input_shape = application.checked_input_shape(
        "InceptionV3", application.keras_file_name("inception_v3", include_top), weights,
        include_top, classes, input_shape, classifier_activation, default_size=299,
        min_size=75)

    img_input = application.image_input(input_tensor, input_shape)
    x = conv2d_bn(img_input, 32, 3, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = MaxPooling2D(3, strides=2)(x)

    for i, pool_filters in enumerate((32, 64, 64)):
        x = _module_35x35(x, pool_filters, name=f"mixed{i}")
    x = _reduction_35_to_17(x)
    for i, filters_7x7 in enumerate((128, 160, 160, 192)):
        x = _module_17x17(x, filters_7x7, name=f"mixed{4 + i}")
    x = _reduction_17_to_8(x)
    for i in range(2):
        x = _module_8x8(x, i)

    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling)
    return application.make_model(img_input, input_tensor, x, name, weights)


def conv2d_bn(x: SymbolicTensor, filters: int, num_row: int, num_col: int,
              padding: str = "same", strides=1, name: str | None = None) -> SymbolicTensor:
    """A convolution without bias, batch normalization without scale, and a ReLU; named
    `{name}_conv`, `{name}_bn` and `{name}` when `name` is given."""
    x = Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
               name=None if name is None else f"{name}_conv")(x)
    x = BatchNormalization(axis=3, scale=False, name=None if name is None else f"{name}_bn")(x)
    return Activation("relu", name=name)(x)


def _average_pool_branch(x: SymbolicTensor, filters: int) -> SymbolicTensor:
    branch = AveragePooling2D(3, strides=1, padding="same")(x)
    return conv2d_bn(branch, filters, 1, 1)


def _module_35x35(x: SymbolicTensor, pool_filters: int, name: str) -> SymbolicTensor:
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(x, 48, 1, 1)
    branch5x5 = conv2d_bn(branch5x5, 64, 5, 5)
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch_pool = _average_pool_branch(x, pool_filters)
    return concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=3, name=name)


def _reduction_35_to_17(x: SymbolicTensor) -> SymbolicTensor:
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=2, padding="valid")
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=2, padding="valid")
    branch_pool = MaxPooling2D(3, strides=2)(x)
    return concatenate([branch3x3, branch3x3dbl, branch_pool], axis=3, name="mixed3")


def _module_17x17(x: SymbolicTensor, filters_7x7: int, name: str) -> SymbolicTensor:
    """Branches with 7x7 convolutions factorized into 1x7 and 7x1 ones, `filters_7x7` wide
    inside."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, filters_7x7, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, filters_7x7, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, filters_7x7, 1, 1)
    for filters, rows, cols in ((filters_7x7, 7, 1), (filters_7x7, 1, 7), (filters_7x7, 7, 1),
                                (192, 1, 7)):
        branch7x7dbl = conv2d_bn(branch7x7dbl, filters, rows, cols)
    branch_pool = _average_pool_branch(x, 192)
    return concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=3, name=name)


def _reduction_17_to_8(x: SymbolicTensor) -> SymbolicTensor:
    branch3x3 = conv2d_bn(x, 192, 1, 1)
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, strides=2, padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=2, padding="valid")
    branch_pool = MaxPooling2D(3, strides=2)(x)
    return concatenate([branch3x3, branch7x7x3, branch_pool], axis=3, name="mixed8")


def _module_8x8(x: SymbolicTensor, index: int) -> SymbolicTensor:
    """Module `mixed{9 + index}`: its 3x3 branches end split into 1x3 and 3x1 convolutions
    side by side."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = concatenate([conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)],
                            axis=3, name=f"mixed9_{index}")
    branch3x3dbl = conv2d_bn(x, 448, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 384, 3, 3)
    branch3x3dbl = concatenate([conv2d_bn(branch3x3dbl, 384, 1, 3),
                                conv2d_bn(branch3x3dbl, 384, 3, 1)], axis=3)
    branch_pool = _average_pool_branch(x, 192)
    return concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=3,
                       name=f"mixed{9 + index}")


def preprocess_input(x, data_format=None):
    """InceptionV3's preprocessing: pixels from [0, 255] to [-1, 1] ("tf").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="tf")
