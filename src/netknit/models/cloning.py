"""`clone_model`: the same architecture with fresh weights."""

from __future__ import annotations

from ..graph import nest
from ..layers.input_layer import InputLayer
from ..layers.layer import Layer
from ..ops import is_operation
from .config import functional_config, serialize_layer
from .from_config import functional_from_config
from .functional import Functional
from .sequential import Sequential


def _clone_layer(layer: Layer) -> Layer:
    from ..saving.serialization import deserialize_layer

    # The config comes from this process, not from a file, so a Lambda's code may be reused.
    entry = serialize_layer(layer)
    # Left unbuilt, as Keras clones a layer from its config alone: the new model builds it when
    # it calls it, so a Sequential clone names its weights under its own name as the original.
    entry.pop("build_config", None)
    return deserialize_layer(entry, safe_mode=False)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False):
    """A new model with `model`'s architecture and newly initialized weights.

    A subclassed model is made again from its config (`get_config`), as Keras does, and is
    built on its first call.

    Args:
        model: a `Sequential` or functional `Model`, or a subclassed model or layer.
        input_tensors: symbolic tensors from `Input` to build the clone on, in the structure of
            `model.inputs` (one tensor for a Sequential model); new inputs like the original's
            by default.
        clone_function: `fn(layer) -> layer` making each layer of the clone; by default a new
            layer from the original's config (same name, fresh weights). A layer used several
            times (shared) is cloned once.
        call_function: `fn(layer, *args, **kwargs) -> outputs` making each call of a layer in a
            functional clone, e.g. to add a layer after some of them; by default
            `layer(*args, **kwargs)`.
        recursive: also apply `clone_function` to the layers of nested models.

    If `model` is compiled, the clone is compiled with the same arguments, as in Keras.

    >>> clone = clone_model(model)
    >>> clone.get_config() == model.get_config()
    True
    """
    if clone_function is not None and not callable(clone_function):
        raise ValueError(
            "Expected `clone_function` argument to be a callable. "
            f"Received: clone_function={clone_function!r}"
        )
    if not isinstance(model, Functional):
        cloned = _clone_from_config(model, clone_function, input_tensors, call_function)
    else:
        cloned = _clone_graph(model, input_tensors, clone_function, call_function, recursive)
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if compile_config is not None:
        cloned.compile_from_config(compile_config)
    return cloned


def _clone_graph(model, input_tensors, clone_function, call_function, recursive):
    """A Sequential or functional model assembled again from clones of its layers."""
    given = clone_function or _clone_layer
    clones = {}  # a shared layer is cloned once

    def clone(layer: Layer) -> Layer:
        if id(layer) not in clones:
            if recursive and isinstance(layer, Functional):
                # A nested Sequential model's layers are not called: no call_function there.
                calls = None if isinstance(layer, Sequential) else call_function
                clones[id(layer)] = clone_model(layer, clone_function=clone_function,
                                                call_function=calls, recursive=True)
            else:
                clones[id(layer)] = given(layer)
        return clones[id(layer)]

    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "`call_function` is not supported with Sequential models: their layers are "
                "listed, not called, when the model is made. Use it with functional models."
            )
        layers = [clone(layer) for layer in model.layers]
        if input_tensors is not None:
            layers.insert(0, _input_layers_of(input_tensors, 1)[0])
        elif model._input_layer is not None:
            layers.insert(0, InputLayer.from_config(model._input_layer.get_config()))
        cloned = Sequential(layers, name=model.name, trainable=model.trainable)
    else:
        originals = {layer.name: layer for layer in model.operations}
        new_inputs = {}
        if input_tensors is not None:
            own = [t.history.node.layer.name for t in model.inputs]
            new_inputs = dict(zip(own, _input_layers_of(input_tensors, len(own))))

        def make_layer(entry: dict) -> Layer:
            original = originals[entry["name"]]
            if isinstance(original, InputLayer):
                return new_inputs.get(original.name) or InputLayer.from_config(
                    original.get_config())
            if is_operation(original):  # not a layer: clone_function is for layers
                return type(original).from_config(original.get_config())
            return clone(original)

        # The graph's own config, whatever a subclass's get_config returns (as Keras clones it).
        cloned = functional_from_config(type(model), functional_config(model),
                                        make_layer=make_layer, call_layer=call_function)
    return cloned


def _clone_from_config(model, clone_function, input_tensors, call_function) -> Layer:
    """A subclassed model (or a layer) made again from its config, as Keras clones it: its
    layers are Python code, so the clone cannot be assembled layer by layer."""
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "`clone_function` and `input_tensors` work with Sequential and functional models "
            f"only. Received a {type(model).__name__}: call clone_model(model) without them, or "
            "implement get_config() and use type(model).from_config(model.get_config())."
        )
    if call_function is not None:
        raise ValueError(
            "`call_function` works with functional models only. Received a "
            f"{type(model).__name__}."
        )
    from ..saving.serialization import deserialize_layer

    return deserialize_layer(serialize_layer(model),
                             custom_objects={type(model).__name__: type(model)}, safe_mode=False)


def _input_layers_of(input_tensors, count: int) -> list[InputLayer]:
    """The `InputLayer` behind each of `input_tensors` (checked: `count` tensors from `Input`)."""
    tensors = nest.flatten(input_tensors)
    layers = [getattr(getattr(getattr(t, "history", None), "node", None), "layer", None)
              for t in tensors]
    if len(tensors) != count or not all(isinstance(layer, InputLayer) for layer in layers):
        raise ValueError(
            f"`input_tensors` must be {count} tensor(s) made by `keras.Input`, one per input of "
            f"the model. Received: input_tensors={input_tensors!r}"
        )
    return layers
