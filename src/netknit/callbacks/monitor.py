"""`MonitorCallback`: the monitored quantity, its direction and what counts as an improvement.

Shared by `EarlyStopping`, `ModelCheckpoint` and `ReduceLROnPlateau`.
"""

from __future__ import annotations

import warnings

from .callback import Callback

# Words that tell the direction of a metric from its name, for mode="auto" when the model's
# metric objects do not say it. Keras's own metric names all fall in one of the two groups.
_MAXIMIZED_WORDS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "io_u", "r2",
                    "cosine_similarity", "correlation", "true_positives", "true_negatives")
_MINIMIZED_WORDS = ("loss", "error", "crossentropy", "hinge", "divergence", "logcosh", "poisson",
                    "mae", "mse", "mape", "msle", "false_positives", "false_negatives")


def _metric_direction(model, name: str) -> str | None:
    """The `_direction` ("up" or "down") of the model's metric called `name`, if it has one."""
    pending = list(getattr(model, "metrics", None) or [])
    while pending:
        metric = pending.pop()
        if metric is model:
            continue
        if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
            return metric._direction
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, (list, tuple)):
            pending.extend(inner)
    return None


class MonitorCallback(Callback):
    """Base of callbacks that watch one logged quantity and act when it stops improving.

    Args:
        monitor: the key of the quantity in the epoch logs, e.g. `"val_loss"`.
        mode: `"min"`, `"max"`, or `"auto"` to infer the direction from the metric: losses and
            errors are minimized, accuracies, AUC, precision, recall and the like maximized.
        baseline: the initial best value, or None to take the first value seen.
        min_delta: the smallest change that counts as an improvement.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline=None,
                 min_delta: float = 0):
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"Expected monitor to be the name of a logged metric such as "
                             f"'val_loss'. Received: monitor={monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"Expected mode to be 'auto', 'min' or 'max'. Received: mode={mode!r}")
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self._maximize: bool | None = None

    def _set_direction(self) -> None:
        """Resolves mode="auto" once the model's metrics exist (at the first epoch end)."""
        if self.mode != "auto":
            self._maximize = self.mode == "max"
            return
        name = self.monitor.removeprefix("val_")
        direction = _metric_direction(self.model, name)
        if direction is not None:
            self._maximize = direction == "up"
        elif name.endswith("loss"):
            self._maximize = False
        elif any(word in name for word in _MAXIMIZED_WORDS):
            self._maximize = True
        elif any(word in name for word in _MINIMIZED_WORDS):
            self._maximize = False
        else:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor!r}, but cannot "
                "tell whether that metric should be maximized or minimized. Pass mode='max' to "
                "monitor its highest value, or mode='min' to monitor its lowest value.")

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        if self._maximize is None:
            self._set_direction()
        if reference is None:
            return True
        if self._maximize:
            return current - self.min_delta > reference
        return current + self.min_delta < reference

    def _monitor_value(self, logs, context: str):
        """The monitored value in `logs`, or None with a warning that lists the available keys.

        The direction is settled first, as Keras does at each epoch end: a name whose direction
        cannot be told is an error even when the value is missing."""
        if self._maximize is None:
            self._set_direction()
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            available = ", ".join(logs) or "none"
            warnings.warn(f"{context} conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {available}.", stacklevel=3)
        return value
