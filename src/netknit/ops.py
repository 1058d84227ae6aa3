"""Operations on tensors that a functional graph records: `x + y`, `x * 2`, `-x`, `x[:, :3]`, ...

Keras 3 lets a model be written with Python's operators on symbolic tensors:

>>> inputs = Input((4,))
>>> outputs = Dense(4)(inputs) * 2 + inputs[:, :1]
>>> model = Model(inputs, outputs)

Each operator records an *operation* in the graph, as a layer call records a node. An operation is
a weightless `Layer` that Keras does not count as a layer: it is left out of `model.layers`, but
listed in `model.operations`, shown in `summary()`, and saved in the model config the way Keras
saves it (`{"module": "keras.src.ops.numpy", "class_name": "Multiply", ...}`, with constants and
slices in its call's arguments), so configs move between Keras and netknit both ways.

The functions here (`add`, `multiply`, `get_item`, ...) are the same operations, named as in
`keras.ops`: on symbolic tensors they record an operation, on real tensors they compute at once.
"""

from __future__ import annotations

import operator

import torch
from torch import nn

from .graph import nest
from .graph.errors import ShapeError
from .graph.node import Node
from .graph.shapes import format_shape
from .graph.symbolic import SymbolicTensor
from .layers.layer import Layer


class Operation(Layer):
    """A weightless graph node computing `function(*args)` with Python's operator semantics.

    Args:
        name: a unique name; by default the snake-case class name (`multiply`, `get_item`, ...).
    """

    function = None  # each operation's function of its arguments (tensors and constants)
    _fix = ("give the inputs shapes that broadcast: equal sizes, or 1, on each axis (e.g. a "
            "Dense or Reshape on one of them)")

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.built = True

    def __call__(self, *args):
        if any(isinstance(leaf, SymbolicTensor) for leaf in nest.flatten(args)):
            return self._symbolic_call(args, {})
        return nn.Module.__call__(self, *args)

    def forward(self, *args):
        return type(self).function(*args)

    def _symbolic_call(self, args: tuple, kwargs: dict) -> SymbolicTensor:
        symbolic = [t for t in nest.flatten(args) if isinstance(t, SymbolicTensor)]
        shape, dtype = self._infer(args, symbolic)
        output = SymbolicTensor(shape, dtype, name=f"{self.name}/output")
        Node(self, args, {}, output)
        return output

    def _infer(self, args: tuple, symbolic: list) -> tuple[tuple, torch.dtype]:
        """The output's shape and dtype, from running the operation on small stand-ins: ones with
        each unknown size set to two different values, so the sizes that follow them are unknown
        (`None`) in the result."""
        results = []
        for batch, other in ((2, 83), (3, 89)):
            def stand_in(leaf, batch=batch, other=other):
                if not isinstance(leaf, SymbolicTensor):
                    return leaf
                dims = [(batch if i == 0 else other) if d is None else d
                        for i, d in enumerate(leaf.shape)]
                return torch.ones(dims, dtype=leaf.dtype)

            try:
                with torch.no_grad():
                    results.append(self.forward(*nest.map_structure(stand_in, args)))
            except (RuntimeError, IndexError, TypeError, ValueError) as error:
                shapes = " and ".join(format_shape(t.shape) for t in symbolic)
                raise ShapeError(
                    f"On inputs of shape {shapes}: {str(error).splitlines()[0]}.",
                    fix=self._fix,
                ).attach(self, symbolic) from None
        first, second = (tuple(r.shape) for r in results)
        shape = tuple(a if a == b else None for a, b in zip(first, second))
        return shape, results[0].dtype

    def get_config(self) -> dict:
        return {"name": self.name}

    @staticmethod
    def saved_arguments(args: list) -> list:
        """The call's arguments as replayed from a config, where JSON made tuples lists."""
        return args


def _operation(class_name: str, function, doc: str, fix: str | None = None,
               base: type = Operation) -> type:
    attributes = {"function": staticmethod(function), "__doc__": doc, "__module__": __name__}
    if fix is not None:
        attributes["_fix"] = fix
    return type(class_name, (base,), attributes)


