"""`deserialize` of activations, initializers, regularizers and constraints, as Keras 3.15.1's."""

import pytest

import netknit as keras


def test_names_and_configs_resolve_to_the_family_objects():
    assert keras.activations.deserialize("relu") is keras.activations.relu
    assert keras.activations.deserialize(keras.saving.serialize_keras_object("tanh")) \
        is keras.activations.tanh
    assert isinstance(keras.initializers.deserialize("glorot_uniform"),
                      keras.initializers.GlorotUniform)
    init = keras.initializers.deserialize(
        keras.initializers.serialize(keras.initializers.Constant(2.5)))
    assert isinstance(init, keras.initializers.Constant) and init.value == 2.5
    reg = keras.regularizers.deserialize({"class_name": "L2", "config": {"l2": 0.1}})
    assert isinstance(reg, keras.regularizers.L2) and reg.l2 == pytest.approx(0.1)
    assert isinstance(keras.constraints.deserialize("max_norm"), keras.constraints.MaxNorm)


def test_custom_objects_are_found_by_name():
    def my_act(x):
        return x

    class MyReg(keras.regularizers.Regularizer):
        def __init__(self, a=1.0):
            self.a = a

        def __call__(self, x):
            return self.a * x.sum()

        def get_config(self):
            return {"a": self.a}

    assert keras.activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    # A name alone gives the object itself, as Keras does; a config dict gives an instance.
    assert keras.regularizers.deserialize("MyReg", custom_objects={"MyReg": MyReg}) is MyReg
    reg = keras.regularizers.deserialize({"class_name": "MyReg", "config": {"a": 3.0}},
                                         custom_objects={"MyReg": MyReg})
    assert isinstance(reg, MyReg) and reg.a == 3.0


def test_unknown_names_suggest_the_close_one():
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        keras.activations.deserialize("rellu")
