"""Models: `Model` (functional or subclassed) and `Sequential`."""

from .functional import Functional as Functional
from .model import Model as Model
from .sequential import Sequential as Sequential
