"""User-facing helpers."""

from ..layers.layer import clear_session as clear_session
from .random import set_random_seed as set_random_seed
from ..training.progress import Progbar as Progbar
