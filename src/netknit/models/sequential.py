"""`Sequential`: a functional model grown one layer at a time."""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor
from ..layers.input_layer import InputLayer
from ..layers.layer import Layer, unique_name
from .functional import Functional
from .model import Model


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
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    "An Input can only be the first element of a Sequential model. "
                    f"Model '{self.name}' already has layers."
                )
            self._input_layer = layer
        elif isinstance(layer, Layer):
            if layer is self:
                raise ValueError("A Sequential model cannot be added to itself.")
            if not self._stack and self._input_layer is None and layer._input_shape_arg:
                self._input_layer = InputLayer(shape=layer._input_shape_arg)
            self._stack.append(layer)
        else:
            raise TypeError(
                "Only layers can be added to a Sequential model, e.g. model.add(Dense(8)). "
                f"Received: {layer!r}"
            )
        if rebuild:
            self._rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise TypeError(f"There are no layers in model '{self.name}' to pop.")
        layer = self._stack.pop()
        if rebuild:
            self._rebuild()
        return layer

    def _rebuild(self) -> None:
        """Connect the layers on the known input shape (if any) into a functional graph."""
        if self._input_layer is None or not self._stack:
            self.built = False
            self._layer_list = list(self._stack)
            return
        # Keras builds an inner functional model here, which takes a "functional" name; taking
        # one too keeps the automatic names of later models the same as in Keras.
        unique_name("functional")
        inputs = self._input_layer._inbound_nodes[0].outputs[0]
        x = inputs
        for layer in self._stack:
            x = layer(x)
            if not isinstance(x, SymbolicTensor):
                raise ValueError(
                    f"Layer '{layer.name}' returns several tensors, which a Sequential model "
                    "cannot pass on to the next layer. Use the functional API "
                    "(Model(inputs, outputs))."
                )
        self._init_graph(inputs, x)

    def build(self, input_shape=None) -> None:
        """Build on inputs of `input_shape` (batch dimension included), as a first call would."""
        if input_shape is None:
            raise ValueError(f"Cannot build Sequential '{self.name}' without an input shape.")
        if not self._stack:
            raise ValueError(
                f"Sequential model '{self.name}' cannot be built because it has no layers. Call "
                "`model.add(layer)`."
            )
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
        self._rebuild()

    def _sublayers(self) -> list[Layer]:
        return list(self._stack)

    @property
    def operations(self) -> list[Layer]:
        # A layer stack has no operations; Keras's summary of it lists `layers`.
        return self.layers

    @property
    def input(self):
        self._require_built("input")
        return super().input

    @property
    def output(self):
        self._require_built("output")
        return super().output

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"Sequential model '{self.name}' has no {what} yet: its input shape is unknown. "
                "Start it with Input(shape=...), pass input_shape= to the first layer, or call it "
                "on data once."
            )

    def get_config(self) -> dict:
        from .config import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, safe_mode=True):
        """Rebuild the model from `get_config()`'s output (or Keras's); weights are fresh."""
        from .from_config import sequential_from_config

        return sequential_from_config(cls, config, custom_objects, safe_mode)
