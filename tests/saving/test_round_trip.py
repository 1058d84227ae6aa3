"""Configs and weights survive save/load, for every layer and for each kind of model."""

import json

import numpy as np
import pytest
import torch
from helpers import assert_same_predictions, mixed_data, mixed_model
from layer_db import ROWS

import netknit as keras
from netknit import layers
from netknit.saving import SavingError, register_keras_serializable


def _call(case, inputs):
    layer = case.cls(**case.kwargs)
    if case.separate_inputs:
        return layer(*inputs)
    return layer(inputs if isinstance(case.input_shape, list) else inputs[0])


def _wrapped(case):
    shapes = case.input_shape if isinstance(case.input_shape, list) else [case.input_shape]
    inputs = [keras.Input(shape=s, dtype=case.input_dtype) for s in shapes]
    outputs = _call(case, inputs)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(3)
    # Positive weights keep every layer finite (a moving variance must not be negative).
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                       for w in model.get_weights()])
    if case.input_dtype.startswith("int"):
        data = [torch.as_tensor(rng.integers(0, 5, (2,) + s)) for s in shapes]
    else:
        data = [torch.as_tensor(rng.standard_normal((2,) + s).astype("float32")) for s in shapes]
    return model, data


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_every_layer_round_trips_through_a_keras_file(case, tmp_path):
    model, data = _wrapped(case)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", **case.from_config_kwargs)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    if case.cls is not layers.Lambda:  # a Lambda's bytecode need not re-marshal identically
        assert loaded.get_config() == model.get_config()
    # In inference: a model called directly runs its augmentation layers in training, as Keras's.
    with torch.no_grad():
        torch.testing.assert_close(loaded(data, training=False), model(data, training=False))


def test_multi_input_output_shared_and_nested_model_round_trips(tmp_path):
    model = mixed_model()
    x, _ = mixed_data()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    assert_same_predictions(model, loaded, x)


def test_sequential_round_trips_and_stays_sequential(tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(1)])
    model.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras")
    assert isinstance(loaded, keras.Sequential)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert_same_predictions(model, loaded, np.ones((2, 4), "float32"))


def test_weights_files_h5_and_safetensors(tmp_path):
    model = mixed_model()
    x, _ = mixed_data()
    for name in ("w.weights.h5", "w.safetensors"):
        model.save_weights(tmp_path / name)
        other = mixed_model()  # other names (dense_3, ...): loading goes by structure
        other.load_weights(tmp_path / name)
        assert_same_predictions(model, other, x)


def test_weights_file_of_another_architecture_is_refused_and_changes_nothing(tmp_path):
    small = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    small.save_weights(tmp_path / "w.weights.h5")
    big = keras.Sequential([keras.Input((3,)), layers.Dense(4)])
    before = big.get_weights()
    with pytest.raises(SavingError, match=r"shape \(3, 2\).*expects \(3, 4\)"):
        big.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(before, big.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["w.weights.h5", "w.safetensors"])
def test_skip_mismatch_loads_the_layers_that_match_and_warns_about_the_others(tmp_path, name):
    keras.utils.set_random_seed(0)
    source = keras.Sequential([keras.Input((3,)), layers.Dense(4, name="a"),
                               layers.Dense(2, name="b")])
    source.save_weights(tmp_path / name)
    target = keras.Sequential([keras.Input((3,)), layers.Dense(4, name="a"),
                               layers.Dense(5, name="b")])
    kept = target.layers[1].get_weights()
    with pytest.warns(UserWarning, match=r"Skipping weight loading for .*shape \(4, 2\)"):
        target.load_weights(tmp_path / name, skip_mismatch=True)
    for a, b in zip(target.layers[0].get_weights(), source.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(target.layers[1].get_weights(), kept):
        np.testing.assert_array_equal(a, b)


def test_to_json_and_model_from_json():
    model = mixed_model()
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Functional"
    rebuilt = keras.models.model_from_json(text)
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.count_params() == model.count_params()


@pytest.mark.parametrize("make", [
    mixed_model,
    lambda: keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(1)]),
], ids=["functional", "sequential"])
def test_clone_model_has_the_architecture_and_fresh_weights(make):
    model = make()
    clone = keras.models.clone_model(model)
    assert type(clone) is type(model)
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    kernels = [w for w in model.get_weights() if w.ndim > 1]
    clone_kernels = [w for w in clone.get_weights() if w.ndim > 1]
    assert not any(np.array_equal(a, b) for a, b in zip(kernels, clone_kernels))
    assert all(a is not b for a, b in zip(clone.weights, model.weights))


