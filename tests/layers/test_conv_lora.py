"""LoRA on Conv1D/2D/3D, as Keras's convolutions have it: weights, numbers, config and files."""

import numpy as np
import pytest
import torch
from lora_checks import (
    check_files_move,
    check_saved_file_holds_the_merged_kernel,
    names,
    random_weights,
)

import netknit as keras
from netknit import layers

# (class, input shape, extra arguments, Keras's weights (name, shape, trainable), count_params)
CASES = {
    "conv1d": ("Conv1D", (7, 3), {"padding": "causal", "dilation_rate": 2},
               [("kernel", (2, 3, 4), False), ("bias", (4,), True),
                ("lora_kernel_a", (2, 3, 2), True), ("lora_kernel_b", (2, 4), True)], 48),
    "conv2d": ("Conv2D", (6, 6, 4), {"groups": 2, "strides": 2, "padding": "same"},
               [("kernel", (2, 2, 2, 4), False), ("bias", (4,), True),
                ("lora_kernel_a", (2, 2, 2, 2), True), ("lora_kernel_b", (2, 4), True)], 60),
    "conv3d": ("Conv3D", (4, 4, 4, 3), {"data_format": "channels_first", "use_bias": False},
               [("kernel", (2, 2, 2, 4, 4), False), ("lora_kernel_a", (2, 2, 2, 4, 2), True),
                ("lora_kernel_b", (2, 4), True)], 200),
}


def _layer(lib, case, **lora):
    class_name, shape, arguments, _, _ = CASES[case]
    # Named: the automatic names count the layers made before, differently in each library.
    layer = getattr(lib.layers, class_name)(4, 2, activation="relu", **arguments, **lora,
                                            name=f"lora_{case}")
    layer.build((None,) + shape)
    return layer


@pytest.mark.parametrize("case", CASES)
def test_weights_config_and_merged_kernel_are_keras_s(case):
    layer = _layer(keras, case, lora_rank=2, lora_alpha=3.0)
    expected, params = CASES[case][3:]
    assert [(n, tuple(w.shape), w.trainable) for n, w in zip(names(layer.weights),
                                                             layer.weights)] == expected
    assert names(layer.non_trainable_weights) == ["kernel"]
    assert layer.count_params() == params
    config = layer.get_config()
    # Keras's build keeps the constructor's lora_alpha (unlike Dense's), and lists it last.
    assert list(config)[-3:] == ["bias_constraint", "lora_rank", "lora_alpha"]
    assert (config["lora_rank"], config["lora_alpha"]) == (2, 3.0)
    with torch.no_grad():
        layer.lora_kernel_b.normal_()
    merged = layer._kernel + 1.5 * (layer.lora_kernel_a @ layer.lora_kernel_b)
    torch.testing.assert_close(layer.kernel, merged)
    rebuilt = type(layer).from_config(config)
    rebuilt.build((None,) + CASES[case][1])
    assert names(rebuilt.weights) == names(layer.weights) and rebuilt.lora_alpha == 3.0


def test_without_lora_the_kernel_is_the_weight_and_the_config_has_no_lora_keys():
    for rank in (None, 0):
        layer = _layer(keras, "conv2d", lora_rank=rank)
        assert layer.kernel is layer._parameters["kernel"]
        assert "lora_rank" not in layer.get_config() and not layer.lora_enabled


def test_enable_lora_on_a_built_layer():
    layer = _layer(keras, "conv2d")
    layer.enable_lora(3, lora_alpha=6)
    assert names(layer.weights) == ["kernel", "bias", "lora_kernel_a", "lora_kernel_b"]
    assert tuple(layer.lora_kernel_a.shape) == (2, 2, 2, 3)
    assert {k: layer.get_config()[k] for k in ("lora_rank", "lora_alpha")} == {
        "lora_rank": 3, "lora_alpha": 6}


@pytest.mark.parametrize("case", CASES)
def test_outputs_match_keras_with_the_same_weights(case, real_keras):
    ours = _layer(keras, case, lora_rank=2, lora_alpha=5)
    theirs = _layer(real_keras, case, lora_rank=2, lora_alpha=5)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert list(ours.get_config()) == list(theirs.get_config())
    weights = random_weights(theirs)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = np.random.RandomState(0).randn(2, *CASES[case][1]).astype("float32")
    expected = real_keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), expected, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="before it is built"):
        layers.Conv2D(4, 2).enable_lora(2)
    with pytest.raises(ValueError, match="kernel_constraint"):
        layers.Conv1D(4, 2, kernel_constraint="max_norm", lora_rank=2).build((None, 5, 3))
    with pytest.raises(ValueError, match="lora_rank=-1"):
        layers.Conv3D(4, 2, lora_rank=-1)
    with pytest.raises(ValueError, match="lora_alpha=0"):
        layers.Conv2D(4, 2, lora_rank=2, lora_alpha=0)
    layer = _layer(keras, "conv1d", lora_rank=2)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    # As in Keras, the other convolutions have no LoRA.
    for make in (lambda: layers.Conv2DTranspose(4, 2, lora_rank=2),
                 lambda: layers.SeparableConv2D(4, 2, lora_rank=2),
                 lambda: layers.DepthwiseConv2D(2, lora_rank=2)):
        with pytest.raises(TypeError, match="lora_rank"):
            make()
    assert not hasattr(layers.Conv2DTranspose(4, 2), "enable_lora")


def test_fit_trains_the_adapters_only():
    model = keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(3, 3, lora_rank=2),
                              layers.Flatten()])
    conv = model.layers[0]
    kernel, adapter = conv._kernel.detach().clone(), conv.lora_kernel_a.detach().clone()
    model.compile("adam", "mse")
    state = np.random.RandomState(0)
    model.fit(state.randn(8, 6, 6, 2), state.randn(8, 48), epochs=2, verbose=0)
    assert torch.equal(conv._kernel, kernel)
    assert not torch.equal(conv.lora_kernel_a, adapter)


def _model(lib):
    inputs = lib.Input((8, 8, 3))
    x = lib.layers.Conv2D(4, 3, lora_rank=2, lora_alpha=4)(inputs)
    x = lib.layers.Reshape((6 * 6, 4))(x)
    return lib.Model(inputs, lib.layers.Conv1D(2, 3, lora_rank=3)(x))


@pytest.mark.parametrize("direction", ["keras_to_netknit", "netknit_to_keras"])
def test_files_move_between_keras_and_netknit(direction, real_keras, tmp_path):
    x = np.random.RandomState(0).randn(2, 8, 8, 3).astype("float32")
    check_files_move(direction, real_keras, tmp_path, _model, x, adapters=4)


def test_saved_file_holds_the_merged_kernel_under_keras_s_keys(tmp_path):
    model = keras.Sequential([keras.Input((5, 2)), layers.Conv1D(3, 2, lora_rank=2)])
    check_saved_file_holds_the_merged_kernel(tmp_path, model, "conv1d")
