"""`History`: the record of epoch results that `fit()` returns."""

from __future__ import annotations

from .callback import Callback


class History(Callback):
    """Records the epoch logs of `fit()`; `fit()` adds one and returns it.

    Attributes:
        history: a dict from each logged name to the list of its values, one per epoch.
        epoch: the indices of the epochs recorded by the latest `fit()`.
        params: the training parameters, e.g. `{"verbose": 1, "epochs": 10, "steps": 1}`.

    >>> history = History()
    >>> history.on_train_begin()
    >>> history.on_epoch_end(0, {"loss": 0.5})
    >>> history.history
    {'loss': [0.5]}
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)
        if self.model is not None:
            self.model.history = self
