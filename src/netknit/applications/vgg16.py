"""VGG16 (Simonyan and Zisserman, 2015): five blocks of 3x3 convolutions, then three dense layers.

`build_vgg` builds VGG16 and VGG19 (`vgg19.py`), which differ only in how many convolutions each
block has. Images go through `preprocess_input` ("caffe" mode) first.
"""

from __future__ import annotations

from ..layers import Conv2D, Dense, Flatten, MaxPooling2D
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]

VGG_DOC = """Instantiate {model}, a functional model with Keras's architecture and layer names.

    The default input is 224x224 RGB. {model}'s weights files (`save_weights` of Keras's or
    netknit's {model}) load into it.

    Args:
        include_top: whether to end with the 3 dense layers (flatten, fc1, fc2, predictions).
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        input_shape: `(height, width, 3)`, at least 32x32; only with include_top=False
            (the top needs `(224, 224, 3)`).
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max" (global
            pooling to a vector).
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        name: the model's name.

    Returns:
        A functional `Model`.

    >>> model = {model}(weights=None, include_top=False, input_shape=(64, 64, 3))
    >>> model.output_shape
    (None, 2, 2, 512)
    """


def build_vgg(convs_per_block: tuple, model: str, include_top, weights, input_tensor,
              input_shape, pooling, classes, classifier_activation, name) -> Model:
    """A VGG network whose block `i` has `convs_per_block[i]` convolutions."""
    input_shape = application.checked_input_shape(
        model, application.keras_file_name(model.lower(), include_top), weights, include_top,
        classes, input_shape, classifier_activation)

    img_input = application.image_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), 1):
        for conv in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same",
                       name=f"block{block}_conv{conv}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)

    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling)
    return application.make_model(img_input, input_tensor, x, name, weights)


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16") -> Model:
    return build_vgg((2, 2, 3, 3, 3), "VGG16", include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name)


VGG16.__doc__ = VGG_DOC.format(model="VGG16")


def preprocess_input(x, data_format=None):
    """VGG's preprocessing: RGB to BGR, then each channel minus its ImageNet mean ("caffe").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="caffe")