def test_clone_function_makes_each_layer():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    keras.models.clone_model(model, clone_function=clone_function)
    assert seen == [layer.name for layer in model.layers]


def test_registered_custom_layer_round_trips(tmp_path):
    @register_keras_serializable(package="tests")
    class Scale(keras.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    x = keras.Input((3,))
    model = keras.Model(x, Scale(3.0)(layers.Dense(2)(x)))
    model.save(tmp_path / "c.keras")
    config = json.loads(model.to_json())
    assert config["config"]["layers"][-1]["registered_name"] == "tests>Scale"
    loaded = keras.models.load_model(tmp_path / "c.keras")
    assert loaded.layers[-1].factor == 3.0
    assert_same_predictions(model, loaded, np.ones((2, 3), "float32"))


def test_unknown_class_says_how_to_register_it():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["class_name"] = "Dense2"
    with pytest.raises(SavingError, match=r"Dense2.*register_keras_serializable.*custom_objects"):
        keras.models.model_from_json(json.dumps(config))
    with pytest.raises(SavingError):
        keras.models.model_from_json(json.dumps(config), custom_objects={"Dense3": layers.Dense})
    rebuilt = keras.models.model_from_json(json.dumps(config),
                                           custom_objects={"Dense2": layers.Dense})
    assert isinstance(rebuilt.layers[0], layers.Dense)


def test_custom_object_scope_and_global_custom_objects_find_a_class():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["class_name"] = "MyDense"
    text = json.dumps(config)
    with keras.saving.custom_object_scope({"MyDense": layers.Dense}):
        with keras.utils.CustomObjectScope({"Other": layers.Dropout}):
            assert isinstance(keras.models.model_from_json(text).layers[0], layers.Dense)
    with pytest.raises(SavingError, match="MyDense"):  # the scope is gone
        keras.models.model_from_json(text)
    custom = keras.saving.get_custom_objects()
    custom["MyDense"] = layers.Dense
    try:
        assert isinstance(keras.models.model_from_json(text).layers[0], layers.Dense)
    finally:
        del custom["MyDense"]


def test_serialize_and_deserialize_the_other_families():
    from netknit import constraints, initializers, losses, metrics, optimizers, regularizers
    from netknit.saving import deserialize_keras_object, serialize_keras_object

    objects = [optimizers.Adam(learning_rate=0.01), losses.Huber(delta=2.0),
               metrics.AUC(num_thresholds=50), initializers.RandomNormal(stddev=0.3),
               regularizers.L1L2(l1=0.1), constraints.MaxNorm(2.0)]
    for obj in objects:
        config = serialize_keras_object(obj)
        again = deserialize_keras_object(json.loads(json.dumps(config)))
        assert type(again) is type(obj)
        assert again.get_config() == obj.get_config()
    # A function is written as Keras writes it, and read back as the same function.
    relu = serialize_keras_object(keras.activations.relu)
    assert relu == {"module": "builtins", "class_name": "function", "config": "relu",
                    "registered_name": "function"}
    assert deserialize_keras_object(relu) is keras.activations.relu


def test_registered_custom_loss_is_restored_with_the_compiled_model(tmp_path):
    from netknit import losses

    @register_keras_serializable(package="tests")
    class DoubledMSE(losses.Loss):
        def call(self, y_true, y_pred):
            return 2 * ((y_true - y_pred) ** 2).mean(dim=-1)

    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", DoubledMSE())
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded._compile_config["loss"], DoubledMSE)
    loaded.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)


def test_load_weights_reads_the_weights_of_a_keras_file(tmp_path):
    # Keras 3.15.1's model.load_weights accepts a whole-model .keras file.
    model = mixed_model()
    model.save(tmp_path / "m.keras")
    other = mixed_model()
    other.load_weights(tmp_path / "m.keras")
    assert_same_predictions(model, other, mixed_data()[0])
