"""TorchModuleWrapper and the wrapping of plain torch modules that layers hold (Keras 3.15.1's
torch backend gives the counts and file keys asserted here)."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit.layers import TorchModuleWrapper


class Mixed(keras.Model):
    """Keras's pattern: torch modules and netknit layers side by side in a subclassed model."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.d = keras.layers.Dense(2)

    def call(self, x):
        return self.d(self.bn(self.fc(x)))


def _trained_mixed(seed=0):
    torch.manual_seed(seed)
    model = Mixed()
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).random((8, 4), dtype=np.float32)
    model.fit(x, np.ones((8, 2), "float32"), verbose=0)
    return model, x


def test_torch_modules_held_by_a_model_are_its_layers_and_weights():
    model, _ = _trained_mixed()
    assert isinstance(model.fc, TorchModuleWrapper)
    assert [layer.name for layer in model.layers] == [
        "torch_module_wrapper", "torch_module_wrapper_1", "dense"]
    # Keras: 6 weights (parameters only, not the running statistics), 29 parameters.
    assert (len(model.weights), len(model.trainable_weights)) == (6, 6)
    assert model.count_params() == 29
    assert [w.shape for w in model.get_weights()] == [(3, 4), (3,), (3,), (3,), (3, 2), (2,)]
    model.fc.trainable = False
    assert len(model.trainable_weights) == 4
    assert not model.fc.weight.requires_grad


def test_the_wrapper_stays_out_of_pytorch_code():
    model, x = _trained_mixed()
    assert model.fc.weight is model.fc.module.weight  # attributes are the module's
    keys = list(model.state_dict())
    assert keys[:2] == ["fc.weight", "fc.bias"] and "bn.running_mean" in keys
    fresh = Mixed()
    fresh(torch.as_tensor(x))
    fresh.load_state_dict(model.state_dict())
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_weights_files_hold_the_state_dict_under_keras_keys(tmp_path):
    import h5py

    model, x = _trained_mixed()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path) as f:
        names = []
        f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
    layer_keys = sorted(n for n in names if not n.startswith("optimizer"))
    assert layer_keys == [
        "bn/vars/bias", "bn/vars/num_batches_tracked", "bn/vars/running_mean",
        "bn/vars/running_var", "bn/vars/weight", "d/vars/0", "d/vars/1", "fc/vars/bias",
        "fc/vars/weight"]
    fresh = Mixed()
    fresh(torch.as_tensor(x))
    fresh.load_weights(path)
    torch.testing.assert_close(fresh.bn.running_mean, model.bn.running_mean)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_symbolic_calls_infer_the_shape_without_touching_running_statistics():
    bn = torch.nn.BatchNorm1d(4)
    wrapper = TorchModuleWrapper(bn)
    wrapper.train()
    inputs = keras.Input((4,))
    assert wrapper(inputs).shape == (None, 4)
    assert int(bn.num_batches_tracked) == 0 and bn.training
    declared = TorchModuleWrapper(torch.nn.Linear(4, 2), output_shape=(None, 2))
    assert declared(inputs).shape == (None, 2)


def test_training_argument_sets_the_module_mode():
    dropout = TorchModuleWrapper(torch.nn.Dropout(0.5))
    x = torch.ones(100, 10)
    assert torch.equal(dropout(x), x)  # inference unless training says otherwise
    assert not torch.equal(dropout(x, training=True), x)
    assert dropout.module.training


def test_bad_modules_are_refused_with_the_fix():
    with pytest.raises(TypeError, match="plain torch.nn.Module"):
        TorchModuleWrapper(keras.layers.Dense(2))
    with pytest.raises(ValueError, match="Call it once"):
        TorchModuleWrapper(torch.nn.LazyLinear(2))


def test_a_saved_config_is_not_unpickled():
    config = TorchModuleWrapper(torch.nn.Linear(2, 2), name="w").get_config()
    assert isinstance(config["module"], str)  # Keras's base64 pickle, for Keras to read
    with pytest.raises(ValueError, match="never unpickles"):
        TorchModuleWrapper.from_config(config)
