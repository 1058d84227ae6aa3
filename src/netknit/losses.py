"""Loss functions and `Loss` objects with Keras's names, defaults, reductions and numerics.

Each loss exists twice, as in Keras: a function `fn(y_true, y_pred, ...)` that returns one value per
sample (reduced over the last axis), and a class whose call `loss(y_true, y_pred, sample_weight)`
weights those values and reduces them to a scalar:

* `"sum_over_batch_size"` (the default) and `"mean"`: the sum of the weighted values divided by
  their number;
* `"mean_with_sample_weight"`: the sum divided by the sum of the sample weights;
* `"sum"`: the sum;
* `"none"` or `None`: the weighted values themselves.

Cross-entropies from probabilities clip them to `[1e-7, 1 - 1e-7]` before the log, as Keras does;
from logits they use torch's fused kernels. Nothing here leaves the device or waits on it.

>>> import netknit as keras
>>> keras.losses.MeanSquaredError()(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
tensor(0.5000)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .graph.errors import unknown_name_error
from .layers.layer import to_snake_case, unique_name
from .ops.core import as_array
from .ops.nn import ctc_loss

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# --- Helpers shared with metrics -------------------------------------------------------------

def to_tensor(value, device: torch.device | None = None) -> torch.Tensor:
    """A tensor for `value`: tensors pass through (moved to `device`), arrays and lists become
    tensors with floats as float32 (Keras's floatx) and integers as int64."""
    if isinstance(value, torch.Tensor):
        return value if device is None or value.device == device else value.to(device)
    tensor = torch.as_tensor(as_array(value), device=device)
    if tensor.is_floating_point() and tensor.dtype != torch.float32:
        return tensor.float()
    return tensor


def convert_pair(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    """`y_pred` as a floating tensor and `y_true` cast to its dtype and device."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    y_true = to_tensor(y_true, y_pred.device)
    if y_true.dtype != y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    return y_true, y_pred


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Make ranks equal when they differ by one and the longer tensor ends in a dimension of 1.

    The longer one is squeezed, except that a rank-1 tensor is expanded instead (with
    `expand_rank_1`), so labels of shape (batch,) meet predictions of shape (batch, 1).
    """
    if x1.dim() == x2.dim() + 1 and x1.shape[-1] == 1:
        if x2.dim() == 1 and expand_rank_1:
            return x1, x2.unsqueeze(-1)
        return x1.squeeze(-1), x2
    if x2.dim() == x1.dim() + 1 and x2.shape[-1] == 1:
        if x1.dim() == 1 and expand_rank_1:
            return x1.unsqueeze(-1), x2
        return x1, x2.squeeze(-1)
    return x1, x2


def divide_no_nan(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """`numerator / denominator`, and 0 where the denominator is 0."""
    return torch.where(denominator == 0, torch.zeros_like(numerator), numerator / denominator)


def prediction_mask(y_pred) -> torch.Tensor | None:
    """The mask a model's output carries (`_keras_mask`, from Embedding(mask_zero=True) through
    return_sequences layers), as booleans; None when it has none."""
    mask = getattr(y_pred, "_keras_mask", None)
    return None if mask is None else mask.bool()


def detached(y_pred: torch.Tensor) -> torch.Tensor:
    """`y_pred.detach()` that keeps its mask, for the metrics."""
    out = y_pred.detach()
    mask = getattr(y_pred, "_keras_mask", None)
    if mask is not None:
        out._keras_mask = mask
    return out


def reduce_weighted_values(values: torch.Tensor, sample_weight=None, mask=None,
                           reduction: str | None = "sum_over_batch_size") -> torch.Tensor:
    """Weight per-sample loss values and reduce them as Keras's `Loss.__call__` does.

    A boolean `mask` (True = counted) is folded into the weights so that the averaging reductions
    divide by the number of counted entries.
    """
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, values.device).to(values.dtype)
    if mask is not None:
        if reduction in ("sum_over_batch_size", "mean"):
            valid = mask.sum().to(values.dtype)
            scale = divide_no_nan(torch.full_like(valid, mask.numel()), valid)
            mask_weight = mask.to(values.dtype) * scale
        else:
            mask_weight = mask.to(values.dtype)
        if sample_weight is None:
            sample_weight = mask_weight
        else:
            mask_weight, sample_weight = squeeze_or_expand_to_same_rank(mask_weight, sample_weight)
            sample_weight = sample_weight * mask_weight
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction is None or reduction == "none" or values.dim() == 0 or values.numel() == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(total, sample_weight.sum())
    return total / values.numel()


def _check_reduction(reduction) -> str | None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {list(REDUCTIONS)}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def _check_label_smoothing(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(
            f"Expected a number in [0, 1] for label_smoothing. Received: label_smoothing={value!r}"
        )
    return float(value)


def _check_axis(axis) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"Expected an integer for axis. Received: axis={axis!r}")
    return axis


# --- Loss functions: one value per sample ----------------------------------------------------

def mean_squared_error(y_true, y_pred):
    """`mean(square(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    return torch.square(y_true - y_pred).mean(dim=-1)


def mean_absolute_error(y_true, y_pred):
    """`mean(abs(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    return torch.abs(y_true - y_pred).mean(dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * diff.mean(dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.square(first - second).mean(dim=-1)


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    inv_norm = torch.rsqrt(torch.square(x).sum(dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / EPSILON)


def cosine_similarity(y_true, y_pred, axis: int = -1):
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 for parallel vectors."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    return -(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(dim=axis)


def huber(y_true, y_pred, delta: float = 1.0):
    """Quadratic `0.5 * e**2` for `|e| <= delta`, linear `delta * (|e| - delta / 2)` beyond."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    return F.huber_loss(y_pred, y_true, reduction="none", delta=delta).mean(dim=-1)


def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed without overflow."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    error = y_pred - y_true
    return (error + F.softplus(-2.0 * error) - math.log(2.0)).mean(dim=-1)


def kl_divergence(y_true, y_pred):
    """`sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to `[1e-7, 1]`."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


def poisson(y_true, y_pred):
    """`mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)`."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(dim=-1)


def _to_signed_labels(y_true: torch.Tensor) -> torch.Tensor:
    # Labels given as {0, 1} become {-1, 1}; the test runs on the device, without a sync.
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """`mean(maximum(1 - y_true * y_pred, 0), axis=-1)`, labels in {-1, 1} or {0, 1}."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    return torch.relu(1.0 - _to_signed_labels(y_true) * y_pred).mean(dim=-1)


def squared_hinge(y_true, y_pred):
    """`mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`, labels in {-1, 1} or {0, 1}."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    return torch.square(torch.relu(1.0 - _to_signed_labels(y_true) * y_pred)).mean(dim=-1)


def categorical_hinge(y_true, y_pred):
    """`maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)` over the last axis."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    positive = (y_true * y_pred).sum(dim=-1)
    negative = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return torch.relu(negative - positive + 1.0)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1):
    """Binary cross-entropy, averaged over `axis`.

    With `label_smoothing`, targets move towards 0.5: `y * (1 - s) + 0.5 * s`.
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        y_pred = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        values = F.binary_cross_entropy(y_pred, y_true, reduction="none")
    return values.mean(dim=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1):
    """Binary cross-entropy scaled by `(1 - p_t) ** gamma`, optionally by `alpha` per class."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = F.binary_cross_entropy(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON), y_true,
                                 reduction="none")
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    values = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        values = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * values
    return values.mean(dim=axis)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1):
    """Cross-entropy between one-hot (or soft) targets and predictions along `axis`.

    With `label_smoothing` s and C classes, targets become `y * (1 - s) + s / C`. Probabilities
    are renormalised to sum to 1 and clipped to `[1e-7, 1 - 1e-7]` before the log.
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "categorical_crossentropy expects y_true and y_pred of the same shape (one-hot "
            f"targets). Received: y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(y_pred.shape)}. For integer class labels use "
            "sparse_categorical_crossentropy."
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=axis)
    else:
        y_pred = y_pred / y_pred.sum(dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON))
    return -(y_true * log_prob).sum(dim=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0,
                                   axis: int = -1):
    """Categorical cross-entropy of each class scaled by `alpha * (1 - p) ** gamma`, so that
    well-classified examples count less (Lin et al., 2017), as Keras computes it."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    output = torch.clamp(y_pred / y_pred.sum(dim=axis, keepdim=True), EPSILON, 1.0 - EPSILON)
    focal = alpha * torch.pow(1.0 - output, gamma) * -(y_true * torch.log(output))
    return focal.sum(dim=axis)


