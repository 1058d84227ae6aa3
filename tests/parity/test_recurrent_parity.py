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
