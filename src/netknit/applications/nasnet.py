"""NASNetMobile and NASNetLarge (Zoph et al., 2018): cells found by neural architecture search.

The network stacks two kinds of NASNet-A cell. A normal cell keeps the size: five pairs of
operations (separable convolutions, 3x3 average poolings, identities) on the cell's input and
the previous cell's input, each pair added, all concatenated with the previous input. A
reduction cell halves the size the same way with strided separable convolutions and poolings.
After a stem convolution, two reduction cells ("stem_1", "stem_2"), then three groups of normal
cells (4 in the mobile model, 6 in the large one) separated by two reductions. When the previous
input has another size or width than the cell's, `_adjust_block` makes it fit. Images go
through `preprocess_input` ("tf" mode) first.
"""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor
from ..layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Cropping2D,
    Dense,
    GlobalAveragePooling2D,
    MaxPooling2D,
    SeparableConv2D,
    ZeroPadding2D,
    add,
    concatenate,
)
from ..models import Model
from . import application
from .imagenet_utils import decode_predictions as decode_predictions
from .imagenet_utils import preprocess_input as _preprocess_input

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]


def build_nasnet(input_shape, penultimate_filters: int, num_blocks: int,
                 stem_block_filters: int, skip_reduction: bool, model: str, default_size: int,
                 include_top, weights, input_tensor, pooling, classes, classifier_activation,
                 name, filter_multiplier: int = 2) -> Model:
    """A NASNet-A whose last cells have `penultimate_filters` filters (24 per cell output's
    branch group), with `num_blocks` normal cells per group. With `skip_reduction`, the cells
    after a reduction take the input of the reduction cell as their previous input, not its
    output."""
    if (isinstance(input_shape, tuple) and None in input_shape
            and application.is_imagenet(weights)):
        raise ValueError(
            "With weights='imagenet', a NASNet's input_shape must be static. Received: "
            f"input_shape={input_shape}"
        )
    top = "" if include_top else "_no_top"
    keras_file = f"nasnet_{model.removeprefix('NASNet').lower()}{top}.h5"
    input_shape = application.checked_input_shape(model, keras_file, weights, include_top,
                                                  classes, input_shape, classifier_activation,
                                                  default_size)

    img_input = application.image_input(input_tensor, input_shape)
    filters = penultimate_filters // 24
    x = Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
               name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = _batch_norm("stem_bn1")(x)

    x, p = _reduction_a_cell(x, None, filters // filter_multiplier**2, block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for group in range(3):
        if group:
            x, reduced = _reduction_a_cell(x, p, filters * filter_multiplier**group,
                                           block_id=f"reduce_{group * num_blocks}")
            p = p if skip_reduction else reduced
        # Keras numbers the normal cells 0 to n - 1, n + 1 to 2n, 2n + 1 to 3n.
        first = group * num_blocks + (1 if group else 0)
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, filters * filter_multiplier**group,
                                  block_id=f"{first + i}")
    x = Activation("relu")(x)

    if include_top:
        x = GlobalAveragePooling2D()(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = application.pool_features(x, pooling)
    return application.make_model(img_input, input_tensor, x, name, weights)


def _batch_norm(name: str) -> BatchNormalization:
    return BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)


def _separable_conv_block(ip: SymbolicTensor, filters: int, kernel_size=(3, 3),
                          strides=(1, 1), block_id: str = "") -> SymbolicTensor:
    """Twice ReLU, separable convolution and batch normalization; the first convolution
    takes the stride (after TensorFlow-like padding)."""
    x = Activation("relu")(ip)
    if strides == (2, 2):
        x = ZeroPadding2D(padding=application.correct_pad(x, kernel_size),
                          name=f"separable_conv_1_pad_{block_id}")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = SeparableConv2D(filters, kernel_size, strides=strides,
                        name=f"separable_conv_1_{block_id}", padding=conv_pad,
                        use_bias=False)(x)
    x = _batch_norm(f"separable_conv_1_bn_{block_id}")(x)
    x = Activation("relu")(x)
    x = SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                        padding="same", use_bias=False)(x)
    return _batch_norm(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p: SymbolicTensor | None, ip: SymbolicTensor, filters: int,
                  block_id: str) -> SymbolicTensor:
    """The previous input `p`, made to fit the cell's input `ip`: halved in size (two 1x1
    convolutions over the even and the odd pixels, concatenated) when its width differs, or
    projected to `filters` channels when only its channels do."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                              name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                    name=f"adjust_conv_1_{block_id}", kernel_initializer="he_normal")(p1)
        # Shifted by one pixel, the same pooling reads the other half of the pixels.
        p2 = ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                              name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = Conv2D(filters // 2, (1, 1), padding="same", use_bias=False,
                    name=f"adjust_conv_2_{block_id}", kernel_initializer="he_normal")(p2)
        p = concatenate([p1, p2], axis=-1)
        return _batch_norm(f"adjust_bn_{block_id}")(p)
    if p.shape[-1] != filters:
        p = Activation("relu")(p)
        p = Conv2D(filters, (1, 1), strides=(1, 1), padding="same",
                   name=f"adjust_conv_projection_{block_id}", use_bias=False,
                   kernel_initializer="he_normal")(p)
        return _batch_norm(f"adjust_bn_{block_id}")(p)
    return p


def _cell_input(ip: SymbolicTensor, filters: int, kind: str, block_id: str) -> SymbolicTensor:
    """ReLU, 1x1 convolution to `filters` and batch normalization of the cell's input."""
    h = Activation("relu")(ip)
    h = Conv2D(filters, (1, 1), strides=(1, 1), padding="same", name=f"{kind}_conv_1_{block_id}",
               use_bias=False, kernel_initializer="he_normal")(h)
    return _batch_norm(f"{kind}_bn_1_{block_id}")(h)


