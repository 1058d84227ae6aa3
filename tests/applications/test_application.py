"""The checks every application builder shares (`application.py`), made as Keras makes them."""

import numpy as np
import pytest

import netknit
from netknit import applications
from netknit.applications import application


def test_imagenet_weights_are_refused_with_what_to_pass_instead():
    with pytest.raises(ValueError, match="does not download") as error:
        applications.ResNet50()
    message = str(error.value)
    assert "weights=None" in message and "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in message
    with pytest.raises(ValueError, match="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        applications.VGG19(include_top=False)
    with pytest.raises(ValueError, match="densenet201_weights_tf_dim_ordering_tf_kernels.h5"):
        applications.DenseNet201()
    with pytest.raises(ValueError, match=r"efficientnetb0_notop\.h5"):
        applications.EfficientNetB0(include_top=False)
    for builder, kwargs, keras_file in [
        ("Xception", {"include_top": False}, "xception_weights_tf_dim_ordering_tf_kernels_notop"),
        ("InceptionV3", {}, "inception_v3_weights_tf_dim_ordering_tf_kernels"),
        ("InceptionResNetV2", {"include_top": False},
         "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop"),
        ("ConvNeXtTiny", {"include_top": False}, "convnext_tiny_notop"),
        ("EfficientNetV2S", {}, "efficientnetv2-s"),
        ("NASNetMobile", {}, "nasnet_mobile"),
        ("NASNetLarge", {"include_top": False}, "nasnet_large_no_top"),
    ]:
        with pytest.raises(ValueError, match=rf"{keras_file}\.h5"):
            getattr(applications, builder)(**kwargs)


@pytest.mark.parametrize("builder, min_size, feature_size", [("Xception", 71, 3),
                                                             ("InceptionV3", 75, 1),
                                                             ("InceptionResNetV2", 75, 1)])
def test_smallest_inputs(builder, min_size, feature_size):
    function = getattr(applications, builder)
    with pytest.raises(ValueError, match=f"at least {min_size}x{min_size}"):
        function(weights=None, include_top=False, input_shape=(min_size - 1, 100, 3))
    model = function(weights=None, include_top=False, input_shape=(min_size, min_size, 3))
    assert model.output_shape[1:3] == (feature_size, feature_size)


def test_weights_must_be_none_imagenet_or_an_existing_file(tmp_path):
    with pytest.raises(ValueError, match="Received: weights='imagenett'"):
        applications.VGG16(weights="imagenett")
    with pytest.raises(ValueError, match="path to a weights file that exists"):
        applications.VGG16(weights=str(tmp_path / "missing.weights.h5"))


def test_imagenet_classifier_has_1000_classes():
    with pytest.raises(ValueError, match="classes=10"):
        applications.ResNet50(classes=10)
    with pytest.raises(ValueError, match="does not download"):  # no top, no constraint
        applications.ResNet50(classes=10, include_top=False)
    assert applications.ResNet50(weights=None, classes=10).output_shape == (None, 10)


def test_default_and_given_input_shapes():
    assert applications.VGG16(weights=None).input_shape == (None, 224, 224, 3)
    assert applications.VGG16(weights=None, include_top=False).input_shape == (None, None,
                                                                               None, 3)
    model = applications.VGG16(weights=None, include_top=False, input_shape=[40, 50, 1])
    assert model.input_shape == (None, 40, 50, 1) and model.output_shape == (None, 1, 1, 512)


@pytest.mark.parametrize("input_shape, message", [
    ((31, 64, 3), "at least 32x32"),
    ((64, 20, 3), "at least 32x32"),
    ((64, 64), "three integers"),
])
def test_bad_input_shapes(input_shape, message):
    with pytest.raises(ValueError, match=message):
        applications.ResNet50(weights=None, include_top=False, input_shape=input_shape)


def test_top_needs_a_fixed_input_shape():
    with pytest.raises(ValueError, match="fixed `input_shape`"):
        applications.DenseNet121(weights=None, input_shape=(None, None, 3))


def test_imagenet_input_shape_rules():
    with pytest.raises(ValueError, match=r"should be \(224, 224, 3\)"):
        applications.VGG16(input_shape=(200, 200, 3))
    with pytest.raises(ValueError, match="3 input channels"):
        applications.VGG16(include_top=False, input_shape=(200, 200, 1))


def test_unusual_channel_counts_warn():
    with pytest.warns(UserWarning, match="1 or 3 input channels"):
        model = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 5))
    assert model.get_layer("block1_conv1").kernel.shape == (3, 3, 5, 64)


def test_classifier_activation_with_weights_file(tmp_path):
    path = tmp_path / "model.weights.h5"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="classifier_activation"):
        applications.MobileNetV2(weights=str(path), classifier_activation="relu")
    model = applications.MobileNetV2(weights=None, classifier_activation="relu", alpha=0.35,
                                     input_shape=(96, 96, 3))
    assert model.get_layer("predictions").get_config()["activation"] == "relu"


def test_pooling():
    avg = applications.ResNet50(weights=None, include_top=False, pooling="avg")
    assert avg.layers[-1].name == "avg_pool" and avg.output_shape == (None, 2048)
    maximum = applications.DenseNet121(weights=None, include_top=False, pooling="max")
    assert maximum.layers[-1].name == "max_pool"
    vgg = applications.VGG16(weights=None, include_top=False, pooling="avg")
    assert vgg.layers[-1].name == "global_average_pooling2d"
    assert applications.VGG16(weights=None, include_top=False, pooling="other").output_shape == (
        None, None, None, 512)


def test_input_tensor_and_what_it_was_computed_from():
    images = netknit.Input((48, 48, 3), name="images")
    scaled = netknit.layers.Rescaling(1 / 255)(images)
    model = applications.ResNet50(weights=None, include_top=False, input_tensor=scaled,
                                  pooling="avg")
    assert model.inputs == [images]
    assert [layer.name for layer in model.layers[:3]] == ["images", "rescaling", "conv1_pad"]
    assert model.predict(np.zeros((1, 48, 48, 3), "float32"), verbose=0).shape == (1, 2048)


def test_input_tensor_must_be_symbolic():
    with pytest.raises(ValueError, match="symbolic tensor"):
        applications.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))


@pytest.mark.parametrize("size, kernel, expected", [
    (224, 3, ((0, 1), (0, 1))), (225, 3, ((1, 1), (1, 1))), (None, 5, ((1, 2), (1, 2))),
])
def test_correct_pad(size, kernel, expected):
    assert application.correct_pad(netknit.Input((size, size, 8)), kernel) == expected
