"""Model configs as Keras 3.15.1 writes them: build and compile configs, custom classes."""

import json

import netknit as keras
from netknit import layers


def _entries(model) -> dict:
    return {entry["name"]: entry for entry in json.loads(model.to_json())["config"]["layers"]}


def test_layers_without_a_build_of_their_own_record_no_build_config():
    # Keras builds Dropout (and any layer that only defines `call`) when it is made, so its
    # entry has no build_config; Dense has its own build and records its input shape.
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(2, name="d")(layers.Dropout(0.2, name="drop")(x)))
    entries = _entries(model)
    assert "build_config" not in entries["drop"]
    assert entries["d"]["build_config"] == {"input_shape": [None, 4]}


def test_models_carry_build_and_compile_configs_as_in_keras():
    x = keras.Input((4,))
    inner = keras.Model(x, layers.Dense(3)(x), name="innerf")
    stack = keras.Sequential([keras.Input((4,)), layers.Dense(3)], name="inners")
    y = keras.Input((4,))
    outer = keras.Model(y, layers.Add()([inner(y), stack(y)]), name="outer")
    top = json.loads(outer.to_json())
    assert (top["build_config"], top["compile_config"]) == ({"input_shape": None}, {})
    entries = _entries(outer)
    assert entries["innerf"]["build_config"] == {"input_shape": None}
    assert entries["inners"]["build_config"] == {"input_shape": [None, 4]}
    assert entries["innerf"]["compile_config"] == entries["inners"]["compile_config"] == {}
    deferred = json.loads(keras.Sequential([layers.Dense(3)], name="defer").to_json())
    assert "build_config" not in deferred and deferred["compile_config"] == {}
    outer.compile("adam", "mse")
    assert json.loads(outer.to_json())["compile_config"]["loss"] == "mse"
    rebuilt = keras.models.model_from_json(outer.to_json())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in outer.layers]


class _Block(layers.Layer):
    """No build of its own, but a layer inside: Keras builds it on its first call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(2)

    def call(self, inputs):
        return self.dense(inputs)


def test_a_layer_with_layers_inside_records_its_first_call():
    x = keras.Input((5,))
    entries = _entries(keras.Model(x, _Block(name="blk")(x)))
    assert entries["blk"]["build_config"] == {"input_shape": [None, 5]}
    assert (entries["blk"]["module"], entries["blk"]["registered_name"]) == (__name__, "_Block")


def test_a_nested_model_call_records_the_masks_of_its_inputs_as_keras_does():
    # Keras 3.15.1 passes a nested model its inputs' masks and records them: None for each
    # tensor of the argument when nothing is masked.
    p, q = keras.Input((3,)), keras.Input((3,))
    pair = keras.Model([p, q], layers.add([p, q]), name="pair")
    by_name = keras.Model({"p": p, "q": q}, layers.add([p, q]), name="by_name")
    single = keras.Model(p, layers.Dense(2)(p), name="single")
    a, b = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([a, b], [pair([a, b]), by_name({"p": a, "q": b}), single(a)])
    entries = _entries(model)
    assert entries["pair"]["inbound_nodes"][0]["kwargs"] == {"mask": [None, None]}
    assert entries["by_name"]["inbound_nodes"][0]["kwargs"] == {"mask": {"p": None, "q": None}}
    assert entries["single"]["inbound_nodes"][0]["kwargs"] == {"mask": None}
    rebuilt = keras.models.model_from_json(model.to_json())
    assert rebuilt.output_shape == [(None, 3), (None, 3), (None, 2)]


def test_array_arguments_of_op_calls_are_saved_as_keras_tags_them(tmp_path):
    import numpy as np
    import torch

    x = keras.Input((4,))
    shifted = keras.ops.add(x, np.arange(4, dtype="float32"))
    model = keras.Model(x, keras.ops.multiply(shifted, torch.full((4,), 2.0)))
    args = [entry["inbound_nodes"][0]["args"][1] for entry in _entries(model).values()
            if entry.get("inbound_nodes")]
    # Keras: {"class_name": "__numpy__", "config": {"value": [...], "dtype": "float32"}}.
    assert args[0] == {"class_name": "__numpy__",
                       "config": {"value": [0.0, 1.0, 2.0, 3.0], "dtype": "float32"}}
    assert args[1]["class_name"] == "__tensor__"
    rebuilt = keras.models.model_from_json(model.to_json())
    ones = np.ones((1, 4), "float32")
    np.testing.assert_allclose(rebuilt.predict(ones, verbose=0), [[2.0, 4.0, 6.0, 8.0]])
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "m.keras").predict(
        ones, verbose=0), [[2.0, 4.0, 6.0, 8.0]])
    assert keras.saving.serialize_keras_object(np.float32(2.5)) == 2.5
    assert keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(b"tag")) == b"tag"
