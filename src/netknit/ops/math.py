"""`keras.ops`' math functions: special functions, top-k, segment reductions, log-sum-exp."""

from __future__ import annotations

import math

import torch

from .core import as_float, tensor
from .operation import keras_operation


def _op(class_name: str, call: str = "x"):
    return keras_operation("math", class_name, call)


@_op("Erf")
def erf(x):
    return torch.erf(as_float(tensor(x)))


@_op("Erfc")
def erfc(x):
    return torch.erfc(as_float(tensor(x)))


@_op("Erfinv")
def erfinv(x):
    return torch.erfinv(as_float(tensor(x)))


@_op("Rsqrt")
def rsqrt(x):
    return torch.rsqrt(as_float(tensor(x)))


@_op("Logsumexp")
def logsumexp(x, axis=None, keepdims=False):
    x = as_float(tensor(x))
    dims = tuple(range(x.ndim)) if axis is None else axis
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


@_op("TopK")
def top_k(x, k, sorted=True):  # noqa: A002 (Keras's name)
    values, indices = torch.topk(tensor(x), k, dim=-1, sorted=sorted)
    return values, indices


@_op("InTopK", "targets predictions")
def in_top_k(targets, predictions, k):
    predictions = tensor(predictions)
    targets = tensor(targets, like=predictions).long()
    target_scores = predictions.gather(-1, targets.unsqueeze(-1))
    # Ties with the target's score count for it, as in Keras.
    return (predictions > target_scores).sum(-1) < k


def _identity(reduce: str, dtype: torch.dtype):
    if reduce in ("sum", "prod"):
        return 0 if reduce == "sum" else 1
    info = torch.finfo(dtype) if dtype.is_floating_point else torch.iinfo(dtype)
    if dtype.is_floating_point:
        return -math.inf if reduce == "amax" else math.inf
    return info.min if reduce == "amax" else info.max