def _sparse_labels(y_true, y_pred: torch.Tensor, axis: int) -> torch.Tensor:
    """Integer labels shaped like `y_pred` without its class axis ((batch, 1) is squeezed)."""
    labels = to_tensor(y_true, y_pred.device)
    if labels.dim() == y_pred.dim() and labels.shape[axis] == 1:
        labels = labels.squeeze(axis)
    expected = list(y_pred.shape)
    del expected[axis]
    if list(labels.shape) != expected:
        raise ValueError(
            "sparse_categorical_crossentropy expects integer labels shaped like y_pred without "
            f"its class axis, {tuple(expected)} (or with a trailing 1). Received: "
            f"y_true.shape={tuple(labels.shape)}, y_pred.shape={tuple(y_pred.shape)}. For "
            "one-hot targets use categorical_crossentropy."
        )
    return labels if labels.dtype == torch.long else labels.long()


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1):
    """Cross-entropy between integer labels (batch,) or (batch, 1) and class scores.

    Labels equal to `ignore_class` give a loss of 0 (and `SparseCategoricalCrossentropy` leaves
    them out of its average).
    """
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    labels = _sparse_labels(y_true, y_pred, axis)
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    if from_logits:
        scores = y_pred if y_pred.dim() == 1 else torch.movedim(y_pred, axis, 1)
        values = F.cross_entropy(scores, labels, reduction="none")
    else:
        y_pred = y_pred / y_pred.sum(dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON))
        values = -log_prob.gather(axis, labels.unsqueeze(axis)).squeeze(axis)
    if ignore_class is not None:
        values = torch.where(valid, values, torch.zeros_like(values))
    return values


