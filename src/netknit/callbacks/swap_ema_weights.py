"""`SwapEMAWeights`: evaluate and predict with the optimizer's moving averages of the weights."""

from __future__ import annotations

import torch

from .callback import Callback


class SwapEMAWeights(Callback):
    """Puts the moving averages of an optimizer made with `use_ema=True` into the model while
    it is evaluated (also the validation inside `fit`) or predicts, and the trained weights back
    afterwards. The two are exchanged in place, one weight at a time, so nothing is copied
    whole.

    Args:
        swap_on_epoch: also keep the averages in the model from the end of each epoch to the
            start of the next, so that the callbacks listed after this one (`ModelCheckpoint`)
            see them. `fit` then ends with the averages in the model, as it does without this
            callback.

    >>> optimizer = keras.optimizers.SGD(use_ema=True)
    >>> model.compile(optimizer=optimizer, loss="mse")
    >>> model.fit(x, y, callbacks=[SwapEMAWeights()])  # doctest: +SKIP
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self._averages_in_model = False

    def _ema_optimizers(self) -> list:
        """The optimizers whose averages are swapped: the model's (inside a LossScaleOptimizer),
        or a MultiOptimizer's inner ones made with `use_ema=True`."""
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(optimizer, "optimizers", None)
        if inner is not None:
            averaging = [o for o in inner if getattr(o, "use_ema", False)]
            if not averaging:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has "
                    "`use_ema=True` set. Received a MultiOptimizer with all inner optimizers "
                    "having `use_ema=False`.")
            return averaging
        if not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights needs an optimizer that keeps moving averages of the weights: "
                "create it with `use_ema=True`. Received: use_ema="
                f"{getattr(optimizer, 'use_ema', None)}"
            )
        return [optimizer]

    def _put_averages_in_model(self, wanted: bool) -> None:
        if self._averages_in_model == wanted:
            return
        with torch.no_grad():
            for optimizer in self._ema_optimizers():
                if optimizer.built:
                    for weight, average in zip(optimizer._params, optimizer._slots["average"]):
                        kept = weight.clone()
                        weight.copy_(average)
                        average.copy_(kept)
        self._averages_in_model = wanted

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._put_averages_in_model(False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._put_averages_in_model(True)
            if epoch == self.params["epochs"] - 1:
                # `fit` ends by writing the averages into the weights: they are in the model
                # now, so the optimizer's copy must hold them too.
                with torch.no_grad():
                    for optimizer in self._ema_optimizers():
                        torch._foreach_copy_(optimizer._slots["average"], optimizer._params)

    def on_test_begin(self, logs=None):
        self._put_averages_in_model(True)

    def on_test_end(self, logs=None):
        self._put_averages_in_model(False)

    def on_predict_begin(self, logs=None):
        self._put_averages_in_model(True)

    def on_predict_end(self, logs=None):
        self._put_averages_in_model(False)
