"""`TerminateOnNaN`: stops training at the first NaN or infinite loss."""

from __future__ import annotations

import math

from ..training.progress import write_line
from .callback import Callback


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite.

    It reads the loss after every batch, which waits for the device each step.

    Args:
        raise_error: False to stop gracefully (`model.stop_training = True`, so `on_train_end`
            of every callback still runs); True to raise a `RuntimeError` at once.

    >>> callback = TerminateOnNaN()
    """

    _stops_mid_epoch = True

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                               "Terminating training immediately.")
        write_line(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
