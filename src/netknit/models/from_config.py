"""Models rebuilt from their configs: the inverse of `config.py`.

A functional model is rebuilt as it was first made: each layer is created from its entry, then
its recorded calls are replayed on symbolic tensors, a call waiting until the tensors it takes
exist. The graph that results is checked like any other (shapes, names, connectivity).
"""

from __future__ import annotations

from ..graph import nest
from ..layers.input_layer import InputLayer
from ..ops import is_operation
from .config import array_from_config, first_node_index


def _saving():
    # Saving sits above models; models reach its registry only when asked to rebuild.
    from ..saving import registry, serialization

    return registry.SavingError, serialization.deserialize_layer


def functional_from_config(cls, config: dict, custom_objects=None, safe_mode=True,
                           make_layer=None, call_layer=None):
    """A functional model (of class `cls`) from `functional_config`'s output or Keras's.

    `make_layer(entry)`, when given, creates each layer from its config entry instead of
    deserializing it, and `call_layer(layer, *args, **kwargs)` makes each recorded call instead
    of `layer(*args, **kwargs)` (`clone_model` passes its `clone_function` and `call_function`
    this way).
    """
    SavingError, deserialize_layer = _saving()
    make_layer = make_layer or (lambda entry: deserialize_layer(entry, custom_objects, safe_mode))
    entries = config.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SavingError("A functional model config needs a list of layer entries in 'layers'.")

    # 1. Create every layer; an Input's call exists from the start.
    layers, produced = {}, {}
    for entry in entries:
        name = entry.get("name", (entry.get("config") or {}).get("name"))
        if name in layers:
            raise SavingError(f"The model config has two layers named '{name}'.")
        layer = make_layer(entry)
        layers[name] = layer
        produced[name] = [n.outputs for n in layer._inbound_nodes] if isinstance(
            layer, InputLayer) else []

    def tensor(history, offset=lambda layer: 0):
        if not (isinstance(history, (list, tuple)) and len(history) == 3):
            raise SavingError(f"A tensor reference must be [layer, node, index]; got {history!r}.")
        name, node_index, index = history
        if name not in layers:
            raise SavingError(f"The model config refers to a layer '{name}' it does not define.")
        calls = produced[name]
        position = node_index - offset(layers[name])
        if not isinstance(position, int) or position < 0:
            raise SavingError(f"Bad call index {node_index!r} for layer '{name}'.")
        if position >= len(calls):
            raise LookupError  # not replayed yet
        if not isinstance(index, int) or not 0 <= index < len(calls[position]):
            raise SavingError(f"Layer '{name}' has no output {index!r} in call {node_index}.")
        return calls[position][index]

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return tensor((value.get("config") or {}).get("keras_history"))
        if isinstance(value, dict) and value.get("class_name") == "__slice__":
            bounds = value.get("config") or {}
            return slice(bounds.get("start"), bounds.get("stop"), bounds.get("step"))
        if isinstance(value, dict) and value.get("class_name") == "__ellipsis__":
            return Ellipsis
        array = array_from_config(value)
        if array is not None:
            return array
        if isinstance(value, (list, tuple)):  # tuples where the config was not through JSON
            return type(value)(resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    # 2. Replay the calls, in layer order, until none is left waiting for its inputs. Calls are
    # filed under the entry's name: a custom layer whose config lacks its name gets a new one.
    pending = [(name, layer, list(entry.get("inbound_nodes") or []))
               for (name, layer), entry in zip(layers.items(), entries)]
    if not all(isinstance(call, dict) for _, _, calls in pending for call in calls):
        raise SavingError("Each saved call in 'inbound_nodes' must be a dict of args and kwargs.")
    while any(calls for _, _, calls in pending):
        progress = False
        for name, layer, calls in pending:
            while calls:
                try:
                    args, kwargs = _call_arguments(calls[0], resolve, layer)
                except LookupError:
                    break
                if is_operation(layer):
                    args = layer.saved_arguments(args)
                try:
                    outputs = (call_layer(layer, *args, **kwargs) if call_layer
                               else layer(*args, **kwargs))
                except Exception as error:
                    raise SavingError(
                        f"Replaying the saved call of layer '{layer.name}' failed: {error}"
                    ) from error
                produced[name].append(nest.flatten(outputs))
                calls.pop(0)
                progress = True
        if not progress:
            waiting = [name for name, _, calls in pending if calls]
            raise SavingError(
                f"The model config's graph cannot be rebuilt: the calls of {waiting} take tensors "
                "that no layer produces (a loop, or a reference to a missing call)."
            )

    # 3. The inputs and outputs, in the structure that was saved.
    def structure(value):
        if isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str):
            return tensor(value, first_node_index)
        if isinstance(value, dict):
            return {k: structure(v) for k, v in value.items()}
        if isinstance(value, list):
            return [structure(v) for v in value]
        raise SavingError(f"Bad input/output reference in the model config: {value!r}.")

    try:
        inputs = structure(config.get("input_layers"))
        outputs = structure(config.get("output_layers"))
    except LookupError as err:
        raise SavingError(
            "The model config's outputs refer to calls that were never made."
        ) from err
    from .functional import Functional
    from .model import Model, takes_functional_arguments

    # A class whose constructor takes other arguments gets a plain functional model, as in Keras.
    model_cls = cls if cls is not Model and takes_functional_arguments(cls) else Functional
    try:
        return model_cls(inputs, outputs, name=config.get("name"),
                         trainable=config.get("trainable", True))
    except (TypeError, ValueError) as error:
        raise SavingError(f"The saved model graph is not valid: {error}") from error


def _call_arguments(call: dict, resolve, layer) -> tuple[list, dict]:
    args = resolve(call.get("args") or [])
    kwargs = resolve(call.get("kwargs") or {})
    # Keras records `mask=None` on some calls; passing it would hide a real mask here. It also
    # records the default of `training` it resolved (Dropout's False): the call without it is the
    # same call, and runs on the fast path.
    default = layer._keras_call_arguments.get("training")
    kwargs = {k: v for k, v in kwargs.items()
              if not (k == "mask" and v is None or k == "training" and (v is None or v is default))}
    return list(args), kwargs


def sequential_from_config(cls, config: dict, custom_objects=None, safe_mode=True):
    """A `Sequential` from `sequential_config`'s output or Keras's."""
    SavingError, deserialize_layer = _saving()
    entries = config.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SavingError("A Sequential config needs a list of layer entries in 'layers'.")
    layers = [deserialize_layer(e, custom_objects, safe_mode) for e in entries]
    try:
        model = cls(layers, name=config.get("name"), trainable=config.get("trainable", True))
        shape = config.get("build_input_shape")
        if not model.built and shape is not None:
            model.build(tuple(shape))
    except (TypeError, ValueError) as error:
        raise SavingError(f"The saved Sequential model cannot be rebuilt: {error}") from error
    return model
