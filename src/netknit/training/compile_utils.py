"""What `compile` resolves: which loss and metrics apply to which output, and their names.

A model's outputs are known by name (the output layers' names, or the keys of a dict of outputs).
The user may give one loss for all outputs, a list in output order, or a dict by output name; the
same for metrics (a flat list for every output, a list of lists, or a dict). Everything is
resolved here once, so the training step only runs the resolved objects.
"""

from __future__ import annotations

import torch

from .. import losses as losses_module
from .. import metrics as metrics_module
from ..graph import nest


def _by_output_name(mapping: dict, names: list[str], what: str) -> list:
    """The values of a dict keyed by output name, in output order (None where absent)."""
    unknown = [k for k in mapping if k not in names]
    if unknown:
        raise ValueError(
            f"The {what} dict has key(s) {unknown} that are not model outputs. The outputs "
            f"are: {names}."
        )
    return [mapping.get(name) for name in names]


def _per_output(spec, names: list[str], what: str, flat_list_means_each: bool) -> list:
    """`spec` (single, list or dict) as one entry per output, in output order."""
    if isinstance(spec, dict):
        return _by_output_name(spec, names, what)
    if isinstance(spec, (list, tuple)) and not flat_list_means_each:
        if len(spec) != len(names):
            raise ValueError(
                f"The model has {len(names)} output(s) ({', '.join(names)}), but {len(spec)} "
                f"{what} were given as a list. Give one per output, or a dict by output name."
            )
        return list(spec)
    return [spec] * len(names)


class LossContainer:
    """The losses of all outputs, weighted and summed into the training loss."""

    def __init__(self, loss, loss_weights, output_names: list[str]):
        self.output_names = output_names
        entries = _per_output(loss, output_names, "losses", flat_list_means_each=False)
        weights = (
            [1.0] * len(output_names)
            if loss_weights is None
            else _per_output(loss_weights, output_names, "loss weights", False)
        )
        # Keras compiles this and refuses it when the loss is first computed (in fit/evaluate).
        self.weights_error = None
        one_loss = not isinstance(loss, (list, tuple, dict))
        if one_loss and isinstance(loss_weights, (list, tuple, dict)) and len(loss_weights) != 1:
            self.weights_error = (
                f"`loss_weights` must match the number of losses, got 1 losses and "
                f"{len(loss_weights)} weights. Give one loss per output, as a list or a dict by "
                f"output name, e.g. loss={[loss] * len(loss_weights)!r}."
            )
        self.losses = [losses_module.get(e) if e is not None else None for e in entries]
        self.weights = [1.0 if w is None else float(w) for w in weights]
        if all(loss is None for loss in self.losses):
            raise ValueError(
                "compile() needs a loss for at least one output, e.g. loss='mse' or "
                "loss='sparse_categorical_crossentropy'."
            )
        self.multi_output = len(output_names) > 1
        self.names = [f"{name}_loss" for name, loss in zip(output_names, self.losses) if loss]

    def __call__(self, y_true: list, y_pred: list, sample_weight: list):
        """The total loss and the per-output losses (for the logs of multi-output models)."""
        total = None
        per_output = []
        for loss, weight, truth, pred, sw in zip(self.losses, self.weights, y_true, y_pred,
                                                 sample_weight):
            if loss is None:
                continue
            value = loss(truth, pred, sample_weight=sw)
            per_output.append(value)
            value = value * weight if weight != 1.0 else value
            total = value if total is None else total + value
        return total, per_output


