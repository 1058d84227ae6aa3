"""The backend helpers Keras users call: `clear_session`, `epsilon`, `floatx`, ..."""

from .graph.symbolic import is_symbolic as is_keras_tensor
from .layers.layer import clear_session as clear_session
from .losses import EPSILON

__all__ = ["backend", "clear_session", "epsilon", "floatx", "image_data_format", "is_keras_tensor"]


def backend() -> str:
    """The engine: `"torch"`."""
    return "torch"


def epsilon() -> float:
    """The fuzz factor losses and metrics use against division by zero and log(0): 1e-7."""
    return EPSILON


def floatx() -> str:
    """The default float dtype of weights and computation: `"float32"`."""
    return "float32"


def image_data_format() -> str:
    """The default image layout of convolution and pooling layers: `"channels_last"`."""
    return "channels_last"
