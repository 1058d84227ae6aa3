"""RNN, the cells and StackedRNNCells: numerics against Keras 3.15.1's, and the Keras way of
writing a cell of one's own.

`REFERENCE` (at the end of this file) holds, for each case, the weights set in a Keras layer
(Keras's layouts) and the outputs Keras computed on `REFERENCE["x"]` (batch 2, 3 steps,
2 features), flattened in order. Setting the same weights here must give the same outputs.
"""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers
from netknit.graph import nest


class MinimalRNNCell(layers.Layer):
    """Keras's documented recipe for a cell: `state_size`, `build`, `call(inputs, states)`."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return output, [output]


CASES = {
    "lstm_cell": lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True, return_state=True),
    "stack_mask": lambda: layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True),
    "gru_before_back": lambda: layers.RNN(layers.GRUCell(2, reset_after=False), go_backwards=True,
                                          return_sequences=True, zero_output_for_mask=True),
    "simple_init": lambda: layers.RNN(layers.SimpleRNNCell(2, activation="softsign"),
                                      return_state=True),
    "custom_mask": lambda: layers.RNN(MinimalRNNCell(3), return_sequences=True),
    "custom_stack": lambda: layers.RNN([MinimalRNNCell(2), layers.LSTMCell(3)],
                                       return_state=True),
}


def _call_kwargs(key):
    if key.endswith("mask") or key == "gru_before_back":
        return {"mask": torch.tensor(REFERENCE["mask"])}
    if key.endswith("init"):
        return {"initial_state": [torch.tensor(REFERENCE["h0"])]}
    return {}


@pytest.mark.parametrize("key", CASES)
def test_matches_keras_outputs_from_the_same_weights(key):
    layer = CASES[key]()
    x = torch.tensor(REFERENCE["x"])
    layer(x, **_call_kwargs(key))
    layer.set_weights([np.asarray(w, dtype="float32") for w in REFERENCE[key]["weights"]])
    outputs = nest.flatten(layer(x, **_call_kwargs(key)))
    expected = REFERENCE[key]["y"]
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got.detach().numpy(), np.asarray(want), rtol=1e-4, atol=1e-5)


def test_a_cell_called_on_one_step_matches_keras():
    cell = layers.LSTMCell(2)
    step = torch.tensor(REFERENCE["x"])[:, 0]
    h0 = torch.tensor(REFERENCE["h0"])
    cell(step, [h0, -h0])
    reference = REFERENCE["lstm_cell_step"]
    cell.set_weights([np.asarray(w, dtype="float32") for w in reference["weights"]])
    output, (h, c) = cell(step, [h0, -h0])
    for got, want in zip([output, h, c], reference["y"]):
        np.testing.assert_allclose(got.detach().numpy(), np.asarray(want), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make,state_size,shapes,params", [
    (lambda: layers.LSTMCell(3), [3, 3], [(2, 12), (3, 12), (12,)], 72),
    (lambda: layers.GRUCell(3), 3, [(2, 9), (3, 9), (2, 9)], 63),
    (lambda: layers.GRUCell(3, reset_after=False, use_bias=False), 3, [(2, 9), (3, 9)], 45),
    (lambda: layers.SimpleRNNCell(3), 3, [(2, 3), (3, 3), (3,)], 18),
])
def test_cells_have_keras_states_weights_and_counts(make, state_size, shapes, params):
    cell = make()
    cell.build((None, 2))
    assert (cell.state_size, cell.output_size) == (state_size, 3)
    assert [tuple(w.shape) for w in cell.weights] == shapes
    assert [w.path.split("/")[1] for w in cell.weights] == (
        ["kernel", "recurrent_kernel", "bias"][:len(shapes)])
    assert cell.count_params() == params
    # The layout of the layers' weights: torch's fused kernels take the transposes as they are.
    assert cell.kernel.T.is_contiguous() and cell.recurrent_kernel.T.is_contiguous()


def test_cells_called_on_symbolic_tensors_record_a_node():
    x, h, c = keras.Input((3,)), keras.Input((4,)), keras.Input((4,))
    output, (h_out, c_out) = layers.LSTMCell(4)(x, [h, c])
    assert [t.shape for t in (output, h_out, c_out)] == [(None, 4)] * 3
    g = keras.Input((2,))
    gru_output, gru_state = layers.GRUCell(2)(x, g)  # one state, given as a tensor
    assert (gru_output.shape, gru_state.shape) == ((None, 2), (None, 2))
    model = keras.Model([x, h, c, g], [output, c_out, gru_state])
    values = [torch.randn(5, 3), torch.randn(5, 4), torch.randn(5, 4), torch.randn(5, 2)]
    assert [tuple(t.shape) for t in model(values)] == [(5, 4), (5, 4), (5, 2)]
    with pytest.raises(keras.ShapeError, match=r"Its states are \(batch, 2\); received a state "
                                               r"\(None, 4\)"):
        layers.GRUCell(2)(x, h)


def test_lstm_cell_starts_its_forget_gate_bias_at_one():
    cell = layers.LSTMCell(2)
    cell.build((None, 3))
    np.testing.assert_array_equal(cell.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])
    cell = layers.LSTMCell(2, unit_forget_bias=False, bias_initializer="ones")
    cell.build((None, 3))
    np.testing.assert_array_equal(cell.get_weights()[2], np.ones(8))


def test_cell_config_has_keras_keys_and_round_trips():
    cell = layers.GRUCell(3, dropout=0.25, reset_after=False, seed=7)
    config = cell.get_config()
    assert set(config) == {
        "name", "trainable", "dtype", "units", "activation", "recurrent_activation", "use_bias",
        "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "dropout", "recurrent_dropout", "reset_after", "seed"}
    assert (config["dropout"], config["reset_after"], config["seed"]) == (0.25, False, 7)
    assert layers.GRUCell.from_config(config).get_config() == config
    assert "unit_forget_bias" in layers.LSTMCell(2).get_config()
    assert "recurrent_activation" not in layers.SimpleRNNCell(2).get_config()


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_rnn_of_a_builtin_cell_computes_what_its_layer_computes(name):
    torch.manual_seed(0)
    layer = getattr(layers, name)(4, return_sequences=True, return_state=True)
    rnn = layers.RNN(getattr(layers, name + "Cell")(4), return_sequences=True, return_state=True)
    x = torch.randn(3, 5, 2)
    layer(x)
    rnn(x)
    rnn.set_weights(layer.get_weights())
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=torch.bool)
    for kwargs in ({}, {"mask": mask}):
        for got, want in zip(rnn(x, **kwargs), layer(x, **kwargs)):
            torch.testing.assert_close(got, want)


def _step_by_step(rnn):
    """Force the per-step loop (a hook on the cell must see each step)."""
    return rnn.cell.register_forward_hook(lambda *args: None)


@pytest.mark.parametrize("kwargs", [
    {}, {"go_backwards": True}, {"zero_output_for_mask": True, "return_sequences": True},
])
def test_stacked_cells_read_one_after_the_other_as_if_stepped_together(kwargs):
    """Built-in cells read the whole sequence in turn; a masked step is dropped in every cell,
    so that equals stepping the stack, as Keras does."""
    rnn = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3, reset_after=False),
                      layers.SimpleRNNCell(2)], return_state=True, **kwargs)
    x = torch.randn(3, 6, 2)
    mask = torch.tensor([[1, 1, 0, 1, 0, 0], [0, 1, 1, 1, 1, 1], [1, 0, 0, 0, 1, 1]]).bool()
    at_once = nest.flatten(rnn(x, mask=mask))
    hook = _step_by_step(rnn)
    stepped = nest.flatten(rnn(x, mask=mask))
    hook.remove()
    for got, want in zip(at_once, stepped):
        torch.testing.assert_close(got, want)


def test_dropout_draws_one_mask_per_sequence_on_both_paths():
    rnn = layers.RNN([layers.LSTMCell(4, dropout=0.5, recurrent_dropout=0.3),
                      layers.GRUCell(3, dropout=0.2)], return_sequences=True)
    x = torch.randn(3, 6, 2)
    inference = rnn(x)
    torch.testing.assert_close(rnn(x), inference)
    torch.manual_seed(1)
    at_once = rnn(x, training=True)
    assert not torch.allclose(at_once, inference)
    hook = _step_by_step(rnn)
    torch.manual_seed(1)
    torch.testing.assert_close(rnn(x, training=True), at_once)
    hook.remove()
    assert all(cell._held_masks is None for cell in rnn.cell.cells)


def test_return_state_with_stacked_cells_is_nested_per_cell():
    x = keras.Input((5, 2))
    rnn = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)], return_state=True)
    output, (h, c), g = rnn(x)
    assert [output.shape, h.shape, c.shape, g.shape] == [(None, 3), (None, 4), (None, 4),
                                                         (None, 3)]
    assert rnn.state_size == [[4, 4], 3]
    model = keras.Model(x, [output, h, c, g])
    real = rnn(torch.randn(2, 5, 2))
    assert isinstance(real[1], list) and isinstance(real[2], torch.Tensor)
    for got, want in zip(model(torch.zeros(2, 5, 2)), nest.flatten(rnn(torch.zeros(2, 5, 2)))):
        torch.testing.assert_close(got, want)


def test_initial_state_nested_or_flat_and_symbolic():
    rnn = layers.RNN([layers.LSTMCell(2), layers.SimpleRNNCell(3)], return_state=True)
    x = torch.randn(2, 4, 5)
    h, c, s = torch.randn(2, 2), torch.randn(2, 2), torch.randn(2, 3)
    nested = nest.flatten(rnn(x, initial_state=[[h, c], s]))
    for got, want in zip(nest.flatten(rnn(x, initial_state=[h, c, s])), nested):
        torch.testing.assert_close(got, want)
    assert not torch.allclose(nest.flatten(rnn(x))[0], nested[0])
    with pytest.raises(ValueError, match=r"has 3 state\(s\) \(state_size=\[\[2, 2\], 3\]\); "
                                         r"received 2"):
        rnn(x, initial_state=[h, c])
    inputs = [keras.Input((4, 5)), keras.Input((2,)), keras.Input((2,)), keras.Input((3,))]
    outputs = layers.RNN([layers.LSTMCell(2), layers.SimpleRNNCell(3)])(
        inputs[0], initial_state=[inputs[1:3], inputs[3]])
    model = keras.Model(inputs, outputs)
    assert model([x, h, c, s]).shape == (2, 3)


class TwoStateCell(layers.Layer):
    """A user's cell with two states and a training argument."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, 1]
        self.output_size = units
        self.trainings = []

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

    def call(self, inputs, states, training=False):
        self.trainings.append(training)
        total, count = states
        return total, (total + inputs @ self.kernel, count + 1)

    def get_initial_state(self, batch_size=None):
        return [torch.ones(batch_size, self.units), torch.zeros(batch_size, 1)]


