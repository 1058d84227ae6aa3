from netknit.callbacks import CallbackList, History


def test_records_epoch_logs(model):
    callbacks = CallbackList(add_history=True, model=model, verbose=0, epochs=2, steps=1)
    callbacks.on_train_begin()
    callbacks.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.25})
    callbacks.on_epoch_end(1, {"loss": 0.25, "accuracy": 0.5})
    history = model.history
    assert isinstance(history, History)
    assert history.history == {"loss": [0.5, 0.25], "accuracy": [0.25, 0.5]}
    assert history.epoch == [0, 1]
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 1}


def test_a_new_fit_restarts_the_epoch_list(model):
    history = History()
    history.set_model(model)
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_train_begin()
    history.on_epoch_end(3, {"loss": 2.0})
    assert history.epoch == [3]
    assert history.history == {"loss": [1.0, 2.0]}
