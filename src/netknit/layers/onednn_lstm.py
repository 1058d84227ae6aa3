"""The LSTM kernel of oneDNN as two opaque graph nodes, for `jit_compile=True` on the CPU.

On the CPU, `torch.lstm` runs oneDNN's fused LSTM (`aten.mkldnn_rnn_layer`) and its backward
pass, which is why the eager layer is fast. But torch cannot compile that kernel's derivative
inside a whole training step: under `torch.func.grad` its fake-tensor trace fails ("output with
shape [64, 256] doesn't match the broadcast shape (1, 64, 256)"), so a model with an LSTM used
to fall back to an eager step. Here the forward and backward kernels are two operators of the
`netknit` namespace that the compiler does not look into: it calls them as they are, with their
inputs in the layout they need, and fuses everything around them.

`lstm` is what the LSTM layer calls while a training step is being compiled on the CPU
(`applies`); everywhere else the layer calls `torch.lstm` as before.
"""

from __future__ import annotations

import torch

_LSTM = 2  # oneDNN's rnn_kind for LSTM (0 RNN_RELU, 1 RNN_TANH, 2 LSTM, 3 GRU)

_ops = torch.library.Library("netknit", "DEF")
# The kernels read their inputs' memory directly: the compiler must hand them over as laid out
# when traced (it may otherwise pick other strides for a buffer it made).
_FIXED = (torch.Tag.needs_fixed_stride_order,)
_ops.define(
    "lstm_forward(Tensor x, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh, Tensor h0, "
    "Tensor c0) -> (Tensor, Tensor, Tensor, Tensor)", tags=_FIXED)
_ops.define(
    "lstm_backward(Tensor x, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh, Tensor h0, "
    "Tensor c0, Tensor output, Tensor hy, Tensor cy, Tensor grad_output, Tensor grad_hy, "
    "Tensor grad_cy, Tensor workspace) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, "
    "Tensor)", tags=_FIXED)


def _forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
    """Time-major `x (steps, batch, features)` -> output, last h, last c, and the workspace
    oneDNN keeps for the backward pass."""
    # oneDNN fills the workspace only where autograd is on; these inputs need no graph.
    with torch.enable_grad():
        return torch.ops.aten.mkldnn_rnn_layer(
            x, w_ih, w_hh, b_ih, b_hh, h0, c0, False, [], _LSTM, h0.shape[1], 1, True, False,
            False, True)


def _backward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, output, hy, cy, grad_output, grad_hy, grad_cy,
              workspace):
    grads = torch.ops.aten.mkldnn_rnn_layer_backward(
        x, w_ih, w_hh, b_ih, b_hh, h0, c0, output, hy, cy, grad_output.contiguous(),
        grad_hy.contiguous(), grad_cy.contiguous(), False, _LSTM, h0.shape[1], 1, True, True,
        False, [], False, workspace)
    d_x, d_w_ih, d_w_hh, d_b, d_b_again, d_h0, d_c0 = grads
    # Both bias gradients are the same tensor: an operator's outputs may not alias each other.
    return d_x, d_w_ih, d_w_hh, d_b, d_b_again.clone(), d_h0, d_c0


_ops.impl("lstm_forward", _forward, "CPU")
_ops.impl("lstm_backward", _backward, "CPU")

_workspace_sizes: dict = {}


@torch.library.register_fake("netknit::lstm_forward")
def _forward_shapes(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
    steps, batch, _ = x.shape
    return (x.new_empty(steps, batch, h0.shape[1]), torch.empty_like(h0), torch.empty_like(c0),
            x.new_empty(_workspace_size(x, h0), dtype=torch.uint8))


def _workspace_size(x, h0) -> int:
    """The workspace's size in bytes, which oneDNN decides: learnt once per shape by running the
    kernel on zeros of that shape (the compiler must know every buffer's size)."""
    key = (*x.shape, h0.shape[1], x.dtype)
    if key not in _workspace_sizes:
        steps, batch, features = x.shape
        units = h0.shape[1]
        with torch._subclasses.fake_tensor.unset_fake_temporarily():
            def zeros(*shape):
                return torch.zeros(*shape, dtype=x.dtype)
            workspace = _forward(zeros(steps, batch, features), zeros(4 * units, features),
                                 zeros(4 * units, units), zeros(4 * units), zeros(4 * units),
                                 zeros(batch, units), zeros(batch, units))[3]
        _workspace_sizes[key] = workspace.numel()
    return _workspace_sizes[key]


@torch.library.register_fake("netknit::lstm_backward")
def _backward_shapes(x, w_ih, w_hh, b_ih, b_hh, h0, c0, output, hy, cy, grad_output, grad_hy,
                     grad_cy, workspace):
    return tuple(map(torch.empty_like, (x, w_ih, w_hh, b_ih, b_hh, h0, c0)))


class _LSTMFunction(torch.autograd.Function):
    """Differentiates `lstm_forward` with `lstm_backward`; `setup_context` makes it usable under
    `torch.func.grad`, which computes the whole step's gradients."""

    @staticmethod
    def forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
        return torch.ops.netknit.lstm_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs, *output)

    @staticmethod
    def backward(ctx, grad_output, grad_hy, grad_cy, _grad_workspace):
        return torch.ops.netknit.lstm_backward(*ctx.saved_tensors[:10], grad_output, grad_hy,
                                               grad_cy, ctx.saved_tensors[10])


@torch.compiler.allow_in_graph
def _lstm_time_major(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
    # In the graph as one call: the compiler then traces the function's forward and backward
    # under torch.func.grad rather than inlining it, which it cannot do there.
    return _LSTMFunction.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0)


# Read once: the compiler refuses to trace this function.
_BUILT_WITH_ONEDNN = torch.backends.mkldnn.is_available()


def applies(inputs: torch.Tensor) -> bool:
    """Whether the LSTM layer should call `lstm`: a training step being compiled on the CPU, in
    float32, by a torch built with oneDNN."""
    return (_BUILT_WITH_ONEDNN and torch.compiler.is_compiling() and torch.is_grad_enabled()
            and inputs.device.type == "cpu" and inputs.dtype == torch.float32)


def lstm(inputs, h0, c0, kernel, recurrent_kernel, bias, recurrent_bias):
    """`torch.lstm` for one layer, batch first, on oneDNN's kernel: `inputs (batch, steps,
    features)`, states `(batch, units)`, weights in torch's layout -> (outputs, h, c)."""
    outputs, h, c, _ = _lstm_time_major(inputs.transpose(0, 1).contiguous(), kernel,
                                        recurrent_kernel, bias, recurrent_bias, h0, c0)
    return outputs.transpose(0, 1), h, c
