"""Keras's scopes: `name_scope` (where variable paths start), `StatelessScope` (computing with
given values for the variables, leaving them unchanged) and `SymbolicScope` (the shape-inference
stage), and `stateless_call`, the layer method built on `StatelessScope`.

Paths: a weight's path is the names of the open name scopes and of the layers being built, then
its layer's name and its own (`outer/block/dense/kernel`). Layers push themselves on the same
stack while they build (`layers/layer.py::building`), so the two nest in the order they opened.

>>> with name_scope("encoder"):
...     dense = keras.layers.Dense(4)
...     dense.build((None, 3))
>>> dense.kernel.path
'encoder/dense/kernel'
"""

from __future__ import annotations

import contextvars

import numpy as np
import torch
from torch.overrides import TorchFunctionMode
from torch.utils import _pytree

from .variables import Variable

# The open name scopes and the layers being built, outermost first; each has a `name`.
PATH_SCOPES: contextvars.ContextVar[tuple] = contextvars.ContextVar("netknit_path_scopes",
                                                                    default=())
_SYMBOLIC: contextvars.ContextVar[bool] = contextvars.ContextVar("netknit_symbolic",
                                                                 default=False)


class name_scope:  # noqa: N801 (Keras's name)
    """Start the paths of the variables made inside with `name`.

    Args:
        name: the path part; a string without `/`.
        caller: the object opening the scope (a layer opens one with its own name as it builds).
        deduplicate: with a `caller`, a scope of the same name and caller as the innermost open
            one adds nothing (a layer's build calling its own build).
        override_parent: a path that replaces the enclosing scopes' for this one and those
            inside it.

    Variables made inside (a layer's weights when it is built inside, or `keras.Variable`)
    have paths that start with the scopes' names: a layer made inside but built outside is not
    affected, as in Keras. Layer names are not changed.

    >>> with name_scope("outer"):
    ...     with name_scope("inner"):
    ...         v = keras.Variable(1.0, name="v")
    >>> v.path
    'outer/inner/v'
    """

    def __init__(self, name: str, caller=None, deduplicate: bool = True,
                 override_parent: str | None = None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name!r}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._token = None

    def __enter__(self) -> "name_scope":
        scopes = PATH_SCOPES.get()
        if self.deduplicate and self.caller is not None and scopes:
            innermost = scopes[-1]
            # A layer on the stack is the scope it opens for itself: its name, it the caller.
            caller = innermost.caller if isinstance(innermost, name_scope) else innermost
            if caller is self.caller and innermost.name == self.name:
                return self
        self._token = PATH_SCOPES.set((*scopes, self))
        return self

    def __exit__(self, *exc) -> None:
        if self._token is not None:
            PATH_SCOPES.reset(self._token)
            self._token = None


def current_path(exclude=None) -> str:
    """The path the open name scopes and the layers being built give (`"outer/block"`), leaving
    out `exclude` (the layer whose weight is being named adds its own name)."""
    parts = []
    for scope in PATH_SCOPES.get():
        if scope is exclude:
            continue
        if isinstance(scope, name_scope) and scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


class SymbolicScope:
    """Marks the symbolic stage: netknit runs a layer on stand-in tensors to infer its output
    shape inside this scope (with assignments to variables dropped), so a layer can skip work
    that only real data needs (`netknit.scopes.in_symbolic_scope()`)."""

    def __enter__(self) -> "SymbolicScope":
        self._token = _SYMBOLIC.set(True)
        return self

    def __exit__(self, *exc) -> None:
        _SYMBOLIC.reset(self._token)


def in_symbolic_scope() -> bool:
    """Whether a `SymbolicScope` is open (the layer runs on stand-ins for shape inference)."""
    return _SYMBOLIC.get()


