"""keras.name_scope, keras.StatelessScope, keras.SymbolicScope, Layer.stateless_call and
keras.export.ExportArchive, as observed in Keras 3.15.1 (torch backend)."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers
from netknit.scopes import in_symbolic_scope


def paths(layer):
    return [w.path for w in layer.weights]


def test_weights_built_in_a_name_scope_have_its_path():
    with keras.name_scope("outer"):
        dense = layers.Dense(2)
        dense.build((None, 3))
        with keras.name_scope("inner"):
            named = layers.Dense(2, name="e")
            named(np.ones((1, 3), "float32"))
        variable = keras.Variable(np.ones(2), name="v")
        made_here = layers.Dense(2, name="made_here")
    made_here.build((None, 3))
    assert dense.name == "dense"  # names are not changed
    assert paths(dense) == ["outer/dense/kernel", "outer/dense/bias"]
    assert paths(named) == ["outer/inner/e/kernel", "outer/inner/e/bias"]
    assert (variable.path, variable.name) == ("outer/v", "v")
    # What counts is where the weights are made, not where the layer was.
    assert paths(made_here) == ["made_here/kernel", "made_here/bias"]


def test_layers_and_models_built_in_a_scope_nest_under_it():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2, name="inner_d")

        def build(self, input_shape):
            self.v = keras.Variable(1.0, name="v")
            # A layer's own name with itself as caller is the scope it is already in.
            with keras.name_scope(self.name, caller=self):
                self.w = self.add_weight(shape=(), name="w")

        def call(self, x):
            return self.dense(x)

    with keras.name_scope("outer"):
        block = Block(name="blk")
        block(np.ones((1, 3), "float32"))
        inputs = keras.Input((3,))
        model = keras.Model(inputs, layers.Dense(2, name="dd")(inputs), name="mm")
        sequential = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="sd")],
                                      name="seq")
    assert block.v.path == "outer/blk/v"
    # As in Keras, the variable assigned to an attribute is one of the block's weights.
    assert paths(block) == ["outer/blk/v", "outer/blk/w", "outer/blk/inner_d/kernel",
                            "outer/blk/inner_d/bias"]
    assert paths(model) == ["outer/dd/kernel", "outer/dd/bias"]
    assert paths(sequential) == ["outer/seq/sd/kernel", "outer/seq/sd/bias"]


def test_caller_deduplicate_and_override_parent():
    caller, found = object(), []
    with keras.name_scope("a", caller=caller):
        with keras.name_scope("a", caller=caller):
            found.append(keras.Variable(1.0, name="v").path)
        with keras.name_scope("a", caller=caller, deduplicate=False):
            found.append(keras.Variable(1.0, name="v").path)
        with keras.name_scope("a"):
            found.append(keras.Variable(1.0, name="v").path)
    with keras.name_scope("top"):
        with keras.name_scope("x", override_parent="p/q"):
            with keras.name_scope("y"):
                found.append(keras.Variable(1.0, name="v").path)
    with keras.name_scope(""):
        with keras.name_scope("a"):
            found.append(keras.Variable(1.0, name="v").path)
    assert found == ["a/v", "a/a/v", "a/a/v", "p/q/x/y/v", "/a/v"]


def test_a_name_with_a_slash_is_refused():
    with pytest.raises(ValueError, match="cannot contain character `/`. Received: name='a/b'"):
        keras.name_scope("a/b")
    with pytest.raises(ValueError, match="must be a string"):
        keras.name_scope(3)


def test_paths_match_keras(real_keras):
    def built_paths(k):
        with k.name_scope("outer"):
            with k.name_scope("x", override_parent="p"):
                dense = k.layers.Dense(2, name="d")
                dense.build((None, 3))
        return [w.path for w in dense.weights]

    assert built_paths(keras) == built_paths(real_keras) == ["p/x/d/kernel", "p/x/d/bias"]


def test_stateless_scope_computes_with_given_values_and_keeps_changes():
    dense = layers.Dense(2, kernel_initializer="ones")
    dense.build((None, 3))
    twos = np.full((3, 2), 2.0, "float32")
    with keras.StatelessScope(state_mapping=[(dense.kernel, twos)]) as scope:
        outputs = dense(np.ones((1, 3), "float32"))
        dense.bias.assign(np.array([1.0, 2.0], "float32"))
        dense.bias.assign_add(np.array([1.0, 1.0], "float32"))
        inside = dense.kernel.numpy()
    assert outputs.tolist() == [[6.0, 6.0]]
    np.testing.assert_array_equal(inside, twos)
    assert scope.get_current_value(dense.bias).tolist() == [2.0, 3.0]
    assert dense.bias.numpy().tolist() == [0.0, 0.0]
    assert dense.kernel.numpy().tolist() == [[1.0, 1.0]] * 3
    assert scope.get_current_value(layers.Dense(1).add_weight(shape=())) is None


def test_stateless_scope_refuses_bad_mappings():
    dense = layers.Dense(2)
    dense.build((None, 3))
    with pytest.raises(ValueError, match="must be variables"):
        keras.StatelessScope(state_mapping=[(3, np.ones(2))])
    with pytest.raises(ValueError, match="shape that matches"):
        keras.StatelessScope(state_mapping=[(dense.kernel, np.ones((2, 2)))])
    with pytest.raises(NotImplementedError, match="layer.losses"):
        keras.StatelessScope(collect_losses=True)


def stateless_results(k):
    k.utils.set_random_seed(1)
    model = k.Sequential([k.Input((3,)), k.layers.Dense(4, kernel_regularizer="l2"),
                          k.layers.BatchNormalization(), k.layers.Dense(2)])
    before = [w.numpy().copy() for w in model.weights]
    trainable = [np.full(tuple(v.shape), 0.1, "float32") for v in model.trainable_variables]
    non_trainable = [np.asarray(v.numpy()) for v in model.non_trainable_variables]
    x = np.random.RandomState(0).rand(5, 3).astype("float32")
    outputs, state, losses = model.stateless_call(trainable, non_trainable, x, training=True,
                                                  return_losses=True)
    unchanged = all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights))
    return (np.asarray(outputs), [np.asarray(s) for s in state],
            [float(loss) for loss in losses], unchanged)


def test_stateless_call_matches_keras(real_keras):
    ours, theirs = stateless_results(keras), stateless_results(real_keras)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[1], theirs[1]):  # the moving statistics after the call
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5)  # the l2 penalty of the values
    assert ours[3] and theirs[3]


def test_stateless_call_updates_only_the_returned_state():
    model = keras.Sequential([keras.Input((3,)), layers.BatchNormalization()])
    x = torch.full((4, 3), 5.0)
    outputs, (mean, variance) = model.stateless_call(
        model.trainable_variables, model.non_trainable_variables, x, training=True)
    assert mean.tolist() == pytest.approx([0.05] * 3)  # 0.99 * 0 + 0.01 * 5
    assert model.layers[0].moving_mean.tolist() == [0.0] * 3
    assert outputs.shape == (4, 3)


def test_stateless_call_gradients_reach_the_given_values():
    dense = layers.Dense(1, kernel_initializer="ones")
    dense.build((None, 2))
    kernel = torch.full((2, 1), 3.0, requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    outputs, _ = dense.stateless_call([kernel, bias], [], torch.tensor([[1.0, 2.0]]))
    outputs.sum().backward()
    assert outputs.item() == 9.0 and kernel.grad.flatten().tolist() == [1.0, 2.0]
    assert dense.kernel.grad is None


def test_stateless_call_checks_its_arguments():
    dense = layers.Dense(2)
    with pytest.raises(ValueError, match="must be built"):
        dense.stateless_call([], [], np.ones((1, 3)))
    dense.build((None, 3))
    with pytest.raises(ValueError, match="Received list with length 1, but expected 2"):
        dense.stateless_call([np.ones((3, 2))], [], np.ones((1, 3)))


def test_shape_inference_runs_in_a_symbolic_scope():
    seen = []

    class Probe(layers.Layer):
        def call(self, x):
            seen.append(in_symbolic_scope())
            return x

    Probe()(keras.Input((3,)))
    Probe()(torch.ones(1, 3))
    with keras.SymbolicScope():
        assert in_symbolic_scope()
    assert seen == [True, True, False] and not in_symbolic_scope()


def test_export_archive_names_the_formats_netknit_writes():
    assert keras.export.ExportArchive is not None  # `netknit.export` without importing it
    with pytest.raises(ImportError, match=r"format='onnx'.*format='torch'"):
        keras.export.ExportArchive()
