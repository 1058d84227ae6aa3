"""Differences found by running keras.io examples (the Vision Transformer, the Compact
Convolutional Transformer) on netknit beside Keras; the expected values are what Keras 3.15
gives."""

import h5py
import numpy as np
import pytest

import netknit as keras

# Every `vars` group of a weights file and the layer name recorded on it: Keras's build gives
# the attention layers a Softmax and a Dropout sublayer, which hold no weights but still have a
# group, and names each projection "query", "key", "value" or "attention_output".
MHA_GROUPS = {
    "layers/input_layer/vars": "input_layer",
    "layers/multi_head_attention/_dropout_layer/vars": "dropout",
    "layers/multi_head_attention/_softmax/vars": "softmax",
    "layers/multi_head_attention/key_dense/vars": "key",
    "layers/multi_head_attention/output_dense/vars": "attention_output",
    "layers/multi_head_attention/query_dense/vars": "query",
    "layers/multi_head_attention/value_dense/vars": "value",
    "layers/multi_head_attention/vars": "multi_head_attention",
    "vars": "functional",
}
GQA_GROUPS = {
    "layers/input_layer/vars": "input_layer",
    "layers/grouped_query_attention/_dropout_layer/vars": "dropout",
    "layers/grouped_query_attention/_softmax/vars": "softmax",
    "layers/grouped_query_attention/_key_dense/vars": "key",
    "layers/grouped_query_attention/_output_dense/vars": "attention_output",
    "layers/grouped_query_attention/_query_dense/vars": "query",
    "layers/grouped_query_attention/_value_dense/vars": "value",
    "layers/grouped_query_attention/vars": "grouped_query_attention",
    "vars": "functional",
}


def _attention_model(lib, kind):
    inputs = lib.Input((4, 8))
    if kind == "mha":
        layer = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)
    else:
        layer = lib.layers.GroupQueryAttention(head_dim=4, num_query_heads=2,
                                               num_key_value_heads=1)
    return lib.Model(inputs, layer(inputs, inputs))


def _vars_groups(path):
    groups = {}
    with h5py.File(path, "r") as file:
        file.visititems(lambda name, item: groups.update({name: item.attrs["name"]})
                        if name.endswith("vars") else None)
    return groups


@pytest.mark.parametrize("kind, expected", [("mha", MHA_GROUPS), ("gqa", GQA_GROUPS)])
def test_attention_weights_file_has_keras_s_groups(tmp_path, kind, expected):
    path = str(tmp_path / "attention.weights.h5")
    _attention_model(keras, kind).save_weights(path)
    assert _vars_groups(path) == expected


def test_attention_weights_files_match_keras_and_load_both_ways(tmp_path, real_keras):
    real_keras.backend.clear_session()
    ours, theirs = _attention_model(keras, "mha"), _attention_model(real_keras, "mha")
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    theirs.save_weights(str(tmp_path / "theirs.weights.h5"))
    assert _vars_groups(tmp_path / "ours.weights.h5") == _vars_groups(
        tmp_path / "theirs.weights.h5")
    x = np.random.RandomState(0).rand(2, 4, 8).astype("float32")
    ours.load_weights(str(tmp_path / "theirs.weights.h5"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=1e-6)
    again = _attention_model(keras, "mha")
    again.save_weights(str(tmp_path / "again.weights.h5"))
    theirs.load_weights(str(tmp_path / "again.weights.h5"))
    np.testing.assert_allclose(again.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=1e-6)


def relu(x):  # a user's function that shares a Keras activation's name
    return x


def squash(x):
    return x


def _activation_entries(lib):
    return [lib.layers.Dense(2, activation=fn).get_config()["activation"]
            for fn in (lib.ops.gelu, lib.ops.sigmoid, lib.ops.swish, relu, squash)]


def test_a_function_named_as_an_activation_is_saved_by_that_name():
    # keras.io's CCT passes `activation=keras.ops.gelu`; Keras writes "gelu" and loads it back
    # as the activation.
    entries = _activation_entries(keras)
    assert entries[:4] == ["gelu", "sigmoid", "silu", "relu"]  # ops.swish is ops.silu
    assert entries[4]["config"] == "squash"
    rebuilt = keras.layers.Dense.from_config(
        keras.layers.Dense(2, activation=keras.ops.gelu).get_config())
    assert rebuilt.activation is keras.activations.gelu


def test_function_activation_entries_match_keras(real_keras):
    assert _activation_entries(keras) == _activation_entries(real_keras)


class SequencePooling(keras.layers.Layer):
    """keras.io's CCT pooling layer: its __init__ takes no arguments, so its saved config (no
    name, as Keras writes it too) cannot rebuild it."""

    def __init__(self):
        super().__init__()

    def call(self, x):
        return x


def test_rebuilding_a_layer_without_kwargs_names_it_and_says_the_fix():
    inputs = keras.Input((3, 4))
    model = keras.Model(inputs, SequencePooling()(inputs))
    config = model.get_config()
    assert "name" not in config["layers"][1]["config"]
    with pytest.raises(keras.saving.SavingError,
                       match=r"layer 'sequence_pooling' \(SequencePooling\).*accept \*\*kwargs"):
        keras.Model.from_config(config, custom_objects={"SequencePooling": SequencePooling})
