"""`ProgbarLogger`: the progress bar of `fit()`, `evaluate()` and `predict()`."""

from __future__ import annotations

from ..training.progress import Progbar, resolve_verbose, write_line
from .callback import Callback


class ProgbarLogger(Callback):
    """Prints progress and metrics; `fit()` adds one unless `verbose=0`.

    With verbose=1 rich draws the bar in place on a terminal (at most 10 times a second, reading
    the batch metrics only then); elsewhere the bar is one plain line per epoch. verbose=2 prints
    one line per epoch. Validation inside `fit()` is silent: its results end the epoch
    line. `"Epoch 3/10"` heads each epoch when there is more than one.

    >>> callback = ProgbarLogger()
    """

    rank_zero_only = True

    def __init__(self):
        super().__init__()
        self.progbar: Progbar | None = None
        self.verbose = 1
        self.epochs = 1
        self.target: int | None = None
        self.seen = 0
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = resolve_verbose(params.get("verbose", 1))
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._start_progbar()

    def on_predict_begin(self, logs=None):
        self._start_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._start_progbar()
        if self.verbose and self.epochs > 1:
            write_line(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)  # the predictions are no metrics to show

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_end(self, logs=None):
        self._finalize(None)

    def _start_progbar(self):
        self.seen = 0
        # Metrics are shown as logged (the trainer averages them), so the bar reads them only
        # when it draws.
        self.progbar = Progbar(target=self.target, verbose=self.verbose, interval=0.1,
                               stateless_metrics=())

    def _update(self, batch, logs):
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, logs, finalize=False)

    def _finalize(self, logs):
        if self.progbar is None:
            return
        if self.target is None:
            # The first epoch counted the steps: later epochs show a full bar.
            self.target = self.seen
            self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, logs, finalize=True)