def _segment(class_name: str, name: str, reduce: str):
    def segment(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
        data = tensor(data)
        ids = tensor(segment_ids, like=data).long()
        count = int(ids.max()) + 1 if num_segments is None else num_segments
        keep = (ids >= 0) & (ids < count)
        data, ids = data[keep], ids[keep]
        index = ids.reshape(-1, *([1] * (data.ndim - 1))).expand_as(data)
        # An empty segment holds the reduction's identity: 0, 1, -inf or +inf (Keras's values).
        result = torch.full((count, *data.shape[1:]), _identity(reduce, data.dtype),
                            dtype=data.dtype, device=data.device)
        return result.scatter_reduce(0, index, data, reduce, include_self=True)

    segment.__name__ = segment.__qualname__ = name
    return _op(class_name, "data segment_ids")(segment)


segment_sum = _segment("SegmentSum", "segment_sum", "sum")
segment_max = _segment("SegmentMax", "segment_max", "amax")
segment_min = _segment("SegmentMin", "segment_min", "amin")
segment_prod = _segment("SegmentProd", "segment_prod", "prod")


@_op("Logdet")
def logdet(x):
    return torch.logdet(as_float(tensor(x)))


@_op("ExtractSequences")
def extract_sequences(x, sequence_length, sequence_stride):
    return tensor(x).unfold(-1, sequence_length, sequence_stride)


@_op("CDist", "x y")
def cdist(x, y):
    x = as_float(tensor(x))
    return torch.cdist(x, tensor(y, like=x).to(x.dtype))


@_op("ViewAsComplex")
def view_as_complex(x):
    return torch.view_as_complex(tensor(x).contiguous())


@_op("ViewAsReal")
def view_as_real(x):
    return torch.view_as_real(tensor(x))


# ----------------------------------------------------------------------------- Fourier transforms
# Keras passes complex values as `(real, imag)` pairs of real tensors, and returns them so.

def _complex(x) -> torch.Tensor:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError("A complex input is a (real, imag) pair of tensors of one shape; got "
                         f"{type(x).__name__}.")
    real, imag = (as_float(tensor(t)) for t in x)
    if real.shape != imag.shape:
        raise ValueError(f"The real and imaginary parts differ in shape: {tuple(real.shape)} "
                         f"and {tuple(imag.shape)}.")
    return torch.complex(real, imag)


def _pair(z: torch.Tensor) -> tuple:
    return z.real, z.imag


@_op("FFT")
def fft(x):
    return _pair(torch.fft.fft(_complex(x)))


@_op("FFT2")
def fft2(x):
    return _pair(torch.fft.fft2(_complex(x)))


@_op("IFFT2")
def ifft2(x):
    return _pair(torch.fft.ifft2(_complex(x)))


@_op("RFFT")
def rfft(x, fft_length=None):
    return _pair(torch.fft.rfft(as_float(tensor(x)), n=fft_length, dim=-1))


@_op("IRFFT")
def irfft(x, fft_length=None):
    return torch.fft.irfft(_complex(x), n=fft_length, dim=-1)


def _window(window, length: int, dtype, device) -> torch.Tensor:
    if window is None:
        return torch.ones(length, dtype=dtype, device=device)
    if isinstance(window, str):
        makers = {"hann": torch.hann_window, "hamming": torch.hamming_window}
        if window not in makers:
            raise ValueError(f"A window named by a string is 'hann' or 'hamming'; got {window!r}.")
        return makers[window](length, periodic=True, dtype=dtype, device=device)
    window = tensor(window).to(dtype)
    if window.shape != (length,):
        raise ValueError(f"The window must have shape ({length},), the sequence_length; got "
                         f"{tuple(window.shape)}.")
    return window


@_op("STFT")
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Frames of `sequence_length` samples every `sequence_stride`, windowed and transformed with
    `fft_length` points: `(real, imag)`, each `(..., frames, fft_length // 2 + 1)`."""
    x = tensor(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"stft takes float32 or float64 signals; got {x.dtype}.")
    if fft_length < sequence_length:
        raise ValueError(f"fft_length ({fft_length}) must be at least sequence_length "
                         f"({sequence_length}).")
    win = _window(window, sequence_length, x.dtype, x.device)
    batch = x.shape[:-1]
    spectrum = torch.stft(x.reshape(-1, x.shape[-1]), n_fft=fft_length,
                          hop_length=sequence_stride, win_length=sequence_length, window=win,
                          center=center, return_complex=True)
    return _pair(spectrum.reshape(*batch, *spectrum.shape[-2:]).transpose(-2, -1))


@_op("ISTFT")
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """The signal whose `stft` is `x`, by windowed overlap-add of the inverse transforms."""
    spectrum = _complex(x)  # (..., count, fft_length // 2 + 1)
    if sequence_length == fft_length and center and window is not None:
        # torch's inverse divides by the exact overlap of the windows (as Keras does here).
        win = _window(window, sequence_length, spectrum.real.dtype, spectrum.device)
        batch = spectrum.shape[:-2]
        signal = torch.istft(spectrum.reshape(-1, *spectrum.shape[-2:]).transpose(-2, -1),
                             n_fft=fft_length, hop_length=sequence_stride,
                             win_length=sequence_length, window=win, center=True, length=length)
        return signal.reshape(*batch, signal.shape[-1])
    frames = torch.fft.irfft(spectrum, n=fft_length, dim=-1)  # (..., count, fft_length)
    count = frames.shape[-2]
    if window is not None:
        win = _window(window, sequence_length, frames.dtype, frames.device)
        left = (fft_length - sequence_length) // 2
        win = torch.nn.functional.pad(win, (left, fft_length - sequence_length - left))
        # Each position of a frame is divided by the sum of the squared window over the
        # positions that land on it in the steady state (those equal modulo the stride).
        periods = -(-fft_length // sequence_stride)
        squares = torch.nn.functional.pad(win * win, (0, periods * sequence_stride - fft_length))
        overlap = squares.reshape(periods, sequence_stride).sum(0).repeat(periods)[:fft_length]
        frames = frames * (win / overlap)
    total = sequence_stride * (count - 1) + fft_length
    signal = torch.zeros((*frames.shape[:-2], total), dtype=frames.dtype, device=frames.device)
    for i in range(count):
        signal[..., i * sequence_stride:i * sequence_stride + fft_length] += frames[..., i, :]
    start = fft_length // 2 if center else 0
    end = start + length if length is not None else (total - fft_length // 2 if center
                                                      else total)
    return signal[..., start:end]
