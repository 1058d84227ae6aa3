"""The torch-loop guides of keras.io (a custom `train_step`/`test_step`, a training loop written
from scratch, the introductions for engineers and researchers) run on netknit as on Keras 3.15.1
(torch backend). Hard-coded values were observed from real Keras; the live comparisons skip
when it is absent."""

import numpy as np
import pytest
import torch

import netknit as keras


def _custom_step_model(lib, test_step=False):
    """The guide's model whose own step feeds `self.metrics` (the loss tracker, then the
    compiled metrics) and returns `{m.name: m.result()}`: `{"loss", "compile_metrics"}`."""

    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            weights = list(self.trainable_weights)
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in weights], weights)
            return self._update_metrics(loss, y, y_pred)

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            return self._update_metrics(self.compute_loss(y=y, y_pred=y_pred), y, y_pred)

        def _update_metrics(self, loss, y, y_pred):
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    if not test_step:
        del CustomModel.test_step
    inputs = lib.Input(shape=(8,))
    model = CustomModel(inputs, lib.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.random((40, 8)).astype("float32"), rng.random((40, 1)).astype("float32")


def test_evaluate_with_a_user_test_step_orders_the_logs_as_keras():
    # Keras flattens the step's `compile_metrics` after "compile_metrics" < "loss" (mae first);
    # its callback list flattens on_test_end's logs once more, which sorts them again.
    model = _custom_step_model(keras, test_step=True)
    seen = {}
    callback = keras.callbacks.LambdaCallback(
        on_test_batch_end=lambda batch, logs: seen.setdefault("batch", list(logs)),
        on_test_end=lambda logs: seen.setdefault("end", list(logs)))
    x, y = _data()
    returned = model.evaluate(x, y, batch_size=20, verbose=0, return_dict=True,
                              callbacks=[callback])
    assert seen == {"batch": ["mae", "loss"], "end": ["loss", "mae"]}
    assert list(returned) == ["mae", "loss"]
    values = model.evaluate(x, y, batch_size=20, verbose=0)
    assert values == [returned["loss"], returned["mae"]]


def test_custom_train_and_test_steps_match_keras(real_keras):
    x, y = _data()
    ours = _custom_step_model(keras, test_step=True)
    theirs = _custom_step_model(real_keras, test_step=True)
    ours.set_weights(theirs.get_weights())
    h_ours = ours.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0).history
    h_theirs = theirs.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0).history
    assert list(h_ours) == list(h_theirs) == ["mae", "loss"]
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0),
                               rtol=1e-5)


def test_summary_shows_the_output_shape_of_models_called_eagerly():
    layers = keras.layers

    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.stack = keras.Sequential([keras.Input((4,)), layers.Dense(3)], name="stack")
            inputs = keras.Input((3,))
            self.single = keras.Model(inputs, layers.Dense(5)(inputs), name="single")
            inputs = keras.Input((3,))
            self.pair = keras.Model(inputs, [layers.Dense(5)(inputs), layers.Dense(2)(inputs)],
                                    name="pair")
            self.built = True

        def call(self, x):
            return self.single(self.stack(x))

    lines = []
    Outer().summary(print_fn=lines.append)
    text = "\n".join(lines)
    # Keras 3.15.1's rows: a model with its own graph shows its outputs, not "?".
    assert "│ stack (Sequential)              │ (None, 3)              │" in text
    assert "│ single (Functional)             │ (None, 5)              │" in text
    assert "│ pair (Functional)               │ ((None, 5), (None, 2)) │" in text


@pytest.mark.parametrize("initializer", ["RandomNormal", "RandomUniform", "TruncatedNormal",
                                         "GlorotNormal", "Zeros", "Ones", "Orthogonal"])
def test_initializers_take_keras_dtype_names(initializer):
    # The researchers' guide: `keras.Variable(initializer=init(shape=..., dtype="float32"))`.
    values = getattr(keras.initializers, initializer)()(shape=(3, 2), dtype="float64")
    assert values.dtype == torch.float64 and tuple(values.shape) == (3, 2)
    weight = keras.Variable(initializer=keras.initializers.Zeros()(shape=(2,), dtype="float32"))
    assert tuple(weight.shape) == (2,) and weight.dtype == torch.float32


def test_a_functional_model_refuses_add_loss_as_keras_does():
    inputs = keras.Input((4,))
    z = keras.layers.Dense(2)(inputs)
    model = keras.Model(inputs, z)
    # Keras 3 raises NotImplementedError; netknit used to keep the symbolic loss and drop it.
    with pytest.raises(NotImplementedError, match="in a layer of the graph"):
        model.add_loss(keras.ops.mean(z))
    stack = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    stack.add_loss(torch.tensor(1.0))  # Keras's Sequential is no functional model
    assert len(stack.losses) == 1


def test_a_scalar_variable_reads_as_keras_prints_it():
    assert repr(keras.Variable(0.001, name="lr")) == (
        "<Variable path=lr, shape=(), dtype=float32, value=0.0010000000474974513>")
    assert repr(keras.optimizers.Adam(1e-3).learning_rate) == (
        "<Variable path=adam/learning_rate, shape=(), dtype=float32, value=0.0010000000474974513>")
    assert repr(keras.Variable(np.array([0.001, 2.5], "float32"), name="v")) == (
        "<Variable path=v, shape=(2,), dtype=float32, value=[1.0e-03 2.5e+00]>")


def test_metrics_held_by_a_model_are_listed_reset_and_logged_as_in_keras():
    class Tracked(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.extra = keras.metrics.MeanAbsoluteError(name="extra")

    inputs = keras.Input((8,))
    model = Tracked(inputs, keras.layers.Dense(1)(inputs))
    assert [m.name for m in model.metrics] == ["loss", "extra"]
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "compile_metrics", "loss", "extra"]
    model.extra.update_state(np.ones((2, 1)), np.zeros((2, 1)))
    x, y = _data()
    history = model.fit(x, y, batch_size=20, epochs=2, verbose=0).history
    # Keras 3.15.1: the held metrics join the logs (reset each epoch, never updated: 0.0), and
    # the held "loss" tracker, listed last, is the "loss" logged.
    assert history == {"extra": [0.0, 0.0], "loss": [0.0, 0.0], "mae": history["mae"]}
    assert [v.path for v in model.metrics_variables][-4:] == [
        "loss/total", "loss/count", "extra/total", "extra/count"]
