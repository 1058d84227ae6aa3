"""Weights and metric state are Keras variables: the guides' `assign_add`, `numpy()`, `value`."""

import copy
import pickle

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import ops


def _dense(**kwargs):
    layer = keras.layers.Dense(3, **kwargs)
    layer.build((None, 4))
    return layer


def test_a_weight_is_a_parameter_with_keras_names():
    layer = _dense()
    kernel = layer.kernel
    assert isinstance(kernel, keras.Variable) and isinstance(kernel, torch.nn.Parameter)
    assert (kernel.name, kernel.path, kernel.trainable) == ("kernel", "dense/kernel", True)
    assert kernel.value is kernel
    assert [p is w for p, w in zip(layer.parameters(), layer.weights)] == [True, True]
    # torch operations give plain tensors, and `state_dict` holds plain tensors
    assert type(kernel * 2) is torch.Tensor
    assert all(type(t) is torch.Tensor for t in layer.state_dict().values())


def test_numpy_and_array_of_a_trainable_weight():
    kernel = _dense().kernel
    assert kernel.requires_grad
    assert isinstance(kernel.numpy(), np.ndarray) and kernel.numpy().shape == (4, 3)
    np.testing.assert_array_equal(np.array(kernel), kernel.detach().numpy())
    assert np.asarray(kernel, dtype="float64").dtype == np.float64


def test_assign_assign_add_assign_sub():
    kernel = _dense().kernel
    assert kernel.assign(np.ones((4, 3))) is kernel
    kernel.assign_add(np.full((4, 3), 2.0))
    kernel.assign_sub(torch.ones(4, 3))
    np.testing.assert_array_equal(kernel.numpy(), np.full((4, 3), 2.0, np.float32))
    assert kernel.grad is None and kernel.requires_grad


def test_assign_of_another_shape_is_refused_naming_both():
    kernel = _dense().kernel
    with pytest.raises(ValueError, match=r"variable.shape=\(4, 3\), Received: value.shape=\(2, 2\)"
                       r".*dense/kernel"):
        kernel.assign(np.ones((2, 2)))


def test_repr_as_keras():
    variable = keras.Variable(np.array([1.0, 2.0], np.float32), name="v")
    assert repr(variable) == "<Variable path=v, shape=(2,), dtype=float32, value=[1. 2.]>"


def test_standalone_variables_take_keras_dtypes_and_names():
    keras.backend.clear_session()
    assert keras.Variable(initializer="ones", shape=(2,)).path == "variable"
    assert keras.Variable(3.0).path == "variable_1"
    assert keras.Variable(3.0).dtype == torch.float32
    assert keras.Variable(3).dtype == torch.int32
    assert keras.Variable(np.ones(2)).dtype == torch.float64  # the array's, as in Keras
    state = keras.Variable(initializer="zeros", shape=(2, 3), dtype="int32", trainable=False)
    assert not state.trainable and not isinstance(state, torch.nn.Parameter)
    with pytest.raises(ValueError, match="needs its `shape`"):
        keras.Variable(initializer="zeros")
    with pytest.raises(ValueError, match="cannot be made trainable"):
        state.trainable = True


def test_freezing_a_layer_sets_its_variables_and_drops_their_penalties():
    layer = _dense(kernel_regularizer="l2")
    assert len(layer.losses) == 1 and layer.kernel.regularizer is not None
    layer.trainable = False
    assert not layer.kernel.trainable and not layer.kernel.requires_grad
    assert layer.losses == []  # as Keras: only trainable weights are regularized
    layer.trainable = True
    assert layer.kernel.trainable and layer.kernel.requires_grad


def test_a_regularizer_set_on_a_variable_counts():
    layer = _dense()
    assert layer.losses == []
    layer.kernel.regularizer = keras.regularizers.L2(0.5)
    expected = 0.5 * (layer.kernel.numpy() ** 2).sum()
    assert layer.losses[0].item() == pytest.approx(expected)


def test_the_subclassing_guides_compute_sum_layer():
    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                         trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    my_sum = ComputeSum(2)
    x = ops.ones((2, 2))
    assert my_sum(x).numpy().tolist() == [2.0, 2.0]
    assert my_sum(x).numpy().tolist() == [4.0, 4.0]
    assert len(my_sum.weights) == 1 and my_sum.trainable_weights == []
    # building a graph runs the layer on stand-ins, which must not reach the state
    symbolic_sum = ComputeSum(2)
    symbolic_sum(keras.Input((2,)))
    assert symbolic_sum.total.numpy().tolist() == [0.0, 0.0]


