"""Nodes: the calls of layers that a symbolic graph is made of.

A graph has two kinds of things in it. *Edges* are `SymbolicTensor`s: values that flow. *Nodes*
are calls: "layer L was called on these tensors, with these arguments, and produced those". A node
is not a layer. A layer called twice (a shared layer, e.g. one encoder applied to both images of a
siamese pair) owns two nodes; its weights are shared because both nodes point at the same layer.

Each node keeps its call arguments with the symbolic tensors taken out, so that a functional model
can replay the call with real tensors: `node.arguments(values)` puts values back in their places.
"""

from __future__ import annotations

from typing import Any

from . import nest
from .symbolic import History, SymbolicTensor


class Node:
    """One call of `layer` on symbolic `args`/`kwargs`, producing `outputs`.

    Args:
        layer: the layer that was called.
        args: positional call arguments, which may hold symbolic tensors in lists, tuples, dicts.
        kwargs: keyword call arguments (e.g. `training=`, `mask=`), same rule.
        outputs: the symbolic tensors the call produced, in the structure the layer returns.
    """

    def __init__(self, layer, args: tuple, kwargs: dict, outputs: Any):
        self.layer = layer
        self.outputs_structure = outputs
        self.outputs: list[SymbolicTensor] = nest.flatten(outputs)
        leaves = nest.flatten((args, kwargs))
        self.inputs: list[SymbolicTensor] = [t for t in leaves if isinstance(t, SymbolicTensor)]
        self._call_structure = (args, kwargs)
        self._symbolic_positions = [
            i for i, leaf in enumerate(leaves) if isinstance(leaf, SymbolicTensor)
        ]
        self._constants = leaves
        # The common calls, one tensor or one list of tensors (a merge) as the only argument, are
        # replayed without any tree walk.
        self.single_input = len(args) == 1 and not kwargs and isinstance(args[0], SymbolicTensor)
        self.list_input = len(args) == 1 and not kwargs and isinstance(args[0], list) and all(
            isinstance(t, SymbolicTensor) for t in args[0])
        for index, tensor in enumerate(self.outputs):
            tensor.history = History(self, index)
        layer._inbound_nodes.append(self)

    @property
    def parents(self) -> list["Node"]:
        """The nodes that produced this node's inputs."""
        return [t.history.node for t in self.inputs if t.history is not None]

    def arguments(self, values: list) -> tuple[tuple, dict]:
        """The call's `(args, kwargs)` with `values` in place of the symbolic inputs, in order."""
        leaves = list(self._constants)
        for position, value in zip(self._symbolic_positions, values):
            leaves[position] = value
        return nest.pack_like(self._call_structure, leaves)

    def __repr__(self) -> str:
        return f"<Node {self.layer.name} inputs={[t.name for t in self.inputs]}>"
