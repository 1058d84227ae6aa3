"""`Variable`: a weight that is a torch tensor and speaks Keras's variable API.

`layer.kernel` is the tensor `forward` computes with (trainable weights are `nn.Parameter`s,
listed by `parameters()`; the others are buffers), and it also has what Keras's variables have:
`name`, `path`, `value`, `numpy()`, `assign`, `assign_add`, `assign_sub`, `trainable`,
`regularizer`, `constraint`. Torch operations on a variable give plain tensors, and the variable
itself adds nothing to them (`__torch_function__` is torch's disabled one, as for
`nn.Parameter`).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import importlib

import numpy as np
import torch
from torch import nn

from . import dtype_policies
from . import initializers as initializers_module

# While a layer's output shape is inferred by running it on stand-in zeros, assignments are
# dropped: the stand-ins must not reach the state (Keras runs that call in a stateless scope).
_STATELESS = contextvars.ContextVar("netknit_stateless", default=False)


@contextlib.contextmanager
def stateless():
    """Drop every `assign`, `assign_add` and `assign_sub` made inside."""
    token = _STATELESS.set(True)
    try:
        yield
    finally:
        _STATELESS.reset(token)


class Variable(torch.Tensor):
    """A named tensor of state, as Keras's `keras.Variable`.

    Args:
        initializer: the initial value (an array, a tensor or a number), or an initializer (a
            name such as `"zeros"`, an `Initializer` or a callable taking `shape` and `dtype`),
            which then needs `shape`.
        shape: the shape, for an initializer.
        dtype: the dtype; by default the initial value's, or float32 for an initializer and
            floating numbers.
        trainable: whether training updates it (a `torch.nn.Parameter`) or not (a tensor kept
            as a buffer by a layer).
        autocast, aggregation, synchronization: accepted as in Keras.
        name: the name; `variable`, `variable_1`, ... by default. The path is the name under
            the open `name_scope`s and the layers being built (`outer/dense/name`).

    Example:

    >>> v = Variable(initializer="ones", shape=(2,), name="total", trainable=False)
    >>> v.assign_add(np.array([1.0, 2.0])).numpy()
    array([2., 3.], dtype=float32)

    Layers make theirs with `add_weight`, which names them under the layer (`dense/kernel`).
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    aggregation = "none"
    synchronization = "auto"
    overwrite_with_gradient = False
    regularizer = None
    constraint = None

    def __new__(cls, initializer=None, shape=None, dtype=None, trainable: bool = True,
                autocast: bool = True, aggregation: str = "none", synchronization: str = "auto",
                name: str | None = None):
        from .layers.layer import unique_name  # the layers' counter: Keras names both alike
        from .scopes import current_path  # the scopes module reads variables

        value = _initial_value(initializer, shape, dtype)
        name = name or unique_name("variable")
        scope = current_path()  # the open name scopes and the layers being built, as in Keras
        variable = as_variable(value, trainable=trainable,
                               path=f"{scope}/{name}" if scope else name)
        if aggregation != "none":
            variable.aggregation = aggregation
        if synchronization != "auto":
            variable.synchronization = synchronization
        return variable

    def __init__(self, *args, **kwargs):
        """Everything is done by `__new__` (a tensor is made there)."""

    @property
    def name(self) -> str:
        """The last part of the path: `kernel` for `dense/kernel`."""
        return self.path.rpartition("/")[2]

    @property
    def value(self) -> torch.Tensor:
        """The tensor itself (in Keras, the backend tensor behind the variable)."""
        return self

    @property
    def trainable(self) -> bool:
        return isinstance(self, nn.Parameter) and self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(self, nn.Parameter):
            if value:
                raise ValueError(
                    f"Variable '{self.path}' was made non-trainable (a buffer of its layer), so it "
                    "cannot be made trainable; create it with `trainable=True` to train it."
                )
            return
        self._trainable = bool(value)
        if self.is_floating_point():
            self.requires_grad_(bool(value))

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array (a copy on the host; bfloat16 comes back as float32)."""
        return dtype_policies.to_numpy(self)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def assign(self, value) -> "Variable":
        """Set the values to `value`, an array, tensor or number of the variable's shape."""
        value = self._as_value(value)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                "The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={tuple(self.shape)}, "
                f"Received: value.shape={tuple(value.shape)}. Target variable: {self.path}"
            )
        return self._in_place(torch.Tensor.copy_, value)

    def assign_add(self, value) -> "Variable":
        """Add `value` (broadcast to the variable's shape) to the values."""
        return self._in_place(torch.Tensor.add_, self._as_value(value))

    def assign_sub(self, value) -> "Variable":
        """Subtract `value` (broadcast to the variable's shape) from the values."""
        return self._in_place(torch.Tensor.sub_, self._as_value(value))

    def _in_place(self, operation, value: torch.Tensor) -> "Variable":
        if not _STATELESS.get():
            with torch.no_grad():
                operation(self, value)
        return self

    def _as_value(self, value) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value.detach().to(self.device, self.dtype)
        return torch.as_tensor(np.asarray(value), dtype=self.dtype, device=self.device)

    def __repr__(self, *, tensor_contents=None) -> str:
        # Formatted as Keras's f-string does: a scalar as the Python number it holds (float32's
        # 0.001 reads 0.0010000000474974513), other shapes as NumPy prints them.
        values = format(self.numpy())
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, "
                f"dtype={dtype_policies.dtype_name(self.dtype)}, value={values}>")

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        copied = torch.Tensor._make_subclass(
            type(self), self.detach().clone(memory_format=torch.preserve_format),
            self.requires_grad)
        memo[id(self)] = copied
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied

    def __reduce_ex__(self, protocol):
        # Pickled (torch.save of a whole module, multiprocessing) as the tensor it holds plus
        # its attributes; unpickled as a variable again.
        return (_rebuild, (type(self), self.detach(), self.requires_grad, self.__dict__))


