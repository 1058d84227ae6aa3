"""MobileNet's, MobileNetV2's and MobileNetV3's own rules: default sizes, names, alpha, and the
inputs they check (numbers from Keras 3.15.1)."""

import pytest

import netknit
from netknit.applications import MobileNet, MobileNetV2, MobileNetV3Large, MobileNetV3Small
from netknit.applications.mobilenet_v2 import _make_divisible


@pytest.mark.parametrize("kwargs, name, input_shape", [
    ({"input_shape": (160, 160, 3)}, "mobilenet_1.00_160", (None, 160, 160, 3)),
    ({"input_shape": (100, 100, 3)}, "mobilenet_1.00_100", (None, 100, 100, 3)),
    ({"include_top": False}, "mobilenet_1.00_None", (None, None, None, 3)),
    ({"alpha": 0.75}, "mobilenet_0.75_224", (None, 224, 224, 3)),
])
def test_mobilenet_names_and_sizes(kwargs, name, input_shape):
    model = MobileNet(weights=None, **kwargs)
    assert (model.name, model.input_shape) == (name, input_shape)


def test_mobilenet_top_and_depth_multiplier():
    model = MobileNet(weights=None, alpha=0.25, depth_multiplier=2, dropout=0.25, classes=7,
                      input_shape=(128, 128, 3))
    assert [layer.name for layer in model.layers[-5:]] == [
        "global_average_pooling2d", "dropout", "conv_preds", "reshape_2", "predictions"]
    assert model.get_layer("dropout").rate == 0.25
    assert model.get_layer("conv_dw_1").get_weights()[0].shape == (3, 3, 8, 2)
    assert model.get_layer("conv_pw_13").filters == 256
    assert model.output_shape == (None, 7)


def test_mobilenet_imagenet_arguments():
    with pytest.raises(ValueError, match="depth_multiplier=2"):
        MobileNet(depth_multiplier=2)
    with pytest.raises(ValueError, match="alpha=0.3"):
        MobileNet(alpha=0.3)
    with pytest.raises(ValueError, match="mobilenet_7_5_160_tf_no_top.h5"):
        MobileNet(alpha=0.75, include_top=False, input_shape=(160, 160, 3))
    with pytest.raises(ValueError, match="mobilenet_1_0_224_tf_no_top.h5"):
        MobileNet(include_top=False, input_shape=(100, 100, 3))


def test_mobilenet_v2_sizes_from_input_tensor():
    model = MobileNetV2(weights=None, input_tensor=netknit.Input((160, 160, 3)))
    assert model.name == "mobilenetv2_1.00_160"
    model = MobileNetV2(weights=None, input_tensor=netknit.Input((150, 150, 3)))
    assert (model.name, model.inputs[0].shape) == ("mobilenetv2_1.00_224", (None, 150, 150, 3))
    with pytest.raises(ValueError, match=r"must equal input_shape\[1\]"):
        MobileNetV2(weights=None, input_tensor=netknit.Input((160, 150, 3)),
                    input_shape=(160, 160, 3))
    with pytest.raises(ValueError, match="symbolic tensor"):
        MobileNetV2(weights=None, input_tensor=[1, 2], input_shape=(160, 160, 3))


def test_mobilenet_v2_alpha():
    wide = MobileNetV2(weights=None, alpha=1.4, include_top=False)
    assert wide.name == "mobilenetv2_1.40_None"
    assert (wide.get_layer("Conv1").filters, wide.get_layer("Conv_1").filters) == (48, 1792)
    thin = MobileNetV2(weights=None, alpha=0.35, input_shape=(96, 96, 3))
    assert (thin.get_layer("Conv1").filters, thin.get_layer("Conv_1").filters) == (16, 1280)
    with pytest.raises(ValueError, match="alpha=0.3"):
        MobileNetV2(alpha=0.3)
    with pytest.raises(ValueError, match="kernels_1.3_224_no_top.h5"):
        MobileNetV2(alpha=1.3, input_shape=(200, 200, 3), include_top=False)
    with pytest.raises(ValueError, match="kernels_0.5_96.h5"):
        MobileNetV2(alpha=0.5, input_shape=(96, 96, 3))


@pytest.mark.parametrize("value, expected", [(11.2, 16), (16, 16), (3.5, 8), (26.4, 24),
                                             (44.8, 48), (35, 32), (9.6, 16)])
def test_make_divisible(value, expected):
    assert _make_divisible(value, 8) == expected


def test_mobilenet_v3_any_input_size_even_with_its_top():
    model = MobileNetV3Small(weights=None, classes=3)
    assert (model.name, model.input_shape, model.output_shape) == (
        "MobileNetV3Small", (None, None, None, 3), (None, 3))
    assert model.layers[1].name == "rescaling"
    with pytest.raises(ValueError, match="at least 32x32"):
        MobileNetV3Large(weights=None, input_shape=(31, 64, 3))
    with pytest.raises(ValueError, match=r"must equal input_shape\[1\]"):
        MobileNetV3Large(weights=None, input_tensor=netknit.Input((64, 60, 3)),
                         input_shape=(64, 64, 3))


def test_mobilenet_v3_imagenet_arguments():
    with pytest.raises(ValueError, match="weights_mobilenet_v3_large_224_1.0_float.h5"):
        MobileNetV3Large()
    with pytest.raises(ValueError, match="small_minimalistic_224_1.0_float_no_top_v2.h5"):
        MobileNetV3Small(minimalistic=True, include_top=False)
    with pytest.raises(ValueError, match="alpha=0.75, minimalistic=True"):
        MobileNetV3Small(minimalistic=True, alpha=0.75)
    with pytest.raises(ValueError, match="alpha=0.5"):
        MobileNetV3Large(alpha=0.5)
