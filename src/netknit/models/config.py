"""Model configs in Keras 3's format: the layers, and for functional models how they connect."""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor


def serialize_layer(layer) -> dict:
    """`{"module", "class_name", "config", "registered_name", "build_config"}` as Keras writes it."""
    entry = {
        "module": "keras.layers" if type(layer).__module__.startswith("netknit.layers")
        else "keras" if type(layer).__module__.startswith("netknit.models") else type(layer).__module__,
        "class_name": type(layer).__name__,
        "config": layer.get_config(),
        "registered_name": None,
    }
    nodes = [n for n in layer._inbound_nodes if n.inputs]
    if nodes and type(layer).__name__ != "InputLayer":
        shapes = [list(t.shape) for t in nodes[0].inputs]
        entry["build_config"] = {"input_shape": shapes[0] if len(shapes) == 1 else shapes}
    return entry


def _history(tensor: SymbolicTensor) -> list:
    node, index = tensor.history
    return [node.layer.name, node.layer._inbound_nodes.index(node), index]


def _tensor_config(value):
    if isinstance(value, SymbolicTensor):
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(value.shape),
                "dtype": str(value.dtype).replace("torch.", ""),
                "keras_history": _history(value),
            },
        }
    if isinstance(value, (list, tuple)):
        return [_tensor_config(v) for v in value]
    if isinstance(value, dict):
        return {k: _tensor_config(v) for k, v in value.items()}
    return value


def _structure_config(structure):
    if isinstance(structure, SymbolicTensor):
        return _history(structure)
    if isinstance(structure, dict):
        return {k: _structure_config(v) for k, v in structure.items()}
    return [_structure_config(v) for v in structure]


def functional_config(model) -> dict:
    from ..layers.layer import Layer

    members = {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}
    layers = []
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": _tensor_config(node._call_structure[0]),
             "kwargs": _tensor_config(node._call_structure[1])}
            for node in layer._inbound_nodes
            if id(node) in members and node.inputs
        ]
        layers.append(entry)
    return {
        **Layer.get_config(model),
        "layers": layers,
        "input_layers": _structure_config(model._input_structure),
        "output_layers": _structure_config(model._output_structure),
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
