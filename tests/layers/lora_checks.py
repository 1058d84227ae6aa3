"""Checks the LoRA tests of every layer family share (test_lora.py, test_conv_lora.py)."""

import h5py
import numpy as np
import torch

import netknit as keras


def names(weights):
    return [w.path.rsplit("/", 1)[-1] for w in weights]


def random_weights(layer, seed=1):
    state = np.random.RandomState(seed)
    return [state.randn(*w.shape).astype("float32") for w in layer.weights]


def _predict(lib, model, x):
    outputs = model(x if lib is not keras else torch.as_tensor(x))
    return np.asarray(outputs.detach().cpu())


def check_files_move(direction, real_keras, tmp_path, make_model, x, adapters):
    """A model made by `make_model(lib)` saved by one library (`.keras` and `.weights.h5`)
    predicts the same in the other, whose files hold the merged weights only: loading zeroes
    the `adapters` adapter weights."""
    source, target = (real_keras, keras) if direction == "keras_to_netknit" else (
        keras, real_keras)
    model = make_model(source)
    model.set_weights(random_weights(model))
    expected = _predict(source, model, x)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = make_model(target)
    fresh.load_weights(tmp_path / "m.weights.h5")
    for loaded in (target.saving.load_model(tmp_path / "m.keras"), fresh):
        np.testing.assert_allclose(_predict(target, loaded, x), expected, rtol=1e-5, atol=1e-4)
        lora = [w for w in loaded.weights if "/lora_" in w.path]
        assert len(lora) == adapters
        assert all(not np.any(real_keras.ops.convert_to_numpy(w)) for w in lora)


def check_saved_file_holds_the_merged_kernel(tmp_path, model, group_name):
    """The `.weights.h5` file of a one-layer model with LoRA holds the merged kernel and the
    bias under Keras's keys (no adapters); loading it zeroes the adapters."""
    layer = model.layers[0]
    with torch.no_grad():
        layer.lora_kernel_b.fill_(1.0)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5") as file:
        group = file[f"layers/{group_name}/vars"]
        assert sorted(group) == ["0", "1"]
        np.testing.assert_allclose(group["0"][()], layer.kernel.detach().numpy())
    model.load_weights(tmp_path / "m.weights.h5")
    assert not layer.lora_kernel_b.any()
