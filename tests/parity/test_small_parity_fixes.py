"""Small behaviours matched to Keras 3.15.1 (torch backend): Normalization's `mean`/`variance`
and build config, loading Keras's files of a Dense subclass with a variable of its own, batch
logs that callbacks add to, and fit's warning for a DataLoader it cannot shuffle.

The expected values were observed from Keras; the `real_keras` tests compare live."""

import warnings

import h5py
import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

DATA = np.arange(30, dtype="float32").reshape(10, 3)


# ------------------------------------------------------------------ Normalization


def test_adapted_normalization_exposes_statistics_in_the_broadcast_shape():
    layer = layers.Normalization()
    assert layer.mean is None
    layer.adapt(DATA)
    assert tuple(layer.mean.shape) == (1, 3) and tuple(layer.variance.shape) == (1, 3)
    np.testing.assert_allclose(layer.mean.numpy(), [[13.5, 14.5, 15.5]])
    np.testing.assert_allclose(layer.variance.numpy(), [[74.25] * 3])
    np.testing.assert_allclose(layer.adapt_mean.numpy(), [13.5, 14.5, 15.5])
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [
        ("normalization/mean", (3,)), ("normalization/variance", (3,)),
        ("normalization/count", ())]
    # Keras builds for the data's shape, batch size included.
    assert layer.get_build_config() == {"input_shape": (10, 3)}
    model = keras.Sequential([keras.Input((3,)), layer])
    assert model.get_config()["layers"][1]["build_config"] == {"input_shape": (10, 3)}
    # They follow the weights.
    layer.set_weights([np.ones(3), np.full(3, 4.0), np.array(0)])
    np.testing.assert_allclose(layer.variance.numpy(), [[4.0] * 3])


@pytest.mark.parametrize("axis, data, shape", [
    (-1, DATA[:, :1], (1, 1)),
    (None, DATA, (1, 1)),
    (1, DATA.reshape(5, 2, 3), (1, 2, 1)),
    ((1, 2), DATA.reshape(5, 2, 3), (1, 2, 3)),
])
def test_statistics_shape_for_each_axis(axis, data, shape):
    layer = layers.Normalization(axis=axis)
    layer.adapt(data)
    assert tuple(layer.mean.shape) == shape and tuple(layer.variance.shape) == shape


def test_given_statistics_are_exposed_once_built():
    layer = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 5.0, 6.0])
    assert layer.mean is None
    layer.build((None, 3))
    assert layer.mean.tolist() == [[1.0, 2.0, 3.0]] and layer.variance.tolist() == [[4, 5, 6]]
    scalar = layers.Normalization(axis=None, mean=2.0, variance=4.0)
    scalar.build((None, 2, 3))
    assert scalar.mean.tolist() == [[[2.0]]] and layer.weights == []
    with pytest.raises(AttributeError):
        layer.adapt_mean  # noqa: B018 (as in Keras: only an adapted layer has it)


def test_normalization_matches_keras_live(real_keras):
    for lib in (real_keras, keras):
        layer = lib.layers.Normalization(axis=1)
        layer.adapt(DATA.reshape(5, 2, 3))
        np.testing.assert_allclose(np.asarray(layer.mean.detach().cpu()), [[[13.0], [16.0]]])
        assert tuple(layer.get_build_config()["input_shape"]) == (5, 2, 3)


# ------------------------------------------------------------------ a Dense subclass's file


def _extra_dense(lib):
    class Scaled(lib.layers.Dense):
        def build(self, input_shape):
            super().build(input_shape)
            self.extra = self.add_weight(shape=(2,), initializer="ones", name="extra")

        def call(self, inputs):
            return super().call(inputs) * self.extra

    inputs = lib.Input((3,))
    return lib.Model(inputs, Scaled(2, name="scaled")(inputs))


