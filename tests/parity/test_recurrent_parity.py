"""Recurrent layers and their wrappers against real Keras 3, live.

Each case builds the same layer in both libraries from the same factory, copies Keras's weights
over with `get_weights` -> `set_weights`, and compares symbolic output shapes, parameter counts,
configs and outputs (also with initial states and masks). Skipped when Keras is not installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402

# Keras's own NumPy-2 deprecation warnings are not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

CASES = {
    "lstm": lambda L: L.LSTM(4),
    "lstm-sequences-state": lambda L: L.LSTM(4, return_sequences=True, return_state=True),
    "lstm-backwards": lambda L: L.LSTM(4, go_backwards=True, return_sequences=True),
    "lstm-no-forget-bias": lambda L: L.LSTM(3, unit_forget_bias=False, use_bias=False),
    "lstm-loop": lambda L: L.LSTM(3, activation="softsign", recurrent_activation="hard_sigmoid"),
    "gru": lambda L: L.GRU(4, return_sequences=True, return_state=True),
    "gru-backwards": lambda L: L.GRU(4, go_backwards=True),
    "gru-reset-before": lambda L: L.GRU(4, reset_after=False, return_sequences=True),
    "gru-loop": lambda L: L.GRU(3, activation="relu"),
    "simple-rnn": lambda L: L.SimpleRNN(4, return_sequences=True, return_state=True),
    "simple-rnn-relu": lambda L: L.SimpleRNN(4, activation="relu", go_backwards=True),
    "simple-rnn-loop": lambda L: L.SimpleRNN(4, activation="elu"),
    "bidirectional-concat": lambda L: L.Bidirectional(L.LSTM(3, return_sequences=True)),
    "bidirectional-rnn-cell": lambda L: L.Bidirectional(L.RNN(L.LSTMCell(4))),
    "bidirectional-stacked-cells": lambda L: L.Bidirectional(
        L.RNN([L.GRUCell(3), L.SimpleRNNCell(2)], return_sequences=True), merge_mode="ave"),
    "bidirectional-sum": lambda L: L.Bidirectional(L.GRU(3), merge_mode="sum"),
    "bidirectional-mul": lambda L: L.Bidirectional(L.SimpleRNN(3), merge_mode="mul"),
    "bidirectional-state": lambda L: L.Bidirectional(L.LSTM(3, return_state=True),
                                                     merge_mode="ave"),
    "bidirectional-none": lambda L: L.Bidirectional(L.GRU(3, return_sequences=True),
                                                    merge_mode=None),
    "bidirectional-custom-backward": lambda L: L.Bidirectional(
        L.LSTM(3), backward_layer=L.GRU(2, go_backwards=True)),
    "time-distributed": lambda L: L.TimeDistributed(L.Dense(2, activation="tanh")),
}
INPUT_SHAPE = (5, 3)


def _build_pair(factory):
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = factory(keras.layers), factory(netknit.layers)
    their_out = theirs(keras.Input(INPUT_SHAPE))
    our_out = ours(netknit.Input(INPUT_SHAPE))
    ours.set_weights(theirs.get_weights())
    return theirs, ours, their_out, our_out


def _shapes(out):
    return [tuple(t.shape) for t in out] if isinstance(out, (list, tuple)) else tuple(out.shape)


def _numpy(out):
    items = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(t.detach().cpu()) for t in items]


def _assert_outputs_match(theirs, ours, x, **call):
    expected = _numpy(theirs(x, **call))
    ours_call = {k: ([torch.as_tensor(s) for s in v] if isinstance(v, list) else torch.as_tensor(v))
                 for k, v in call.items()}
    got = _numpy(ours(torch.as_tensor(x), **ours_call))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("key", CASES)
def test_shapes_params_config_and_outputs_match_keras(key):
    theirs, ours, their_out, our_out = _build_pair(CASES[key])
    assert _shapes(our_out) == _shapes(their_out)
    assert ours.count_params() == theirs.count_params()
    # Compared as saved (JSON), where Keras's tuples and our lists are the same arrays.
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    x = np.random.default_rng(0).standard_normal((2,) + INPUT_SHAPE).astype("float32")
    _assert_outputs_match(theirs, ours, x)


@pytest.mark.parametrize("key", ["lstm-sequences-state", "gru", "simple-rnn", "gru-loop",
                                 "bidirectional-concat"])
def test_masked_steps_match_keras(key):
    theirs, ours, _, _ = _build_pair(CASES[key])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3,) + INPUT_SHAPE).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
    _assert_outputs_match(theirs, ours, x, mask=mask)


@pytest.mark.parametrize("key", ["lstm", "gru-reset-before", "simple-rnn-relu"])
def test_initial_state_matches_keras(key):
    theirs, ours, _, _ = _build_pair(CASES[key])
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2,) + INPUT_SHAPE).astype("float32")
    states = [rng.standard_normal((2, ours.units)).astype("float32")
              for _ in ours._state_names]
    _assert_outputs_match(theirs, ours, x, initial_state=states)


def test_variable_length_model_matches_keras():
    def build(lib):
        return lib.Sequential([lib.Input((None, 3)), lib.layers.LSTM(4, return_sequences=True),
                               lib.layers.GRU(2)])

    theirs, ours = build(keras), build(netknit)
    ours.set_weights(theirs.get_weights())
    assert ours.count_params() == theirs.count_params()
    for steps in (2, 7):
        x = np.random.default_rng(steps).standard_normal((2, steps, 3)).astype("float32")
        np.testing.assert_allclose(_numpy(ours(torch.as_tensor(x)))[0],
                                   _numpy(theirs(x))[0], rtol=1e-4, atol=1e-5)


def _minimal_cell(L, units):
    """Keras's documented recipe for a cell of one's own, written once for both libraries."""

    class MinimalRNNCell(L.Layer):
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

    return MinimalRNNCell(units)


RNN_CASES = {
    "lstm-cell": lambda L: L.RNN(L.LSTMCell(4), return_sequences=True, return_state=True),
    "lstm-cell-loop": lambda L: L.RNN(L.LSTMCell(3, activation="softsign",
                                                 recurrent_activation="hard_sigmoid")),
    "gru-cell-reset-before-backwards": lambda L: L.RNN(L.GRUCell(4, reset_after=False),
                                                       go_backwards=True, return_state=True),
    "simple-rnn-cell-loop": lambda L: L.RNN(L.SimpleRNNCell(4, activation="elu"),
                                            return_sequences=True),
    "stacked-list": lambda L: L.RNN([L.LSTMCell(4), L.GRUCell(3), L.SimpleRNNCell(2)],
                                    return_sequences=True, return_state=True),
    "stacked-zero-output": lambda L: L.RNN(
        L.StackedRNNCells([L.GRUCell(3), L.LSTMCell(2, unit_forget_bias=False, use_bias=False)]),
        return_sequences=True, go_backwards=True, zero_output_for_mask=True, return_state=True),
    "stacked-one-cell": lambda L: L.RNN(L.StackedRNNCells([L.GRUCell(3)]), return_state=True),
    "users-cell": lambda L: L.RNN(_minimal_cell(L, 3), return_sequences=True),
    "users-cell-stacked": lambda L: L.RNN([_minimal_cell(L, 3), L.LSTMCell(2)],
                                          return_state=True),
}
USERS_CELLS = {"users-cell", "users-cell-stacked"}


def _nested_shapes(out):
    if isinstance(out, (list, tuple)):
        return [_nested_shapes(t) for t in out]
    return tuple(out.shape)


def _flat_numpy(out):
    if isinstance(out, (list, tuple)):
        return [a for t in out for a in _flat_numpy(t)]
    return [np.asarray(out.detach().cpu())]


def _build_rnn_pair(key):
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = RNN_CASES[key](keras.layers), RNN_CASES[key](netknit.layers)
    their_out, our_out = theirs(keras.Input(INPUT_SHAPE)), ours(netknit.Input(INPUT_SHAPE))
    rng = np.random.default_rng(3)
    # Keras's random weights scaled down, so that no output saturates and hides a difference.
    theirs.set_weights([0.6 * rng.standard_normal(w.shape).astype("float32")
                        for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    return theirs, ours, their_out, our_out


def _assert_rnn_outputs_match(theirs, ours, x, **call):
    expected = _flat_numpy(theirs(x, **call))
    ours_call = {k: netknit.graph.nest.map_structure(torch.as_tensor, v) for k, v in call.items()}
    got = _flat_numpy(ours(torch.as_tensor(x), **ours_call))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("key", RNN_CASES)
def test_rnn_over_cells_matches_keras(key):
    theirs, ours, their_out, our_out = _build_rnn_pair(key)
    # Keras's symbolic structure: with stacked cells one entry per cell, a list for an LSTMCell.
    assert _nested_shapes(our_out) == _nested_shapes(their_out)
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.path.rsplit("/", 1)[1] for w in ours.weights] == [
        w.path.rsplit("/", 1)[1] for w in theirs.weights]
    if key not in USERS_CELLS:  # a user's class is saved under its own module
        assert json.loads(json.dumps(ours.get_config())) == json.loads(
            json.dumps(theirs.get_config()))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3,) + INPUT_SHAPE).astype("float32")
    _assert_rnn_outputs_match(theirs, ours, x)
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
    _assert_rnn_outputs_match(theirs, ours, x, mask=mask)


@pytest.mark.parametrize("key", ["lstm-cell", "stacked-list", "users-cell-stacked"])
def test_rnn_initial_state_matches_keras(key):
    theirs, ours, _, _ = _build_rnn_pair(key)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2,) + INPUT_SHAPE).astype("float32")
    states = netknit.graph.nest.map_structure(
        lambda size: rng.standard_normal((2, size)).astype("float32"), ours.state_size)
    _assert_rnn_outputs_match(theirs, ours, x, initial_state=states)


@pytest.mark.parametrize("make", [
    lambda L: L.LSTMCell(3), lambda L: L.GRUCell(3), lambda L: L.GRUCell(3, reset_after=False),
    lambda L: L.SimpleRNNCell(3, activation="relu"),
])
def test_cells_called_on_one_step_match_keras(make):
    keras.backend.clear_session()
    theirs, ours = make(keras.layers), make(netknit.layers)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4)).astype("float32")
    states = [rng.standard_normal((2, 3)).astype("float32")
              for _ in netknit.graph.nest.flatten(ours.state_size)]
    theirs(x, states)
    ours(torch.as_tensor(x), [torch.as_tensor(s) for s in states])
    assert (ours.state_size, ours.output_size) == (theirs.state_size, theirs.output_size)
    theirs.set_weights([0.6 * rng.standard_normal(w.shape).astype("float32")
                        for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    _assert_rnn_outputs_match(theirs, ours, x, states=states)


@pytest.mark.parametrize("factory", [
    lambda L: L.LSTM(4, stateful=True, return_sequences=True),
    lambda L: L.GRU(3, stateful=True),
    lambda L: L.Bidirectional(L.SimpleRNN(3, stateful=True)),
    lambda L: L.RNN(L.LSTMCell(3), stateful=True),
], ids=["lstm", "gru", "bidirectional", "rnn-cell"])
def test_stateful_layers_carry_states_as_keras(factory):
    def build(lib):
        inputs = lib.Input(INPUT_SHAPE, batch_size=2)
        layer = factory(lib.layers)
        return lib.Model(inputs, layer(inputs)), layer

    (theirs, their_layer), (ours, our_layer) = build(keras), build(netknit)
    ours.set_weights(theirs.get_weights())
    assert ours.count_params() == theirs.count_params()
    assert [tuple(s.shape) for s in our_layer.states] == [
        tuple(s.shape) for s in their_layer.states]
    x = np.random.default_rng(3).standard_normal((6,) + INPUT_SHAPE).astype("float32")
    for _ in range(2):  # batches of 2 continue each other; the second call goes on from the first
        np.testing.assert_allclose(ours.predict(x, batch_size=2, verbose=0),
                                   theirs.predict(x, batch_size=2, verbose=0),
                                   rtol=1e-4, atol=1e-5)
    their_layer.reset_state()
    our_layer.reset_state()
    np.testing.assert_allclose(ours.predict(x[:2], verbose=0), theirs.predict(x[:2], verbose=0),
                               rtol=1e-4, atol=1e-5)
