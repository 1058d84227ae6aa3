"""`clone_model`: the same architecture with fresh weights."""

from __future__ import annotations

from ..layers.input_layer import InputLayer
from ..layers.layer import Layer
from .config import serialize_layer
from .from_config import functional_from_config
from .functional import Functional
from .sequential import Sequential


def _clone_layer(layer: Layer) -> Layer:
    from ..saving.serialization import deserialize_layer

    # The config comes from this process, not from a file, so a Lambda's code may be reused.
    return deserialize_layer(serialize_layer(layer), safe_mode=False)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False):
    """A new model with `model`'s architecture and newly initialized weights.

    Args:
        model: a `Sequential` or functional `Model`.
        input_tensors: not supported; the clone gets new inputs like the original's.
        clone_function: `fn(layer) -> layer` making each layer of the clone; by default a new
            layer from the original's config (same name, fresh weights).
        call_function: not supported; layers are called as in the original.
        recursive: also apply `clone_function` to the layers of nested models.

    >>> clone = clone_model(model)
    >>> clone.get_config() == model.get_config()
    True
    """
    if input_tensors is not None or call_function is not None:
        raise ValueError("clone_model does not support input_tensors= or call_function=.")
    if not isinstance(model, Functional):
        raise TypeError(
            f"clone_model clones Sequential and functional models. Received a "
            f"{type(model).__name__}; for a subclassed model, create a new instance instead."
        )
    given = clone_function or _clone_layer

    def clone(layer: Layer) -> Layer:
        if recursive and isinstance(layer, Functional):
            return clone_model(layer, clone_function=clone_function, recursive=True)
        return given(layer)

    if isinstance(model, Sequential):
        layers = [clone(layer) for layer in model.layers]
        if model._input_layer is not None:
            layers.insert(0, InputLayer.from_config(model._input_layer.get_config()))
        return Sequential(layers, name=model.name, trainable=model.trainable)
    originals = {layer.name: layer for layer in model.layers}

    def make_layer(entry: dict) -> Layer:
        original = originals[entry["name"]]
        if isinstance(original, InputLayer):
            return InputLayer.from_config(original.get_config())
        return clone(original)

    return functional_from_config(type(model), model.get_config(), make_layer=make_layer)