class StatelessScope:
    """Compute with given values for variables, and keep every change to variables in the
    scope, not in the variables.

    Args:
        state_mapping: `(variable, value)` pairs: inside, torch operations given the variable
            (a layer's `forward` reading its weights) compute with the value instead, of the
            variable's shape, cast to its dtype.
        collect_losses: Keras collects the losses layers add inside; netknit keeps them on the
            layers (`layer.losses`), so only False is accepted.
        initialize_variables: accepted for Keras's signature: netknit's variables are made
            initialized.

    Inside, `assign`, `assign_add`, `assign_sub` and torch's in-place operations on a variable
    (BatchNormalization's moving statistics) change a copy that the scope keeps;
    `get_current_value(variable)` gives it (or the value given), and the variable itself is
    unchanged when the scope closes. Changes made inside torch kernels that write to their
    arguments without an in-place name (`torch.batch_norm` in training) reach a variable unless
    it is in `state_mapping` (then they change the scope's copy).

    >>> values = [(w, torch.zeros_like(w)) for w in model.weights]
    >>> with StatelessScope(state_mapping=values) as scope:
    ...     zeros = model(x)  # computed with zero weights; model.weights are unchanged
    """

    def __init__(self, state_mapping=None, collect_losses: bool = False,
                 initialize_variables: bool = True):
        if collect_losses:
            raise NotImplementedError(
                "StatelessScope(collect_losses=True) is not supported: netknit keeps the losses "
                "a call adds on its layers. Read `layer.losses` inside the scope instead (or use "
                "`layer.stateless_call(..., return_losses=True)`).")
        self.collect_losses = False
        self.initialize_variables = initialize_variables
        self.losses = []
        self.state_mapping: dict[int, torch.Tensor] = {}
        # The variables by id (kept alive while the scope is, so that ids stay theirs), and the
        # ids of the copies the scope made for writes.
        self._variables: dict[int, torch.Tensor] = {}
        self._copies: set[int] = set()
        for variable, value in state_mapping or ():
            if not isinstance(variable, torch.Tensor):
                raise ValueError("Invalid reference variable in StatelessScope: all keys in "
                                 "argument `mapping` must be variables (layer weights). "
                                 f"Received instead: {variable!r}")
            value = self._as_value(variable, value)
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    "Invalid variable value in StatelessScope: all values in argument `mapping` "
                    "must be tensors with a shape that matches the corresponding variable shape. "
                    f"For variable {getattr(variable, 'path', tuple(variable.shape))}, received "
                    f"a value of shape {tuple(value.shape)}.")
            self.add_update((variable, value))
        self._mode = None

    @staticmethod
    def _as_value(variable: torch.Tensor, value) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value.to(variable.device, variable.dtype)
        return torch.as_tensor(np.asarray(value), dtype=variable.dtype, device=variable.device)

    def add_update(self, update) -> None:
        """Record `(variable, value)`: the variable's value inside the scope from now on."""
        variable, value = update
        self._variables[id(variable)] = variable
        self.state_mapping[id(variable)] = value

    def add_loss(self, loss) -> None:
        self.losses.append(loss)

    def get_current_value(self, variable) -> torch.Tensor | None:
        """The variable's value in the scope: given, or changed inside; None if neither."""
        return self.state_mapping.get(id(variable))

    def _current(self, leaf):
        if isinstance(leaf, torch.Tensor):
            value = self.state_mapping.get(id(leaf))
            if value is not None:
                return value
        return leaf

    def _writable(self, variable: torch.Tensor) -> torch.Tensor:
        """The scope's own copy of `variable`'s value, for an in-place change."""
        value = self.state_mapping.get(id(variable))
        if value is None or id(value) not in self._copies:
            value = (variable if value is None else value).detach().clone()
            self._copies.add(id(value))
            self.add_update((variable, value))
        return value

    def __enter__(self) -> "StatelessScope":
        self._mode = _ValuesFromScope(self)
        self._mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._mode.__exit__(*exc)
        self._mode = None


# Python's in-place operators, as torch passes them to a mode (`v += 1`, `v[0] = 1`).
_IN_PLACE_DUNDERS = frozenset(
    f"__i{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and",
                            "or", "xor", "lshift", "rshift", "matmul")) | {"__setitem__"}


def _writes_first_argument(func) -> bool:
    name = getattr(func, "__name__", "")
    return (name.endswith("_") and not name.endswith("__")) or name in _IN_PLACE_DUNDERS


class _ValuesFromScope(TorchFunctionMode):
    """Every torch operation inside a `StatelessScope`: a variable argument is replaced by its
    value in the scope, and one the operation writes to by the scope's copy."""

    def __init__(self, scope: StatelessScope):
        super().__init__()
        self.scope = scope

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        scope = self.scope
        if args and _writes_first_argument(func) and isinstance(args[0], torch.Tensor) and (
                id(args[0]) in scope._variables or _is_variable(args[0])):
            args = (scope._writable(args[0]), *args[1:])
        out = kwargs.get("out")
        if isinstance(out, torch.Tensor) and _is_variable(out):
            kwargs = {**kwargs, "out": scope._writable(out)}
        args, kwargs = _pytree.tree_map(scope._current, (args, kwargs))
        return func(*args, **kwargs)


def _is_variable(tensor: torch.Tensor) -> bool:
    return isinstance(tensor, (Variable, torch.nn.Parameter))


def stateless_call(layer, trainable_variables, non_trainable_variables, *args,
                   return_losses: bool = False, **kwargs):
    """`layer(*args, **kwargs)` computed with the given weight values, changing no weight: see
    `Layer.stateless_call`."""
    if not layer.built:
        raise ValueError(f"To call stateless_call, {type(layer).__name__} must be built (i.e. "
                         "its variables must have been already created). You can build it by "
                         "calling it on some data.")
    expected = {"trainable_variables": (trainable_variables, layer.trainable_variables),
                "non_trainable_variables": (non_trainable_variables,
                                            layer.non_trainable_variables)}
    for argument, (given, variables) in expected.items():
        if len(given) != len(variables):
            raise ValueError(
                f"Argument `{argument}` must be a list of tensors corresponding 1:1 to "
                f"{type(layer).__name__}().{argument}. Received list with length {len(given)}, "
                f"but expected {len(variables)} variables.")
    mapping = [*zip(layer.trainable_variables, trainable_variables),
               *zip(layer.non_trainable_variables, non_trainable_variables)]
    with StatelessScope(state_mapping=mapping) as scope:
        outputs = layer(*args, **kwargs)
        losses = layer.losses if return_losses else None
    non_trainable = [scope.get_current_value(v) for v in layer.non_trainable_variables]
    if return_losses:
        return outputs, non_trainable, losses
    return outputs, non_trainable
