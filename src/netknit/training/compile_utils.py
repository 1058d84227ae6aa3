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
from ..layers.layer import to_snake_case
from ..losses import detached


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

    def __init__(self, loss, loss_weights, output_names: list[str],
                 outputs_are_dict: bool = False):
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
        self.losses = [_resolve_loss(e) for e in entries]
        self.weights = [1.0 if w is None else float(w) for w in weights]
        # Keras compiles without a loss (for a `train_step` of one's own); the default steps
        # refuse it when they need the loss (`check_not_empty`).
        self.empty = all(loss is None for loss in self.losses)
        if (isinstance(loss, dict) and not outputs_are_dict
                and set(loss) != set(output_names) and not self.weights_error):
            # Keras maps a loss dict onto a list of outputs only when it names every output.
            self.weights_error = (
                f"Expected keys {output_names} in loss dict, but found "
                f"loss.keys()={list(loss)}. Give every output a key (None for no loss).")
        # The outputs that have a loss, in Keras's order: output order, or the order of the
        # loss dict's keys for a dict of outputs.
        order = range(len(output_names))
        if isinstance(loss, dict) and outputs_are_dict:
            order = sorted(order, key=lambda i: list(loss).index(output_names[i])
                           if output_names[i] in loss else len(loss))
        self._computed = [(i, self.losses[i], self.weights[i]) for i in order if self.losses[i]]
        self.with_loss = [i for i, loss in enumerate(self.losses) if loss is not None]
        self.names = [f"{output_names[i]}_loss" for i, _, _ in self._computed]
        # As Keras, the losses of the outputs are logged one by one when there are several.
        self.multi_output = len(self.names) > 1

    def check_not_empty(self) -> None:
        if self.empty:
            raise ValueError(
                "compile() needs a loss for at least one output, e.g. loss='mse' or "
                "loss='sparse_categorical_crossentropy'.")

    def __call__(self, y_true: list, y_pred: list, sample_weight: list):
        """The total loss and the per-output losses (for the logs of multi-output models)."""
        total = None
        per_output = []
        for index, loss, weight in self._computed:
            value = loss(y_true[index], y_pred[index], sample_weight=sample_weight[index])
            per_output.append(value)
            value = value * weight if weight != 1.0 else value
            total = value if total is None else total + value
        return total, per_output