def test_a_users_cell_works_the_keras_way():
    cell = TwoStateCell(3)
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    sequence, total, count = rnn(keras.Input((None, 2)))
    assert (sequence.shape, total.shape, count.shape) == ((None, None, 3), (None, 3), (None, 1))
    assert [w.path for w in rnn.weights] == ["rnn/two_state_cell/kernel"]  # as Keras names it
    assert rnn.count_params() == 6
    x = torch.randn(2, 4, 2)
    sequence, total, count = rnn(x, training=True)
    assert cell.trainings == [True] * 4
    # The cell's own initial state (ones), and its outputs: the states before each step.
    torch.testing.assert_close(sequence[:, 0], torch.ones(2, 3))
    expected = 1 + (x @ cell.kernel).sum(1)
    torch.testing.assert_close(total, expected)
    torch.testing.assert_close(count, torch.full((2, 1), 4.0))
    total.sum().backward()
    assert cell.kernel.grad is not None


def test_users_cells_stack_with_builtin_ones():
    rnn = layers.RNN([MinimalRNNCell(4), layers.GRUCell(2)])
    assert rnn(keras.Input((6, 3))).shape == (None, 2)
    assert [tuple(w.shape) for w in rnn.weights] == [(3, 4), (4, 4), (4, 6), (2, 6), (2, 6)]
    assert rnn(torch.randn(5, 6, 3)).shape == (5, 2)


