"""torch's own kernels, called as they are inside a training step compiled on the CPU.

`jit_compile=True` compiles the whole training step (forward, backward, update) as one graph.
For two layers, the graph is better off calling torch's eager CPU kernels than tracing them:

- **LSTM.** On the CPU `torch.lstm` runs oneDNN's fused LSTM (`aten.mkldnn_rnn_layer`) and its
  backward pass. torch cannot compile that kernel's derivative under `torch.func.grad` (its
  fake-tensor trace fails: "output with shape [64, 256] doesn't match the broadcast shape
  (1, 64, 256)"), so a model with an LSTM used to fall back to an eager step.
- **Max pooling.** The compiler's own code for max pooling and its backward pass on
  channels-last tensors is slower than torch's kernels on the CPU: W2's compiled step was no
  faster than the eager one with it, and 1.6 times faster with torch's kernels.

Each is a pair of operators of the `netknit` namespace (forward, backward) that the compiler
does not look into: it calls them with their inputs laid out as traced and fuses everything
around them. An `autograd.Function` with `setup_context` differentiates the forward with the
backward, which `torch.func.grad` (the whole step's gradients) requires. The layers call these
only while a training step is being compiled on the CPU (`in_compiled_cpu_training`); everywhere
else they call torch's functions as before.
"""

from __future__ import annotations

import torch

_ops = torch.library.Library("netknit", "DEF")
# The kernels read their inputs' memory directly: the compiler must hand them over as laid out
# when traced (it may otherwise pick other strides for a buffer it made).
_FIXED = (torch.Tag.needs_fixed_stride_order,)


def in_compiled_cpu_training(inputs: torch.Tensor) -> bool:
    """Whether a layer should call the kernels here: a training step (autograd on) being
    compiled, on the CPU, in float32."""
    return (torch.compiler.is_compiling() and torch.is_grad_enabled()
            and inputs.device.type == "cpu" and inputs.dtype == torch.float32)


# ---------------------------------------------------------------------------------- LSTM

_LSTM = 2  # oneDNN's rnn_kind for LSTM (0 RNN_RELU, 1 RNN_TANH, 2 LSTM, 3 GRU)
# Read once: the compiler refuses to trace this function.
_BUILT_WITH_ONEDNN = torch.backends.mkldnn.is_available()

_ops.define(
    "lstm_forward(Tensor x, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh, Tensor h0, "
    "Tensor c0) -> (Tensor, Tensor, Tensor, Tensor)", tags=_FIXED)
_ops.define(
    "lstm_backward(Tensor x, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh, Tensor h0, "
    "Tensor c0, Tensor output, Tensor hy, Tensor cy, Tensor grad_output, Tensor grad_hy, "
    "Tensor grad_cy, Tensor workspace) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, "
    "Tensor)", tags=_FIXED)


def _contiguous(*tensors):
    # oneDNN reads raw memory: a strided view would be read wrongly, or past its end (torch's
    # own LSTM makes its inputs contiguous before calling these kernels, too).
    return [t.contiguous() for t in tensors]


def _lstm_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
    """Time-major `x (steps, batch, features)` -> output, last h, last c, and the workspace
    oneDNN keeps for the backward pass."""
    # oneDNN fills the workspace only where autograd is on; these inputs need no graph.
    with torch.enable_grad():
        return torch.ops.aten.mkldnn_rnn_layer(
            *_contiguous(x, w_ih, w_hh, b_ih, b_hh, h0, c0), False, [], _LSTM, h0.shape[1], 1,
            True, False, False, True)


def _lstm_backward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, output, hy, cy, grad_output, grad_hy,
                   grad_cy, workspace):
    grads = torch.ops.aten.mkldnn_rnn_layer_backward(
        *_contiguous(x, w_ih, w_hh, b_ih, b_hh, h0, c0, output, hy, cy, grad_output, grad_hy,
                     grad_cy), False, _LSTM, h0.shape[1], 1, True, True, False, [], False,
        workspace)
    d_x, d_w_ih, d_w_hh, d_b, d_b_again, d_h0, d_c0 = grads
    # Both bias gradients are the same tensor: an operator's outputs may not alias each other.
    return d_x, d_w_ih, d_w_hh, d_b, d_b_again.clone(), d_h0, d_c0


