"""Which class a saved config names: netknit's built-in classes and the user's registered ones.

A config names its class the way Keras does: built-in layers by their Keras class name
(`"Dense"`, module `"keras.layers"`), user classes by a registered name `"Package>Name"`. Loading
looks a name up here and nowhere else: no module named in a file is ever imported, so a file
can only build classes that the program already has.
"""

from __future__ import annotations

import inspect

_CUSTOM: dict[str, type] = {}


class SavingError(ValueError):
    """A saved model or weights file that cannot be loaded: truncated, corrupted or edited."""


def register_serializable(package: str = "Custom", name: str | None = None):
    """Register a class (a custom layer or model) so that saved configs can name it.

    Args:
        package: a namespace for the name, e.g. your project's name.
        name: the name within `package`; the class name by default.

    The class is saved as `registered_name="package>name"` and found again by `load_model`.

    >>> @register_serializable(package="my_project")
    ... class Scale(Layer):
    ...     ...
    """
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"Expected a non-empty package name without '>'. Received: {package!r}")

    def decorator(cls):
        if not inspect.isclass(cls):
            raise TypeError(f"register_serializable decorates classes. Received: {cls!r}")
        key = f"{package}>{name or cls.__name__}"
        _CUSTOM[key] = cls
        cls._registered_name = key
        return cls

    return decorator


def get_registered_name(obj_or_cls) -> str | None:
    """`"package>Name"` for a registered class (or instance), None for built-in classes."""
    cls = obj_or_cls if inspect.isclass(obj_or_cls) else type(obj_or_cls)
    return cls.__dict__.get("_registered_name")


def registered_class(registered_name: str | None) -> type | None:
    """The class registered under `"package>Name"`, or None."""
    return _CUSTOM.get(registered_name) if isinstance(registered_name, str) else None


def builtin_layer_classes() -> dict[str, type]:
    """Every public layer and model class by its Keras class name."""
    from .. import layers, models
    from ..layers.layer import Layer

    table = {
        name: value for module in (layers, models) for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, Layer)
    }
    table["Functional"] = models.Functional
    return table


def find_class(class_name: str, registered_name: str | None, custom_objects: dict | None,
               what: str = "layer") -> type:
    """The class a config names: custom_objects first, then registered, then built-in."""
    custom_objects = custom_objects or {}
    for key in (registered_name, class_name):
        if key and key in custom_objects:
            return custom_objects[key]
    if registered_name and registered_name in _CUSTOM:
        return _CUSTOM[registered_name]
    builtin = builtin_layer_classes()
    if class_name in builtin and registered_name in (None, class_name, "Functional"):
        return builtin[class_name]
    label = registered_name or class_name
    raise SavingError(
        f"Unknown {what} class '{label}' in the saved config. If it is your own class, decorate "
        "it with @netknit.saving.register_serializable() before loading, or pass "
        f"custom_objects={{'{label}': {class_name}}} to load_model."
    )
