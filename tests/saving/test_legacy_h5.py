"""Keras's legacy HDF5 format: `model.save("m.h5")`, `load_model("m.h5")` and `.h5` weights by
layer order or by name (Keras 3.15.1 reads and writes it; Keras 2 wrote it by default)."""

import json

import h5py
import numpy as np
import pytest
from helpers import assert_same_predictions, mixed_data, mixed_model

import netknit as keras
from netknit import layers
from netknit.saving import SavingError


def _model():
    x = keras.Input((4,), name="x")
    h = layers.BatchNormalization(name="bn")(layers.Dense(3, name="d")(x))
    return keras.Model(x, layers.Dense(2, name="head")(h), name="m")


def test_a_model_round_trips_with_its_compile_arguments(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=["mean_absolute_error"])
    x = np.random.rand(5, 4).astype("float32")
    model.fit(x, np.ones((5, 2)), verbose=0)
    model.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5")
    assert loaded.compiled and [layer.name for layer in loaded.layers] == ["x", "d", "bn", "head"]
    assert_same_predictions(model, loaded, x)
    assert not keras.models.load_model(tmp_path / "m.h5", compile=False).compiled


def test_nested_models_and_dict_outputs_round_trip(tmp_path):
    model = mixed_model()
    model.save(tmp_path / "m.hdf5")
    assert_same_predictions(model, keras.models.load_model(tmp_path / "m.hdf5"), mixed_data()[0])


def test_the_file_has_keras_legacy_layout(tmp_path):
    model = _model()
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as f:
        assert {"backend", "keras_version", "model_config"} <= set(f.attrs)
        assert json.loads(f.attrs["model_config"])["class_name"] == "Functional"
        weights = f["model_weights"]
        assert [str(n) for n in weights.attrs["layer_names"]] == ["x", "d", "bn", "head"]
        # Trainable weights first, then the moving statistics, as Keras lists them.
        names = [str(n) for n in weights["bn"].attrs["weight_names"]]
        assert [weights["bn"][n].shape for n in names] == [(3,)] * 4
        assert names[2:] == ["bn/moving_mean", "bn/moving_variance"]


def test_weights_load_by_order_or_by_name(tmp_path):
    model = _model()
    model.save(tmp_path / "m.h5")
    other = _model()
    other.load_weights(tmp_path / "m.h5")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = keras.Input((4,), name="x")
    smaller = keras.Model(x, layers.Dense(3, name="d")(x))
    with pytest.raises(SavingError, match="weights for 3 layers.*by_name=True"):
        smaller.load_weights(tmp_path / "m.h5")
    smaller.load_weights(tmp_path / "m.h5", by_name=True)  # Keras's Model.load_weights option
    np.testing.assert_array_equal(smaller.layers[1].get_weights()[0],
                                  model.layers[1].get_weights()[0])


def test_a_layer_that_does_not_fit_is_refused_or_skipped(tmp_path):
    model = _model()
    model.save(tmp_path / "m.h5")
    x = keras.Input((4,), name="x")
    h = layers.BatchNormalization(name="bn")(layers.Dense(3, name="d")(x))
    wider = keras.Model(x, layers.Dense(5, name="head")(h))
    before = wider.get_weights()
    with pytest.raises(SavingError, match=r"layer 'head'.*\(3, 5\).*\(3, 2\)"):
        wider.load_weights(tmp_path / "m.h5")
    for a, b in zip(before, wider.get_weights()):  # nothing changed
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="Skipping loading weights for layer 'head'"):
        wider.load_weights(tmp_path / "m.h5", skip_mismatch=True)
    np.testing.assert_array_equal(wider.layers[1].get_weights()[0],
                                  model.layers[1].get_weights()[0])


def test_by_name_applies_to_legacy_files_only(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="legacy .h5"):
        keras.saving.load_weights(model, tmp_path / "m.weights.h5", by_name=True)


def test_a_weights_only_legacy_file_is_not_a_model(tmp_path):
    model = _model()
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        del f.attrs["model_config"]
    with pytest.raises(SavingError, match="no model config"):
        keras.models.load_model(tmp_path / "m.h5")