def test_a_users_cell_may_read_steps_of_any_rank():
    class Pooling(layers.Layer):
        state_size = 4

        def call(self, inputs, states):
            output = states[0] + inputs.sum((1, 2))[:, None]
            return output, [output]

    rnn = layers.RNN(Pooling(), return_sequences=True)
    assert rnn(keras.Input((5, 3, 2))).shape == (None, 5, 4)
    assert rnn(torch.ones(2, 5, 3, 2))[:, -1].tolist() == [[30.0] * 4] * 2


def test_configs_rebuild_users_cells_from_the_registry():
    registered = keras.saving.register_keras_serializable(package="test_rnn_cells")(
        type("Counter", (MinimalRNNCell,), {"get_config": lambda self: {
            **layers.Layer.get_config(self), "units": self.units}}))
    rnn = layers.RNN([registered(3), layers.LSTMCell(2)], go_backwards=True)
    rnn(keras.Input((5, 2)))
    config = rnn.get_config()
    entry = config["cell"]["config"]["cells"][0]
    assert (entry["registered_name"], entry["build_config"]) == (
        "test_rnn_cells>Counter", {"input_shape": (None, 2)})
    clone = layers.RNN.from_config(config)
    assert type(clone.cell.cells[0]) is registered and clone.cell.cells[1].built
    clone.set_weights(rnn.get_weights())
    x = torch.randn(2, 5, 2)
    torch.testing.assert_close(clone(x), rnn(x))
    assert clone.get_config() == config