def _sum(x: torch.Tensor, axis) -> torch.Tensor:
    """`x` summed over `axis`: an int, a sequence of ints, or None for all axes."""
    if axis is None:
        return x.sum()
    return x.sum(dim=axis if isinstance(axis, int) else tuple(axis))


def dice(y_true, y_pred, axis=None):
    """`1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)`, summed over `axis`.

    With `axis=None` (the default) the sums run over every axis, batch included, and the loss is
    one number; `axis=(1, 2, 3)` gives one value per image of a (batch, h, w, c) mask.
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    overlap = _sum(y_true * y_pred, axis)
    return 1 - 2.0 * overlap / (_sum(y_true, axis) + _sum(y_pred, axis) + EPSILON)


def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis=None):
    """`1 - TP / (TP + alpha * FN + beta * FP + 1e-7)` of soft counts summed over `axis`.

    `TP = sum(y_true * y_pred)`, `FN = sum(y_true * (1 - y_pred))` (missed target mass) and
    `FP = sum((1 - y_true) * y_pred)`, as Keras computes them: its documentation says `alpha`
    weighs false positives, but its formula gives `alpha` the missed target mass. With
    `alpha = beta = 0.5` this is the Dice loss.
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    overlap = _sum(y_true * y_pred, axis)
    missed = _sum((1 - y_pred) * y_true, axis)
    spurious = _sum(y_pred * (1 - y_true), axis)
    return 1 - overlap / (overlap + missed * alpha + spurious * beta + EPSILON)


