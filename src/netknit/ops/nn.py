"""`keras.ops`' neural-network functions: activations, softmax, one-hot, cross-entropies,
normalization, pooling, convolution and attention, `channels_last` as in Keras."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..layers.convolutional import pad_same, same_padding, transposed_crop
from .core import as_float, tensor, to_torch_dtype
from .operation import keras_operation

_EPSILON = 1e-7  # backend.epsilon()


def _op(class_name: str, call: str = "x", fix: str | None = None, none_means=None):
    return keras_operation("nn", class_name, call, fix, none_means=none_means)


def _activation(class_name: str, name: str, function, to_float: bool = True):
    def activation(x):
        x = tensor(x)
        return function(as_float(x) if to_float else x)

    activation.__name__ = activation.__qualname__ = name
    return _op(class_name)(activation)


def _hard_sigmoid(x):
    return F.relu6(x + 3.0) / 6.0


relu = _activation("Relu", "relu", torch.relu, to_float=False)
relu6 = _activation("Relu6", "relu6", lambda x: torch.clamp(x, 0, 6), to_float=False)
sigmoid = _activation("Sigmoid", "sigmoid", torch.sigmoid)
softplus = _activation("Softplus", "softplus", F.softplus)
softsign = _activation("Softsign", "softsign", F.softsign)
silu = _activation("Silu", "silu", F.silu)
log_sigmoid = _activation("LogSigmoid", "log_sigmoid", F.logsigmoid)
hard_sigmoid = _activation("HardSigmoid", "hard_sigmoid", _hard_sigmoid)
hard_silu = _activation("HardSilu", "hard_silu", lambda x: x * _hard_sigmoid(x))
hard_tanh = _activation("HardTanh", "hard_tanh", lambda x: torch.clamp(x, -1, 1), to_float=False)
selu = _activation("Selu", "selu", F.selu)
tanh_shrink = _activation("TanhShrink", "tanh_shrink", lambda x: x - torch.tanh(x))
sparse_plus = _activation("SparsePlus", "sparse_plus", lambda x: torch.where(
    x <= -1, 0.0, torch.where(x >= 1, x, (x + 1) ** 2 / 4)))
sparse_sigmoid = _activation("SparseSigmoid", "sparse_sigmoid", lambda x: torch.where(
    x <= -1, 0.0, torch.where(x >= 1, 1.0, (x + 1) / 2)))


# Keras's other names for the same functions (so a layer given `swish` saves it as "silu").
swish = silu
hard_swish = hard_silu


@_op("LeakyRelu")
def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(as_float(tensor(x)), negative_slope)


@_op("Elu")
def elu(x, alpha=1.0):
    return F.elu(as_float(tensor(x)), alpha)


@_op("Celu")
def celu(x, alpha=1.0):
    return F.celu(as_float(tensor(x)), alpha)


@_op("Gelu")
def gelu(x, approximate=True):
    return F.gelu(as_float(tensor(x)), approximate="tanh" if approximate else "none")


@_op("Glu")
def glu(x, axis=-1):
    return F.glu(as_float(tensor(x)), dim=axis)


@_op("HardShrink")
def hard_shrink(x, threshold=0.5):
    return F.hardshrink(as_float(tensor(x)), threshold)


@_op("SoftShrink")
def soft_shrink(x, threshold=0.5):
    return F.softshrink(as_float(tensor(x)), threshold)


@_op("Squareplus")
def squareplus(x, b=4):
    x = as_float(tensor(x))
    return (x + torch.sqrt(x * x + b)) / 2


@_op("Threshold")
def threshold(x, threshold, default_value):
    x = tensor(x)
    return torch.where(x > threshold, x, torch.as_tensor(default_value, dtype=x.dtype,
                                                         device=x.device))


def _over_axes(function, x: torch.Tensor, axis):
    """`function(x, dim)` over one axis, or over several moved last and flattened."""
    if isinstance(axis, int):
        return function(x, axis)
    axes = sorted(a % x.ndim for a in axis)
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(*kept, *axes)
    flat = moved.reshape(*moved.shape[:len(kept)], -1)
    result = function(flat, -1).reshape(moved.shape)
    return result.permute(*sorted(range(x.ndim), key=lambda d: (kept + axes).index(d)))


@_op("Softmax")
def softmax(x, axis=-1):
    return _over_axes(lambda t, d: torch.softmax(t, dim=d), as_float(tensor(x)), axis)


@_op("LogSoftmax")
def log_softmax(x, axis=-1):
    return _over_axes(lambda t, d: torch.log_softmax(t, dim=d), as_float(tensor(x)), axis)


def _sparsemax(x: torch.Tensor, dim: int) -> torch.Tensor:
    z = x.movedim(dim, -1)
    ordered = torch.sort(z, dim=-1, descending=True).values
    ranks = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cumulative = ordered.cumsum(-1)
    support = (1 + ranks * ordered) > cumulative
    k = support.sum(-1, keepdim=True)
    tau = (cumulative.gather(-1, k - 1) - 1) / k.to(z.dtype)
    return torch.clamp(z - tau, min=0).movedim(-1, dim)


@_op("Sparsemax")
def sparsemax(x, axis=-1):
    return _sparsemax(as_float(tensor(x)), axis)


@_op("OneHot", none_means={"dtype": "float32"})
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    x = tensor(x).long()
    valid = (x >= 0) & (x < num_classes)
    encoded = F.one_hot(torch.where(valid, x, 0), num_classes) * valid.unsqueeze(-1)
    encoded = encoded.to(to_torch_dtype(dtype) or torch.float32)
    return encoded if axis == -1 else encoded.movedim(-1, axis)


@_op("MultiHot", "inputs", none_means={"dtype": "float32"})
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    num_classes = kwargs.pop("num_tokens", num_classes)
    encoded = one_hot(inputs, num_classes, dtype=dtype)
    encoded = encoded.amax(dim=-2 if encoded.ndim > 2 else 0)
    return encoded if axis == -1 else encoded.movedim(-1, axis)


@_op("BinaryCrossentropy", "target output")
def binary_crossentropy(target, output, from_logits=False):
    output = as_float(tensor(output))
    target = tensor(target, like=output).to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clamp(output, _EPSILON, 1 - _EPSILON)
    return -(target * torch.log(output) + (1 - target) * torch.log(1 - output))


@_op("CategoricalCrossentropy", "target output")
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = as_float(tensor(output))
    target = tensor(target, like=output).to(output.dtype)
    if from_logits:
        log_probabilities = torch.log_softmax(output, dim=axis)
    else:
        output = output / output.sum(dim=axis, keepdim=True)
        log_probabilities = torch.log(torch.clamp(output, _EPSILON, 1 - _EPSILON))
    return -(target * log_probabilities).sum(dim=axis)


@_op("SparseCategoricalCrossentropy", "target output")
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = as_float(tensor(output))
    target = tensor(target, like=output).long()
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    return categorical_crossentropy(one_hot(target, output.shape[axis], axis=axis,
                                            dtype=output.dtype), output, from_logits, axis)


@_op("Moments")
def moments(x, axes, keepdims=False, synchronized=False):
    x = as_float(tensor(x))
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    variance, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=keepdims)
    return mean, variance


def _along(vector, x: torch.Tensor, axis: int) -> torch.Tensor:
    """A per-channel vector shaped to broadcast along `axis` of `x`."""
    shape = [1] * x.ndim
    shape[axis] = -1
    return tensor(vector, like=x).to(x.dtype).reshape(shape)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    x = as_float(tensor(x))
    inverse = torch.rsqrt(_along(variance, x, axis) + epsilon)
    if scale is not None:
        inverse = inverse * _along(scale, x, axis)
    result = (x - _along(mean, x, axis)) * inverse
    return result if offset is None else result + _along(offset, x, axis)


@_op("Normalize")
def normalize(x, axis=-1, order=2, epsilon=None):
    x = as_float(tensor(x))
    epsilon = _EPSILON if epsilon is None else epsilon
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    if order == 2:
        squares = torch.sum(x * x, dim=axis, keepdim=True)
        return x * torch.clamp(torch.rsqrt(squares), max=1.0 / epsilon)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    x = as_float(tensor(x))
    epsilon = _EPSILON if epsilon is None else epsilon
    axes = sorted(a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else (axis,)))
    variance, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
    result = (x - mean) * torch.rsqrt(variance + epsilon)
    if gamma is not None:
        result = result * tensor(gamma, like=x)
    return result if beta is None else result + tensor(beta, like=x)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    x = as_float(tensor(x))
    epsilon = _EPSILON if epsilon is None else epsilon
    result = x * torch.rsqrt(torch.mean(x * x, dim=axis, keepdim=True) + epsilon)
    return result if scale is None else result * tensor(scale, like=x)


@_op("PSNR", "x1 x2")
def psnr(x1, x2, max_val):
    x1 = as_float(tensor(x1))
    x2 = tensor(x2, like=x1).to(x1.dtype)
    if x1.shape != x2.shape:
        raise ValueError(f"psnr needs two inputs of one shape; got {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}.")
    mse = torch.mean((x1 - x2) ** 2)
    return 20 * math.log10(max_val) - 10 * torch.log10(mse)


@_op("Polar", "abs_ angle")
def polar(abs_, angle):
    return torch.polar(as_float(tensor(abs_)), as_float(tensor(angle)))


# ----------------------------------------------------------------------------- windows

def _channels_first(x: torch.Tensor, data_format) -> torch.Tensor:
    return x.movedim(-1, 1) if data_format in (None, "channels_last") else x


def _channels_back(x: torch.Tensor, data_format) -> torch.Tensor:
    return x.movedim(1, -1) if data_format in (None, "channels_last") else x


def _tuple(value, rank: int) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank


@_op("MaxPool", "inputs")
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    x = _channels_first(as_float(tensor(inputs)), data_format)
    rank = x.ndim - 2
    window = _tuple(pool_size, rank)
    strides = window if strides is None else _tuple(strides, rank)
    pads = 0
    if padding.lower() == "same":
        x, pads = pad_same(x, window, strides, value=-math.inf)
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1]
    return _channels_back(pool(x, window, strides, pads), data_format)


@_op("AveragePool", "inputs")
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    x = _channels_first(as_float(tensor(inputs)), data_format)
    rank = x.ndim - 2
    window = _tuple(pool_size, rank)
    strides = window if strides is None else _tuple(strides, rank)
    pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
    if padding.lower() == "valid":
        return _channels_back(pool(x, window, strides), data_format)
    # Padded positions are left out of each mean: pool the ones that mark real positions too.
    pads = [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], window, strides)]
    flat = [p for pair in reversed(pads) for p in pair]
    sums = pool(F.pad(x, flat), window, strides, divisor_override=1) if rank > 1 else (
        pool(F.pad(x, flat), window, strides) * window[0])
    marks = F.pad(torch.ones_like(x[:1, :1]), flat)
    counts = pool(marks, window, strides, divisor_override=1) if rank > 1 else (
        pool(marks, window, strides) * window[0])
    return _channels_back(sums / counts, data_format)


def _conv_padding(x, window, strides, dilation, padding):
    if padding.lower() == "valid":
        return x, 0
    effective = tuple((k - 1) * d + 1 for k, d in zip(window, dilation))
    return pad_same(x, effective, strides)


@_op("Conv", "inputs kernel")
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    x = _channels_first(as_float(tensor(inputs)), data_format)
    kernel = tensor(kernel, like=x).to(x.dtype)
    rank = x.ndim - 2
    strides, dilation = _tuple(strides, rank), _tuple(dilation_rate, rank)
    weight = kernel.permute(rank + 1, rank, *range(rank))  # (*k, in, out) -> (out, in, *k)
    x, pads = _conv_padding(x, kernel.shape[:rank], strides, dilation, padding)
    groups = x.shape[1] // weight.shape[1]
    convolve = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    return _channels_back(convolve(x, weight, None, strides, pads, dilation, groups), data_format)


@_op("DepthwiseConv", "inputs kernel")
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    x = _channels_first(as_float(tensor(inputs)), data_format)
    kernel = tensor(kernel, like=x).to(x.dtype)
    rank = x.ndim - 2
    strides, dilation = _tuple(strides, rank), _tuple(dilation_rate, rank)
    channels, multiplier = kernel.shape[rank], kernel.shape[rank + 1]
    # (*k, in, multiplier) -> (in * multiplier, 1, *k): output channel c*multiplier + m.
    weight = kernel.reshape(*kernel.shape[:rank], 1, channels * multiplier)
    weight = weight.permute(rank + 1, rank, *range(rank))
    x, pads = _conv_padding(x, kernel.shape[:rank], strides, dilation, padding)
    convolve = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    return _channels_back(convolve(x, weight, None, strides, pads, dilation, channels),
                          data_format)


@_op("SeparableConv", "inputs depthwise_kernel pointwise_kernel")
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                               dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format)


@_op("ConvTranspose", "inputs kernel")
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    x = _channels_first(as_float(tensor(inputs)), data_format)
    kernel = tensor(kernel, like=x).to(x.dtype)
    rank = x.ndim - 2
    strides, dilation = _tuple(strides, rank), _tuple(dilation_rate, rank)
    extras = (None,) * rank if output_padding is None else _tuple(output_padding, rank)
    weight = kernel.permute(rank + 1, rank, *range(rank))  # (*k, out, in) -> (in, out, *k)
    convolve = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[rank - 1]
    outputs = convolve(x, weight, None, strides, 0, 0, 1, dilation)
    windows = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    crops = [transposed_crop(w, s, padding.lower(), e)
             for w, s, e in zip(windows, strides, extras)]
    outputs = outputs[(slice(None), slice(None)) + tuple(
        slice(max(start, 0), -end if end > 0 else None) for start, end in crops)]
    pads = [p for start, end in reversed(crops) for p in (max(-start, 0), max(-end, 0))]
    return _channels_back(F.pad(outputs, pads) if any(pads) else outputs, data_format)


def _adaptive_pool(functions, inputs, output_size, data_format):
    x = _channels_first(as_float(tensor(inputs)), data_format)
    rank = x.ndim - 2
    return _channels_back(functions[rank - 1](x, _tuple(output_size, rank)), data_format)


@_op("AdaptiveAveragePool", "inputs")
def adaptive_average_pool(inputs, output_size, data_format=None):
    return _adaptive_pool((F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d),
                          inputs, output_size, data_format)


@_op("AdaptiveMaxPool", "inputs")
def adaptive_max_pool(inputs, output_size, data_format=None):
    return _adaptive_pool((F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d),
                          inputs, output_size, data_format)


@_op("Unfold")
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a channels-first image (N, C, H, W) as columns (N, C*kh*kw, blocks)."""
    return F.unfold(as_float(tensor(x)), kernel_size, dilation, padding, stride)


