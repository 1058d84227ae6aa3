"""Recurrent layers: LSTM, GRU and SimpleRNN, on torch's fused recurrent kernels.

Each layer reads a sequence `(batch, timesteps, features)` and returns its last output
`(batch, units)`, or every output `(batch, timesteps, units)` with `return_sequences=True`.

The weights have Keras's shapes and gate order: `kernel (features, gates * units)`,
`recurrent_kernel (units, gates * units)`, `bias`. Their memory is in the order of torch's fused
kernels (`torch.lstm`, `torch.gru`, `torch.rnn_tanh`, `torch.rnn_relu`), which take their
transposes as views; GRU's gates, which torch orders differently, are reordered for its kernel on
each call. The fused kernel runs whenever it computes what Keras computes: default activations, no
`mask`, and no `recurrent_dropout` in training. Otherwise the layer steps through time in a plain
Python loop over the same weights.

Two halves make a layer, and each is shared: the arguments, weights and step of one kind of cell
(`_LSTMKernels`, `_GRUKernels`, `_SimpleRNNKernels`) serve the layer and its cell (`LSTMCell` in
`rnn.py`), and reading a sequence — states, masks, direction, what is returned — lives in
`RecurrentLayer`, which the generic `RNN` shares.
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from torch import nn

from .. import activations
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph import nest
from ..graph.errors import ShapeError, unknown_argument_error
from ..graph.shapes import format_shape
from . import eager_kernels
from .core import check_positive_int
from .layer import Layer


def _swap_first_gates(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Keras's GRU gates (z, r, h) along `dim` in torch's order (r, z, n): a copy."""
    first, second, third = t.chunk(3, dim)
    return torch.cat([second, first, third], dim)


def _check_rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"Expected {name} to be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_sequence_shape(name: str, input_shape, features: int | None = None,
                         any_step_rank: bool = False) -> None:
    """Raise a ShapeError unless `input_shape` is a sequence `(batch, timesteps, features)`.

    Args:
        name: the layer's class name, for the message.
        features: the number of features per step the layer was built for, if it is built.
        any_step_rank: accept `(batch, timesteps, ...)` of any rank from 3 (a user's cell decides
            what one step may be).
    """
    if any(isinstance(d, (tuple, list)) for d in input_shape):
        raise ShapeError(
            f"{name} reads one sequence tensor; it received the nested inputs "
            f"{format_shape(input_shape)}. Nested inputs per step are not supported (nor are "
            "they in Keras 3).",
            fix="concatenate the sequences along the feature axis first (Concatenate(), after "
            "reshaping each to (batch, timesteps, features)), and split them in your cell.",
        )
    if len(input_shape) == 2:
        size = input_shape[1] if input_shape[1] is not None else "features"
        raise ShapeError(
            f"{name} expects sequences (batch, timesteps, features), but received the 2-D "
            f"input {format_shape(input_shape)} with no time axis.",
            fix=f"if each sample is a sequence of {size} values, add Reshape(({size}, 1)) "
            f"before the {name}; to feed the same vector at each of n steps, add "
            "RepeatVector(n).",
        )
    if len(input_shape) < 3 or (len(input_shape) > 3 and not any_step_rank):
        raise ShapeError(
            f"{name} expects sequences (batch, timesteps, features), but received the "
            f"{len(input_shape)}-D input {format_shape(input_shape)}.",
            fix="reshape each sample to (timesteps, features), e.g. with Reshape((timesteps, "
            "-1)), or wrap a per-step layer in TimeDistributed.",
        )
    if input_shape[-1] is None and not any_step_rank:
        raise ShapeError(
            f"{name} needs to know the number of features (the last axis) to create its "
            f"kernel; received {format_shape(input_shape)}.",
            fix="give the Input a fixed last dimension, e.g. Input(shape=(None, 16)).",
        )
    check_features(name, input_shape, features)


def check_features(name: str, input_shape, features: int | None) -> None:
    """Raise a ShapeError if a layer built for `features` per step receives another number."""
    if features is not None and input_shape[-1] != features:
        raise ShapeError(
            f"It was built for {features} features per step, but received "
            f"{format_shape(input_shape)} with {input_shape[-1]}.",
            fix=f"project the input to {features} features per step first, e.g. with "
            f"Dense({features}), or use a new {name} for this input.",
        )


