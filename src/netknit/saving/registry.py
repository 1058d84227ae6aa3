"""Which class a saved config names: netknit's built-in classes and the user's registered ones.

A config names its class the way Keras does: built-in layers by their Keras class name
(`"Dense"`, module `"keras.layers"`), user classes by a registered name `"Package>Name"`. Loading
looks a name up here and nowhere else: no module named in a file is ever imported, so a file
can only build classes that the program already has.
"""

from __future__ import annotations

import contextvars
import inspect

# Keras's global custom objects: registered classes and functions by "package>Name", and whatever
# the user puts in `get_custom_objects()` by plain name.
_CUSTOM: dict[str, object] = {}
# The names of registered functions (a class keeps its own in `_registered_name`).
_FUNCTION_NAMES: dict[object, str] = {}
_SCOPES = contextvars.ContextVar("netknit_custom_object_scopes", default=())


class SavingError(ValueError):
    """A saved model or weights file that cannot be loaded: truncated, corrupted or edited."""


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Register a class (a custom layer, model, loss, ...) or a function (a custom activation or
    loss) so that saved configs can name it.

    Args:
        package: a namespace for the name, e.g. your project's name.
        name: the name within `package`; the class's or function's name by default.

    The object is saved under the name `"package>name"` and found again by `load_model`.

    >>> @register_keras_serializable(package="my_project")
    ... class Scale(Layer):
    ...     ...
    >>> @register_keras_serializable(package="my_project", name="squared")
    ... def squared(x):
    ...     return x**2
    """
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"Expected a non-empty package name without '>'. Received: {package!r}")

    def decorator(obj):
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register the class {obj.__name__}: it has no get_config() method, so "
                "it could not be saved. Define get_config() (and from_config() if needed)."
            )
        if not callable(obj):
            raise TypeError(
                f"register_keras_serializable decorates classes and functions. Received: {obj!r}")
        key = f"{package}>{name or obj.__name__}"
        _CUSTOM[key] = obj
        if inspect.isclass(obj):
            obj._registered_name = key
        else:
            _FUNCTION_NAMES[obj] = key
        return obj

    return decorator


def get_custom_objects() -> dict:
    """The global dict of custom objects, which loading consults: registered classes by
    `"package>Name"`; add your own by class name, e.g. `get_custom_objects()["Scale"] = Scale`."""
    return _CUSTOM


class CustomObjectScope:
    """`with CustomObjectScope({"Scale": Scale}):` makes the classes known to loading inside the
    block (also spelled `custom_object_scope(...)`, as in Keras)."""

    def __init__(self, *custom_objects: dict | None):
        self.custom_objects = {k: v for objects in custom_objects for k, v in
                               (objects or {}).items()}
        self._token = None

    def __enter__(self):
        self._token = _SCOPES.set(_SCOPES.get() + (self.custom_objects,))
        return self

    def __exit__(self, *exc_info):
        _SCOPES.reset(self._token)


custom_object_scope = CustomObjectScope


def current_scopes() -> tuple[dict, ...]:
    """The dicts of the custom object scopes open now, outermost first."""
    return _SCOPES.get()


def get_registered_name(obj_or_cls) -> str | None:
    """`"package>Name"` for a registered class (or instance) or function; None for anything not
    registered, such as netknit's own classes."""
    if not inspect.isclass(obj_or_cls):
        try:
            if obj_or_cls in _FUNCTION_NAMES:
                return _FUNCTION_NAMES[obj_or_cls]
        except TypeError:  # unhashable, so never registered
            pass
    cls = obj_or_cls if inspect.isclass(obj_or_cls) else type(obj_or_cls)
    return cls.__dict__.get("_registered_name")


def user_class_origin(cls) -> tuple[str | None, str] | None:
    """`(module, registered_name)` as Keras writes them for a user's class: its module (None for a
    script's `__main__`, which another program cannot import) and its registered name, or its
    class name when it is not registered. None for netknit's own classes."""
    if cls.__module__.startswith("netknit"):
        return None
    module = None if cls.__module__ == "__main__" else cls.__module__
    return module, get_registered_name(cls) or cls.__name__


def saved_name(obj) -> str:
    """The name a config gives a class or function, as `keras.saving.get_registered_name` says
    it: `"package>Name"` when registered, else its own `__name__` (`"Dense"`, `"relu"`)."""
    registered = get_registered_name(obj)
    if registered is not None:
        return registered
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict | None = None,
                          module_objects: dict | None = None):
    """The object registered or in scope under `name` (`"package>Name"` or a class name): from
    `custom_objects`, the custom object scopes, the global custom objects, then `module_objects`;
    None when none has it."""
    for objects in (custom_objects or {}, *reversed(_SCOPES.get()), _CUSTOM,
                    module_objects or {}):
        if name in objects:
            return objects[name]
    return None


def builtin_layer_classes() -> dict[str, type]:
    """Every public layer and model class by its Keras class name, and the layers private to
    one of Keras's application modules (saved under that module, e.g. ConvNeXt's LayerScale)."""
    from .. import applications, layers, models
    from ..layers.layer import Layer

    modules = (layers, models, *(m for m in vars(applications).values() if inspect.ismodule(m)))
    table = {
        name: value for module in modules for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, Layer)
        and (module in (layers, models) or getattr(value, "_keras_module", None))
    }
    table["Functional"] = models.Functional
    return table


def find_class(class_name: str, registered_name: str | None, custom_objects: dict | None,
               what: str = "layer") -> type:
    """The class a config names: `custom_objects` first, then the innermost custom object scope
    to the outermost, then the global custom objects (registered classes), then built-in."""
    for objects in (custom_objects or {}, *reversed(_SCOPES.get()), _CUSTOM):
        for key in (registered_name, class_name):
            if key and key in objects:
                return objects[key]
    builtin = builtin_layer_classes()
    if class_name in builtin and registered_name in (None, class_name, "Functional"):
        return builtin[class_name]
    label = registered_name or class_name
    raise SavingError(
        f"Unknown {what} class '{label}' in the saved config. If it is your own class, decorate "
        "it with @netknit.saving.register_keras_serializable() before loading, or pass "
        f"custom_objects={{'{label}': {class_name}}} to load_model."
    )
