"""Saving and loading: the `.keras` file, weights files, and configs in Keras 3's format."""

from .archive import load_model as load_model
from .archive import load_weights as load_weights
from .archive import save_model as save_model
from .archive import save_weights as save_weights
from .file_editor import KerasFileEditor as KerasFileEditor
from .registry import CustomObjectScope as CustomObjectScope
from .registry import SavingError as SavingError
from .registry import custom_object_scope as custom_object_scope
from .registry import get_custom_objects as get_custom_objects
from .registry import get_registered_object as get_registered_object
from .registry import register_keras_serializable as register_keras_serializable
from .registry import saved_name as get_registered_name
from .serialization import deserialize_keras_object as deserialize_keras_object
from .serialization import serialize_keras_object as serialize_keras_object

__all__ = [
    "CustomObjectScope", "KerasFileEditor", "SavingError", "custom_object_scope",
    "deserialize_keras_object", "get_custom_objects", "get_registered_name",
    "get_registered_object", "load_model", "load_weights",
    "register_keras_serializable", "save_model", "save_weights", "serialize_keras_object",
]
