"""VGG19: VGG16 (`vgg16.py`) with four convolutions, not three, in each of the last three blocks.

Images go through `preprocess_input` ("caffe" mode) first.
"""

from __future__ import annotations

from ..models import Model
from .imagenet_utils import decode_predictions as decode_predictions
from .vgg16 import VGG_DOC, build_vgg
from .vgg16 import preprocess_input as preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19") -> Model:
    return build_vgg((2, 2, 4, 4, 4), "VGG19", include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation, name)


VGG19.__doc__ = VGG_DOC.format(model="VGG19")
