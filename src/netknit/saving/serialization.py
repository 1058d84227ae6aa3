"""Objects to and from Keras 3's config format.

An object is saved as `{"module", "class_name", "config", "registered_name"}` (layers add a
`build_config`, compiled models a `compile_config`), as Keras 3 writes it. Deserializing looks the
class up in netknit's tables (`registry.py` for layers and models; each family's own module for
optimizers, losses, metrics, initializers, regularizers, constraints and activations) and calls
its `from_config`. Nothing named in a config is imported or evaluated.
"""

from __future__ import annotations

import inspect

from .. import activations, constraints, initializers, losses, metrics, optimizers, regularizers
from ..layers.layer import Layer, is_shape
from ..models.config import serialize_layer
from .registry import SavingError, find_class, get_registered_name, registered_class

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
        return serialize_layer(obj)
    for base, module in _BASES:
        if isinstance(obj, base):
            entry = module.serialize(obj)
            entry["registered_name"] = get_registered_name(obj)
            return entry
    if callable(obj):
        return activations.serialize(obj)
    raise TypeError(f"Cannot serialize {obj!r}: it is not a netknit object or a plain value.")


def deserialize_keras_object(config, custom_objects: dict | None = None, safe_mode: bool = True):
    """Rebuild what `serialize_keras_object` wrote (or Keras 3 did).

    Args:
        config: a config dict (or a plain value, returned as is).
        custom_objects: `{name: class}` for classes that are not registered.
        safe_mode: when True, a `Lambda` layer's Python code is refused.

    Raises:
        SavingError: the config names an unknown class or does not fit its class.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        return config
    module = str(config.get("module") or "")
    family = next((m for word, m in _FAMILIES.items() if word in module.split(".")), None)
    registered = config.get("registered_name")
    custom_objects = custom_objects or {}
    custom = (custom_objects.get(registered) or custom_objects.get(config["class_name"])
              or registered_class(registered))
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


def deserialize_layer(entry: dict, custom_objects: dict | None = None, safe_mode: bool = True):
    """A layer or model from its config entry, built when the entry records a `build_config`."""
    if not isinstance(entry.get("config"), dict):
        raise SavingError(f"The saved entry for {entry.get('class_name')!r} has no config dict.")
    if str(entry.get("module", "")).startswith("keras.src.ops"):
        return _deserialize_operation(entry)
    cls = find_class(entry["class_name"], entry.get("registered_name"), custom_objects)
    config = entry["config"]
    parameters = inspect.signature(cls.from_config).parameters
    kwargs = {k: v for k, v in (("custom_objects", custom_objects), ("safe_mode", safe_mode))
              if k in parameters}
    # 1. Construct; a hand-edited config can make a constructor fail in any way.
    try:
        layer = cls.from_config(config, **kwargs)
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(
            f"Cannot rebuild layer '{config.get('name')}' ({entry['class_name']}) from its saved "
            f"config: {error}"
        ) from error
    # 2. Build for the recorded input shape, so that the layer has its weights to load.
    build_config = entry.get("build_config")
    if isinstance(build_config, dict) and not layer.built:
        try:
            if build_config.get("input_shape") is not None:
                layer._build_once(_shape_structure(build_config["input_shape"]))
            elif isinstance(build_config.get("shapes_dict"), dict):
                layer.build(**{k: _shape_structure(v)
                               for k, v in build_config["shapes_dict"].items()})
        except Exception as error:
            raise SavingError(
                f"Cannot build layer '{layer.name}' for its saved {build_config}: {error}"
            ) from error
    return layer


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
