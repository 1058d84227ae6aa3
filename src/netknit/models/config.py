"""Model configs in Keras 3's format: the layers, and for functional models how they connect.

A functional config lists each layer with the calls ("inbound nodes") that belong to the model;
a call's inputs name the tensor they take as `[layer_name, node_index, tensor_index]`, where
`node_index` counts only the calls kept in the config. In `input_layers`/`output_layers` Keras
counts a nested functional model's calls from 1 instead (a leftover of the node that once linked
its inputs to its outputs); a `Sequential`'s still count from 0.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from ..graph import nest
from ..graph.symbolic import SymbolicTensor


def serialize_layer(layer) -> dict:
    """A layer's config dict as Keras writes it.

    Its keys: `{"module", "class_name", "config", "registered_name", "build_config"}`.
    """
    from ..ops import is_operation
    from ..saving.registry import user_class_origin
    from .functional import Functional
    from .model import Model
    from .sequential import Sequential

    if is_operation(layer):
        name = type(layer).__name__
        return {"module": layer.keras_module, "class_name": name, "config": layer.get_config(),
                "registered_name": name}
    origin = user_class_origin(type(layer))
    keras_module = getattr(type(layer), "_keras_module", None)
    registered = None
    if origin is not None:
        module, registered = origin
    elif keras_module is not None:
        # A layer private to one of Keras's modules (ConvNeXt's LayerScale): Keras writes that
        # module, and the class name as the registered name.
        module, registered = keras_module, type(layer).__name__
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
    build_config = layer.get_build_config()
    if build_config is not None:
        entry["build_config"] = build_config
    if isinstance(layer, Model):
        # Keras writes a model's compile arguments with it, `{}` when it is not compiled.
        entry["compile_config"] = layer.get_compile_config() or {}
    return entry


def build_config_of(layer) -> dict | None:
    """`Layer.get_build_config`: the shapes Keras records for the layer (a functional model's
    and a Sequential's are their own)."""
    from .functional import Functional

    return _model_build_config(layer) if isinstance(layer, Functional) else _build_config(layer)


def _model_build_config(model) -> dict | None:
    """Keras's build config of a model: a Sequential's input shape once it is known; for a
    functional model `{"input_shape": None}` (Keras builds those with no shape)."""
    from .sequential import Sequential

    if not isinstance(model, Sequential):
        return {"input_shape": None}
    return {"input_shape": tuple(model.inputs[0].shape)} if model.built else None


def _build_config(layer) -> dict | None:
    """The shapes of the layer's first call, by argument as Keras records them."""
    from ..layers.layer import _shapes_of

    if type(layer).__name__ == "InputLayer" or layer._built_when_made:
        return None
    nodes = [n for n in layer._inbound_nodes if n.inputs]
    if not nodes:
        return _direct_build_config(layer)
    args, kwargs = nodes[0]._call_structure
    names = list(inspect.signature(layer.forward).parameters)
    # As Keras's, the shapes leave out the mask, which builds nothing.
    shapes = {
        f"{name}_shape": _shapes_of(value)
        for name, value in [*zip(names, args), *kwargs.items()]
        if name != "mask" and any(isinstance(t, SymbolicTensor) for t in nest.flatten(value))
    }
    if len(shapes) == 1:
        return {"input_shape": next(iter(shapes.values()))}
    return {"shapes_dict": shapes}


def _direct_build_config(layer) -> dict | None:
    """The build config of a layer built by `layer.build(shape)` or an eager call."""
    from ..layers.layer import _map_shapes

    if not layer.built or "_build_shapes" not in layer.__dict__:
        return None
    args, kwargs = layer._build_shapes
    if len(args) == 1 and not kwargs:
        return {"input_shape": _map_shapes(tuple, args[0])}
    names = list(inspect.signature(layer.build).parameters)
    # A user's build may take other arguments than shapes (an initializer's name): Keras
    # records them as they were given.
    return {"shapes_dict": {
        name: _map_shapes(tuple, value) if isinstance(value, (list, tuple, dict)) else value
        for name, value in [*zip(names, args), *kwargs.items()]}}


def array_config(value):
    """A NumPy array, NumPy number, tensor or bytes as Keras writes them in a config (tagged
    entries of plain lists), or None for any other value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, torch.Tensor)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value.item()
        return {"class_name": "__numpy__" if isinstance(value, np.ndarray) else "__tensor__",
                "config": {"value": array.tolist(), "dtype": str(array.dtype)}}
    if isinstance(value, bytes):
        return {"class_name": "__bytes__", "config": {"value": value.decode("utf-8")}}
    return None


def array_from_config(entry):
    """The value of an entry `array_config` wrote (or Keras did); None for other entries."""
    kind = entry.get("class_name") if isinstance(entry, dict) else None
    if kind not in ("__numpy__", "__tensor__", "__bytes__"):
        return None
    config = entry.get("config") or {}
    if kind == "__bytes__":
        return str(config.get("value", "")).encode("utf-8")
    array = np.array(config.get("value"), dtype=config.get("dtype"))
    return array if kind == "__numpy__" else torch.as_tensor(array)


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
                    "shape": tuple(value.shape),
                    "dtype": str(value.dtype).replace("torch.", ""),
                    "keras_history": history(value),
                },
            }
        if isinstance(value, tuple):  # kept as called: Keras's config holds tuples and lists
            return tuple(tensor_config(v) for v in value)
        if isinstance(value, list):
            return [tensor_config(v) for v in value]
        if isinstance(value, dict):
            return {k: tensor_config(v) for k, v in value.items()}
        if isinstance(value, slice):
            return {"class_name": "__slice__",
                    "config": {"start": value.start, "stop": value.stop, "step": value.step}}
        if value is Ellipsis:
            return {"class_name": "__ellipsis__", "config": {}}
        array = array_config(value)
        return value if array is None else array

    def structure_config(structure):
        if isinstance(structure, SymbolicTensor):
            return history(structure, first_node_index)
        if isinstance(structure, dict):
            return {k: structure_config(v) for k, v in structure.items()}
        return [structure_config(v) for v in structure]

    # 2. One entry per layer, with its calls.
    from ..saving.serialization import serialize_keras_object

    layers = []
    for layer in model.operations:
        entry = serialize_keras_object(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": tensor_config(tuple(node._call_structure[0])),
             "kwargs": tensor_config(_recorded_kwargs(node))}
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


def _recorded_kwargs(node) -> dict:
    """A call's keyword arguments as Keras records them.

    Keras's call adds the `training` and `mask` arguments of its layer's `call` (see
    `Layer._keras_call_arguments`) to the dict that the node keeps: `training` when its default is
    not None and it was not given, `mask` when only the first argument holds tensors (the
    input's mask, None for each unmasked tensor). It does not when it made a copy of that dict to
    convert the inputs: for any call but one on a single tensor of the layer's compute dtype,
    except a functional model's (which converts its inputs itself).
    """
    from ..ops import is_operation

    layer = node.layer
    args, kwargs = node._call_structure
    arguments = layer._keras_call_arguments
    if is_operation(layer) or not arguments:
        return kwargs
    first = args[0] if len(args) == 1 else None
    # A masked input's mask given with it (as a symbolic call fills it in, or a saved graph of
    # Keras's gives it back) is the one Keras's call fills in itself.
    filled_mask = isinstance(kwargs.get("mask"), SymbolicTensor) and isinstance(
        first, SymbolicTensor) and first.has_mask
    given = {k: v for k, v in kwargs.items() if not (k == "mask" and filled_mask)}
    if not keeps_call_kwargs(layer, args, given):
        return kwargs
    recorded = {}
    if arguments.get("training") is not None and "training" not in kwargs:
        recorded["training"] = arguments["training"]
    recorded.update(kwargs)
    only_first = not any(isinstance(t, SymbolicTensor) for t in nest.flatten((args[1:], kwargs)))
    # Masks the graph computes are in `kwargs` already; one known only when data flows (a
    # nested model's, ReversibleEmbedding's) is None in Keras's graph too.
    if "mask" in arguments and only_first and recorded.get("mask") is None:
        recorded["mask"] = nest.map_structure(lambda tensor: None, args[0])
    return recorded


def keeps_call_kwargs(layer, args: tuple, kwargs: dict) -> bool:
    """Whether Keras's call of `layer` on symbolic `args`/`kwargs` (the keyword arguments the
    caller gave) keeps the very dict it adds `training` and `mask` to, so that its node records
    them: it copies it to convert the inputs, unless the call is on a single tensor of the
    layer's compute dtype with no keyword arguments, or the layer is a functional model (which
    converts its inputs itself) or one whose call converts nothing (`_keras_converts_inputs`)."""
    from .functional import Functional
    from .sequential import Sequential

    if not layer._keras_converts_inputs or (
            isinstance(layer, Functional) and not isinstance(layer, Sequential)):
        return True
    first = args[0] if len(args) == 1 else None
    return not kwargs and isinstance(first, SymbolicTensor) and first.dtype == layer.compute_dtype


def sequential_config(model) -> dict:
    from ..layers.layer import Layer
    from ..saving.serialization import serialize_keras_object

    layers = []
    if model._input_layer is not None:
        layers.append(serialize_layer(model._input_layer))
    layers.extend(serialize_keras_object(layer) for layer in model._stack)
    config = {**Layer.get_config(model), "layers": layers}
    if model.built:
        config["build_input_shape"] = tuple(model.inputs[0].shape)  # the input's batch_shape
    return config
