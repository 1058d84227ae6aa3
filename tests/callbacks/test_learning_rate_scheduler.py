import numpy as np
import pytest

from netknit.callbacks import LearningRateScheduler


def test_sets_the_rate_each_epoch_and_logs_it(model):
    callback = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5)
    callback.set_model(model)
    logged = []
    for epoch in range(4):
        callback.on_epoch_begin(epoch)
        logs = {"loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    assert logged == pytest.approx([0.01, 0.01, 0.005, 0.0025])


def test_schedule_of_the_epoch_alone(model):
    callback = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    callback.set_model(model)
    callback.on_epoch_begin(1)
    assert model.optimizer.learning_rate == pytest.approx(0.05)


def test_numpy_floats_are_accepted_and_other_outputs_rejected(model):
    callback = LearningRateScheduler(lambda epoch, lr: np.float32(0.5))
    callback.set_model(model)
    callback.on_epoch_begin(0)
    assert model.optimizer.learning_rate == 0.5
    callback = LearningRateScheduler(lambda epoch, lr: "0.1")
    callback.set_model(model)
    with pytest.raises(ValueError, match="should be a float. Got: '0.1'"):
        callback.on_epoch_begin(0)


def test_verbose(model, capsys):
    callback = LearningRateScheduler(lambda epoch, lr: 0.25, verbose=1)
    callback.set_model(model)
    callback.on_epoch_begin(2)
    assert capsys.readouterr().out == (
        "\nEpoch 3: LearningRateScheduler setting learning rate to 0.25.\n")


def test_schedule_must_be_callable():
    with pytest.raises(TypeError, match="Received: schedule=0.1"):
        LearningRateScheduler(0.1)
