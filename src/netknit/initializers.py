"""Weight initializers with Keras's names, defaults and distributions.

An initializer is called with the weight's shape *in Keras's layout* (a `Conv2D` kernel is
`(kh, kw, in, out)`), so fan-in and fan-out are computed exactly as Keras computes them.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .dtype_policies import KerasDType
from .graph.errors import unknown_name_error


class Initializer:
    """Base class: `initializer(shape, dtype)` returns a new tensor of that shape."""

    def __call__(self, shape, dtype=torch.float32) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)


def _torch_dtype(dtype) -> torch.dtype | None:
    """The torch dtype of what an initializer is called with: a torch dtype, or a Keras name
    (`"float32"`), as a user's code calling an initializer passes it."""
    return KerasDType(dtype).torch if isinstance(dtype, str) else dtype


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, int):
            raise TypeError(f"Expected an integer seed or None. Received: seed={seed!r}")
        self.seed = seed

    def _generator(self):
        return None if self.seed is None else torch.Generator().manual_seed(self.seed)


class Zeros(Initializer):
    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        return torch.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        return torch.ones(shape, dtype=dtype)


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        return torch.full(tuple(shape), float(self.value), dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_Seeded):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        out = torch.empty(tuple(shape), dtype=dtype)
        return out.normal_(self.mean, self.stddev, generator=self._generator())

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class RandomUniform(_Seeded):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        out = torch.empty(tuple(shape), dtype=dtype)
        return out.uniform_(self.minval, self.maxval, generator=self._generator())

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


class TruncatedNormal(_Seeded):
    """Normal values redrawn outside two standard deviations, as Keras does."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        return _truncated_normal(shape, self.mean, self.stddev, dtype, self._generator())

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


def _truncated_normal(shape, mean, stddev, dtype, generator):
    # Unit normals redrawn where they fall outside +-2 (about 5% each round): the same
    # distribution as torch's inverse-CDF `trunc_normal_`, some twenty times faster on the CPU.
    out = torch.randn(tuple(shape), generator=generator, dtype=torch.float32)
    outside = out.abs() > 2
    while not out.is_meta and outside.any():  # (a model built on the meta device has no values)
        out[outside] = torch.randn(int(outside.sum()), generator=generator)
        outside = out.abs() > 2
    return out.to(dtype).mul_(stddev).add_(mean)


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[float, float]:
    """Keras's fan-in and fan-out: kernels are (..., in, out), the leading axes are the field;
    or, given both `input_axes` and `output_axes`, the products of those axes' sizes."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (float(math.prod(shape[a] for a in input_axes)),
                float(math.prod(shape[a] for a in output_axes)))
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive_field = math.prod(shape[:-2])
    return float(shape[-2] * receptive_field), float(shape[-1] * receptive_field)


class VarianceScaling(_Seeded):
    """Samples with variance `scale / n`, where n is fan-in, fan-out or their mean.

    Args:
        scale: positive scaling factor.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
        distribution: `"truncated_normal"`, `"untruncated_normal"` or `"uniform"`.
        seed: an integer for reproducible values.
        input_axes, output_axes: the kernel's axes that count as its inputs and outputs (both
            or neither); by default the second-to-last and last, the others as the field.
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"Expected a positive scale. Received: scale={scale}")
        if mode not in self.MODES:
            raise ValueError(f"Expected mode to be one of {self.MODES}. Received: mode={mode!r}")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(
                f"Expected distribution to be one of {self.DISTRIBUTIONS}. "
                f"Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes = None if input_axes is None else list(input_axes)
        self.output_axes = None if output_axes is None else list(output_axes)

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        generator = self._generator()
        if self.distribution == "truncated_normal":
            # Keras divides by the standard deviation of a unit normal truncated at +-2.
            stddev = math.sqrt(variance) / 0.87962566103423978
            return _truncated_normal(shape, 0.0, stddev, dtype, generator)
        out = torch.empty(tuple(shape), dtype=dtype)
        if self.distribution == "untruncated_normal":
            return out.normal_(0.0, math.sqrt(variance), generator=generator)
        limit = math.sqrt(3.0 * variance)
        return out.uniform_(-limit, limit, generator=generator)

    def get_config(self):
        return {
            "seed": self.seed, "scale": self.scale, "mode": self.mode,
            "distribution": self.distribution, "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


def _variance_scaling_preset(name, scale, mode, distribution):
    class Preset(VarianceScaling):
        def __init__(self, seed: int | None = None, input_axes=None, output_axes=None):
            super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed,
                             input_axes=input_axes, output_axes=output_axes)

        def get_config(self):
            return {"seed": self.seed, "input_axes": self.input_axes,
                    "output_axes": self.output_axes}

    Preset.__name__ = Preset.__qualname__ = name
    Preset.__doc__ = (
        f"`VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})`."
    )
    return Preset


GlorotUniform = _variance_scaling_preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling_preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling_preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling_preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling_preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling_preset("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(_Seeded):
    """A (scaled) orthogonal matrix over the last axis, Keras's default for recurrent kernels."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank 2 or more. Received: {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float64)
        flat.normal_(0.0, 1.0, generator=self._generator())
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).to(dtype)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape. Received: {tuple(shape)}")
        return self.gain * torch.eye(*shape, dtype=dtype)

    def get_config(self):
        return {"gain": self.gain}


# Windows torch computes; its `periodic` flag gives scipy's `get_window(..., fftbins=periodic)`.
_TORCH_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}


