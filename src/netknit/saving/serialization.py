"""Objects to and from Keras 3's config format.

An object is saved as `{"module", "class_name", "config", "registered_name"}` (layers add a
`build_config`, compiled models a `compile_config`), as Keras 3 writes it. Deserializing looks the
class up in netknit's tables (`registry.py` for layers and models; each family's own module for
optimizers, losses, metrics, initializers, regularizers, constraints and activations) and calls
its `from_config`. Nothing named in a config is imported or evaluated.
"""

from __future__ import annotations

import inspect

import torch

from .. import activations, constraints, initializers, losses, metrics, optimizers, regularizers
from ..layers.layer import Layer, is_shape
from ..models.config import array_config, array_from_config, serialize_layer
from .registry import (
    CustomObjectScope,
    SavingError,
    current_scopes,
    find_class,
    get_custom_objects,
    get_registered_object,
    saved_name,
    user_class_origin,
)

# Config `module` → the netknit module whose `get` rebuilds it (Keras writes long module paths
# such as "keras.src.backend.torch.optimizers.torch_adam", so a family word is matched).
_FAMILIES = {
    "optimizers": optimizers,
    "losses": losses,
    "metrics": metrics,
    "initializers": initializers,
    "regularizers": regularizers,
    "constraints": constraints,
    "activations": activations,
}
_BASES = [
    (optimizers.Optimizer, optimizers), (losses.Loss, losses), (metrics.Metric, metrics),
    (initializers.Initializer, initializers), (regularizers.Regularizer, regularizers),
    (constraints.Constraint, constraints),
]


def serialize_keras_object(obj):
    """`obj` as Keras 3 writes it in a config: a dict, or a plain value passed through."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Layer):
        # A layer's own config may hold objects (a sublayer, an initializer), as its get_config
        # returned them: Keras writes their entries in their place, at any depth.
        return serialize_objects_in(serialize_layer(obj))
    array = array_config(obj)
    if array is not None:
        return array
    for base, module in _BASES:
        if isinstance(obj, base):
            entry = module.serialize(obj)
            origin = user_class_origin(type(obj))
            if origin is not None:
                entry["module"], entry["registered_name"] = origin
            return entry
    if inspect.isfunction(obj) and obj.__name__ != "<lambda>":
        return serialize_function(obj)
    if callable(obj):
        return activations.serialize(obj)
    raise TypeError(f"Cannot serialize {obj!r}: it is not a netknit object or a plain value.")


def serialize_objects_in(value):
    """`value` with every netknit object in it (in dicts, lists and tuples, at any depth)
    replaced by its config entry; plain values stay as they are."""
    if isinstance(value, dict):
        return {k: serialize_objects_in(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(serialize_objects_in(v) for v in value)
    if isinstance(value, Layer) or inspect.isfunction(value) or any(
            isinstance(value, base) for base, _ in _BASES):
        return serialize_keras_object(value)
    return value


def serialize_function(fn) -> dict:
    """A named function (an activation, a loss) as Keras writes it: by its registered name
    `"package>name"` when registered, else by its own name."""
    return {"module": "builtins", "class_name": "function", "config": saved_name(fn),
            "registered_name": "function"}


def deserialize_function(name, custom_objects: dict | None = None):
    """The function a saved name stands for: the user's (in `custom_objects`, a custom object
    scope or registered), else netknit's activation, loss or metric function of that name."""
    if not isinstance(name, str):
        raise SavingError(f"A saved function is named by a string. Received: {name!r}")
    found = _custom_function(name, custom_objects)
    if found is not None:
        return found
    for table in (activations.ACTIVATIONS, losses.LOSS_FUNCTIONS):
        if name in table:
            return table[name]
    try:
        return metrics._metric_function(name)
    except ValueError:
        raise SavingError(
            f"Unknown function '{name}' in the saved config. If it is your own function, "
            "decorate it with @netknit.saving.register_keras_serializable() before loading, or "
            f"pass custom_objects={{'{name}': {name.rsplit('>', 1)[-1]}}}."
        ) from None


