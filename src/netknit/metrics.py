"""Stateful metrics with Keras's names, defaults and numerics.

A metric accumulates over batches: `update_state(y_true, y_pred, sample_weight=None)` adds a
batch, `result()` returns the value so far as a tensor, `reset_state()` starts again. The state
lives in torch tensors on the device of the first batch and is updated in place, so a training
step never waits on the device; only converting `result()` to a number does.

>>> import netknit as keras
>>> m = keras.metrics.BinaryAccuracy()
>>> m.update_state(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.9], [0.7]]))
>>> m.result()
tensor(0.5000)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch

from . import initializers
from . import losses as losses_module
from .graph.errors import unknown_name_error
from .layers.core import check_positive_int
from .layers.layer import to_snake_case, unique_name
from .losses import (
    EPSILON,
    convert_pair,
    divide_no_nan,
    prediction_mask,
    squeeze_or_expand_to_same_rank,
    to_tensor,
)
from .variables import as_variable, rewrapped

# The loss functions are metrics too, as in Keras (`keras.metrics.mean_squared_error`).
binary_crossentropy = losses_module.binary_crossentropy
binary_focal_crossentropy = losses_module.binary_focal_crossentropy
categorical_crossentropy = losses_module.categorical_crossentropy
categorical_focal_crossentropy = losses_module.categorical_focal_crossentropy
categorical_hinge = losses_module.categorical_hinge
hinge = losses_module.hinge
huber = losses_module.huber
kl_divergence = losses_module.kl_divergence
log_cosh = losses_module.log_cosh
mean_absolute_error = losses_module.mean_absolute_error
mean_absolute_percentage_error = losses_module.mean_absolute_percentage_error
mean_squared_error = losses_module.mean_squared_error
mean_squared_logarithmic_error = losses_module.mean_squared_logarithmic_error
poisson = losses_module.poisson
sparse_categorical_crossentropy = losses_module.sparse_categorical_crossentropy
squared_hinge = losses_module.squared_hinge

NEG_INF = -1e10


def _dtype(value, integer: bool = False) -> torch.dtype:
    if value is None:
        return torch.float32
    if isinstance(value, torch.dtype):
        return value
    dtype = getattr(torch, str(value), None)
    if not isinstance(dtype, torch.dtype) or not (dtype.is_floating_point or integer):
        raise ValueError(
            f"Expected a floating dtype such as 'float32' for dtype. Received: dtype={value!r}"
        )
    return dtype


class Metric:
    """Base class of stateful metrics.

    Subclasses declare their state with `add_variable` in `__init__` (or on the first update when
    its shape depends on the data) and implement `update_state` and `result`.

    A metric that training should raise or lower says so in `_direction` (`"up"` or `"down"`),
    as Keras's do: the monitoring callbacks read it in `mode="auto"`.

    Args:
        name: the metric's name; by default made from the class name.
        dtype: the dtype of the state, `"float32"` by default.
    """

    _integer_state = False  # whether the state may be integer (IoU's confusion matrix)

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._torch_dtype = _dtype(dtype, integer=self._integer_state)
        self._variables: dict[str, torch.Tensor] = {}
        self._device = torch.device("cpu")

    @property
    def dtype(self) -> str:
        return str(self._torch_dtype).removeprefix("torch.")

    @property
    def variables(self) -> list[torch.Tensor]:
        return list(self._variables.values())

    def add_variable(self, shape=(), initializer=None, dtype=None, aggregation="sum",
                     name=None) -> torch.Tensor:
        """A state tensor, moved with the metric; `reset_state` sets it to zeros.

        Takes Keras's arguments (`add_variable(shape=(), initializer="zeros", name="tp")`,
        `initializer` a name or an `Initializer`, zeros by default) and also netknit's short
        form `add_variable("total", (3,))`, which keeps the tensor as `self.total`.
        `aggregation` is accepted as in Keras; data-parallel runs sum every state.
        """
        if isinstance(shape, str):  # the short form: the name first
            name, shape = shape, (() if initializer is None else initializer)
            initializer, keep_as_attribute = None, True
        else:
            keep_as_attribute = False
        shape = tuple(shape) if isinstance(shape, (list, tuple)) else shape
        torch_dtype = self._torch_dtype if dtype is None else _dtype(dtype, integer=True)
        if initializer is None or initializer == "zeros":
            tensor = torch.zeros(shape, dtype=torch_dtype, device=self._device)
        else:
            value = initializers.get(initializer)(shape, dtype=torch_dtype)
            tensor = torch.as_tensor(value, dtype=torch_dtype).to(self._device).clone()
        name = name or "variable"
        key = name if keep_as_attribute else f"{name}_{len(self._variables)}"
        tensor = as_variable(tensor, trainable=False, path=f"{self.name}/{name}")
        self._variables[key] = tensor
        if keep_as_attribute:
            setattr(self, name, tensor)
        return tensor

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None) -> torch.Tensor:
        """Keras's older name of `add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    def _on_device_of(self, tensor: torch.Tensor) -> None:
        """Move the state to `tensor`'s device if it lives elsewhere (once, on the first batch)."""
        if tensor.device != self._device:
            self._device = tensor.device
            for name, value in list(self._variables.items()):
                self._replace_variable(name, value.to(tensor.device))

    def _replace_variable(self, name: str, new: torch.Tensor) -> None:
        """Put `new` in place of the state `name`, also wherever the metric keeps it under another
        attribute (`self.tp = self.add_variable(name="true_positives")`)."""
        old = self._variables[name]
        new = rewrapped(old, new)
        self._variables[name] = new
        for attribute, held in list(vars(self).items()):
            if held is old:
                setattr(self, attribute, new)

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self) -> None:
        for value in self._variables.values():
            value.zero_()

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


