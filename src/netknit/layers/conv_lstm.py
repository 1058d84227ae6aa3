"""Convolutional LSTM layers: ConvLSTM1D, ConvLSTM2D and ConvLSTM3D.

An LSTM whose input and recurrent transformations are convolutions (Shi et al., 2015): each time
step is a feature map — a signal, an image or a volume — and so are the states `h` and `c`.

The arguments, gates and state update are `LSTM`'s (`_LSTMKernels`), and reading the sequence —
initial states, masks, direction, what is returned — is `RecurrentLayer`'s. What is particular
is the two convolutions. The input convolution runs once over every time step (time folded into
the batch); only the recurrent convolution (stride 1, "same" padding, as in Keras) runs per step,
in a Python loop. The kernels keep Keras's layout, `(*kernel_size, channels, 4 * filters)` and
`(*kernel_size, filters, 4 * filters)` with the gates in Keras's order (i, f, c, o), and reach
torch as permuted views. Dropout follows Keras: one mask per gate, kept for all steps, on the
input and (`recurrent_dropout`) on `h` before the recurrent convolution; the four masked copies
then run as one grouped convolution.
"""

from __future__ import annotations

import torch.nn.functional as F

from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .convolutional import (
    check_strides_or_dilation,
    check_window_fits,
    describe_layout,
    dilated_windows,
    join_spatial,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    output_length,
    pad_same,
    split_spatial,
    torch_kernel_order,
    torch_padding,
)
from .core import check_positive_int
from .recurrent import RNNBase, _LSTMKernels, _scan