def _scan(step, inputs: torch.Tensor, states: list, mask, zero_output_for_mask: bool):
    """Step through time in Python: `step(x_t, states) -> (output, new_states)` for each step of
    `inputs (batch, timesteps, ...)`, with `states` a flat list of tensors.

    Masked steps keep the previous states and give the previous output (zeros with
    `zero_output_for_mask`), Keras's rule. Returns the outputs stacked on axis 1, and the last
    states.
    """
    outputs, output = [], None
    for t in range(inputs.shape[1]):
        new_output, new_states = step(inputs[:, t], states)
        if mask is None:
            output, states = new_output, new_states
        else:
            keep = mask[:, t]
            states = [torch.where(_per_sample(keep, new), new, old)
                      for new, old in zip(new_states, states)]
            previous = output
            if zero_output_for_mask or previous is None:
                previous = torch.zeros_like(new_output)
            output = torch.where(_per_sample(keep, new_output), new_output, previous)
        outputs.append(output)
    return torch.stack(outputs, 1), states


def _per_sample(keep: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-sample `(batch,)` mask shaped to broadcast against `like`."""
    return keep.reshape(keep.shape + (1,) * (like.dim() - 1))


class RecurrentKernels:
    """The arguments, weights and step of one kind of recurrent cell, shared by the layer that
    reads whole sequences (`LSTM`) and the cell that reads one step (`LSTMCell`).

    A kind sets `_gates` (gate blocks per weight) and `_state_names`, and defines `_step` (one
    time step of the Python loop) and `_fused` (the whole sequence in torch's kernel, or None when
    the kernel does not apply).

    Args:
        units: the size of the output and of each state.
        activation: the activation of the candidate and output (`"tanh"` by default).
        use_bias: whether to add biases.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers of the input
            kernel, recurrent kernel and bias.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers, e.g. `"l2"`.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: the fraction of input features dropped in training (one mask for all steps).
        recurrent_dropout: the fraction of the recurrent state dropped in training, before the
            recurrent kernel (one mask for all steps).
        seed: kept in the config; the dropout masks draw from torch's global generator.
    """

    _gates = 1
    _state_names: tuple[str, ...] = ("h",)
    _one_buffer_at = None  # where the weights were laid out for cuDNN (`_share_one_buffer`)

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.recurrent_initializer = initializers_module.get(recurrent_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers_module.get(recurrent_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self.recurrent_constraint = constraints_module.get(recurrent_constraint)
        self.bias_constraint = constraints_module.get(bias_constraint)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed

    # Arguments of the kinds' __init__s that a layer fills itself (ConvLSTM's `units` are its
    # `filters`): not the user's to pass.
    _arguments_passed_for_the_user: tuple = ()

    def _reject_unknown_kwargs(self, kwargs: dict) -> None:
        # The arguments are spread over cooperative __init__s (the kind, these, the layer's): a
        # misspelt one is matched against all of them.
        known = {name for cls in type(self).__mro__
                 if "__init__" in vars(cls) and cls not in (nn.Module, object)
                 for name, p in inspect.signature(cls.__init__).parameters.items()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name != "self"}
        known -= set(self._arguments_passed_for_the_user)
        raise unknown_argument_error(type(self).__name__, next(iter(kwargs)), known)

    # ------------------------------------------------------------------ weights

    def _bias_shape(self) -> tuple:
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def _build_kernels(self, features: int) -> None:
        width = self._gates * self.units
        # Keras's shapes in the memory of torch's (gates * units, in) weight_ih / weight_hh.
        self.add_weight(name="kernel", shape=(features, width), initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                        linear_in_axes=1)
        self.add_weight(name="recurrent_kernel", shape=(self.units, width),
                        initializer=self.recurrent_initializer,
                        regularizer=self.recurrent_regularizer,
                        constraint=self.recurrent_constraint, linear_in_axes=1)
        if self.use_bias:
            self.add_weight(name="bias", shape=self._bias_shape(),
                            initializer=self._bias_initializer(), regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)
            # Torch's fused kernels take a recurrent bias too, which Keras's LSTM and SimpleRNN
            # do not have: a zero one, made once (not a weight, not saved).
            self.register_buffer("_zero_recurrent_bias",
                                 torch.zeros(width, dtype=self._variable_dtype),
                                 persistent=False)
        else:
            self.bias = None

    # ------------------------------------------------------------------ computing

    def _read_sequence(self, inputs, states: list, mask, training: bool,
                       zero_output_for_mask: bool):
        """`(outputs (batch, timesteps, units), last states)` of reading `inputs` (in reading
        order) from `states`: in torch's fused kernel where it computes what Keras computes,
        otherwise in the Python loop."""
        if training and self.dropout:
            inputs = inputs * self._dropout_mask(inputs[:, :1], self.dropout)
        recurrent_mask = None
        if training and self.recurrent_dropout:
            recurrent_mask = self._dropout_mask(states[0], self.recurrent_dropout)
        # Torch's kernels know neither masks nor recurrent dropout: those steps run in Python.
        if mask is None and recurrent_mask is None:
            fused = self._fused(inputs, states)
            if fused is not None:
                return fused

        def step(projected_input, states):
            new_states = self._step(projected_input, states, recurrent_mask)
            return new_states[0], new_states

        projected = F.linear(inputs, self.kernel.T, self._input_bias())
        return _scan(step, projected, states, mask, zero_output_for_mask)

    def _dropout_mask(self, like: torch.Tensor, rate: float) -> torch.Tensor:
        keep = torch.empty_like(like).bernoulli_(1 - rate)
        return keep / (1 - rate)

    def _input_bias(self):
        return self.bias

    def _torch_weights(self) -> list:
        """The fused kernel's weights (LSTM, SimpleRNN): the kernels' transposes, which are
        contiguous views, and Keras's bias as torch's input bias with a zero recurrent bias."""
        weights = [self.kernel.T, self.recurrent_kernel.T]
        return weights + [self.bias, self._zero_recurrent_bias] if self.use_bias else weights

    def _step(self, projected_input, states, recurrent_mask) -> list:
        """One time step: the input already multiplied by the kernel -> the new states."""
        raise NotImplementedError

    def _fused(self, inputs, states):
        """(outputs, states) from torch's fused kernel, or None when it does not apply."""
        return None

    # ------------------------------------------------------------------ config

    def _kernels_config(self, layer: bool = False) -> dict:
        """The cell's arguments in the order of Keras's cell configs, or with `layer` in the
        order of its layers' (JSON configs are compared as text): a layer lists an LSTM's
        `unit_forget_bias` after the initializers, not before them, and its own
        `activity_regularizer` after the other regularizers."""
        extra = self._extra_bias_config()
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            **self._recurrent_activation_config(),
            "use_bias": self.use_bias,
            **({} if layer else extra),
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers_module.serialize(self.recurrent_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            **(extra if layer else {}),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers_module.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            **({"activity_regularizer": regularizers_module.serialize(self.activity_regularizer)}
               if layer else {}),
            "kernel_constraint": constraints_module.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints_module.serialize(self.recurrent_constraint),
            "bias_constraint": constraints_module.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }

    def _recurrent_activation_config(self) -> dict:
        return {}

    def _extra_bias_config(self) -> dict:
        return {}


class _LSTMKernels(RecurrentKernels):
    """LSTM's gates (input, forget, cell, output), as in Keras and torch."""

    _gates = 4
    _state_names = ("h", "c")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer

        def forget_bias_one(shape, dtype=torch.float32):
            units = shape[0] // 4
            return torch.cat([self.bias_initializer((units,), dtype=dtype),
                              torch.ones(units, dtype=dtype),
                              self.bias_initializer((2 * units,), dtype=dtype)])

        return forget_bias_one

    def _fused(self, inputs, states):
        if (self.activation is not activations.tanh
                or self.recurrent_activation is not activations.sigmoid):
            return None
        if inputs.shape[-1] != self.kernel.shape[0]:
            # torch's LSTM kernel does not check this: it would read the wrong features.
            try:
                check_features(type(self).__name__, tuple(inputs.shape), self.kernel.shape[0])
            except ShapeError as error:
                raise error.attach(self, []) from None
        if eager_kernels.lstm_applies(inputs):
            params = self._torch_weights()
            biases = params[2:] or [inputs.new_zeros(4 * self.units)] * 2
            outputs, h, c = eager_kernels.lstm(inputs, *states, *params[:2], *biases)
            return outputs, [h, c]
        params = _share_one_buffer(self, inputs, "LSTM")
        h0, c0 = (s.unsqueeze(0) for s in states)
        outputs, h, c = torch.lstm(inputs, (h0, c0), params, self.use_bias, 1, 0.0,
                                   _keeps_for_backward(), False, True)
        return outputs, [h[0], c[0]]

    def _step(self, projected_input, states, recurrent_mask):
        h, c = states
        if recurrent_mask is not None:
            h = h * recurrent_mask
        return self._update(projected_input + F.linear(h, self.recurrent_kernel.T), c)

    def _update(self, gates, c) -> list:
        """The new `[h, c]` from the gates' summed pre-activations, four blocks on axis 1 in
        Keras's order (i, f, c, o): vectors here, feature maps in `ConvLSTM`."""
        i, f, g, o = gates.chunk(4, 1)
        act, gate = self.activation, self.recurrent_activation
        c = gate(f) * c + gate(i) * act(g)
        return [gate(o) * act(c), c]

    def _recurrent_activation_config(self):
        return {"recurrent_activation": activations.serialize(self.recurrent_activation)}

    def _extra_bias_config(self):
        return {"unit_forget_bias": self.unit_forget_bias}


class _GRUKernels(RecurrentKernels):
    """GRU's gates in Keras's order (update z, reset r, candidate h); torch's fused kernel, which
    orders them (r, z, n), gets a reordered copy on each call."""

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def _input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def _fused(self, inputs, states):
        if (not self.reset_after or self.activation is not activations.tanh
                or self.recurrent_activation is not activations.sigmoid):
            return None
        params = [_swap_first_gates(w.T, 0) for w in (self.kernel, self.recurrent_kernel)]
        if self.use_bias:
            params += list(_swap_first_gates(self.bias, -1))
        outputs, h = torch.gru(inputs, states[0].unsqueeze(0), params, self.use_bias, 1, 0.0,
                               _keeps_for_backward(), False, True)
        return outputs, [h[0]]

    def _step(self, projected_input, states, recurrent_mask):
        h = states[0]
        dropped = h if recurrent_mask is None else h * recurrent_mask
        x_z, x_r, x_h = projected_input.chunk(3, 1)
        gate = self.recurrent_activation
        if self.reset_after:
            recurrent_bias = None if self.bias is None else self.bias[1]
            h_z, h_r, h_h = F.linear(dropped, self.recurrent_kernel.T, recurrent_bias).chunk(3, 1)
            z, r = gate(x_z + h_z), gate(x_r + h_r)
            candidate = self.activation(x_h + r * h_h)
        else:
            gates_kernel, candidate_kernel = self.recurrent_kernel.T.split(
                [2 * self.units, self.units])
            h_z, h_r = F.linear(dropped, gates_kernel).chunk(2, 1)
            z, r = gate(x_z + h_z), gate(x_r + h_r)
            candidate = self.activation(x_h + F.linear(r * dropped, candidate_kernel))
        return [z * h + (1 - z) * candidate]

    def _recurrent_activation_config(self):
        return {"recurrent_activation": activations.serialize(self.recurrent_activation)}

    def _kernels_config(self, layer=False):
        return {**super()._kernels_config(layer), "reset_after": self.reset_after}


_FUSED_SIMPLE_RNN = {activations.tanh: torch.rnn_tanh, activations.relu: torch.rnn_relu}
_CUDNN_MODES = {torch.rnn_tanh: "RNN_TANH", torch.rnn_relu: "RNN_RELU"}


class _SimpleRNNKernels(RecurrentKernels):
    """`h_t = activation(x_t W + h_{t-1} U + b)`; torch's fused kernel for tanh and relu."""

    def _fused(self, inputs, states):
        kernel_op = _FUSED_SIMPLE_RNN.get(self.activation)
        if kernel_op is None:
            return None
        params = _share_one_buffer(self, inputs, _CUDNN_MODES[kernel_op])
        outputs, h = kernel_op(inputs, states[0].unsqueeze(0), params, self.use_bias, 1, 0.0,
                               _keeps_for_backward(), False, True)
        return outputs, [h[0]]

    def _step(self, projected_input, states, recurrent_mask):
        h = states[0] if recurrent_mask is None else states[0] * recurrent_mask
        return [self.activation(projected_input + F.linear(h, self.recurrent_kernel.T))]


class RecurrentLayer(Layer):
    """What every layer that reads sequences shares: `LSTM`, `GRU`, `SimpleRNN` and `RNN`.

    A subclass gives its `state_size` (a list: one size per state, or a list of sizes per stacked
    cell), its `_output_size`, builds, checks its input (`_check_sequences`) and reads the
    sequence (`_read`); this class handles states, masks, the direction and what is returned.

    Args:
        return_sequences: return every output `(batch, timesteps, units)` instead of the last.
        return_state: also return the final states: `(output, *states)`.
        go_backwards: read the sequence from its end; sequences are returned in reading order.
        stateful: carry the last states of each call over as the next call's initial states
            (sample `i` of a batch continues sample `i` of the previous one), until
            `reset_state()`. The batch size must be fixed: `Input(shape, batch_size=...)`, and
            `fit(..., batch_size=..., shuffle=False)`. Gradients do not flow from one batch into
            the previous one.
        unroll: accepted for compatibility; torch's kernels make unrolling unnecessary.
        zero_output_for_mask: with a `mask`, give masked steps zero outputs instead of the
            previous output.

    Call arguments:
        sequences: a `(batch, timesteps, features)` tensor.
        initial_state: a list of state tensors (zeros by default), in `state_size`'s structure
            or flat.
        mask: a `(batch, timesteps)` boolean tensor; masked steps keep the previous states.
        training: whether dropout applies.
    """

    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False, "mask": None}

    # The name of the cell that holds a layer's own weights in Keras, for their paths.
    _keras_cell_name: str | None = None
    _casts_integer_inputs = True  # Keras's matmuls promote integer sequences to floats

    def __init__(self, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self._carried_count = 0  # how many carried states a stateful layer holds, once built
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)

    @property
    def state_size(self) -> list:
        raise NotImplementedError

    def _output_size(self) -> int:
        raise NotImplementedError

    def _check_sequences(self, sequences_shape) -> None:
        raise NotImplementedError

    def _read(self, sequences, states: list, mask, training: bool):
        """`(outputs (batch, timesteps, size), last states as a flat list)`."""
        raise NotImplementedError

    # ------------------------------------------------------------------ computing

    def forward(self, sequences, initial_state=None, mask=None, training=None):
        training = self.training if training is None else training
        if self.stateful and initial_state is None:
            states = self._carried_over(sequences)
        else:
            states = self._initial_states(sequences, initial_state)
        if isinstance(mask, (list, tuple)):  # masks of the sequences and the initial states
            mask = mask[0]
        if mask is not None:
            mask = torch.as_tensor(mask, dtype=torch.bool, device=sequences.device)
        if self.go_backwards:
            sequences = sequences.flip(1)
            mask = None if mask is None else mask.flip(1)
        outputs, states = self._read(sequences, states, mask, training)
        if self.stateful:
            with torch.no_grad():
                for carried, state in zip(self.states, states):
                    carried.copy_(state)
        output = outputs if self.return_sequences else outputs[:, -1]
        if not self.return_state:
            return output
        return (output, *nest.pack_like(self.state_size, states))

    def produces_mask(self, input_has_mask: bool) -> bool:
        return input_has_mask and self.return_sequences

    def compute_mask(self, inputs, mask=None):
        """A sequence output keeps the input's time mask; a last-step output has none."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        return mask if self.return_sequences else None

    def _initial_states(self, sequences, initial_state) -> list:
        """The initial states as a flat list, in the sequences' dtype and device."""
        if initial_state is None:
            return self._zero_states(sequences)
        sizes = nest.flatten(self.state_size)
        states = [torch.as_tensor(s, dtype=sequences.dtype, device=sequences.device)
                  for s in nest.flatten(initial_state)]
        if len(states) != len(sizes):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has {len(sizes)} state(s) "
                f"({self._describe_states()}); received {len(states)} in initial_state."
            )
        return states

    def _zero_states(self, sequences) -> list:
        return [sequences.new_zeros(sequences.shape[0], size)
                for size in nest.flatten(self.state_size)]

    # ------------------------------------------------------------------ stateful layers

    def _finish_build(self, sequences_shape) -> None:
        """The end of every recurrent layer's `build`, so that a layer built by hand
        (`layer.build(shape)`) is built as one built by its first call."""
        if self._keras_cell_name is not None:
            # Keras keeps the weights in a cell sublayer: "lstm/lstm_cell/kernel".
            for weight in self._own_weights(True) + self._own_weights(False):
                scope, _, name = weight.path.rpartition("/")
                weight.path = f"{scope}/{self._keras_cell_name}/{name}"
        if self.stateful:
            self._create_carried_states(sequences_shape)

    def _create_carried_states(self, sequences_shape) -> None:
        if sequences_shape[0] is None or None in tuple(sequences_shape)[2:]:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' is stateful, so it needs a fixed batch size "
                f"to carry its states from batch to batch; its input has shape "
                f"{format_shape(sequences_shape)}. Give the batch size on the input, e.g. "
                f"keras.Input(shape={format_shape(tuple(sequences_shape)[1:])}, batch_size=32), "
                "and pass the same batch_size (with shuffle=False) to fit."
            )
        # Not weights, and not saved (as in Keras): buffers, so that they move with the model.
        # Made outside inference mode, so that training can update a state first made in predict.
        with torch.inference_mode(False):
            sample = torch.zeros((sequences_shape[0], 1, *tuple(sequences_shape)[2:]),
                                 dtype=self._variable_dtype, device=self._device())
            zeros = self._zero_states(sample)
            for index, state in enumerate(zeros):
                self.register_buffer(f"_carried_state_{index}", state.clone(), persistent=False)
        self._carried_count = len(zeros)

    def _device(self) -> torch.device:
        return next((w.device for w in self.weights), torch.device("cpu"))

    def _carried_over(self, sequences) -> list:
        """The states the previous call left, checked against this batch."""
        carried = self.states
        if sequences.shape[0] != carried[0].shape[0]:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' is stateful with batches of "
                f"{carried[0].shape[0]}; received a batch of {sequences.shape[0]}. Every batch "
                f"must have the same size: pass batch_size={carried[0].shape[0]} to fit, "
                "evaluate and predict, with a number of samples it divides."
            )
        # Copies: the carried buffers are overwritten after the call, which must not change
        # what autograd saved.
        return [state.to(sequences.dtype, copy=True) for state in carried]

    @property
    def states(self) -> list | None:
        """A stateful layer's carried states, `(batch, ...)` each; None for other layers."""
        if not self._carried_count:
            return None
        return [getattr(self, f"_carried_state_{i}") for i in range(self._carried_count)]

    def reset_state(self) -> None:
        """Set a stateful layer's carried states back to zeros (a new sequence begins)."""
        with torch.no_grad():
            for state in self.states or []:
                state.zero_()

    reset_states = reset_state  # Keras's other spelling

    def _describe_states(self) -> str:
        return f"state_size={self.state_size}"

    # ------------------------------------------------------------------ shapes and config

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        self._check_sequences(sequences_shape)
        batch, steps, size = sequences_shape[0], sequences_shape[1], self._output_size()
        output = (batch, steps, size) if self.return_sequences else (batch, size)
        if not self.return_state:
            return output
        states = [(batch, s) for s in nest.flatten(self.state_size)]
        return (output, *nest.pack_like(self.state_size, states))

    def get_config(self):
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }


