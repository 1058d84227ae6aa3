"""netknit: the Keras model-building API, running natively on PyTorch.

>>> import netknit as keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
"""

from . import activations as activations
from . import backend as backend
from . import callbacks as callbacks
from . import constraints as constraints
from . import distributed as distributed
from . import initializers as initializers
from . import layers as layers
from . import losses as losses
from . import metrics as metrics
from . import models as models
from . import ops as ops
from . import optimizers as optimizers
from . import regularizers as regularizers
from . import saving as saving
from . import utils as utils
from .graph.errors import ShapeError as ShapeError
from .graph.symbolic import SymbolicTensor as SymbolicTensor
from .layers import Input as Input
from .layers import Layer as Layer
from .models import Model as Model
from .models import Sequential as Sequential

__version__ = "0.1.0"

__all__ = [
    "Input", "Layer", "Model", "Sequential", "ShapeError", "SymbolicTensor", "activations",
    "backend", "callbacks", "constraints", "distributed", "initializers", "layers", "losses",
    "metrics", "models", "ops", "optimizers", "regularizers", "saving", "utils",
]
