"""Wrappers around other layers: Bidirectional (an RNN read both ways) and TimeDistributed."""

from __future__ import annotations

import torch
from torch import nn

from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .layer import Layer
from .recurrent import RecurrentLayer
from .wrapper import Wrapper, build_shape_of, deserialize_wrapped, serialize_wrapped

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _renamed_copy(layer: RecurrentLayer, prefix: str, **changes) -> RecurrentLayer:
    """A new layer from `layer`'s config, named `<prefix><name>` (as Keras names the directions)."""
    config = {**layer.get_config(), **changes}
    config["name"] = prefix + config["name"].removeprefix(prefix)
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the two outputs.

    The wrapped layer is copied from its config into `forward_<name>`; the backward layer is
    `backward_layer`, or a copy `backward_<name>` that reads in the other direction. Weights are
    listed forward layer first, then backward layer, as in Keras. With `return_sequences`, the
    backward outputs are flipped back into time order before merging.

    Args:
        layer: an `LSTM`, `GRU`, `SimpleRNN` or `RNN` of cells.
        merge_mode: how to combine the two outputs: `"concat"` (default), `"sum"`, `"mul"`,
            `"ave"`, or None for the list `[forward_output, backward_output]`.
        backward_layer: an optional recurrent layer for the backward direction; it must have the
            same `return_sequences` and `return_state` as `layer` and read the other way.

    Input shape: `(batch, timesteps, features)`.
    Output shape: the wrapped layer's, with twice the units under `"concat"`; with `return_state`,
    `(output, *forward_states, *backward_states)`.

    >>> Bidirectional(LSTM(4))(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 8])
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, RecurrentLayer):
            raise ValueError(
                "Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN or RNN). "
                f"Received: layer={layer!r}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Expected merge_mode to be one of {_MERGE_MODES}. Received: "
                f"merge_mode={merge_mode!r}"
            )
        self.merge_mode = merge_mode
        self.forward_layer = _renamed_copy(layer, "forward_")
        if backward_layer is None:
            self.backward_layer = _renamed_copy(layer, "backward_",
                                                go_backwards=not layer.go_backwards)
        else:
            self._check_backward_layer(layer, backward_layer)
            self.backward_layer = backward_layer
        # With sequences out, masked steps give zeros so the two directions line up (Keras's rule).
        for direction in (self.forward_layer, self.backward_layer):
            direction.zero_output_for_mask = direction.return_sequences
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self._build_shape = None

    @staticmethod
    def _check_backward_layer(layer, backward_layer):
        if not isinstance(backward_layer, RecurrentLayer):
            raise ValueError(
                "Bidirectional's backward_layer must be a recurrent layer (LSTM, GRU, SimpleRNN "
                f"or RNN). Received: backward_layer={backward_layer!r}"
            )
        if backward_layer.go_backwards == layer.go_backwards:
            raise ValueError(
                "Bidirectional's layer and backward_layer must read in opposite directions, but "
                f"both have go_backwards={layer.go_backwards}. Create the backward layer with "
                f"go_backwards={not layer.go_backwards}."
            )
        for attribute in ("return_sequences", "return_state"):
            if getattr(layer, attribute) != getattr(backward_layer, attribute):
                raise ValueError(
                    f"Bidirectional's layer and backward_layer must agree on {attribute}; "
                    f"received {getattr(layer, attribute)} and "
                    f"{getattr(backward_layer, attribute)}."
                )

    def build(self, input_shape):
        self._build_shape = tuple(input_shape)
        for direction in (self.forward_layer, self.backward_layer):
            if not direction.built:
                direction._build_once(input_shape)

    def forward(self, inputs, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = nn.Module.__call__(self.forward_layer, inputs, forward_state, mask, training)
        y_rev = nn.Module.__call__(self.backward_layer, inputs, backward_state, mask, training)
        states = []
        if self.return_state:
            states = y[1:] + y_rev[1:]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode is None:
            return (y, y_rev, *states)
        output = self._merge(y, y_rev)
        return (output, *states) if self.return_state else output

    @property
    def states(self) -> list | None:
        """Stateful directions' carried states: the forward layer's, then the backward one's."""
        forward = self.forward_layer.states
        return None if forward is None else forward + self.backward_layer.states

    def reset_state(self) -> None:
        """Set both directions' carried states back to zeros (stateful layers)."""
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state  # Keras's other spelling

    def produces_mask(self, input_has_mask: bool) -> bool:
        return self.forward_layer.produces_mask(input_has_mask)

    def compute_mask(self, inputs, mask=None):
        return self.forward_layer.compute_mask(inputs, mask)

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return torch.cat([y, y_rev], -1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        return y * y_rev

    def compute_output_shape(self, input_shape):
        shapes = self.forward_layer.compute_output_shape(input_shape)
        output, states = (shapes[0], tuple(shapes[1:])) if self.return_state else (shapes, ())
        if self.merge_mode == "concat":
            output = output[:-1] + (2 * output[-1],)
        outputs = (output, output) if self.merge_mode is None else (output,)
        if self.return_state or self.merge_mode is None:
            return outputs + states + states
        return output

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": serialize_wrapped(self.forward_layer, self._build_shape),
            "backward_layer": serialize_wrapped(self.backward_layer, self._build_shape),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        build_shape = build_shape_of(config["layer"])
        config["layer"] = deserialize_wrapped(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_wrapped(config["backward_layer"])
        layer = cls(**config)
        # A saved wrapper records the shape it was built for; build now, as Keras does on load.
        if build_shape is not None:
            layer._build_once(build_shape)
        return layer


class TimeDistributed(Wrapper):
    """Applies a layer to every time step: `(batch, timesteps, ...)` in, one result per step out.

    The batch and time axes are merged into one, the layer runs once on all steps, and the axes
    are split again, so one set of weights serves every step.

    Args:
        layer: the layer to apply, e.g. `Dense(8)` or `Conv2D(16, 3)`.

    Input shape: `(batch, timesteps, ...)`, where `...` is what `layer` accepts per sample.
    Output shape: `(batch, timesteps, ...)`, where `...` is what `layer` gives per sample.

    >>> TimeDistributed(Dense(2))(torch.zeros(4, 10, 3)).shape
    torch.Size([4, 10, 2])
    """

    # The time mask passes through to the output, and to a layer that takes one (per step).
    supports_masking = True

    @property
    def _casts_integer_inputs(self) -> bool:  # its layer is called past its own `__call__`
        return self.layer._casts_integer_inputs

    def _step_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ShapeError(
                f"TimeDistributed applies its layer to each step of (batch, timesteps, ...), but "
                f"received the {len(input_shape)}-D input {format_shape(input_shape)}.",
                fix=f"call {type(self.layer).__name__} directly, or give the input a time axis, "
                "e.g. with RepeatVector(n) or Reshape((timesteps, features)).",
            )
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        super().build(self._step_shape(input_shape))

    def forward(self, inputs, training=None, mask=None):
        kwargs = {}
        if self.layer._accepts_training:
            kwargs["training"] = training
        if self.layer._accepts_mask and mask is not None:
            kwargs["mask"] = mask.flatten(0, 1)
        outputs = nn.Module.__call__(self.layer, inputs.flatten(0, 1), **kwargs)
        return outputs.unflatten(0, inputs.shape[:2])

    def compute_output_shape(self, input_shape):
        step_output = self.layer.compute_output_shape(self._step_shape(input_shape))
        return (input_shape[0], input_shape[1]) + tuple(step_output[1:])

    @classmethod
    def from_config(cls, config):
        wrapper = super().from_config(config)
        wrapper.built = wrapper.layer.built  # no weights of its own: built with its layer
        return wrapper
