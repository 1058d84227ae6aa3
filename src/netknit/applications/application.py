"""What every application builder shares: Keras's argument checks, the image input, the top of the
network, and the weights the caller asked for.

Each builder runs the same steps in Keras's order: check `weights` and `classes`, settle the input
shape, check its own arguments (`alpha`, ...), then build the layers and make the model. The
ImageNet weights are refused before anything is built, as netknit does not download files.
"""

from __future__ import annotations

import os
import warnings

from .. import activations
from ..graph.symbolic import SymbolicTensor, is_symbolic
from ..layers import GlobalAveragePooling2D, GlobalMaxPooling2D, Input
from ..models import Model
from ..utils import get_source_inputs
from .weights_files import load_weights_file


def check_weights(weights, include_top: bool, classes: int) -> None:
    """`weights` is None, "imagenet" or a file that exists; ImageNet's classifier has 1000
    classes."""
    if not (weights is None or is_imagenet(weights) or _is_file(weights)):
        raise ValueError(
            "The `weights` argument should be `None` (random initialization), 'imagenet' "
            "(pre-training on ImageNet) or the path to a weights file that exists. Received: "
            f"weights={weights!r}"
        )
    if is_imagenet(weights) and include_top and classes != 1000:
        raise ValueError(
            "With weights='imagenet' and include_top=True the classifier has ImageNet's 1000 "
            f"classes, so `classes` should be 1000. Received: classes={classes}. Pass "
            "weights=None to train a classifier of another size."
        )


def image_input_shape(input_shape, default_size: int, min_size: int, require_flatten: bool,
                      weights) -> tuple:
    """The per-image shape (height, width, channels) the model is built for, checked as Keras
    checks it.

    Args:
        input_shape: the caller's `input_shape`, or None for the default.
        default_size: the height and width the network was trained at (224 for most).
        min_size: the smallest height or width the network can take.
        require_flatten: whether the top needs a fixed size (`include_top=True`).
        weights: the `weights` argument; ImageNet weights need 3 channels.
    """
    if input_shape is not None:
        input_shape = tuple(input_shape)
    imagenet = is_imagenet(weights)
    if not imagenet and input_shape and len(input_shape) == 3:
        if input_shape[-1] not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed an "
                f"input_shape with {input_shape[-1]} input channels.",
                stacklevel=3,
            )
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if imagenet and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError(
                "With include_top=True and weights='imagenet', `input_shape` should be "
                f"{default_shape}. Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(
                "`input_shape` must be a tuple of three integers (height, width, channels). "
                f"Received: input_shape={input_shape}"
            )
        if input_shape[-1] != 3 and imagenet:
            raise ValueError(
                f"ImageNet weights need 3 input channels. Received: input_shape={input_shape}"
            )
        if any(size is not None and size < min_size for size in input_shape[:2]):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}. Received: "
                f"input_shape={input_shape}"
            )
    else:
        input_shape = default_shape if require_flatten else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            "With include_top=True the model needs a fixed `input_shape`. Received: "
            f"input_shape={input_shape}"
        )
    return input_shape


def check_classifier_activation(classifier_activation, weights) -> None:
    """Pretrained classifiers end in a softmax, or give their logits (None)."""
    if weights is None:
        return
    activation = activations.get(classifier_activation)
    if activation not in (activations.get("softmax"), activations.get(None)):
        raise ValueError(
            "With pretrained weights, `classifier_activation` can only be None or 'softmax'. "
            f"Received: classifier_activation={classifier_activation!r}"
        )


def refuse_imagenet(weights, model: str, keras_file: str) -> None:
    """netknit does not download Keras's ImageNet weights: say what to pass instead.

    Args:
        weights: the `weights` argument.
        model: the builder's name, e.g. "ResNet50".
        keras_file: the name of the weights file Keras would download for these arguments.
    """
    if is_imagenet(weights):
        raise ValueError(
            f"{model}(weights='imagenet') needs Keras's pretrained ImageNet weights, which Keras "
            "downloads, and netknit does not download files. Pass weights=None for a randomly "
            f"initialized model, or weights='<path>' to load a weights file: Keras's {keras_file} "
            "(in ~/.keras/models/ once Keras has downloaded it), or a file written by "
            "save_weights or save in Keras 3 or netknit (.weights.h5, .safetensors, .keras)."
        )