def window_values(window, length: int, periodic: bool = False) -> torch.Tensor:
    """The `length` float64 values of a window: a name `scipy.signal.get_window` knows, with
    `periodic` as its `fftbins` (`"hann"` and `"hamming"` need no SciPy); or the values."""
    if not isinstance(window, str):
        values = torch.tensor(window, dtype=torch.float64)
        if values.shape != (length,):
            raise ValueError(f"Expected a window of {length} values, one per sample of a frame. "
                             f"Received a window of shape {tuple(values.shape)}.")
        return values
    if window in _TORCH_WINDOWS:
        return _TORCH_WINDOWS[window](length, periodic=periodic, dtype=torch.float64)
    try:
        from scipy.signal import get_window
    except ImportError:
        raise ImportError(
            f"window={window!r} needs SciPy (pip install scipy). Without it a window is "
            f"{' or '.join(map(repr, _TORCH_WINDOWS))}, None, or an array of its values."
        ) from None
    try:
        return torch.from_numpy(get_window(window, length, fftbins=periodic))
    except ValueError as error:
        raise ValueError(f"Unknown window: {window!r} ({error}). Use 'hann', 'hamming', another "
                         "scipy.signal.get_window name, None, or an array of the window's "
                         "values.") from None


class STFT(Initializer):
    """Convolution kernels that compute a short-time Fourier transform: the real or imaginary
    part of the discrete Fourier basis, times a window (the kernels of `STFTSpectrogram`).

    The shape is `(frame_length, 1, fft_length // 2 + 1)`: one kernel per frequency bin.

    Args:
        side: `"real"` (cosines) or `"imag"` (negated sines).
        window: a `scipy.signal.get_window` name (`"hann"` and `"hamming"` need no SciPy), an
            array of `frame_length` values, or None for no window.
        scaling: divide the windowed kernels by the window's L2 norm (`"density"`) or its L1
            norm (`"spectrum"`); None leaves them as they are.
        periodic: the periodic (DFT-even) window rather than the symmetric one.

    >>> STFT("imag", "hamming")((256, 1, 129)).shape
    torch.Size([256, 1, 129])
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"Expected side to be 'real' or 'imag'. Received: side={side!r}")
        if scaling not in (None, "density", "spectrum"):
            raise ValueError("Expected scaling to be 'density', 'spectrum' or None. Received: "
                             f"scaling={scaling!r}")
        if isinstance(window, str):
            window_values(window, 1)  # an unknown name fails here rather than when building
        elif window is not None:
            window = np.asarray(window, dtype="float64").tolist()  # configs save it as a list
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=torch.float32):
        dtype = _torch_dtype(dtype)
        frame_length, _, bins = shape
        # Keras's arithmetic, in its order and in `dtype`: fresh kernels equal Keras's.
        freq = torch.arange(bins, dtype=dtype).reshape(1, 1, bins) / ((bins - 1) * 2)
        time = torch.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        angles = -2 * time * freq * torch.tensor(math.pi, dtype=dtype)
        kernel = torch.cos(angles) if self.side == "real" else torch.sin(angles)
        if self.window is None:
            return kernel
        window = window_values(self.window, frame_length, self.periodic).to(dtype)
        window = window.reshape(frame_length, 1, 1)
        norm = (window.square().sum().sqrt() if self.scaling == "density"
                else window.abs().sum() if self.scaling == "spectrum" else 1)
        return kernel * window / norm

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


INITIALIZERS = {
    cls.__name__: cls
    for cls in (
        Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
        GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal,
        Identity, STFT,
    )
}
_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity, "uniform": RandomUniform, "normal": RandomNormal, "one": Ones,
    "zero": Zeros, "stft": STFT, "STFTInitializer": STFT, "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
}


def get(identifier) -> Initializer | None:
    """A Keras name (`"glorot_uniform"`), class name, config dict, instance or callable; None
    stays None (then `add_weight` picks the default for the weight's dtype, as in Keras)."""
    if identifier is None or isinstance(identifier, Initializer) or (
        callable(identifier) and not isinstance(identifier, type)
    ):
        return identifier
    if isinstance(identifier, dict):
        cls = _lookup(identifier.get("class_name"))
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    raise ValueError(
        "Could not interpret initializer identifier: expected a name such as 'glorot_uniform', "
        f"an Initializer, or a config dict. Received: {identifier!r}"
    )


def _lookup(name: str) -> type:
    cls = _ALIASES.get(name) or INITIALIZERS.get(name)
    if cls is None:
        raise unknown_name_error("initializer", name, list(_ALIASES) + list(INITIALIZERS))
    return cls


def serialize(initializer) -> dict | None:
    """Keras 3's config form: `{"module": ..., "class_name": ..., "config": ...}` (None for
    None)."""
    if initializer is None:
        return None
    return {
        "module": "keras.initializers",
        "class_name": type(initializer).__name__,
        "config": initializer.get_config(),
        "registered_name": None,
    }

def deserialize(config, custom_objects: dict | None = None):
    """The initializer a name or a `serialize` config (Keras's too) describes; `custom_objects` maps
    names to the user's own initializers."""
    from .saving.serialization import deserialize_family  # saving builds on this module

    return deserialize_family(get, config, custom_objects)


# Keras's lowercase function-style names.
zeros, ones, constant = Zeros, Ones, Constant
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
orthogonal, random_normal, random_uniform, truncated_normal = (
    Orthogonal, RandomNormal, RandomUniform, TruncatedNormal
)
identity, variance_scaling, stft = Identity, VarianceScaling, STFT
# Keras 3's longer class names for the same classes.
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT
