"""Lookup and hashing layers for categorical features: StringLookup, IntegerLookup, Hashing and
HashedCrossing, with the index-lookup logic that TextVectorization shares.

netknit has no string tensors. The layers take Python strings, bytes, (nested) lists and NumPy
arrays of them, and return torch tensors: use them on the data before `fit` (`x = lookup(words)`),
not inside a model. IntegerLookup, Hashing and HashedCrossing also take integer tensors, so they
can sit in a model after `keras.Input(shape, dtype="int64")`.

The results are Keras's (whose layers run on TensorFlow): `adapt` orders the vocabulary by count,
ties broken by the larger token first; out-of-vocabulary tokens spread over several OOV indices,
and hashed values, land in the bins TensorFlow picks, with its FarmHash Fingerprint64, SipHash-2-4
and feature-crossing hashes written out below bit for bit.
"""

from __future__ import annotations

import collections
import itertools
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..graph.symbolic import SymbolicTensor
from .core import check_positive_int
from .layer import Layer

# ---------------------------------------------------------------- TensorFlow's hash functions
# On Python ints kept to 64 bits; checked against tf.strings.to_hash_bucket_fast (FarmHash),
# to_hash_bucket_strong (SipHash) and tf.sparse.cross_hashed for inputs of 0 to 1000 bytes.

_U64 = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def _word(data: bytes, start: int, size: int = 8) -> int:
    return int.from_bytes(data[start:start + size], "little")


def _rotate_right(value: int, shift: int) -> int:
    return ((value >> shift) | (value << (64 - shift))) & _U64


def _shift_mix(value: int) -> int:
    return value ^ (value >> 47)


def _mix_pair(u: int, v: int, mul: int) -> int:
    a = _shift_mix(((u ^ v) * mul) & _U64)
    b = _shift_mix(((v ^ a) * mul) & _U64)
    return (b * mul) & _U64


