"""TextVectorization: texts to token indices (or token counts), with Keras's vocabulary.

netknit has no string tensors, so the layer works on Python strings (lists or NumPy arrays of
them) outside a model: `x = vectorizer(texts)`, then `model.fit(x, y)`. Standardizing, splitting
and n-grams are TensorFlow's, written in Python (ASCII-only lowercasing and punctuation, ASCII
whitespace), so tokens, vocabularies and indices are Keras's.
"""

from __future__ import annotations

import re
import string

import numpy as np
import torch

from .lookup import (
    DROPPED,
    RawValuesLayer,
    StringLookup,
    adapt_batches,
    document_rows,
    string_array,
)

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf", "one_hot")
# tf.strings.lower lowercases ASCII letters only; Keras strips ASCII punctuation only; and
# tf.strings.split splits at ASCII whitespace only (not at "\u00a0" or "\u3000").
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_WORD = re.compile(r"[^ \t\n\v\f\r]+")


def _check_callable_or(name: str, value, allowed: tuple) -> None:
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(f"Expected {name} to be one of {', '.join(map(repr, allowed))}, None or a "
                     f"callable. Received: {name}={value!r}")


def _map_strings(fn, array: np.ndarray) -> np.ndarray:
    mapped = np.empty(array.shape, dtype=object)
    mapped.ravel()[:] = [fn(text) for text in array.ravel().tolist()]
    return mapped


def _ngrams(tokens: list, widths: tuple) -> list:
    """The n-grams of each width in turn, tokens joined by a space (tf.strings.ngrams)."""
    return [" ".join(tokens[start:start + width]) for width in widths
            for start in range(len(tokens) - width + 1)]