def ctc(y_true, y_pred):
    """CTC (connectionist temporal classification) loss of each sample, as Keras's `ctc`.

    `y_true` holds integer label sequences `(batch, max_length)`, padded with 0, which is also
    the blank class, so labels start at 1; `y_pred` holds logits `(batch, time, classes)` (not
    softmaxed). Every sample uses all `time` steps.
    """
    y_true, y_pred = to_tensor(y_true), to_tensor(y_pred)
    if y_true.dim() != 2:
        raise ValueError(
            "CTC targets `y_true` must be integer labels of shape (batch_size, max_length), "
            f"padded with 0. Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.dim() != 3:
        raise ValueError(
            "CTC `y_pred` must be logits of shape (batch_size, time, num_classes). Received: "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    label_length = (y_true != 0).sum(-1)
    input_length = torch.full((y_pred.shape[0],), y_pred.shape[1], device=y_pred.device)
    return ctc_loss(y_true, y_pred, label_length, input_length, mask_index=0)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal: bool = True,
           gamma: float = 80, margin: float = 0.4):
    """Circle loss (Sun et al., 2020) of L2-normalized embeddings `y_pred` with integer labels.

    Each embedding is compared with every reference embedding (`ref_embeddings`, by default the
    batch itself) by cosine distance `d`, clipped at 0. Same-label pairs (leaving out each
    embedding with itself when `remove_diagonal`) are pushed together with weight
    `max(margin + d, 0)`, other pairs apart with weight `max(1 + margin - d, 0)`, and the loss of
    each embedding is `softplus(logsumexp(-gamma w_p (margin - d_p)) +
    logsumexp(gamma w_n (1 - margin - d_n)))`. Returns one value per embedding.
    """
    y_pred = to_tensor(y_pred)
    labels = to_tensor(y_true, y_pred.device).long()
    references = y_pred if ref_embeddings is None else to_tensor(ref_embeddings, y_pred.device)
    ref_labels = labels if ref_labels is None else to_tensor(ref_labels, y_pred.device).long()
    distances = torch.clamp(1 - y_pred @ references.T, min=0.0)
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(*positive.shape, dtype=torch.bool,
                                         device=positive.device)
    pull = torch.clamp((margin + distances) * positive, min=0.0)
    push = torch.clamp((1 + margin - distances) * negative, min=0.0)
    pull_logits = -gamma * pull * (margin - distances)
    push_logits = gamma * push * (1 - margin - distances)
    pull_loss = torch.logsumexp(torch.where(positive, pull_logits, -math.inf), dim=1)
    push_loss = torch.logsumexp(torch.where(negative, push_logits, -math.inf), dim=1)
    return F.softplus(pull_loss + push_loss)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """`(1 - p ** q) / q` with `p` the predicted probability of the integer label.

    Noise-robust (Zhang and Sabuncu, 2018): close to cross-entropy as `q` goes to 0 and to the
    mean absolute error at `q = 1`. Labels have shape (batch,) or (batch, 1).
    """
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    labels = to_tensor(y_true, y_pred.device).long()
    if labels.dim() == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    p = y_pred.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    return (1 - torch.pow(p, q)) / q


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy


# --- Loss objects ----------------------------------------------------------------------------

class Loss:
    """Base class: `loss(y_true, y_pred, sample_weight=None)` returns the reduced loss.

    Subclasses implement `call(y_true, y_pred)`, returning one value per sample.

    Args:
        name: the loss's name; by default made from the class name.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, `"none"` or `None`.
        dtype: accepted for Keras compatibility; the loss computes in the dtype of `y_pred`.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype=None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.reduction = _check_reduction(reduction)
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None) -> torch.Tensor:
        values = self.call(y_true, y_pred)
        mask = self._mask(y_true, y_pred, values)
        # As Keras's: the predictions' mask (a sequence model's padding) leaves entries out.
        given = prediction_mask(y_pred)
        if given is not None:
            mask = given if mask is None else given & mask
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred) -> torch.Tensor:
        raise NotImplementedError

    def _mask(self, y_true, y_pred, values) -> torch.Tensor | None:
        """Which per-sample `values` count towards the average (None: all of them)."""
        return None

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A `Loss` made from a function `fn(y_true, y_pred, **kwargs)` of per-sample values.

    Before calling `fn`, labels of shape (batch,) meet predictions of shape (batch, 1) (and the
    other way round), as in Keras.

    Args:
        fn: the loss function.
        reduction: see `Loss`.
        name: by default the function's name.
        **kwargs: passed to `fn` on every call.
    """

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"Expected a callable for fn. Received: fn={fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def __getattr__(self, name: str):
        # The function's keyword arguments read as attributes: `loss.from_logits`.
        kwargs = self.__dict__.get("_fn_kwargs", {})
        if name in kwargs:
            return kwargs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def call(self, y_true, y_pred):
        y_true, y_pred = to_tensor(y_true), to_tensor(y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def _mask(self, y_true, y_pred, values):
        # As in Keras, the circle loss is averaged over the embeddings whose loss is positive,
        # whether it is used by name or as `Circle`.
        return values > 0 if self.fn is circle else None

    def get_config(self) -> dict:
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is LossFunctionWrapper:
            config["fn"] = _serialize_function(self.fn)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        config = dict(config)
        if "fn" in config:
            config["fn"] = _deserialize_function(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({getattr(self.fn, '__name__', self.fn)}, " \
               f"kwargs={self._fn_kwargs})>"


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors between labels and predictions (`mean_squared_error`)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors between labels and predictions (`mean_absolute_error`)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute error relative to the labels, in percent."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared error between `log(1 + y_true)` and `log(1 + y_pred)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis` (-1 when predictions point like the labels).

    Args:
        axis: the axis along which the similarity is computed.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=_check_axis(axis))


class Huber(LossFunctionWrapper):
    """Huber loss: squared error for small errors, absolute error beyond `delta`.

    Args:
        delta: the error size where the loss turns from quadratic to linear.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta <= 0:
            raise ValueError(f"Expected a positive number for delta. Received: delta={delta!r}")
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=float(delta))


class LogCosh(LossFunctionWrapper):
    """Mean of `log(cosh(error))`: like MSE for small errors, like MAE for large ones."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence from `y_pred` to `y_true` (both probability distributions)."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss: mean of `y_pred - y_true * log(y_pred)`."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """Hinge loss for labels in {-1, 1} (or {0, 1}, converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss for labels in {-1, 1} (or {0, 1}, converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot labels."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Cross-entropy for binary (0 or 1) labels.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; squeezes targets towards 0.5.
        axis: the axis the cross-entropy is averaged over.

    >>> loss = BinaryCrossentropy(from_logits=True)
    >>> loss(torch.tensor([[0.0, 1.0]]), torch.tensor([[-2.0, 3.0]]))
    tensor(0.0878)
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits),
                         label_smoothing=_check_label_smoothing(label_smoothing),
                         axis=_check_axis(axis))


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy that down-weights easy examples by `(1 - p_t) ** gamma`.

    Args:
        apply_class_balancing: weight class 1 by `alpha` and class 0 by `1 - alpha`.
        alpha: the class-balancing weight of class 1.
        gamma: the focusing parameter; 0 gives plain binary cross-entropy.
        from_logits, label_smoothing, axis: as for `BinaryCrossentropy`.
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
            raise ValueError(f"Expected a non-negative number for gamma. Received: gamma={gamma!r}")
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits),
                         label_smoothing=_check_label_smoothing(label_smoothing),
                         axis=_check_axis(axis),
                         apply_class_balancing=bool(apply_class_balancing), alpha=alpha,
                         gamma=gamma)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot labels.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; targets become `y * (1 - s) + s / num_classes`.
        axis: the class axis.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits),
                         label_smoothing=_check_label_smoothing(label_smoothing),
                         axis=_check_axis(axis))


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy that down-weights easy examples by `alpha * (1 - p) ** gamma`.

    Args:
        alpha: the weight of every class's term (0.25 by default).
        gamma: the focusing parameter; 0 (with alpha 1) gives plain categorical cross-entropy.
        from_logits, label_smoothing, axis: as for `CategoricalCrossentropy`.
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
            raise ValueError(f"Expected a non-negative number for gamma. Received: gamma={gamma!r}")
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=bool(from_logits),
                         label_smoothing=_check_label_smoothing(label_smoothing),
                         axis=_check_axis(axis))


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels, shaped (batch,) or (batch, 1), int or float.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        ignore_class: a label to leave out of the loss and of its average (e.g. a "void" class).
        axis: the class axis of `y_pred`.
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        if ignore_class is not None and (isinstance(ignore_class, bool)
                                         or not isinstance(ignore_class, int)):
            raise ValueError(
                f"Expected an integer or None for ignore_class. Received: "
                f"ignore_class={ignore_class!r}"
            )
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=bool(from_logits), ignore_class=ignore_class,
                         axis=_check_axis(axis))

    def call(self, y_true, y_pred):
        # Integer labels go straight to the function: no rank matching against y_pred.
        return sparse_categorical_crossentropy(y_true, y_pred, **self._fn_kwargs)

    def _mask(self, y_true, y_pred, values):
        if self.ignore_class is None:
            return None
        y_pred = to_tensor(y_pred)
        return _sparse_labels(y_true, y_pred, self.axis) != self.ignore_class

    def get_config(self) -> dict:
        # Keras leaves `axis` out of this loss's config.
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