class _GetItem(Operation):
    def _symbolic_call(self, args: tuple, kwargs: dict) -> SymbolicTensor:
        key = args[1]
        if any(isinstance(k, list) for k in (key if isinstance(key, tuple) else (key,))):
            # A config could not tell such a key from a tuple of indices, as in Keras.
            raise TypeError(
                f"Indexing a symbolic tensor with a list ({key!r}) is not supported. Index with "
                "ints, slices, None and `...`, or select the entries with a layer."
            )
        return super()._symbolic_call(args, kwargs)

    @staticmethod
    def saved_arguments(args: list) -> list:
        # A saved key `[slice, 0]` was the tuple `(slice, 0)`: one entry per axis.
        tensor, key = args
        return [tensor, tuple(key) if isinstance(key, list) else key]


Add = _operation("Add", operator.add, "`x + y`.")
Subtract = _operation("Subtract", operator.sub, "`x - y`.")
Multiply = _operation("Multiply", operator.mul, "`x * y`.")
TrueDivide = _operation("TrueDivide", operator.truediv, "`x / y`.")
FloorDivide = _operation("FloorDivide", operator.floordiv, "`x // y`.")
Mod = _operation("Mod", operator.mod, "`x % y`.")
Power = _operation("Power", operator.pow, "`x ** y`.")
Matmul = _operation("Matmul", operator.matmul, "`x @ y`.",
                    fix="make the last axis of the first input equal to the second-to-last axis "
                        "of the second (e.g. with a Dense or Reshape)")
Negative = _operation("Negative", operator.neg, "`-x`.")
Absolute = _operation("Absolute", torch.abs, "`abs(x)`.")
Less = _operation("Less", operator.lt, "`x < y`.")
LessEqual = _operation("LessEqual", operator.le, "`x <= y`.")
Greater = _operation("Greater", operator.gt, "`x > y`.")
GreaterEqual = _operation("GreaterEqual", operator.ge, "`x >= y`.")
GetItem = _operation("GetItem", operator.getitem, "`x[key]`: indexing and slicing.",
                     fix="index within the input's shape; the batch axis (the first) is best "
                         "left whole, with `x[:, ...]`", base=_GetItem)

# Keras's class names, for configs (`module: keras.src.ops.numpy`).
OPERATIONS = {cls.__name__: cls for cls in (
    Add, Subtract, Multiply, TrueDivide, FloorDivide, Mod, Power, Matmul, Negative, Absolute,
    Less, LessEqual, Greater, GreaterEqual, GetItem)}


def is_operation(layer) -> bool:
    return isinstance(layer, Operation)


def _function(cls, name: str):
    def apply(*args):
        if any(isinstance(leaf, SymbolicTensor) for leaf in nest.flatten(args)):
            return cls()(*args)
        return cls.function(*args)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"{cls.__doc__} On symbolic tensors, records a `{cls.__name__}` operation."
    return apply


add = _function(Add, "add")
subtract = _function(Subtract, "subtract")
multiply = _function(Multiply, "multiply")
true_divide = _function(TrueDivide, "true_divide")
floor_divide = _function(FloorDivide, "floor_divide")
mod = _function(Mod, "mod")
power = _function(Power, "power")
matmul = _function(Matmul, "matmul")
negative = _function(Negative, "negative")
absolute = _function(Absolute, "absolute")
less = _function(Less, "less")
less_equal = _function(LessEqual, "less_equal")
greater = _function(Greater, "greater")
greater_equal = _function(GreaterEqual, "greater_equal")
get_item = _function(GetItem, "get_item")


def __getattr__(name: str):
    # `keras.ops` has hundreds of functions; say which ones exist here and what to use instead.
    from .graph.errors import did_you_mean

    available = sorted(n for n, v in globals().items()
                       if callable(v) and getattr(v, "__module__", None) == __name__
                       and not n.startswith("_") and n[0].islower() and n != "is_operation")
    raise AttributeError(
        f"netknit.ops has no '{name}'.{did_you_mean(name, available)} It has the operations "
        f"that Python's operators record on symbolic tensors: {', '.join(available)}. Inside a "
        "Lambda or your own layer, tensors are torch tensors: use torch (e.g. torch.cat, "
        "torch.mean)."
    )
