"""`Input()`: the start of a functional model, and the `InputLayer` that stands for it."""

from __future__ import annotations

from ..dtype_policies import KerasDType
from ..graph.node import Node
from ..graph.shapes import standardize_shape
from ..graph.symbolic import SymbolicTensor
from .layer import Layer, _dtype


class InputLayer(Layer):
    """The layer behind a model input; it holds no weights and passes its input through.

    Args:
        shape: the shape of one sample, without the batch dimension, e.g. `(28, 28, 1)`.
        batch_size: a fixed batch size, or None.
        dtype: the input dtype, `"float32"` by default.
        batch_shape: the full shape including the batch dimension, instead of `shape`.
        name: the input's name; dict inputs are matched to it.
    """

    _follows_dtype_policy = False  # never called on data in a model

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 name=None, ragged=False, optional=False, **kwargs):
        if shape is not None and batch_shape is not None:
            raise ValueError("Pass either `shape` or `batch_shape` to Input, not both.")
        if shape is None and batch_shape is None:
            raise ValueError(
                "Input needs the shape of one sample, e.g. Input(shape=(28, 28, 1)) for images "
                "or Input(shape=(10,)) for 10 features."
            )
        if sparse or ragged or optional:
            raise ValueError("Sparse, ragged and optional inputs are not supported.")
        if isinstance(shape, int) or isinstance(batch_shape, int):
            given = shape if isinstance(shape, int) else batch_shape
            raise ValueError(f"Cannot convert '{given}' to a shape. The shape of one sample is "
                             f"a tuple: Input(shape=({given},)).")
        if batch_shape is None:
            batch_shape = (batch_size,) + standardize_shape(shape, "the Input shape")
        super().__init__(name=name, **kwargs)
        # The input's own dtype: float32 unless given, whatever the dtype policy (as in Keras).
        self.dtype = KerasDType(_dtype(dtype))
        self.batch_shape = standardize_shape(batch_shape, "the Input batch_shape")
        self.built = True
        tensor = SymbolicTensor(self.batch_shape, self.dtype, name=self.name)
        Node(self, (), {}, tensor)

    def forward(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self) -> dict:
        return {
            "batch_shape": self.batch_shape,
            "dtype": str(self.dtype),
            "sparse": False,
            "ragged": False,
            "name": self.name,
            "optional": False,
        }


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False) -> SymbolicTensor:
    """A symbolic model input: `Input(shape=(20, 3))` has shape `(None, 20, 3)`.

    Args:
        shape: the shape of one sample, without the batch dimension; use None for a size that
            varies, e.g. `(None, 10)` for sequences of any length with 10 features.
        batch_size: a fixed batch size, or None.
        name: a unique name; dict inputs to `fit` and model calls are matched to it.
        dtype: the input's dtype, `"float32"` by default.
        batch_shape: the full shape including the batch dimension, instead of `shape`.

    Returns:
        A `SymbolicTensor` to call layers on.

    >>> x = Input(shape=(10,))
    >>> x.shape
    (None, 10)
    """
    if tensor is not None:
        raise ValueError("Input(tensor=...) is not supported; pass `shape=` instead.")
    if optional:
        raise ValueError("Optional inputs are not supported.")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=_dtype(dtype), sparse=sparse,
                       batch_shape=batch_shape, name=name)
    return layer._inbound_nodes[0].outputs[0]
