"""Custom functions and classes in saved configs, as the Keras guide "Save, serialize, and export
models" uses them: registered, passed as `custom_objects`, or put in a custom object scope."""

import json

import numpy as np
import pytest
from helpers import assert_same_predictions

import netknit as keras
from netknit import layers
from netknit.saving import SavingError


def squared(x):
    return x**2


@keras.saving.register_keras_serializable(package="tests_custom")
class Halve(keras.layers.Layer):
    def call(self, x):
        return x * 0.5


def _guide_model(activation):
    inputs = keras.Input(shape=(4,))
    outputs = layers.Dense(1, activation=activation)(Halve()(inputs))
    return keras.Model(inputs, outputs)


def test_a_registered_function_is_saved_under_its_registered_name():
    @keras.saving.register_keras_serializable(package="tests_custom", name="cube")
    def cube(x):
        return x**3

    assert keras.saving.get_registered_name(cube) == "tests_custom>cube"
    assert keras.saving.get_registered_object("tests_custom>cube") is cube
    assert keras.saving.get_custom_objects()["tests_custom>cube"] is cube
    entry = keras.saving.serialize_keras_object(cube)
    # Keras 3.15.1 writes exactly this entry for a registered function.
    assert entry == {"module": "builtins", "class_name": "function",
                     "config": "tests_custom>cube", "registered_name": "function"}
    assert keras.saving.deserialize_keras_object(entry) is cube


def test_get_registered_name_falls_back_to_the_objects_own_name():
    # As in Keras: an unregistered class or function is named by its __name__.
    assert keras.saving.get_registered_name(layers.Dense) == "Dense"
    assert keras.saving.get_registered_name(squared) == "squared"
    assert keras.utils.get_registered_name(Halve) == "tests_custom>Halve"


def test_a_class_without_get_config_cannot_be_registered():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="get_config"):
        keras.saving.register_keras_serializable()(NoConfig)


@pytest.mark.parametrize("how", ["registered", "custom_objects", "scope"])
def test_a_custom_activation_function_loads_as_the_guide_shows(how, tmp_path):
    if how == "registered":
        @keras.saving.register_keras_serializable(package="tests_guide", name="custom_fn")
        def custom_fn(x):
            return x**2
    else:
        def custom_fn(x):
            return x**2
    model = _guide_model(custom_fn)
    model.save(tmp_path / "m.keras")
    custom_objects = {"Halve": Halve, "custom_fn": custom_fn}
    if how == "registered":
        loaded = keras.models.load_model(tmp_path / "m.keras")
    elif how == "custom_objects":
        loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects=custom_objects)
    else:
        with keras.saving.custom_object_scope(custom_objects):
            loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[-1].activation is custom_fn
    assert_same_predictions(model, loaded, np.random.rand(3, 4).astype("float32"))


def test_a_function_entry_as_keras_writes_it_is_resolved():
    config = json.loads(_guide_model(squared).to_json())
    dense = config["config"]["layers"][-1]["config"]
    dense["activation"] = {"module": "builtins", "class_name": "function", "config": "squared",
                           "registered_name": "function"}
    text = json.dumps(config)
    rebuilt = keras.models.model_from_json(text, custom_objects={"squared": squared})
    assert rebuilt.layers[-1].activation is squared
    # A built-in name in the same form is netknit's own function.
    dense["activation"]["config"] = "relu"
    rebuilt = keras.models.model_from_json(json.dumps(config))
    assert rebuilt.layers[-1].activation is keras.activations.relu
    with pytest.raises(SavingError, match=r"squared.*register_keras_serializable"):
        keras.models.model_from_json(text)


def test_a_subclassed_model_is_built_from_the_shape_keras_records(tmp_path):
    @keras.saving.register_keras_serializable(package="tests_custom")
    class TwoDense(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.first = layers.Dense(units, activation="relu")
            self.second = layers.Dense(1)

        def call(self, x):
            return self.second(self.first(x))

        def get_config(self):
            return {"units": self.units, "name": self.name}

    # What Keras 3.15.1 writes for such a model called once on a (1, 5) batch.
    entry = {"module": None, "class_name": "TwoDense", "config": {"units": 3, "name": "two"},
             "registered_name": "tests_custom>TwoDense", "build_config": {"input_shape": [1, 5]}}
    model = keras.saving.deserialize_keras_object(entry)
    assert model.built
    assert [tuple(w.shape) for w in model.weights] == [(5, 3), (3,), (3, 1), (1,)]


@keras.saving.register_keras_serializable(package="tests_custom", name="KernelMult")
class KernelMult(keras.layers.Layer):
    """The guide's `MyDense`: its get_config returns objects as they were given."""

    def __init__(self, units, *, kernel_regularizer=None, kernel_initializer=None,
                 nested_model=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_regularizer = kernel_regularizer
        self.kernel_initializer = kernel_initializer
        self.nested_model = nested_model

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "kernel_regularizer": self.kernel_regularizer,
                "kernel_initializer": self.kernel_initializer, "nested_model": self.nested_model}

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      regularizer=self.kernel_regularizer,
                                      initializer=self.kernel_initializer)

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.kernel)


@keras.saving.register_keras_serializable(package="tests_custom")
class Outer(keras.layers.Layer):
    """The guide's `CustomModel`: sublayers in its config, deserialized in from_config."""

    def __init__(self, first_layer, second_layer=None, **kwargs):
        super().__init__(**kwargs)
        self.first_layer = first_layer
        self.second_layer = second_layer if second_layer is not None else layers.Dense(8)

    def get_config(self):
        return {**super().get_config(), "first_layer": self.first_layer,
                "second_layer": self.second_layer}

    @classmethod
    def from_config(cls, config):
        config["first_layer"] = keras.saving.deserialize_keras_object(config["first_layer"])
        config["second_layer"] = keras.saving.deserialize_keras_object(config["second_layer"])
        return cls(**config)

    def call(self, inputs):
        return self.first_layer(self.second_layer(inputs))


def test_objects_a_custom_config_holds_are_written_as_their_entries():
    inner = KernelMult(16, kernel_regularizer=keras.regularizers.L1L2(l1=1e-5, l2=1e-4),
                       kernel_initializer="ones")
    entry = keras.saving.serialize_keras_object(KernelMult(64, nested_model=inner))
    nested = entry["config"]["nested_model"]
    # As Keras 3.15.1 writes them: the sublayer's entry, and the regularizer's within it.
    assert (nested["class_name"], nested["registered_name"]) == ("KernelMult",
                                                                "tests_custom>KernelMult")
    assert nested["config"]["kernel_regularizer"] == {
        "module": "keras.regularizers", "class_name": "L1L2",
        "config": {"l1": 1e-05, "l2": 0.0001}, "registered_name": None}
    json.dumps(entry)


def test_a_layer_holding_sublayers_round_trips_as_the_guide_shows(tmp_path):
    inputs = keras.Input((32,))
    outputs = Outer(first_layer=KernelMult(16, kernel_initializer="ones"))(inputs)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1].first_layer, KernelMult)
    assert_same_predictions(model, loaded, np.random.rand(2, 32).astype("float32"))
