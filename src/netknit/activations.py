"""Activation functions by Keras name, and `get(identifier)` to resolve a name or a callable."""

from __future__ import annotations

import types
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .graph.errors import unknown_name_error
from .graph.symbolic import SymbolicTensor

# Each function computes with torch on a torch tensor, its fast path inside layers' forward
# passes. Anything else goes through `keras.ops`, as Keras's activations do: arrays and Python
# lists are converted as `keras.ops` converts them, and a symbolic tensor records the operation
# Keras records (`Sigmoid` of `keras.src.ops.nn`, `Exp` of `keras.src.ops.numpy`, ...).


def _ops():
    from . import ops  # ops build on layers, which build on this module

    return ops


_RELU_OPERATION = None


def _relu_operation():
    """The operation Keras's `activations.relu` records: `ReLU` of its activations module, with
    `negative_slope`, `max_value` and `threshold` in its config."""
    global _RELU_OPERATION
    if _RELU_OPERATION is None:
        from .ops.operation import keras_operation

        def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
            return globals()["relu"](_ops().core.tensor(x), negative_slope, max_value, threshold)

        operation = keras_operation("nn", "ReLU")(relu).operation
        operation.keras_module = "keras.src.activations.activations"
        operation.__module__ = __name__
        _RELU_OPERATION = operation
    return _RELU_OPERATION


def linear(x):
    return x


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        if isinstance(x, SymbolicTensor):
            return _relu_operation()(negative_slope=negative_slope, max_value=max_value,
                                     threshold=threshold)(x)
        return relu(_ops().core.tensor(x), negative_slope, max_value, threshold)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    out = torch.where(x > threshold, x, negative_slope * (x - threshold))
    return out if max_value is None else torch.clamp(out, max=max_value)