def _keras_layout_file(path):
    """What Keras's save_weights writes for the model: the kernel and bias alone."""
    model = _extra_dense(keras)
    model.set_weights([np.full((3, 2), 2.0), np.full(2, 3.0), np.full(2, 9.0)])
    model.save_weights(path)
    with h5py.File(path, "a") as file:
        del file["layers/scaled/vars/2"]


def test_a_keras_file_of_a_dense_subclass_loads_its_kernel_and_bias(tmp_path):
    _keras_layout_file(tmp_path / "k.weights.h5")
    model = _extra_dense(keras)
    with pytest.warns(UserWarning, match=r"has only kernel and bias .*'scaled'.*\(extra\) keep"):
        model.load_weights(tmp_path / "k.weights.h5")
    kernel, bias, extra = model.get_weights()
    assert kernel.tolist() == [[2.0, 2.0]] * 3 and bias.tolist() == [3.0, 3.0]
    assert extra.tolist() == [1.0, 1.0]  # not in the file: kept


def test_netknit_keeps_the_added_weight_in_its_own_file(tmp_path):
    model = _extra_dense(keras)
    model.set_weights([np.ones((3, 2)), np.zeros(2), np.full(2, 5.0)])
    model.save_weights(tmp_path / "n.weights.h5")
    loaded = _extra_dense(keras)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.load_weights(tmp_path / "n.weights.h5")
    assert loaded.get_weights()[2].tolist() == [5.0, 5.0]


def test_dense_subclass_files_move_both_ways_live(real_keras, tmp_path):
    theirs, ours = _extra_dense(real_keras), _extra_dense(keras)
    theirs.save_weights(tmp_path / "k.weights.h5")
    with h5py.File(tmp_path / "k.weights.h5") as file:
        assert sorted(file["layers/scaled/vars"]) == ["0", "1"]
    with pytest.warns(UserWarning, match="only kernel and bias"):
        ours.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_array_equal(ours.get_weights()[0], theirs.get_weights()[0])
    # Keras loads netknit's file (its extra array is left there).
    ours.set_weights([np.ones((3, 2)), np.full(2, 2.0), np.full(2, 7.0)])
    ours.save_weights(tmp_path / "n.weights.h5")
    theirs.load_weights(tmp_path / "n.weights.h5")
    assert np.asarray(theirs.get_weights()[1]).tolist() == [2.0, 2.0]


# ------------------------------------------------------------------ batch logs


class _AddsAtBatchOne(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            logs["extra"] = 1.0

    def on_test_batch_end(self, batch, logs=None):
        if batch == 0:
            logs["x"] = 2


class _Keys(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(("train", batch, sorted(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.seen.append(("test", batch, sorted(logs)))


def test_keys_a_callback_adds_to_batch_logs_do_not_carry_over():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    keys = _Keys()
    model.fit(x, y, batch_size=2, verbose=0, validation_data=(x, y),
              callbacks=[_AddsAtBatchOne(), keys])
    # Keras 3.15.1: each batch gets new logs.
    assert keys.seen == [("train", 0, ["loss"]), ("train", 1, ["extra", "loss"]),
                         ("train", 2, ["loss"]), ("train", 3, ["loss"]),
                         ("test", 0, ["loss", "x"]), ("test", 1, ["loss"]),
                         ("test", 2, ["loss"]), ("test", 3, ["loss"])]


# ------------------------------------------------------------------ DataLoader and shuffle


def test_fit_warns_that_a_data_loader_is_not_shuffled():
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.ones(8, 2), torch.ones(8, 1)), batch_size=4)
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    # Keras warns with fit's default shuffle=True too, once per fit.
    with pytest.warns(UserWarning) as record:
        model.fit(loader, epochs=2, verbose=0)
    assert [str(w.message) for w in record] == [
        "`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
        "torch DataLoader. The DataLoader is expected to already be shuffled."]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(loader, verbose=0, shuffle=False, validation_data=loader)
        model.evaluate(loader, verbose=0)