def test_a_tf_keras_2_weights_file_loads_by_order(tmp_path):
    # The layout tf.keras 2 wrote for model.save_weights("w.h5"): names as bytes, ":0" suffixes.
    model = _model()
    rng = np.random.default_rng(0)
    values = {name: [rng.standard_normal(w.shape).astype("float32") for w in layer.weights]
              for name, layer in (("dense", model.layers[1]), ("batch_normalization",
                                                               model.layers[2]),
                                  ("dense_1", model.layers[3]))}
    suffixes = {"dense": ["kernel:0", "bias:0"], "dense_1": ["kernel:0", "bias:0"],
                "batch_normalization": ["gamma:0", "beta:0", "moving_mean:0",
                                        "moving_variance:0"]}
    with h5py.File(tmp_path / "w.h5", "w") as f:
        f.attrs["backend"], f.attrs["keras_version"] = b"tensorflow", b"2.12.0"
        f.attrs["layer_names"] = np.array([b"input_1", *[n.encode() for n in values]])
        f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        for name, arrays in values.items():
            names = [f"{name}/{s}" for s in suffixes[name]]
            group = f.create_group(name)
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for weight_name, array in zip(names, arrays):
                group.create_dataset(weight_name, data=array)
    model.load_weights(tmp_path / "w.h5")
    loaded = [w for layer in model.layers[1:] for w in layer.get_weights()]
    for a, b in zip(loaded, [a for arrays in values.values() for a in arrays]):
        np.testing.assert_array_equal(a, b)


def _tf_keras_2_dense(name, units, activation="linear"):
    return {"class_name": "Dense", "name": name, "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}}


def test_a_tf_keras_2_model_file_loads(tmp_path):
    # The config tf.keras 2 wrote (Keras 3.15.1 loads this very file to the same predictions):
    # `batch_input_shape`, and calls as lists of [layer, node, tensor, kwargs].
    config = {"class_name": "Model", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [], "config": {
            "batch_input_shape": [None, 4], "dtype": "float32", "sparse": False,
            "ragged": False, "name": "input_1"}},
        {**_tf_keras_2_dense("dense", 3, "relu"), "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {**_tf_keras_2_dense("dense_1", 2), "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {"class_name": "Concatenate", "name": "concatenate",
         "config": {"name": "concatenate", "trainable": True, "dtype": "float32", "axis": -1},
         "inbound_nodes": [[["dense", 0, 0, {}], ["dense_1", 0, 0, {}]]]},
        {**_tf_keras_2_dense("dense_2", 1), "inbound_nodes": [[["concatenate", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}
    rng = np.random.default_rng(0)
    weights = {"dense": [(4, 3), (3,)], "dense_1": [(4, 2), (2,)], "dense_2": [(5, 1), (1,)]}
    weights = {n: [rng.standard_normal(s).astype("float32") for s in shapes]
               for n, shapes in weights.items()}
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f.attrs["keras_version"], f.attrs["model_config"] = b"2.12.0", json.dumps(config).encode()
        group = f.create_group("model_weights")
        names = ["input_1", "dense", "dense_1", "concatenate", "dense_2"]
        group.attrs["layer_names"] = np.array([n.encode() for n in names])
        for name in names:
            arrays = weights.get(name, [])
            paths = [f"{name}/{w}:0" for w in ("kernel", "bias")][:len(arrays)]
            group.create_group(name).attrs["weight_names"] = np.array(
                [p.encode() for p in paths], dtype="S")
            for path, array in zip(paths, arrays):
                group[name].create_dataset(path, data=array)
    model = keras.models.load_model(tmp_path / "m.h5")
    x = rng.random((3, 4)).astype("float32")
    (k0, b0), (k1, b1), (k2, b2) = weights.values()
    expected = np.concatenate([np.maximum(x @ k0 + b0, 0), x @ k1 + b1], axis=-1) @ k2 + b2
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