class MetricsContainer:
    """The metrics of all outputs, created on the first batch (when shapes are known).

    Each metric is logged under a key made as Keras makes it: the output's name first when the
    model has several outputs, `weighted_` only for a weighted metric whose name an unweighted
    one already took, and `_1`, `_2` ... for further repeats. The metric objects keep their
    own names.
    """

    def __init__(self, metrics, weighted_metrics, output_names: list[str], loss_container):
        self.output_names = output_names
        self.specs, error = self._specs(metrics, output_names, "metrics")
        self.weighted_specs, weighted_error = self._specs(weighted_metrics, output_names,
                                                          "weighted_metrics")
        # Keras refuses a list that does not fit the outputs when the metrics are built.
        self.error = error or weighted_error
        self.loss_container = loss_container
        self.entries: list[tuple[int, object, bool]] | None = None  # (output, metric, weighted)
        self.keys: list[str] = []  # the log key of each entry

    @staticmethod
    def _specs(metrics, names, argument) -> tuple[list, str | None]:
        """One list of metric specs per output, and the error Keras gives for a list that does
        not fit the outputs (None when it fits)."""
        if not metrics:
            return [[] for _ in names], None
        if len(names) == 1:
            return [nest.flatten(metrics)], None
        if isinstance(metrics, dict):
            entries = _by_output_name(metrics, names, argument)
        elif isinstance(metrics, (list, tuple)) and len(metrics) == len(names):
            entries = list(metrics)
        else:
            count = len(metrics) if isinstance(metrics, (list, tuple)) else 1
            return [[] for _ in names], (
                f"Node arity mismatch; expected {len(names)}, but got {count}.\n"
                f"Invalid `{argument}`. `{argument}` should contain metrics objects and either "
                "be a dict or a list matching the output names of the functional model "
                f"{names} or match the output structure of the model: "
                f"{['X'] * len(names)}.\nReceived: {argument}={metrics}")
        return [[] if e is None else list(e) if isinstance(e, (list, tuple)) else [e]
                for e in entries], None

    def build(self, y_true: list, y_pred: list) -> None:
        if self.error:
            raise ValueError(self.error)
        entries = []
        for weighted, specs in ((False, self.specs), (True, self.weighted_specs)):
            for index, output_specs in enumerate(specs):
                for spec in output_specs:
                    metric = resolve_metric(spec, y_true[index], y_pred[index])
                    # Built at the first batch, after fit/evaluate reset the metrics: a metric
                    # object given to `compile` (or kept from an earlier one) starts from zero,
                    # as Keras's metrics, built before that reset, do.
                    metric.reset_state()
                    entries.append((index, metric, weighted))
        self.keys = self._log_keys(entries)
        self.entries = entries

    def _log_keys(self, entries: list) -> list[str]:
        seen: dict[str, int] = {}
        keys = []
        for index, metric, weighted in entries:
            prefix = f"{self.output_names[index]}_" if len(self.output_names) > 1 else ""
            key = prefix + metric.name
            if weighted and key in seen:
                key = f"{prefix}weighted_{metric.name}"
            if key in seen:
                seen[key] += 1
                key = f"{key}_{seen[key] - 1}"
            else:
                seen[key] = 1
            keys.append(key)
        return keys

    def update(self, y_true: list, y_pred: list, sample_weight: list) -> None:
        for index, metric, weighted in self.entries:
            metric.update_state(y_true[index], y_pred[index],
                                sample_weight=sample_weight[index] if weighted else None)

    @property
    def metrics(self) -> list:
        return [metric for _, metric, _ in self.entries or []]

    @property
    def logged(self) -> list[tuple[str, object]]:
        """(log key, metric) of every metric."""
        return list(zip(self.keys, self.metrics))

    @property
    def specified(self) -> bool:
        """Whether `compile` was given any metrics."""
        return any(self.specs + self.weighted_specs) or bool(self.error)


class CompileMetrics(metrics_module.Metric):
    """All compiled metrics as the one metric Keras lists in `model.metrics`, named
    `compile_metrics`: a custom `train_step` updates it with `(y, y_pred)`, and its result is
    the dict of the metrics' results."""

    def __init__(self, container: MetricsContainer, flatten_targets, output_names: list[str]):
        super().__init__(name="compile_metrics")
        self._container = container
        self._flatten_targets = flatten_targets
        self._output_names = output_names

    @property
    def metrics(self) -> list:
        """The compiled metric objects (none before the first batch builds them)."""
        return self._container.metrics

    @property
    def variables(self) -> list:
        """The compiled metrics' state, in their order (as Keras's `compile_metrics` lists it)."""
        return [variable for metric in self._container.metrics for variable in metric.variables]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, weights = self._flatten_targets(y_true, sample_weight)
        y_pred = flatten_outputs(y_pred, self._output_names)
        if self._container.entries is None:
            self._container.build(y_true, y_pred)
        self._container.update(y_true, [detached(p) for p in y_pred], weights)

    def result(self) -> dict:
        return {key: metric.result() for key, metric in self._container.logged}

    def reset_state(self) -> None:
        for metric in self._container.metrics:
            metric.reset_state()