def _average_3x3(x: SymbolicTensor, name: str, strides=(1, 1),
                 padding: str = "same") -> SymbolicTensor:
    return AveragePooling2D((3, 3), strides=strides, padding=padding, name=name)(x)


def _normal_a_cell(ip: SymbolicTensor, p: SymbolicTensor | None, filters: int,
                   block_id: str) -> tuple:
    """A normal cell; returns its output and its input (the next cell's previous input)."""
    p = _adjust_block(p, ip, filters, block_id)
    h = _cell_input(ip, filters, "normal", block_id)
    x1 = add([_separable_conv_block(h, filters, kernel_size=(5, 5),
                                    block_id=f"normal_left1_{block_id}"),
              _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")],
             name=f"normal_add_1_{block_id}")
    x2 = add([_separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}"),
              _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")],
             name=f"normal_add_2_{block_id}")
    x3 = add([_average_3x3(h, f"normal_left3_{block_id}"), p], name=f"normal_add_3_{block_id}")
    x4 = add([_average_3x3(p, f"normal_left4_{block_id}"),
              _average_3x3(p, f"normal_right4_{block_id}")], name=f"normal_add_4_{block_id}")
    x5 = add([_separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}"), h],
             name=f"normal_add_5_{block_id}")
    x = concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip: SymbolicTensor, p: SymbolicTensor | None, filters: int,
                      block_id: str) -> tuple:
    """A reduction cell (half the size); returns its output and its input."""
    p = _adjust_block(p, ip, filters, block_id)
    h = _cell_input(ip, filters, "reduction", block_id)
    h3 = ZeroPadding2D(padding=application.correct_pad(h, 3),
                       name=f"reduction_pad_1_{block_id}")(h)
    x1 = add([_separable_conv_block(h, filters, (5, 5), strides=(2, 2),
                                    block_id=f"reduction_left1_{block_id}"),
              _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                    block_id=f"reduction_right1_{block_id}")],
             name=f"reduction_add_1_{block_id}")
    x2 = add([MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                           name=f"reduction_left2_{block_id}")(h3),
              _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                    block_id=f"reduction_right2_{block_id}")],
             name=f"reduction_add_2_{block_id}")
    x3 = add([_average_3x3(h3, f"reduction_left3_{block_id}", strides=(2, 2), padding="valid"),
              _separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                    block_id=f"reduction_right3_{block_id}")],
             name=f"reduction_add3_{block_id}")
    x4 = add([x2, _average_3x3(x1, f"reduction_left4_{block_id}")])
    # Keras names this block "reduction_left4" too (its layers differ from the pooling's).
    x5 = add([_separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}"),
              MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                           name=f"reduction_right5_{block_id}")(h3)],
             name=f"reduction_add4_{block_id}")
    x = concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


_NASNET_DOC = """Instantiate {model}, a functional model with Keras's architecture and layer
    names.

    The default input is {size}x{size} RGB. Images go through `nasnet.preprocess_input`
    first.{note}

    Args:
        input_shape: `(height, width, 3)`, at least 32x32; only with include_top=False
            (the top needs `({size}, {size}, 3)`).{default_shape}
        include_top: whether to end with global average pooling and the dense classifier.
        weights: None (random initialization), or the path to a weights file: Keras's
            ImageNet file for these arguments, or one from `save_weights` or `save` (see
            `weights_files.py`). "imagenet" (the default, as in Keras) would download Keras's
            file, which netknit refuses with a ValueError that names the file.
        input_tensor: a symbolic tensor (from `Input`) to build the model on.
        pooling: with include_top=False, None (4-D feature maps), "avg" or "max".
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation; None gives logits.
        name: the model's name.

    Returns:
        A functional `Model`.
    """


def NASNetMobile(input_shape=None, include_top=True, weights="imagenet", input_tensor=None,
                 pooling=None, classes=1000, classifier_activation="softmax",
                 name="nasnet_mobile") -> Model:
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return build_nasnet(input_shape, 1056, 4, 32, False, "NASNetMobile", 224, include_top,
                        weights, input_tensor, pooling, classes, classifier_activation, name)


def NASNetLarge(input_shape=None, include_top=True, weights="imagenet", input_tensor=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="nasnet_large") -> Model:
    return build_nasnet(input_shape, 4032, 6, 96, True, "NASNetLarge", 331, include_top,
                        weights, input_tensor, pooling, classes, classifier_activation, name)


NASNetMobile.__doc__ = _NASNET_DOC.format(
    model="NASNetMobile", size=224,
    note=" Keras 3 refuses to build NASNetMobile on its torch backend (a bug of that backend); "
         "netknit builds it, with Keras's architecture.",
    default_shape=" Without it and without the top, 224x224.")
NASNetLarge.__doc__ = _NASNET_DOC.format(model="NASNetLarge", size=331, note="",
                                         default_shape="")


def preprocess_input(x, data_format=None):
    """NASNet's preprocessing: pixels from [0, 255] to [-1, 1] ("tf").
    See `imagenet_utils.preprocess_input`."""
    return _preprocess_input(x, data_format=data_format, mode="tf")
