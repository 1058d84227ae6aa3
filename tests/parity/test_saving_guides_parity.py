"""The Keras guides' saving and data workflows against real Keras 3 (torch backend): legacy `.h5`
files, subclassed models, custom functions, and the data utilities. Skipped without Keras."""

import logging
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")


@pytest.fixture(autouse=True)
def quiet_keras():
    keras.backend.clear_session()
    logging.disable(logging.WARNING)  # Keras logs that HDF5 is a legacy format
    yield
    logging.disable(logging.NOTSET)


def _numpy(t):
    return np.asarray(t.detach().cpu()) if torch.is_tensor(t) else np.asarray(t)


def _nested(lib):
    inner = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="i1"),
                            lib.layers.BatchNormalization(name="ibn")], name="inner")
    inner.layers[0].trainable = False
    x = lib.Input((4,), name="x")
    model = lib.Model(x, lib.layers.Dense(2, name="head")(inner(x)), name="outer")
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def test_legacy_h5_models_move_both_ways(tmp_path):
    x = np.random.RandomState(0).rand(5, 4).astype("float32")
    written = _nested(keras)
    written.set_weights([np.random.RandomState(i).rand(*w.shape).astype("float32") + 0.5
                         for i, w in enumerate(written.get_weights())])
    written.save(tmp_path / "k.h5")
    loaded = netknit.models.load_model(tmp_path / "k.h5")
    assert loaded.compiled
    np.testing.assert_allclose(_numpy(loaded(x)), _numpy(written(x)), rtol=1e-5, atol=1e-6)
    loaded.save(tmp_path / "n.h5")
    back = keras.models.load_model(tmp_path / "n.h5")
    np.testing.assert_allclose(_numpy(back(x)), _numpy(written(x)), rtol=1e-5, atol=1e-6)
    fresh = _nested(keras)
    fresh.load_weights(tmp_path / "n.h5")
    np.testing.assert_allclose(_numpy(fresh(x)), _numpy(written(x)), rtol=1e-5, atol=1e-6)


def _subclassed(lib):
    class TwoDense(lib.Model):
        def __init__(self, units=3, name=None):
            super().__init__(name=name)
            self.units = units
            self.first = lib.layers.Dense(units, activation="relu")
            self.second = lib.layers.Dense(1)

        def call(self, x):
            return self.second(self.first(x))

        def get_config(self):
            return {"units": self.units, "name": self.name}

    return TwoDense


def test_a_subclassed_model_saved_by_keras_loads_into_netknit(tmp_path):
    x = np.random.RandomState(0).rand(2, 5).astype("float32")
    written = _subclassed(keras)(4)
    written(x)
    written.save(tmp_path / "sub.keras")
    loaded = netknit.models.load_model(tmp_path / "sub.keras",
                                       custom_objects={"TwoDense": _subclassed(netknit)})
    np.testing.assert_allclose(_numpy(loaded(x)), _numpy(written(x)), rtol=1e-5, atol=1e-6)


def custom_fn(x):
    return x**2


def _custom_activation_model(lib):
    x = lib.Input((4,))
    return lib.Model(x, lib.layers.Dense(2, activation=custom_fn)(x))


def test_a_custom_activation_saved_by_keras_loads_into_netknit(tmp_path):
    x = np.random.RandomState(0).rand(3, 4).astype("float32")
    written = _custom_activation_model(keras)
    written.save(tmp_path / "fn.keras")
    loaded = netknit.models.load_model(tmp_path / "fn.keras",
                                       custom_objects={"custom_fn": custom_fn})
    assert loaded.layers[-1].activation is custom_fn
    np.testing.assert_allclose(_numpy(loaded(x)), _numpy(written(x)), rtol=1e-5, atol=1e-6)


def test_a_custom_activation_saved_by_netknit_loads_into_keras(tmp_path):
    x = np.random.RandomState(0).rand(3, 4).astype("float32")
    written = _custom_activation_model(netknit)
    written.save(tmp_path / "fn.keras")
    loaded = keras.models.load_model(tmp_path / "fn.keras", custom_objects={"custom_fn": custom_fn})
    assert loaded.layers[-1].activation is custom_fn
    np.testing.assert_allclose(_numpy(loaded(x)), _numpy(written(x)), rtol=1e-5, atol=1e-6)


def test_serialized_functions_match_keras():
    for fn in (custom_fn, keras.activations.relu):
        theirs = keras.saving.serialize_keras_object(fn)
        ours = netknit.saving.serialize_keras_object(
            netknit.activations.relu if fn is keras.activations.relu else fn)
        assert ours == theirs
    assert netknit.saving.get_registered_name(netknit.layers.Dense) == \
        keras.saving.get_registered_name(keras.layers.Dense)


@pytest.mark.parametrize("kwargs", [
    {"left_size": 0.8}, {"left_size": 3}, {"right_size": 0.25},
    {"left_size": 0.5, "shuffle": True, "seed": 3},
])
def test_split_dataset_draws_the_samples_keras_draws(kwargs):
    data = (np.arange(10), np.arange(10) * 10)
    sides = []
    for lib in (keras, netknit):
        torch.manual_seed(0)
        left, right = lib.utils.split_dataset(data, **kwargs)
        sides.append([[tuple(int(v) for v in part[i]) for i in range(len(part))]
                      for part in (left, right)])
    assert sides[0] == sides[1]


def test_data_utils_return_what_keras_returns():
    vectors = [[3.0, 4.0]]
    for given in (np.array(vectors, dtype="float32"), vectors, torch.tensor(vectors)):
        theirs, ours = keras.utils.normalize(given), netknit.utils.normalize(given)
        assert type(theirs) is type(ours) and theirs.dtype == ours.dtype
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-6)
    labels = torch.tensor([[0], [2]])
    theirs = keras.utils.to_categorical(labels, 3)
    ours = netknit.utils.to_categorical(labels, 3)
    assert type(theirs) is type(ours) and theirs.dtype == ours.dtype
    np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))
    padded = [[711, 632, 71], [73, 8, 3215, 55, 927]]
    for kwargs in ({}, {"padding": "post"}, {"maxlen": 4, "truncating": "post", "value": -1}):
        theirs = keras.utils.pad_sequences(padded, **kwargs)
        ours = netknit.utils.pad_sequences(padded, **kwargs)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def lambda_body(x):
    return x**2


def test_a_lambda_of_a_named_function_saved_by_keras_loads_from_custom_objects(tmp_path):
    # Keras writes such a Lambda's function by name: loading needs the function, not safe_mode.
    x = keras.Input((3,))
    keras.Model(x, keras.layers.Lambda(lambda_body)(x)).save(tmp_path / "l.keras")
    loaded = netknit.models.load_model(tmp_path / "l.keras",
                                       custom_objects={"lambda_body": lambda_body})
    np.testing.assert_allclose(_numpy(loaded(np.full((1, 3), 3.0, "float32"))), [[9.0] * 3])
    with pytest.raises(netknit.saving.SavingError, match="lambda_body"):
        netknit.models.load_model(tmp_path / "l.keras")