def test_teaching_errors():
    with pytest.raises(keras.ShapeError, match=r"RNN expects sequences \(batch, timesteps, "
                                               r"features\).*2-D input") as info:
        layers.RNN(layers.LSTMCell(4))(keras.Input((10,)))
    assert "Reshape((10, 1))" in str(info.value)
    with pytest.raises(keras.ShapeError, match=r"4-D input"):
        layers.RNN(layers.GRUCell(4))(keras.Input((5, 2, 3)))
    with pytest.raises(keras.ShapeError, match=r"LSTMCell reads one time step"):
        layers.LSTMCell(4)(keras.Input((5, 3)), [keras.Input((4,)), keras.Input((4,))])
    rnn = layers.RNN(layers.LSTMCell(4))
    rnn(keras.Input((5, 3)))
    with pytest.raises(keras.ShapeError, match=r"built for 3 features per step"):
        rnn(keras.Input((5, 2)))
    with pytest.raises(ValueError, match=r"state_size.*Received: cell 'dense' \(Dense\)"):
        layers.RNN(layers.Dense(3))
    with pytest.raises(ValueError, match=r"Layers with a `state_size`"):
        layers.StackedRNNCells([layers.LSTMCell(2), "gru"])
    with pytest.raises(ValueError, match=r"recurrent_dropout=1"):
        layers.LSTMCell(4, recurrent_dropout=1)
    with pytest.raises(TypeError, match=r"Did you mean 'dropout'\?"):
        layers.GRUCell(4, dropot=0.1)
    with pytest.raises(ValueError, match=r"2 state\(s\) \(h, c\); received 1"):
        layers.LSTMCell(4)(torch.zeros(2, 3), [torch.zeros(2, 4)])


def test_a_cell_returning_too_few_states_is_named():
    class Forgetful(MinimalRNNCell):
        def call(self, inputs, states):
            output, _ = super().call(inputs, states)
            return output, []

    with pytest.raises(ValueError, match=r"Cell 'forgetful' of RNN 'rnn' returned 0 new state"):
        layers.RNN(Forgetful(2))(torch.zeros(1, 3, 2))


def test_sequence_arguments_are_kept_in_the_config():
    rnn = layers.RNN(layers.SimpleRNNCell(2), unroll=True, zero_output_for_mask=True)
    config = rnn.get_config()
    assert {k: config[k] for k in ("return_sequences", "return_state", "go_backwards",
                                   "stateful", "unroll", "zero_output_for_mask")} == {
        "return_sequences": False, "return_state": False, "go_backwards": False,
        "stateful": False, "unroll": True, "zero_output_for_mask": True}
    assert config["cell"]["class_name"] == "SimpleRNNCell"
    assert "build_config" not in config["cell"]  # not built yet


@pytest.mark.parametrize("cell_dtype, rnn_dtype, output_dtype", [
    ("float64", None, torch.float32),
    (None, "mixed_float16", torch.float16),
    ("float64", "float16", torch.float16),
    ("mixed_bfloat16", None, torch.float32),
])
def test_a_cell_under_another_dtype_policy_than_its_rnn(cell_dtype, rnn_dtype, output_dtype):
    # Keras 3.15.1: the cell keeps its weights' dtype, the RNN returns its compute dtype.
    cell = keras.layers.LSTMCell(4, dtype=cell_dtype)
    layer = keras.layers.RNN(cell, return_state=True, dtype=rnn_dtype)
    inputs = torch.rand(2, 3, 5)
    outputs = layer(inputs)
    assert [t.dtype for t in outputs] == [output_dtype] * 3
    assert [str(t.dtype) for t in layer(keras.Input((3, 5)))] == [str(output_dtype)[6:]] * 3
    if cell_dtype == "float64" and rnn_dtype is None:
        # The float64 cell computes in float64: the same as its own loop over the steps.
        states = [torch.zeros(2, 4, dtype=torch.float64)] * 2
        for step in range(3):
            output, states = cell(inputs[:, step].double(), states)
        torch.testing.assert_close(outputs[0], output.float())


