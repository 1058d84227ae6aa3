"""InceptionResNetV2 (Szegedy et al., 2017): Inception modules with residual connections.

InceptionV3's stem, a first Inception module ("mixed_5b"), then three groups of residual
Inception blocks (10 "block35", 20 "block17" and 10 "block8" blocks) with reduction modules
("mixed_6a", "mixed_7a") between them. A block concatenates its branches, projects them back to
the input's channels with a 1x1 convolution and adds that, scaled down (0.17, 0.1, 0.2), to its
input (`CustomScaleLayer`). The default input is 299x299; images go through `preprocess_input`
("tf" mode) first.
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
    Layer,
    MaxPooling2D,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["InceptionResNetV2", "decode_predictions", "preprocess_input"]


class CustomScaleLayer(Layer):
    """The residual addition of an Inception-ResNet block: `inputs[0] + inputs[1] * scale`.

    Args:
        scale: the factor of the residual branch.

    Input shape: a list of two tensors of the same shape. Output shape: that shape.

    >>> CustomScaleLayer(0.5)([torch.ones(1, 2), torch.ones(1, 2)])
    tensor([[1.5000, 1.5000]])
    """

    # Where Keras defines it, and writes it in saved configs.
    _keras_module = "keras.src.applications.inception_resnet_v2"

    def __init__(self, scale: float, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def forward(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                      pooling=None, classes=1000, classifier_activation="softmax",
                      name="inception_resnet_v2") -> Model:
    """Instantiate InceptionResNetV2, a functional model with Keras's architecture and layer
    names.

    The default input is 299x299 RGB. InceptionResNetV2's weights files (`save_weights` of
    Keras's or netknit's InceptionResNetV2, or Keras's ImageNet file) load into it. Images go
    through `inception_resnet_v2.preprocess_input` first.

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

    >>> model = InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3))
    >>> model.output_shape
    (None, 1, 1, 1536)
    """
    input_shape = application.checked_input_shape(
        "InceptionResNetV2", application.keras_file_name("inception_resnet_v2", include_top),
        weights, include_top, classes, input_shape, classifier_activation, default_size=299,
        min_size=75)

    img_input = application.image_input(input_tensor, input_shape)
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = MaxPooling2D(3, strides=2)(x)

    # Inception-A module, then the 35x35 blocks.
    branch_0 = conv2d_bn(x, 96, 1)
    branch_1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    branch_2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    branch_pool = conv2d_bn(AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)
    x = Concatenate(axis=3, name="mixed_5b")([branch_0, branch_1, branch_2, branch_pool])
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)

    # Reduction-A, then the 17x17 blocks.
    branch_0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2,
                         padding="valid")
    branch_pool = MaxPooling2D(3, strides=2, padding="valid")(x)
    x = Concatenate(axis=3, name="mixed_6a")([branch_0, branch_1, branch_pool])
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)

    # Reduction-B, then the 8x8 blocks; the last one has no activation.
    branch_0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    branch_2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2,
                         padding="valid")
    branch_pool = MaxPooling2D(3, strides=2, padding="valid")(x)
    x = Concatenate(axis=3, name="mixed_7a")([branch_0, branch_1, branch_2, branch_pool])
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8",
                               block_idx=10)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")

    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling)
    return application.make_model(img_input, input_tensor, x, name, weights)


def conv2d_bn(x: SymbolicTensor, filters: int, kernel_size, strides=1, padding: str = "same",
              activation: str | None = "relu", use_bias: bool = False,
              name: str | None = None) -> SymbolicTensor:
    """A convolution, batch normalization without scale (only without bias) and the
    activation; named `{name}`, `{name}_bn` and `{name}_ac` when `name` is given."""
    x = Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
               name=name)(x)
    if not use_bias:
        x = BatchNormalization(axis=3, scale=False,
                               name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def inception_resnet_block(x: SymbolicTensor, scale: float, block_type: str, block_idx: int,
                           activation: str | None = "relu") -> SymbolicTensor:
    """One residual Inception block of `block_type` "block35", "block17" or "block8"; its
    layers are named `{block_type}_{block_idx}_*`."""
    if block_type == "block35":
        branches = [conv2d_bn(x, 32, 1),
                    conv2d_bn(conv2d_bn(x, 32, 1), 32, 3),
                    conv2d_bn(conv2d_bn(conv2d_bn(x, 32, 1), 48, 3), 64, 3)]
    elif block_type == "block17":
        branches = [conv2d_bn(x, 192, 1),
                    conv2d_bn(conv2d_bn(conv2d_bn(x, 128, 1), 160, [1, 7]), 192, [7, 1])]
    elif block_type == "block8":
        branches = [conv2d_bn(x, 192, 1),
                    conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1), 224, [1, 3]), 256, [3, 1])]
    else:
        raise ValueError('Expected block_type "block35", "block17" or "block8". Received: '
                         f"block_type={block_type!r}")
    block_name = f"{block_type}_{block_idx}"
    mixed = Concatenate(axis=3, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[3], 1, activation=None, use_bias=True,
                   name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = Activation(activation, name=f"{block_name}_ac")(x)
    return x


def preprocess_input(x, data_format=None):
    """InceptionResNetV2's preprocessing: pixels from [0, 255] to [-1, 1] ("tf").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="tf")
