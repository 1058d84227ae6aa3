"""`keras.ops` functions against real Keras 3 (torch backend), live: the same call on the same
NumPy inputs gives the same values, shape and dtype; on symbolic inputs, the same output shape
and the same saved config. Skipped when Keras is not installed."""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch  # noqa: E402

import netknit  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

rng = np.random.default_rng(0)
F = rng.standard_normal((3, 4)).astype("float32")  # a float matrix
P = np.abs(F) + 0.1  # positive
U = rng.uniform(-0.9, 0.9, (3, 4)).astype("float32")  # inside (-1, 1)
I = np.array([[1, -2, 3, 0], [4, 5, -6, 2], [0, 7, 1, 3]], dtype="int32")  # noqa: E741
B = I > 1
C = rng.standard_normal((2, 3, 4)).astype("float32")  # a 3-d float tensor
S = np.array([[4.0, 1.0], [1.0, 3.0]], dtype="float32")  # symmetric positive definite
IMG = rng.standard_normal((2, 6, 6, 3)).astype("float32")
KER = rng.standard_normal((3, 3, 3, 4)).astype("float32")
Q = rng.standard_normal((2, 5, 2, 4)).astype("float32")  # (batch, length, heads, dim)
SIGNAL = rng.standard_normal((2, 64)).astype("float32")
# Keras's own STFTs of SIGNAL, keyed by (sequence_length, stride, fft_length, window, center).
SPECTRUM = {
    key: tuple(t.numpy() for t in keras.ops.stft(SIGNAL, *key[:3], window=key[3] or "hann",
                                                 center=key[4]))
    for key in [(16, 4, 32, "hann", True), (16, 4, 16, "hann", True),
                (16, 8, 32, "hamming", False), (16, 4, 32, None, True), (12, 5, 16, "hann", False)]
}