@_op("Fold")
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse of `unfold`: columns summed back into a (N, C, H, W) image."""
    return F.fold(as_float(tensor(x)), output_size, kernel_size, dilation, padding, stride)


@_op("DepthToSpace")
def depth_to_space(x, block_size, data_format="channels_last"):
    x = tensor(x)
    b = block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = x.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h * b, w * b, c // (b * b))
    n, c, h, w = x.shape
    x = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
    return x.reshape(n, c // (b * b), h * b, w * b)


@_op("SpaceToDepth")
def space_to_depth(x, block_size, data_format="channels_last"):
    x = tensor(x)
    b = block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h // b, w // b, c * b * b)
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


@_op("DotProductAttention", "query key value bias mask scale",
     fix="give query, key and value the layout (batch, length, heads, head_dim), with equal "
         "batch, heads and head_dim, and key and value of one length")
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    query = as_float(tensor(query))
    key, value = (tensor(t, like=query).to(query.dtype) for t in (key, value))
    if query.ndim == 3:
        query, key, value = (t.unsqueeze(2) for t in (query, key, value))
        squeeze = True
    else:
        squeeze = False
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))  # (batch, heads, length, dim)
    attention_mask = None
    if bias is not None:
        attention_mask = tensor(bias, like=q).to(q.dtype)
    if mask is not None:
        mask = tensor(mask, like=q).bool()
        mask_bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill(
            ~mask, -math.inf)
        attention_mask = mask_bias if attention_mask is None else attention_mask + mask_bias
    if attention_mask is not None and is_causal:
        length_q, length_k = q.shape[-2], k.shape[-2]
        causal = torch.ones(length_q, length_k, dtype=torch.bool, device=q.device).tril()
        attention_mask = attention_mask.masked_fill(~causal, -math.inf)
        is_causal = False
    outputs = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask,
                                             is_causal=is_causal, scale=scale)
    outputs = outputs.transpose(1, 2)
    return outputs.squeeze(2) if squeeze else outputs


@_op("CtcLoss", "target output target_length output_length")
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sample CTC loss of `output` logits `(batch, time, classes)` for the label sequences
    `target (batch, max_label_length)`; `mask_index` is the blank class."""
    output = as_float(tensor(output))
    log_probs = F.log_softmax(output.transpose(0, 1), dim=-1)  # torch's (time, batch, classes)
    return F.ctc_loss(log_probs, tensor(target, like=output).long(),
                      tensor(output_length, like=output).long(),
                      tensor(target_length, like=output).long(),
                      blank=mask_index, reduction="none")


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decode CTC logits `(batch, time, classes)` into label sequences, as Keras does.

    Returns `(paths, scores)`: `paths (top_paths, batch, time)` int32 padded with -1 (one path
    with `strategy="greedy"`), and `scores`: with "greedy" `(batch, 1)`, minus the sum of each
    step's largest logit; with "beam_search" `(batch, top_paths)`, each path's log probability
    (a CTC prefix beam search over the softmax, keeping `beam_width` prefixes).
    """
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(f"Expected strategy to be 'greedy' or 'beam_search'. Received: "
                         f"strategy={strategy!r}")
    inputs = as_float(tensor(inputs))
    lengths = tensor(sequence_lengths, like=inputs).long()
    if strategy == "greedy":
        return _ctc_greedy(inputs, lengths, merge_repeated, mask_index)
    return _ctc_beam_search(inputs, lengths, beam_width, top_paths, mask_index)


def _ctc_greedy(inputs, lengths, merge_repeated, blank):
    scores, labels = inputs.max(dim=-1)
    steps = torch.arange(inputs.shape[1], device=inputs.device)
    valid = steps[None, :] < lengths[:, None]
    labels = labels.masked_fill(~valid, blank)
    keep = labels != blank
    if merge_repeated:
        keep[:, 1:] &= labels[:, 1:] != labels[:, :-1]
    # The kept labels first, in order, then -1: a stable sort on "not kept".
    order = torch.sort((~keep).to(torch.int8), dim=1, stable=True).indices
    paths = torch.where(keep, labels, -1).gather(1, order).to(torch.int32)
    return paths[None], -(scores * valid).sum(dim=1, keepdim=True)


def _ctc_beam_search(inputs, lengths, beam_width, top_paths, blank):
    log_probs = F.log_softmax(inputs, dim=-1).cpu().tolist()
    batch, time = inputs.shape[0], inputs.shape[1]
    paths = torch.full((top_paths, batch, time), -1, dtype=torch.int32)
    scores = torch.full((batch, top_paths), -math.inf)
    for b in range(batch):
        beams = _prefix_beam_search(log_probs[b][:int(lengths[b])], beam_width, blank)
        for k, (prefix, score) in enumerate(beams[:top_paths]):
            paths[k, b, :len(prefix)] = torch.tensor(prefix, dtype=torch.int32)
            scores[b, k] = score
    return paths.to(inputs.device), scores.to(inputs.device)


def _prefix_beam_search(steps: list, beam_width: int, blank: int) -> list:
    """[(prefix, log probability)], best first: each prefix's probability is the sum over the
    alignments kept in the beam, split by whether they end in a blank (so that a repeated label
    after a blank starts a new one)."""
    def add(a, b):
        return b if a == -math.inf else a if b == -math.inf else max(a, b) + math.log1p(
            math.exp(-abs(a - b)))

    beams = {(): (0.0, -math.inf)}  # prefix -> (ending in blank, ending in a label)
    for step in steps:
        grown: dict = {}
        for prefix, (p_blank, p_label) in beams.items():
            total = add(p_blank, p_label)
            old_blank, old_label = grown.get(prefix, (-math.inf, -math.inf))
            grown[prefix] = (add(old_blank, total + step[blank]), old_label)
            for label, p in enumerate(step):
                if label == blank:
                    continue
                longer = prefix + (label,)
                if prefix and prefix[-1] == label:
                    # Only a blank in between makes a repeat a new label; else it merges.
                    old_blank, old_label = grown[prefix]
                    grown[prefix] = (old_blank, add(old_label, p_label + p))
                    source = p_blank + p
                else:
                    source = total + p
                old_blank, old_label = grown.get(longer, (-math.inf, -math.inf))
                grown[longer] = (old_blank, add(old_label, source))
        ranked = sorted(grown.items(), key=lambda item: -add(*item[1]))
        beams = dict(ranked[:beam_width])
    return [(prefix, add(*p)) for prefix, p in beams.items()]
