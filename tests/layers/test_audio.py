"""STFTSpectrogram, MelSpectrogram and the STFT initializer without Keras: shapes (inferred and
real), weights, configs, errors, saving, and numbers checked against torch.stft and a direct
computation. The comparisons with live Keras 3.15.1 are in tests/parity/test_audio_parity.py."""

import sys

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import initializers, layers

RNG = np.random.default_rng(0)
SIGNALS = RNG.standard_normal((2, 300, 3)).astype("float32")


# ---------------------------------------------------------------------- STFTSpectrogram

@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle", "stft"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("expand_dims, data_format", [
    (False, "channels_last"), (True, "channels_last"), (False, "channels_first"),
    (True, "channels_first"),
])
def test_stft_spectrogram_shapes_inferred_equal_real(mode, padding, expand_dims, data_format):
    kwargs = {"mode": mode, "frame_length": 32, "frame_step": 10, "fft_length": 64,
              "padding": padding, "expand_dims": expand_dims, "data_format": data_format}
    signals = SIGNALS if data_format == "channels_last" else SIGNALS.transpose(0, 2, 1)
    inferred = layers.STFTSpectrogram(**kwargs)(keras.Input(signals.shape[1:])).shape
    real = layers.STFTSpectrogram(**kwargs)(signals).shape
    assert inferred == (None, *real[1:])
    frames = 27 if padding == "valid" else 30  # (300 - 32) // 10 + 1, ceil(300 / 10)
    bins = 33 * (2 if mode == "stft" else 1)
    expected = {(False, "channels_last"): (2, frames, 3 * bins),
                (True, "channels_last"): (2, frames, bins, 3),
                (False, "channels_first"): (2, 3 * bins, frames),
                (True, "channels_first"): (2, 3, frames, bins)}[expand_dims, data_format]
    assert tuple(real) == expected


def test_stft_spectrogram_defaults_and_weights():
    layer = layers.STFTSpectrogram()
    assert (layer.frame_length, layer._frame_step, layer._fft_length) == (256, 128, 256)
    assert layers.STFTSpectrogram(frame_length=200)._fft_length == 256
    layer.build((None, 1000, 1))
    assert [w.path for w in layer.weights] == ["stft_spectrogram/real_kernel",
                                              "stft_spectrogram/imag_kernel"]
    assert all(w.shape == (256, 1, 129) for w in layer.get_weights())
    assert len(layer.trainable_weights) == 2 and layer.count_params() == 2 * 256 * 129
    frozen = layers.STFTSpectrogram(mode="real", trainable=False)
    frozen.build((None, 1000, 1))
    assert [w.path.split("/")[-1] for w in frozen.non_trainable_weights] == ["real_kernel"]
    imag = layers.STFTSpectrogram(mode="imag")
    imag.build((None, 1000, 1))
    assert [w.path.split("/")[-1] for w in imag.weights] == ["imag_kernel"]


@pytest.mark.parametrize("window", ["hann", "hamming", None])
def test_stft_mode_is_torch_stft_of_each_frame(window):
    # With fft_length == frame_length, no scaling and no padding, the kernels are the windowed
    # DFT: torch.stft without centring, with the periodic window.
    layer = layers.STFTSpectrogram(mode="stft", frame_length=32, frame_step=8, window=window,
                                   periodic=True, scaling=None)
    out = layer(torch.tensor(SIGNALS[..., :1]))  # (2, frames, 2 * 17)
    win = torch.ones(32) if window is None else getattr(torch, f"{window}_window")(32)
    expected = torch.stft(torch.tensor(SIGNALS[..., 0]), n_fft=32, hop_length=8, window=win,
                          center=False, return_complex=True).transpose(1, 2)
    torch.testing.assert_close(out, torch.cat([expected.real, expected.imag], -1), atol=1e-4,
                               rtol=1e-5)


def test_modes_derive_from_the_real_and_imaginary_parts():
    kwargs = {"frame_length": 16, "fft_length": 16, "scaling": "spectrum"}
    x = torch.tensor(SIGNALS[..., :1])
    parts = layers.STFTSpectrogram(mode="stft", **kwargs)(x)
    real, imag = parts[..., :9], parts[..., 9:]
    power = real**2 + imag**2
    psd = power.clone()
    psd[..., 1:-1] *= 2  # the one-sided density counts each bin's negative twin
    expected = {"real": real, "imag": imag, "angle": torch.atan2(imag, real), "psd": psd,
                "magnitude": power.sqrt(), "log": power.sqrt().log()}
    for mode, values in expected.items():
        torch.testing.assert_close(layers.STFTSpectrogram(mode=mode, **kwargs)(x), values,
                                   atol=1e-5, rtol=1e-5)