REFERENCE = {'custom_mask': {'weights': [[[-0.09, 0.31, -0.8], [-0.24, -0.73, 0.32]],
                             [[0.66, -0.25, -0.26], [0.08, -0.57, -0.51], [-0.34, -0.09, -0.84]]],
                 'y': [[[[-0.2121, -0.4992, 0.0528], [-0.2121, -0.4992, 0.0528],
                         [-0.341874, -0.338683, 0.825386]],
                        [[-0.0645, -0.7741, 0.9968], [-0.48211, 0.59435, -0.916951],
                         [-0.48211, 0.59435, -0.916951]]]]},
 'custom_stack': {'weights': [[[0.51, 0.16], [-0.4, -0.84]], [[0.53, -0.74], [-0.73, -0.74]],
                              [[-0.84, 0.81, -0.46, -0.39, 0.67, 0.24, -0.63, -0.13, 0.77, -0.25,
                                0.42, -0.81],
                               [0.45, 0.55, 0.65, 0.35, -0.26, -0.87, 0.04, 0.51, -0.62, -0.47,
                                0.07, 0.5]],
                              [[0.79, -0.75, -0.63, 0.6, 0.29, 0.44, 0.99, 0.88, 0.69, 0.55, -0.21,
                                0.28],
                               [-0.63, 0.52, 0.52, 0.44, -0.11, -0.24, -0.16, -0.93, 0.69, 0.08,
                                -0.22, 0.1],
                               [0.44, -0.24, 0.66, 0.84, -0.23, -0.72, 0.52, 0.99, -0.7, 0.43,
                                0.65, 0.84]],
                              [-0.75, -0.82, 0.98, -0.77, -0.65, 0.15, -0.11, 0.5, -0.62, 0.83,
                               -0.57, 0.54]],
                  'y': [[[-0.005133, 0.020487, -0.134812], [-0.011046, 0.013672, -0.331653]],
                        [[-0.89061, -2.179015], [-0.687879, -0.915731]],
                        [[-0.005133, 0.020487, -0.134812], [-0.011046, 0.013672, -0.331653]],
                        [[-0.005874, 0.095229, -0.284005], [-0.01419, 0.058667, -0.649848]]]},
 'gru_before_back': {'weights': [[[0.22, -0.62, 0.15, -0.92, 0.6, 0.92],
                                  [0.71, -0.9, -0.32, -0.36, -0.77, 0.25]],
                                 [[0.59, -0.37, 0.73, 0.59, -0.74, 0.53],
                                  [0.77, -0.61, 0.15, 0.28, 0.22, -0.81]],
                                 [0.32, 0.26, 0.65, 0.61, -0.35, 0.44]],
                     'y': [[[[-0.261591, 0.137487], [0.0, 0.0], [-0.358535, 0.451786]],
                            [[0.0, 0.0], [0.020042, 0.383549], [-0.247002, -0.04755]]]]},
 'h0': [[-0.49, -0.11], [0.01, 0.11]],
 'lstm_cell': {'weights': [[[0.99, 0.59, 0.24, 0.98, -0.57, -0.68, 0.23, -0.91, -0.93, 0.03, -0.07,
                             0.83],
                            [0.26, 0.03, -0.01, -0.5, -0.98, -0.62, 0.38, -0.6, -0.26, -0.99, 0.66,
                             -0.69]],
                           [[-0.46, 0.76, 0.02, 0.69, 0.28, 0.48, -0.82, 0.08, 0.02, 0.74, -0.28,
                             0.2],
                            [-0.88, -0.22, -0.35, -0.7, 0.63, -0.24, 0.96, 0.18, 0.21, 0.28, 0.35,
                             -0.7],
                            [-0.12, -0.52, -0.2, -0.81, 0.94, -0.57, 0.34, -0.4, 0.75, 0.32, -0.74,
                             0.69]],
                           [0.89, 0.81, 0.14, -0.71, -0.62, 0.86, 0.1, -0.64, 0.77, 0.28, 0.14,
                            -0.25]],
               'y': [[[[0.123901, -0.367801, 0.062065], [-0.084853, -0.252983, 0.233272],
                       [0.043865, -0.337535, 0.174495]],
                      [[0.024164, -0.044788, 0.073306], [0.099789, -0.282523, 0.236154],
                       [-0.13875, -0.164096, 0.350345]]],
                     [[0.043865, -0.337535, 0.174495], [-0.13875, -0.164096, 0.350345]],
                     [[0.119211, -0.630033, 0.624931], [-0.20557, -0.441653, 0.799966]]]},
 'lstm_cell_step': {'weights': [[[-0.86, -0.05, -0.93, -0.37, -0.38, 0.44, -0.09, -0.89],
                                 [0.99, 0.78, 0.83, -0.51, -0.21, -0.55, -0.75, -0.93]],
                                [[0.01, -0.75, -0.65, 0.72, -0.03, -0.63, 0.34, -0.47],
                                 [0.05, -0.43, 0.03, 0.26, 0.07, -0.21, 0.58, 0.75]],
                                [-0.64, -0.73, -0.77, 0.96, 0.88, -0.54, 0.94, -0.58]],
                    'y': [[[0.244956, -0.043453], [0.330566, -0.194623]],
                          [[0.244956, -0.043453], [0.330566, -0.194623]],
                          [[0.507251, -0.221349], [0.561449, -0.467581]]]},
 'mask': [[True, False, True], [True, True, False]],
 'simple_init': {'weights': [[[0.73, 0.79], [-0.68, -0.95]], [[0.3, -0.57], [0.13, 0.89]],
                             [-0.24, -0.49]],
                 'y': [[[-0.483155, -0.593403], [-0.203418, -0.341425]],
                       [[-0.483155, -0.593403], [-0.203418, -0.341425]]]},
 'stack_mask': {'weights': [[[-0.18, -0.52, -0.92, 0.75, -0.06, 0.1, -0.36, 0.5, -0.95, -0.26,
                              -0.94, -0.75],
                             [0.93, 0.32, -0.14, 0.05, 0.75, -0.31, 0.18, 0.37, -0.29, 0.04, 0.53,
                              0.82]],
                            [[-0.7, 0.87, -0.99, 0.51, 0.62, -0.73, -0.16, 0.63, -0.97, 0.26, 0.59,
                              0.03],
                             [0.45, -0.55, -0.6, -0.27, -0.64, -0.31, 0.9, 0.15, -0.32, -0.46, 0.9,
                              -0.11],
                             [0.96, 0.03, 0.04, 0.79, 0.49, 0.16, -0.15, 0.76, -0.18, 0.85, -0.86,
                              -0.14]],
                            [0.04, 0.9, -0.5, 0.61, 0.35, 0.43, 0.26, 0.94, -0.33, -0.2, -0.59,
                             -0.9],
                            [[-0.57, 0.83, 0.68, -0.78, 0.21, -0.04],
                             [0.19, 0.32, -0.39, 0.92, -0.07, 0.26],
                             [0.27, -0.63, -0.88, -0.18, 0.53, 0.63]],
                            [[0.46, -0.77, 0.83, 0.6, 0.76, 0.05],
                             [0.83, -0.91, -0.94, -0.96, -0.49, -0.5]],
                            [[-0.62, 0.13, -0.92, 0.18, -0.67, 0.36],
                             [-0.96, -0.38, 0.88, 0.08, 0.62, 0.32]]],
                'y': [[[-0.509656, 0.354281], [-0.444061, 0.381048]],
                      [[0.222637, 0.49013, -0.107072], [0.17895, 0.202705, -0.005703]],
                      [[0.546764, 1.059432, -0.217118], [0.456002, 0.86371, -0.029725]],
                      [[-0.509656, 0.354281], [-0.444061, 0.381048]]]},
 'x': [[[0.25, 0.79], [0.55, -0.55], [-0.4, 0.75]],
       [[-0.99, 0.64], [0.59, -0.06], [-0.39, -0.44]]]}


def test_every_recurrent_layer_is_an_rnn_as_in_keras():
    assert isinstance(layers.LSTM(2), layers.RNN) and issubclass(layers.GRU, layers.RNN)
    assert isinstance(layers.ConvLSTM2D(2, 3), layers.RNN)
    assert not isinstance(layers.Bidirectional(layers.LSTM(2)), layers.RNN)
    assert not isinstance(layers.Dense(2), layers.RNN)

    class MyRNN(layers.RNN):
        pass

    assert not isinstance(layers.LSTM(2), MyRNN)  # only RNN itself answers for the others


def test_nested_sequences_are_refused_with_a_fix():
    rnn = layers.RNN(layers.GRUCell(2))
    with pytest.raises(ValueError, match=r"(?s)nested inputs.*Concatenate\(\)"):
        rnn((keras.Input((None, 3)), keras.Input((None, 4, 2))))

