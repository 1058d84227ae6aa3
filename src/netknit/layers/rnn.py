"""The generic recurrent layer `RNN`, the built-in cells, and `StackedRNNCells`.

A cell reads one time step: `cell(inputs (batch, features), states) -> (output, new_states)`,
and says what its states are with `state_size` (an int, or a list of ints for several states).
`RNN(cell)` reads whole sequences with it and takes the sequence arguments of `LSTM`
(`return_sequences`, `return_state`, `go_backwards`, masks, `initial_state`). `RNN([a, b])`
stacks cells (`StackedRNNCells`): at each step they run in turn, each reading the output of the
one before.

`SimpleRNNCell`, `LSTMCell` and `GRUCell` share their arguments, weights (same names, shapes and
layout) and step with `SimpleRNN`, `LSTM` and `GRU` (`recurrent.py`). An `RNN` of built-in cells
therefore reads a sequence as those layers do: one cell after the other over the whole sequence,
in torch's fused kernels where they apply. For a stack that computes what stepping the cells
together computes, because a masked step's results are dropped in every cell. Any other cell, such
as a user's `Layer` with `state_size` and `call(inputs, states)`, is called once per step in a
Python loop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..graph import nest
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .layer import Layer
from .recurrent import (
    RecurrentLayer,
    _GRUKernels,
    _LSTMKernels,
    _scan,
    _SimpleRNNKernels,
    check_features,
    check_sequence_shape,
)


def _is_state_size(size) -> bool:
    if isinstance(size, (list, tuple)):
        return bool(size) and all(_is_state_size(s) for s in size)
    return isinstance(size, int) and not isinstance(size, bool) and size > 0


def _check_cell(cell, owner: str) -> None:
    if not isinstance(cell, Layer):
        raise ValueError(
            f"{owner} takes cells: Layers with a `state_size` and a `call(inputs, states)` "
            f"method returning `(output, new_states)`. Received: cell={cell!r}"
        )
    size = getattr(cell, "state_size", None)
    if not _is_state_size(size):
        raise ValueError(
            f"{owner} needs each cell to have a `state_size`: the size of its state, or a list "
            f"with one size per state. Received: cell {cell.name!r} ({type(cell).__name__}) "
            f"with state_size={size!r}."
        )


def _output_size_of(cell) -> int:
    size = getattr(cell, "output_size", None)
    return size if isinstance(size, int) else nest.flatten(cell.state_size)[0]


def _hooked(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks)


def _serialize_cell(cell: Layer, build_shape) -> dict:
    """A cell's entry in its container's config, as Keras writes it."""
    from ..saving.registry import get_registered_name  # user classes, known only when saving

    registered = get_registered_name(cell)
    entry = {
        "module": type(cell).__module__ if registered else "keras.layers",
        "class_name": type(cell).__name__,
        "config": cell.get_config(),
        "registered_name": registered,
    }
    if build_shape is not None:
        entry["build_config"] = {"input_shape": tuple(build_shape)}
    return entry


def _recorded_shape(entry) -> tuple | None:
    """The input shape a cell's entry records (its `build_config`), if any."""
    shape = entry.get("build_config", {}).get("input_shape") if isinstance(entry, dict) else None
    return None if shape is None else tuple(shape)


def _deserialize_cell(entry, custom_objects: dict | None) -> Layer:
    """A cell (built, when its entry records a shape) from its entry, or the cell itself."""
    if isinstance(entry, Layer):
        return entry
    # As a model rebuilds its layers: the cell may be a user's class, known to saving's registry.
    from ..saving.serialization import deserialize_layer

    return deserialize_layer(entry, custom_objects)


