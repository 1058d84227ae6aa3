"""Walk a graph back from its outputs: the nodes to run, in order, and the layers, in Keras's order.

`trace(inputs, outputs)` is done once, when a functional model is built. It returns the nodes in an
order where every node comes after the nodes that feed it, which is all `Functional.forward` needs
for its straight loop, and raises a clear error for graphs that cannot be run: an output that does
not depend on the given inputs, or a cycle. An input that no output uses is kept, as Keras keeps
it (its data may serve a loss or a custom step): its `InputLayer` joins the deepest-last level.

Going beyond Keras, an output may be a tensor *inside* a nested model (a layer of a `Sequential`
backbone that the outer model calls once). Such a tensor hangs off the nested model's own input;
the trace follows the nested model's call in the outer graph to connect the two.

`cut(inputs, outputs, make_input)` comes first when some inputs are tensors from inside a graph
(`Model(h, out)` with `h = Dense(4)(x)`): as Keras does, the model then gets new `Input`s at those
tensors and copies of the calls between them and the outputs, so the layers above the cut are not
part of it, while the layers below are shared with the graph they come from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import nest
from .errors import describe_layer
from .node import Node
from .shapes import format_shape
from .symbolic import SymbolicTensor


@dataclass
class Trace:
    nodes: list[Node]  # execution order, inputs first
    layers: list  # unique layers in Keras's order: by decreasing depth, then first seen
    nodes_by_depth: dict[int, list[Node]]
    # Inputs of nested models that this graph reaches through the nested model's outer call:
    # id(inner input tensor) -> outer tensor that feeds it.
    aliases: dict[int, SymbolicTensor] = field(default_factory=dict)


def _check_symbolic(tensors: list) -> None:
    for tensor in tensors:
        if not isinstance(tensor, SymbolicTensor) or tensor.history is None:
            # A ValueError, as Keras raises for the same mistake.
            raise ValueError(
                "Model inputs and outputs must be symbolic tensors made by `Input()` and layer "
                f"calls. Received: {tensor!r}"
            )


def cut(inputs: list[SymbolicTensor], outputs: list[SymbolicTensor],
        make_input: Callable[[SymbolicTensor], SymbolicTensor]):
    """New inputs and outputs for a graph cut at `inputs`, some of which are not `Input()`s.

    Each such input is replaced by `make_input(tensor)`, and each call between the inputs and the
    outputs is recorded again (a new node of the same layer) on the replacements, so the original
    graph and its models are left as they were. Returns the flat inputs and outputs to build on.
    """
    _check_symbolic(inputs + outputs)
    input_ids = {id(t) for t in inputs}
    # 1. The calls between the inputs and the outputs, each after those that feed it; checked
    # before anything is recorded, so a cut that is not one leaves the layers untouched.
    order: dict[Node, None] = {}
    for output in outputs:
        stack = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            node = tensor.history.node
            if expanded:
                order[node] = None
            elif id(tensor) not in input_ids and node not in order:
                if _is_graph_input(tensor):
                    raise ValueError(_disconnected(tensor, inputs, outputs))
                stack.append((tensor, True))
                stack.extend((source, False) for source in reversed(node.inputs))
    # 2. Record them again, on new inputs where the cut is.
    copies = {id(t): t if _is_graph_input(t) else make_input(t) for t in inputs}
    made = []
    for node in order:
        args, kwargs = node.arguments([copies[id(t)] for t in node.inputs])
        produced = [SymbolicTensor(t.shape, t.dtype, name=t.name) for t in node.outputs]
        Node(node.layer, args, kwargs, nest.pack_like(node.outputs_structure, produced))
        for tensor, copy in zip(node.outputs, produced):
            copy.has_mask = tensor.has_mask
            copies.setdefault(id(tensor), copy)
            made.append((tensor, copy))
    # A mask the graph computed for an output is the copy's if its calls were copied too; else
    # it is computed when data flows, as for a mask the graph does not know.
    for tensor, copy in made:
        copy._keras_mask = copies.get(id(tensor._keras_mask))
    return [copies[id(t)] for t in inputs], [copies[id(t)] for t in outputs]


def trace(inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]) -> Trace:
    _check_symbolic(inputs + outputs)
    input_ids = {id(t) for t in inputs}
    aliases: dict[int, SymbolicTensor] = {}
    seen_order: dict = {}  # layer -> index of first sight, as Keras numbers them
    finished: dict[Node, None] = {}  # ordered set: post-order = execution order
    in_progress: set = set()

    def resolve(tensor: SymbolicTensor) -> SymbolicTensor:
        """The tensor in this graph that supplies `tensor` (itself, or a nested model's feed)."""
        while id(tensor) not in input_ids and _is_graph_input(tensor):
            outer = _outer_feed(tensor, inputs, outputs)
            aliases[id(tensor)] = outer
            tensor = outer
        return tensor

    # Iterative depth-first search, so that deep models do not hit Python's recursion limit.
    for output in outputs:
        stack = [(resolve(output), False)]
        while stack:
            tensor, expanded = stack.pop()
            node = tensor.history.node
            if expanded:
                in_progress.discard(node)
                finished[node] = None
                continue
            if node in finished:
                continue
            if node in in_progress:
                raise ValueError(
                    f"The graph has a cycle through layer {describe_layer(node.layer)}."
                )
            seen_order.setdefault(node.layer, len(seen_order))
            in_progress.add(node)
            stack.append((tensor, True))
            if id(tensor) in input_ids:
                continue
            for parent in reversed(node.inputs):
                stack.append((resolve(parent), False))

    nodes = list(finished)
    unused = _unused_input_nodes(nodes, inputs)
    nodes_by_depth, layers = _order_by_depth(nodes, unused, seen_order)
    nodes = unused + nodes
    return Trace(nodes=nodes, layers=layers, nodes_by_depth=nodes_by_depth, aliases=aliases)


def _is_graph_input(tensor: SymbolicTensor) -> bool:
    return type(tensor.history.node.layer).__name__ == "InputLayer"


def _outer_feed(tensor, inputs, outputs) -> SymbolicTensor:
    """For the input of a nested model, the outer tensor that the model was called on."""
    calls = [
        (model, node)
        for model in getattr(tensor, "input_of_models", ())
        for node in model._inbound_nodes
        if node.inputs
    ]
    if len(calls) == 1:
        model, node = calls[0]
        return node.inputs[model.inputs.index(tensor)]
    if len(calls) > 1:
        names = sorted({m.name for m, _ in calls})
        wanted = ", ".join(f"'{t.name}' {format_shape(t.shape)}" for t in outputs)
        raise ValueError(
            f"Cannot tell which call of model(s) {names} feeds the output(s) {wanted}: the model "
            "is called more than once, so a tensor inside it has several values. Build the "
            "feature model from one call's output instead, or call the inner model only once."
        )
    raise ValueError(_disconnected(tensor, inputs, outputs))


def _disconnected(tensor, inputs, outputs) -> str:
    """The error for outputs that need the graph input `tensor`, which `inputs` lacks."""
    wanted = ", ".join(f"'{t.name}' {format_shape(t.shape)}" for t in outputs)
    given = ", ".join(f"'{t.name}'" for t in inputs)
    return (
        f"Graph disconnected: the output(s) {wanted} depend on the input "
        f"'{tensor.history.node.layer.name}' {format_shape(tensor.shape)}, which is not among the "
        f"model inputs [{given}]. Fix: pass that Input in `inputs=`, or build the output from "
        "the given inputs."
    )


def _unused_input_nodes(nodes: list[Node], inputs) -> list[Node]:
    """The `Input` nodes of inputs that no output depends on, in the order of `inputs`."""
    reached = {id(t) for node in nodes for t in node.outputs}
    return [t.history.node for t in inputs if id(t) not in reached]


def _order_by_depth(nodes: list[Node], unused: list[Node], seen_order: dict):
    """Keras's layer order: deepest first (inputs), ties broken by first sight from the outputs.

    Unused inputs (`unused`) sit at depth 0, ahead of the other layers there, as in Keras.
    """
    members = set(nodes)
    node_depth: dict[Node, int] = {}
    layer_depth: dict = {}
    for node in reversed(nodes):
        depth = max(node_depth.get(node, 0), layer_depth.get(node.layer, 0))
        node_depth[node] = depth
        layer_depth[node.layer] = depth
        for parent in node.parents:
            if parent in members:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for node in unused:
        node_depth[node] = layer_depth[node.layer] = 0
        seen_order[node.layer] = -1
    nodes_by_depth: dict[int, list[Node]] = {}
    for node, depth in node_depth.items():
        nodes_by_depth.setdefault(depth, []).append(node)
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], seen_order[layer]))
    return dict(sorted(nodes_by_depth.items(), reverse=True)), layers
