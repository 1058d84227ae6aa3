"""ConvLSTM1D/2D/3D against real Keras 3, live.

Each case builds the same layer in both libraries, copies random weights over, and compares
symbolic output shapes, parameter counts, weight names and shapes, configs and outputs (also with
masks, initial states, and in training with dropout masks handed to both). Skipped when Keras is
not installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

CASES = {
    "2d": (lambda L: L.ConvLSTM2D(3, 3), (4, 6, 6, 2)),
    "2d-same-even-state": (lambda L: L.ConvLSTM2D(3, (2, 3), padding="same",
                                                  return_sequences=True, return_state=True),
                           (4, 6, 5, 2)),
    "2d-strided-same": (lambda L: L.ConvLSTM2D(2, 3, strides=2, padding="same"), (3, 7, 6, 2)),
    "2d-loop-activations": (lambda L: L.ConvLSTM2D(2, 4, padding="same", activation="relu",
                                                   recurrent_activation="hard_sigmoid",
                                                   return_sequences=True), (3, 6, 6, 2)),
    "1d-channels-first-backwards": (lambda L: L.ConvLSTM1D(
        3, 3, strides=2, padding="same", data_format="channels_first", go_backwards=True,
        return_sequences=True), (4, 2, 7)),
    "1d-state": (lambda L: L.ConvLSTM1D(2, 3, return_state=True, unit_forget_bias=False),
                 (3, 7, 2)),
    "3d-dilated-nobias": (lambda L: L.ConvLSTM3D(2, 2, dilation_rate=2, use_bias=False),
                          (3, 5, 5, 5, 2)),
    "3d-channels-first": (lambda L: L.ConvLSTM3D(2, (1, 2, 3), padding="same",
                                                 data_format="channels_first",
                                                 return_sequences=True), (2, 2, 3, 4, 5)),
}


def _pair(key):
    factory, shape = CASES[key]
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = factory(keras.layers), factory(netknit.layers)
    their_out, our_out = theirs(keras.Input(shape)), ours(netknit.Input(shape))
    rng = np.random.default_rng(3)
    # Scaled down, so that no gate saturates and hides a difference.
    theirs.set_weights([0.5 * rng.standard_normal(w.shape).astype("float32")
                        for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    return theirs, ours, their_out, our_out, shape


def _shapes(out):
    return [tuple(t.shape) for t in out] if isinstance(out, (list, tuple)) else tuple(out.shape)


def _numpy(out):
    items = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(t.detach().cpu()) for t in items]


def _assert_outputs_match(theirs, ours, x, **call):
    expected = _numpy(theirs(x, **call))
    ours_call = {k: netknit.graph.nest.map_structure(torch.as_tensor, v) if k != "training"
                 else v for k, v in call.items()}
    got = _numpy(ours(torch.as_tensor(x), **ours_call))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("key", CASES)
def test_shapes_weights_config_and_outputs_match_keras(key):
    theirs, ours, their_out, our_out, shape = _pair(key)
    assert _shapes(our_out) == _shapes(their_out)
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.path.rsplit("/", 1)[1] for w in ours.weights] == [
        w.path.rsplit("/", 1)[1] for w in theirs.weights]
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    x = np.random.default_rng(0).standard_normal((2,) + shape).astype("float32")
    _assert_outputs_match(theirs, ours, x)


@pytest.mark.parametrize("key", ["2d-same-even-state", "2d-loop-activations",
                                 "1d-channels-first-backwards"])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_steps_match_keras(key, zero_output):
    theirs, ours, _, _, shape = _pair(key)
    theirs.zero_output_for_mask = ours.zero_output_for_mask = zero_output
    x = np.random.default_rng(1).standard_normal((3,) + shape).astype("float32")
    mask = np.ones((3, shape[0]), dtype=bool)
    mask[0, 1:3] = False
    mask[2, -1] = False
    _assert_outputs_match(theirs, ours, x, mask=mask)


@pytest.mark.parametrize("key", ["1d-state", "2d-same-even-state", "3d-channels-first"])
def test_initial_state_matches_keras(key):
    theirs, ours, _, _, shape = _pair(key)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2,) + shape).astype("float32")
    states = [rng.standard_normal(ours._state_shape((2,) + shape)).astype("float32")
              for _ in range(2)]
    _assert_outputs_match(theirs, ours, x, initial_state=states)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_dropout_masks_act_as_in_keras(data_format):
    """Keras draws one input mask and one state mask per gate, kept for every step: both
    libraries are handed the same masks and must give the same training outputs."""
    def factory(L):
        return L.ConvLSTM2D(2, 3, strides=2, padding="same", data_format=data_format,
                            dropout=0.3, recurrent_dropout=0.4, return_sequences=True,
                            return_state=True)

    keras.backend.clear_session()
    shape = (3, 5, 4, 2) if data_format == "channels_last" else (3, 2, 5, 4)
    theirs, ours = factory(keras.layers), factory(netknit.layers)
    theirs(keras.Input(shape))
    ours(netknit.Input(shape))
    rng = np.random.default_rng(4)
    theirs.set_weights([0.5 * rng.standard_normal(w.shape).astype("float32")
                        for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    x = rng.standard_normal((2,) + shape).astype("float32")
    state_shape = ours._state_shape((2,) + shape)
    input_masks = np.stack([(rng.random((2,) + shape[1:]) > 0.3) / 0.7 for _ in range(4)])
    state_masks = np.stack([(rng.random(state_shape) > 0.4) / 0.6 for _ in range(4)])
    input_masks, state_masks = input_masks.astype("float32"), state_masks.astype("float32")
    theirs.cell.get_dropout_mask = lambda step: list(torch.as_tensor(input_masks))
    theirs.cell.get_recurrent_dropout_mask = lambda state: list(torch.as_tensor(state_masks))
    handed = []

    def our_masks(like, rate):  # ours are channels first; the input's broadcast over time
        masks = input_masks if not handed else state_masks
        if data_format == "channels_last":
            masks = np.moveaxis(masks, -1, 2)
        handed.append(rate)
        return torch.as_tensor(masks).reshape(like.shape)

    ours._dropout_mask = our_masks
    _assert_outputs_match(theirs, ours, x, training=True)
    assert handed == [0.3, 0.4]


def test_dropout_is_inert_in_inference_and_draws_in_training():
    layer = netknit.layers.ConvLSTM1D(2, 3, dropout=0.5, recurrent_dropout=0.5)
    x = torch.randn(2, 4, 6, 3)
    torch.testing.assert_close(layer(x), layer(x))
    assert not torch.equal(layer(x, training=True), layer(x, training=True))


def test_stacked_conv_lstm_model_matches_keras():
    def build(lib):
        L = lib.layers
        x = lib.Input((4, 6, 2))
        h = L.ConvLSTM1D(3, 3, padding="same", return_sequences=True)(x)
        return lib.Model(x, L.ConvLSTM1D(2, 2, strides=2)(h))

    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = build(keras), build(netknit)
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(5).standard_normal((3, 4, 6, 2)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
