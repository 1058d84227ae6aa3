"""User-facing helpers."""

from ..layers.layer import clear_session as clear_session
from ..training.progress import Progbar as Progbar
from .model_visualization import model_to_svg as model_to_svg
from .model_visualization import plot_model as plot_model
from .numerical import normalize as normalize
from .numerical import to_categorical as to_categorical
from .random import set_random_seed as set_random_seed
