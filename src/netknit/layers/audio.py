"""Audio layers: STFTSpectrogram and MelSpectrogram turn signals into spectrograms.

`STFTSpectrogram` computes its short-time Fourier transform as a strided convolution whose
kernels (the windowed Fourier basis) are weights, so they can be fine-tuned. `MelSpectrogram`
computes a fixed transform with `ops.stft` and has no weights.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from .. import initializers
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from ..ops.math import stft
from .convolutional import (
    check_spatial_input,
    check_window_fits,
    join_spatial,
    normalize_data_format,
    normalize_padding,
    output_length,
    pad_same,
    split_spatial,
)
from .core import check_positive_int
from .layer import Layer

_EPSILON = 1e-7  # Keras's backend.epsilon(): the floor of the power, so the log is finite
_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


def _window_from_config(config: dict) -> dict:
    """`config` with an array window that Keras saved as a `__numpy__` entry as its values."""
    window = config.get("window")
    if isinstance(window, dict) and window.get("class_name") == "__numpy__":
        return {**config, "window": window["config"]["value"]}
    return config


class STFTSpectrogram(Layer):
    """Spectrograms of 1-D signals by the short-time Fourier transform, as trainable kernels.

    Frames of `frame_length` samples every `frame_step` samples are windowed and transformed
    with `fft_length` points, by a convolution with the kernels `real_kernel` and `imag_kernel`
    (each `(frame_length, 1, fft_length // 2 + 1)`, from `initializers.STFT`). Each channel of
    the signal is transformed on its own. Pass `trainable=False` for a fixed transform.

    Args:
        mode: what each bin holds: `"log"` (default, log magnitude), `"magnitude"`, `"psd"`
            (power spectral density, the one-sided power), `"real"`, `"imag"`, `"angle"`
            (phase), or `"stft"` (the real parts, then the imaginary ones).
        frame_length: the samples in a frame (256).
        frame_step: the samples between frames, from 1 to `frame_length`;
            `frame_length // 2` by default.
        fft_length: the points of each transform, at least `frame_length` (best a power of
            two); by default the smallest power of two not below `frame_length`.
        window: `"hann"` (default), `"hamming"`, another `scipy.signal.get_window` name (needs
            SciPy), an array of `frame_length` values, or None.
        periodic: use the periodic window rather than the symmetric one.
        scaling: divide the kernels by the window's L2 norm (`"density"`, default) or its L1
            norm (`"spectrum"`); None does not scale.
        padding: `"valid"` (default) or `"same"` (`ceil(time / frame_step)` frames).
        expand_dims: give each channel its own spectrogram axis (an image per channel)
            instead of concatenating the channels' bins.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape: `(batch, time, channels)`, or `(batch, channels, time)` for channels_first.
    Output shape, with `bins = fft_length // 2 + 1` (twice that for `mode="stft"`):
    `(batch, frames, channels * bins)` (channels_first: `(batch, channels * bins, frames)`);
    with `expand_dims`, `(batch, frames, bins, channels)` (`(batch, channels, frames, bins)`).

    >>> layer = STFTSpectrogram(frame_length=256, frame_step=128, fft_length=512)
    >>> layer(torch.rand(3, 16000, 1)).shape
    torch.Size([3, 124, 257])
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in _MODES:
            raise ValueError(f"Expected mode to be one of {', '.join(_MODES)}. Received: "
                             f"mode={mode!r}")
        self.frame_length = check_positive_int("frame_length", frame_length)
        if frame_step is not None and (check_positive_int("frame_step", frame_step)
                                       > frame_length):
            raise ValueError(f"Expected frame_step from 1 to frame_length ({frame_length}). "
                             f"Received: frame_step={frame_step}")
        if fft_length is not None and (check_positive_int("fft_length", fft_length)
                                       < frame_length):
            raise ValueError(f"Expected fft_length of at least frame_length ({frame_length}). "
                             f"Received: fft_length={fft_length}")
        if fft_length is not None and fft_length & (fft_length - 1):
            warnings.warn(f"fft_length is best a power of two. Received: fft_length={fft_length}",
                          stacklevel=2)
        self.mode = mode
        self.frame_step = frame_step
        self.fft_length = fft_length
        self.periodic = periodic
        self.scaling = scaling
        self.padding = normalize_padding(padding)
        self.expand_dims = expand_dims
        self.data_format = normalize_data_format(data_format)
        self._frame_step = frame_step or max(frame_length // 2, 1)
        self._fft_length = fft_length or 2 ** math.ceil(math.log2(frame_length))
        # Only the kernels the mode reads; their initializers check window and scaling now.
        sides = {"real": ("real",), "imag": ("imag",)}.get(mode, ("real", "imag"))
        self._initializers = {side: initializers.STFT(side, window, scaling, periodic)
                              for side in sides}
        self.window = self._initializers[sides[0]].window  # an array window as a list
        if isinstance(self.window, list):
            initializers.window_values(self.window, frame_length)

    def build(self, input_shape):
        check_spatial_input(self, input_shape, 1, self.data_format)
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        for side, initializer in self._initializers.items():
            self.add_weight(name=f"{side}_kernel", shape=shape, initializer=initializer)

    def forward(self, inputs):
        if not inputs.is_floating_point():
            raise TypeError(f"STFTSpectrogram takes floating-point signals (cast them first, "
                            f"e.g. with ops.cast). Received: {inputs.dtype}")
        kernel = torch.cat([getattr(self, f"{side}_kernel") for side in self._initializers], -1)
        channels_last = self.data_format == "channels_last"
        signals = inputs.movedim(-1, 1) if channels_last else inputs
        batch, channels = signals.shape[:2]
        # In the kernels' dtype, as Keras computes (a float64 signal gives float32 spectra).
        signals = signals.reshape(batch * channels, 1, -1).to(kernel.dtype)
        padding = 0
        if self.padding == "same":
            signals, padding = pad_same(signals, (self.frame_length,), (self._frame_step,))
        parts = F.conv1d(signals, kernel.permute(2, 1, 0), stride=self._frame_step,
                         padding=padding)
        spectra = self._spectra(parts.reshape(batch, channels, -1, parts.shape[-1]))
        if self.expand_dims:
            return spectra.permute(0, 3, 2, 1) if channels_last else spectra.transpose(2, 3)
        spectra = spectra.reshape(batch, -1, spectra.shape[-1])
        return spectra.transpose(1, 2) if channels_last else spectra

    def _spectra(self, parts: torch.Tensor) -> torch.Tensor:
        """`(batch, channels, bins, frames)` in the mode's terms, from the real parts then the
        imaginary ones along the bins (or the one part the mode reads)."""
        if self.mode in ("real", "imag", "stft"):
            return parts
        real, imag = parts.chunk(2, dim=2)
        if self.mode == "angle":
            return torch.atan2(imag, real)
        power = real.square() + imag.square()
        if self.mode == "psd":
            # The one-sided density: every bin but 0 and Nyquist stands for its negative twin.
            return power + F.pad(power[:, :, 1:-1], (0, 0, 1, 1))
        magnitude = power.clamp_min(_EPSILON).sqrt()
        return magnitude if self.mode == "magnitude" else magnitude.log()

    def compute_output_shape(self, input_shape):
        check_spatial_input(self, input_shape, 1, self.data_format)
        (time,), channels = split_spatial(input_shape, self.data_format)
        if self.padding == "valid":
            check_window_fits(self, input_shape, (time,), (self.frame_length,), "frame_length")
        frames = output_length(time, self.frame_length, self.padding, self._frame_step)
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        if self.expand_dims:
            return join_spatial(input_shape[0], (frames, bins), channels, self.data_format)
        features = None if channels is None else channels * bins
        return join_spatial(input_shape[0], (frames,), features, self.data_format)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length,
                "window": self.window, "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}

    @classmethod
    def from_config(cls, config: dict) -> STFTSpectrogram:
        return cls(**_window_from_config(config))


# The HTK mel scale: mel(f) = 1127 * ln(1 + f / 700).
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(hertz: torch.Tensor) -> torch.Tensor:
    return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + hertz / _MEL_BREAK_FREQUENCY_HERTZ)


