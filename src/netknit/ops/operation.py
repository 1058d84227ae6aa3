"""Operations: `keras.ops` functions that a functional graph records on symbolic tensors.

Keras 3 lets a model be written with operators and `keras.ops` functions on symbolic tensors:

>>> inputs = Input((4, 3))
>>> outputs = ops.sum(Dense(3)(inputs) * 2, axis=1) + inputs[:, 0]
>>> model = Model(inputs, outputs)

Each call records an *operation* in the graph, as a layer call records a node. An operation is
a weightless `Layer` that Keras does not count as a layer: it is left out of `model.layers`, but
listed in `model.operations`, shown in `summary()`, and saved in the model config the way Keras
saves it (`{"module": "keras.src.ops.numpy", "class_name": "Sum", "config": {"axis": 1, ...}}`),
so configs move between Keras and netknit both ways. On real tensors the same functions compute
at once, with torch, and record nothing.

`keras_operation` turns a torch implementation with Keras's signature into both: the function
users call and the `Operation` class a graph records. As in Keras, the arguments split in two:
the tensors the call takes (`x`, or `x1 x2`) and the settings the operation keeps in its config
(`axis`, `keepdims`).
"""

from __future__ import annotations

import functools
import inspect

import torch
from torch import nn

from ..graph import nest
from ..graph.errors import ShapeError
from ..graph.node import Node
from ..graph.shapes import format_shape
from ..graph.symbolic import SymbolicTensor
from ..layers.layer import Layer

# Keras's class name -> operation class, for configs. Keras's names are unique across its
# `keras.src.ops.*` modules.
OPERATIONS: dict[str, type] = {}


class Operation(Layer):
    """A weightless graph node computing `function(*tensors, **config)`.

    Args:
        name: a unique name; by default the snake-case class name (`sum`, `get_item`, ...).
        **config: the operation's settings, by the names its `keras.ops` function gives them.
    """

    function = None  # the torch implementation, with the `keras.ops` function's signature
    keras_module = "keras.src.ops.numpy"
    call_parameters: tuple = ()  # the names of the arguments a call takes (tensors)
    config_parameters: dict = {}  # the settings' names and defaults
    _positional = True  # whether the call's arguments lead the function's signature
    _none_means: dict = {}  # settings whose None Keras saves as a value (`dtype` -> "float32")
    _follows_dtype_policy = False  # Keras's operations compute in their inputs' dtypes
    _fix = ("give the inputs shapes that broadcast: equal sizes, or 1, on each axis (e.g. a "
            "Dense or Reshape on one of them)")

    def __init__(self, *args, name=None, **config):
        super().__init__(name=name)
        if len(args) > len(self.config_parameters):
            raise TypeError(f"{type(self).__name__} takes the settings "
                            f"{list(self.config_parameters)}; got {len(args)} positional values.")
        config = {**dict(zip(self.config_parameters, args)), **config}
        unknown = sorted(set(config) - set(self.config_parameters))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {unknown}; its settings are "
                            f"{list(self.config_parameters)}.")
        self._config = {**self.config_parameters, **config}
        for key, value in self._none_means.items():
            if self._config[key] is None:
                self._config[key] = value
        self.built = True

    def __call__(self, *args, **kwargs):
        if any(isinstance(leaf, SymbolicTensor) for leaf in nest.flatten((args, kwargs))):
            return self._symbolic_call(args, kwargs)
        return nn.Module.__call__(self, *args, **kwargs)

    def forward(self, *args, **kwargs):
        if self._positional:
            return type(self).function(*args, **kwargs, **self._config)
        return type(self).function(**dict(zip(self.call_parameters, args)), **kwargs,
                                   **self._config)

    def _symbolic_call(self, args: tuple, kwargs: dict):
        symbolic = [t for t in nest.flatten((args, kwargs)) if isinstance(t, SymbolicTensor)]
        results = self._infer(args, kwargs, symbolic)
        if isinstance(results, SymbolicTensor):
            results.name = f"{self.name}/output"
        Node(self, args, kwargs, results)
        return results

    def _infer(self, args: tuple, kwargs: dict, symbolic: list):
        """Symbolic outputs, from running the operation on small stand-ins: ones with each
        unknown size set to two different values, so the sizes that follow them are unknown
        (`None`) in the result."""
        def stand_in(leaf, batch: int, other: int, device):
            if not isinstance(leaf, SymbolicTensor):
                return leaf
            dims = [(batch if i == 0 else other) if d is None else d
                    for i, d in enumerate(leaf.shape)]
            return torch.ones(dims, dtype=leaf.dtype.torch, device=device)

        def run(batch: int, other: int, device):
            convert = functools.partial(stand_in, batch=batch, other=other, device=device)
            with torch.no_grad():
                return self.forward(*nest.map_structure(convert, args),
                                    **nest.map_structure(convert, kwargs))

        runs = []
        for batch, other in ((2, 83), (3, 89)):
            try:
                # On the meta device first: shapes without computing (large unknown sizes
                # cost nothing); an operation whose result depends on values runs for real.
                try:
                    runs.append(run(batch, other, "meta"))
                except Exception:  # noqa: BLE001 (any failure on meta: run on real tensors)
                    runs.append(run(batch, other, None))
            except (RuntimeError, IndexError, TypeError, ValueError) as error:
                shapes = " and ".join(format_shape(t.shape) for t in symbolic)
                raise ShapeError(
                    f"On inputs of shape {shapes}: {str(error).splitlines()[0].rstrip('.')}.",
                    fix=self._fix,
                ).attach(self, symbolic) from None

        def symbolic_result(first, second):
            if not isinstance(first, torch.Tensor):
                raise TypeError(
                    f"{type(self).__name__} gives a Python value ({first!r}) that depends on the "
                    "data, which a symbolic tensor does not hold. Compute it inside a Lambda "
                    "layer or your own layer's call, on real tensors."
                )
            shape = tuple(a if a == b else None for a, b in zip(first.shape, second.shape))
            return SymbolicTensor(shape, first.dtype, name=f"{self.name}/output")

        first, second = runs
        return nest.pack_like(first, [symbolic_result(a, b) for a, b in
                                      zip(nest.flatten(first), nest.flatten(second))])

    def get_config(self) -> dict:
        return {"name": self.name, **{k: _jsonable(v) for k, v in self._config.items()}}

    @staticmethod
    def saved_arguments(args: list) -> list:
        """The call's arguments as replayed from a config, where JSON made tuples lists."""
        return args