def checked_input_shape(model: str, keras_file: str, weights, include_top, classes,
                        input_shape, classifier_activation, default_size: int = 224,
                        min_size: int = 32) -> tuple:
    """The checks most builders make before building, as Keras makes them, in its order;
    returns the input shape (`default_size` square by default, at least `min_size` high and
    wide). `keras_file` names the ImageNet file Keras would download for these arguments."""
    check_weights(weights, include_top, classes)
    input_shape = image_input_shape(input_shape, default_size=default_size, min_size=min_size,
                                    require_flatten=include_top, weights=weights)
    if include_top:
        check_classifier_activation(classifier_activation, weights)
    refuse_imagenet(weights, model, keras_file)
    return input_shape


def keras_file_name(stem: str, include_top: bool) -> str:
    """The name of Keras's ImageNet weights file for VGG, ResNet and DenseNet models."""
    return f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"


def image_input(input_tensor, input_shape: tuple) -> SymbolicTensor:
    """The tensor the network starts from: the caller's `input_tensor`, or a new `Input`."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not is_symbolic(input_tensor):
        raise ValueError(
            "`input_tensor` must be a symbolic tensor (from `keras.Input(...)` or a layer "
            f"called on one). Received: input_tensor of type {type(input_tensor).__name__}"
        )
    return input_tensor


def check_input_tensor_width(input_tensor, input_shape) -> None:
    """MobileNetV2's and V3's check of an `input_tensor` given with an `input_shape`: a
    symbolic tensor as wide as `input_shape` says."""
    if input_shape is None or input_tensor is None:
        return
    if not is_symbolic(input_tensor):
        raise ValueError(
            "`input_tensor` must be a symbolic tensor (from `keras.Input(...)` or a layer "
            f"called on one). Received: input_tensor of type {type(input_tensor).__name__}"
        )
    if input_tensor.shape[2] != input_shape[1]:
        raise ValueError(
            "The width of `input_tensor` (input_tensor.shape[2]) must equal input_shape[1]. "
            f"Received: input_tensor.shape={input_tensor.shape}, input_shape={input_shape}"
        )


def pool_features(x: SymbolicTensor, pooling, avg_name: str | None = None,
                  max_name: str | None = None) -> SymbolicTensor:
    """The feature maps, pooled to a vector when `pooling` is "avg" or "max" (else unchanged)."""
    if pooling == "avg":
        return GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name=max_name)(x)
    return x


def make_model(img_input: SymbolicTensor, input_tensor, outputs: SymbolicTensor, name: str,
               weights) -> Model:
    """The functional model from the image input (or from whatever `input_tensor` was computed
    from) to `outputs`, with the weights from the file `weights` names, if any."""
    inputs = img_input if input_tensor is None else get_source_inputs(input_tensor)
    model = Model(inputs, outputs, name=name)
    if weights is not None:
        load_weights_file(model, weights)
    return model


def correct_pad(inputs: SymbolicTensor, kernel_size) -> tuple:
    """The zero padding before a stride-2 "valid" convolution that centres its windows as
    TensorFlow's "same" padding does: one less row (column) in front when the size is even."""
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    height, width = inputs.shape[1:3]
    adjust = (1, 1) if height is None else (1 - height % 2, 1 - width % 2)
    return tuple((k // 2 - a, k // 2) for k, a in zip(kernel_size, adjust))


def is_imagenet(weights) -> bool:
    return isinstance(weights, str) and weights == "imagenet"


def _is_file(weights) -> bool:
    return isinstance(weights, (str, os.PathLike)) and os.path.exists(weights)
