"""`Sequential`: a functional model grown one layer at a time."""

from __future__ import annotations

from .. import dtype_policies
from ..graph.shapes import format_shape
from ..graph.symbolic import SymbolicTensor
from ..layers.input_layer import InputLayer
from ..layers.layer import Layer, building, unique_name
from .functional import Functional
from .model import Model

# What a Sequential model has only once its input shape is known (an AttributeError before, as
# in Keras).
_GRAPH_ATTRIBUTES = ("input", "output", "inputs", "outputs", "input_shape", "output_shape")


class Sequential(Functional):
    """A linear stack of layers: each layer's output is the next one's input.

    The input shape comes from an `Input` given as the first element, from `input_shape=` or
    `input_dim=` on the first layer, or from the first call on data (a deferred build). Once it is
    known, the model is a functional model over its layers, so shapes are checked as layers are
    added.

    Args:
        layers: a list of layers (the first may be an `Input`).
        name: the model's name (`"sequential"`, `"sequential_1"`, ... by default).

    >>> model = Sequential([Input((784,)), Dense(64, activation="relu"), Dense(10)])
    >>> model.output_shape
    (None, 10)
    """

    _allow_non_tensor_positional_args = False  # unlike a functional model's, as in Keras
    # Keras's Sequential calls its graph without its inputs' checks: data of other sizes (a
    # longer sequence than the first call's) runs, the number of axes must still fit.
    _call_checks_sizes = False

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        Model.__init__(self, name=name or unique_name("sequential"), trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._layer_list = []
        self.built = False
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()

    def add(self, layer, rebuild: bool = True) -> None:
        """Append a layer (or an `Input` as the very first element)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.producer, InputLayer):
            layer = layer.producer
        # ValueErrors, as Keras raises for these mistakes.
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only layers can be added to a Sequential model, e.g. model.add(Dense(8)). "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if layer is self:
            raise ValueError("A Sequential model cannot be added to itself.")
        taken = [self._input_layer, *self._stack]
        if any(other is not None and other is not layer and other.name == layer.name
               for other in taken):
            raise ValueError(
                f"Sequential model '{self.name}' already has a layer named '{layer.name}'. All "
                "layers in a model must have unique names: pass another name= to the new layer."
            )
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    "An Input can only be the first element of a Sequential model. "
                    f"Model '{self.name}' already has layers."
                )
            self._input_layer = layer
        else:
            if not self._stack and self._input_layer is None and layer._input_shape_arg:
                self._input_layer = InputLayer(shape=layer._input_shape_arg)
            self._stack.append(layer)
        if rebuild:
            self._rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            # An IndexError, as popping an empty list (and Keras's Sequential) raises.
            raise IndexError(f"There are no layers in model '{self.name}' to pop.")
        layer = self._stack.pop()
        if rebuild:
            self._rebuild()
        return layer

    def _rebuild(self) -> None:
        """Connect the layers on the known input shape (if any) into a functional graph."""
        first = self._stack[0] if self._stack else None
        if self._input_layer is None and isinstance(first, Functional) and first.built and (
            len(first.inputs) == 1
        ):
            # A built model as the first layer tells the input shape, as in Keras.
            self._input_layer = InputLayer(batch_shape=first.inputs[0].shape,
                                           dtype=first.inputs[0].dtype)
        if self._input_layer is None or not self._stack:
            self.built = False
            self._layer_list = list(self._stack)
            # A graph built before (then popped to nothing) no longer describes the model.
            for name in ("inputs", "outputs", "_input_structure", "_output_structure"):
                self.__dict__.pop(name, None)
            return
        # Keras builds an inner functional model here, which takes a "functional" name; taking
        # one too keeps the automatic names of later models the same as in Keras.
        unique_name("functional")
        inputs = self._input_layer._inbound_nodes[0].outputs[0]
        x = inputs
        # Each layer takes what the one before returns, several tensors included (an LSTM's
        # states for a Concatenate, or as the model's outputs), as in Keras.
        with building(self):  # the layers' weights are named under the model, as in Keras
            for layer in self._stack:
                x = layer(x)
        self._init_graph(inputs, x)

    def build(self, input_shape=None) -> None:
        """Build on inputs of `input_shape` (batch dimension included), as a first call would.

        Without a shape, a model whose input shape is known (it starts with an `Input`) is left
        as it is, as in Keras; one whose input shape is unknown cannot be built.
        """
        if input_shape is None and self._input_layer is not None:
            return
        if input_shape is None:
            raise ValueError(
                f"Cannot build Sequential '{self.name}' without an input shape: pass one, e.g. "
                "model.build((None, 16)), or start the model with Input(shape=...)."
            )
        if not self._stack:
            raise ValueError(
                f"Sequential model '{self.name}' cannot be built because it has no layers. Call "
                "`model.add(layer)`."
            )
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
        elif tuple(self._input_layer.batch_shape) != tuple(input_shape):
            raise ValueError(
                f"Sequential model '{self.name}' already takes inputs of shape "
                f"{format_shape(self._input_layer.batch_shape)}, so it cannot be built for "
                f"{format_shape(tuple(input_shape))}. Start a new model for the other shape."
            )
        self._rebuild()

    def _sublayers(self) -> list[Layer]:
        return list(self._stack)

    # Keras's Sequential is no functional model: it keeps a layer's add_loss.
    add_loss = Layer.add_loss

    @property
    def operations(self) -> list[Layer]:
        # A layer stack has no operations; Keras's summary of it lists `layers`.
        return self.layers

    @property
    def input_dtype(self) -> str:
        """The dtype of the model's `Input` when it starts with one (as Keras reports it), else
        the layer rule's."""
        if self._input_layer is not None:
            return dtype_policies.dtype_name(self._input_layer.dtype)
        return super().input_dtype

    def __getattr__(self, name: str):
        # Python comes here when an attribute is missing or a property raises AttributeError:
        # before the input shape is known, the graph's attributes say why they are missing.
        if name in _GRAPH_ATTRIBUTES and not self.__dict__.get("built", True):
            raise AttributeError(
                f"Sequential model '{self.name}' has no {name} yet: its input shape is unknown. "
                "Start it with Input(shape=...), pass input_shape= to the first layer, or call it "
                "on data once."
            )
        return super().__getattr__(name)

    def get_config(self) -> dict:
        from .config import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, safe_mode=True):
        """Rebuild the model from `get_config()`'s output (or Keras's); weights are fresh."""
        from .from_config import sequential_from_config

        return sequential_from_config(cls, config, custom_objects, safe_mode)
