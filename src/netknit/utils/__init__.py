"""User-facing helpers."""

from ..backend import is_keras_tensor as is_keras_tensor
from ..layers.layer import clear_session as clear_session
from ..saving import CustomObjectScope as CustomObjectScope
from ..saving import custom_object_scope as custom_object_scope
from ..saving import deserialize_keras_object as deserialize_keras_object
from ..saving import get_custom_objects as get_custom_objects
from ..saving import get_registered_name as get_registered_name
from ..saving import get_registered_object as get_registered_object
from ..saving import register_keras_serializable as register_keras_serializable
from ..saving import serialize_keras_object as serialize_keras_object
from ..training.progress import Progbar as Progbar
from .graph_inputs import get_source_inputs as get_source_inputs
from .model_visualization import model_to_svg as model_to_svg
from .model_visualization import plot_model as plot_model
from .numerical import normalize as normalize
from .numerical import to_categorical as to_categorical
from .py_dataset import PyDataset as PyDataset
from .py_dataset import Sequence as Sequence
from .py_dataset import pack_x_y_sample_weight as pack_x_y_sample_weight
from .py_dataset import unpack_x_y_sample_weight as unpack_x_y_sample_weight
from .random import set_random_seed as set_random_seed
from .sequences import pad_sequences as pad_sequences
from .timeseries import timeseries_dataset_from_array as timeseries_dataset_from_array