# --- Means and sums --------------------------------------------------------------------------

def _reduce_to_samplewise(values: torch.Tensor, sample_weight, reduce_fn):
    """Per-sample values (and weights) from values of any rank, as Keras's mean metrics do."""
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, values.device).to(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_rank = sample_weight.dim()
        if values.dim() > weight_rank:
            values = reduce_fn(values, dim=tuple(range(weight_rank, values.dim())))
        sample_weight = sample_weight.broadcast_to(values.shape)
        values = values * sample_weight
        if weight_rank > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, weight_rank)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the given values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable("total")

    def update_state(self, values, sample_weight=None):
        values = to_tensor(values)
        self._on_device_of(values)
        values, _ = _reduce_to_samplewise(values.to(self._torch_dtype), sample_weight, torch.sum)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """The (weighted) mean of the given values: `sum(values * w) / sum(w)`."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable("total")
        self.add_variable("count")

    def update_state(self, values, sample_weight=None):
        values = to_tensor(values)
        self._on_device_of(values)
        values, sample_weight = _reduce_to_samplewise(values.to(self._torch_dtype), sample_weight,
                                                      torch.mean)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(values.shape[0] if values.dim() >= 1 else 1)

    def result(self):
        return divide_no_nan(self.total, self.count)


# A mean of one of these is minimized, as Keras's metrics of its own losses are. Keras's list
# leaves out categorical generalized cross-entropy.
_KERAS_LOSS_FUNCTIONS = tuple(
    fn for fn in losses_module.LOSS_FUNCTIONS.values()
    if fn is not losses_module.categorical_generalized_cross_entropy)
_KERAS_LOSS_CLASSES = tuple(
    cls for cls in losses_module.LOSS_CLASSES.values()
    if cls is not losses_module.CategoricalGeneralizedCrossEntropy)


class MeanMetricWrapper(Mean):
    """The mean over all samples of `fn(y_true, y_pred, **kwargs)`.

    Args:
        fn: a function of per-sample values, such as a loss function.
        name: the metric's name.
        **kwargs: passed to `fn` on every update.
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"Expected a callable for fn. Received: fn={fn!r}")
        super().__init__(name=name or unique_name("mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if fn in _KERAS_LOSS_FUNCTIONS or type(fn) in _KERAS_LOSS_CLASSES:
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = prediction_mask(y_pred)
        if mask is not None:
            # As Keras's: the predictions' masked entries (padding) are not counted.
            mask = mask.to(values.dtype)
            if sample_weight is not None:
                mask, sample_weight = squeeze_or_expand_to_same_rank(
                    mask, to_tensor(sample_weight, values.device).to(values.dtype))
                mask = mask * sample_weight
            sample_weight = mask
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", repr(self._fn))
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            config["fn"] = _metric_function(config["fn"])
        return cls(**config)


class _FunctionMetric(MeanMetricWrapper):
    """A `MeanMetricWrapper` around a fixed function; its config is its name, dtype and options."""

    function: Callable

    def __init__(self, name: str, dtype=None, **kwargs):
        super().__init__(type(self).function, name=name, dtype=dtype, **kwargs)

    def __getattr__(self, name: str):
        kwargs = self.__dict__.get("_fn_kwargs", {})
        if name in kwargs:
            return kwargs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


# --- Accuracy --------------------------------------------------------------------------------

def accuracy(y_true, y_pred):
    """1.0 where `y_pred` equals `y_true` exactly, else 0.0."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    return (y_true == y_pred).float()


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    """1.0 where `y_pred > threshold` matches the binary label, else 0.0."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == (y_pred > threshold).to(y_true.dtype)).float()


def categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of `y_pred` is the arg-max of the one-hot `y_true`."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).float()


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of `y_pred` equals the integer label, (batch,) or (batch, 1)."""
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    matches = (y_true == y_pred.argmax(dim=-1).to(y_true.dtype)).float()
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(labels: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """Whether each label's score is at least the k-th largest (ties count as in)."""
    num_classes = y_pred.shape[-1]
    if k > num_classes:
        raise ValueError(
            f"Top-{k} accuracy needs at least {k} classes; y_pred has {num_classes}. "
            f"Use k <= {num_classes}."
        )
    y_pred = y_pred.reshape(-1, num_classes)
    kth_largest = y_pred.topk(k, dim=-1).values[:, -1]
    label_scores = y_pred.gather(1, labels.reshape(-1, 1).long()).squeeze(1)
    return label_scores >= kth_largest


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1.0 where the one-hot label is among the `k` highest predictions."""
    y_true, y_pred = convert_pair(y_true, y_pred)
    labels = y_true.argmax(dim=-1)
    return _in_top_k(labels, y_pred, k).float().reshape(labels.shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5,
                                      from_sorted_ids: bool = False):
    """1.0 where the integer label is among the `k` highest predictions.

    With `from_sorted_ids`, `y_pred` already holds class ids sorted by score.
    """
    y_pred = to_tensor(y_pred)
    labels = to_tensor(y_true, y_pred.device)
    if from_sorted_ids:
        ids = y_pred.reshape(-1, y_pred.shape[-1])[:, :k]
        matches = (ids == labels.reshape(-1, 1).to(ids.dtype)).any(dim=1)
    else:
        matches = _in_top_k(labels, y_pred, k)
    return matches.float().reshape(labels.shape)


class Accuracy(_FunctionMetric):
    """How often predictions equal labels exactly."""

    function = staticmethod(accuracy)
    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryAccuracy(_FunctionMetric):
    """How often `y_pred > threshold` matches binary labels.

    Args:
        threshold: the score above which a prediction counts as 1.
    """

    function = staticmethod(binary_accuracy)
    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise ValueError(f"Expected a number for threshold. Received: threshold={threshold!r}")
        super().__init__(name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(_FunctionMetric):
    """How often the arg-max of predictions matches one-hot labels."""

    function = staticmethod(categorical_accuracy)
    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SparseCategoricalAccuracy(_FunctionMetric):
    """How often the arg-max of predictions matches integer labels."""

    function = staticmethod(sparse_categorical_accuracy)
    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"Expected a positive integer for k. Received: k={k!r}")
    return k


class TopKCategoricalAccuracy(_FunctionMetric):
    """How often one-hot labels are among the `k` highest predictions.

    Args:
        k: how many of the highest predictions count.
    """

    function = staticmethod(top_k_categorical_accuracy)
    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype, k=_check_k(k))


class SparseTopKCategoricalAccuracy(_FunctionMetric):
    """How often integer labels are among the `k` highest predictions.

    Args:
        k: how many of the highest predictions count.
        from_sorted_ids: `y_pred` holds class ids sorted by score instead of scores.
    """

    function = staticmethod(sparse_top_k_categorical_accuracy)
    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(name=name, dtype=dtype, k=_check_k(k),
                         from_sorted_ids=bool(from_sorted_ids))

    def get_config(self) -> dict:
        config = super().get_config()
        if not self.from_sorted_ids:
            del config["from_sorted_ids"]
        return config


# --- Regression and probabilistic metrics ----------------------------------------------------

class MeanSquaredError(_FunctionMetric):
    """Mean of squared errors."""

    function = staticmethod(losses_module.mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_FunctionMetric):
    """Mean of absolute errors."""

    function = staticmethod(losses_module.mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_FunctionMetric):
    """Mean absolute error relative to the labels, in percent."""

    function = staticmethod(losses_module.mean_absolute_percentage_error)

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_FunctionMetric):
    """Mean squared error between `log(1 + y_true)` and `log(1 + y_pred)`."""

    function = staticmethod(losses_module.mean_squared_logarithmic_error)

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


def cosine_similarity(y_true, y_pred, axis: int = -1):
    """Cosine similarity along `axis`: 1 for parallel vectors (the negated loss)."""
    return -losses_module.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(_FunctionMetric):
    """Mean cosine similarity between labels and predictions along `axis`."""

    function = staticmethod(cosine_similarity)
    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class LogCoshError(_FunctionMetric):
    """Mean of `log(cosh(error))`."""

    function = staticmethod(losses_module.log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """Square root of the mean squared error over all elements."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
        super().update_state(torch.square(y_pred - y_true), sample_weight)

    def result(self):
        return torch.sqrt(super().result())


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of labels and predictions along `axis`: the mean product of their
    standardized values (population standard deviations)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    true_centered = y_true - y_true.mean(dim=axis, keepdim=True)
    pred_centered = y_pred - y_pred.mean(dim=axis, keepdim=True)
    true_standard = true_centered / true_centered.std(dim=axis, correction=0, keepdim=True)
    pred_standard = pred_centered / pred_centered.std(dim=axis, correction=0, keepdim=True)
    return (true_standard * pred_standard).mean(dim=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation of labels and predictions along `axis`:
    `2 cov / (var_true + var_pred + (mean_true - mean_pred)^2 + 1e-7)` (population moments)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = (y_true - true_mean).var(dim=axis, correction=0, keepdim=True)
    pred_var = (y_pred - pred_mean).var(dim=axis, correction=0, keepdim=True)
    # Keras centres both factors on the predictions' mean; the mean of the product is the same
    # covariance, and computing it the same way keeps the rounding the same.
    products = (y_true - pred_mean) * (y_pred - pred_mean)
    denominator = true_var + pred_var + torch.square(true_mean - pred_mean)
    return (2 * products / (denominator + EPSILON)).mean(dim=axis)


class PearsonCorrelation(_FunctionMetric):
    """Mean Pearson correlation coefficient between labels and predictions along `axis`.

    Args:
        axis: the axis (or axes) along which each correlation is computed.
    """

    function = staticmethod(pearson_correlation)
    _direction = "up"

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(_FunctionMetric):
    """Mean concordance correlation coefficient between labels and predictions along `axis`:
    1 when they agree exactly, lowered by both scatter and a shift or scaling of predictions.

    Args:
        axis: the axis (or axes) along which each coefficient is computed.
    """

    function = staticmethod(concordance_correlation)
    _direction = "up"

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class KLDivergence(_FunctionMetric):
    """Mean Kullback-Leibler divergence."""

    function = staticmethod(losses_module.kl_divergence)

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Poisson(_FunctionMetric):
    """Mean Poisson loss."""

    function = staticmethod(losses_module.poisson)

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Hinge(_FunctionMetric):
    """Mean hinge loss."""

    function = staticmethod(losses_module.hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(_FunctionMetric):
    """Mean squared hinge loss."""

    function = staticmethod(losses_module.squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(_FunctionMetric):
    """Mean categorical hinge loss."""

    function = staticmethod(losses_module.categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryCrossentropy(_FunctionMetric):
    """Mean binary cross-entropy (see `losses.binary_crossentropy`)."""

    function = staticmethod(losses_module.binary_crossentropy)

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(_FunctionMetric):
    """Mean categorical cross-entropy (see `losses.categorical_crossentropy`)."""

    function = staticmethod(losses_module.categorical_crossentropy)

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_FunctionMetric):
    """Mean sparse categorical cross-entropy (see `losses.sparse_categorical_crossentropy`)."""

    function = staticmethod(losses_module.sparse_categorical_crossentropy)

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)


# --- Confusion-matrix metrics ----------------------------------------------------------------

def _parse_thresholds(thresholds, default: float) -> list[float]:
    if thresholds is None:
        return [default]
    values = [thresholds] if isinstance(thresholds, (int, float)) else list(thresholds)
    if not values or any(isinstance(t, bool) or not isinstance(t, (int, float))
                         or not 0 <= t <= 1 for t in values):
        raise ValueError(
            f"Expected thresholds as a number or a list of numbers in [0, 1]. "
            f"Received: thresholds={thresholds!r}"
        )
    return [float(t) for t in values]


def _labels_predictions_weights(y_true, y_pred, sample_weight, dtype, top_k=None,
                                class_id=None):
    """Labels, predictions and weights of the same shape, as Keras's confusion metrics see them."""
    y_pred = to_tensor(y_pred).to(dtype)
    y_true = to_tensor(y_true, y_pred.device).to(dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if top_k is not None:
        top = y_pred.topk(top_k, dim=-1).indices
        kept = torch.zeros_like(y_pred).scatter_(-1, top, 1.0)
        y_pred = y_pred * kept + NEG_INF * (1.0 - kept)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError(
                "class_id needs predictions shaped (num_samples, num_classes). "
                f"Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if sample_weight is None:
        weights = torch.ones_like(y_pred)
    else:
        weights = to_tensor(sample_weight, y_pred.device).to(dtype).unsqueeze(-1)
        _, weights = squeeze_or_expand_to_same_rank(y_true, weights, expand_rank_1=False)
        weights = weights.broadcast_to(y_pred.shape)
    return y_true, y_pred, weights


def _threshold_counts(labels, y_pred, weights, thresholds, multi_label=False):
    """Weighted counts of positive labels and of negative labels predicted above each threshold.

    Returns `(tp, fp, positives, negatives)` with one row per threshold (and one column per label
    with `multi_label`); false negatives are `positives - tp`, true negatives `negatives - fp`.
    """
    true_labels = (labels != 0).to(weights.dtype) * weights
    false_labels = weights - true_labels
    if not multi_label:
        y_pred, true_labels, false_labels = y_pred.reshape(-1), true_labels.reshape(-1), \
            false_labels.reshape(-1)
        above = (y_pred.unsqueeze(0) > thresholds.unsqueeze(1)).to(weights.dtype)
        return above @ true_labels, above @ false_labels, true_labels.sum(), false_labels.sum()
    above = (y_pred.unsqueeze(0) > thresholds.view(-1, 1, 1)).to(weights.dtype)
    return ((above * true_labels).sum(1), (above * false_labels).sum(1), true_labels.sum(0),
            false_labels.sum(0))


def _bucket_counts(labels, y_pred, weights, num_thresholds, multi_label=False,
                   with_epsilon=True):
    """`_threshold_counts` for evenly spaced thresholds `[-eps, 1/(n-1), ..., 1 + eps]`, or
    `[0, 1/(n-1), ..., 1]` without `with_epsilon`.

    Each prediction falls in one bucket; a reversed cumulative sum over buckets counts the
    predictions above each threshold. This is Keras's fast path and gives the same numbers.
    """
    true_labels = (labels != 0).to(weights.dtype) * weights
    false_labels = weights - true_labels
    y_pred = torch.clamp(y_pred, 0.0, 1.0)
    if not multi_label:
        y_pred, true_labels, false_labels = y_pred.reshape(-1), true_labels.reshape(-1), \
            false_labels.reshape(-1)
    # Bucket i + 1 holds the predictions above threshold i and not above threshold i + 1;
    # bucket 0 those of 0, which are above -eps but not above a first threshold of 0.
    buckets = torch.ceil(y_pred * (num_thresholds - 1)).long()
    if with_epsilon:
        buckets = torch.clamp(buckets, min=1)
    shape = (num_thresholds + 1, *y_pred.shape[1:])
    tp = torch.zeros(shape, dtype=weights.dtype, device=weights.device)
    fp = torch.zeros(shape, dtype=weights.dtype, device=weights.device)
    tp = tp.scatter_add_(0, buckets, true_labels)[1:].flip(0).cumsum(0).flip(0)
    fp = fp.scatter_add_(0, buckets, false_labels)[1:].flip(0).cumsum(0).flip(0)
    return tp, fp, true_labels.sum(0), false_labels.sum(0)


class _PrecisionRecall(Metric):
    """Shared state and arguments of `Precision` and `Recall`."""

    _direction = "up"

    _other: str  # the second count: "false_positives" or "false_negatives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or top_k < 1):
            raise ValueError(f"Expected a positive integer or None for top_k. Received: "
                             f"top_k={top_k!r}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int)):
            raise ValueError(f"Expected an integer or None for class_id. Received: "
                             f"class_id={class_id!r}")
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._thresholds = torch.tensor(self.thresholds, dtype=self._torch_dtype)
        self.add_variable("true_positives", (len(self.thresholds),))
        self.add_variable(self._other, (len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, y_pred, weights = _labels_predictions_weights(
            y_true, y_pred, sample_weight, self._torch_dtype, self.top_k, self.class_id)
        self._on_device_of(y_pred)
        if self._thresholds.device != y_pred.device:
            self._thresholds = self._thresholds.to(y_pred.device)
        tp, fp, positives, _ = _threshold_counts(labels, y_pred, weights, self._thresholds)
        self.true_positives.add_(tp)
        getattr(self, self._other).add_(fp if self._other == "false_positives" else positives - tp)

    def result(self):
        value = divide_no_nan(self.true_positives,
                              self.true_positives + getattr(self, self._other))
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """Of the predictions above the threshold, the (weighted) fraction that are positive labels.

    Args:
        thresholds: a number or list of numbers in [0, 1]; a prediction above it counts as
            positive. Default 0.5 (with `top_k`, every top-k prediction counts). With a list,
            `result()` has one value per threshold.
        top_k: only the `top_k` highest predictions of each sample count.
        class_id: only this class (last axis of `y_pred`) counts.
    """

    _other = "false_positives"


class Recall(_PrecisionRecall):
    """Of the positive labels, the (weighted) fraction predicted above the threshold.

    Args: as for `Precision`.
    """

    _other = "false_negatives"


class _ConfusionCount(Metric):
    """One cell of the confusion matrix, summed (weighted) over the batches: the predictions
    above each threshold count as positive.

    Args:
        thresholds: a number or list of numbers in [0, 1] (0.5 by default); with a list,
            `result()` has one count per threshold.
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self._thresholds = torch.tensor(self.thresholds, dtype=self._torch_dtype)
        self.add_variable("accumulator", (len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, y_pred, weights = _labels_predictions_weights(y_true, y_pred, sample_weight,
                                                              self._torch_dtype)
        self._on_device_of(y_pred)
        if self._thresholds.device != y_pred.device:
            self._thresholds = self._thresholds.to(y_pred.device)
        self.accumulator.add_(self._count(*_threshold_counts(labels, y_pred, weights,
                                                             self._thresholds)))

    def _count(self, true_positives, false_positives, positives, negatives):
        raise NotImplementedError

    def result(self):
        return self.accumulator[0] if len(self.thresholds) == 1 else self.accumulator

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The (weighted) number of positive labels predicted above the threshold."""

    def _count(self, true_positives, false_positives, positives, negatives):
        return true_positives


class FalsePositives(_ConfusionCount):
    """The (weighted) number of negative labels predicted above the threshold."""

    def _count(self, true_positives, false_positives, positives, negatives):
        return false_positives


class TrueNegatives(_ConfusionCount):
    """The (weighted) number of negative labels predicted at or below the threshold."""

    def _count(self, true_positives, false_positives, positives, negatives):
        return negatives - false_positives


class FalseNegatives(_ConfusionCount):
    """The (weighted) number of positive labels predicted at or below the threshold."""

    def _count(self, true_positives, false_positives, positives, negatives):
        return positives - true_positives


class _AtConstraint(Metric):
    """The best value of one rate among the thresholds where another rate reaches `value`.

    True/false positive/negative counts are kept at `num_thresholds` thresholds spread evenly
    over [0, 1] (a prediction counts as positive above a threshold; 0.5 alone when
    `num_thresholds=1`), as `AUC` keeps them. Subclasses say which rate is constrained and which
    is maximized.
    """

    _value_name: str  # the constructor argument holding `value`: "recall", "precision", ...
    _direction = "up"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"Argument `{self._value_name}` must be a number in [0, 1]. "
                             f"Received: {self._value_name}={value!r}")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                or num_thresholds < 1:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. Received: "
                             f"num_thresholds={num_thresholds!r}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int)):
            raise ValueError(f"Expected an integer or None for class_id. Received: "
                             f"class_id={class_id!r}")
        super().__init__(name=name, dtype=dtype)
        self.value = value
        setattr(self, self._value_name, value)
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0, *inner, 1.0]
        self._threshold_tensor = torch.tensor(self.thresholds, dtype=self._torch_dtype)
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_variable(name, (len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, y_pred, weights = _labels_predictions_weights(
            y_true, y_pred, sample_weight, self._torch_dtype, class_id=self.class_id)
        self._on_device_of(y_pred)
        if self.num_thresholds > 1:
            counts = _bucket_counts(labels, y_pred, weights, self.num_thresholds,
                                    with_epsilon=False)
        else:
            if self._threshold_tensor.device != y_pred.device:
                self._threshold_tensor = self._threshold_tensor.to(y_pred.device)
            counts = _threshold_counts(labels, y_pred, weights, self._threshold_tensor)
        tp, fp, positives, negatives = counts
        self.true_positives.add_(tp)
        self.false_positives.add_(fp)
        self.true_negatives.add_(negatives - fp)
        self.false_negatives.add_(positives - tp)

    def _rates(self) -> dict:
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        return {"recall": divide_no_nan(tp, tp + fn), "precision": divide_no_nan(tp, tp + fp),
                "specificity": divide_no_nan(tn, tn + fp)}

    def _best(self, constrained: torch.Tensor, maximized: torch.Tensor) -> torch.Tensor:
        """The largest `maximized` where `constrained >= value` (0 where there is none)."""
        return torch.where(constrained >= self.value, maximized, 0.0).amax()

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._value_name: self.value}


class PrecisionAtRecall(_AtConstraint):
    """The best precision at a recall of at least `recall`.

    Args:
        recall: the smallest recall allowed, in [0, 1].
        num_thresholds: how many thresholds, evenly spaced over [0, 1], are tried.
        class_id: only this class (last axis of `y_pred`) counts.
    """

    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._best(rates["recall"], rates["precision"])


class RecallAtPrecision(_AtConstraint):
    """The best recall at a precision of at least `precision`.

    Args:
        precision: the smallest precision allowed, in [0, 1].
        num_thresholds, class_id: as for `PrecisionAtRecall`.
    """

    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._best(rates["precision"], rates["recall"])


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) at a specificity of at least `specificity`.

    Args:
        specificity: the smallest specificity (true negative rate) allowed, in [0, 1].
        num_thresholds, class_id: as for `PrecisionAtRecall`.
    """

    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._best(rates["specificity"], rates["recall"])


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity (true negative rate) at a sensitivity of at least `sensitivity`.

    Args:
        sensitivity: the smallest sensitivity (recall) allowed, in [0, 1].
        num_thresholds, class_id: as for `PrecisionAtRecall`.
    """

    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._best(rates["recall"], rates["specificity"])


class R2Score(Metric):
    """The coefficient of determination of regression targets `(samples, outputs)`:
    `1 - residual sum of squares / total sum of squares`, per output, then aggregated.

    Args:
        class_aggregation: `"uniform_average"` (default: the mean over outputs),
            `"variance_weighted_average"` (weighted by each output's variance) or None (one
            score per output).
        num_regressors: with `p > 0`, the adjusted score `1 - (1 - R²) (n - 1) / (n - p - 1)`.
    """

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of "
                             "uniform_average, variance_weighted_average, None. Received: "
                             f"class_aggregation={class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) \
                or num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`: expected an integer "
                             f">= 0. Received: num_regressors={num_regressors!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        # The number of values seen (samples times outputs), which the adjusted score counts as
        # its n, as Keras does; the per-output state waits for the first batch's width.
        self.add_variable("num_samples")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_tensor(y_pred).to(self._torch_dtype)
        y_true = to_tensor(y_true, y_pred.device).to(self._torch_dtype)
        if y_true.dim() == 1:
            y_true, y_pred = y_true.unsqueeze(-1), y_pred.reshape(-1, 1)
        if y_true.shape != y_pred.shape or y_true.dim() != 2:
            raise ValueError("R2Score expects y_true and y_pred of one shape (samples, outputs). "
                             f"Received: {tuple(y_true.shape)} and {tuple(y_pred.shape)}.")
        weights = torch.ones_like(y_true) if sample_weight is None else to_tensor(
            sample_weight, y_true.device).to(self._torch_dtype).reshape(-1, 1).expand_as(y_true)
        if "sum" not in self._variables:
            for name in ("squared_sum", "sum", "residual", "count"):
                self.add_variable(name, (y_true.shape[-1],))
        self._on_device_of(y_true)
        self.sum.add_((weights * y_true).sum(0))
        self.squared_sum.add_((weights * y_true.square()).sum(0))
        self.residual.add_((weights * (y_true - y_pred).square()).sum(0))
        self.count.add_(weights.sum(0))
        self.num_samples.add_(y_true.numel())

    def result(self):
        if "sum" not in self._variables:
            return torch.tensor(0.0, dtype=self._torch_dtype)
        total = self.squared_sum - self.sum.square() / self.count
        scores = 1 - self.residual / total
        # As in Keras, an output whose targets never vary scores 0 (NaN if also predicted
        # exactly).
        scores = torch.where(scores.isinf(), 0.0, scores)
        if self.class_aggregation == "uniform_average":
            score = scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = divide_no_nan((scores * total).sum(), total.sum())
        else:
            score = scores
        if self.num_regressors:
            samples = float(self.num_samples)
            if self.num_regressors < samples - 1:
                return 1 - (1 - score) * (samples - 1) / (samples - self.num_regressors - 1)
            warnings.warn(f"The adjusted R2 score needs fewer regressors than values seen minus "
                          f"one; with num_regressors={self.num_regressors} and {samples:g} values "
                          "it falls back to the standard R2 score.", stacklevel=2)
        return score

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class IoU(Metric):
    """Intersection over union of the classes `target_class_ids`, averaged over those present:
    `TP / (TP + FP + FN)` per class, from a confusion matrix summed over the batches.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        ignore_class: a label (e.g. a "void" class) whose samples are left out.
        sparse_y_true, sparse_y_pred: whether labels/predictions are class ids (True) or
            per-class scores along `axis` (False: their argmax is taken).
        dtype: of the confusion matrix, `"int32"` by default as in Keras (weights are cast to it).
    """

    _direction = "up"

    _integer_state = True

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name or "io_u", dtype=dtype or "int32")
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.target_class_ids = list(target_class_ids)
        if max(self.target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(self.target_class_ids)} is out of range, "
                             f"which is [0, {num_classes}).")
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes),
                                          name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_tensor(y_pred)
        y_true = to_tensor(y_true, y_pred.device)
        if not self.sparse_y_true:
            y_true = y_true.argmax(dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(dim=self.axis)
        y_true, y_pred = y_true.reshape(-1).long(), y_pred.reshape(-1).long()
        weights = torch.ones_like(y_true) if sample_weight is None else torch.broadcast_to(
            to_tensor(sample_weight, y_true.device).to(self._torch_dtype).reshape(-1),
            y_true.shape).long()
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        cells = torch.where(valid, y_true * n + y_pred, 0)
        counts = torch.zeros(n * n, dtype=torch.long, device=y_true.device)
        counts.scatter_add_(0, cells, torch.where(valid, weights, 0))
        self._on_device_of(counts)
        self.total_cm.add_(counts.view(n, n).to(self._torch_dtype))

    def result(self):
        matrix = self.total_cm.float()
        true_positives = matrix.diagonal()
        denominator = (matrix.sum(0) + matrix.sum(1) - true_positives)[self.target_class_ids]
        true_positives = true_positives[self.target_class_ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return iou.sum() / (valid.sum() + EPSILON)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes (those present); arguments as `IoU`."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name or "mean_io_u",
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of classes 0 and/or 1, with predictions at or above `threshold` counted as 1."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name or "binary_io_u", dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_true, (to_tensor(y_pred).float() >= self.threshold).long(),
                             sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class OneHotIoU(IoU):
    """`IoU` for one-hot labels and per-class scores (their argmax is taken)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name or "one_hot_io_u",
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels and per-class scores (their argmax is taken)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name or "one_hot_mean_io_u", dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class AUC(Metric):
    """Area under the ROC or precision-recall curve, approximated over fixed thresholds.

    Args:
        num_thresholds: how many thresholds, evenly spaced over [0, 1], discretise the curve.
        curve: `"ROC"`, `"PR"` or `"PRGAIN"`.
        summation_method: `"interpolation"`, `"minoring"` or `"majoring"` (Riemann sums).
        thresholds: explicit thresholds in [0, 1], used instead of `num_thresholds`.
        multi_label: treat each column of `y_pred` as its own label and average their AUCs.
        num_labels: the number of labels with `multi_label` (else taken from the first batch).
        label_weights: weights of the labels (per class, or per label in the average).
        from_logits: apply a sigmoid to `y_pred` first.
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        if str(curve).upper() not in ("ROC", "PR", "PRGAIN"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected one of "ROC", "PR", '
                             '"PRGAIN".')
        if str(summation_method).lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected one of "interpolation", "minoring", "majoring".')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = len(inner) > 0 and np.allclose(
                [0.0, *inner, 1.0], np.arange(len(inner) + 2) / (len(inner) + 1), atol=EPSILON)
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                    or num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. Received: "
                                 f"num_thresholds={num_thresholds!r}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self.thresholds = [0.0 - EPSILON, *inner, 1.0 + EPSILON]
        self._threshold_tensor = torch.tensor(self.thresholds, dtype=self._torch_dtype)
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else torch.as_tensor(label_weights, dtype=self._torch_dtype))
        self.from_logits = bool(from_logits)
        self._built = False
        if not self.multi_label:
            self._build(())
        elif num_labels:
            self._build((num_labels,))

    def _build(self, label_shape: tuple) -> None:
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_variable(name, (self.num_thresholds, *label_shape))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, y_pred, weights = _labels_predictions_weights(y_true, y_pred, sample_weight,
                                                              self._torch_dtype)
        if not self._built:
            if y_pred.dim() != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Received: "
                                 f"y_pred.shape={tuple(y_pred.shape)}")
            self._build((y_pred.shape[1],))
        self._on_device_of(y_pred)
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred)
        if self.label_weights is not None and not self.multi_label:
            weights = weights * self.label_weights.to(weights.device)
        if self._evenly:
            counts = _bucket_counts(labels, y_pred, weights, self.num_thresholds, self.multi_label)
        else:
            if self._threshold_tensor.device != y_pred.device:
                self._threshold_tensor = self._threshold_tensor.to(y_pred.device)
            counts = _threshold_counts(labels, y_pred, weights, self._threshold_tensor,
                                       self.multi_label)
        tp, fp, positives, negatives = counts
        self.true_positives.add_(tp)
        self.false_positives.add_(fp)
        self.true_negatives.add_(negatives - fp)
        self.false_negatives.add_(positives - tp)

    def _by_label(self, per_label: torch.Tensor) -> torch.Tensor:
        if not self.multi_label:
            return per_label.sum()
        by_label = per_label.sum(0)
        if self.label_weights is None:
            return by_label.mean()
        weights = self.label_weights.to(by_label.device)
        return divide_no_nan((by_label * weights).sum(), weights.sum())

    def _interpolated_pr_auc(self) -> torch.Tensor:
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(both_positive, divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)),
                            torch.ones_like(p[1:]))
        increments = divide_no_nan(slope * (dtp + intercept * torch.log(ratio)),
                                   torch.clamp(tp[1:] + fn[1:], min=0))
        return self._by_label(increments)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scale * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scale * divide_no_nan(fp, tp)
            x = torch.clamp(torch.where(tp == 0, torch.zeros_like(tp), recall_gain), min=0.0)
            y = torch.where(tp == 0, torch.ones_like(tp), precision_gain)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict:
        config = {
            **super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(Metric):
    """F-beta score: the weighted harmonic mean of precision and recall, per class.

    Args:
        average: None (one score per class), `"micro"` (over all entries), `"macro"` (mean of the
            class scores) or `"weighted"` (mean weighted by each class's positive labels).
        beta: how much more recall weighs than precision (a float > 0).
        threshold: predictions above it count as positive; None takes the highest prediction of
            each sample.

    Input shape: `y_true` and `y_pred` of shape (batch_size, num_classes).
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: None, 'micro', "
                             f"'macro', 'weighted'. Received: average={average!r}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"Expected a float > 0 for beta. Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, float)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError("Expected a float with 0 < threshold <= 1, or None, for threshold. "
                             f"Received: threshold={threshold!r}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self._built = False

    def _build(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
        if y_pred.dim() != 2 or y_true.dim() != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs of shape (batch_size, num_classes). "
                f"Received: y_true.shape={tuple(y_true.shape)}, "
                f"y_pred.shape={tuple(y_pred.shape)}"
            )
        shape = () if self.average == "micro" else (y_pred.shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            self.add_variable(name, shape)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_tensor(y_pred).to(self._torch_dtype)
        y_true = to_tensor(y_true, y_pred.device).to(self._torch_dtype)
        if not self._built:
            self._build(y_true, y_pred)
        self._on_device_of(y_pred)
        if self.threshold is None:
            top = y_pred.amax(dim=-1, keepdim=True)
            predicted = (y_pred >= top) & (torch.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.to(self._torch_dtype)
        dims = None if self.average == "micro" else 0
        if sample_weight is not None:
            weights = to_tensor(sample_weight, y_pred.device).to(self._torch_dtype).unsqueeze(1)
        else:
            weights = None

        def weighted_sum(values):
            values = values if weights is None else values * weights
            return values.sum() if dims is None else values.sum(dim=dims)

        self.true_positives.add_(weighted_sum(predicted * y_true))
        self.false_positives.add_(weighted_sum(predicted * (1.0 - y_true)))
        self.false_negatives.add_(weighted_sum((1.0 - predicted) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self):
        if not self._built:
            raise ValueError(f"{type(self).__name__} has no result before its first update_state.")
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        beta_squared = self.beta ** 2
        score = (1 + beta_squared) * (precision * recall
                                      / (beta_squared * precision + recall + EPSILON))
        if self.average == "weighted":
            weights = self.intermediate_weights
            return (score * weights / (weights.sum() + EPSILON)).sum()
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score: the harmonic mean of precision and recall (`FBetaScore` with beta=1).

    Args: `average` and `threshold` as for `FBetaScore`.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config


# --- Lookup and serialization ----------------------------------------------------------------

METRIC_CLASSES = {
    cls.__name__: cls
    for cls in (
        Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
        SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
        Precision, Recall, AUC, FBetaScore, F1Score, TruePositives, FalsePositives,
        TrueNegatives, FalseNegatives, R2Score, IoU, MeanIoU, BinaryIoU, OneHotIoU,
        OneHotMeanIoU, MeanSquaredError, MeanAbsoluteError,
        RootMeanSquaredError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
        CosineSimilarity, LogCoshError, KLDivergence, Poisson, Hinge, SquaredHinge,
        CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
        SparseCategoricalCrossentropy, PearsonCorrelation, ConcordanceCorrelation,
        PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
    )
}
METRIC_NAMES = {to_snake_case(name): cls for name, cls in METRIC_CLASSES.items()
                if cls is not MeanMetricWrapper}
METRIC_NAMES.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
})


def _metric_function(name: str) -> Callable:
    functions = {fn.__name__: fn for fn in (
        accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, cosine_similarity,
        pearson_correlation, concordance_correlation)}
    functions.update(losses_module.LOSS_FUNCTIONS)
    if name not in functions:
        raise unknown_name_error("metric function", name, functions)
    return functions[name]


def get(identifier) -> Metric | Callable | None:
    """Resolve a metric identifier, as Keras's `metrics.get` does.

    Args:
        identifier: None; a name (`"mae"`, `"mean_absolute_error"`, `"MeanAbsoluteError"`), which
            gives a new instance of that class under its default name; a `Metric` or any
            callable, returned as it is; a `Metric` class, instantiated; or a config dict.

    Returns:
        A `Metric`, a function `fn(y_true, y_pred)` of per-sample values, or None. `compile`
        names a metric after the string it was given, wraps a function in a
        `MeanMetricWrapper`, and tells `"accuracy"` / `"acc"` apart by the targets' shapes.
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = METRIC_NAMES.get(identifier) or METRIC_CLASSES.get(identifier)
        if cls is None or cls is MeanMetricWrapper:
            valid = [*METRIC_NAMES, *METRIC_CLASSES.keys() - {"MeanMetricWrapper"}]
            raise unknown_name_error("metric", identifier, valid)
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret metric identifier: expected a metric name (e.g. 'accuracy'), a "
        f"Metric, a function fn(y_true, y_pred) or a config dict. Received: {identifier!r}"
    )


def serialize(metric: Metric) -> dict:
    """A Keras-style config dict for a `Metric`."""
    return {"module": "keras.metrics", "class_name": type(metric).__name__,
            "config": metric.get_config(), "registered_name": None}


def deserialize(config: dict) -> Metric:
    """The `Metric` described by a dict from `serialize`."""
    class_name = config.get("class_name")
    if class_name not in METRIC_CLASSES:
        raise unknown_name_error("metric class", class_name, METRIC_CLASSES)
    return METRIC_CLASSES[class_name].from_config(config.get("config") or {})
