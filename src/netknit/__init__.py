"""netknit: the Keras model-building API, running natively on PyTorch.

>>> import netknit as keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
"""

from . import activations as activations
from . import applications as applications
from . import backend as backend
from . import callbacks as callbacks
from . import config as config
from . import constraints as constraints
from . import datasets as datasets
from . import distributed as distributed
from . import dtype_policies as dtype_policies
from . import export as export
from . import initializers as initializers
from . import layers as layers
from . import losses as losses
from . import metrics as metrics
from . import mixed_precision as mixed_precision
from . import models as models
from . import ops as ops
from . import optimizers as optimizers
from . import preprocessing as preprocessing
from . import random as random
from . import regularizers as regularizers
from . import saving as saving
from . import tree as tree
from . import utils as utils
from . import visualization as visualization
from . import wrappers as wrappers
from .backend import device as device
from .dtype_policies import DTypePolicy as DTypePolicy
from .dtype_policies import FloatDTypePolicy as FloatDTypePolicy
from .graph.errors import ShapeError as ShapeError
from .graph.symbolic import SymbolicTensor as SymbolicTensor
from .initializers import Initializer as Initializer
from .layers import Input as Input
from .layers import InputSpec as InputSpec
from .layers import Layer as Layer
from .losses import Loss as Loss
from .metrics import Metric as Metric
from .models import Model as Model
from .models import Sequential as Sequential
from .ops import Operation as Operation
from .optimizers import Optimizer as Optimizer
from .regularizers import Regularizer as Regularizer
from .remat import RematScope as RematScope
from .remat import remat as remat
from .scopes import StatelessScope as StatelessScope
from .scopes import SymbolicScope as SymbolicScope
from .scopes import name_scope as name_scope
from .variables import Variable as Variable

__version__ = "0.1.0"
# Keras's name for the placeholder tensors that `Input` and symbolic layer calls return.
KerasTensor = SymbolicTensor


def version() -> str:
    return __version__

__all__ = [
    "DTypePolicy", "FloatDTypePolicy", "Initializer", "Input", "InputSpec", "KerasTensor",
    "Layer", "Loss", "Metric", "Model", "Operation", "Optimizer", "Regularizer", "RematScope",
    "Sequential", "ShapeError", "StatelessScope", "SymbolicScope", "SymbolicTensor", "Variable",
    "activations", "applications",
    "backend", "callbacks", "config", "constraints", "datasets", "device", "distributed",
    "dtype_policies", "export", "initializers", "layers", "losses", "metrics", "mixed_precision",
    "models", "name_scope", "ops", "optimizers", "preprocessing", "random", "regularizers",
    "remat", "saving", "tree", "utils", "version", "visualization", "wrappers",
]