def _jsonable(value):
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _is_symbolic_call(args: tuple, kwargs: dict) -> bool:
    # Only the top level and one list deep (`concatenate([x, y])`): this runs on every eager
    # call of a `keras.ops` function, inside layers' forward passes.
    for value in (*args, *kwargs.values()):
        if isinstance(value, SymbolicTensor):
            return True
        if isinstance(value, (list, tuple)) and any(isinstance(v, SymbolicTensor)
                                                    for v in value):
            return True
    return False


def keras_operation(module: str, class_name: str, call: str = "x", fix: str | None = None,
                    base: type = Operation, none_means: dict | None = None):
    """Make `function` (a torch implementation with Keras's signature) a `keras.ops` function.

    Called on real tensors, it computes at once. Called on symbolic tensors, it records an
    operation `class_name` of `keras.src.ops.<module>` taking the arguments named in `call`
    (space-separated) and keeping the others as its config.
    """

    def wrap(function):
        signature = inspect.signature(function)
        names = list(signature.parameters)
        call_names = tuple(call.split())
        variadic = [n for n in call_names
                    if signature.parameters[n].kind is inspect.Parameter.VAR_POSITIONAL]
        settings = {n: p.default for n, p in signature.parameters.items()
                    if n not in call_names and p.kind is not p.VAR_KEYWORD}
        attributes = {
            "function": staticmethod(function),
            "keras_module": f"keras.src.ops.{module}",
            "call_parameters": call_names,
            "config_parameters": settings,
            "_positional": tuple(names[:len(call_names)]) == call_names,
            "__doc__": f"The operation `keras.ops.{function.__name__}` records.",
            "__module__": function.__module__,
        }
        if fix is not None:
            attributes["_fix"] = fix
        if none_means:
            attributes["_none_means"] = none_means
        cls = type(class_name, (base,), attributes)
        OPERATIONS[class_name] = cls

        @functools.wraps(function)
        def operation(*args, **kwargs):
            if not _is_symbolic_call(args, kwargs):
                return function(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = bound.arguments
            tensors = [values[n] for n in call_names if n not in variadic]
            for n in variadic:  # `einsum(subscripts, *operands)`: the operands are the call's
                tensors.extend(values[n])
            return cls(**{n: values[n] for n in settings})(*tensors)

        operation.operation = cls
        return operation

    return wrap


def eager_only(function):
    """A `keras.ops` function that needs real tensors (its result depends on their values, or
    it takes Python callables); on symbolic tensors it says where to use it instead."""

    @functools.wraps(function)
    def eager(*args, **kwargs):
        if _is_symbolic_call(args, kwargs):
            raise TypeError(
                f"ops.{function.__name__} cannot run on symbolic tensors. Use it inside a Lambda "
                "layer or your own layer's call, where tensors are real."
            )
        return function(*args, **kwargs)

    return eager


def is_operation(layer) -> bool:
    return isinstance(layer, Operation)