def _check_axis_or_axes(axis):
    if axis is None or isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    if isinstance(axis, (tuple, list)) and all(
            isinstance(a, int) and not isinstance(a, bool) for a in axis):
        return axis
    raise ValueError(
        f"Expected None, an integer or a tuple of integers for axis. Received: axis={axis!r}"
    )


class Dice(LossFunctionWrapper):
    """Dice loss, `1 - 2 |y_true * y_pred| / (|y_true| + |y_pred|)`, for segmentation masks.

    Args:
        axis: the axes the sums run over; None (the default) sums over all of them, batch
            included, so the loss is one number.

    >>> y_true = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    >>> y_pred = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]])
    >>> Dice(axis=1, reduction=None)(y_true, y_pred)
    tensor([0.5000, 0.7576])
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype,
                         axis=_check_axis_or_axes(axis))


class CTC(LossFunctionWrapper):
    """CTC loss (see `ctc`): integer label sequences padded with 0 (the blank class) against
    logits `(batch, time, classes)`.

    >>> y_true = torch.tensor([[1, 2, 0]])
    >>> y_pred = torch.zeros(1, 4, 3)
    >>> CTC()(y_true, y_pred).shape
    torch.Size([])
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


class Tversky(LossFunctionWrapper):
    """Tversky loss: the Dice loss with the two kinds of error weighted apart (see `tversky`).

    Args:
        alpha: the weight of the missed target mass `sum(y_true * (1 - y_pred))`.
        beta: the weight of the spurious mass `sum((1 - y_true) * y_pred)`.
        axis: the axes the sums run over; None sums over all of them.
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         beta=beta, axis=_check_axis_or_axes(axis))


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings (metric learning).

    The model should end without an activation, then `UnitNormalization`. The loss is averaged
    over the embeddings whose loss is positive.

    Args:
        gamma: the scale of the similarity scores.
        margin: the relaxation margin: below this cosine distance, negatives weigh more and
            positives less.
        remove_diagonal: whether an embedding is left out of its own positive pairs.
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross-entropy `(1 - p ** q) / q` for integer labels and probabilities.

    Args:
        q: in (0, 1); near 0 it behaves like cross-entropy, near 1 like the mean absolute error,
            which is more robust to noisy labels.
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"Expected a number in the open interval (0, 1) for q. Received: "
                             f"q={q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=q)

    def call(self, y_true, y_pred):
        # Integer labels go straight to the function: no rank matching against y_pred.
        return categorical_generalized_cross_entropy(y_true, y_pred, **self._fn_kwargs)


# --- Lookup and serialization ----------------------------------------------------------------

LOSS_CLASSES = {
    cls.__name__: cls
    for cls in (
        Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
        MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh,
        KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy,
        BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy,
        SparseCategoricalCrossentropy, Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy,
        CTC,
    )
}
LOSS_FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, kl_divergence, poisson,
        hinge, squared_hinge, categorical_hinge, binary_crossentropy, binary_focal_crossentropy,
        categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
        dice, tversky, circle, categorical_generalized_cross_entropy, ctc,
    )
}
LOSS_FUNCTIONS.update({
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence, "KLD": kl_divergence,
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
})


def get(identifier) -> Loss | Callable | None:
    """Resolve a loss identifier, as Keras's `losses.get` does.

    Args:
        identifier: None; a name: a loss function's name or alias (`"mse"`,
            `"mean_squared_error"`) gives that function, a class name (`"MeanSquaredError"`) a new
            instance; a `Loss` or any callable, returned as it is; a `Loss` class, instantiated;
            or a config dict from `serialize`.

    Returns:
        A `Loss`, a function `fn(y_true, y_pred)` of per-sample values, or None. `compile` wraps
        a function in a `LossFunctionWrapper`.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in LOSS_CLASSES and identifier not in ("Loss", "LossFunctionWrapper"):
            return LOSS_CLASSES[identifier]()
        if identifier == categorical_generalized_cross_entropy.__name__:
            # The function needs `q`, so its name gives the class with its default q (Keras
            # knows neither name).
            return CategoricalGeneralizedCrossEntropy()
        if identifier in LOSS_FUNCTIONS:
            return LOSS_FUNCTIONS[identifier]
        raise unknown_name_error(
            "loss", identifier, [n for n in (*LOSS_CLASSES, *LOSS_FUNCTIONS)
                                 if n not in ("Loss", "LossFunctionWrapper")]
        )
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret loss identifier: expected a loss name (e.g. 'mse'), a Loss, a "
        f"function fn(y_true, y_pred) or a config dict. Received: {identifier!r}"
    )


