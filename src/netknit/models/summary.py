"""`model.summary()`: Keras's table of layers, output shapes, parameter counts and connections.

The table is drawn with `rich`, with Keras's column positions and widths, so it reads the same as
Keras's summary. A chain of single-input layers gets three columns; any branching, merging or
shared layer adds "Connected to".
"""

from __future__ import annotations

import re
import shutil

import rich.console
import rich.markup
import rich.table

from ..graph import nest
from ..graph.shapes import format_shape
from ..layers.layer import Layer, _shape_leaves


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None) -> None:
    layers = model.operations
    graph_nodes = _graph_nodes(model)
    sequential_like = graph_nodes is None or _is_chain(model, graph_nodes)

    # 1. Columns, placed as Keras places them.
    if sequential_like:
        default_length, header = 88, ["Layer (type)", "Output Shape", "Param #"]
        positions = positions or [0.45, 0.80, 1.0]
        justify = ["left", "left", "right"]
    else:
        default_length = 108
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        justify = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        justify.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for position in positions:
        end = int(position * line_length) if position <= 1 else int(position)
        if end - current < 4:
            raise ValueError(
                f"The summary does not fit in {line_length} columns. Pass a larger line_length."
            )
        widths.append(end - current)
        current = end
    table = rich.table.Table(
        *[rich.table.Column(h, justify=j, width=w) for h, j, w in zip(header, justify, widths)],
        width=line_length,
        show_lines=True,
    )

    # 2. One row per layer (and per nested layer when expanded).
    def rows(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        name = rich.markup.escape(f"{prefix}{layer.name}")
        fields = [f"{name} ({rich.markup.escape(type(layer).__name__)})", _output_shape(layer),
                  _param_count(layer)]
        if not sequential_like:
            fields.append(_connections(layer, graph_nodes))
        if show_trainable:
            fields.append("-" if not layer.weights else "Y" if layer.trainable else "N")
        yield fields
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            for inner in layer.operations:
                yield from rows(inner, level + 1)

    start, end = _layer_bounds(layers, layer_range)
    for layer in layers[start:end]:
        for fields in rows(layer):
            table.add_row(*fields)

    # 3. Totals, with memory sizes from each weight's dtype.
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    count = lambda weights: sum(w.numel() for w in weights)  # noqa: E731
    size = lambda weights: sum(w.numel() * w.element_size() for w in weights)  # noqa: E731
    total = count(trainable) + count(non_trainable)
    total_size = size(trainable) + size(non_trainable)
    optimizer = getattr(model, "optimizer", None)
    optimizer_params = None
    if getattr(model, "compiled", False) and getattr(optimizer, "built", False):
        # As Keras, once training has built the optimizer its variables count in the total.
        optimizer_params = optimizer.variables_size()
        total += optimizer_params[0]
        total_size += optimizer_params[1]

    # 4. Print: to the terminal, or captured as plain text for print_fn.
    if print_fn is not None:
        console = rich.console.Console(highlight=False, force_terminal=False, color_system=None)
        console.begin_capture()
    else:
        console = rich.console.Console(highlight=False)
    console.print(f'[bold]Model: "{rich.markup.escape(model.name)}"[/]')
    console.print(table)
    console.print(f"[bold] Total params: [/]{total:,} ({_readable(total_size)})")
    console.print(
        f"[bold] Trainable params: [/]{count(trainable):,} ({_readable(size(trainable))})"
    )
    console.print(
        f"[bold] Non-trainable params: [/]{count(non_trainable):,} "
        f"({_readable(size(non_trainable))})"
    )
    if optimizer_params is not None:
        console.print(
            f"[bold] Optimizer params: [/]{optimizer_params[0]:,} "
            f"({_readable(optimizer_params[1])})"
        )
    if print_fn is not None:
        print_fn(console.end_capture())


def _graph_nodes(model):
    """The nodes of a functional model's graph, or None for other models."""
    by_depth = getattr(model, "_nodes_by_depth", None)
    if by_depth is None or type(model).__name__ == "Sequential":
        return None
    return [node for nodes in by_depth.values() for node in nodes]


def _is_chain(model, nodes) -> bool:
    """True when every depth has one node with one input and no layer is called twice."""
    for same_depth in model._nodes_by_depth.values():
        if len(same_depth) > 1 or len(same_depth[0].inputs) > 1:
            return False
    members = set(map(id, nodes))
    return all(
        sum(id(node) in members for node in layer._inbound_nodes) <= 1
        for layer in model.operations
    )


def _output_shape(layer) -> str:
    nodes = layer._inbound_nodes
    if nodes:
        shapes = [t.shape for t in nest.flatten(nodes[-1].outputs_structure)]
    elif getattr(layer, "_nodes_by_depth", None) is not None:
        # A model with a graph of its own (functional, or a Sequential given its input) that
        # its parent called eagerly: Keras shows its graph's outputs, several as one tuple.
        shapes = [t.shape for t in layer.outputs]
        if len(shapes) > 1:
            return "(" + ", ".join(str(tuple(shape)) for shape in shapes) + ")"
    elif "_build_shapes" in layer.__dict__ and _has_shape_rule(layer):
        # A layer built by hand, or by an eager call inside a subclassed model: Keras infers its
        # output shape from the shapes it was built for.
        args, kwargs = layer._build_shapes
        try:
            shapes = _shape_leaves(layer.compute_output_shape(*args, **kwargs))
        except Exception:  # a layer that cannot tell (Keras: NotImplementedError) shows "?"
            return "?"
    else:
        return "?"
    # Keras's summary writes a 1-tuple without its comma: `(None)`.
    texts = [format_shape(tuple(shape)).replace(",)", ")") for shape in shapes]
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


def _has_shape_rule(layer) -> bool:
    """Whether the layer's class writes its own `compute_output_shape`. Keras's base layer has
    none (netknit's infers one by running `forward`), so Keras shows "?" for such a layer."""
    owner = next(c for c in type(layer).__mro__ if "compute_output_shape" in c.__dict__)
    return owner is not Layer


def _param_count(layer) -> str:
    if not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _connections(layer, graph_nodes) -> str:
    members = set(map(id, graph_nodes))
    links = []
    for node in layer._inbound_nodes:
        if id(node) not in members:
            continue
        for tensor in node.inputs:
            source, index = tensor.history
            node_index = source.layer._inbound_nodes.index(source)
            links.append(f"{rich.markup.escape(source.layer.name)}[{node_index}][{index}]")
    return ", ".join(links) or "-"


def _readable(num_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes / 1024 < 1:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


def _layer_bounds(layers, layer_range) -> tuple[int, int]:
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(n, str) for n in layer_range):
        raise ValueError(
            f"layer_range must be two layer names (or patterns). Received: {layer_range!r}"
        )
    first = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    last = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not first or not last:
        names = ", ".join(layer.name for layer in layers)
        raise ValueError(f"No layers match layer_range={layer_range!r}. Layers: {names}.")
    return min(min(first), min(last)), max(max(first), max(last)) + 1