def resolve_metric(spec, y_true: torch.Tensor, y_pred: torch.Tensor):
    """A metric object named as Keras's `compile` names it: after the string it was given, else
    after the object (its `name`, or its snake-cased function or class name). "accuracy"
    becomes binary, categorical or sparse categorical accuracy from the shapes alone, as Keras
    decides. A string resolves to an instance under its default name first, then renamed, so
    that it takes up that name as in Keras (a later `Precision()` is `precision_1`)."""
    if isinstance(spec, str) and spec.lower() in ("accuracy", "acc"):
        kind = _kind_by_shapes(y_true, y_pred)
        if kind == "binary":
            metric = metrics_module.BinaryAccuracy(name=spec)
        elif kind == "sparse":
            metric = metrics_module.SparseCategoricalAccuracy(name=spec)
        else:
            metric = metrics_module.CategoricalAccuracy(name=spec)
    else:
        metric = metrics_module.get(spec)
    if isinstance(spec, str):
        name = spec
    else:
        name = getattr(metric, "name", None)
        if not isinstance(name, str):
            name = to_snake_case(getattr(metric, "__name__", None) or type(metric).__name__)
    if not isinstance(metric, metrics_module.Metric):
        metric = metrics_module.MeanMetricWrapper(metric)
    metric.name = name
    return metric


def _kind_by_shapes(y_true: torch.Tensor, y_pred: torch.Tensor) -> str:
    """"binary" (one column of predictions), "sparse" (class indices as targets) or
    "categorical", as Keras tells them apart for "accuracy" and "crossentropy"."""
    if y_pred.shape[-1] == 1:
        return "binary"
    if y_true.dim() < y_pred.dim() or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
        return "sparse"
    return "categorical"


def _resolve_loss(spec):
    if spec is None:
        return None
    if isinstance(spec, str) and spec.lower() in ("crossentropy", "ce"):
        return CrossentropyByShapes()
    loss = losses_module.get(spec)
    return loss if isinstance(loss, losses_module.Loss) else losses_module.LossFunctionWrapper(loss)


_CROSSENTROPY = {"binary": "binary_crossentropy", "sparse": "sparse_categorical_crossentropy",
                 "categorical": "categorical_crossentropy"}


class CrossentropyByShapes:
    """`loss="crossentropy"` (or `"ce"`): binary, sparse categorical or categorical
    cross-entropy, chosen from the shapes of the first batch, as Keras chooses."""

    def __init__(self):
        self.chosen = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.chosen is None:
            self.chosen = _resolve_loss(_CROSSENTROPY[_kind_by_shapes(y_true, y_pred)])
        return self.chosen(y_true, y_pred, sample_weight=sample_weight)


def flatten_targets(structure, output_names: list[str], what: str,
                    with_loss: list[int] | None = None) -> list:
    """Targets (or sample weights) as one entry per output, from a single value, list or dict.

    `with_loss` are the indices of the outputs that have a loss: as Keras, a model compiled
    with `loss=[fn, None]` also takes one target per such output, the others getting None.
    """
    count = len(output_names)
    if structure is None:
        return [None] * count
    if isinstance(structure, dict):
        return _by_output_name(structure, output_names, what)
    given = list(structure) if isinstance(structure, (list, tuple)) else [structure]
    if count == 1:
        return given if len(given) == 1 else [structure]
    if isinstance(structure, (list, tuple)) and len(given) == count:
        return given
    if with_loss is not None and len(given) == len(with_loss):
        spread = [None] * count
        for index, target in zip(with_loss, given):
            spread[index] = target
        return spread
    if isinstance(structure, (list, tuple)):
        raise ValueError(
            f"The model has {count} outputs ({', '.join(output_names)}), but {len(structure)} "
            f"{what} arrays were given. Pass one per output, as a list in output order or a "
            "dict by output name."
        )
    raise ValueError(
        f"The model has {count} outputs ({', '.join(output_names)}), but a single {what} "
        "array was given. Pass one per output, as a list or a dict by output name."
    )


def flatten_outputs(y_pred, output_names: list[str]) -> list:
    if isinstance(y_pred, dict):
        return [y_pred[n] for n in output_names]
    return nest.flatten(y_pred)
