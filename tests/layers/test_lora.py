"""LoRA on Dense, EinsumDense and Embedding: Keras's weights, numbers, errors and files."""

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


def _dense(lib):
    layer = lib.layers.Dense(3, lora_rank=2, lora_alpha=8)
    layer.build((None, 4))
    return layer, np.random.RandomState(0).randn(5, 4).astype("float32")


def _einsum(lib):
    layer = lib.layers.EinsumDense("abc,cde->abde", output_shape=(None, 3, 5), bias_axes="de",
                                   lora_rank=2, lora_alpha=6)
    layer.build((None, 7, 4))
    return layer, np.random.RandomState(0).randn(2, 7, 4).astype("float32")


def _embedding(lib):
    layer = lib.layers.Embedding(10, 4, lora_rank=3)
    layer.build((None,))
    return layer, np.array([[1, 2, 9], [0, 3, 3]])


# (make, the adapted weight, Keras's weights (name, shape, trainable), count_params, config)
CASES = {
    "dense": (_dense, "kernel", [("kernel", (4, 3), False), ("bias", (3,), True),
                                 ("lora_kernel_a", (4, 2), True),
                                 ("lora_kernel_b", (2, 3), True)], 29,
              {"lora_rank": 2, "lora_alpha": 2}),  # Keras's Dense build drops lora_alpha
    "einsum": (_einsum, "kernel", [("kernel", (4, 3, 5), False), ("bias", (3, 5), True),
                                   ("lora_kernel_a", (4, 3, 2), True),
                                   ("lora_kernel_b", (2, 5), True)], 109,
               {"lora_rank": 2, "lora_alpha": 6}),
    "embedding": (_embedding, "embeddings", [("embeddings", (10, 4), False),
                                             ("lora_embeddings_a", (10, 3), True),
                                             ("lora_embeddings_b", (3, 4), True)], 82,
                  {"lora_rank": 3, "lora_alpha": 3}),
}


@pytest.mark.parametrize("case", CASES)
def test_weights_config_and_merged_weight_are_keras_s(case):
    make, adapted, expected, params, lora_config = CASES[case]
    layer, x = make(keras)
    assert [(n, tuple(w.shape), w.trainable) for n, w in zip(names(layer.weights),
                                                             layer.weights)] == expected
    assert names(layer.trainable_weights) == [n for n, _, t in expected if t]
    assert names(layer.non_trainable_weights) == [adapted]
    assert layer.count_params() == params
    config = layer.get_config()
    assert {k: config[k] for k in lora_config} == lora_config
    # The base weight is no longer a gradient target; `layer.<adapted>` is the merged weight.
    base, a, b = getattr(layer, "_" + adapted), *layer.weights[-2:]
    assert not base.requires_grad
    with torch.no_grad():
        b.normal_()
    scale = layer.lora_alpha / layer.lora_rank
    torch.testing.assert_close(getattr(layer, adapted), base + scale * (a @ b))
    rebuilt = type(layer).from_config(config)
    rebuilt.build(layer._build_shapes[0][0])
    assert names(rebuilt.weights) == names(layer.weights)


@pytest.mark.parametrize("case", CASES)
def test_outputs_match_keras_with_the_same_weights(case, real_keras):
    make = CASES[case][0]
    ours, x = make(keras)
    theirs, _ = make(real_keras)
    weights = random_weights(theirs)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    expected = real_keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), expected, atol=1e-5)
    assert ours.get_config()["lora_alpha"] == theirs.get_config()["lora_alpha"]


def test_enable_lora_errors():
    unbuilt = layers.Dense(3)
    with pytest.raises(ValueError, match="before it is built"):
        unbuilt.enable_lora(2)
    layer = layers.Dense(3)
    layer.build((None, 4))
    with pytest.raises(ValueError, match="rank=0"):
        layer.enable_lora(0)
    layer.enable_lora(2, lora_alpha=4.0)
    assert (layer.lora_rank, layer.lora_alpha) == (2, 4.0)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    constrained = layers.Embedding(5, 2, embeddings_constraint="non_neg")
    constrained.build((None,))
    with pytest.raises(ValueError, match="embeddings_constraint"):
        constrained.enable_lora(2)
    with pytest.raises(ValueError, match="kernel_constraint"):
        layers.Dense(3, kernel_constraint="max_norm", lora_rank=2).build((None, 4))
    with pytest.raises(ValueError, match="lora_rank=1.5"):
        layers.Dense(3, lora_rank=1.5)
    with pytest.raises(ValueError, match="lora_alpha=-1"):
        layers.EinsumDense("ab,bc->ac", 3, lora_rank=2, lora_alpha=-1)


def test_fit_trains_the_adapters_only():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                              layers.Dense(2, lora_rank=2)])
    model.layers[0].enable_lora(2)
    kernels = [layer._kernel.detach().clone() for layer in model.layers]
    adapters = [layer.lora_kernel_a.detach().clone() for layer in model.layers]
    model.compile("adam", "mse")
    state = np.random.RandomState(0)
    model.fit(state.randn(16, 4), state.randn(16, 2), epochs=2, verbose=0)
    for layer, kernel, adapter in zip(model.layers, kernels, adapters):
        assert torch.equal(layer._kernel, kernel)
        assert not torch.equal(layer.lora_kernel_a, adapter)


def _model(lib):
    inputs = lib.Input((3,), dtype="int32")
    x = lib.layers.Embedding(10, 4, lora_rank=2)(inputs)
    x = lib.layers.EinsumDense("abc,cd->abd", output_shape=(3, 5), bias_axes="d", lora_rank=2,
                               lora_alpha=4)(x)
    x = lib.layers.Flatten()(x)
    return lib.Model(inputs, lib.layers.Dense(2, lora_rank=3)(x))


@pytest.mark.parametrize("direction", ["keras_to_netknit", "netknit_to_keras"])
def test_files_move_between_keras_and_netknit(direction, real_keras, tmp_path):
    check_files_move(direction, real_keras, tmp_path, _model, np.array([[1, 2, 3], [4, 5, 9]]),
                     adapters=6)


def test_saved_file_holds_the_merged_kernel_under_keras_s_keys(tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, lora_rank=2)])
    check_saved_file_holds_the_merged_kernel(tmp_path, model, "dense")