class MetricsContainer:
    """The metrics of all outputs, created on the first batch (when shapes are known)."""

    def __init__(self, metrics, weighted_metrics, output_names: list[str], loss_container):
        self.output_names = output_names
        self.specs = self._specs(metrics, output_names)
        self.weighted_specs = self._specs(weighted_metrics, output_names)
        self.loss_container = loss_container
        self.entries: list[tuple[int, object, bool]] | None = None  # (output, metric, weighted)

    @staticmethod
    def _specs(metrics, names):
        if metrics is None:
            return [[] for _ in names]
        if isinstance(metrics, dict):
            entries = _per_output(metrics, names, "metrics", flat_list_means_each=False)
        elif isinstance(metrics, (list, tuple)) and metrics and all(
            isinstance(m, (list, tuple)) or m is None for m in metrics
        ):
            entries = _per_output(list(metrics), names, "metric lists", False)
        else:
            entries = [metrics] * len(names)
        return [[] if e is None else list(e) if isinstance(e, (list, tuple)) else [e]
                for e in entries]

    def build(self, y_true: list, y_pred: list) -> None:
        self.entries = []
        for weighted, specs in ((False, self.specs), (True, self.weighted_specs)):
            for index, output_specs in enumerate(specs):
                loss = self.loss_container.losses[index]
                for spec in output_specs:
                    metric = resolve_metric(spec, y_true[index], y_pred[index], loss)
                    if len(self.output_names) > 1:
                        metric.name = f"{self.output_names[index]}_{metric.name}"
                    if weighted:
                        metric.name = f"weighted_{metric.name}"
                    self.entries.append((index, metric, weighted))

    def update(self, y_true: list, y_pred: list, sample_weight: list) -> None:
        for index, metric, weighted in self.entries:
            metric.update_state(y_true[index], y_pred[index],
                                sample_weight=sample_weight[index] if weighted else None)

    @property
    def metrics(self) -> list:
        return [metric for _, metric, _ in self.entries or []]

    @property
    def specified(self) -> bool:
        """Whether `compile` was given any metrics."""
        return any(self.specs + self.weighted_specs)


class CompileMetrics(metrics_module.Metric):
    """All compiled metrics as the one metric Keras lists in `model.metrics`, named
    `compile_metrics`: a custom `train_step` updates it with `(y, y_pred)`, and its result is
    the dict of the metrics' results."""

    def __init__(self, container: MetricsContainer, flatten_targets, output_names: list[str]):
        super().__init__(name="compile_metrics")
        self._container = container
        self._flatten_targets = flatten_targets
        self._output_names = output_names

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, weights = self._flatten_targets(y_true, sample_weight)
        y_pred = flatten_outputs(y_pred, self._output_names)
        if self._container.entries is None:
            self._container.build(y_true, y_pred)
        self._container.update(y_true, [p.detach() for p in y_pred], weights)

    def result(self) -> dict:
        return {metric.name: metric.result() for metric in self._container.metrics}

    def reset_state(self) -> None:
        for metric in self._container.metrics:
            metric.reset_state()


def resolve_metric(spec, y_true: torch.Tensor, y_pred: torch.Tensor, loss):
    """A metric object; "accuracy" becomes binary, categorical or sparse as Keras decides."""
    if isinstance(spec, str) and spec.lower() in ("accuracy", "acc"):
        if y_pred.shape[-1] == 1 or _is_binary_loss(loss):
            metric = metrics_module.BinaryAccuracy(name=spec)
        elif y_true.dim() < y_pred.dim() or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
            metric = metrics_module.SparseCategoricalAccuracy(name=spec)
        else:
            metric = metrics_module.CategoricalAccuracy(name=spec)
        return metric
    return metrics_module.get(spec)


def _is_binary_loss(loss) -> bool:
    return type(loss).__name__ in ("BinaryCrossentropy", "BinaryFocalCrossentropy")


def flatten_targets(structure, output_names: list[str], what: str) -> list:
    """Targets (or sample weights) as one entry per output, from a single value, list or dict."""
    count = len(output_names)
    if structure is None:
        return [None] * count
    if isinstance(structure, dict):
        return _by_output_name(structure, output_names, what)
    if isinstance(structure, (list, tuple)):
        if count == 1 and len(structure) == 1:
            return list(structure)
        if count == 1:
            return [structure]
        if len(structure) != count:
            raise ValueError(
                f"The model has {count} outputs ({', '.join(output_names)}), but {len(structure)} "
                f"{what} arrays were given. Pass one per output, as a list in output order or a "
                "dict by output name."
            )
        return list(structure)
    if count > 1:
        raise ValueError(
            f"The model has {count} outputs ({', '.join(output_names)}), but a single {what} "
            "array was given. Pass one per output, as a list or a dict by output name."
        )
    return [structure]


def flatten_outputs(y_pred, output_names: list[str]) -> list:
    if isinstance(y_pred, dict):
        return [y_pred[n] for n in output_names]
    return nest.flatten(y_pred)
