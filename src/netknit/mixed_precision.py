"""`keras.mixed_precision`: float16 or bfloat16 computation with float32 weights.

>>> import netknit as keras
>>> keras.mixed_precision.set_global_policy("mixed_bfloat16")
>>> keras.layers.Dense(4).compute_dtype
'bfloat16'
>>> keras.mixed_precision.set_global_policy("float32")

Layers made under a mixed policy compute in the 16-bit type and keep float32 weights; give the
last layer `dtype="float32"` (`Activation("softmax", dtype="float32")`) for float32 outputs.
Under `"mixed_float16"`, `compile` wraps the optimizer in a `LossScaleOptimizer`.
"""

from .dtype_policies import DTypePolicy as DTypePolicy
from .dtype_policies import dtype_policy as dtype_policy
from .dtype_policies import set_dtype_policy as set_dtype_policy
from .optimizers.loss_scale_optimizer import LossScaleOptimizer as LossScaleOptimizer

# Keras's older names of the same things.
Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy"]