def _weak_pair(data: bytes, start: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = (_word(data, start + 8 * i) for i in range(4))
    a = (a + w) & _U64
    b = _rotate_right((b + a + z) & _U64, 21)
    c = a
    a = (a + x + y) & _U64
    b = (b + _rotate_right(a, 44)) & _U64
    return (a + z) & _U64, (b + c) & _U64


def fingerprint64(data: bytes) -> int:
    """FarmHash's Fingerprint64 of `data`, TensorFlow's fast string hash."""
    n = len(data)
    mul = (_K2 + 2 * n) & _U64
    if n > 64:
        return _fingerprint_long(data)
    if n > 32:
        a = (_word(data, 0) * _K2) & _U64
        b, c = _word(data, 8), (_word(data, n - 8) * mul) & _U64
        d = (_word(data, n - 16) * _K2) & _U64
        y = (_rotate_right((a + b) & _U64, 43) + _rotate_right(c, 30) + d) & _U64
        z = _mix_pair(y, (a + _rotate_right((b + _K2) & _U64, 18) + c) & _U64, mul)
        e, f = (_word(data, 16) * mul) & _U64, _word(data, 24)
        g = ((y + _word(data, n - 32)) * mul) & _U64
        h = ((z + _word(data, n - 24)) * mul) & _U64
        return _mix_pair((_rotate_right((e + f) & _U64, 43) + _rotate_right(g, 30) + h) & _U64,
                         (e + _rotate_right((f + a) & _U64, 18) + g) & _U64, mul)
    if n > 16:
        a, b = (_word(data, 0) * _K1) & _U64, _word(data, 8)
        c = (_word(data, n - 8) * mul) & _U64
        d = (_word(data, n - 16) * _K2) & _U64
        return _mix_pair((_rotate_right((a + b) & _U64, 43) + _rotate_right(c, 30) + d) & _U64,
                         (a + _rotate_right((b + _K2) & _U64, 18) + c) & _U64, mul)
    if n >= 8:
        a, b = (_word(data, 0) + _K2) & _U64, _word(data, n - 8)
        c = (_rotate_right(b, 37) * mul + a) & _U64
        d = ((_rotate_right(a, 25) + b) * mul) & _U64
        return _mix_pair(c, d, mul)
    if n >= 4:
        return _mix_pair(n + (_word(data, 0, 4) << 3), _word(data, n - 4, 4), mul)
    if n > 0:
        y = data[0] + (data[n >> 1] << 8)
        z = n + (data[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _U64) * _K2) & _U64
    return _K2


def _fingerprint_long(data: bytes) -> int:
    """Fingerprint64 of more than 64 bytes: 64-byte blocks through a 56-byte state."""
    n, seed = len(data), 81
    x = (seed * _K2 + _word(data, 0)) & _U64
    y = (seed * _K1 + 113) & _U64
    z = (_shift_mix((y * _K2 + 113) & _U64) * _K2) & _U64
    v, w = (0, 0), (0, 0)
    end = (n - 1) // 64 * 64
    for start in range(0, end, 64):
        x = (_rotate_right((x + y + v[0] + _word(data, start + 8)) & _U64, 37) * _K1) & _U64
        y = (_rotate_right((y + v[1] + _word(data, start + 48)) & _U64, 42) * _K1) & _U64
        x ^= w[1]
        y = (y + v[0] + _word(data, start + 40)) & _U64
        z = (_rotate_right((z + w[0]) & _U64, 33) * _K1) & _U64
        v = _weak_pair(data, start, (v[1] * _K1) & _U64, (x + w[0]) & _U64)
        w = _weak_pair(data, start + 32, (z + w[1]) & _U64, (y + _word(data, start + 16)) & _U64)
        x, z = z, x
    # The last 64 bytes (overlapping the blocks when n is not a multiple of 64).
    start = n - 64
    mul = (_K1 + ((z & 0xFF) << 1)) & _U64
    w0 = (w[0] + ((n - 1) & 63)) & _U64
    v0 = (v[0] + w0) & _U64
    w = ((w0 + v0) & _U64, w[1])
    v = (v0, v[1])
    x = (_rotate_right((x + y + v[0] + _word(data, start + 8)) & _U64, 37) * mul) & _U64
    y = (_rotate_right((y + v[1] + _word(data, start + 48)) & _U64, 42) * mul) & _U64
    x ^= (w[1] * 9) & _U64
    y = (y + v[0] * 9 + _word(data, start + 40)) & _U64
    z = (_rotate_right((z + w[0]) & _U64, 33) * mul) & _U64
    v = _weak_pair(data, start, (v[1] * mul) & _U64, (x + w[0]) & _U64)
    w = _weak_pair(data, start + 32, (z + w[1]) & _U64, (y + _word(data, start + 16)) & _U64)
    x, z = z, x
    return _mix_pair((_mix_pair(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _U64,
                     (_mix_pair(v[1], w[1], mul) + x) & _U64, mul)


def _rotate_left(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _U64


def _sip_rounds(state: list, count: int) -> None:
    v0, v1, v2, v3 = state
    for _ in range(count):
        v0 = (v0 + v1) & _U64
        v1 = _rotate_left(v1, 13) ^ v0
        v0 = _rotate_left(v0, 32)
        v2 = (v2 + v3) & _U64
        v3 = _rotate_left(v3, 16) ^ v2
        v0 = (v0 + v3) & _U64
        v3 = _rotate_left(v3, 21) ^ v0
        v2 = (v2 + v1) & _U64
        v1 = _rotate_left(v1, 17) ^ v2
        v2 = _rotate_left(v2, 32)
    state[:] = v0, v1, v2, v3


def siphash64(key: tuple[int, int], data: bytes) -> int:
    """SipHash-2-4 of `data` under the 128-bit `key` (two 64-bit halves), TensorFlow's keyed
    ("strong") string hash."""
    k0, k1 = (k & _U64 for k in key)
    state = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
             k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    n = len(data)
    words = [_word(data, i) for i in range(0, n - n % 8, 8)]
    words.append(_word(data, n - n % 8, n % 8) | ((n & 0xFF) << 56))
    for word in words:
        state[3] ^= word
        _sip_rounds(state, 2)
        state[0] ^= word
    state[2] ^= 0xFF
    _sip_rounds(state, 4)
    return state[0] ^ state[1] ^ state[2] ^ state[3]


_CROSS_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default hash key
_CROSS_MUL = 0xC6A4A7935BD1E995


def fingerprint_cat64(first: int, second: int) -> int:
    """TensorFlow's FingerprintCat64: a fingerprint of two fingerprints, for crossed features."""
    result = first ^ _CROSS_MUL
    result ^= (_shift_mix((second * _CROSS_MUL) & _U64) * _CROSS_MUL) & _U64
    result = (result * _CROSS_MUL) & _U64
    return _shift_mix((_shift_mix(result) * _CROSS_MUL) & _U64)


def _bucket_hasher(salt):
    """The 64-bit hash of a `bytes` value TensorFlow uses: SipHash with a salt, else FarmHash."""
    if salt is None:
        return fingerprint64
    return lambda data: siphash64(salt, data)


def _check_salt(salt, owner: str):
    """A salt as Keras keeps it: None, or two integers (one integer is used for both)."""
    if salt is None:
        return None
    if isinstance(salt, int) and not isinstance(salt, bool):
        return [salt, salt]
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(s, int) and not isinstance(s, bool) for s in salt):
        return list(salt)
    raise ValueError(f"The `salt` argument for `{owner}` can only be a tuple of 2 integers, or a "
                     f"single integer. Received: salt={salt!r}")


# ---------------------------------------------------------------- raw values

_NO_STRING_TENSORS = (
    "{layer} works on Python strings (str, bytes, lists or NumPy arrays of them), outside a "
    "model: netknit has no string tensors, so a model cannot take or return text. Convert the "
    "text first and give the model the numbers: `x = layer(texts)`, then `model.fit(x, y)` with "
    "an input such as `keras.Input(shape, dtype=\"int64\")`."
)


def string_array(values, encoding: str, owner: str) -> np.ndarray:
    """`values` (a string, bytes, nested lists or a NumPy array of them) as a NumPy object array
    of `str`, bytes decoded with `encoding`."""
    if isinstance(values, torch.Tensor):
        raise TypeError(f"{owner} takes strings; received a tensor of dtype {values.dtype}. "
                        "Pass Python strings, or a list or NumPy array of them.")
    array = np.asarray(values, dtype=object)
    flat = array.ravel().tolist()
    if not all(isinstance(v, str) for v in flat):
        for index, value in enumerate(flat):
            if isinstance(value, (bytes, np.bytes_)):
                flat[index] = bytes(value).decode(encoding)
            elif not isinstance(value, str):
                raise TypeError(
                    f"{owner} takes strings (str or bytes); received a {type(value).__name__} "
                    f"({value!r}). Nested lists must be rectangular, or pass a NumPy array."
                )
        array = np.empty(array.shape, dtype=object)
        array.ravel()[:] = flat
    return array


def integer_tensor(values, owner: str) -> torch.Tensor:
    """`values` (a tensor, a NumPy array, a list or a number of integers) as an int64 tensor."""
    if not isinstance(values, torch.Tensor):
        array = np.asarray(values)
        if array.dtype.kind not in "iu":
            raise TypeError(f"{owner} takes integers; received data of dtype {array.dtype}.")
        values = torch.as_tensor(array.astype(np.int64))
    elif values.is_floating_point() or values.is_complex() or values.dtype == torch.bool:
        raise TypeError(f"{owner} takes integers; received a tensor of dtype {values.dtype}.")
    return values.long()


def adapt_batches(data, to_array, batch_size=None, steps=None):
    """The batches `adapt` reads, as Keras reads them: an array (a list, tuple, NumPy array or
    tensor, made one by `to_array`) is one batch, or batches of `batch_size` rows, its values
    each a document of one token when it is 1-D; any other iterable (a PyDataset, a DataLoader,
    a generator) yields batches, `steps` of them at most, the inputs of `(x, y)` tuples."""
    if isinstance(data, (str, bytes, list, tuple, np.ndarray, torch.Tensor)):
        array = to_array(data)
        if array.ndim == 1:
            array = array[:, None]
        if batch_size is None or array.ndim == 0:
            yield array
            return
        for start in range(0, len(array), check_positive_int("batch_size", batch_size)):
            yield array[start:start + batch_size]
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"adapt takes a list, a NumPy array, a tensor or an iterable of batches "
                        f"(a PyDataset, a DataLoader); received a {type(data).__name__}.")
    for index, batch in enumerate(data):
        if steps is not None and index >= steps:
            return
        yield batch[0] if isinstance(batch, tuple) else batch


def document_rows(array) -> list:
    """The documents of a batch of tokens as lists: a scalar or a 1-D batch is one document,
    otherwise each entry along the first axis is one."""
    if array.ndim < 2:
        return [array.reshape(-1).tolist()]
    return array.reshape(array.shape[0], -1).tolist()


class RawValuesLayer(Layer):
    """A layer called on raw Python and NumPy values (strings among them) as well as tensors.

    Layer.__call__ turns values into tensors, which strings cannot be: values go to `forward`
    as they are, which converts them itself. Tensors take Layer's path; symbolic tensors too,
    unless the layer reads or writes strings (`_takes_text`), which a model cannot carry.
    """

    _follows_dtype_policy = False  # integer and string inputs; outputs in Keras's dtypes
    _takes_text = False
    _allow_non_tensor_positional_args = True  # as Keras's lookup, hashing and text layers

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, torch.Tensor):
            return super().__call__(inputs, *args, **kwargs)
        if isinstance(inputs, SymbolicTensor) or (isinstance(inputs, (list, tuple)) and any(
                isinstance(t, SymbolicTensor) for t in inputs)):
            if self._takes_text:
                raise TypeError(_NO_STRING_TENSORS.format(layer=type(self).__name__))
            return super().__call__(inputs, *args, **kwargs)
        return nn.Module.__call__(self, inputs)


# ---------------------------------------------------------------- encodings


def encode_indices(indices: torch.Tensor, output_mode: str, depth: int,
                   idf_weights: torch.Tensor | None = None,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Category indices as `"one_hot"`, `"multi_hot"`, `"count"` or `"tf_idf"` vectors of length
    `depth`, as Keras encodes them; indices outside `[0, depth)` (dropped mask tokens, padding)
    count for nothing.

    `"one_hot"` encodes each index (a last axis of size 1 is replaced); the others take the
    last axis as the sample's tokens, so `(batch, k)` gives `(batch, depth)` and a 1-D input is
    one sample. A scalar is a sample of one.
    """
    if indices.dim() == 0:
        indices = indices.reshape(1)
    valid = (indices >= 0) & (indices < depth)
    indices = torch.where(valid, indices, depth)  # the extra column, cut off below
    if output_mode == "one_hot":
        if indices.dim() > 1 and indices.shape[-1] == 1:
            indices = indices.squeeze(-1)
        return F.one_hot(indices, depth + 1)[..., :depth].to(dtype)
    batch_shape = indices.shape[:-1]
    rows = indices.reshape(math.prod(batch_shape), indices.shape[-1])
    counts = torch.zeros(rows.shape[0], depth + 1, dtype=dtype, device=indices.device)
    counts.scatter_add_(1, rows, torch.ones(rows.shape, dtype=dtype, device=indices.device))
    counts = counts[:, :depth].reshape(*batch_shape, depth)
    if output_mode == "multi_hot":
        return (counts > 0).to(dtype)
    if output_mode == "tf_idf":
        return counts * idf_weights.to(device=counts.device, dtype=dtype)
    return counts


def encoded_shape(input_shape, output_mode: str, depth) -> tuple:
    """The output shape of `encode_indices` for inputs of `input_shape`."""
    input_shape = tuple(input_shape)
    if output_mode == "one_hot" and len(input_shape) > 1 and input_shape[-1] == 1:
        return input_shape[:-1] + (depth,)
    if output_mode == "one_hot":
        return input_shape + (depth,)
    return input_shape[:-1] + (depth,)


# ---------------------------------------------------------------- index lookup

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_OLD_OUTPUT_MODES = {"binary": "multi_hot", "tf-idf": "tf_idf"}
# The index of a mask token in the encoded modes: none, so it counts for nothing (Keras's value).
DROPPED = np.iinfo(np.int64).max
_MISSING = -1  # a token the vocabulary does not have, before the OOV rule places it


class IndexLookup(RawValuesLayer):
    """What StringLookup and IntegerLookup share: the vocabulary and its special tokens, `adapt`,
    the out-of-vocabulary rule, the output encodings, and the config.

    Index 0 is the mask token (when there is one and `output_mode="int"`), then come the
    `num_oov_indices` OOV indices, then the vocabulary's tokens. A subclass turns its inputs
    into tokens (`_token_array`) and looks tokens up (`_lookup`, `_invert`).

    The vocabulary goes into `get_config()` (special tokens included) once the layer has one, so
    a saved layer keeps it without the separate asset file Keras writes; Keras reads such a
    config too. `save_assets`/`load_assets` and `save_own_variables`/`load_own_variables` write
    and read Keras's `vocabulary.txt` and `idf_weights`, for files that keep them apart.
    """

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None,
                 vocabulary_size=None, has_input_vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(
                max_tokens, bool) or max_tokens <= 1):
            raise ValueError(f"If set, `max_tokens` must be an integer greater than 1. "
                             f"Received: max_tokens={max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. Received: "
                             "max_tokens=None")
        if not isinstance(num_oov_indices, int) or isinstance(num_oov_indices, bool) or (
                num_oov_indices < 0):
            raise ValueError(f"`num_oov_indices` must be an integer greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices!r}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"Expected oov_method to be 'floormod' or 'farmhash'. Received: "
                             f"oov_method={oov_method!r}")
        output_mode = _OLD_OUTPUT_MODES.get(output_mode, output_mode)
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"Expected output_mode to be one of {', '.join(_OUTPUT_MODES)}. "
                             f"Received: output_mode={output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be 'int' when `invert` is true. Received: "
                             f"output_mode={output_mode!r}")
        if sparse:
            raise ValueError(f"{type(self).__name__}(sparse=True) is not supported: netknit "
                             "encodes densely. Pass sparse=False.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"`idf_weights` should only be set if `output_mode` is 'tf_idf'. "
                             f"Received: output_mode={output_mode!r}")
        if has_input_vocabulary is None:
            has_input_vocabulary = vocabulary is not None
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, "
                             "the `idf_weights` argument must also be provided.")
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.oov_method = oov_method
        self.salt = _check_salt(salt, type(self).__name__)
        self._has_input_vocabulary = bool(has_input_vocabulary)
        self._frozen_vocab_size = vocabulary_size
        self._tokens: list = []
        self._build_table([])
        if output_mode == "tf_idf":  # moved with the layer, not a weight (as in Keras)
            self.register_buffer("idf_weights", None, persistent=False)
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        # A vocabulary given as a list goes into the config as it was given, as in Keras (as
        # long as it stays the layer's vocabulary).
        self.input_vocabulary = None if vocabulary is None or isinstance(
            vocabulary, (str, os.PathLike)) else _plain_list(vocabulary)
        self.input_idf_weights = None if idf_weights is None else _plain_list(idf_weights)
        self.built = True

    # ------------------------------------------------------------ indices of the special tokens

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    # ------------------------------------------------------------ the vocabulary

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary by index: with `include_special_tokens`, the mask and OOV tokens
        first, so that a token's position is its index; otherwise the learned tokens alone."""
        if not include_special_tokens:
            return list(self._tokens)
        special = [self.mask_token] * self._oov_start_index()
        return special + [self.oov_token] * self.num_oov_indices + list(self._tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and, with `output_mode="tf_idf"`, its IDF weights), replacing any.

        Args:
            vocabulary: the tokens, a list, tuple, 1-D NumPy array or tensor; it may start with
                the special tokens, exactly as `get_vocabulary()` lists them. Or the path of a
                text file of one token per line (all of them vocabulary tokens).
            idf_weights: with `output_mode="tf_idf"` (and then required), one weight per entry
                of `vocabulary`; the OOV indices get their mean when `vocabulary` lacks them.
        """
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"`idf_weights` should only be set if output_mode is 'tf_idf'. "
                             f"Received: output_mode={self.output_mode!r}")
        token_start = self._token_start_index()
        special = self.get_vocabulary()[:token_start]
        if isinstance(vocabulary, (str, os.PathLike)):
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode 'tf_idf' does not support loading a vocabulary "
                                 "from file.")
            tokens, found_special = self._read_vocabulary_file(os.fspath(vocabulary)), False
        else:
            vocabulary = self._vocabulary_tokens(vocabulary)
            if not vocabulary:
                raise ValueError(f"Cannot set an empty vocabulary. Received: "
                                 f"vocabulary={vocabulary!r}")
            found_special = vocabulary[:token_start] == special
            tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(f"The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are: {repeated}")
        for token, what, reserved in ((self.mask_token, "mask_token", True),
                                      (self.oov_token, "oov_token", self.invert)):
            if token is not None and reserved and token in tokens:
                raise ValueError(
                    f"Found reserved {what} {token!r} in `vocabulary` at index "
                    f"{tokens.index(token) + (token_start if found_special else 0)}. The "
                    "vocabulary need not include the mask and OOV tokens: remove them all, or "
                    f"include them only at its start in precisely this order: {special}."
                )
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Received vocabulary size is {token_start + len(tokens)}; "
                             f"`max_tokens` is {self.max_tokens}.")
        if idf_weights is not None:
            weights = np.asarray(_plain_list(idf_weights), dtype=np.float64)
            if weights.ndim != 1 or len(weights) != len(vocabulary):
                raise ValueError(f"`idf_weights` must be a 1-D list as long as the vocabulary. "
                                 f"Received {weights.size} weights for {len(vocabulary)} tokens.")
            if not found_special:  # the OOV indices have no document counts: the mean stands in
                weights = np.concatenate([np.full(token_start, weights.mean()), weights])
            self._set_idf_weights(weights)
        self._set_tokens(tokens)

    def _read_vocabulary_file(self, path: str) -> list:
        """The tokens of a vocabulary file, one per line, as TensorFlow's text-file tables read
        them: a final newline ends the last line, `\\r\\n` ends a line too, and empty lines are
        refused."""
        if not os.path.exists(path):
            raise ValueError(f"Vocabulary file {path} does not exist.")
        with open(path, encoding="utf-8", newline="") as file:
            lines = file.read().split("\n")
        if lines[-1] == "":
            lines.pop()
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        if "" in lines:
            raise ValueError(f"Invalid content in {path}: empty line found at position "
                             f"{lines.index('') + 1}.")
        return self._tokens_of_lines(lines)

    def _set_idf_weights(self, weights: np.ndarray) -> None:
        """Keep float32 IDF weights, padded with zeros to `max_tokens` with pad_to_max_tokens."""
        if self.pad_to_max_tokens:
            weights = np.pad(weights, (0, max(self.max_tokens - len(weights), 0)))
        device = self.idf_weights.device if self.idf_weights is not None else None
        self.idf_weights = torch.tensor(weights, dtype=torch.float32, device=device)

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        self.input_vocabulary = self.input_idf_weights = None
        self._build_table(self._tokens)
        self._record_vocabulary_size()

    def check_vocabulary_restored(self) -> None:
        """Refuse to run with a vocabulary that a config promised and nothing restored."""
        if self._frozen_vocab_size not in (None, self.vocabulary_size()):
            raise RuntimeError(
                f"{type(self).__name__} '{self.name}' was restored without its vocabulary: its "
                f"config says {self._frozen_vocab_size} entries, it has {self.vocabulary_size()}. "
                "Keras keeps a learned vocabulary apart, in the .keras file's "
                "assets/<layer path>/vocabulary.txt: give that directory to "
                "`layer.load_assets(directory)`, or call `layer.set_vocabulary(...)`."
            )

    def _record_vocabulary_size(self) -> None:
        """Fix the encodings' width at the vocabulary's size; it may not change afterwards."""
        size = self.vocabulary_size()
        if self.output_mode != "int" and not self.pad_to_max_tokens and (
                self._frozen_vocab_size not in (None, size)):
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the "
                "vocabulary size cannot be changed after it is set. Old vocab size is "
                f"{self._frozen_vocab_size}, new vocab size is {size}"
            )
        self._frozen_vocab_size = size

    # ------------------------------------------------------------ adapt

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary from `data`: the tokens by how often they occur, ties broken by
        the larger token first (as Keras), at most `max_tokens` of them with the special ones;
        with `output_mode="tf_idf"` also their IDF weights, `log(1 + documents / (1 +
        documents with the token))`.

        Args:
            data: a list or NumPy array of tokens (or a tensor, for IntegerLookup), each entry
                along the first axis a document; or an iterable of such batches (a PyDataset, a
                DataLoader, a generator), whose `(x, y)` tuples give their `x`. A 1-D batch from
                an iterable is one document.
            batch_size: read an array in batches of this many rows (the result is the same).
            steps: read at most this many batches of an iterable.
        """
        self.reset_state()
        for batch in adapt_batches(data, self._token_array, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()

    def reset_state(self) -> None:
        """Forget the counts of an adapt in progress."""
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def update_state(self, data) -> None:
        """Count the tokens of one batch of `data` (see `adapt`)."""
        self.count_documents(document_rows(self._token_array(data)))

    def count_documents(self, rows: list) -> None:
        """Count the tokens of documents given as lists of tokens."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary "
                             "via the `vocabulary` argument. Create it without one to adapt it.")
        self._token_counts.update(itertools.chain.from_iterable(rows))
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update(set(row))
            self._num_documents += len(rows)

    def finalize_state(self) -> None:
        """Make the vocabulary (and IDF weights) from the counts, then forget the counts."""
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        for special in (self.mask_token, self.oov_token):
            self._token_counts.pop(special, None)
        # By count, then by token, both descending: Keras's np.lexsort(...)[::-1].
        ranked = sorted(self._token_counts.items(), key=lambda item: (item[1], item[0]),
                        reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:max(self.max_tokens - self._token_start_index(), 0)]
        tokens = [token for token, _ in ranked]
        if self.output_mode == "tf_idf":
            counts = np.array([self._document_counts[t] for t in tokens], dtype=np.float64)
            weights = np.log(1 + self._num_documents / (1 + counts)).astype(np.float32)
            mean = weights.mean() if weights.size else np.float32(0)
            self._set_idf_weights(np.concatenate(
                [np.full(self._token_start_index(), mean, np.float32), weights]))
        self._set_tokens(tokens)
        self.reset_state()

    # ------------------------------------------------------------ calling

    def forward(self, inputs):
        self.check_vocabulary_restored()
        if self.invert:
            return self._invert(inputs)
        indices = self._lookup(self._token_array(inputs))
        if self.output_mode == "int":
            return indices
        return self.encode(indices)

    def encode(self, indices: torch.Tensor) -> torch.Tensor:
        """Vocabulary indices in the layer's `output_mode` (other than "int")."""
        if self._frozen_vocab_size is None and not self.pad_to_max_tokens:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you "
                "must set the layer's vocabulary before calling it. Either pass a `vocabulary` "
                "argument to the layer, or call `adapt` with some sample data."
            )
        idf_weights = getattr(self, "idf_weights", None)
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("When `output_mode` is 'tf_idf', `idf_weights` must be provided: "
                             "call `adapt` on some data, or `set_vocabulary` with them.")
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encode_indices(indices, self.output_mode, depth, idf_weights)

    def _place_oov(self, indices, tokens, missing, hash_token) -> None:
        """Give tokens that the vocabulary lacks (`missing`, in place in `indices`) their OOV
        index: the only one, or one of several by `hash_token`'s bucket (as Keras)."""
        if not missing.any():
            return
        unknown = np.asarray(tokens)[missing].tolist()
        if self.num_oov_indices == 0:
            raise ValueError(
                "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                f"{list(dict.fromkeys(unknown))[:10]}, consider setting `num_oov_indices=1`."
            )
        start = self._oov_start_index()
        if self.num_oov_indices == 1:
            indices[missing] = start
            return
        buckets = {t: start + hash_token(t) % self.num_oov_indices for t in set(unknown)}
        indices[missing] = [buckets[t] for t in unknown]

    def _mask_index(self) -> int:
        return 0 if self.output_mode == "int" else DROPPED

    # ------------------------------------------------------------ shapes

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encoded_shape(input_shape, self.output_mode, depth)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        # Keras's declared dtypes; its torch backend returns int64 counts eagerly, netknit
        # float32 ones, so that they feed Dense layers.
        return torch.int64 if self.output_mode == "int" else torch.float32

    # ------------------------------------------------------------ config and saving

    def get_config(self):
        config = {
            **super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "idf_weights": self.input_idf_weights, "vocabulary": self.input_vocabulary,
            "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method,
            "salt": self.salt,
        }
        config.update(self.vocabulary_config())
        return config

    def vocabulary_config(self) -> dict:
        """The config's entries for a vocabulary that was not given as a list (learned by
        adapt, read from a file, set later): Keras keeps it in an asset file instead. And
        `has_input_vocabulary` (which Keras's constructors accept) where the vocabulary's
        presence would say otherwise, so that an adapted layer can adapt again once loaded."""
        config = {}
        if self.input_vocabulary is None and self._tokens:
            config["vocabulary"] = self.get_vocabulary()
            if self.output_mode == "tf_idf":
                config["idf_weights"] = self.idf_weights[:self.vocabulary_size()].tolist()
        if self._has_input_vocabulary != bool(self.input_vocabulary is not None or self._tokens):
            config["has_input_vocabulary"] = self._has_input_vocabulary
        return config

    def save_own_variables(self, store) -> None:
        """Keras's saved variables: `idf_weights` in "tf_idf" mode (`store` is a dict-like)."""
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = self.idf_weights.cpu().numpy()

    def load_own_variables(self, store) -> None:
        if self.output_mode == "tf_idf":
            self._set_idf_weights(np.asarray(store["idf_weights"], dtype=np.float64))

    def save_assets(self, dir_path: str) -> None:
        """Write Keras's `vocabulary.txt` to `dir_path`, unless the config holds the
        vocabulary as given."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as file:
            file.write("\n".join(str(token) for token in self.get_vocabulary()))

    def load_assets(self, dir_path: str) -> None:
        """Read the `vocabulary.txt` that Keras (or `save_assets`) wrote in `dir_path`."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), encoding="utf-8") as file:
            lines = file.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        idf_weights = None
        if self.output_mode == "tf_idf":
            idf_weights = self.idf_weights[:len(lines)].tolist()
        self.set_vocabulary(self._tokens_of_lines(lines), idf_weights=idf_weights)


def _plain_list(values) -> list:
    """A vocabulary or weights given as a list, tuple, NumPy array or tensor, as a plain list."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)


class StringLookup(IndexLookup):
    """Maps strings to integer indices from a vocabulary (or back, with `invert=True`).

    The vocabulary is given, or learned from data with `adapt(data)`: the most frequent tokens
    first, ties broken by the larger token first, as in Keras. Index 0 is the mask token when
    there is one (with `output_mode="int"`), then come the OOV indices, then the vocabulary.

    netknit has no string tensors: call the layer on Python strings, lists or NumPy arrays of
    them, outside a model (`x = lookup(words)`, then `model.fit(x, y)`).

    Args:
        max_tokens: the largest vocabulary `adapt` makes, special tokens included (None: no
            limit).
        num_oov_indices: indices for tokens not in the vocabulary (1 by default). With several,
            a token's is picked by its FarmHash (SipHash with `salt`), as in TensorFlow; with 0,
            an unknown token is an error.
        mask_token: a token meaning "no token": index 0 in "int" mode, ignored in the others.
            None (default): none.
        oov_token: the token `get_vocabulary()` and `invert=True` give for OOV indices.
        vocabulary: the tokens, a list or array (it may start with the special tokens, as
            `get_vocabulary()` lists them), or a text file of one token per line.
        idf_weights: with `output_mode="tf_idf"` and a `vocabulary`, one weight per token.
        invert: map indices back to tokens; the result is nested lists of `str`.
        output_mode: `"int"` (the indices, int64), or float32 vectors over the vocabulary:
            `"one_hot"` (each token), `"multi_hot"` (the tokens present in each sample, the
            last axis), `"count"` (how often), `"tf_idf"` (counts times IDF weights).
        pad_to_max_tokens: make the vectors `max_tokens` long whatever the vocabulary's size.
        sparse: must be False (dense outputs only).
        encoding: the text encoding of `bytes` inputs.
        salt: an integer or two: hash OOV tokens with SipHash under this key.
        oov_method: accepted for Keras's configs; strings are always hashed.

    Input: a string, or a list or NumPy array of strings (or bytes), of any shape; with
    `invert=True`, integer indices. Output: the indices, of the input's shape; for the vector
    modes, `(..., vocabulary size)` (see CategoryEncoding).

    >>> lookup = StringLookup(vocabulary=["a", "b", "c"])
    >>> lookup([["a", "c"], ["d", "b"]])
    tensor([[1, 3],
            [0, 2]])
    >>> StringLookup(vocabulary=["a", "b", "c"], invert=True)([[1, 3], [0, 2]])
    [['a', 'c'], ['[UNK]', 'b']]
    """

    _takes_text = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        for token, what in ((mask_token, "mask_token"), (oov_token, "oov_token")):
            if token is not None and not isinstance(token, str):
                raise ValueError(f"Expected a string or None for {what}. Received: "
                                 f"{what}={token!r}")
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token,
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, salt=salt, name=name, **kwargs)

    def _token_array(self, data) -> np.ndarray:
        return string_array(data, self.encoding, type(self).__name__)

    def _vocabulary_tokens(self, vocabulary) -> list:
        return string_array(_plain_list(vocabulary), self.encoding, type(self).__name__).tolist()

    def _tokens_of_lines(self, lines: list) -> list:
        return lines

    def _build_table(self, tokens: list) -> None:
        start = self._token_start_index()
        self._index = {token: start + i for i, token in enumerate(tokens)}

    def _lookup(self, tokens: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.token_indices(tokens))

    def token_indices(self, tokens: np.ndarray) -> np.ndarray:
        """The int64 indices of an object array of `str` tokens, mask and OOV rules applied."""
        index = self._index
        flat = tokens.ravel().tolist()
        indices = np.fromiter((index.get(t, _MISSING) for t in flat), dtype=np.int64,
                              count=len(flat)).reshape(tokens.shape)
        if self.mask_token is not None:
            indices[tokens == self.mask_token] = self._mask_index()
        hasher = _bucket_hasher(self.salt)
        self._place_oov(indices, tokens, indices == _MISSING,
                        lambda token: hasher(token.encode("utf-8")))
        return indices

    def _invert(self, inputs) -> list:
        indices = integer_tensor(inputs, type(self).__name__).cpu().numpy()
        vocabulary, start = self.get_vocabulary(), self._token_start_index()
        tokens = np.array([vocabulary[i] if start <= i < len(vocabulary) else self.oov_token
                           for i in indices.ravel().tolist()], dtype=object)
        tokens = tokens.reshape(indices.shape)
        if self.mask_token is not None:
            tokens[indices == 0] = self.mask_token
        return tokens.tolist()

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integers to indices from a vocabulary of integers (or back, with `invert=True`).

    As StringLookup, for integer features (ids, codes) given as tensors, NumPy arrays or lists.
    It computes on tensors, on their device, so it can also sit in a model:
    `keras.Input((3,), dtype="int64")` → IntegerLookup → Embedding.

    Args:
        max_tokens, num_oov_indices, vocabulary, idf_weights, invert, output_mode,
        pad_to_max_tokens, sparse: as in StringLookup.
        mask_token: an integer meaning "no value" (index 0 in "int" mode), or None (default).
        oov_token: the value `invert=True` gives for OOV indices (-1).
        vocabulary_dtype: "int64", the only one.
        oov_method: how several OOV indices share unknown values: `"floormod"` (default:
            `value % num_oov_indices`) or `"farmhash"` (the FarmHash of the value's decimal
            string, SipHash with `salt`).
        salt: with `oov_method="farmhash"`, an integer or two: the SipHash key.

    Input: integers of any shape (indices with `invert=True`). Output: int64 indices of the
    same shape, or the values with `invert=True`; float32 vectors in the other modes.

    >>> lookup = IntegerLookup()
    >>> lookup.adapt(np.array([12, 36, 36, 1138]))
    >>> lookup.get_vocabulary()
    [-1, 36, 1138, 12]
    >>> lookup(torch.tensor([[12, 1138], [36, 7]]))
    tensor([[3, 2],
            [1, 0]])
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, oov_method="floormod",
                 salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype!r}")
        for token, what in ((mask_token, "mask_token"), (oov_token, "oov_token")):
            if token is not None and (isinstance(token, bool) or not isinstance(
                    token, (int, np.integer))):
                raise ValueError(f"Expected an integer or None for {what}. Received: "
                                 f"{what}={token!r}")
        if salt is not None and oov_method != "farmhash":
            raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. Received: "
                             f"oov_method={oov_method!r}")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices,
                         None if mask_token is None else int(mask_token),
                         None if oov_token is None else int(oov_token), vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         oov_method=oov_method, salt=salt, name=name, **kwargs)

    def _token_array(self, data) -> torch.Tensor:
        return integer_tensor(data, type(self).__name__)

    def _vocabulary_tokens(self, vocabulary) -> list:
        return integer_tensor(_plain_list(vocabulary), type(self).__name__).tolist()

    def _tokens_of_lines(self, lines: list) -> list:
        try:
            return [int(line) for line in lines]
        except ValueError:
            raise ValueError(f"An IntegerLookup vocabulary file holds one integer per line. "
                             f"Received lines such as {lines[:3]}.") from None

    def _build_table(self, tokens: list) -> None:
        # The tokens, a sorted copy and each one's position in the vocabulary: a lookup is a
        # binary search on the inputs' device. Buffers, so that they move with the layer.
        device = self._values.device if "_values" in self._buffers else None
        values = torch.tensor(tokens, dtype=torch.int64, device=device)
        keys, order = torch.sort(values)
        for name, tensor in (("_values", values), ("_keys", keys), ("_order", order)):
            self.register_buffer(name, tensor, persistent=False)

    def _lookup(self, values: torch.Tensor) -> torch.Tensor:
        keys = self._keys.to(values.device)
        indices = torch.full_like(values, _MISSING)
        if len(keys):
            position = torch.searchsorted(keys, values.contiguous()).clamp(max=len(keys) - 1)
            found = keys[position] == values
            indices = torch.where(
                found, self._order.to(values.device)[position] + self._token_start_index(),
                indices)
        if self.mask_token is not None:
            indices = torch.where(values == self.mask_token, self._mask_index(), indices)
        missing = indices == _MISSING
        if self.num_oov_indices > 1 and self.oov_method == "floormod":
            buckets = torch.remainder(values, self.num_oov_indices) + self._oov_start_index()
            return torch.where(missing, buckets, indices)
        if self.num_oov_indices == 1:
            return torch.where(missing, self._oov_start_index(), indices)
        # No OOV index (an error) or hashed ones: on the host, for the unknown values alone.
        host = indices.cpu().numpy().copy()
        hasher = _bucket_hasher(self.salt)
        self._place_oov(host, values.cpu().numpy(), missing.cpu().numpy(),
                        lambda value: hasher(str(value).encode()))
        return torch.from_numpy(host).to(values.device)

    def _invert(self, inputs) -> torch.Tensor:
        indices = integer_tensor(inputs, type(self).__name__)
        position = indices - self._token_start_index()
        known = (position >= 0) & (position < len(self._tokens))
        values = torch.full_like(indices, self.oov_token if self.oov_token is not None else -1)
        if self._tokens:
            tokens = self._values.to(indices.device)
            values = torch.where(known, tokens[position.clamp(0, len(self._tokens) - 1)], values)
        if self.mask_token is not None:
            values = torch.where(indices == 0, self.mask_token, values)
        return values

    def get_config(self):
        # Keras lists it after pad_to_max_tokens (StringLookup's config leaves it out).
        items = list(super().get_config().items())
        at = [key for key, _ in items].index("pad_to_max_tokens") + 1
        return dict(items[:at] + [("vocabulary_dtype", self.vocabulary_dtype)] + items[at:])


# ---------------------------------------------------------------- hashing

_HASHING_MODES = ("int", "one_hot", "multi_hot", "count")


def hash_keys(values) -> tuple[list, np.ndarray | torch.Tensor, tuple]:
    """The distinct values of `values` as the bytes TensorFlow hashes, each value's position
    among them, and the shape: strings as UTF-8, integers (and floats, truncated) as decimal
    strings, booleans as "true"/"false"."""
    if isinstance(values, torch.Tensor):
        if values.is_floating_point():
            values = values.to(torch.int64)
        distinct, inverse = torch.unique(values, return_inverse=True)
        words = ([str(v).lower() for v in distinct.tolist()] if values.dtype == torch.bool
                 else [str(v) for v in distinct.tolist()])
        return [w.encode() for w in words], inverse, tuple(values.shape)
    codes: dict = {}
    inverse = np.fromiter((codes.setdefault(v, len(codes)) for v in values.ravel().tolist()),
                          dtype=np.int64, count=values.size).reshape(values.shape)
    return [v.encode("utf-8") for v in codes], inverse, values.shape


def _values_of(inputs, owner: str):
    """A tensor of numbers, or an object array of strings, from a layer's raw input."""
    if isinstance(inputs, torch.Tensor):
        return inputs
    array = np.asarray(inputs)
    if array.dtype.kind in "biuf":
        return torch.as_tensor(array)
    return string_array(inputs, "utf-8", owner)


class Hashing(RawValuesLayer):
    """Hashes values into `num_bins` bins, as Keras does with TensorFlow's string hashes.

    A value's bin is the FarmHash Fingerprint64 of its string form (integers as decimal
    strings, floats first truncated to integers) modulo `num_bins`; with `salt`, SipHash-2-4
    under that key. With `mask_value`, bin 0 is the mask value's and the others share the
    remaining `num_bins - 1` bins.

    Args:
        num_bins: the number of bins (a positive integer).
        mask_value: a value that goes to bin 0, or None (default).
        salt: an integer or two: use SipHash with this key (None: FarmHash).
        output_mode: `"int"` (the bin indices), `"one_hot"`, `"multi_hot"` or `"count"`
            (float32 vectors of length `num_bins`, as in CategoryEncoding).
        sparse: must be False (dense outputs only).
        dtype: the output dtype: "int64" (default) or "int32" in "int" mode; "float32"
            otherwise.

    Input: strings (a list or NumPy array), or integers, floats or booleans (tensors, arrays).
    Output: the bins, of the input's shape; `(..., num_bins)` vectors in the other modes.

    >>> Hashing(num_bins=3)(["A", "B", "C", "D"])
    tensor([1, 0, 1, 1])
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        self.num_bins = check_positive_int("num_bins", num_bins)
        if output_mode not in _HASHING_MODES:
            raise ValueError(f"Expected output_mode to be one of {', '.join(_HASHING_MODES)}. "
                             f"Received: output_mode={output_mode!r}")
        if output_mode == "int" and self._variable_dtype not in (torch.int32, torch.int64):
            raise ValueError(f"When `output_mode=\"int\"`, `dtype` should be an integer type, "
                             f"'int32' or 'int64'. Received: dtype={kwargs['dtype']!r}")
        if sparse:
            raise ValueError("Hashing(sparse=True) is not supported: netknit encodes densely. "
                             "Pass sparse=False.")
        self.mask_value = mask_value
        self.salt = _check_salt(salt, "Hashing")
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def forward(self, inputs):
        values = _values_of(inputs, "Hashing")
        bins = self.num_bins
        if self.mask_value is not None and bins > 1:
            bins -= 1  # bin 0 is the mask value's
        keys, inverse, shape = hash_keys(values)
        hasher = _bucket_hasher(self.salt)
        offset = 1 if bins < self.num_bins else 0
        table = [offset + hasher(key) % bins for key in keys]
        if isinstance(inverse, torch.Tensor):
            indices = torch.tensor(table, dtype=torch.int64, device=inverse.device)[inverse]
        else:
            indices = torch.from_numpy(np.array(table, dtype=np.int64)[inverse])
        indices = indices.reshape(shape)
        if offset:
            masked = values == self.mask_value
            masked = torch.as_tensor(masked, device=indices.device)
            indices = torch.where(masked, 0, indices)
        if self.output_mode == "int":
            return indices.to(self._variable_dtype)
        return encode_indices(indices, self.output_mode, self.num_bins, dtype=self._variable_dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self._variable_dtype

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}


class HashedCrossing(RawValuesLayer):
    """Crosses categorical features by hashing: the bin of each sample's combination of values.

    A sample's bin is TensorFlow's `tf.sparse.cross_hashed` of its features (FarmHash
    fingerprints of strings, integers as they are, combined in order) modulo `num_bins`.

    Args:
        num_bins: the number of bins (a positive integer).
        output_mode: `"int"` (the bins, int64) or `"one_hot"` (float32 vectors).
        sparse: must be False (dense outputs only).

    Input: a list or tuple of two or more features of the same shape, `()`, `(batch,)` or
    `(batch, 1)`: strings (lists, NumPy arrays) or integers (also tensors). Output: the bins,
    of that shape; `"one_hot"`: `(batch, num_bins)`.

    >>> HashedCrossing(num_bins=5)((np.array(["A", "B", "A", "B", "A"]),
    ...                             np.array([101, 101, 101, 102, 102])))
    tensor([1, 4, 1, 1, 3])
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.num_bins = check_positive_int("num_bins", num_bins)
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"Expected output_mode to be 'int' or 'one_hot'. Received: "
                             f"output_mode={output_mode!r}")
        if sparse:
            raise ValueError("HashedCrossing(sparse=True) is not supported: netknit encodes "
                             "densely. Pass sparse=False.")
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def forward(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on a list or tuple of at least "
                             f"two inputs. Received: inputs={inputs!r}")
        features = [_values_of(x, "HashedCrossing") for x in inputs]
        shape = tuple(features[0].shape)
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1) or any(
                tuple(f.shape) != shape for f in features):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shapes `()`, "
                             f"`(batch_size)` or `(batch_size, 1)`. Received shapes: "
                             f"{[tuple(f.shape) for f in features]}")
        if any(isinstance(f, torch.Tensor) and (f.is_floating_point() or f.dtype == torch.bool)
               for f in features):
            raise ValueError("All `HashedCrossing` inputs should have an integer or string "
                             "dtype.")
        device = next((f.device for f in features if isinstance(f, torch.Tensor)), None)
        columns = [[fingerprint64(v.encode("utf-8")) for v in f.ravel().tolist()]
                   if isinstance(f, np.ndarray) else [v & _U64 for v in f.reshape(-1).tolist()]
                   for f in features]
        crossed = []
        for values in zip(*columns):
            fingerprint = _CROSS_KEY
            for value in values:
                fingerprint = fingerprint_cat64(fingerprint, value)
            crossed.append(fingerprint % self.num_bins)
        bins = torch.tensor(crossed, dtype=torch.int64, device=device).reshape(shape)
        if self.output_mode == "int":
            return bins.to(self._variable_dtype)
        return encode_indices(bins, "one_hot", self.num_bins, dtype=self._variable_dtype)

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        return encoded_shape(first, "one_hot", self.num_bins)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return self._variable_dtype

    def get_config(self):
        # Keras's keys exactly, the dtype as a plain name.
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": str(self.dtype)}