class _TrainableVariable(Variable, nn.Parameter):
    """A trainable variable: an `nn.Parameter`, so modules list it in `parameters()`."""


class _StateVariable(Variable):
    """A non-trainable variable (moving statistics, counters, metric state)."""


# torch's optimizers run their multi-tensor (foreach and fused) kernels only on the tensor types
# listed here, as DTensor registers itself: variables are as good as parameters for them.
for _module in ("torch.optim.optimizer", "torch.utils._foreach_utils"):
    _supported = getattr(importlib.import_module(_module), "_foreach_supported_types", [])
    _supported.extend(t for t in (_TrainableVariable, _StateVariable) if t not in _supported)


def _rebuild(cls, tensor, requires_grad, state) -> Variable:
    variable = torch.Tensor._make_subclass(cls, tensor, requires_grad)
    variable.__dict__.update(state)
    return variable


def as_variable(tensor: torch.Tensor, *, trainable: bool, path: str) -> Variable:
    """`tensor`'s storage as a variable (trainable: an `nn.Parameter` that takes gradients where
    its dtype can), named by `path`."""
    cls = _TrainableVariable if trainable else _StateVariable
    variable = torch.Tensor._make_subclass(cls, tensor.detach(),
                                           trainable and tensor.is_floating_point())
    variable.path = path
    return variable


def rewrapped(old: Variable, tensor: torch.Tensor) -> Variable:
    """`tensor` (`old` moved or cast by a torch operation) as a variable like `old`."""
    if isinstance(tensor, Variable):
        return tensor
    return _rebuild(type(old), tensor, tensor.requires_grad, old.__dict__)


class HostNumber(_StateVariable):
    """A number kept on the host as a Python number, shown as a 0-d variable: an optimizer's
    step count and learning rate, which each step reads without waiting for a device. `showing`
    refreshes the variable when it is read; an assignment hands the new value back."""

    def __new__(cls, path: str, dtype: torch.dtype, set_number):
        number = torch.Tensor._make_subclass(cls, torch.zeros((), dtype=dtype), False)
        number.path = path
        number._set_number = set_number
        return number

    def showing(self, value) -> "HostNumber":
        self.fill_(value)
        return self

    def _in_place(self, operation, value: torch.Tensor) -> "HostNumber":
        super()._in_place(operation, value)
        self._set_number(self.item())
        return self


def _initial_value(initializer, shape, dtype) -> torch.Tensor:
    if isinstance(initializer, str) or isinstance(
            initializer, initializers_module.Initializer) or (
            callable(initializer) and not isinstance(initializer, (torch.Tensor, np.ndarray))):
        if shape is None:
            raise ValueError(
                "A Variable made from an initializer needs its `shape`: for example "
                f"`Variable(initializer={initializer!r}, shape=(3,))`. Received: shape=None."
            )
        torch_dtype = torch.float32 if dtype is None else dtype_policies.torch_dtype(dtype)
        value = initializers_module.get(initializer)(tuple(shape), dtype=torch_dtype)
        return torch.as_tensor(value, dtype=torch_dtype)
    if isinstance(initializer, torch.Tensor):
        value = initializer.detach().clone()
    else:
        array = np.asarray(initializer)
        if not isinstance(initializer, (np.ndarray, np.generic)):
            # Python numbers and lists: Keras's default dtypes, float32 and int32.
            array = array.astype(np.float32 if array.dtype.kind == "f" else
                                 np.int32 if array.dtype.kind in "iu" else array.dtype)
        value = torch.as_tensor(array.copy())
    if dtype is not None:
        value = value.to(dtype_policies.torch_dtype(dtype))
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ValueError(
            f"The initial value of shape {tuple(value.shape)} does not match the given "
            f"shape={tuple(shape)}. Pass a value of that shape, or leave `shape` out."
        )
    return value
