"""Every application model against Keras 3.15.1's facts (`keras_facts.py`): name, layer names and
order, structure (classes, output shapes, weight shapes), parameter counts, output shape."""

import inspect

import pytest
import torch
from keras_facts import CASES, case_id, describe

import netknit
from netknit import applications

# Keras's module paths for each builder, besides `keras.applications.<Builder>`.
MODULES = {
    "convnext": [f"ConvNeXt{size}" for size in ("Tiny", "Small", "Base", "Large", "XLarge")],
    "densenet": ["DenseNet121", "DenseNet169", "DenseNet201"],
    "efficientnet": [f"EfficientNetB{i}" for i in range(8)],
    "efficientnet_v2": [f"EfficientNetV2{size}"
                        for size in ("B0", "B1", "B2", "B3", "S", "M", "L")],
    "inception_resnet_v2": ["InceptionResNetV2"], "inception_v3": ["InceptionV3"],
    "mobilenet": ["MobileNet"], "mobilenet_v2": ["MobileNetV2"],
    "mobilenet_v3": ["MobileNetV3Small", "MobileNetV3Large"],
    "nasnet": ["NASNetMobile", "NASNetLarge"],
    "resnet": ["ResNet101", "ResNet152", "ResNet50"], "resnet50": ["ResNet50"],
    "resnet_v2": ["ResNet101V2", "ResNet152V2", "ResNet50V2"],
    "vgg16": ["VGG16"], "vgg19": ["VGG19"], "xception": ["Xception"],
}
BUILDERS = sorted({builder for builders in MODULES.values() for builder in builders})

STANDARD_SIGNATURE = ["include_top", "weights", "input_tensor", "input_shape", "pooling",
                      "classes", "classifier_activation", "name"]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_model_matches_keras(case):
    builder, kwargs, expected = case
    # The facts are names, shapes and counts: built on the meta device, the models skip drawing
    # their random weights, which on the CPU takes most of this directory's time. The numeric
    # tests (test_keras_parity.py, ...) build models on the CPU.
    with torch.device("meta"):
        model = getattr(applications, builder)(weights=None, **kwargs)
    assert describe(model) == expected


def test_vgg16_layers_by_name():
    model = applications.VGG16(weights=None)
    assert [layer.name for layer in model.layers] == [
        "input_layer", "block1_conv1", "block1_conv2", "block1_pool", "block2_conv1",
        "block2_conv2", "block2_pool", "block3_conv1", "block3_conv2", "block3_conv3",
        "block3_pool", "block4_conv1", "block4_conv2", "block4_conv3", "block4_pool",
        "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool", "flatten", "fc1", "fc2",
        "predictions",
    ]
    assert [w.shape for w in model.get_weights()[-2:]] == [(4096, 1000), (1000,)]


def test_resnet50_blocks_in_keras_order():
    model = applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    names = [layer.name for layer in model.layers]
    assert names[:8] == ["input_layer", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu",
                         "pool1_pad", "pool1_pool", "conv2_block1_1_conv"]
    assert names.index("conv2_block1_0_conv") > names.index("conv2_block1_2_relu")
    assert names[-3:] == ["conv5_block3_3_bn", "conv5_block3_add", "conv5_block3_out"]
    bn = model.get_layer("conv1_bn")
    assert (bn.axis, bn.epsilon, bn.momentum) == (3, 1.001e-5, 0.99)


# Builders whose arguments or default name differ from the standard ones (Keras 3.15.1's).
OWN_SIGNATURES = {
    "InceptionV3": (STANDARD_SIGNATURE, "inception_v3"),
    "InceptionResNetV2": (STANDARD_SIGNATURE, "inception_resnet_v2"),
    "NASNetMobile": (["input_shape", *STANDARD_SIGNATURE[:3], *STANDARD_SIGNATURE[4:]],
                     "nasnet_mobile"),
    "NASNetLarge": (["input_shape", *STANDARD_SIGNATURE[:3], *STANDARD_SIGNATURE[4:]],
                    "nasnet_large"),
    **{model: (["input_shape", "alpha", "minimalistic", "include_top", "weights", "input_tensor",
                "classes", "pooling", "dropout_rate", "classifier_activation",
                "include_preprocessing", "name"], model)
       for model in ("MobileNetV3Small", "MobileNetV3Large")},
    **{f"ConvNeXt{size}": (["include_top", "include_preprocessing", *STANDARD_SIGNATURE[1:]],
                           f"convnext_{size.lower()}")
       for size in ("Tiny", "Small", "Base", "Large", "XLarge")},
    **{f"EfficientNetV2{size}": ([*STANDARD_SIGNATURE[:-1], "include_preprocessing", "name"],
                                 f"efficientnetv2-{size.lower()}")
       for size in ("B0", "B1", "B2", "B3", "S", "M", "L")},
}


@pytest.mark.parametrize("builder", BUILDERS)
def test_public_names_and_signatures(builder):
    function = getattr(netknit.applications, builder)
    parameters = inspect.signature(function).parameters
    if builder in OWN_SIGNATURES:
        expected, default_name = OWN_SIGNATURES[builder]
        assert list(parameters) == expected and parameters["name"].default == default_name
    elif builder.startswith("MobileNet"):
        assert list(parameters)[0] == "input_shape" and parameters["name"].default is None
    else:
        assert list(parameters) == STANDARD_SIGNATURE
        assert parameters["name"].default == builder.lower()
    assert parameters["weights"].default == "imagenet"
    assert parameters["classes"].default == 1000
    assert parameters["classifier_activation"].default == "softmax"
    assert function.__doc__


@pytest.mark.parametrize("module", sorted(MODULES))
def test_family_modules(module):
    namespace = getattr(netknit.applications, module)
    for builder in MODULES[module]:
        assert getattr(namespace, builder) is getattr(netknit.applications, builder)
    assert callable(namespace.preprocess_input) and callable(namespace.decode_predictions)


def test_reached_from_the_top_level():
    assert netknit.applications.vgg16.VGG16 is netknit.applications.VGG16
    assert "applications" in netknit.__all__
    assert set(MODULES) | {"imagenet_utils"} <= set(netknit.applications.__all__)


@pytest.mark.parametrize("builder, first_layers, first_without", [
    ("EfficientNetV2B0", [("Rescaling", 1 / 255, 0.0), ("Normalization",)], "Conv2D"),
    ("EfficientNetV2S", [("Rescaling", 1 / 128, -1)], "Conv2D"),
    ("MobileNetV3Small", [("Rescaling", 1 / 127.5, -1.0)], "Conv2D"),
    ("ConvNeXtTiny", [("Normalization",)], "Sequential"),
])
def test_models_that_preprocess_their_input(builder, first_layers, first_without):
    with torch.device("meta"):
        model = getattr(applications, builder)(weights=None, include_top=False)
        without = getattr(applications, builder)(weights=None, include_top=False,
                                                 include_preprocessing=False)
    for layer, expected in zip(model.layers[1:], first_layers):
        assert type(layer).__name__ == expected[0]
        if expected[0] == "Rescaling":
            assert (layer.scale, layer.offset) == pytest.approx(expected[1:])
    assert type(without.layers[1]).__name__ == first_without
