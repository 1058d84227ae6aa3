import math

import pytest

from netknit.callbacks import CallbackList, TerminateOnNaN


@pytest.mark.parametrize("loss", [math.nan, math.inf])
def test_stops_training(model, loss, capsys):
    callbacks = CallbackList([TerminateOnNaN()], model=model)
    callbacks.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    callbacks.on_train_batch_end(1, {"loss": loss})
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"


def test_raise_error(model):
    callback = TerminateOnNaN(raise_error=True)
    callback.set_model(model)
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 4"):
        callback.on_train_batch_end(4, {"loss": math.nan})


def test_logs_without_loss(model):
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_train_batch_end(0, {})
    assert not model.stop_training
