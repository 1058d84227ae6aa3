"""`layer.path` and `keras.Variable`s held as layer attributes, as Keras 3 tracks them."""

import h5py
import numpy as np
import torch

import netknit as keras
from netknit import layers


class _Inner(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(2, name="dense_a")

    def call(self, x):
        return self.dense(x)


class _Outer(layers.Layer):
    def call(self, x):
        return self.inner(x)

    def build(self, input_shape):
        self.inner = _Inner(name="inner")


def test_path_is_set_where_the_layer_is_built():
    dense = layers.Dense(3, name="d")
    assert dense.path is None
    dense.build((None, 2))
    assert dense.path == "d"
    outer = _Outer(name="outer")
    outer(np.ones((1, 2), "float32"))
    assert (outer.path, outer.inner.path, outer.inner.dense.path) == (
        "outer", "outer/inner", "outer/inner/dense_a")
    assert layers.Activation("relu").path is None  # built when made: never named, as in Keras


def test_path_of_models_and_their_layers():
    seq = keras.Sequential([layers.Dense(2, name="s1")], name="seq")
    assert seq.path is None
    seq.build((None, 3))
    assert (seq.path, seq.layers[0].path) == ("seq", "seq/s1")
    with keras.name_scope("scope"):
        inputs = keras.Input((2,))
        model = keras.Model(inputs, layers.Dense(1, name="fd")(inputs), name="fm")
    assert (model.path, model.layers[1].path) == ("scope/fm", "scope/fd")
    lstm = layers.LSTM(2, name="lstm")
    lstm(np.ones((1, 3, 2), "float32"))
    assert lstm.cell.path == "lstm/lstm_cell"


class VarLayer(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.Variable(np.ones((2,)), name="a_init")
        self.frozen = keras.Variable(np.zeros((3,)), trainable=False, name="nt")
        self.scales = [keras.Variable(np.full((1,), 2.0), name="li0"),
                       keras.Variable(np.full((1,), 3.0), name="li1")]

    def build(self, input_shape):
        self.k = self.add_weight(shape=(input_shape[-1], 2), initializer="ones", name="k")
        self.b = keras.Variable(np.full((2,), 0.5), name="b_build")

    def call(self, x):
        return (x @ self.k) * self.a + self.b + self.scales[0] * self.scales[1] + self.frozen.sum()


def _model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, VarLayer(name="vl")(inputs), name="m")


def test_variable_attributes_are_weights_in_keras_order(tmp_path):
    model = _model()
    layer = model.layers[1]
    # Keras 3.15.1: trainable ones in assignment order, then the non-trainable one.
    assert [w.path for w in layer.weights] == ["a_init", "li0", "li1", "vl/k", "vl/b_build", "nt"]
    assert [w.path for w in layer.non_trainable_weights] == ["nt"]
    assert model.count_params() == 15
    assert len(list(model.parameters())) == 5
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path) as f:
        shapes = [f[f"layers/var_layer/vars/{i}"].shape for i in range(6)]
    assert shapes == [(2,), (1,), (1,), (3, 2), (2,), (3,)]
    fresh = _model()
    for w in fresh.weights:
        w.assign(np.zeros(tuple(w.shape)))
    fresh.load_weights(path)
    assert [np.asarray(w).ravel()[0] for w in fresh.weights] == [1.0, 2.0, 3.0, 1.0, 0.5, 0.0]


def test_fit_updates_trainable_variable_attributes():
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), batch_size=4, verbose=0)
    # Keras 3.15.1 gives these after the same step.
    expected = [[-1.85, -1.85], [-3.7], [-0.8], [0.05] * 6, [-0.45, -0.45], [0.0] * 3]
    for weight, values in zip(model.get_weights(), expected):
        np.testing.assert_allclose(weight.ravel(), values, atol=1e-5)


def test_variables_in_containers_and_removal():
    layer = layers.Layer(name="holder")
    layer.table = {"x": keras.Variable(np.ones((2,)), name="dx"),
                   "y": keras.Variable(np.ones((1,)), name="dy", trainable=False)}
    layer.mixed = [layers.Dense(2, name="md"), keras.Variable(np.ones((4,)), name="m1")]
    layer.later = []
    layer.later.append(keras.Variable(np.ones((6,)), name="late"))
    assert [w.path for w in layer.weights] == ["dx", "m1", "late", "dy"]
    assert set(dict(layer.named_parameters())) == {"table.x", "mixed.1", "later.0"}
    layer.later.pop()
    del layer.table
    assert [w.path for w in layer.weights] == ["m1"]
    layer.mixed[1].assign(torch.zeros(4))
    assert np.asarray(layer.weights[0]).sum() == 0.0
