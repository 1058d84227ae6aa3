"""ResNet50 alone, under the module name Keras also gives it (`keras.applications.resnet50`)."""

from .resnet import ResNet50 as ResNet50
from .resnet import decode_predictions as decode_predictions
from .resnet import preprocess_input as preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