CALLS = {
    # elementwise, one input
    **{f"{name}-{tag}": (name, (x,), {}) for name in [
        "abs", "negative", "square", "sign", "exp", "log1p", "sqrt", "sin", "cos", "tanh",
        "floor", "ceil", "round", "trunc", "reciprocal", "isnan", "isfinite", "logical_not",
        "expm1", "exp2", "log2", "log10", "sinh", "cosh", "arctan", "arcsinh", "cbrt",
        "deg2rad", "rad2deg", "sinc", "signbit", "relu", "relu6", "sigmoid", "softplus",
        "softsign", "silu", "swish", "log_sigmoid", "hard_sigmoid", "hard_silu", "hard_swish",
        "selu", "hard_tanh", "tanh_shrink", "sparse_plus", "sparse_sigmoid", "erf", "ravel",
        "copy", "real", "i0"]
        for tag, x in (("float", F), ("int", I))},
    **{f"{name}-positive": (name, (P,), {}) for name in ["log", "rsqrt", "arccosh", "erfc"]},
    **{f"{name}-unit": (name, (U,), {}) for name in ["arcsin", "arccos", "arctanh", "erfinv"]},
    "abs-bool": ("abs", (B,), {}),
    "leaky_relu": ("leaky_relu", (F,), {}),
    "elu": ("elu", (F,), {"alpha": 0.5}),
    "celu": ("celu", (F,), {}),
    "gelu": ("gelu", (F,), {}),
    "gelu-exact": ("gelu", (F,), {"approximate": False}),
    "glu": ("glu", (F,), {}),
    "hard_shrink": ("hard_shrink", (F,), {}),
    "soft_shrink": ("soft_shrink", (F,), {"threshold": 0.3}),
    "squareplus": ("squareplus", (F,), {}),
    "threshold": ("threshold", (F,), {"threshold": 0.2, "default_value": -1.0}),
    "softmax": ("softmax", (F,), {}),
    "softmax-axes": ("softmax", (C,), {"axis": (1, 2)}),
    "log_softmax": ("log_softmax", (F,), {"axis": 0}),
    "sparsemax": ("sparsemax", (F,), {}),
    "round-decimals": ("round", (F,), {"decimals": 1}),
    "clip-int": ("clip", (I, 0, 2), {}),
    "clip-float-bounds": ("clip", (I, 0.0, 2.5), {}),
    "clip-float": ("clip", (F, -0.5, 0.5), {}),
    "nan_to_num": ("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.0], "float32"),), {}),
    # two inputs, with NumPy and Python numbers
    **{f"{name}-{tag}": (name, args, {}) for name in [
        "add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "power",
        "equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
        for tag, args in (("arrays", (F, P)), ("int-int", (I, 2)), ("int-float", (I, 2.5)),
                          ("ints", (I, I)))},
    **{f"{name}": (name, (I, np.array([2, 3, 4, 5], "int32")), {}) for name in [
        "floor_divide", "mod", "fmod", "gcd", "lcm", "bitwise_and", "bitwise_or",
        "bitwise_xor", "left_shift", "right_shift"]},
    **{name: (name, (F, P), {}) for name in [
        "arctan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "divide_no_nan",
        "heaviside", "logical_and", "logical_or", "logical_xor"]},
    "divide_no_nan-zero": ("divide_no_nan", (F, np.zeros(4, "float32")), {}),
    "where": ("where", (B, F, 0.0), {}),
    "where-ints": ("where", (B, 1, 0), {}),
    "matmul": ("matmul", (F, F.T), {}),
    "matmul-int": ("matmul", (I, I.T), {}),
    "dot-vector": ("dot", (F, F[0]), {}),
    "dot-matrix": ("dot", (C, F.T), {}),
    "inner": ("inner", (F, F), {}),
    "outer": ("outer", (F[0], F[1]), {}),
    "tensordot": ("tensordot", (C, F.T), {"axes": 1}),
    "tensordot-pairs": ("tensordot", (C, C), {"axes": ([1, 2], [1, 2])}),
    "vdot": ("vdot", (F, P), {}),
    "kron": ("kron", (S, S), {}),
    "cross": ("cross", (F[:, :3], P[:, :3]), {}),
    "einsum": ("einsum", ("bij,jk->bik", C, F.T), {}),
    # reductions
    **{f"{name}-{axis}-{keep}": (name, (C,), {"axis": axis, "keepdims": keep})
       for name in ["sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var", "any",
                    "all", "median", "ptp", "logsumexp", "nansum", "nanmean", "nanmax",
                    "nanmin", "nanstd", "nanvar", "nanprod", "nanmedian"]
       for axis, keep in ((None, False), (1, False), ((0, 2), True), (-1, True))},
    **{f"{name}-int": (name, (I,), {}) for name in [
        "sum", "mean", "prod", "max", "std", "median", "count_nonzero", "argmax", "argmin",
        "cumsum", "cumprod", "trace"]},
    "sum-bool": ("sum", (B,), {}),
    "cumsum-bool": ("cumsum", (B,), {}),
    **{f"{name}-{axis}": (name, (C,), {"axis": axis}) for name in [
        "argmax", "argmin", "nanargmax", "nanargmin", "cumsum", "cumprod", "nancumsum",
        "argsort", "sort", "flip", "count_nonzero"] for axis in (None, 1)},
    "argmax-keepdims": ("argmax", (C,), {"axis": 1, "keepdims": True}),
    "max-initial": ("max", (F,), {"axis": 0, "initial": 0.5}),
    "average": ("average", (F,), {"axis": 1, "weights": np.arange(1, 5, dtype="float32")}),
    "average-all": ("average", (F,), {}),
    "quantile": ("quantile", (C, 0.3), {"axis": 1}),
    "quantile-many": ("quantile", (F, np.array([0.1, 0.9], "float32")), {}),
    "percentile": ("percentile", (F, 40.0), {"axis": 0, "keepdims": True}),
    "percentile-nearest": ("percentile", (F, 40.0), {"method": "nearest"}),
    # shapes
    "reshape": ("reshape", (C, (2, -1)), {}),
    "transpose": ("transpose", (C,), {}),
    "transpose-axes": ("transpose", (C, (0, 2, 1)), {}),
    "expand_dims": ("expand_dims", (F, 1), {}),
    "expand_dims-axes": ("expand_dims", (F, (0, -1)), {}),
    "squeeze": ("squeeze", (F[:, :1],), {}),
    "squeeze-axis": ("squeeze", (C[:1, :, :1],), {"axis": 0}),
    "concatenate": ("concatenate", ([F, P],), {"axis": 1}),
    "stack": ("stack", ([F, P],), {"axis": 2}),
    "hstack": ("hstack", ([F, P],), {}),
    "vstack": ("vstack", ([F, P],), {}),
    "dstack": ("dstack", ([F, P],), {}),
    "append": ("append", (F, P), {}),
    "append-axis": ("append", (F, P), {"axis": 0}),
    "split": ("split", (F, 2), {"axis": 1}),
    "split-indices": ("split", (C, [1, 3]), {"axis": -1}),
    "array_split": ("array_split", (C, 3), {"axis": 2}),
    "tile": ("tile", (F, (2, 1)), {}),
    "repeat": ("repeat", (F, 2), {"axis": 0}),
    "repeat-flat": ("repeat", (F, 2), {}),
    "roll": ("roll", (C, 2), {"axis": 2}),
    "roll-flat": ("roll", (C, 1), {}),
    "rot90": ("rot90", (F,), {}),
    "flip-axes": ("flip", (C,), {"axis": (0, 2)}),
    "fliplr": ("fliplr", (F,), {}),
    "pad": ("pad", (F, ((1, 2), (0, 1))), {}),
    "pad-value": ("pad", (F, 1), {"constant_values": 3.0}),
    "pad-reflect": ("pad", (F, ((1, 1), (2, 2))), {"mode": "reflect"}),
    "pad-symmetric": ("pad", (F, ((2, 1), (1, 3))), {"mode": "symmetric"}),
    "pad-edge": ("pad", (F, ((1, 1), (2, 2))), {"mode": "edge"}),
    "broadcast_to": ("broadcast_to", (F[0], (3, 4)), {}),
    "moveaxis": ("moveaxis", (C, 0, -1), {}),
    "swapaxes": ("swapaxes", (C, 0, 2), {}),
    "diagonal": ("diagonal", (C,), {"offset": 1, "axis1": 1, "axis2": 2}),
    "diag": ("diag", (F,), {}),
    "diag-vector": ("diag", (F[0],), {"k": 1}),
    "diagflat": ("diagflat", (F[:2, :2],), {}),
    "tril": ("tril", (F,), {"k": -1}),
    "triu": ("triu", (F,), {}),
    "trace": ("trace", (C,), {"axis1": 1, "axis2": 2}),
    # creation
    "zeros": ("zeros", ((2, 3),), {}),
    "ones-int": ("ones", ((2,),), {"dtype": "int32"}),
    "full": ("full", ((2, 2), 3), {}),
    "full-dtype": ("full", ((2, 2), 3), {"dtype": "int32"}),
    "zeros_like": ("zeros_like", (I,), {}),
    "ones_like-float": ("ones_like", (I,), {"dtype": "float32"}),
    "full_like": ("full_like", (F, 2), {}),
    "arange": ("arange", (5,), {}),
    "arange-float": ("arange", (0.5, 3.0, 0.5), {}),
    "arange-dtype": ("arange", (1, 7, 2), {"dtype": "float32"}),
    "linspace": ("linspace", (0, 1, 5), {}),
    "linspace-open": ("linspace", (2.0, 3.0, 4), {"endpoint": False}),
    "logspace": ("logspace", (0, 2, 3), {}),
    "geomspace": ("geomspace", (1, 1000, 4), {}),
    "eye": ("eye", (3,), {}),
    "eye-rect": ("eye", (2, 4), {"k": 1}),
    "identity": ("identity", (3,), {}),
    "tri": ("tri", (3,), {"k": -1}),
    "meshgrid": ("meshgrid", (np.arange(3), np.arange(2)), {}),
    "meshgrid-ij": ("meshgrid", (np.arange(3), np.arange(2)), {"indexing": "ij"}),
    "convert_to_tensor-ints": ("convert_to_tensor", ([1, 2],), {}),
    "convert_to_tensor-floats": ("convert_to_tensor", ([1.0, 2.0],), {}),
    "convert_to_tensor-f64": ("convert_to_tensor", (F.astype("float64"),), {}),
    "cast": ("cast", (F, "int32"), {}),
    "cast-half": ("cast", (I, "float16"), {}),
    "array": ("array", ([[1, 2]],), {}),
    # indexing, sorting, searching
    "take": ("take", (F, np.array([0, 2])), {"axis": 0}),
    "take-flat": ("take", (F, np.array([[1, 5], [7, 0]])), {}),
    "take-negative": ("take", (F, np.array([-1])), {"axis": 1}),
    "take_along_axis": ("take_along_axis", (F, np.argsort(F, axis=1)), {"axis": 1}),
    "argpartition": ("argpartition", (np.array([3, 1, 2], "float32"), 1), {}),
    "searchsorted": ("searchsorted", (np.array([1.0, 2.0, 3.0], "float32"),
                                      np.array([0.5, 2.0, 2.5], "float32")), {}),
    "searchsorted-right": ("searchsorted", (np.array([1.0, 2.0, 3.0], "float32"),
                                            np.array([2.0], "float32")), {"side": "right"}),
    "digitize": ("digitize", (np.array([0.5, 1.0, 1.5, 3.0], "float32"), [1.0, 2.0]), {}),
    "bincount": ("bincount", (np.array([0, 1, 1, 3]),), {}),
    "bincount-weights": ("bincount", (np.array([0, 1, 1, 3]),),
                         {"weights": np.array([0.5, 1, 2, 3], "float32"), "minlength": 5}),
    "nonzero": ("nonzero", (B,), {}),
    "isin": ("isin", (I, np.array([1, 2, 3])), {}),
    "isclose": ("isclose", (F, F + 1e-6), {}),
    "allclose": ("allclose", (F, F + 1e-3), {}),
    "select": ("select", ([F > 0.5, F < -0.5], [F, -F]), {"default": 9.0}),
    "corrcoef": ("corrcoef", (F,), {}),
    "correlate": ("correlate", (F[0], F[1, :2]), {}),
    "correlate-full": ("correlate", (F[0], F[1, :3]), {"mode": "full"}),
    "correlate-same": ("correlate", (F[0], F[1, :3]), {"mode": "same"}),
    "diff": ("diff", (C,), {}),
    "diff-2": ("diff", (F,), {"n": 2, "axis": 0}),
    "trapezoid": ("trapezoid", (F,), {}),
    "vander": ("vander", (F[0],), {"N": 3}),
    "unravel_index": ("unravel_index", (np.array([5, 7]), (3, 4)), {}),
    "size": ("size", (C,), {}),
    "ndim": ("ndim", (C,), {}),
    "shape": ("shape", (C,), {}),
    "histogram": ("histogram", (F.ravel(),), {"bins": 4}),
    "top_k": ("top_k", (F, 2), {}),
    "in_top_k": ("in_top_k", (np.array([0, 1, 3]), F, 2), {}),
    "segment_sum": ("segment_sum", (F, np.array([0, 0, 2])), {}),
    "segment_max": ("segment_max", (F, np.array([1, 0, 1])), {"num_segments": 3}),
    "unstack": ("unstack", (C,), {"axis": 1}),
    "extract_sequences": ("extract_sequences", (F, 2, 1), {}),
    "scatter": ("scatter", (np.array([[0, 1], [2, 0]]), np.array([1.0, 2.0], "float32"),
                            (3, 2)), {}),
    "scatter_update": ("scatter_update", (F, np.array([[0, 1], [2, 3]]),
                                          np.array([9.0, 8.0], "float32")), {}),
    "slice": ("slice", (C, (0, 1, 1), (2, 2, 2)), {}),
    "slice_update": ("slice_update", (F, (1, 1), np.ones((2, 2), "float32")), {}),
    "stop_gradient": ("stop_gradient", (F,), {}),
    # nn
    "one_hot": ("one_hot", (np.array([0, 2, 1, 3]), 4), {}),
    "one_hot-axis": ("one_hot", (np.array([[0, 2], [1, 1]]), 3), {"axis": 0}),
    "multi_hot": ("multi_hot", (np.array([[0, 2], [1, 1]]),), {"num_classes": 4}),
    "binary_crossentropy": ("binary_crossentropy", ((F > 0).astype("float32"), 1 / (1 + P)), {}),
    "binary_crossentropy-logits": ("binary_crossentropy", ((F > 0).astype("float32"), F),
                                   {"from_logits": True}),
    "categorical_crossentropy": ("categorical_crossentropy", (np.eye(4, dtype="float32")[:3], P),
                                 {}),
    "categorical_crossentropy-logits": ("categorical_crossentropy",
                                        (np.eye(4, dtype="float32")[:3], F),
                                        {"from_logits": True}),
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy",
                                        (np.array([0, 3, 1]), P), {}),
    "moments": ("moments", (C, [0, 1]), {}),
    "moments-keepdims": ("moments", (C, 2), {"keepdims": True}),
    "batch_normalization": ("batch_normalization", (C, F[0], P[0], -1),
                            {"offset": F[1], "scale": P[1]}),
    "normalize": ("normalize", (F,), {}),
    "normalize-l1": ("normalize", (F,), {"order": 1, "axis": 0}),
    "layer_normalization": ("layer_normalization", (C,), {"gamma": P[0], "beta": F[0]}),
    "rms_normalization": ("rms_normalization", (C,), {"scale": P[0]}),
    "psnr": ("psnr", (P, P + 0.1, 2.0), {}),
    "max_pool": ("max_pool", (IMG, 2), {}),
    "max_pool-same": ("max_pool", (IMG, 3), {"strides": 2, "padding": "same"}),
    "average_pool": ("average_pool", (IMG, 2), {"strides": 1}),
    "average_pool-same": ("average_pool", (IMG, 3), {"strides": 1, "padding": "same"}),
    "max_pool-1d": ("max_pool", (C, 2), {}),
    "conv": ("conv", (IMG, KER), {}),
    "conv-same-strided": ("conv", (IMG, KER), {"strides": 2, "padding": "same"}),
    "conv-dilated": ("conv", (IMG, KER), {"dilation_rate": 2, "padding": "same"}),
    "depthwise_conv": ("depthwise_conv", (IMG, KER[:, :, :, :2]), {"padding": "same"}),
    "separable_conv": ("separable_conv", (IMG, KER[:, :, :, :2], KER[:1, :1, :, :].reshape(
        1, 1, 6, 2)), {}),
    "depth_to_space": ("depth_to_space", (np.arange(32, dtype="float32").reshape(1, 2, 2, 8),
                                          2), {}),
    "space_to_depth": ("space_to_depth", (np.arange(32, dtype="float32").reshape(1, 4, 4, 2),
                                          2), {}),
    "dot_product_attention": ("dot_product_attention", (Q, Q[:, ::-1], Q), {}),
    "dot_product_attention-causal": ("dot_product_attention", (Q, Q, Q), {"is_causal": True}),
    "dot_product_attention-mask": ("dot_product_attention", (Q, Q, Q),
                                   {"mask": np.tril(np.ones((5, 5), bool))[None, None],
                                    "scale": 0.3}),
    # Fourier transforms, windows, transposed convolution, adaptive pooling
    "rfft": ("rfft", (SIGNAL, 16), {}),
    "irfft": ("irfft", ((F, P), 6), {}),
    "fft": ("fft", ((F, P),), {}),
    "fft2": ("fft2", ((F, P),), {}),
    "ifft2": ("ifft2", ((F, P),), {}),
    "stft": ("stft", (SIGNAL, 16, 4, 32), {}),
    "stft-hamming-uncentred": ("stft", (SIGNAL, 16, 8, 16), {"window": "hamming",
                                                            "center": False}),
    **{f"istft-{i}": ("istft", (SPECTRUM[key], *key[:3]), {"window": key[3], "center": key[4]})
       for i, key in enumerate(SPECTRUM)},
    **{name: (name, (7,), {}) for name in ["bartlett", "blackman", "hamming", "hanning"]},
    "kaiser": ("kaiser", (7, 2.0), {}),
    "conv_transpose": ("conv_transpose", (IMG[..., :2], KER[..., :2]), {}),
    "conv_transpose-same": ("conv_transpose", (IMG[..., :2], KER[..., :2]),
                            {"strides": 2, "padding": "same"}),
    "conv_transpose-output-padding": ("conv_transpose", (IMG[..., :2], KER[..., :2]),
                                      {"strides": 3, "output_padding": 2}),
    "conv_transpose-dilated": ("conv_transpose", (IMG[..., :2], KER[..., :2]),
                               {"dilation_rate": 2, "padding": "same"}),
    "adaptive_average_pool": ("adaptive_average_pool", (IMG, (2, 4)), {}),
    "adaptive_max_pool": ("adaptive_max_pool", (IMG, 4), {}),
    "unfold": ("unfold", (torch.from_numpy(IMG.transpose(0, 3, 1, 2).copy()), 2), {"stride": 2}),
    # linear algebra
    **{name: (name, (S,), {}) for name in ["cholesky", "det", "inv", "eigh", "qr", "svd",
                                           "pinv", "logdet", "slogdet", "matrix_rank"]},
    "solve": ("solve", (S, F[:2, :3]), {}),
    "solve_triangular": ("solve_triangular", (np.tril(S), F[:2, :3]), {"lower": True}),
    "lstsq": ("lstsq", (F, P[:, :2]), {}),
    "norm": ("norm", (F,), {}),
    "norm-axis": ("norm", (C,), {"axis": -1, "keepdims": True}),
    "norm-ord": ("norm", (F,), {"ord": 1, "axis": 0}),
    "norm-matrix": ("norm", (C,), {"ord": "fro", "axis": (1, 2)}),
    "cdist": ("cdist", (F, P), {}),
}

SKIP_DTYPE = {"top_k"}  # compared by value only: Keras gives int64 indices here, see below

# Where Keras on torch departs from NumPy's (and Keras's documented, and Keras-on-JAX's) result,
# netknit gives NumPy's: torch.cross with dim=None picks the first axis of size 3, not the last;
# "symmetric" padding is torch's "replicate"; an int pad_width pads the last axis only;
# sparsemax's outputs do not sum to one (its threshold sums the cumulative sums over the support
# instead of taking the last one); count_nonzero over an axis comes out transposed.
NUMPY_REFERENCE = {
    "cross": lambda a, b: np.cross(a, b),
    "pad-symmetric": lambda x, w, **k: np.pad(x, w, **k),
    "pad-value": lambda x, w, **k: np.pad(x, w, **k),
    "count_nonzero-1": lambda x, **k: np.count_nonzero(x, **k).astype("int32"),
    "count_nonzero-None": lambda x, **k: np.asarray(np.count_nonzero(x), "int32"),
    "sparsemax": lambda x: _sparsemax(x),
}


def _sparsemax(x):
    """Martins & Astudillo's sparsemax over the last axis, for one row at a time."""
    rows = []
    for z in x.astype("float64"):
        ordered = np.sort(z)[::-1]
        k = np.arange(1, len(z) + 1)
        cumulative = np.cumsum(ordered)
        support = k[1 + k * ordered > cumulative].max()
        rows.append(np.maximum(z - (cumulative[support - 1] - 1) / support, 0))
    return np.array(rows)


def _leaves(value):
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


@pytest.mark.parametrize("case", sorted(CALLS))
def test_same_values_shapes_and_dtypes_as_keras(case):
    name, args, kwargs = CALLS[case]
    if case in NUMPY_REFERENCE:
        got = getattr(netknit.ops, name)(*args, **kwargs)
        np.testing.assert_allclose(got.numpy(), NUMPY_REFERENCE[case](*args, **kwargs),
                                   rtol=1e-5, atol=1e-6)
        return
    try:
        expected = getattr(keras.ops, name)(*args, **kwargs)
    except Exception as error:
        # Keras on torch cannot run it (e.g. `elu` of an int tensor): nothing to compare with.
        pytest.skip(f"Keras raises {type(error).__name__}")
    got = getattr(netknit.ops, name)(*args, **kwargs)
    if name in ("shape", "ndim"):
        assert got == expected
        return
    expected, got = _leaves(expected), _leaves(got)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert isinstance(g, torch.Tensor), type(g)
        e_np, g_np = _numpy(e), _numpy(g)
        assert g_np.shape == e_np.shape
        if name not in SKIP_DTYPE:
            assert str(g.dtype) == str(e.dtype if isinstance(e, torch.Tensor) else e_np.dtype)
        if name in ("eigh", "qr", "svd"):  # signs of vectors are not unique
            e_np, g_np = np.abs(e_np), np.abs(g_np)
        np.testing.assert_allclose(g_np.astype("float64"), e_np.astype("float64"),
                                   rtol=1e-5, atol=1e-5)


SYMBOLIC = {
    "sum": lambda o, x, y: o.sum(x, axis=1),
    "mean-keepdims": lambda o, x, y: o.mean(x, axis=(1, 2), keepdims=True),
    "concatenate": lambda o, x, y: o.concatenate([x, y], axis=-1),
    "reshape": lambda o, x, y: o.reshape(x, (-1, 12)),
    "transpose": lambda o, x, y: o.transpose(x, (0, 2, 1)),
    "expand_dims": lambda o, x, y: o.expand_dims(x, 1),
    "squeeze": lambda o, x, y: o.squeeze(o.expand_dims(x, 1), axis=1),
    "softmax": lambda o, x, y: o.softmax(x, axis=1),
    "cast": lambda o, x, y: o.cast(x, "int32"),
    "where": lambda o, x, y: o.where(o.greater(x, 0), x, y),
    "stack": lambda o, x, y: o.stack([x, y], axis=1),
    "split": lambda o, x, y: o.split(x, 3, axis=-1),
    "einsum": lambda o, x, y: o.einsum("bij,bkj->bik", x, y),
    "matmul": lambda o, x, y: o.matmul(x, o.transpose(y, (0, 2, 1))),
    "clip": lambda o, x, y: o.clip(x, -1.0, 1.0),
    "one_hot": lambda o, x, y: o.one_hot(o.argmax(x, axis=-1), 5),
    "top_k": lambda o, x, y: o.top_k(x, 2)[0],
    "take": lambda o, x, y: o.take(x, [0, 2], axis=1),
    "pad": lambda o, x, y: o.pad(x, ((0, 0), (1, 1), (0, 2))),
    "tile": lambda o, x, y: o.tile(x, (1, 2, 1)),
    "norm": lambda o, x, y: o.norm(x, axis=-1),
    "sqrt-abs": lambda o, x, y: o.sqrt(o.abs(x)),
    "logsumexp": lambda o, x, y: o.logsumexp(x, axis=-1),
    "swapaxes": lambda o, x, y: o.swapaxes(x, 1, 2),
    "repeat": lambda o, x, y: o.repeat(x, 2, axis=1),
    "dot_product_attention": lambda o, x, y: o.dot_product_attention(
        o.expand_dims(x, 2), o.expand_dims(y, 2), o.expand_dims(y, 2)),
}


def _build(lib, make):
    x = lib.Input((4, 3), name="x")
    y = lib.Input((4, 3), name="y")
    outputs = make(lib.ops, x, y)
    # Every case uses `y`, so that both inputs feed the outputs.
    return lib.Model([x, y], [outputs, y * 1.0] if not isinstance(outputs, list)
                     else [*outputs, y * 1.0])


def _strip(config):
    # Keras numbers repeated names across a process (`sum_3`); compare the structure only.
    return json.loads(json.dumps(config))


@pytest.mark.parametrize("case", sorted(SYMBOLIC))
def test_symbolic_models_match_keras_and_load_from_its_config(case):
    make = SYMBOLIC[case]
    theirs, ours = _build(keras, make), _build(netknit, make)
    their_shapes = [tuple(t.shape) for t in _leaves(theirs.outputs)]
    assert [tuple(t.shape) for t in _leaves(ours.outputs)] == their_shapes
    inputs = [rng.standard_normal((2, 4, 3)).astype("float32") for _ in range(2)]
    expected = _leaves(theirs.predict(inputs, verbose=0))
    got = _leaves(ours.predict(inputs, verbose=0))
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
    # Each operation saves Keras's module, class and settings...
    their_ops = [entry for entry in _strip(theirs.get_config())["layers"]
                 if entry["module"].startswith("keras.src.ops")]
    our_ops = [entry for entry in _strip(ours.get_config())["layers"]
               if entry["module"].startswith("keras.src.ops")]
    assert len(our_ops) == len(their_ops)
    for theirs_entry, ours_entry in zip(their_ops, our_ops):
        assert ours_entry["module"] == theirs_entry["module"]
        assert ours_entry["class_name"] == theirs_entry["class_name"]
        their_settings = {k: v for k, v in theirs_entry["config"].items() if k != "name"}
        our_settings = {k: v for k, v in ours_entry["config"].items() if k != "name"}
        assert our_settings == their_settings
    # ...so Keras's config rebuilds here, computing the same.
    rebuilt = netknit.Model.from_config(theirs.get_config())
    for e, g in zip(expected, _leaves(rebuilt.predict(inputs, verbose=0))):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("options", [
    {"strategy": "greedy"}, {"strategy": "greedy", "merge_repeated": False, "mask_index": 4},
    {"strategy": "beam_search", "beam_width": 12, "top_paths": 3},
    {"strategy": "beam_search", "beam_width": 2, "top_paths": 2, "mask_index": 1},
], ids=["greedy", "greedy-unmerged", "beam", "narrow-beam"])
def test_ctc_decode_and_loss_match_keras(options):
    logits = 2 * np.random.default_rng(5).standard_normal((6, 7, 5)).astype("float32")
    lengths = np.array([7, 3, 6, 1, 7, 5], "int32")
    expected = [t.numpy() for t in keras.ops.ctc_decode(logits, lengths, **options)]
    got = [t.numpy() for t in netknit.ops.ctc_decode(logits, lengths, **options)]
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[0].dtype == expected[0].dtype == np.int32
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-5)
    labels = np.array([[1, 2, 0], [2, 2, 0], [3, 1, 4], [1, 0, 0], [4, 4, 4], [2, 3, 0]],
                      "int32")
    label_lengths = np.array([2, 2, 3, 1, 3, 2], "int32")
    np.testing.assert_allclose(
        netknit.ops.ctc_loss(labels, logits, label_lengths, np.maximum(lengths, 6)).numpy(),
        keras.ops.ctc_loss(labels, logits, label_lengths, np.maximum(lengths, 6)).numpy(),
        rtol=1e-5)
