"""The keyword arguments a functional config records with each call (`inbound_nodes[].kwargs`),
as Keras 3.15.1 writes them: the `training` and `mask` its layer call resolves."""

import inspect
import json
import zipfile

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers, mixed_precision


class TrainingNone(layers.Layer):
    def call(self, x, training=None):
        return x


class TrainingTrue(layers.Layer):
    def call(self, x, training=True):
        return x


class TakesMask(layers.Layer):
    def call(self, x, mask=None):
        return x


class TrainingFalseAndMask(layers.Layer):
    def call(self, x, training=False, mask=None):
        return x


def _kwargs(model) -> dict:
    """Each layer's recorded keyword arguments per call, as JSON has them (Keras's configs hold
    tuples, netknit's lists)."""
    return json.loads(json.dumps({
        entry["name"]: [call["kwargs"] for call in entry["inbound_nodes"]]
        for entry in model.get_config()["layers"] if entry["inbound_nodes"]}))


def _nested_sequential(x, **kwargs):
    return keras.Sequential([layers.Dense(2)], name="l")(x, **kwargs)


def _nested_functional(x, **kwargs):
    y = keras.Input((4, 3))
    return keras.Model(y, layers.Dense(2)(y), name="l")(x, **kwargs)


# What Keras 3.15.1 writes for each call of layer "l" on a float32 input of shape (None, 4, 3).
CASES = {
    "dense": (lambda x: layers.Dense(2, name="l")(x), {}),
    "dropout": (lambda x: layers.Dropout(0.5, name="l")(x), {"training": False}),
    "dropout_given": (lambda x: layers.Dropout(0.5, name="l")(x, training=True),
                      {"training": True}),
    "batch_norm": (lambda x: layers.BatchNormalization(name="l")(x), {"mask": None}),
    "lstm": (lambda x: layers.LSTM(2, name="l")(x), {"training": False, "mask": None}),
    "lstm_given": (lambda x: layers.LSTM(2, name="l")(x, training=True), {"training": True}),
    "gru": (lambda x: layers.GRU(2, name="l")(x), {"training": False, "mask": None}),
    "rnn": (lambda x: layers.RNN(layers.LSTMCell(2), name="l")(x),
            {"training": False, "mask": None}),
    "bidirectional": (lambda x: layers.Bidirectional(layers.LSTM(2), name="l")(x),
                      {"mask": None}),
    "time_distributed": (lambda x: layers.TimeDistributed(layers.Dense(2), name="l")(x),
                         {"mask": None}),
    "attention": (lambda x: layers.MultiHeadAttention(2, 2, name="l")(x, x), {}),
    "attention_given": (lambda x: layers.MultiHeadAttention(2, 2, name="l")(
        x, x, training=False), {"training": False}),
    "gaussian_noise": (lambda x: layers.GaussianNoise(0.1, name="l")(x), {"training": False}),
    "pooling": (lambda x: layers.GlobalAveragePooling1D(name="l")(x), {"mask": None}),
    "lambda": (lambda x: layers.Lambda(lambda t: t * 2, name="l")(x), {"mask": None}),
    "merge": (lambda x: layers.Add(name="l")([x, x]), {}),
    "training_none": (lambda x: TrainingNone(name="l")(x), {}),
    "training_true": (lambda x: TrainingTrue(name="l")(x), {"training": True}),
    "takes_mask": (lambda x: TakesMask(name="l")(x), {"mask": None}),
    "training_false_and_mask": (lambda x: TrainingFalseAndMask(name="l")(x),
                                {"training": False, "mask": None}),
    "sequential": (_nested_sequential, {"mask": None}),
    "sequential_given": (lambda x: _nested_sequential(x, training=False), {"training": False}),
    "functional": (_nested_functional, {"mask": None}),
    "functional_given": (lambda x: _nested_functional(x, training=False),
                         {"training": False, "mask": None}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_call_records_the_arguments_keras_resolves(case):
    make, expected = CASES[case]
    x = keras.Input((4, 3), name="x")
    model = keras.Model(x, make(x))
    assert _kwargs(model)["l"] == [expected]


def test_inputs_keras_converts_record_only_the_given_arguments():
    # Keras copies the arguments to convert an input of another dtype: the copy gets the
    # resolved ones, the recorded dict does not.
    for dtype in ("int32", "float64"):
        x = keras.Input((4, 3), dtype=dtype)
        model = keras.Model(x, layers.Dropout(0.5, name="l")(x))
        assert _kwargs(model)["l"] == [{}]
    tokens = keras.Input((4,), dtype="int32")
    model = keras.Model(tokens, layers.Embedding(10, 3, name="l")(tokens))
    assert _kwargs(model)["l"] == [{}]


def test_mixed_precision_records_the_calls_on_compute_dtype_inputs():
    # As Keras 3.15.1 under mixed_float16: the Dropout on the float32 input converts it.
    mixed_precision.set_global_policy("mixed_float16")
    try:
        x = keras.Input((4, 3))
        y = layers.Dropout(0.5, name="d1")(x)
        y = layers.Dropout(0.5, name="d2")(layers.Dense(3, name="dense")(y))
        y = layers.LSTM(2, name="lstm")(layers.BatchNormalization(name="bn")(y))
        model = keras.Model(x, y)
    finally:
        mixed_precision.set_global_policy("float32")
    assert _kwargs(model) == {"d1": [{}], "dense": [{}], "d2": [{"training": False}],
                              "bn": [{"mask": None}], "lstm": [{"training": False, "mask": None}]}


def test_json_and_keras_file_record_the_same_arguments(tmp_path):
    x = keras.Input((4, 3))
    model = keras.Model(x, layers.LSTM(2, name="l")(layers.Dropout(0.5, name="d")(x)))
    expected = {"d": [{"training": False}], "l": [{"training": False, "mask": None}]}
    assert _kwargs(model) == expected
    in_json = json.loads(model.to_json())["config"]["layers"]
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        in_file = json.loads(archive.read("config.json"))["config"]["layers"]
    for entries in (in_json, in_file):
        assert {e["name"]: [c["kwargs"] for c in e["inbound_nodes"]]
                for e in entries if e["inbound_nodes"]} == expected


def test_loading_drops_the_recorded_defaults_and_keeps_given_ones(tmp_path):
    x = keras.Input((4, 3))
    y = layers.Dropout(0.5, name="d")(x)
    y = layers.BatchNormalization(name="bn")(y, training=False)
    model = keras.Model(x, layers.LSTM(2, name="l")(y))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    nodes = {layer.name: layer._inbound_nodes[-1]._call_structure[1] for layer in loaded.layers}
    # Dropout's recorded training=False and LSTM's are Keras's defaults: the loaded calls are
    # plain calls, as they were made; BatchNormalization's was given, and stays.
    assert (nodes["d"], nodes["l"], nodes["bn"]) == ({}, {}, {"training": False})
    assert _kwargs(loaded) == _kwargs(model)
    data = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    with torch.no_grad():
        torch.testing.assert_close(loaded(data), model(data))


def test_a_keras_written_chain_loads_as_a_chain():
    x = keras.Input((4, 3))
    written = keras.Model(x, layers.LSTM(2)(layers.Dropout(0.5)(x)))
    config = written.get_config()
    assert config["layers"][1]["inbound_nodes"][0]["kwargs"] == {"training": False}
    loaded = keras.Model.from_config(config)
    assert loaded._chain is not None  # each step a plain call: the forward pass's fast path


def test_each_layer_declares_keras_call_arguments(real_keras):
    def keras_arguments(cls):
        parameters = inspect.signature(cls.call).parameters
        return {name: None if parameters[name].default is inspect.Parameter.empty
                else parameters[name].default
                for name in ("training", "mask") if name in parameters}

    shared = [name for name in dir(real_keras.layers) if hasattr(keras.layers, name)
              and isinstance(getattr(real_keras.layers, name), type)
              and issubclass(getattr(real_keras.layers, name), real_keras.layers.Layer)]
    assert len(shared) > 150
    differ = {name: (keras_arguments(getattr(real_keras.layers, name)),
                     getattr(keras.layers, name)._keras_call_arguments)
              for name in shared
              if keras_arguments(getattr(real_keras.layers, name))
              != getattr(keras.layers, name)._keras_call_arguments}
    assert differ == {}


def test_configs_match_keras_live(real_keras):
    def build(lib):
        x = lib.Input((5, 3), name="x")
        y = lib.layers.Dropout(0.2, name="drop")(x)
        y = lib.layers.BatchNormalization(name="bn")(y)
        y = lib.layers.Bidirectional(lib.layers.GRU(2, return_sequences=True), name="bi")(y)
        y = lib.layers.LSTM(2, name="lstm")(y)
        inner_x = lib.Input((2,))
        inner = lib.Model(inner_x, lib.layers.Dense(2)(inner_x), name="inner")
        return lib.Model(x, inner(lib.layers.Dense(2, name="dense")(y), training=False))

    assert _kwargs(build(keras)) == _kwargs(build(real_keras))


def test_a_keras_file_loads_and_records_its_arguments_again(real_keras, tmp_path):
    x = real_keras.Input((5, 3))
    y = real_keras.layers.LSTM(2, return_sequences=True, name="lstm")(
        real_keras.layers.Dropout(0.2, name="drop")(x))
    inner_x = real_keras.Input((5, 2))
    inner = real_keras.Model(inner_x, real_keras.layers.GRU(2)(inner_x), name="inner")
    written = real_keras.Model(x, inner(y, training=False))
    written.save(tmp_path / "k.keras")
    loaded = keras.models.load_model(tmp_path / "k.keras")
    assert _kwargs(loaded) == _kwargs(written)
    data = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    expected = written.predict(data, verbose=0)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), expected, atol=1e-6)


def test_a_keras_file_with_mask_operations_records_them_again(real_keras, tmp_path):
    # Keras records the Embedding's mask as a NotEqual operation that the LSTM's call takes.
    tokens = real_keras.Input((4,), dtype="int32")
    embedded = real_keras.layers.Embedding(10, 3, mask_zero=True, name="e")(tokens)
    written = real_keras.Model(tokens, real_keras.layers.LSTM(2, name="l")(embedded))
    written.save(tmp_path / "k.keras")
    loaded = keras.models.load_model(tmp_path / "k.keras")
    assert _kwargs(loaded) == _kwargs(written)
    mask_op = next(op.name for op in written.operations if type(op).__name__ == "NotEqual")
    assert _kwargs(loaded)["l"][0]["mask"]["config"]["keras_history"] == [mask_op, 0, 0]
    data = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    np.testing.assert_allclose(loaded.predict(data, verbose=0), written.predict(data, verbose=0),
                               atol=1e-6)