class RNNBase(RecurrentLayer):
    """What LSTM, GRU and SimpleRNN share: a recurrent layer that holds its own weights.

    A subclass mixes in the kind of its cell (`_LSTMKernels`, ...), which gives the arguments,
    weights and step (see `RecurrentKernels`); the sequence arguments are `RecurrentLayer`'s, and
    `activity_regularizer` regularizes the outputs.
    """

    # The class of `cell` in `rnn.py` ("LSTMCell" for LSTM), None for a kind without one.
    _cell_class_name: str | None = None

    @property
    def cell(self):
        """The cell of this kind (`LSTMCell` for `LSTM`), as Keras's layers hold one: named as
        Keras names it, with the layer's cell arguments, and once the layer is built, the
        layer's own weights (the same tensors, not copies). The layer reads sequences in torch's
        fused kernels without it; the cell serves to inspect the weights, or to step or reuse
        them (`RNN(layer.cell)`)."""
        if self._cell_class_name is None:
            raise AttributeError(f"{type(self).__name__} has no cell in netknit.")
        cell = self.__dict__.get("_cell")
        if cell is None:
            from . import rnn  # the cells build on this module

            cell = getattr(rnn, self._cell_class_name)(
                **self._kernels_config(), seed=self.seed, name=self._keras_cell_name,
                trainable=self.trainable, dtype=self._dtype_policy)
            # Kept out of the module tree, so that the weights are listed and saved once.
            object.__setattr__(self, "_cell", cell)
        if self.built:
            self._lend_weights(cell)  # each time: moving the layer replaces its buffers
        return cell

    def _lend_weights(self, cell) -> None:
        """Make the layer's weights (and the fused kernels' zero bias) the cell's own."""
        for name in self._weight_names:
            register = cell.register_parameter if name in self._parameters else (
                cell.register_buffer)
            register(name, getattr(self, name))
        if not self.use_bias:
            cell.bias = None
        if "_zero_recurrent_bias" in self._buffers:
            cell.register_buffer("_zero_recurrent_bias", self._zero_recurrent_bias,
                                 persistent=False)
        cell._weight_names = list(self._weight_names)
        cell.built = True
        vars(cell)["_path"] = self.path and f"{self.path}/{cell.name}"

    @property
    def state_size(self) -> list:
        return [self.units] * len(self._state_names)

    def _output_size(self) -> int:
        return self.units

    def _describe_states(self) -> str:
        return ", ".join(self._state_names)

    def _zero_states(self, sequences) -> list:
        zeros = sequences.new_zeros(sequences.shape[0], self.units)
        return [zeros] * len(self._state_names)

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_sequences(sequences_shape)
        self._build_kernels(sequences_shape[-1])
        self._finish_build(sequences_shape)
        if "_cell" in self.__dict__:  # a cell handed out before the build
            self._lend_weights(self._cell)

    def _check_sequences(self, sequences_shape):
        features = self.kernel.shape[0] if self.built else None
        check_sequence_shape(type(self).__name__, sequences_shape, features)

    def _read(self, sequences, states, mask, training):
        return self._read_sequence(sequences, states, mask, training, self.zero_output_for_mask)

    def get_config(self):
        return {**super().get_config(), **self._kernels_config(layer=True)}


