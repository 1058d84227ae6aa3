"""What a Keras user observes of fit/evaluate/predict: the logs of steps they write, the
penalties of `add_loss`, the logs callbacks receive. Values from Keras 3.15.1 (torch backend)
for the same weights and data."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def _set_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype("float32")
                       for w in model.get_weights()])


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((32, 6)).astype("float32")
    return x, rng.random((32, 1)).astype("float32")


class Penalty(layers.Layer):
    def call(self, inputs):
        self.add_loss(0.1 * torch.sum(inputs))
        return inputs


def test_add_loss_in_a_layer_s_call_is_part_of_the_loss():
    x, y = _data()
    inputs = keras.Input((6,))
    hidden = Penalty()(layers.Dense(4, activation="relu")(inputs))
    model = keras.Model(inputs, layers.Dense(1)(hidden))
    _set_weights(model)
    model.compile("sgd", "mse")
    history = model.fit(x, y, batch_size=8, verbose=0, shuffle=False).history
    assert history["loss"] == pytest.approx([0.3682115972042084], rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(0.3813651502132416, rel=1e-5)


class OwnMetrics(keras.Model):
    """The guide's lower-level train_step: its own metrics, compiled without a loss."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = keras.losses.MeanSquaredError()(y, y_pred)
        loss.backward()
        weights = list(self.trainable_weights)
        with torch.no_grad():
            self.optimizer.apply([v.grad for v in weights], weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_a_step_with_its_own_metrics_logs_them_and_fit_resets_them_each_epoch():
    x, y = _data()
    inputs = keras.Input((6,))
    model = OwnMetrics(inputs, layers.Dense(1)(inputs))
    _set_weights(model)
    model.compile(optimizer="sgd")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history
    assert history["loss"] == pytest.approx([0.18981033563613892, 0.15816844999790192], rel=1e-5)
    assert history["mae"] == pytest.approx([0.35524481534957886, 0.3332347571849823], rel=1e-5)
    assert model.metrics_names == ["loss", "mae"]


class NestedLogs(keras.Model):
    """The guide's first train_step: it returns `compile_metrics`' dict inside its logs."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        weights = list(self.trainable_weights)
        with torch.no_grad():
            self.optimizer.apply([v.grad for v in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_a_step_s_nested_logs_are_spread_in_the_place_of_their_key():
    x, y = _data()
    inputs = keras.Input((6,))
    model = NestedLogs(inputs, layers.Dense(1)(inputs))
    _set_weights(model)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False,
                        validation_data=(x, y)).history
    # Keras sorts the step's keys with the validation ones: "compile_metrics" (spread as "mae")
    # before "loss".
    assert list(history) == ["mae", "loss", "val_loss", "val_mae"]
    assert history["loss"] == pytest.approx([0.18981033563613892, 0.15816844999790192], rel=1e-5)


class FirstOfBatch(keras.Model):
    def train_step(self, data):
        self.seen = data
        return {}


def test_a_data_loader_of_one_tensor_batches_gives_the_step_the_tensor():
    inputs = keras.Input((6,))
    model = FirstOfBatch(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    x, _ = _data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x)),
                                         batch_size=8)
    model.fit(loader, verbose=0, shuffle=False)
    (batch,) = model.seen
    assert isinstance(batch, torch.Tensor) and batch.shape == (8, 6)


class Logs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(("train_batch_begin", logs))

    def on_test_batch_begin(self, batch, logs=None):
        self.seen.append(("test_batch_begin", logs))

    def on_predict_batch_begin(self, batch, logs=None):
        self.seen.append(("predict_batch_begin", logs))

    def on_predict_batch_end(self, batch, logs=None):
        self.seen.append(("predict_batch_end", logs))


def test_batch_hooks_get_keras_s_logs():
    x, y = _data()
    inputs = keras.Input((6,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    callback = Logs()
    model.fit(x, y, batch_size=32, verbose=0, callbacks=[callback])
    model.evaluate(x, y, verbose=0, callbacks=[callback])
    predictions = model.predict(x, verbose=0, callbacks=[callback])
    (_, train), (_, test), (_, predict), (_, end) = callback.seen
    assert train == {} and test == {} and predict == {}
    # A single output comes as a NumPy array under "outputs".
    assert list(end) == ["outputs"] and isinstance(end["outputs"], np.ndarray)
    np.testing.assert_array_equal(end["outputs"], predictions)


def test_the_logged_learning_rate_is_read_as_float32():
    x, y = _data()
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    history = model.fit(x, y, verbose=0, callbacks=[
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr)])
    assert history.history["learning_rate"] == [0.10000000149011612]  # Keras's value


class Writes(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        logs["extra"] = 1.0
        self.copied = logs.copy()


def test_a_callback_may_add_to_batch_logs_and_copy_them_as_a_dict():
    x, y = _data()
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    callback = Writes()
    model.fit(x, y, batch_size=32, verbose=0, callbacks=[callback])
    assert type(callback.copied) is dict and sorted(callback.copied) == ["extra", "loss", "mae"]


def test_compiling_without_a_loss_is_refused_only_by_the_default_steps():
    x, y = _data()
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1)])
    model.compile("sgd")  # as Keras: accepted here, for a train_step of one's own
    with pytest.raises(ValueError, match="needs a loss"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="needs a loss"):
        model.evaluate(x, y, verbose=0)


def test_model_loss_is_what_compile_was_given():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    assert model.loss is None  # as in Keras before compile
    model.compile("adam", "mse")
    assert model.loss == "mse"
    loss = torch.nn.MSELoss()
    model.compile("adam", loss)
    assert model.loss is loss and len(model.layers) == 2  # not taken for a layer of the model


def test_training_an_uncompiled_model_raises_keras_s_error():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    x, y = np.ones((2, 4), "float32"), np.ones((2, 3), "float32")
    # Keras: ValueError from fit and the *_on_batch methods, AttributeError from evaluate.
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.train_on_batch(x, y),
                 lambda: model.test_on_batch(x, y)):
        with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using the"):
            call()
    with pytest.raises(AttributeError, match="compile"):
        model.evaluate(x, y, verbose=0)