def test_the_training_guides_custom_metric():
    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            self.true_positives.assign_add(ops.sum(ops.cast(values, "float32")))

        def result(self):
            return self.true_positives.value

        def reset_state(self):
            self.true_positives.assign(0.0)

    metric = CategoricalTruePositives()
    assert metric.variables[0].path == "categorical_true_positives/ctp"
    metric.update_state(np.array([[1], [0], [1]]), np.array([[0.1, 0.9], [0.2, 0.8], [0.3, 0.7]]))
    assert float(metric.result()) == 2.0
    metric.reset_state()
    assert float(metric.result()) == 0.0

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[CategoricalTruePositives()])
    history = model.fit(np.ones((8, 4)), np.ones((8, 1)), batch_size=4, epochs=1, verbose=0)
    assert 0.0 <= history.history["categorical_true_positives"][0] <= 8.0


def test_metric_variables_are_named_under_the_metric():
    metric = keras.metrics.Mean()
    assert [v.path for v in metric.variables] == ["mean/total", "mean/count"]
    metric.update_state([1.0, 2.0])
    assert [v.numpy().item() for v in metric.variables] == [3.0, 2.0]


def test_variables_survive_copies_and_casts():
    layer = _dense(kernel_regularizer="l2")
    copied = copy.deepcopy(layer)
    assert isinstance(copied.kernel, keras.Variable) and copied.kernel.path == "dense/kernel"
    assert copied.kernel.regularizer is not None
    assert copied.kernel.data_ptr() != layer.kernel.data_ptr()
    unpickled = pickle.loads(pickle.dumps(layer))
    assert isinstance(unpickled.kernel, torch.nn.Parameter) and unpickled.kernel.path == \
        "dense/kernel"
    norm = keras.layers.BatchNormalization()
    norm.build((None, 3))
    norm.double()
    assert isinstance(norm.moving_mean, keras.Variable)
    assert norm.moving_mean.dtype == torch.float64 and not norm.moving_mean.trainable
    assert norm.moving_mean.path == "batch_normalization/moving_mean"


def test_weights_replaced_by_plain_tensors_stay_variables():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_regularizer="l2"),
                              keras.layers.BatchNormalization()])
    state = {k: v.clone() + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(state, assign=True)  # torch puts the given tensors in place
    kernel = model.layers[0].kernel
    assert isinstance(kernel, keras.Variable) and kernel.path == "sequential/dense/kernel"
    assert kernel.requires_grad and len(model.losses) == 1
    assert isinstance(model.layers[1].moving_mean, keras.Variable)
    np.testing.assert_array_equal(model.get_weights()[0], state["_layer_modules.dense.kernel"])
    model.layers[0].kernel = torch.nn.Parameter(torch.zeros(4, 2))
    assert isinstance(model.layers[0].kernel, keras.Variable)


def test_predict_reads_built_in_layers_weights_as_plain_tensors_and_restores_them():
    seen = {}

    class Probe(keras.layers.Layer):  # a user's layer keeps its variables while predicting
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones")

        def call(self, inputs):
            seen["user"] = type(self.scale)
            seen["built_in"] = type(dense.kernel)
            return inputs * self.scale.value

    dense = keras.layers.Dense(2)
    model = keras.Sequential([keras.Input((3,)), dense, Probe()])
    x = np.ones((4, 3), "float32")
    expected = model(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    assert seen["built_in"] is torch.Tensor and issubclass(seen["user"], keras.Variable)
    assert isinstance(model.layers[0].kernel, keras.Variable)  # restored
    assert all(isinstance(p, keras.Variable) for p in model.parameters())

    class Failing(keras.layers.Layer):
        def call(self, inputs):
            if inputs.shape[0] == 4:  # the data's batch, not the stand-ins that infer shapes
                raise RuntimeError("boom")
            return inputs

    broken = keras.Sequential([keras.layers.Dense(2), Failing()])
    broken.build((None, 3))
    with pytest.raises(RuntimeError, match="boom"):
        broken.predict(x, verbose=0)
    assert isinstance(broken.layers[0].kernel, keras.Variable)
