import pytest

from netknit.callbacks import (
    BackupAndRestore,
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    ProgbarLogger,
)


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("train_batch_end", batch))


class OldStyle(Callback):
    """Overrides the older alias only."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def on_batch_end(self, batch, logs=None):
        self.batches.append(batch)


def test_adds_history_and_progbar_once(model):
    history = History()
    callbacks = CallbackList([history], add_history=True, add_progbar=True, model=model,
                             verbose=2, epochs=1, steps=2)
    assert [type(c) for c in callbacks.callbacks] == [History, ProgbarLogger]
    assert callbacks.callbacks[0] is history and model.history is history
    assert history.params == {"verbose": 2, "epochs": 1, "steps": 2}
    assert history.model is model


def test_flattens_nested_lists_and_rejects_non_callbacks():
    a, b = Callback(), Callback()
    assert CallbackList([a, [b]]).callbacks == [a, b]
    with pytest.raises(TypeError, match="Received: 'early_stopping' of type str"):
        CallbackList(["early_stopping"])


def test_batch_hooks_go_only_to_callbacks_that_override_them(model):
    recorder, old, epoch_only = Recorder(), OldStyle(), EarlyStopping(monitor="loss")
    callbacks = CallbackList([recorder, old, epoch_only, ModelCheckpoint("m.keras")],
                             model=model)
    assert callbacks._batch_callbacks["on_train_batch_end"] == [
        recorder.on_train_batch_end, old.on_train_batch_end]
    assert callbacks._batch_callbacks["on_train_batch_begin"] == []
    assert callbacks._batch_callbacks["on_test_batch_end"] == []
    callbacks.on_train_batch_end(3, {"loss": 1.0})
    assert recorder.calls == [("train_batch_end", 3)] and old.batches == [3]


def test_callbacks_saving_every_few_batches_take_batch_hooks(model, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=2)
    backup = BackupAndRestore(tmp_path / "backup", save_freq=3)
    callbacks = CallbackList([checkpoint, backup], model=model)
    assert len(callbacks._batch_callbacks["on_train_batch_end"]) == 2


def test_lambda_hooks_count_as_overrides(model):
    seen = []
    callbacks = CallbackList([LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(b))],
                             model=model)
    callbacks.on_train_batch_begin(0)
    callbacks.on_predict_batch_begin(0)
    assert seen == [0]


def test_epoch_logs_are_one_dict_shared_in_order(model):
    def add_rate(epoch, logs):
        logs["learning_rate"] = 0.1

    recorder = Recorder()
    callbacks = CallbackList([LambdaCallback(on_epoch_end=add_rate), recorder], model=model)
    callbacks.on_epoch_end(0, {"loss": 1.0})
    assert recorder.calls == [("epoch_end", 0, {"loss": 1.0, "learning_rate": 0.1})]


def test_hooks_without_logs_receive_an_empty_dict(model):
    received = []
    callbacks = CallbackList([LambdaCallback(on_train_begin=received.append)], model=model)
    callbacks.on_train_begin()
    assert received == [{}]


def test_initial_epoch_override(model):
    callbacks = CallbackList([Callback()], model=model)
    assert callbacks.initial_epoch_override is None
    resumer = Callback()
    resumer.resume_epoch = 4
    assert CallbackList([resumer], model=model).initial_epoch_override == 4


def test_base_hooks_are_no_ops(model):
    callback = Callback()
    callback.set_model(model)
    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                 "on_predict_begin", "on_predict_end"):
        assert getattr(callback, hook)({}) is None
    for hook in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
                 "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
                 "on_predict_batch_end"):
        assert getattr(callback, hook)(0, {}) is None