def test_channels_are_transformed_alike_and_concatenated():
    kwargs = {"mode": "magnitude", "frame_length": 16, "fft_length": 32}
    together = layers.STFTSpectrogram(**kwargs)(SIGNALS)
    alone = layers.STFTSpectrogram(**kwargs)(SIGNALS[..., 1:2])
    torch.testing.assert_close(together[..., 17:34], alone)
    images = layers.STFTSpectrogram(expand_dims=True, **kwargs)(SIGNALS)
    torch.testing.assert_close(images[..., 1], alone)


@pytest.mark.parametrize("scaling, norm", [("density", lambda w: w.square().sum().sqrt()),
                                           ("spectrum", lambda w: w.abs().sum()),
                                           (None, lambda w: 1.0)])
def test_custom_window_and_scaling(scaling, norm):
    window = np.linspace(0.5, 1.0, 8)
    layer = layers.STFTSpectrogram(frame_length=8, window=window, scaling=scaling)
    layer.build((None, 100, 1))
    assert layer.get_config()["window"] == window.tolist()
    win = torch.tensor(window, dtype=torch.float32)
    plain = initializers.STFT("real", None)((8, 1, 5))
    torch.testing.assert_close(layer.real_kernel.detach(), plain * win[:, None, None] / norm(win))


def test_gradients_reach_the_kernels():
    layer = layers.STFTSpectrogram(mode="log", frame_length=16)
    layer(torch.tensor(SIGNALS)).sum().backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in layer.trainable_weights)


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"mode": "power"}, ValueError, "mode to be one of log, magnitude"),
    ({"frame_length": 0}, ValueError, "positive integer for frame_length"),
    ({"frame_step": 300}, ValueError, r"frame_step from 1 to frame_length \(256\)"),
    ({"fft_length": 128}, ValueError, r"fft_length of at least frame_length \(256\)"),
    ({"scaling": "l2"}, ValueError, "'density', 'spectrum' or None"),
    ({"padding": "causal"}, ValueError, "'valid', 'same'"),
    ({"data_format": "NWC"}, ValueError, "channels_last"),
    ({"window": "nope"}, ValueError, "Unknown window: 'nope'.*scipy.signal.get_window"),
    ({"window": [1.0, 0.5]}, ValueError, "window of 256 values"),
])
def test_stft_spectrogram_rejects_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        layers.STFTSpectrogram(**kwargs)


def test_stft_spectrogram_rejects_bad_inputs():
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=200, fft_length=300)
    with pytest.raises(ValueError, match=r"(?s)expects 3-D inputs.*Reshape\(\(16000, 1\)\)"):
        layers.STFTSpectrogram()(keras.Input((16000,)))
    with pytest.raises(ValueError, match="(?s)frame_length of 256 .* padding='same'"):
        layers.STFTSpectrogram()(keras.Input((100, 1)))
    with pytest.raises(TypeError, match="floating-point signals"):
        layers.STFTSpectrogram()(torch.zeros(1, 400, 1, dtype=torch.int32))


def test_other_windows_need_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.signal", None)
    with pytest.raises(ImportError, match="needs SciPy.*'hann' or 'hamming'"):
        layers.STFTSpectrogram(window="blackman")
    layer = layers.STFTSpectrogram(window="hamming", periodic=True, frame_length=16)
    assert layer(torch.tensor(SIGNALS)).shape == (2, 36, 27)


def test_stft_spectrogram_in_a_model_summary_and_saved(tmp_path, capsys):
    inputs = keras.Input((16000, 1))
    x = layers.STFTSpectrogram(frame_length=256, frame_step=128, fft_length=512,
                               window=np.hanning(256))(inputs)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    model.summary()
    assert "(None, 124, 257)" in capsys.readouterr().out
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    signals = RNG.standard_normal((2, 16000, 1)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(signals, verbose=0),
                                  model.predict(signals, verbose=0))
    assert loaded.layers[1].get_config() == model.layers[1].get_config()


# ---------------------------------------------------------------------- MelSpectrogram