class TextVectorization(RawValuesLayer):
    """Turns texts into sequences of token indices, or into vectors of token counts.

    Each text is standardized (lowercased, punctuation removed), split into tokens (words),
    optionally joined into n-grams, then looked up in a vocabulary: given, or learned with
    `adapt(texts)` (the most frequent tokens first, ties broken by the larger token first, as
    in Keras). Index 0 is padding, index 1 the OOV token `"[UNK]"`.

    netknit has no string tensors: call the layer on texts outside a model and train on what it
    returns (`x = vectorizer(texts)`, then `model.fit(x, y)`).

    Args:
        max_tokens: the largest vocabulary `adapt` makes, padding and OOV tokens included.
        standardize: `"lower_and_strip_punctuation"` (default), `"lower"`,
            `"strip_punctuation"`, None, or a callable taking a NumPy array of `str` and
            returning one of the same shape. As in TensorFlow, only ASCII letters are lowered
            and only ASCII punctuation is stripped.
        split: `"whitespace"` (default: ASCII whitespace), `"character"` (Unicode
            characters), None (each text is one token), or a callable taking a 1-D NumPy array
            of texts and returning one list of tokens per text.
        ngrams: None, an integer `n` (all n-grams up to `n`), or a tuple of n-gram sizes.
        output_mode: `"int"` (token indices, int64, padded with 0), or float32 vectors over the
            vocabulary per text: `"multi_hot"`, `"count"`, `"tf_idf"`; `"one_hot"` (only with
            `split=None`).
        output_sequence_length: with `"int"`, pad or cut every sequence to this length (by
            default, padded to the longest text of the call).
        pad_to_max_tokens: make the vectors `max_tokens` long whatever the vocabulary's size.
        vocabulary: the tokens, a list or array, or a text file of one token per line.
        idf_weights: with `"tf_idf"` and a `vocabulary`, one weight per token.
        sparse: must be False (dense outputs only).
        ragged: must be False: netknit has no ragged tensors; sequences come back padded.
        encoding: the text encoding of `bytes` inputs.

    Input: a string, or a list or NumPy array of texts, `(batch,)` or `(batch, 1)`. Output:
    `(batch, length)` int64 indices, or `(batch, vocabulary size)` float32 vectors.

    >>> vectorizer = TextVectorization(output_sequence_length=4)
    >>> vectorizer.adapt(["The cat sat.", "The dog ran!"])
    >>> vectorizer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'ran', 'dog', 'cat']
    >>> vectorizer(["the cat ran", "a dog"])
    tensor([[2, 6, 4, 0],
            [1, 5, 0, 0]])
    """

    _takes_text = True

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        super().__init__(name=name, **kwargs)
        _check_callable_or("standardize", standardize, _STANDARDIZE)
        _check_callable_or("split", split, _SPLIT)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"Expected output_mode to be one of {', '.join(_OUTPUT_MODES)}. "
                             f"Received: output_mode={output_mode!r}")
        if isinstance(ngrams, list):  # a tuple in a JSON config
            ngrams = tuple(ngrams)
        sizes = (ngrams,) if isinstance(ngrams, int) else ngrams or ()
        if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes) or (
                not isinstance(ngrams, (int, tuple, type(None)))):
            raise ValueError(f"`ngrams` must be None, a positive integer, or a tuple of positive "
                             f"integers. Received: ngrams={ngrams!r}")
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError(f"`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received: output_sequence_length={output_sequence_length}.")
        if output_sequence_length is not None:
            check_length = isinstance(output_sequence_length, int) and not isinstance(
                output_sequence_length, bool) and output_sequence_length >= 0
            if not check_length:
                raise ValueError(f"`output_sequence_length` must be None or a non-negative "
                                 f"integer. Received: "
                                 f"output_sequence_length={output_sequence_length!r}")
        if sparse:
            raise ValueError("TextVectorization(sparse=True) is not supported: netknit encodes "
                             "densely. Pass sparse=False.")
        if ragged:
            raise ValueError("TextVectorization(ragged=True) is not supported: netknit has no "
                             "ragged tensors. Pass ragged=False: sequences come back padded with "
                             "0 (to output_sequence_length, or to the longest text).")
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size,
        )
        self.built = True

    # ------------------------------------------------------------ the vocabulary

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and IDF weights) from texts; see `StringLookup.adapt`.

        Args:
            data: a list or NumPy array of texts, `(n,)` or `(n, 1)`; or an iterable of batches
                of texts (a PyDataset such as `text_dataset_from_directory` gives, a
                DataLoader, a generator), whose `(texts, labels)` tuples give their texts.
            batch_size: read an array in batches of this many texts (the result is the same).
            steps: read at most this many batches of an iterable.
        """
        self.reset_state()
        for batch in adapt_batches(data, self._text_array, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data) -> None:
        """Count the tokens of one batch of texts."""
        tokens = self._tokenize(self._text_array(data))
        rows = tokens if isinstance(tokens, list) else document_rows(tokens)
        self._lookup_layer.count_documents(rows)

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary by index (with the padding and OOV tokens first, unless
        `include_special_tokens=False`)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and IDF weights, with "tf_idf"); see
        `StringLookup.set_vocabulary`."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ------------------------------------------------------------ texts to tokens

    def _text_array(self, data) -> np.ndarray:
        return string_array(data, self._encoding, "TextVectorization")

    def _tokenize(self, texts: np.ndarray):
        """Standardized, split and n-grammed tokens: a list of token lists (one per text) when
        splitting a batch, else an object array (unsplit texts, or the tokens of one text)."""
        if callable(self._standardize):
            texts = np.asarray(self._standardize(texts.astype(str)), dtype=object)
        elif self._standardize is not None:
            texts = _map_strings(self._standardize_text, texts)
        if self._split is None:
            if self._ngrams is None:
                return texts
            if texts.ndim == 0:
                raise ValueError("TextVectorization with split=None makes n-grams along the last "
                                 "axis: pass a list of texts, not a single string.")
            rows = [_ngrams(row, self._ngrams)
                    for row in texts.reshape(-1, texts.shape[-1]).tolist()]
            grams = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
            grams[...] = rows
            return grams.reshape(*texts.shape[:-1], grams.shape[-1])
        if texts.ndim > 1:
            if texts.shape[-1] != 1:
                raise ValueError(
                    "When using `TextVectorization` to tokenize strings, the input rank must be "
                    f"1 or the last shape dimension must be 1. Received: inputs.shape="
                    f"{texts.shape} with rank={texts.ndim}"
                )
            texts = texts.squeeze(-1)
        rows = self._split_texts(texts.reshape(-1))
        if self._ngrams is not None:
            rows = [_ngrams(row, self._ngrams) for row in rows]
        if texts.ndim == 0:  # one text: its tokens
            return np.array(rows[0], dtype=object)
        return rows

    def _standardize_text(self, text: str) -> str:
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.translate(_LOWER)
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = text.translate(_NO_PUNCTUATION)
        return text

    def _split_texts(self, texts: np.ndarray) -> list:
        if self._split == "whitespace":
            return [_WORD.findall(text) for text in texts.tolist()]
        if self._split == "character":
            return [list(text) for text in texts.tolist()]
        rows = self._split(texts.astype(str))
        return [string_array(row, self._encoding, "TextVectorization").reshape(-1).tolist()
                for row in rows]

    # ------------------------------------------------------------ calling

    def forward(self, inputs):
        lookup = self._lookup_layer
        lookup.check_vocabulary_restored()
        tokens = self._tokenize(self._text_array(inputs))
        if isinstance(tokens, list):
            if self._output_mode == "one_hot":
                raise ValueError("TextVectorization(output_mode='one_hot') encodes whole texts: "
                                 "pass split=None, or use 'multi_hot' or 'count' for the tokens "
                                 "of split texts.")
            return self._encode_rows(tokens)
        indices = torch.from_numpy(lookup.token_indices(tokens))
        if self._output_mode != "int":
            return lookup.encode(indices)
        length = self._output_sequence_length
        if length is None or indices.dim() == 0:
            return indices
        indices = indices[..., :length]
        return torch.nn.functional.pad(indices, (0, length - indices.shape[-1]))

    def _encode_rows(self, rows: list) -> torch.Tensor:
        """The token lists of a batch of texts as padded indices, or as their vectors."""
        lookup = self._lookup_layer
        flat = np.array([token for row in rows for token in row], dtype=object)
        found = lookup.token_indices(flat).tolist()
        lengths = [len(row) for row in rows]
        width = self._output_sequence_length
        if width is None:
            width = max(lengths, default=0)
        padding = 0 if self._output_mode == "int" else DROPPED
        padded = np.full((len(rows), width), padding, dtype=np.int64)
        start = 0
        for index, length in enumerate(lengths):
            kept = min(length, width)
            padded[index, :kept] = found[start:start + kept]
            start += length
        indices = torch.from_numpy(padded)
        if self._output_mode == "int":
            return indices
        return lookup.encode(indices)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None and len(input_shape) <= 1:
            input_shape = tuple(input_shape) + (1,)
        elif self._split is not None:
            input_shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    def compute_output_dtype(self, inputs) -> torch.dtype:
        return torch.int64 if self._output_mode == "int" else torch.float32

    # ------------------------------------------------------------ config and saving

    def get_config(self):
        lookup = self._lookup_layer
        config = {
            **super().get_config(), "max_tokens": lookup.max_tokens,
            "standardize": self._standardize, "split": self._split, "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False, "ragged": False,
            "vocabulary": lookup.input_vocabulary, "idf_weights": lookup.input_idf_weights,
            "encoding": self._encoding, "vocabulary_size": self.vocabulary_size(),
        }
        config.update(lookup.vocabulary_config())
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("standardize", "split"):
            if isinstance(config.get(key), dict):  # a saved function
                from ..saving.serialization import deserialize_keras_object

                config[key] = deserialize_keras_object(config[key])
        return cls(**config)

    def save_own_variables(self, store) -> None:
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store) -> None:
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path: str) -> None:
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path: str) -> None:
        self._lookup_layer.load_assets(dir_path)
