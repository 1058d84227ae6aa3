"""ConvNeXtTiny, Small, Base, Large and XLarge (Liu et al., 2022): a ResNet modernized after
vision transformers.

A patchify stem (a 4x4 convolution of stride 4 and layer normalization), then four stages of
ConvNeXt blocks separated by downsampling (layer normalization and a 2x2 convolution of stride
2). A block is a 7x7 depthwise convolution, layer normalization, a pointwise MLP (two `Dense`
layers, 4 times wider inside, GELU between), a learned per-channel scale (`LayerScale`) and a
residual addition. The stem and each downsampling are small `Sequential` models inside the
functional one, as in Keras. The model normalizes its input itself (`include_preprocessing`), so
`preprocess_input` passes images through unchanged: give it pixels in [0, 255].
"""

from __future__ import annotations

from .. import initializers
from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Layer,
    LayerNormalization,
    Normalization,
)
from ..models import Model, Sequential
from . import application
from .imagenet_utils import TORCH_MEAN_RGB, TORCH_STD_RGB
from .imagenet_utils import decode_predictions as decode_predictions

__all__ = ["ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
           "decode_predictions", "preprocess_input"]

# (blocks per stage, channels per stage) of each variant.
_VARIANTS = {
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}
_LAYER_SCALE_INIT = 1e-6
_EPSILON = 1e-6


class LayerScale(Layer):
    """Multiplies each channel by a learned factor, initially small (Touvron et al., 2021).

    Args:
        init_values: the factors' initial value.
        projection_dim: the number of channels (the last axis).

    Input shape: any, with `projection_dim` channels last. Output shape: the same.
    Weight: `gamma`, of shape `(projection_dim,)`.

    >>> LayerScale(1e-6, 4)(torch.ones(2, 4)).shape
    torch.Size([2, 4])
    """

    # Where Keras defines it, and writes it in saved configs.
    _keras_module = "keras.src.applications.convnext"

    def __init__(self, init_values: float, projection_dim: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(projection_dim, int) or projection_dim < 1:
            raise ValueError("Expected a positive integer for projection_dim. Received: "
                             f"projection_dim={projection_dim!r}")
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True)

    def forward(self, inputs):
        return inputs * self.gamma

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}


def build_convnext(variant: str, model: str, include_top, include_preprocessing, weights,
                   input_tensor, input_shape, pooling, classes, classifier_activation,
                   name) -> Model:
    """A ConvNeXt of `variant`'s stages ("tiny", ..., "xlarge")."""
    depths, dims = _VARIANTS[variant]
    keras_file = f"convnext_{variant}{'' if include_top else '_notop'}.h5"
    input_shape = application.checked_input_shape(model, keras_file, weights, include_top,
                                                  classes, input_shape, classifier_activation)

    img_input = application.image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[-1] == 3:
        x = Normalization(mean=[m * 255 for m in TORCH_MEAN_RGB],
                          variance=[(s * 255) ** 2 for s in TORCH_STD_RGB],
                          name=f"{name}_prestem_normalization")(x)

    # The stem and the three downsamplings are made before any block, as Keras makes them.
    downsamplings = [Sequential([
        Conv2D(dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        LayerNormalization(epsilon=_EPSILON, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")]
    for i in range(3):
        downsamplings.append(Sequential([
            LayerNormalization(epsilon=_EPSILON, name=f"{name}_downsampling_layernorm_{i}"),
            Conv2D(dims[i + 1], kernel_size=2, strides=2, name=f"{name}_downsampling_conv_{i}"),
        ], name=f"{name}_downsampling_block_{i}"))
    for i, (downsampling, depth, dim) in enumerate(zip(downsamplings, depths, dims)):
        x = downsampling(x)
        for j in range(depth):
            x = convnext_block(x, dim, name=f"{name}_stage_{i}_block_{j}")

    if include_top:
        x = GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = LayerNormalization(epsilon=_EPSILON, name=f"{name}_head_layernorm")(x)
        x = Dense(classes, activation=classifier_activation, name=f"{name}_head_dense")(x)
    else:
        if pooling == "avg":
            x = GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = GlobalMaxPooling2D()(x)
        x = LayerNormalization(epsilon=_EPSILON)(x)
    return application.make_model(img_input, input_tensor, x, name, weights)


def convnext_block(inputs: SymbolicTensor, projection_dim: int, name: str) -> SymbolicTensor:
    """Depthwise 7x7 convolution, layer normalization, pointwise MLP, layer scale, plus the
    input. Keras's builders use no stochastic depth, so the residual branch ends in an identity
    `Activation` (`{name}_identity`)."""
    x = Conv2D(projection_dim, kernel_size=7, padding="same", groups=projection_dim,
               name=f"{name}_depthwise_conv")(inputs)
    x = LayerNormalization(epsilon=_EPSILON, name=f"{name}_layernorm")(x)
    x = Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
    x = Activation("gelu", name=f"{name}_gelu")(x)
    x = Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
    x = LayerScale(_LAYER_SCALE_INIT, projection_dim, name=f"{name}_layer_scale")(x)
    return inputs + Activation("linear", name=f"{name}_identity")(x)


_CONVNEXT_DOC = """Instantiate {model}, a functional model with Keras's architecture and layer
    names.

    The default input is 224x224 RGB with pixels in [0, 255]: the model normalizes them itself
    unless `include_preprocessing=False`.

    Args:
        include_top: whether to end with global average pooling, layer normalization and the
            dense classifier; without it, the features end in a layer normalization.
        include_preprocessing: whether the model starts by normalizing the pixels with
            ImageNet's mean and standard deviation (only for 3 channels).
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
        name: the model's name, also the prefix of its layers' names.

    Returns:
        A functional `Model`.

    >>> model = {model}(weights=None, include_top=False, input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 2, 2, {channels})
    """


def _variant(variant: str):
    model = f"ConvNeXt{variant.title().replace('Xl', 'XL')}"
    default_name = f"convnext_{variant}"

    def builder(include_top=True, include_preprocessing=True, weights="imagenet",
                input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=default_name) -> Model:
        return build_convnext(variant, model, include_top, include_preprocessing, weights,
                              input_tensor, input_shape, pooling, classes, classifier_activation,
                              name)

    builder.__name__ = builder.__qualname__ = model
    builder.__doc__ = _CONVNEXT_DOC.format(model=model, channels=_VARIANTS[variant][1][-1])
    return builder


ConvNeXtTiny = _variant("tiny")
ConvNeXtSmall = _variant("small")
ConvNeXtBase = _variant("base")
ConvNeXtLarge = _variant("large")
ConvNeXtXLarge = _variant("xlarge")


def preprocess_input(x, data_format=None):
    """ConvNeXt needs no preprocessing (the model normalizes its input): returns `x`.

    Args:
        x: images with pixels in [0, 255].
        data_format: unused; kept for the same signature as the other models'.
    """
    return x