class LSTM(_LSTMKernels, RNNBase):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997), as Keras computes it.

    Gates are ordered (input, forget, cell, output), as in Keras and torch. With the default
    activations the whole sequence runs in torch's fused LSTM kernel.

    Args:
        units: the size of the output and of the hidden and cell states.
        activation: `"tanh"` by default.
        recurrent_activation: the gate activation, `"sigmoid"` by default.
        unit_forget_bias: start the forget-gate bias at 1 (and ignore bias_initializer for it).
        use_cudnn: accepted for compatibility; torch picks its kernel itself.
        Others: the cell's (initializers, regularizers, constraints, dropout, recurrent_dropout,
            seed: see `RecurrentKernels`) and the sequence's (return_sequences, return_state,
            go_backwards, ...: see `RecurrentLayer`).

    Input shape: `(batch, timesteps, features)`; timesteps may be None.
    Output shape: `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`; with
    `return_state`, the list `[output, h, c]` where `h` and `c` are `(batch, units)`.

    >>> LSTM(4)(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 4])
    """

    _keras_cell_name = "lstm_cell"
    _cell_class_name = "LSTMCell"

    def __init__(self, units, *args, use_cudnn="auto", **kwargs):
        super().__init__(units, *args, **kwargs)
        self.use_cudnn = use_cudnn

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class GRU(_GRUKernels, RNNBase):
    """Gated Recurrent Unit layer (Cho et al., 2014), as Keras computes it.

    Keras orders the gates (update z, reset r, candidate h) and torch (r, z, n): the weights keep
    Keras's order, and torch's fused kernel gets a reordered copy on each call. With
    `reset_after=True` (the default) and the default activations, the sequence runs in torch's
    fused GRU kernel, which applies the reset gate after the recurrent matrix multiplication, as
    Keras does.

    Args:
        units: the size of the output and of the state.
        activation: `"tanh"` by default.
        recurrent_activation: the gate activation, `"sigmoid"` by default.
        reset_after: apply the reset gate after the recurrent kernel (True; the bias is then
            `(2, 3 * units)`: input bias and recurrent bias), or before it (False; one bias
            `(3 * units,)`, computed step by step in Python).
        use_cudnn: accepted for compatibility; torch picks its kernel itself.
        Others: as in `LSTM`.

    Input shape: `(batch, timesteps, features)`.
    Output shape: `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`; with
    `return_state`, `[output, h]`.

    >>> GRU(4, return_sequences=True)(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 10, 4])
    """

    _keras_cell_name = "gru_cell"
    _cell_class_name = "GRUCell"

    def __init__(self, units, *args, use_cudnn="auto", **kwargs):
        super().__init__(units, *args, **kwargs)
        self.use_cudnn = use_cudnn

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class SimpleRNN(_SimpleRNNKernels, RNNBase):
    """A fully connected recurrent layer: `h_t = activation(x_t W + h_{t-1} U + b)`.

    With `activation="tanh"` (the default) or `"relu"` the sequence runs in torch's fused kernel.

    Args:
        units: the size of the output and of the state.
        activation: `"tanh"` by default.
        Others: as in `LSTM`.

    Input shape: `(batch, timesteps, features)`.
    Output shape: `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`; with
    `return_state`, `[output, h]`.

    >>> SimpleRNN(4)(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 4])
    """

    _keras_cell_name = "simple_rnn_cell"
    _cell_class_name = "SimpleRNNCell"


def _share_one_buffer(layer, inputs: torch.Tensor, mode: str) -> list:
    """The fused kernel's weights (`_torch_weights`); on a GPU, first put into one buffer, as
    `nn.LSTM` keeps them: cuDNN otherwise copies them into one at every call (and warns).

    cuDNN's flattening re-points the tensors it is given, so it gets copies in torch's layout;
    the layer's weights are then made views of the buffer, keeping their Keras shapes (and their
    identity, for the optimizer). Done again after the weights move (`model.to(...)`).
    """
    weights = layer._torch_weights()
    if (not inputs.is_cuda or torch.compiler.is_compiling()
            or layer._one_buffer_at == weights[0].data_ptr()
            or not torch._use_cudnn_rnn_flatten_weight()):
        return weights
    with torch.no_grad():
        flat = [w.clone(memory_format=torch.contiguous_format) for w in weights]
        torch._cudnn_rnn_flatten_weight(flat, len(flat), inputs.shape[-1],
                                        torch.backends.cudnn.rnn.get_cudnn_mode(mode),
                                        layer.units, 0, 1, True, False)
        layer.kernel.data, layer.recurrent_kernel.data = flat[0].T, flat[1].T
        if layer.use_bias:
            layer.bias.data = flat[2]
            layer._zero_recurrent_bias = flat[3]
    layer._one_buffer_at = flat[0].data_ptr()
    return layer._torch_weights()


def _keeps_for_backward() -> bool:
    """The fused kernels' `train` flag: cuDNN keeps what its backward pass needs only when set
    (dropout is always 0 here, so the flag changes nothing else)."""
    return torch.is_grad_enabled()
