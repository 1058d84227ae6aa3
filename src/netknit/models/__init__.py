"""Models: `Model` (functional or subclassed) and `Sequential`."""

from ..saving import load_model as load_model
from ..saving import save_model as save_model
from ..saving.serialization import model_from_json as model_from_json
from .cloning import clone_model as clone_model
from .functional import Functional as Functional
from .model import Model as Model
from .sequential import Sequential as Sequential