_ops.impl("lstm_forward", _lstm_forward, "CPU")
_ops.impl("lstm_backward", _lstm_backward, "CPU")

_workspace_sizes: dict = {}


@torch.library.register_fake("netknit::lstm_forward")
def _lstm_forward_shapes(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
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
            workspace = _lstm_forward(zeros(steps, batch, features), zeros(4 * units, features),
                                      zeros(4 * units, units), zeros(4 * units),
                                      zeros(4 * units), zeros(batch, units),
                                      zeros(batch, units))[3]
        _workspace_sizes[key] = workspace.numel()
    return _workspace_sizes[key]


@torch.library.register_fake("netknit::lstm_backward")
def _lstm_backward_shapes(x, w_ih, w_hh, b_ih, b_hh, h0, c0, output, hy, cy, grad_output,
                          grad_hy, grad_cy, workspace):
    return tuple(map(torch.empty_like, (x, w_ih, w_hh, b_ih, b_hh, h0, c0)))


class _LSTMFunction(torch.autograd.Function):
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


def lstm_applies(inputs: torch.Tensor) -> bool:
    """Whether the LSTM layer should call `lstm`: see `in_compiled_cpu_training`, and a torch
    built with oneDNN."""
    return _BUILT_WITH_ONEDNN and in_compiled_cpu_training(inputs)


def lstm(inputs, h0, c0, kernel, recurrent_kernel, bias, recurrent_bias):
    """`torch.lstm` for one layer, batch first, on oneDNN's kernel: `inputs (batch, steps,
    features)`, states `(batch, units)`, weights in torch's layout -> (outputs, h, c)."""
    outputs, h, c, _ = _lstm_time_major(inputs.transpose(0, 1).contiguous(), kernel,
                                        recurrent_kernel, bias, recurrent_bias, h0, c0)
    return outputs.transpose(0, 1), h, c


# --------------------------------------------------------------------------- max pooling

_ops.define("max_pool(Tensor x, int[] window, int[] strides, int[] padding) -> (Tensor, Tensor)",
            tags=_FIXED)
_ops.define("max_pool_backward(Tensor grad, Tensor x, int[] window, int[] strides, "
            "int[] padding, Tensor indices) -> Tensor", tags=_FIXED)


def _max_pool(x, window, strides, padding):
    """Channels-first `x` with 2 or 3 spatial axes -> the maxima and where they were."""
    pool = (torch.ops.aten.max_pool2d_with_indices if len(window) == 2
            else torch.ops.aten.max_pool3d_with_indices)
    return pool(x, window, strides, padding)


def _max_pool_backward(grad, x, window, strides, padding, indices):
    unpool = (torch.ops.aten.max_pool2d_with_indices_backward if len(window) == 2
              else torch.ops.aten.max_pool3d_with_indices_backward)
    return unpool(grad, x, window, strides, padding, [1] * len(window), False, indices)


_ops.impl("max_pool", _max_pool, "CPU")
_ops.impl("max_pool_backward", _max_pool_backward, "CPU")
# torch's own shape functions of these kernels give the shapes and layouts they return.
torch.library.register_fake("netknit::max_pool", _max_pool)
torch.library.register_fake("netknit::max_pool_backward", _max_pool_backward)


class _MaxPoolFunction(torch.autograd.Function):
    @staticmethod
    def forward(x, window, strides, padding):
        return torch.ops.netknit.max_pool(x, window, strides, padding)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, ctx.window, ctx.strides, ctx.padding = inputs
        ctx.save_for_backward(x, output[1])
        ctx.mark_non_differentiable(output[1])

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        x, indices = ctx.saved_tensors
        return (torch.ops.netknit.max_pool_backward(grad, x, ctx.window, ctx.strides,
                                                    ctx.padding, indices), None, None, None)


@torch.compiler.allow_in_graph
def _max_pool_with_indices(x, window, strides, padding):
    return _MaxPoolFunction.apply(x, window, strides, padding)


def max_pool(x: torch.Tensor, window, strides, padding) -> torch.Tensor:
    """`F.max_pool2d`/`F.max_pool3d` of channels-first `x` on torch's kernels."""
    return _max_pool_with_indices(x, list(window), list(strides), list(padding))[0]
