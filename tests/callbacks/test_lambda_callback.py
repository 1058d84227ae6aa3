import pytest

from netknit.callbacks import CallbackList, LambdaCallback


def test_calls_the_given_functions(model):
    events = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, logs["loss"])),
        on_train_batch_end=lambda batch, logs: events.append(("batch_end", batch)),
        on_test_end=lambda logs: events.append("test_end"),
    )
    callbacks = CallbackList([callback], model=model)
    callbacks.on_train_begin()
    callbacks.on_train_batch_end(0, {})
    callbacks.on_test_end({})
    callbacks.on_epoch_end(0, {"loss": 0.5})
    callbacks.on_train_end()
    assert events == ["train_begin", ("batch_end", 0), "test_end", ("epoch_end", 0, 0.5)]


def test_rejects_unknown_hooks_and_non_functions():
    with pytest.raises(ValueError, match=r"Unknown hook names for LambdaCallback: \['on_epoch'\]"):
        LambdaCallback(on_epoch=print)
    with pytest.raises(TypeError, match="Received: on_epoch_end=3"):
        LambdaCallback(on_epoch_end=3)