def serialize(loss) -> dict | None:
    """A Keras-style config dict for a `Loss` (or a built-in loss function)."""
    if loss is None:
        return None
    if not isinstance(loss, Loss):
        return _serialize_function(loss)
    return {"module": "keras.losses", "class_name": type(loss).__name__,
            "config": loss.get_config(), "registered_name": None}


def deserialize(config: dict) -> Loss:
    """The `Loss` described by a dict from `serialize`."""
    class_name = config.get("class_name")
    if class_name == "function":
        loss = get(config.get("config"))
        return loss if isinstance(loss, Loss) else LossFunctionWrapper(loss)
    if class_name not in LOSS_CLASSES:
        raise unknown_name_error("loss class", class_name, LOSS_CLASSES)
    return LOSS_CLASSES[class_name].from_config(config.get("config") or {})


def _serialize_function(fn) -> dict:
    return {"module": "keras.losses", "class_name": "function",
            "config": getattr(fn, "__name__", repr(fn)), "registered_name": "function"}


def _deserialize_function(value) -> Callable:
    if callable(value):
        return value
    name = value.get("config") if isinstance(value, dict) else value
    if name not in LOSS_FUNCTIONS:
        raise unknown_name_error("loss function", name, LOSS_FUNCTIONS)
    return LOSS_FUNCTIONS[name]
