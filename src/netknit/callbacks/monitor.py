"""`MonitorCallback`: the monitored quantity, its direction and what counts as an improvement.

Shared by `EarlyStopping`, `ModelCheckpoint` and `ReduceLROnPlateau`.
"""

from __future__ import annotations

import warnings

from ..training.compile_utils import CompileMetrics
from .callback import Callback


def _compiled_metric_direction(model, name: str) -> str | None:
    """The `_direction` ("up" or "down") of the compiled metric called `name`, if it has one.

    As in Keras, only the metrics given to `compile` are searched, by their own names: with
    several outputs that name lacks the output's prefix that the log key carries."""
    direction = None
    for entry in getattr(model, "metrics", None) or []:
        if isinstance(entry, CompileMetrics):
            for metric in entry.metrics:
                if metric.name == name and hasattr(metric, "_direction"):
                    direction = metric._direction
    return direction


class MonitorCallback(Callback):
    """Base of callbacks that watch one logged quantity and act when it stops improving.

    Args:
        monitor: the key of the quantity in the epoch logs, e.g. `"val_loss"`.
        mode: `"min"`, `"max"`, or `"auto"`: then `"loss"` and `"val_loss"` are minimized and a
            compiled metric goes the way its `_direction` says (`"up"` for accuracy, AUC,
            precision ..., `"down"` for errors and cross-entropies). The direction is settled at
            the first epoch end, once the metrics exist; a monitor it cannot be found for is an
            error then.
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
        """Resolves mode="auto" from the compiled metrics (once they exist)."""
        if self.mode != "auto":
            self._maximize = self.mode == "max"
            return
        name = self.monitor.removeprefix("val_")
        direction = "down" if name == "loss" else None
        direction = _compiled_metric_direction(self.model, name) or direction
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor!r}, but cannot "
                "tell whether that metric should be maximized or minimized (mode='auto' knows "
                "the loss and the compiled metrics that have a direction, by their own names). "
                "Pass mode='max' to monitor its highest value, or mode='min' to monitor its "
                "lowest value.")
        self._maximize = direction == "up"

    def _settle_direction(self) -> None:
        if self._maximize is None:
            self._set_direction()

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        self._settle_direction()
        if reference is None:
            return True
        if self._maximize:
            return current - self.min_delta > reference
        return current + self.min_delta < reference

    def _monitor_value(self, logs, context: str):
        """The monitored value in `logs`, or None with a warning that lists the available keys.

        The direction is settled first, as Keras does at each epoch end: a name whose direction
        cannot be told is an error even when the value is missing."""
        self._settle_direction()
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            available = ", ".join(logs) or "none"
            warnings.warn(f"{context} conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {available}.", stacklevel=3)
        return value
