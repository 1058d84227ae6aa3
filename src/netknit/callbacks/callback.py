"""`Callback`, the base of every callback, and `CallbackList`, which calls a list of them."""

from __future__ import annotations

import numpy as np
import torch

from ..distributed import rank


class Callback:
    """Base class of callbacks: every hook is a documented no-op to override.

    Pass callbacks to `fit()`, `evaluate()` or `predict()` to act at the stages of training,
    evaluation and inference. Epoch-level `logs` are dicts of Python floats such as
    `{"loss": 0.25, "accuracy": 0.9, "val_loss": 0.3}`. Batch-level `logs` are mappings whose
    values are read from the device when accessed: read them only when needed.

    A callback that overrides no batch-level hook costs nothing per step: `CallbackList` calls
    only the batch hooks that are overridden.

    Attributes:
        params: the training parameters, e.g. `{"verbose": 1, "epochs": 10, "steps": 32}`.
        model: the model being trained (the module inside when it is wrapped by DDP).
        rank_zero_only: True for callbacks that print or write files: in a data-parallel run
            only the process of rank 0 runs them (`CallbackList` leaves them out elsewhere).

    >>> class Remember(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.last = logs["loss"]
    """

    rank_zero_only = False
    # Whether one of netknit's callbacks may set `model.stop_training` after a batch (a user's
    # callback with a batch-end hook is taken to).
    _stops_mid_epoch = False

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        if isinstance(self._model, torch.nn.parallel.DistributedDataParallel):
            return self._model.module
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """An alias of `on_train_batch_begin`, kept for older callbacks."""

    def on_batch_end(self, batch, logs=None):
        """An alias of `on_train_batch_end`, kept for older callbacks."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch of `fit()`.

        Args:
            epoch: the index of the epoch, counted from 0.
            logs: currently empty.
        """

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch of `fit()`.

        Args:
            epoch: the index of the epoch, counted from 0.
            logs: the epoch's metric results; validation results have keys prefixed with
                `"val_"`. A callback may add entries (e.g. `"learning_rate"`) for the callbacks
                after it, `History` included.
        """

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch of `fit()`.

        Args:
            batch: the index of the batch within the epoch.
            logs: currently empty.
        """
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch of `fit()`.

        Args:
            batch: the index of the batch within the epoch.
            logs: the metric results so far in the epoch, read lazily from the device.
        """
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each batch of `evaluate()` and of validation in `fit()`."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each batch of `evaluate()` and of validation in `fit()`.

        Args:
            batch: the index of the batch.
            logs: the metric results so far, read lazily from the device.
        """

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each batch of `predict()`."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each batch of `predict()`.

        Args:
            batch: the index of the batch.
            logs: `{"outputs": ...}`, the batch's predictions.
        """

    def on_train_begin(self, logs=None):
        """Called once at the start of `fit()`."""

    def on_train_end(self, logs=None):
        """Called once at the end of `fit()`, with the logs of the last epoch."""

    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate()` and of each validation run in `fit()`."""

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate()` and of each validation run, with its results."""

    def on_predict_begin(self, logs=None):
        """Called once at the start of `predict()`."""

    def on_predict_end(self, logs=None):
        """Called once at the end of `predict()`."""


_BATCH_HOOKS = {
    "on_train_batch_begin": "on_batch_begin",
    "on_train_batch_end": "on_batch_end",
    "on_test_batch_begin": None,
    "on_test_batch_end": None,
    "on_predict_batch_begin": None,
    "on_predict_batch_end": None,
}


def _overrides(callback: Callback, hook: str) -> bool:
    # A hook set on the instance (LambdaCallback) is a plain function, without `__func__`.
    method = getattr(callback, hook)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


def uses_hook(callback: Callback, hook: str) -> bool:
    """Whether `callback` does anything in the batch-level `hook` (or in its older alias)."""
    alias = _BATCH_HOOKS.get(hook)
    return _overrides(callback, hook) or (alias is not None and _overrides(callback, alias))


def _may_stop_mid_epoch(callback: Callback) -> bool:
    if type(callback)._stops_mid_epoch:
        return True
    own = type(callback).__module__.startswith("netknit.")
    return not own and uses_hook(callback, "on_train_batch_end")


class CallbackList(Callback):
    """Calls a list of callbacks together, as `fit()`, `evaluate()` and `predict()` do.

    Batch-level hooks are dispatched only to the callbacks that override them (worked out once
    here), so callbacks that act per epoch add no cost per step.

    Args:
        callbacks: a list of `Callback`s (nested lists are flattened), or None.
        add_history: whether to add a `History` when the list has none; `model.history` is set
            to the list's `History`.
        add_progbar: whether to add a `ProgbarLogger` when the list has none.
        model: the model the callbacks act on.
        **params: passed to each callback's `set_params`, e.g. `verbose`, `epochs`, `steps`.

    Attributes:
        may_stop_mid_epoch: whether a callback may set `model.stop_training` after a batch
            (TerminateOnNaN, or a user's callback with a batch-end hook).
        initial_epoch_override: after `on_train_begin`, the epoch a callback asked training to
            resume from (`BackupAndRestore` after restoring a backup), or None.

    >>> callbacks = CallbackList([], add_history=True, verbose=0, epochs=1, steps=None)
    >>> [type(c).__name__ for c in callbacks.callbacks]
    ['History']
    """

    def __init__(self, callbacks=None, add_history: bool = False, add_progbar: bool = False,
                 model=None, **params):
        super().__init__()
        self.callbacks = _flatten(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError("Expected callbacks to be keras Callback instances. Received: "
                                f"{callback!r} of type {type(callback).__name__}")
        self._add_default_callbacks(add_history, add_progbar)
        # Worked out before the rank filter, so that every process agrees (see `fit`).
        self.may_stop_mid_epoch = any(_may_stop_mid_epoch(c) for c in self.callbacks)
        if rank() != 0:
            self.callbacks = [c for c in self.callbacks if not c.rank_zero_only]
        self._batch_callbacks = {
            hook: [getattr(c, hook) for c in self.callbacks if uses_hook(c, hook)]
            for hook in _BATCH_HOOKS
        }
        self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history, add_progbar):
        from .history import History
        from .progbar_logger import ProgbarLogger

        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def set_params(self, params: dict) -> None:
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            self.model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def reads_batch_logs(self, hook: str) -> bool:
        """Whether a callback other than the progress bar implements the batch-level `hook`."""
        return any(getattr(method, "__self__", None) is not self._progbar
                   for method in self._batch_callbacks[hook])

    @property
    def initial_epoch_override(self) -> int | None:
        epochs = [c.resume_epoch for c in self.callbacks
                  if getattr(c, "resume_epoch", None) is not None]
        return max(epochs) if epochs else None

    def _call_all(self, hook, *args, logs):
        # One dict for all: a callback may add entries for the ones after it (History is last).
        # A copy, as in Keras: what they add stays out of the caller's logs (fit passes its
        # epoch logs on to `on_train_end`).
        logs = {} if logs is None else dict(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call_all("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call_all("on_epoch_end", epoch, logs=logs)

    def on_train_begin(self, logs=None):
        self._call_all("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call_all("on_train_end", logs=logs)

    def on_test_begin(self, logs=None):
        self._call_all("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call_all("on_test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._call_all("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call_all("on_predict_end", logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        for hook in self._batch_callbacks["on_train_batch_begin"]:
            hook(batch, logs={} if logs is None else logs)

    def on_train_batch_end(self, batch, logs=None):
        for hook in self._batch_callbacks["on_train_batch_end"]:
            hook(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        for hook in self._batch_callbacks["on_test_batch_begin"]:
            hook(batch, logs={} if logs is None else logs)

    def on_test_batch_end(self, batch, logs=None):
        for hook in self._batch_callbacks["on_test_batch_end"]:
            hook(batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        for hook in self._batch_callbacks["on_predict_batch_begin"]:
            hook(batch, logs={} if logs is None else logs)

    def on_predict_batch_end(self, batch, logs=None):
        for hook in self._batch_callbacks["on_predict_batch_end"]:
            hook(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)


def learning_rate_of(optimizer) -> float:
    """The optimizer's learning rate as Keras's callbacks read it back: Keras keeps it in a
    float32 variable, so 0.1 reads as 0.10000000149011612."""
    return float(np.float32(optimizer.learning_rate))


def learning_rates_of(optimizer) -> dict:
    """The epoch-log entries of the learning rate: `{"learning_rate": ...}`, or for a
    MultiOptimizer one `learning_rate_<name>` per inner optimizer, as Keras logs them."""
    inner = getattr(optimizer, "optimizers", None)
    if inner is None:
        return {"learning_rate": learning_rate_of(optimizer)}
    return {f"learning_rate_{o.name}": learning_rate_of(o) for o in inner}


class BatchCounter:
    """Counts training batches across epochs, for callbacks that act every N batches."""

    def __init__(self):
        self.since_last = 0
        self.last_batch: int | None = None

    def reached(self, batch: int, every: int) -> bool:
        """Records `batch` (its index in the epoch); True, and a restart, every `every` batches."""
        if self.last_batch is None or batch <= self.last_batch:  # a new epoch began
            self.since_last += batch + 1
        else:
            self.since_last += batch - self.last_batch
        self.last_batch = batch
        if self.since_last >= every:
            self.since_last = 0
            return True
        return False


def _flatten(callbacks) -> list:
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return [c for item in callbacks for c in _flatten(item)]
    return [callbacks]