class ConvLSTM(_LSTMKernels, RNNBase):
    """N-d convolutional LSTM (the base of ConvLSTM1D, ConvLSTM2D and ConvLSTM3D; see
    ConvLSTM2D for the arguments)."""

    _keras_cell_name = "conv_lstm_cell"
    _arguments_passed_for_the_user = ("units",)
    rank: int

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 **kwargs):
        super().__init__(
            check_positive_int("filters", filters), activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            unit_forget_bias=unit_forget_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, **kwargs)
        rank = self.rank
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        check_strides_or_dilation(self.strides, self.dilation_rate)
        self._channels_last = self.data_format == "channels_last"
        self._windows = dilated_windows(self.kernel_size, self.dilation_rate)
        self._input_padding = torch_padding(self.padding, self._windows, self.strides)
        self._recurrent_padding = torch_padding("same", self.kernel_size, (1,) * rank)
        self._convolve = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]

    # ------------------------------------------------------------------ shapes

    def _check_sequences(self, sequences_shape) -> int:
        """Raise a ShapeError unless the input is a sequence of feature maps this layer can read;
        returns its number of channels."""
        name, rank = type(self).__name__, self.rank
        layout = "(batch, time, " + describe_layout(rank, self.data_format)[len("(batch, "):]
        if len(sequences_shape) != rank + 3:
            sample = tuple(sequences_shape[1:])
            spatial = len(sample) - 2
            fixes = []
            if len(sequences_shape) == rank + 2:
                one_step = format_shape((1,) + sample)
                fixes.append(f"to read it as one time step, add Reshape({one_step}) before the "
                             f"{name}")
            if spatial != rank and 1 <= spatial <= 3:
                fixes.append(f"use ConvLSTM{spatial}D for sequences with {spatial} spatial "
                             f"ax{'is' if spatial == 1 else 'es'}")
            raise ShapeError(
                f"{name} expects {rank + 3}-D sequences {layout}, but received the "
                f"{len(sequences_shape)}-D input {format_shape(sequences_shape)}.",
                fix=("; or ".join(fixes) or f"reshape each sample to ({layout[len('(batch, '):]}")
                + ".",
            )
        spatial, channels = split_spatial((sequences_shape[0],) + tuple(sequences_shape[2:]),
                                          self.data_format)
        if None in spatial or channels is None:
            raise ShapeError(
                f"{name} needs fixed sizes for every axis of a step but time, to create its "
                f"kernels and states; received {format_shape(sequences_shape)}.",
                fix="give the Input fixed sizes after the time axis, e.g. "
                f"Input(shape=(None, {', '.join(['32'] * rank)}, 3)).",
            )
        if self.built and tuple(sequences_shape[2:]) != self._step_shape:
            built = (None, None) + self._step_shape
            raise ShapeError(
                f"It was built for sequences {format_shape(built)}, but received "
                f"{format_shape(sequences_shape)}.",
                fix=f"resize or project the input to {format_shape(built)} first, or use a new "
                f"{name} for this input.",
            )
        if self.padding == "valid":
            check_window_fits(self, sequences_shape, spatial, self._windows, "kernel")
        return channels

    def _state_shape(self, sequences_shape) -> tuple:
        """The shape of `h`, `c` and each step's output: `(batch, *spatial, filters)`."""
        spatial, _ = split_spatial((sequences_shape[0],) + tuple(sequences_shape[2:]),
                                   self.data_format)
        spatial = tuple(output_length(n, w, self.padding, s)
                        for n, w, s in zip(spatial, self._windows, self.strides))
        return join_spatial(sequences_shape[0], spatial, self.filters, self.data_format)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        self._check_sequences(sequences_shape)
        state = self._state_shape(sequences_shape)
        output = (state[0], sequences_shape[1]) + state[1:] if self.return_sequences else state
        return (output, state, state) if self.return_state else output

    # ------------------------------------------------------------------ weights

    def build(self, sequences_shape, initial_state_shape=None):
        channels = self._check_sequences(sequences_shape)
        width = 4 * self.filters
        self.add_weight(name="kernel", shape=self.kernel_size + (channels, width),
                        initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        self.add_weight(name="recurrent_kernel", shape=self.kernel_size + (self.filters, width),
                        initializer=self.recurrent_initializer,
                        regularizer=self.recurrent_regularizer,
                        constraint=self.recurrent_constraint)
        if self.use_bias:
            self.add_weight(name="bias", shape=(width,), initializer=self._bias_initializer(),
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self._kernel_order = torch_kernel_order(self.rank)
        self._step_shape = tuple(sequences_shape[2:])
        self._zero_state_shape = self._state_shape((1,) + tuple(sequences_shape[1:]))[1:]
        self._finish_build(sequences_shape)

    # ------------------------------------------------------------------ computing

    def _zero_states(self, sequences) -> list:
        zeros = sequences.new_zeros((sequences.shape[0],) + self._zero_state_shape)
        return [zeros, zeros]

    def _read_sequence(self, inputs, states, mask, training, zero_output_for_mask):
        batch, steps = inputs.shape[:2]
        # Channels-first views: (batch, time, channels, *spatial).
        frames = inputs.movedim(-1, 2) if self._channels_last else inputs
        groups = 1
        if training and self.dropout:
            masks = self._dropout_mask(
                frames.new_empty((4, batch, 1) + frames.shape[2:]), self.dropout)
            frames, groups = (frames * masks).movedim(0, 2).flatten(2, 3), 4
        # 1. The input convolution of every step at once: (batch, time, 4 * filters, *spatial).
        x = frames.flatten(0, 1)
        if self._input_padding is None:
            x, padding = pad_same(x, self._windows, self.strides)
        else:
            padding = self._input_padding
        projected = self._convolve(x, self.kernel.permute(self._kernel_order), self.bias,
                                   self.strides, padding, self.dilation_rate, groups)
        projected = projected.unflatten(0, (batch, steps))

        # 2. Per step, the recurrent convolution of h and the LSTM update.
        recurrent_kernel = self.recurrent_kernel.permute(self._kernel_order).contiguous()
        states = [s.movedim(-1, 1) for s in states] if self._channels_last else list(states)
        recurrent_masks = None
        if training and self.recurrent_dropout:
            recurrent_masks = self._dropout_mask(states[0].new_empty((4,) + states[0].shape),
                                                 self.recurrent_dropout)
        ones = (1,) * self.rank

        def step(projected_input, states):
            h, c = states
            groups = 1
            if recurrent_masks is not None:
                h, groups = (h * recurrent_masks).movedim(0, 1).flatten(1, 2), 4
            padding = self._recurrent_padding
            if padding is None:
                h, padding = pad_same(h, self.kernel_size, ones)
            recurrent = self._convolve(h, recurrent_kernel, None, 1, padding, 1, groups)
            new_states = self._update(projected_input + recurrent, c)
            return new_states[0], new_states

        outputs, states = _scan(step, projected, states, mask, zero_output_for_mask)
        if self._channels_last:
            return outputs.movedim(2, -1), [s.movedim(1, -1) for s in states]
        return outputs, states

    # ------------------------------------------------------------------ config

    def _kernels_config(self, layer=False):
        lstm = super()._kernels_config(layer)
        del lstm["units"]
        return {"filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate, **lstm}

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM: sequences of signals; arguments as ConvLSTM2D with one-element
    sizes.

    Input shape: `(batch, time, steps, channels)` (channels_last) or
    `(batch, time, channels, steps)`.
    Output shape: `(batch, new_steps, filters)`, or `(batch, time, new_steps, filters)` with
    `return_sequences`.

    >>> ConvLSTM1D(4, 3, padding="same")(torch.zeros(2, 5, 10, 3)).shape
    torch.Size([2, 10, 4])
    """

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM: an LSTM over sequences of images whose input and recurrent
    transformations are convolutions.

    At each step the gates are `x_t * W + h_{t-1} * U + b` with `*` a convolution: the input's
    with the layer's strides, padding and dilation, the state's with stride 1 and "same" padding
    (so the states keep the shape of one output step).

    Args:
        filters: the number of channels of the output and of each state.
        kernel_size: the window of both convolutions: an int or a tuple of two.
        strides, padding, data_format, dilation_rate: of the input convolution, as in Conv2D
            (padding is "valid" or "same"; strides > 1 exclude dilation_rate > 1).
        activation: the activation of the candidate and output, `"tanh"` by default.
        recurrent_activation: the gate activation, `"sigmoid"` by default.
        use_bias: whether to add the bias `(4 * filters,)`.
        kernel_initializer, recurrent_initializer, bias_initializer: `"glorot_uniform"`,
            `"orthogonal"` and `"zeros"` by default.
        unit_forget_bias: start the forget gate's bias at 1.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint: as in LSTM.
        dropout, recurrent_dropout: fractions of the input and of the state dropped in training
            (one mask per gate, the same at every step).
        seed: kept in the config; the dropout masks draw from torch's global generator.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as in LSTM.

    The kernels' Keras layouts are `(kh, kw, channels, 4 * filters)` and
    `(kh, kw, filters, 4 * filters)`, gates in the order (i, f, c, o).

    Call arguments: `sequences`, `initial_state` (`[h, c]`, each shaped as one output step),
    `mask (batch, time)`, `training`.

    Input shape: `(batch, time, rows, cols, channels)` (channels_last) or
    `(batch, time, channels, rows, cols)`.
    Output shape: `(batch, new_rows, new_cols, filters)`, or
    `(batch, time, new_rows, new_cols, filters)` with `return_sequences`; with `return_state`,
    `[output, h, c]` with `h` and `c` shaped as one output step.

    >>> ConvLSTM2D(8, 3, padding="same")(torch.zeros(2, 5, 16, 16, 3)).shape
    torch.Size([2, 16, 16, 8])
    """

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM: sequences of volumes; arguments as ConvLSTM2D with three-element
    sizes.

    Input shape: `(batch, time, depth, rows, cols, channels)` (channels_last) or
    `(batch, time, channels, depth, rows, cols)`.
    Output shape: `(batch, new_depth, new_rows, new_cols, filters)`, with a time axis after the
    batch with `return_sequences`.

    >>> ConvLSTM3D(2, 3)(torch.zeros(1, 4, 5, 5, 5, 1)).shape
    torch.Size([1, 3, 3, 3, 2])
    """

    rank = 3
