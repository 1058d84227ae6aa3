"""`preprocess_input` in its three modes (arrays, tensors, symbolic tensors) and
`decode_predictions`' refusal."""

import numpy as np
import pytest
import torch

import netknit
from netknit.applications import (
    densenet,
    efficientnet,
    imagenet_utils,
    mobilenet,
    mobilenet_v2,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
)

MEAN_BGR = np.array([103.939, 116.779, 123.68], "float32")
MEAN_RGB = np.array([0.485, 0.456, 0.406], "float32")
STD_RGB = np.array([0.229, 0.224, 0.225], "float32")


def _images(shape=(2, 4, 5, 3)):
    return np.random.default_rng(0).uniform(0, 255, shape).astype("float32")


def _expected(x, mode):
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - MEAN_RGB) / STD_RGB
    return x[..., ::-1] - MEAN_BGR


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_modes_on_arrays(mode):
    x = _images()
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x.copy(), mode=mode),
                               _expected(x, mode), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_modes_on_tensors_and_in_a_model(mode):
    x = _images()
    out = imagenet_utils.preprocess_input(torch.from_numpy(x.copy()), mode=mode)
    np.testing.assert_allclose(out.numpy(), _expected(x, mode), rtol=1e-6, atol=1e-5)
    inputs = netknit.Input((4, 5, 3))
    model = netknit.Model(inputs, imagenet_utils.preprocess_input(inputs, mode=mode))
    np.testing.assert_allclose(model.predict(x, verbose=0), _expected(x, mode), rtol=1e-6,
                               atol=1e-5)


def test_float_arrays_are_preprocessed_in_place_as_in_keras():
    x = _images()
    assert imagenet_utils.preprocess_input(x, mode="tf") is x
    y = _images()
    out = imagenet_utils.preprocess_input(y, mode="caffe")
    assert np.shares_memory(out, y)
    np.testing.assert_allclose(out, _expected(_images(), "caffe"), rtol=1e-6, atol=1e-4)


def test_integer_arrays_become_float32():
    x = np.full((1, 2, 2, 3), 255, dtype="uint8")
    out = imagenet_utils.preprocess_input(x, mode="tf")
    assert out.dtype == np.float32 and np.all(out == 1.0) and np.all(x == 255)
    assert imagenet_utils.preprocess_input(x.astype("float64"), mode="tf").dtype == np.float64


def test_one_image_and_channels_first():
    x = _images((4, 5, 3))
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x.copy()), _expected(x, "caffe"),
                               atol=1e-4)
    first = np.moveaxis(_images(), -1, 1).copy()
    out = imagenet_utils.preprocess_input(first.copy(), data_format="channels_first",
                                          mode="torch")
    np.testing.assert_allclose(np.moveaxis(out, 1, -1),
                               _expected(np.moveaxis(first, 1, -1), "torch"), atol=1e-5)
    tensor = imagenet_utils.preprocess_input(torch.from_numpy(first), mode="caffe",
                                             data_format="channels_first")
    np.testing.assert_allclose(np.moveaxis(tensor.numpy(), 1, -1),
                               _expected(np.moveaxis(first, 1, -1), "caffe"), atol=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode=.*caff"):
        imagenet_utils.preprocess_input(_images(), mode="caff")
    with pytest.raises(ValueError, match="data_format='channels_middle'"):
        imagenet_utils.preprocess_input(_images(), data_format="channels_middle")


@pytest.mark.parametrize("module, mode", [
    (vgg16, "caffe"), (vgg19, "caffe"), (resnet, "caffe"), (resnet50, "caffe"),
    (resnet_v2, "tf"), (mobilenet, "tf"), (mobilenet_v2, "tf"), (densenet, "torch"),
])
def test_each_family_uses_its_mode(module, mode):
    x = _images()
    np.testing.assert_allclose(module.preprocess_input(x.copy()), _expected(x, mode),
                               rtol=1e-6, atol=1e-4)


def test_efficientnet_takes_images_as_they_are():
    x = _images()
    assert efficientnet.preprocess_input(x) is x


def test_decode_predictions_checks_then_refuses():
    with pytest.raises(ValueError, match=r"Received an array of shape \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="does not download"):
        resnet.decode_predictions(np.zeros((2, 1000)), top=3)
