"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., 2017): densely connected blocks.

In a dense block every layer ("conv block": BN-ReLU-1x1 convolution to 128 channels, BN-ReLU-3x3
convolution to 32) concatenates its 32 new channels to everything before it; transition blocks
between dense blocks halve the channels (1x1 convolution) and the size (2x2 average pooling).
The three models differ in how many conv blocks each of the four dense blocks has. Images go
through `preprocess_input` ("torch" mode) first.
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
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

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "decode_predictions",
           "preprocess_input"]

_GROWTH_RATE = 32
_BN_EPSILON = 1.001e-5


def _batch_norm(name: str) -> BatchNormalization:
    return BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name)


def dense_block(x: SymbolicTensor, blocks: int, name: str) -> SymbolicTensor:
    """`blocks` conv blocks, each adding 32 channels."""
    for i in range(1, blocks + 1):
        x = conv_block(x, _GROWTH_RATE, name=f"{name}_block{i}")
    return x


def transition_block(x: SymbolicTensor, reduction: float, name: str) -> SymbolicTensor:
    """BN-ReLU, a 1x1 convolution to `reduction` of the channels, 2x2 average pooling."""
    x = _batch_norm(f"{name}_bn")(x)
    x = Activation("relu", name=f"{name}_relu")(x)
    x = Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x: SymbolicTensor, growth_rate: int, name: str) -> SymbolicTensor:
    """`growth_rate` new channels from BN-ReLU-1x1 and BN-ReLU-3x3 convolutions, concatenated
    to the input."""
    new = _batch_norm(f"{name}_0_bn")(x)
    new = Activation("relu", name=f"{name}_0_relu")(new)
    new = Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(new)
    new = _batch_norm(f"{name}_1_bn")(new)
    new = Activation("relu", name=f"{name}_1_relu")(new)
    new = Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(new)
    return Concatenate(axis=3, name=f"{name}_concat")([x, new])


def build_densenet(blocks: tuple, model: str, include_top, weights, input_tensor, input_shape,
                   pooling, classes, classifier_activation, name) -> Model:
    """A DenseNet whose four dense blocks have `blocks` conv blocks."""
    input_shape = application.checked_input_shape(
        model, application.keras_file_name(model.lower(), include_top), weights, include_top,
        classes, input_shape, classifier_activation)

    img_input = application.image_input(input_tensor, input_shape)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _batch_norm("conv1_bn")(x)
    x = Activation("relu", name="conv1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks, 2):
        x = dense_block(x, count, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = _batch_norm("bn")(x)
    x = Activation("relu", name="relu")(x)

    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling, avg_name="avg_pool", max_name="max_pool")
    return application.make_model(img_input, input_tensor, x, name, weights)


_DENSENET_DOC = """Instantiate {model}, a functional model with Keras's architecture and layer
    names.

    The default input is 224x224 RGB. {model}'s weights files (`save_weights` of Keras's or
    netknit's {model}) load into it. Images go through `densenet.preprocess_input` first.

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
    (None, 2, 2, {channels})
    """


def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet121") -> Model:
    return build_densenet((6, 12, 24, 16), "DenseNet121", include_top, weights, input_tensor,
                          input_shape, pooling, classes, classifier_activation, name)


def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet169") -> Model:
    return build_densenet((6, 12, 32, 32), "DenseNet169", include_top, weights, input_tensor,
                          input_shape, pooling, classes, classifier_activation, name)


def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="densenet201") -> Model:
    return build_densenet((6, 12, 48, 32), "DenseNet201", include_top, weights, input_tensor,
                          input_shape, pooling, classes, classifier_activation, name)


for _function, _channels in ((DenseNet121, 1024), (DenseNet169, 1664), (DenseNet201, 1920)):
    _function.__doc__ = _DENSENET_DOC.format(model=_function.__name__, channels=_channels)
del _function, _channels


def preprocess_input(x, data_format=None):
    """DenseNet's preprocessing: pixels to [0, 1], then each channel standardized with
    ImageNet's mean and standard deviation ("torch"). See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="torch")
