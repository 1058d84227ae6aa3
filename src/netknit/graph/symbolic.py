"""Symbolic tensors: placeholders that carry a shape and the history of how they were made.

Calling a layer on a `SymbolicTensor` computes nothing. It checks the input shapes, infers the
output shapes, records a `Node` (one call of the layer) and returns new symbolic tensors whose
`history` points back at that node. A functional `Model` walks these histories from its outputs
back to its inputs to find the graph it has to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import torch

from ..dtype_policies import KerasDType
from .shapes import format_shape

if TYPE_CHECKING:
    from .node import Node


class History(NamedTuple):
    """Where a symbolic tensor came from: output `index` of `node`."""

    node: "Node"
    index: int

    @property
    def layer(self):
        return self.node.layer


class KerasHistory(NamedTuple):
    """Keras's name for where a tensor came from: output `tensor_index` of the
    `node_index`-th call of `operation`."""

    operation: Any
    node_index: int
    tensor_index: int


class SymbolicTensor:
    """A tensor of known shape (batch dimension `None`) that exists only in a graph.

    Args:
        shape: full shape including the batch dimension; unknown sizes are `None`.
        dtype: a `torch.dtype` or a dtype name; `dtype` gives it as Keras's name, a
            `KerasDType` that also equals the torch dtype.
        name: a readable name, such as `"dense/output"`.
        history: the `(node, index)` that produced the tensor, or `None` before it is recorded.
    """

    def __init__(
        self,
        shape: tuple,
        dtype: torch.dtype = torch.float32,
        name: str | None = None,
        history: History | None = None,
    ):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = KerasDType(dtype)
        self.name = name
        self.history = history
        # Whether a mask (e.g. from Embedding(mask_zero=True)) travels with this tensor, and,
        # where the graph computes it, that mask: a symbolic tensor made by operations, as
        # Keras's `_keras_mask` (None where the mask is known only when data flows).
        self.has_mask = False
        self._keras_mask = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def producer(self):
        """The layer that produced this tensor (an `InputLayer` for model inputs)."""
        return None if self.history is None else self.history.node.layer

    @property
    def _keras_history(self) -> KerasHistory | None:
        """Keras's `(operation, node_index, tensor_index)` view of `history`, which Keras code
        reads to find the layer that made a tensor."""
        if self.history is None:
            return None
        layer = self.history.node.layer
        return KerasHistory(layer, layer._inbound_nodes.index(self.history.node),
                            self.history.index)

    def __repr__(self) -> str:
        return (f"<SymbolicTensor shape={format_shape(self.shape)}, dtype={self.dtype}, "
                f"name={self.name}>")

    def __len__(self) -> int:
        raise TypeError(
            "A symbolic tensor has no length: it holds no data yet. "
            f"Use `.shape` instead (shape {format_shape(self.shape)})."
        )

    def __bool__(self) -> bool:
        raise TypeError(
            "A symbolic tensor has no truth value: it holds no data yet. Build the model, then "
            "call it on real data."
        )

    # Python's operators record operations in the graph, as in Keras 3 (`x * 2 + y`, `x[:, :3]`).
    # `==` and `!=` keep their identity meaning: graphs look tensors up in lists and sets.
    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __truediv__(self, other):
        return _ops().true_divide(self, other)

    def __rtruediv__(self, other):
        return _ops().true_divide(other, self)

    def __floordiv__(self, other):
        return _ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops().floor_divide(other, self)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __rmod__(self, other):
        return _ops().mod(other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().negative(self)

    def __abs__(self):
        return _ops().absolute(self)

    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __getitem__(self, key):
        return _ops().get_item(self, key)

    def __iter__(self):
        # Without this, Python would iterate through __getitem__ and record operations forever.
        raise TypeError(
            f"Cannot iterate over symbolic tensor {self.name} {format_shape(self.shape)}: it holds "
            "no data. Index it instead, e.g. `x[:, 0]`, or split it with a layer."
        )

    def __array__(self, *args: Any, **kwargs: Any):
        raise TypeError(
            f"Cannot convert symbolic tensor {self.name} {format_shape(self.shape)} to a NumPy "
            "array: it holds no data. Build a Model from it and call `model.predict(x)`."
        )


def _ops():
    # The operations are layers, which sit above the graph package.
    from .. import ops

    return ops


def is_symbolic(value: Any) -> bool:
    return isinstance(value, SymbolicTensor)