def test_mel_spectrogram_shapes_and_config():
    layer = layers.MelSpectrogram(num_mel_bins=80, sequence_stride=128, fft_length=512)
    assert layer(RNG.standard_normal(4000).astype("float32")).shape == (80, 32)
    assert layer(RNG.standard_normal((2, 4000))).shape == (2, 80, 32)
    # 1 + samples // sequence_stride frames (Keras's compute_output_shape says one more when
    # samples % sequence_stride == sequence_stride - 1; netknit infers what the call gives).
    for samples in (4000, 4095, 4096):
        inferred = layers.MelSpectrogram(sequence_stride=128)(keras.Input((samples,))).shape
        assert inferred == (None, 128, 1 + samples // 128)
        assert layer(torch.zeros(1, samples)).shape[-1] == 1 + samples // 128
    config = layers.MelSpectrogram().get_config()
    assert {k: config[k] for k in ("sequence_length", "max_freq", "window")} == {
        "sequence_length": 2048, "max_freq": 8000, "window": "hann"}
    assert layers.MelSpectrogram.from_config(config).get_config() == config
    assert layers.MelSpectrogram().weights == []


def test_mel_spectrogram_is_decibels_of_mel_weighted_power():
    signals = torch.tensor(RNG.standard_normal((2, 3000)), dtype=torch.float32)
    signals[1] *= 0.01  # the quiet signal is clipped against the loud one's maximum
    layer = layers.MelSpectrogram(fft_length=256, sequence_stride=64, num_mel_bins=24,
                                  sampling_rate=8000, top_db=40.0, ref_power=2.0)
    real, imag = keras.ops.stft(signals, 256, 64, 256, "hann")
    mel = (real**2 + imag**2) @ layer._mel_weights
    db = 10 * torch.log10(mel.clamp_min(1e-10) / 2.0)
    expected = torch.maximum(db, db.max() - 40.0).transpose(1, 2)
    torch.testing.assert_close(layer(signals), expected, atol=1e-4, rtol=1e-5)
    assert layer(signals)[1].min() == pytest.approx(db.max().item() - 40.0)


def test_mel_weights_are_triangles_on_the_mel_scale():
    weights = layers.MelSpectrogram(fft_length=512, num_mel_bins=10, min_freq=100.0,
                                    max_freq=4000.0)._mel_weights
    assert weights.shape == (257, 10)
    assert weights[0].abs().sum() == 0  # the DC bin is in no band
    assert weights.max() <= 1.0 and (weights.max(0).values > 0.5).all()
    hertz = torch.arange(257) * 8000 / 256
    assert weights[hertz < 100].abs().sum() == 0 and weights[hertz > 4000].abs().sum() == 0


@pytest.mark.parametrize("kwargs, pattern", [
    ({"sequence_length": 4096}, r"sequence_length of at most fft_length \(2048\)"),
    ({"window": "blackman"}, "'hann', 'hamming', None or an array of 2048 values"),
    ({"window": [1.0]}, "window of 2048 values"),
    ({"num_mel_bins": 0}, "positive integer for num_mel_bins"),
    ({"min_freq": 9000.0}, "0 <= min_freq < max_freq"),
    ({"sampling_rate": 0}, "positive sampling_rate"),
])
def test_mel_spectrogram_rejects_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        layers.MelSpectrogram(**kwargs)


def test_mel_spectrogram_needs_signals_longer_than_half_the_fft():
    with pytest.raises(ValueError, match="fft_length // 2 = 1024"):
        layers.MelSpectrogram()(keras.Input((1000,)))
    with pytest.raises(ValueError, match="fft_length // 2 = 128"):
        layers.MelSpectrogram(fft_length=256)(torch.zeros(2, 100))


def test_mel_spectrogram_in_a_saved_model(tmp_path):
    inputs = keras.Input((4000,))
    outputs = layers.MelSpectrogram(fft_length=256, sequence_stride=100, num_mel_bins=20,
                                    window=np.hamming(256))(inputs)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    signals = RNG.standard_normal((2, 4000)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(signals, verbose=0),
                                  model.predict(signals, verbose=0))


def test_mel_spectrogram_under_mixed_precision_computes_in_float32():
    """From its float16 inputs (autocast, as Keras's: float32 signals are rounded first)."""
    signals = torch.tensor(RNG.standard_normal((2, 2000)), dtype=torch.float32)
    mixed = layers.MelSpectrogram(fft_length=256, dtype="mixed_float16")(signals)
    plain = layers.MelSpectrogram(fft_length=256)(signals.half().float())
    assert mixed.dtype == torch.float16
    torch.testing.assert_close(mixed, plain.half())


# ---------------------------------------------------------------------- the STFT initializer

def test_stft_initializer_config_and_names():
    init = initializers.STFT("imag", "hamming", "spectrum", True)
    assert init.get_config() == {"side": "imag", "window": "hamming", "periodic": True,
                                 "scaling": "spectrum"}
    entry = initializers.serialize(init)
    assert entry["class_name"] == "STFT"
    again = initializers.deserialize(entry)
    torch.testing.assert_close(again((16, 1, 9)), init((16, 1, 9)))
    assert initializers.stft is initializers.STFTInitializer is initializers.STFT
    assert isinstance(initializers.get("stft"), initializers.STFT)
    assert isinstance(initializers.get("STFTInitializer"), initializers.STFT)
    with pytest.raises(ValueError, match="side to be 'real' or 'imag'"):
        initializers.STFT("both")


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("name", ["hann", "hamming"])
def test_torch_windows_are_scipy_s(name, periodic):
    signal = pytest.importorskip("scipy.signal")
    for length in (1, 2, 7, 16, 255):
        np.testing.assert_allclose(
            initializers.window_values(name, length, periodic).numpy(),
            signal.get_window(name, length, fftbins=periodic), rtol=0, atol=1e-15)