def _custom_function(name: str, custom_objects: dict | None):
    """The user's object saved under `name`, or None. A plain name also finds an object
    registered as `"package>name"`: Keras 3.6 and earlier saved registered functions that way
    (and netknit's activation configs still do)."""
    found = get_registered_object(name, custom_objects)
    if found is None and ">" not in name:
        known = {}
        for objects in (get_custom_objects(), *current_scopes(), custom_objects or {}):
            known.update(objects)
        found = next((obj for key, obj in known.items() if key.endswith(f">{name}")), None)
    return found


def deserialize_keras_object(config, custom_objects: dict | None = None, safe_mode: bool = True):
    """Rebuild what `serialize_keras_object` wrote (or Keras 3 did).

    Args:
        config: a config dict (or a plain value, returned as is).
        custom_objects: `{name: class}` for classes that are not registered.
        safe_mode: when True, a `Lambda` layer's Python code is refused.

    Raises:
        SavingError: the config names an unknown class or does not fit its class.
    """
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(v, custom_objects, safe_mode) for v in config]
    if isinstance(config, str):
        # A name that stands for one of the user's objects is that object, as in Keras.
        found = get_registered_object(config, custom_objects)
        return config if found is None else found
    if not isinstance(config, dict) or "class_name" not in config:
        return config
    array = array_from_config(config)
    if array is not None:
        return array
    if config["class_name"] == "function":
        return deserialize_function(config.get("config"), custom_objects)
    module = str(config.get("module") or "")
    family = next((m for word, m in _FAMILIES.items() if word in module.split(".")), None)
    registered = config.get("registered_name")
    custom_objects = custom_objects or {}
    custom = (get_registered_object(registered, custom_objects)
              or get_registered_object(config["class_name"], custom_objects))
    try:
        if family is not None and custom is None:
            return family.get(config)
        return deserialize_layer(config, custom_objects, safe_mode)
    except SavingError:
        raise
    except (TypeError, ValueError, KeyError) as error:
        raise SavingError(
            f"Cannot rebuild {config.get('class_name')!r} from its saved config: {error}"
        ) from error


def deserialize_family(get, config, custom_objects: dict | None = None):
    """What `keras.activations.deserialize` (and its initializer, regularizer and constraint
    siblings) return: a name found in `custom_objects`, a custom object scope or the registered
    objects is that object, as in Keras; any other name or config dict is resolved by the
    family's `get`."""
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects)
        return get(config) if found is None else found
    if isinstance(config, dict):
        found = (get_registered_object(config.get("registered_name"), custom_objects)
                 or get_registered_object(config.get("class_name"), custom_objects))
        if isinstance(found, type):
            return found.from_config(config.get("config") or {})
    return get(config)


def deserialize_layer(entry: dict, custom_objects: dict | None = None, safe_mode: bool = True):
    """A layer or model from its config entry, built when the entry records a `build_config`."""
    if not isinstance(entry.get("config"), dict):
        raise SavingError(f"The saved entry for {entry.get('class_name')!r} has no config dict.")
    module = str(entry.get("module", ""))
    if module.startswith("keras.src.ops") or module == "keras.src.activations.activations":
        # Operations: those of `keras.ops`, and the ones an activation function records on a
        # symbolic tensor (`keras.activations.relu(x)` records a ReLU operation, not a layer).
        return _deserialize_operation(entry)
    cls = find_class(entry["class_name"], entry.get("registered_name"), custom_objects)
    config = _with_functions(entry["config"], custom_objects)
    parameters = inspect.signature(cls.from_config).parameters
    kwargs = {k: v for k, v in (("custom_objects", custom_objects), ("safe_mode", safe_mode))
              if k in parameters}
    # 1. Construct (with `custom_objects` in scope for what the layer deserializes itself); a
    # hand-edited config can make a constructor fail in any way.
    try:
        with CustomObjectScope(custom_objects):
            layer = cls.from_config(config, **kwargs)
    except SavingError:
        raise
    except Exception as error:
        # A functional model's entry holds the name when the layer's config does not (Keras's
        # config of a layer whose __init__ takes no `name`).
        fix = (" Its __init__ must take every key of its get_config(): accept **kwargs and pass "
               "them on to super().__init__(), or give the layer a from_config."
               if isinstance(error, TypeError) else "")
        raise SavingError(
            f"Cannot rebuild layer '{config.get('name', entry.get('name'))}' "
            f"({entry['class_name']}) from its saved config: {str(error).rstrip('.')}.{fix}"
        ) from error
    # 2. Build for the recorded input shape, so that the layer has its weights to load.
    build_config = entry.get("build_config")
    if isinstance(build_config, dict) and not layer.built:
        try:
            _build_from_config(layer, build_config)
        except Exception as error:
            raise SavingError(
                f"Cannot build layer '{layer.name}' for its saved {build_config}: {error}"
            ) from error
    return layer