class RecurrentCell(Layer):
    """What the built-in cells share: one time step of a recurrent kind.

    A subclass mixes in its kind (`_LSTMKernels`, ...), which gives the arguments, weights and
    step that the layer of that kind (`LSTM`, ...) uses too.

    Call arguments:
        inputs: one step, `(batch, features)`.
        states: the previous states: a list (`[h, c]` for `LSTMCell`), or, for a cell with one
            state, a list or the tensor itself.
        training: whether dropout applies.

    Returns `(output, new_states)`, the new states a list, or a tensor when `states` was one.
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    # Set by `RNN` while it steps through one sequence: the dropout masks drawn at the first
    # step, kept for the others (one mask per sequence, as in Keras).
    _held_masks = None

    @property
    def state_size(self):
        count = len(self._state_names)
        return self.units if count == 1 else [self.units] * count

    @property
    def output_size(self) -> int:
        return self.units

    def build(self, input_shape):
        self._check_step(input_shape)
        self._build_kernels(input_shape[-1])

    def _check_step(self, input_shape) -> None:
        name = type(self).__name__
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ShapeError(
                f"{name} reads one time step (batch, features), but received the input "
                f"{format_shape(input_shape)}.",
                fix=f"read whole sequences (batch, timesteps, features) with RNN({name}(...)), "
                "or call the cell on one step of them, e.g. x[:, t].",
            )
        check_features(name, input_shape, self.kernel.shape[0] if self.built else None)

    def forward(self, inputs, states, training=None):
        training = self.training if training is None else training
        listed = isinstance(states, (list, tuple))
        states = [torch.as_tensor(s, dtype=inputs.dtype, device=inputs.device)
                  for s in (states if listed else [states])]
        if len(states) != len(self._state_names):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has {len(self._state_names)} state(s) "
                f"({', '.join(self._state_names)}); received {len(states)}."
            )
        input_mask, recurrent_mask = self._step_dropout_masks(inputs, states[0], training)
        if input_mask is not None:
            inputs = inputs * input_mask
        projected = F.linear(inputs, self.kernel.T, self._input_bias())
        new_states = self._step(projected, states, recurrent_mask)
        return new_states[0], new_states if listed or len(new_states) > 1 else new_states[0]

    def _step_dropout_masks(self, inputs, h, training: bool):
        if not training or not (self.dropout or self.recurrent_dropout):
            return None, None
        held = self._held_masks
        if held:
            return held
        masks = (self._dropout_mask(inputs, self.dropout) if self.dropout else None,
                 self._dropout_mask(h, self.recurrent_dropout) if self.recurrent_dropout else None)
        if held is not None:
            held.extend(masks)
        return masks

    def get_initial_state(self, batch_size=None) -> list:
        """Zero states, one `(batch_size, units)` tensor per state."""
        device = self.kernel.device if self.built else None
        return [torch.zeros(batch_size, self.units, dtype=self._variable_dtype, device=device)
                for _ in self._state_names]

    def compute_output_shape(self, input_shape):
        self._check_step(input_shape)
        step = (input_shape[0], self.units)
        return [step, [step] * len(self._state_names)]

    def _symbolic_output_shape(self, args, kwargs):
        input_shape = tuple(args[0].shape)
        if not self.built:
            self._build_once(input_shape)
        output, states = self.compute_output_shape(input_shape)
        given = args[1] if len(args) > 1 else kwargs.get("states")
        for state in nest.flatten(given):
            shape = tuple(getattr(state, "shape", ()))
            if shape[-1:] != (self.units,):
                raise ShapeError(
                    f"Its states are (batch, {self.units}); received a state "
                    f"{format_shape(shape)}.",
                    fix=f"pass {len(self._state_names)} state(s) of {self.units} features, e.g. "
                    f"from {type(self).__name__}.get_initial_state(batch_size).",
                )
        listed = isinstance(given, (list, tuple)) or len(states) > 1
        return output, (states if listed else states[0])

    def get_config(self):
        return {**super().get_config(), **self._kernels_config(), "seed": self.seed}


class SimpleRNNCell(_SimpleRNNKernels, RecurrentCell):
    """The cell of `SimpleRNN`: one step `h_t = activation(x_t W + h_{t-1} U + b)`.

    Args:
        units: the size of the output and of the state.
        activation: `"tanh"` by default.
        use_bias: whether to add a bias.
        kernel_initializer, recurrent_initializer, bias_initializer, kernel_regularizer,
            recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint: for `kernel (features, units)`, `recurrent_kernel (units, units)` and
            `bias (units,)`.
        dropout, recurrent_dropout: fractions of the input and of the state dropped in training.
        seed: kept in the config; the dropout masks draw from torch's global generator.

    `state_size` and `output_size` are `units`. Called on `(inputs (batch, features), states)`;
    see `RecurrentCell`.

    >>> RNN(SimpleRNNCell(4), return_sequences=True)(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 10, 4])
    """


class LSTMCell(_LSTMKernels, RecurrentCell):
    """The cell of `LSTM`: one step of the input, forget, cell and output gates.

    Args:
        units: the size of the output and of the hidden and carry states.
        activation: `"tanh"` by default.
        recurrent_activation: the gate activation, `"sigmoid"` by default.
        use_bias: whether to add a bias.
        unit_forget_bias: start the forget-gate bias at 1 (and ignore bias_initializer for it).
        Others: as in `SimpleRNNCell`; the weights are `kernel (features, 4 * units)`,
            `recurrent_kernel (units, 4 * units)` and `bias (4 * units,)`.

    `state_size` is `[units, units]` (h, c) and `output_size` `units`; the cell returns
    `(h, [h, c])`.

    >>> output, (h, c) = LSTMCell(4)(torch.zeros(2, 3), [torch.zeros(2, 4), torch.zeros(2, 4)])
    >>> output.shape
    torch.Size([2, 4])
    """


class GRUCell(_GRUKernels, RecurrentCell):
    """The cell of `GRU`: one step of the update and reset gates and the candidate.

    Args:
        units: the size of the output and of the state.
        activation: `"tanh"` by default.
        recurrent_activation: the gate activation, `"sigmoid"` by default.
        use_bias: whether to add biases.
        reset_after: apply the reset gate after the recurrent kernel (True; the bias is then
            `(2, 3 * units)`: input bias and recurrent bias), or before it (False; `(3 * units,)`).
        Others: as in `SimpleRNNCell`; the kernels are `(features, 3 * units)` and
            `(units, 3 * units)`, gates in Keras's order (z, r, h).

    `state_size` and `output_size` are `units`.

    >>> RNN(GRUCell(4))(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 4])
    """


class StackedRNNCells(Layer):
    """Cells that step together as one cell: at each step each reads the output of the one before.

    Args:
        cells: the cells, first to last: built-in cells or your own.

    `state_size` is the list of the cells' state sizes and `output_size` the last cell's.
    Called on `(inputs, states)` with one entry of `states` per cell, it returns
    `(last output, new states)` in the same structure. `RNN([a, b])` stacks `a` and `b` so.

    >>> RNN(StackedRNNCells([LSTMCell(8), GRUCell(4)]))(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 4])
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"StackedRNNCells takes a non-empty list of cells. Received: "
                             f"cells={cells!r}")
        for cell in cells:
            _check_cell(cell, "StackedRNNCells")
        self.cells = nn.ModuleList(cells)
        self._input_shapes = None  # the shape each cell was built for, for the config

    @property
    def state_size(self) -> list:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self) -> int:
        return _output_size_of(self.cells[-1])

    def _sublayers(self) -> list[Layer]:
        return list(self.cells)

    def build(self, input_shape):
        # A cell built before (loaded from a config) keeps the shape it recorded then.
        recorded = self._input_shapes or [None] * len(self.cells)
        shapes = []
        for cell, shape in zip(self.cells, recorded):
            if not cell.built:
                cell._build_once(input_shape)
                shape = None
            shapes.append(shape or tuple(input_shape))
            input_shape = (input_shape[0], _output_size_of(cell))
        self._input_shapes = shapes

    def forward(self, inputs, states, training=None):
        kwargs = {} if training is None else {"training": training}
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            listed = isinstance(cell_states, (list, tuple))
            inputs, cell_states = nn.Module.__call__(
                cell, inputs, list(cell_states) if listed else [cell_states],
                **(kwargs if cell._accepts_training else {}))
            cell_states = nest.flatten(cell_states)
            new_states.append(cell_states if listed or len(cell_states) > 1 else cell_states[0])
        return inputs, new_states if len(new_states) > 1 else new_states[0]

    def get_initial_state(self, batch_size=None) -> list:
        """Each cell's initial states (its `get_initial_state`, or zeros)."""
        states = []
        for cell in self.cells:
            getter = getattr(cell, "get_initial_state", None)
            if getter is not None:
                states.append(getter(batch_size=batch_size))
            else:
                zeros = [torch.zeros(batch_size, size, dtype=self._variable_dtype)
                         for size in nest.flatten(cell.state_size)]
                states.append(zeros if isinstance(cell.state_size, (list, tuple)) else zeros[0])
        return states

    def _symbolic_output_shape(self, args, kwargs):
        input_shape = tuple(args[0].shape)
        if not self.built:
            self._build_once(input_shape)
        return self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        states = [(batch, size) for size in nest.flatten(self.state_size)]
        return [(batch, self.output_size), nest.pack_like(self.state_size, states)]

    def get_config(self):
        shapes = self._input_shapes or [None] * len(self.cells)
        return {**super().get_config(),
                "cells": [_serialize_cell(cell, shape) for cell, shape in zip(self.cells, shapes)]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        entries = config.pop("cells")
        stack = cls([_deserialize_cell(entry, custom_objects) for entry in entries], **config)
        if all(_recorded_shape(entry) is not None for entry in entries):
            stack._input_shapes = [_recorded_shape(entry) for entry in entries]
        return stack


class _EveryRecurrentLayer(type):
    """In Keras, LSTM, GRU, SimpleRNN and ConvLSTM are subclasses of RNN; here they share
    `RecurrentLayer` with it instead. So that `isinstance(layer, RNN)` finds every recurrent
    layer (to reset stateful ones, say), RNN answers for all of them."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, RecurrentLayer) if cls is RNN else \
            super().__instancecheck__(instance)

    def __subclasscheck__(cls, subclass) -> bool:
        return issubclass(subclass, RecurrentLayer) if cls is RNN else \
            super().__subclasscheck__(subclass)


class RNN(RecurrentLayer, metaclass=_EveryRecurrentLayer):
    """Reads sequences with a cell: the generic recurrent layer.

    The cell computes one step; `RNN` runs it over the time axis and handles the rest: initial
    states, masks, the direction, and returning the last output or all of them. Built-in cells
    read the sequence in torch's fused kernels where they apply (see the module's docstring).

    Args:
        cell: a cell (`LSTMCell(8)`, or your own `Layer` with a `state_size` and
            `call(inputs, states)` returning `(output, new_states)`), or a list of cells, which
            are stacked with `StackedRNNCells`.
        return_sequences: return every output `(batch, timesteps, output_size)` instead of the
            last.
        return_state: also return the final states: `(output, *states)`, in the structure of
            `state_size` (with stacked cells, one entry per cell, a list for an LSTMCell).
        go_backwards: read the sequence from its end; sequences are returned in reading order.
        stateful: carry each call's last states over to the next call (see `LSTM`).
        unroll: accepted for compatibility; the loop is plain Python already.
        zero_output_for_mask: with a `mask`, give masked steps zero outputs instead of the
            previous output.

    Call arguments: `sequences (batch, timesteps, features)`, `initial_state` (a list of states,
    in `state_size`'s structure or flat), `mask (batch, timesteps)`, `training`.

    Input shape: `(batch, timesteps, features)`; a cell of your own may take more axes per step.
    Output shape: `(batch, output_size)`, or `(batch, timesteps, output_size)` with
    `return_sequences`; with `return_state`, `(output, *states)`.

    >>> class Accumulate(Layer):
    ...     def __init__(self, units, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.units = self.state_size = units
    ...     def build(self, input_shape):
    ...         self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
    ...     def call(self, inputs, states):
    ...         total = states[0] + inputs @ self.kernel
    ...         return total, [total]
    >>> RNN(Accumulate(4))(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 4])
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        _check_cell(cell, "RNN")
        super().__init__(return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, **kwargs)
        self.cell = cell
        self._step_shape = None  # what the cell was built for, for the config

    @property
    def state_size(self) -> list:
        size = self.cell.state_size
        return [size] if isinstance(size, int) else list(size)

    def _output_size(self) -> int:
        return _output_size_of(self.cell)

    def _cells(self) -> list[Layer]:
        return list(self.cell.cells) if isinstance(self.cell, StackedRNNCells) else [self.cell]

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_sequences(sequences_shape)
        step_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if not self.cell.built:
            self.cell._build_once(step_shape)
            self._step_shape = step_shape
        elif self._step_shape is None:  # a cell loaded from a config keeps its recorded shape
            self._step_shape = step_shape
        self._finish_build(sequences_shape)

    def _check_sequences(self, sequences_shape):
        first = self._cells()[0]
        built_in = isinstance(first, RecurrentCell)
        features = first.kernel.shape[0] if built_in and first.built else None
        check_sequence_shape("RNN", sequences_shape, features, any_step_rank=not built_in)

    # ------------------------------------------------------------------ computing

    def _zero_states(self, sequences):
        getter = getattr(self.cell, "get_initial_state", None)
        if getter is None or all(isinstance(c, RecurrentCell) for c in self._cells()):
            return super()._zero_states(sequences)
        # A user's cell may start from other states: its own, checked and converted.
        return self._initial_states(sequences, getter(batch_size=sequences.shape[0]))

    def _read(self, sequences, states, mask, training):
        cells = self._cells()
        if self._reads_cell_by_cell(cells):
            outputs, last = sequences, []
            for cell in cells:
                count = len(cell._state_names)
                cell_states = states[len(last):len(last) + count]
                read_in = cell.kernel.dtype  # the cell's own, or its reading by a mixed RNN
                if read_in != outputs.dtype:
                    # A cell under another dtype policy than the RNN's: torch's fused kernels
                    # take one dtype, and the RNN returns its own, as Keras's does.
                    outputs = outputs.to(read_in)
                    cell_states = [s.to(read_in) for s in cell_states]
                outputs, cell_states = cell._read_sequence(
                    outputs, cell_states, mask, training, self.zero_output_for_mask)
                last += cell_states
            if outputs.dtype != self._compute_dtype:
                outputs, last = outputs.to(self._compute_dtype), [
                    s.to(self._compute_dtype) for s in last]
            return outputs, last
        return self._step_through(sequences, states, mask, training)

    def _reads_cell_by_cell(self, cells: list) -> bool:
        """Whether every cell is a built-in one computing its own step (not a subclass's `call`,
        no hooks), so that each can read the whole sequence in turn."""
        stack = self.cell
        if isinstance(stack, StackedRNNCells) and (
                type(stack).forward is not StackedRNNCells.forward or _hooked(stack)):
            return False
        return all(isinstance(c, RecurrentCell) and type(c).forward is RecurrentCell.forward
                   and not _hooked(c) for c in cells)

    def _step_through(self, sequences, states, mask, training):
        """Call the cell at each step, with the states in `state_size`'s structure."""
        cell, structure = self.cell, self.state_size
        kwargs = {"training": training} if cell._accepts_training else {}

        def step(inputs, flat_states):
            output, new_states = nn.Module.__call__(
                cell, inputs, tuple(nest.pack_like(structure, flat_states)), **kwargs)
            new_states = nest.flatten(new_states)
            if len(new_states) != len(flat_states):
                raise ValueError(
                    f"Cell '{cell.name}' of RNN '{self.name}' returned {len(new_states)} new "
                    f"state(s) at a step; its state_size {cell.state_size!r} says "
                    f"{len(flat_states)}. Return `(output, new_states)` with one new state per "
                    "state."
                )
            return output, new_states

        holding = [c for c in self._cells() if isinstance(c, RecurrentCell)]
        for c in holding:
            c._held_masks = []
        try:
            return _scan(step, sequences, states, mask, self.zero_output_for_mask)
        finally:
            for c in holding:
                c._held_masks = None

    # ------------------------------------------------------------------ config

    def get_config(self):
        return {**super().get_config(), "cell": _serialize_cell(self.cell, self._step_shape)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        entry = config.pop("cell")
        layer = cls(_deserialize_cell(entry, custom_objects), **config)
        layer._step_shape = _recorded_shape(entry)  # saved again with the cell, as Keras does
        return layer
