"""clone_model's arguments beyond the plain copy, as Keras 3 defines them."""

import numpy as np
import pytest

import netknit as keras
from netknit import layers


def _two_input_model():
    a, b = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    shared = layers.Dense(3, name="shared")
    merged = layers.concatenate([shared(layers.Dense(3, name="da")(a)), b], name="merged")
    return keras.Model([a, b], layers.Dense(1, name="out")(merged), name="two")


def test_functional_clone_on_given_input_tensors():
    model = _two_input_model()
    new_a, new_b = keras.Input((4,), name="new_a"), keras.Input((2,), name="new_b")
    clone = keras.models.clone_model(model, input_tensors=[new_a, new_b])
    assert clone.inputs[0] is new_a and clone.inputs[1] is new_b
    assert [layer.name for layer in clone.layers] == ["new_a", "da", "shared", "new_b",
                                                      "merged", "out"]
    assert clone.count_params() == model.count_params() == 15 + 12 + 6
    x = [np.ones((2, 4), "float32"), np.ones((2, 2), "float32")]
    assert clone.predict(x, verbose=0).shape == (2, 1)


def test_sequential_clone_on_a_given_input_tensor():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(2)], name="seq")
    tensor = keras.Input((5,), name="fresh")
    clone = keras.models.clone_model(model, input_tensors=tensor)
    assert clone.inputs[0] is tensor
    assert clone.name == "seq" and clone.output_shape == (None, 2)


def test_input_tensors_must_be_inputs_one_per_model_input():
    with pytest.raises(ValueError, match=r"2 tensor\(s\) made by `keras.Input`"):
        keras.models.clone_model(_two_input_model(), input_tensors=[keras.Input((4,))])
    with pytest.raises(ValueError, match="made by `keras.Input`"):
        keras.models.clone_model(_two_input_model(), input_tensors=[np.ones(4), np.ones(2)])


def test_call_function_can_add_a_layer_after_each_dense_call():
    model = _two_input_model()

    def call_function(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        if isinstance(layer, layers.Dense):
            return layers.Dropout(0.5)(out)
        return out

    clone = keras.models.clone_model(model, call_function=call_function)
    # Each Dense call gets a Dropout after it; the Dense layers are new ones, the sizes the same.
    kinds = [type(layer).__name__ for layer in clone.layers]
    assert kinds.count("Dense") == 3 and kinds.count("Dropout") == 3
    assert clone.count_params() == model.count_params()


def test_call_function_is_refused_for_sequential_models():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="not supported with Sequential"):
        keras.models.clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))


@pytest.mark.parametrize("make", [
    _two_input_model,
    lambda: keras.Sequential([keras.Input((4,)), layers.Dense(1)]),
])
def test_a_compiled_model_is_cloned_compiled_as_keras_does(make):
    model = make()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    clone = keras.models.clone_model(model)
    assert clone.compiled and type(clone.optimizer) is keras.optimizers.SGD
    assert clone.optimizer.learning_rate == pytest.approx(0.05)
    assert clone.optimizer is not model.optimizer
    assert clone.get_compile_config() == model.get_compile_config()
    assert keras.models.clone_model(make()).get_compile_config() is None


class _Mlp(keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense_1 = layers.Dense(units)

    def call(self, inputs):
        return self.dense_1(inputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_a_subclassed_model_is_cloned_from_its_config_as_keras_does():
    # Keras 3.15.1 clones a subclassed model through get_config/from_config, compiled like the
    # original; clone_function, input_tensors and call_function are ValueErrors there.
    model = _Mlp(units=4, name="x")
    model(np.ones((1, 2), "float32"))
    model.compile("adam", "mse")
    clone = keras.models.clone_model(model)
    assert (type(clone), clone.name, clone.units, clone.compiled) == (_Mlp, "x", 4, True)
    assert clone is not model and clone.dense_1 is not model.dense_1
    with pytest.raises(ValueError, match="Sequential and functional models only"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="functional models only"):
        keras.models.clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))
    assert type(keras.models.clone_model(layers.Dense(3))) is layers.Dense


class _Trainer(keras.Model):
    """A functional subclass that only overrides a method (Keras's custom train_step idiom)."""

    def train_step(self, data):
        return super().train_step(data)


class _Wrapped(keras.Model):
    """A functional subclass with its own constructor and config."""

    def __init__(self, units=2, **kwargs):
        x = keras.Input((3,))
        super().__init__(x, layers.Dense(units)(x), **kwargs)
        self.units = units

    def get_config(self):
        return {"units": self.units, "name": self.name}


def test_functional_subclasses_are_revived_and_cloned_as_keras_does():
    # Keras 3.15.1: a subclass taking Model's arguments comes back as itself; one with its own
    # constructor is cloned through its graph into a plain functional model.
    x = keras.Input((3,))
    model = _Trainer(x, layers.Dense(2)(x), name="mm")
    for again in (_Trainer.from_config(model.get_config()), keras.models.clone_model(model)):
        assert isinstance(again, _Trainer) and type(again).__name__ == "_Trainer"
    wrapped = _Wrapped(4, name="w")
    clone = keras.models.clone_model(wrapped)
    assert type(clone).__name__ == "Functional" and clone.output_shape == (None, 4)
    assert _Wrapped.from_config(wrapped.get_config()).output_shape == (None, 4)