def _linspace(start: torch.Tensor, stop: torch.Tensor, num: int) -> torch.Tensor:
    # Keras's torch backend spaces tensors so (not with torch.linspace, which rounds otherwise).
    return start + torch.arange(num, dtype=start.dtype) / (num - 1) * (stop - start)


def mel_weight_matrix(num_mel_bins: int, num_spectrogram_bins: int, sampling_rate: float,
                      lower_edge_hertz: float, upper_edge_hertz: float) -> torch.Tensor:
    """The `(num_spectrogram_bins, num_mel_bins)` float32 matrix that maps the bins of a
    one-sided spectrum (0 to `sampling_rate / 2`) to triangular mel bands, peaks of 1 and
    edges evenly spaced in mel from `lower_edge_hertz` to `upper_edge_hertz` (computed as
    Keras computes it)."""
    def f32(value):
        return torch.tensor(value, dtype=torch.float32)

    nyquist = f32(sampling_rate) / 2.0
    # As in HTK, the DC bin belongs to no band: it is left out here and given a row of zeros.
    bins_mel = _hertz_to_mel(_linspace(f32(0.0), nyquist, num_spectrogram_bins)[1:, None])
    edges = _linspace(_hertz_to_mel(f32(lower_edge_hertz)),
                      _hertz_to_mel(f32(upper_edge_hertz)), num_mel_bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    return F.pad(torch.minimum(rising, falling).clamp_min(0.0), (0, 0, 1, 0))


class MelSpectrogram(Layer):
    """Mel spectrograms of audio signals: `ops.stft` magnitudes, mapped to mel bands and (by
    default) to decibels.

    Args:
        fft_length: the points of each transform (2048).
        sequence_stride: the samples between frames (512).
        sequence_length: the samples in a frame, at most `fft_length` (the default).
        window: `"hann"` (default), `"hamming"`, an array of `sequence_length` values, or None.
        sampling_rate: the signal's samples per second (16000).
        num_mel_bins: the mel bands (128).
        min_freq, max_freq: the lowest and highest frequency of the bands, in hertz (20 and,
            by default, `sampling_rate / 2`).
        power_to_db: express the result in decibels, `10 * log10(S / ref_power)`.
        top_db: in decibels, clip at `top_db` below the loudest value of the whole batch (not
            of each signal, as in Keras).
        mag_exp: the power of the magnitudes before the mel mapping (2: power, 1: magnitude).
        min_power: the smallest power (and `ref_power`) before the log.
        ref_power: the power of 0 dB.

    Input shape: `(..., samples)`: one signal or a batch; frames are centred on every
    `sequence_stride`-th sample (the signal is reflected at its ends), so there are
    `1 + samples // sequence_stride` of them.
    Output shape: `(..., num_mel_bins, frames)`.

    >>> MelSpectrogram(num_mel_bins=80, sequence_stride=128)(torch.rand(2, 16000)).shape
    torch.Size([2, 80, 126])
    """

    # The transform runs in float32 (or float64) under any policy, as Keras's does: a mixed
    # policy must not read the mel matrix (a float32 buffer) as a float16 copy.
    _mixed_computes_in_float32 = True

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann",
                 sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None,
                 power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.fft_length = check_positive_int("fft_length", fft_length)
        self.sequence_stride = check_positive_int("sequence_stride", sequence_stride)
        self.sequence_length = check_positive_int("sequence_length",
                                                  sequence_length or fft_length)
        if self.sequence_length > fft_length:
            raise ValueError(f"Expected sequence_length of at most fft_length ({fft_length}). "
                             f"Received: sequence_length={sequence_length}")
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(f"Expected window to be 'hann', 'hamming', None or an array of "
                             f"{self.sequence_length} values. Received: window={window!r}")
        if window is not None and not isinstance(window, str):
            window = initializers.window_values(window, self.sequence_length).tolist()
        self.window = window
        if not sampling_rate > 0:
            raise ValueError(f"Expected a positive sampling_rate. Received: "
                             f"sampling_rate={sampling_rate!r}")
        self.sampling_rate = sampling_rate
        self.num_mel_bins = check_positive_int("num_mel_bins", num_mel_bins)
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        if not 0 <= min_freq < self.max_freq:
            raise ValueError(f"Expected 0 <= min_freq < max_freq. Received: min_freq={min_freq}, "
                             f"max_freq={self.max_freq}")
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        # A constant of the configuration: moved with the layer, not saved.
        self.register_buffer("_mel_weights", mel_weight_matrix(
            num_mel_bins, fft_length // 2 + 1, sampling_rate, min_freq, self.max_freq),
            persistent=False)
        self._ref_db = 10.0 * math.log10(max(abs(ref_power), min_power))

    def build(self, input_shape):
        self._check_signals(input_shape)

    def _check_signals(self, input_shape) -> None:
        if not input_shape:
            raise ShapeError("MelSpectrogram expects signals shaped (..., samples), but received "
                             "a scalar.", fix="pass a 1-D signal or a batch of signals.")
        samples = input_shape[-1]
        if samples is not None and samples <= self.fft_length // 2:
            raise ShapeError(
                f"MelSpectrogram reflects each signal by fft_length // 2 = {self.fft_length // 2} "
                f"samples at its ends, which needs more samples than that; received "
                f"{format_shape(input_shape)}.",
                fix="use longer signals or a smaller fft_length.",
            )

    def forward(self, inputs):
        # ops.stft computes in float32 or float64; 16-bit policies get their dtype back at the end.
        dtype = torch.float64 if self._compute_dtype == torch.float64 else torch.float32
        real, imag = stft(inputs.to(dtype), self.sequence_length, self.sequence_stride,
                          self.fft_length, self.window, center=True)
        spectrum = torch.sqrt(real.square() + imag.square()) ** self.mag_exp
        mel = spectrum @ self._mel_weights.to(dtype)
        if self.power_to_db:
            mel = 10.0 * torch.log10(mel.clamp_min(self.min_power)) - self._ref_db
            mel = torch.maximum(mel, mel.max() - self.top_db)
        return mel.transpose(-1, -2).to(self._compute_dtype)

    def compute_output_shape(self, input_shape):
        self._check_signals(input_shape)
        samples = input_shape[-1]
        frames = None if samples is None else 1 + samples // self.sequence_stride
        return (*input_shape[:-1], self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride, "sequence_length": self.sequence_length,
                "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq,
                "max_freq": self.max_freq, "power_to_db": self.power_to_db,
                "top_db": self.top_db, "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}

    @classmethod
    def from_config(cls, config: dict) -> MelSpectrogram:
        return cls(**_window_from_config(config))
