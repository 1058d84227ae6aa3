"""STFTSpectrogram, MelSpectrogram and the STFT initializer against real Keras 3, live: outputs
of every mode, padding, layout, window and scaling; fresh weights (equal, value for value);
inferred shapes; configs (as saved JSON); error types; and `.keras` files moving both ways.
Skipped when Keras is not installed.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")

RNG = np.random.default_rng(0)


def _numpy(t):
    return np.asarray(t.detach().cpu()) if torch.is_tensor(t) else np.asarray(t)


def _json(config):
    """A config as saved JSON, without the automatic name (Keras's clear_session, which would
    make the names agree, takes a quarter of a second)."""
    config = {k: v for k, v in config.items() if k != "name"}
    return json.loads(json.dumps(config, default=lambda a: np.asarray(a).tolist()))


def _same_layer(ours, theirs, x):
    """Same fresh weights, outputs for the NumPy signals `x` (to 1e-5 of their scale), and
    config."""
    expected, got = _numpy(theirs(x)), _numpy(ours(x))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert len(ours.get_weights()) == len(theirs.get_weights())
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(mine, _numpy(keras_weight))
    assert ours.count_params() == theirs.count_params()
    scale = max(1.0, float(np.abs(expected).max()))
    if getattr(ours, "mode", None) == "angle":  # the phase of a near-zero bin can wrap by 2 pi
        got, expected = np.exp(1j * got), np.exp(1j * expected)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * scale)
    assert _json(ours.get_config()) == _json(theirs.get_config())


# ---------------------------------------------------------------------- STFTSpectrogram

MODES = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]
LAYOUTS = [(False, "channels_last"), (True, "channels_last"), (False, "channels_first"),
           (True, "channels_first")]
# Every mode in every layout, each mode and each layout with both paddings.
GRID = [(mode, ("valid", "same")[(i + j) % 2], expand_dims, data_format)
        for i, mode in enumerate(MODES) for j, (expand_dims, data_format) in enumerate(LAYOUTS)]


@pytest.mark.parametrize("mode, padding, expand_dims, data_format", GRID,
                         ids=lambda v: str(v).replace("channels_", ""))
def test_stft_spectrogram_matches_keras(mode, padding, expand_dims, data_format):
    kwargs = {"mode": mode, "frame_length": 24, "frame_step": 7, "fft_length": 32,
              "padding": padding, "expand_dims": expand_dims, "data_format": data_format}
    shape = (2, 101, 3) if data_format == "channels_last" else (2, 3, 101)
    x = RNG.standard_normal(shape).astype("float32")
    ours, theirs = netknit.layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    _same_layer(ours, theirs, x)
    our_shape = netknit.layers.STFTSpectrogram(**kwargs)(netknit.Input(shape[1:])).shape
    their_shape = keras.layers.STFTSpectrogram(**kwargs)(keras.Input(shape[1:])).shape
    assert our_shape == tuple(their_shape)


WINDOWS = {"hann": "hann", "hamming": "hamming", "none": None, "blackman": "blackman",
           "array": np.linspace(0.2, 1.0, 20)}


@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("window", WINDOWS)
def test_stft_windows_and_scalings_match_keras(window, periodic, scaling):
    if window == "blackman":
        pytest.importorskip("scipy")
    kwargs = {"mode": "stft", "frame_length": 20, "frame_step": 5, "window": WINDOWS[window],
              "periodic": periodic, "scaling": scaling}
    _same_layer(netknit.layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs),
                RNG.standard_normal((2, 90, 2)).astype("float32"))


def test_default_stft_spectrogram_matches_keras_on_a_second_of_audio():
    _same_layer(netknit.layers.STFTSpectrogram(), keras.layers.STFTSpectrogram(),
                RNG.standard_normal((2, 16000, 1)).astype("float32"))


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize("shape", [(256, 1, 129), (200, 1, 257), (7, 1, 5)], ids=str)
def test_stft_initializer_matches_keras(shape, side):
    for window, scaling, periodic in [("hann", "density", False), ("hamming", "spectrum", True),
                                      (None, None, False)]:
        ours = netknit.initializers.STFT(side, window, scaling, periodic)
        theirs = keras.initializers.STFT(side, window, scaling, periodic)
        np.testing.assert_array_equal(ours(shape).numpy(), _numpy(theirs(shape)))
        assert _json(netknit.initializers.serialize(ours)) == _json(
            keras.initializers.serialize(theirs))
        assert type(netknit.initializers.get("STFTInitializer")).__name__ == type(
            keras.initializers.get("STFTInitializer")).__name__


@pytest.mark.parametrize("kwargs", [
    {"mode": "power"}, {"frame_step": 300}, {"frame_step": 0}, {"fft_length": 128},
    {"scaling": "l2"}, {"padding": "causal"}, {"window": "nope"},
], ids=str)
def test_stft_spectrogram_raises_keras_s_error_types(kwargs):
    with pytest.raises(ValueError):
        keras.layers.STFTSpectrogram(**kwargs)
    with pytest.raises(ValueError):
        netknit.layers.STFTSpectrogram(**kwargs)


def test_stft_spectrogram_warns_and_rejects_integers_as_keras_does():
    for lib in (keras, netknit):
        with pytest.warns(UserWarning, match="power of two"):
            lib.layers.STFTSpectrogram(frame_length=200, fft_length=300)
        with pytest.raises(TypeError):
            lib.layers.STFTSpectrogram()(torch.zeros(1, 400, 1, dtype=torch.int32))


# ---------------------------------------------------------------------- MelSpectrogram

MELS = [
    {},
    {"fft_length": 512, "sequence_stride": 128, "num_mel_bins": 40, "sampling_rate": 8000},
    {"fft_length": 256, "sequence_length": 200, "sequence_stride": 100, "window": "hamming",
     "num_mel_bins": 32, "min_freq": 100.0, "max_freq": 3000.0},
    {"fft_length": 256, "sequence_stride": 64, "window": None, "num_mel_bins": 20,
     "power_to_db": False, "mag_exp": 1.0},
    {"fft_length": 256, "sequence_length": 128, "sequence_stride": 64,
     "window": np.linspace(0.1, 1.0, 128).tolist(), "num_mel_bins": 20, "top_db": 30.0,
     "ref_power": 3.0, "min_power": 1e-6},
    {"fft_length": 300, "sequence_stride": 150, "num_mel_bins": 16, "dtype": "float64"},
    {"fft_length": 256, "num_mel_bins": 16, "dtype": "mixed_float16"},
]


@pytest.mark.parametrize("shape", [(4000,), (3, 4000)], ids=str)
@pytest.mark.parametrize("kwargs", MELS, ids=lambda k: ",".join(sorted(k)) or "defaults")
def test_mel_spectrogram_matches_keras(kwargs, shape):
    x = (RNG.standard_normal(shape) * 0.3).astype("float32")
    _same_layer(netknit.layers.MelSpectrogram(**kwargs), keras.layers.MelSpectrogram(**kwargs), x)


@pytest.mark.parametrize("samples", [4000, 4095, 4096, 4097])
def test_mel_spectrogram_infers_the_frames_it_computes(samples):
    ours = netknit.layers.MelSpectrogram(sequence_stride=512)
    inferred = ours(netknit.Input((samples,))).shape
    computed = ours(torch.zeros(1, samples)).shape
    keras_says = keras.layers.MelSpectrogram(sequence_stride=512)(keras.Input((samples,))).shape
    assert inferred == (None, *computed[1:]) == (None, 128, 1 + samples // 512)
    # Keras's compute_output_shape gives (samples + stride + 1) // stride frames, one more than
    # its call computes when samples % stride == stride - 1 (4095 here); netknit infers what
    # the call gives.
    assert keras_says[-1] == inferred[-1] + (samples % 512 == 511)


def test_mel_spectrogram_raises_keras_s_error_type():
    for lib in (keras, netknit):
        with pytest.raises(ValueError, match="sequence_length"):
            lib.layers.MelSpectrogram(fft_length=256, sequence_length=512)


# ---------------------------------------------------------------------- .keras files

def _audio_model(lib, window):
    inputs = lib.Input((2000, 1))
    stft = lib.layers.STFTSpectrogram(mode="log", frame_length=64, frame_step=32,
                                      fft_length=128, window=window, padding="same")(inputs)
    mel = lib.layers.MelSpectrogram(fft_length=256, sequence_stride=128,
                                    num_mel_bins=16)(lib.layers.Flatten()(inputs))
    pooled = lib.layers.GlobalAveragePooling1D()(stft)
    return lib.Model(inputs, [lib.layers.Dense(2)(pooled), mel])


def _same_predictions(a, b, x):
    for p, q in zip(a.predict(x, verbose=0), b.predict(x, verbose=0)):
        np.testing.assert_allclose(_numpy(p), _numpy(q), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("window", ["hamming", "array"])
def test_audio_models_move_both_ways(window, tmp_path):
    x = RNG.standard_normal((2, 2000, 1)).astype("float32")
    values = np.hanning(64).astype("float32") if window == "array" else window
    ours = _audio_model(netknit, values)
    ours.save(tmp_path / "netknit.keras")
    in_keras = keras.saving.load_model(tmp_path / "netknit.keras")
    _same_predictions(ours, in_keras, x)
    theirs = _audio_model(keras, values)  # Keras saves an array window as a __numpy__ entry
    theirs.save(tmp_path / "keras.keras")
    in_netknit = netknit.saving.load_model(tmp_path / "keras.keras")
    _same_predictions(theirs, in_netknit, x)
    assert [w.shape for w in in_netknit.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()]
