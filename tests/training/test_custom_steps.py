"""Keras 3's "Customizing what happens in fit()" on the torch backend runs unchanged (with
`v.grad` for its `v.value.grad`), and `model.metrics` lists what Keras 3.15.1 lists."""

import numpy as np
import torch

import netknit as keras


class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = list(self.trainable_weights)
        gradients = [v.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((256, 8), dtype="float32")
    return x, x.sum(axis=1, keepdims=True)


def test_a_subclass_called_with_inputs_and_outputs_is_a_functional_model_of_it():
    inputs = keras.Input((8,))
    model = CustomModel(inputs, keras.layers.Dense(1)(inputs))
    assert isinstance(model, CustomModel) and isinstance(model, keras.models.Functional)
    assert type(model).__name__ == "CustomModel"
    assert model.count_params() == 9


def test_the_guide_s_custom_train_step_trains_and_logs_its_metrics():
    inputs = keras.Input((8,))
    model = CustomModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    x, y = _data()
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0).history
    assert sorted(history) == ["loss", "mae"]
    assert history["loss"][-1] < history["loss"][0] / 2
    assert model.optimizer.iterations == 32


def test_optimizer_takes_keras_s_gradient_forms():
    weights = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]
    optimizer = keras.optimizers.SGD(0.5)
    optimizer.apply([torch.ones(2), torch.full((3,), 2.0)], weights)
    optimizer.apply_gradients(zip([torch.ones(2), torch.ones(3)], weights))
    assert weights[0].tolist() == [0.0, 0.0] and weights[1].tolist() == [-0.5] * 3


def test_metrics_are_listed_as_keras_lists_them():
    inputs = keras.Input((3,))
    single = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    assert single.metrics_names == []
    single.compile(optimizer="adam", loss="mse")
    assert single.metrics_names == ["loss"]
    single.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert single.metrics_names == ["loss", "compile_metrics"]
    single.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert single.metrics_names == ["loss", "compile_metrics"]
    assert set(single.metrics[1].result()) == {"mae"}
    a = keras.layers.Dense(1, name="a")(inputs)
    b = keras.layers.Dense(1, name="b")(inputs)
    double = keras.Model(inputs, [a, b])
    double.compile(optimizer="adam", loss=["mse", "mae"], metrics=[["mae"], ["mse"]])
    assert double.metrics_names == ["loss", "compile_metrics"]
    history = double.fit(np.ones((4, 3)), [np.ones((4, 1))] * 2, verbose=0).history
    assert double.metrics_names == ["loss", "compile_metrics", "a_loss", "b_loss"]
    assert sorted(history) == ["a_loss", "a_mae", "b_loss", "b_mse", "loss"]


def test_a_subclass_with_its_own_two_arguments_stays_a_subclassed_model():
    class TwoLayers(keras.Model):
        def __init__(self, hidden, out, **kwargs):
            super().__init__(**kwargs)
            self.hidden = keras.layers.Dense(hidden)
            self.out = keras.layers.Dense(out)

        def call(self, x):
            return self.out(self.hidden(x))

    model = TwoLayers(4, 2)
    assert not isinstance(model, keras.models.Functional)
    assert model(torch.ones(3, 5)).shape == (3, 2)


def test_a_subclass_passing_inputs_and_outputs_on_keeps_its_own_init():
    class Tagged(keras.Model):
        def __init__(self, *args, tag="x", **kwargs):
            super().__init__(*args, **kwargs)
            self.tag = tag

    inputs = keras.Input((3,))
    model = Tagged(inputs, keras.layers.Dense(1)(inputs), tag="y")
    assert model.tag == "y" and isinstance(model, keras.models.Functional)
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 1)


class MetricsModel(keras.Model):
    """Keras 3's other form of the step: the loss tracker by hand, the rest by compute_metrics."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        with torch.no_grad():
            self.optimizer.apply([v.grad for v in self.trainable_weights],
                                 self.trainable_weights)
        self.metrics[0].update_state(loss)
        return self.compute_metrics(x, y, y_pred)


def test_compute_metrics_and_get_metrics_result_in_a_custom_step():
    inputs = keras.Input((8,))
    model = MetricsModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    x, y = _data()
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0).history
    assert sorted(history) == ["loss", "mae"]
    assert history["mae"][-1] < history["mae"][0]
    result = model.get_metrics_result()
    assert sorted(result) == ["loss", "mae"] and isinstance(result["mae"], float)
    model.reset_metrics()
    assert model.get_metrics_result()["loss"] == 0.0


class Recording(keras.Model):
    """Keeps a description of each batch its steps get."""

    def train_step(self, data):
        self.seen.append(_described(data))
        return {}

    test_step = train_step

    def predict_step(self, data):
        self.seen.append(_described(data))
        return super().predict_step(data)


def _described(data):
    if isinstance(data, (list, tuple)):
        return type(data).__name__, [_described(part) for part in data]
    return tuple(data.shape)


def test_a_step_of_the_user_s_gets_the_batch_as_keras_hands_it_over():
    # Keras 3.15.1 (torch): arrays without y give x alone (keras.io's VAE reads `data` as its
    # images), with y a tuple; a stream's batches come as lists.
    inputs = keras.Input((3,))
    model = Recording(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    model.seen = []
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    model.fit(x, batch_size=4, verbose=0)
    model.fit(x, y, batch_size=4, verbose=0)
    model.fit(x, y, sample_weight=np.ones(4), batch_size=4, verbose=0)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4)
    model.fit(loader, shuffle=False, verbose=0)
    model.evaluate(x, verbose=0)
    model.predict(x, verbose=0)
    assert model.seen == [
        (4, 3), ("tuple", [(4, 3), (4, 1)]), ("tuple", [(4, 3), (4, 1), (4,)]),
        ("list", [(4, 3), (4, 1)]), (4, 3), (4, 3)]