def relu6(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().relu6(x)
    return F.relu6(x)


def leaky_relu(x, negative_slope: float = 0.2):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().leaky_relu(x, negative_slope=negative_slope)
    return F.leaky_relu(x, negative_slope)


def elu(x, alpha: float = 1.0):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().elu(x, alpha=alpha)
    return F.elu(x, alpha)


def selu(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().selu(x)
    return F.selu(x)


def gelu(x, approximate: bool = False):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().gelu(x, approximate=approximate)
    return F.gelu(x, approximate="tanh" if approximate else "none")


def sigmoid(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().sigmoid(x)
    return torch.sigmoid(x)


def hard_sigmoid(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().hard_sigmoid(x)
    return F.hardsigmoid(x)


def hard_silu(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().hard_silu(x)
    return F.hardswish(x)


def tanh(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().tanh(x)
    return torch.tanh(x)


def softmax(x, axis: int = -1):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().softmax(x, axis=axis)
    return torch.softmax(x, dim=axis)


def log_softmax(x, axis: int = -1):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().log_softmax(x, axis=axis)
    return torch.log_softmax(x, dim=axis)


def softplus(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().softplus(x)
    return F.softplus(x)


def softsign(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().softsign(x)
    return F.softsign(x)


def silu(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().silu(x)
    return F.silu(x)


def mish(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        ops = _ops()
        if isinstance(x, SymbolicTensor):  # as operations Keras has: x * tanh(softplus(x))
            return ops.multiply(x, ops.tanh(ops.softplus(x)))
        return F.mish(ops.core.as_float(ops.core.tensor(x)))
    return F.mish(x)


def exponential(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().exp(x)
    return torch.exp(x)


def celu(x, alpha: float = 1.0):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().celu(x, alpha=alpha)
    return F.celu(x, alpha)


def glu(x, axis: int = -1):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().glu(x, axis=axis)
    return F.glu(x, dim=axis)


def tanh_shrink(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().tanh_shrink(x)
    return F.tanhshrink(x)


def hard_tanh(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().hard_tanh(x)
    return F.hardtanh(x)


def log_sigmoid(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().log_sigmoid(x)
    return F.logsigmoid(x)


def squareplus(x, b: float = 4):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().squareplus(x, b=b)
    return (x + torch.sqrt(x * x + b)) / 2


def sparse_plus(x):
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().sparse_plus(x)
    return torch.where(x <= -1, 0.0, torch.where(x >= 1, x, (x + 1) ** 2 / 4))


def hard_shrink(x, threshold: float = 0.5):
    """`x` where `|x| > threshold`, else 0."""
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().hard_shrink(x, threshold=threshold)
    return F.hardshrink(x, lambd=threshold)


def soft_shrink(x, threshold: float = 0.5):
    """`x` moved towards 0 by `threshold`, and 0 where `|x| <= threshold`."""
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().soft_shrink(x, threshold=threshold)
    return F.softshrink(x, lambd=threshold)


def sparse_sigmoid(x):
    """0 for `x <= -1`, 1 for `x >= 1`, and the line `(x + 1) / 2` between."""
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().sparse_sigmoid(x)
    return torch.where(x <= -1, 0.0, torch.where(x >= 1, 1.0, 0.5 * (x + 1)))


def sparsemax(x, axis: int = -1):
    """The Euclidean projection of `x` onto the probability simplex along `axis`: like softmax,
    a distribution, but exactly 0 below a threshold (Martins and Astudillo, 2016)."""
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().sparsemax(x, axis=axis)
    ranked = torch.sort(x, dim=axis, descending=True).values
    totals = ranked.cumsum(dim=axis)
    shape = [1] * x.dim()
    shape[axis] = -1
    ranks = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).view(shape)
    # The support is the k largest entries with 1 + k z_(k) > z_(1) + ... + z_(k).
    support = (ranked - (totals - 1) / ranks > 0).sum(dim=axis, keepdim=True)
    tau = (totals.gather(axis, support - 1) - 1) / support
    return torch.clamp(x - tau, min=0.0)


def threshold(x, threshold: float, default_value: float):
    """`x` where `x > threshold`, else `default_value`."""
    if not isinstance(x, torch.Tensor):  # arrays and symbolic tensors
        return _ops().threshold(x, threshold, default_value)
    return F.threshold(x, threshold, default_value)


ACTIVATIONS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (
        linear, relu, relu6, leaky_relu, elu, selu, gelu, sigmoid, hard_sigmoid, hard_silu, tanh,
        softmax, log_softmax, softplus, softsign, silu, mish, exponential, celu, glu, tanh_shrink,
        hard_tanh, log_sigmoid, squareplus, sparse_plus, hard_shrink, soft_shrink, sparse_sigmoid,
        sparsemax, threshold,
    )
}
# Keras's other names for the same functions.
ACTIVATIONS.update(swish=silu, hard_swish=hard_silu)
swish = silu
hard_swish = hard_silu


def get(identifier) -> Callable:
    """`None` → `linear`; a Keras name (`"relu"`) → the function; a callable → itself.

    A config dict as written by `serialize` (`{"class_name": "function", "config": "relu"}`) is
    accepted too, so saved models resolve their activations the same way.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
    if isinstance(identifier, str):
        if identifier not in ACTIVATIONS:
            from .saving.registry import get_registered_object  # saving builds on this module

            found = get_registered_object(identifier)  # a user's function, registered or in scope
            if callable(found):
                return found
            raise unknown_name_error("activation", identifier, ACTIVATIONS)
        return ACTIVATIONS[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret activation function identifier: expected an activation name such "
        f"as 'relu', a callable, or None. Received: {identifier!r}"
    )


def serialize(activation: Callable):
    """What Keras writes in a config: a built-in activation's name (`"relu"`); a user's function
    as Keras's function entry (`{"class_name": "function", "config": "my_fn", ...}`), by its
    registered name when it is registered."""
    for name, fn in ACTIVATIONS.items():
        if fn is activation:
            return name
    if hasattr(activation, "get_config"):
        return {"class_name": type(activation).__name__, "config": activation.get_config()}
    from .saving.serialization import serialize_function  # saving builds on this module

    entry = serialize_function(activation)
    # Keras writes any Python function named as one of its activations (`keras.ops.gelu`, as
    # keras.io's examples pass) by that name alone, and so loads it back as the activation.
    if isinstance(activation, types.FunctionType) and entry.get("config") in ACTIVATIONS:
        return entry["config"]
    return entry

def deserialize(config, custom_objects: dict | None = None):
    """The activation a name or a `serialize` config (Keras's too) describes; `custom_objects` maps
    names to the user's own activations."""
    from .saving.serialization import deserialize_family  # saving builds on this module

    return deserialize_family(get, config, custom_objects)
