"""Model configs in Keras 3's format: the layers, and for functional models how they connect.

A functional config lists each layer with the calls ("inbound nodes") that belong to the model;
a call's inputs name the tensor they take as `[layer_name, node_index, tensor_index]`, where
`node_index` counts only the calls kept in the config. In `input_layers`/`output_layers` Keras
counts a nested functional model's calls from 1 instead (a leftover of the node that once linked
its inputs to its outputs); a `Sequential`'s still count from 0.
"""

from __future__ import annotations

import inspect

from ..graph import nest
from ..graph.symbolic import SymbolicTensor


def serialize_layer(layer) -> dict:
    """A layer's config dict as Keras writes it.

    Its keys: `{"module", "class_name", "config", "registered_name", "build_config"}`.
    """
    from ..ops import is_operation
    from ..saving.registry import get_registered_name
    from .functional import Functional
    from .sequential import Sequential

    if is_operation(layer):
        name = type(layer).__name__
        return {"module": layer.keras_module, "class_name": name, "config": layer.get_config(),
                "registered_name": name}
    registered = get_registered_name(layer)
    if registered is not None:
        module = type(layer).__module__
    elif isinstance(layer, Sequential):
        module = "keras"
    elif isinstance(layer, Functional):
        module, registered = "keras.src.models.functional", "Functional"
    else:
        module = "keras.layers"
    entry = {
        "module": module,
        "class_name": type(layer).__name__,
        "config": layer.get_config(),
        "registered_name": registered,
    }
    build_config = _build_config(layer)
    if build_config is not None:
        entry["build_config"] = build_config
    return entry


def _build_config(layer) -> dict | None:
    """The shapes of the layer's first call, by argument as Keras records them."""
    from ..layers.layer import _shapes_of

    nodes = [n for n in layer._inbound_nodes if n.inputs]
    if not nodes or type(layer).__name__ == "InputLayer":
        return None
    args, kwargs = nodes[0]._call_structure
    names = list(inspect.signature(layer.forward).parameters)
    shapes = {
        f"{name}_shape": _shapes_of(value)
        for name, value in [*zip(names, args), *kwargs.items()]
        if any(isinstance(t, SymbolicTensor) for t in nest.flatten(value))
    }
    if len(shapes) == 1:
        return {"input_shape": next(iter(shapes.values()))}
    return {"shapes_dict": shapes}


def first_node_index(layer) -> int:
    """Where Keras counts a layer's calls from in `input_layers`/`output_layers`."""
    from .functional import Functional
    from .sequential import Sequential

    return 1 if isinstance(layer, Functional) and not isinstance(layer, Sequential) else 0


def functional_config(model) -> dict:
    # 1. Renumber each layer's calls, counting only those that belong to this model.
    members = {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}
    index_of = {}
    for layer in model.operations:
        kept = [n for n in layer._inbound_nodes if id(n) in members]
        index_of.update({id(n): i for i, n in enumerate(kept)})

    def history(tensor: SymbolicTensor, offset=lambda layer: 0) -> list:
        node, index = tensor.history
        return [node.layer.name, index_of[id(node)] + offset(node.layer), index]

    def tensor_config(value):
        if isinstance(value, SymbolicTensor):
            return {
                "class_name": "__keras_tensor__",
                "config": {
                    "shape": list(value.shape),
                    "dtype": str(value.dtype).replace("torch.", ""),
                    "keras_history": history(value),
                },
            }
        if isinstance(value, (list, tuple)):
            return [tensor_config(v) for v in value]
        if isinstance(value, dict):
            return {k: tensor_config(v) for k, v in value.items()}
        if isinstance(value, slice):
            return {"class_name": "__slice__",
                    "config": {"start": value.start, "stop": value.stop, "step": value.step}}
        if value is Ellipsis:
            return {"class_name": "__ellipsis__", "config": {}}
        return value

    def structure_config(structure):
        if isinstance(structure, SymbolicTensor):
            return history(structure, first_node_index)
        if isinstance(structure, dict):
            return {k: structure_config(v) for k, v in structure.items()}
        return [structure_config(v) for v in structure]

    # 2. One entry per layer, with its calls.
    layers = []
    for layer in model.operations:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": tensor_config(list(node._call_structure[0])),
             "kwargs": tensor_config(node._call_structure[1])}
            for node in layer._inbound_nodes
            if id(node) in members and node.inputs
        ]
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": structure_config(model._input_structure),
        "output_layers": structure_config(model._output_structure),
    }


def sequential_config(model) -> dict:
    from ..layers.layer import Layer

    layers = []
    if model._input_layer is not None:
        layers.append(serialize_layer(model._input_layer))
    layers.extend(serialize_layer(layer) for layer in model._stack)
    config = {**Layer.get_config(model), "layers": layers}
    if model.built:
        config["build_input_shape"] = list(model.inputs[0].shape)
    return config
