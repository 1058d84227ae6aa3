"""Wrapper: the base of layers that take another layer and change how it is applied.

A wrapper keeps the wrapped layer as its `layer` sublayer (so its weights are listed and saved
under `layer`, as Keras does), builds it when it is built, and saves it inside its own config,
with the shape it was built for, so that loading rebuilds it with its weights in place.
`TimeDistributed` and `SpectralNormalization` are wrappers; `Bidirectional` uses the same config
helpers.
"""

from __future__ import annotations

from .layer import Layer


def serialize_wrapped(layer: Layer, build_shape: tuple | None) -> dict:
    """A wrapped layer's entry in its wrapper's config, as Keras writes it."""
    entry = {
        "module": "keras.layers",
        "class_name": type(layer).__name__,
        "config": layer.get_config(),
        "registered_name": None,
    }
    if build_shape is not None:
        entry["build_config"] = {"input_shape": tuple(build_shape)}
    return entry


def deserialize_wrapped(entry) -> Layer:
    """The layer of a wrapper's config entry (or the layer itself, when given one)."""
    if isinstance(entry, Layer):
        return entry
    from .. import layers as layers_package  # the package that holds this module, loaded by now

    cls = getattr(layers_package, entry["class_name"], None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"Unknown layer class {entry['class_name']!r} in a wrapper's config.")
    return cls.from_config(entry["config"])


def build_shape_of(entry) -> tuple | None:
    """The input shape a wrapped layer's config entry records, if any."""
    shape = entry.get("build_config", {}).get("input_shape") if isinstance(entry, dict) else None
    return None if shape is None else tuple(shape)


class Wrapper(Layer):
    """The base class of wrappers: layers that apply another layer in some way.

    Subclasses define `forward` (calling `self.layer`) and `compute_output_shape`; the base
    checks the argument, builds the wrapped layer and saves it in the config.

    Args:
        layer: the layer to wrap.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__} wraps a Layer, such as Dense(8). Received: "
                             f"layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self._build_shape = None  # the shape the wrapped layer was built for, saved with it

    def build(self, input_shape):
        self._build_shape = tuple(input_shape)
        if not self.layer.built:
            self.layer._build_once(self._build_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_wrapped(self.layer, self._build_shape)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        build_shape = build_shape_of(config["layer"])
        config["layer"] = deserialize_wrapped(config["layer"])
        wrapper = cls(**config)
        # The saved wrapped layer records the shape it was built for: build it now, as Keras
        # does on load, so that its weights exist to be loaded.
        if build_shape is not None:
            if not wrapper.layer.built:
                wrapper.layer._build_once(build_shape)
            wrapper._build_shape = build_shape
        return wrapper
