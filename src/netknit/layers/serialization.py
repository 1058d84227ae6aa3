"""`keras.layers.serialize` and `keras.layers.deserialize`: one layer to and from the config dict
Keras 3 writes for it (the same entry a saved model holds for each layer).

>>> entry = serialize(Dense(3))
>>> entry["class_name"], entry["config"]["units"]
('Dense', 3)
>>> deserialize(entry).units
3
"""

from __future__ import annotations


def serialize(layer) -> dict:
    """`{"module", "class_name", "config", "registered_name"}` for `layer`, with its
    `build_config` once it is built."""
    from ..saving.serialization import serialize_keras_object  # saving builds on the layers
    from .layer import Layer

    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize expects a layer. Received: {layer!r}")
    return serialize_keras_object(layer)


def deserialize(config: dict, custom_objects: dict | None = None):
    """The layer a `serialize` config (or Keras's) describes, built when it records a
    `build_config`. `custom_objects` maps class names to the user's own layer classes."""
    from ..saving.serialization import deserialize_layer  # saving builds on the layers

    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(
            "layers.deserialize expects a layer config dict with 'class_name' and 'config', as "
            f"layers.serialize gives. Received: {config!r}"
        )
    return deserialize_layer(config, custom_objects)