def _build_from_config(layer: Layer, build_config: dict) -> None:
    """Create the layer's weights for the shapes its saved `build_config` records: with the
    layer's own `build_from_config` when it has one, else its `build`; a model with no `build`
    of its own (a subclassed model) is built as Keras builds it, by running it once, on zeros."""
    if type(layer).build_from_config is not Layer.build_from_config:
        layer.build_from_config(build_config)
        return
    build_from_config(layer, build_config)


def build_from_config(layer: Layer, build_config: dict) -> None:
    """`Layer.build_from_config`'s rule (see `_build_from_config`)."""
    if build_config.get("input_shape") is not None:
        shapes, keywords = _shape_structure(build_config["input_shape"]), None
    elif isinstance(build_config.get("shapes_dict"), dict):
        shapes, keywords = None, {k: _shape_structure(v)
                                  for k, v in build_config["shapes_dict"].items()}
    else:
        return
    if type(layer).build is not Layer.build or not hasattr(layer, "compile"):
        if keywords is None:
            layer._build_once(shapes)
        else:
            layer.build(**keywords)
        return
    with torch.no_grad():
        if keywords is None:
            layer(_zeros(shapes))
        else:
            layer(**{k.removesuffix("_shape"): _zeros(v) for k, v in keywords.items()})


def _zeros(shapes):
    """Zeros of each saved shape, an unknown dimension taken as 1."""
    if isinstance(shapes, tuple):
        return torch.zeros([1 if d is None else d for d in shapes])
    if isinstance(shapes, dict):
        return {k: _zeros(v) for k, v in shapes.items()}
    return [_zeros(v) for v in shapes]


def _with_functions(config: dict, custom_objects: dict | None) -> dict:
    """The layer's config with the functions it names resolved: Keras's function entries, and an
    activation given by the name of one of the user's functions (as Keras's activation lookup
    finds them among the custom objects)."""
    resolved = dict(config)
    for key, value in config.items():
        if isinstance(value, dict) and value.get("class_name") == "function":
            resolved[key] = deserialize_function(value.get("config"), custom_objects)
        elif (isinstance(value, str) and key.endswith("activation")
              and value not in activations.ACTIVATIONS):
            found = _custom_function(value, custom_objects)
            if callable(found):
                resolved[key] = found
    return resolved


def _deserialize_operation(entry: dict):
    """An operation that an operator on symbolic tensors recorded (`x * 2`, `x[:, :3]`)."""
    from ..ops import OPERATIONS

    cls = OPERATIONS.get(entry.get("class_name"))
    if cls is None:
        raise SavingError(
            f"The saved model uses the operation {entry.get('class_name')!r} "
            f"({entry.get('module')}), which netknit does not implement. It implements: "
            f"{', '.join(sorted(OPERATIONS))}."
        )
    return cls.from_config(entry["config"])


def _shape_structure(value):
    """A saved shape as a tuple, or a list/dict of saved shapes as a list/dict of tuples."""
    if is_shape(value):
        return tuple(value)
    if isinstance(value, dict):
        return {k: _shape_structure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape_structure(v) for v in value]
    raise ValueError(f"not a shape: {value!r}")


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A model (with fresh weights) from `model.to_json()`'s output or Keras's."""
    import json

    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as error:
        raise SavingError(f"model_from_json received text that is not JSON: {error}") from error
    return deserialize_keras_object(config, custom_objects)
