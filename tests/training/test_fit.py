"""compile / fit / evaluate / predict behave as Keras's do (numbers and names from Keras 3)."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def _binary_data(n=64, features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype("float32")
    return x, y


def _binary_model(features=4):
    x = keras.Input((features,))
    hidden = layers.Dense(8, activation="relu")(x)
    return keras.Model(x, layers.Dense(1, activation="sigmoid")(hidden))


def test_history_keys_are_sorted_like_keras_and_loss_decreases():
    x, y = _binary_data(128)
    model = _binary_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.25, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == list(range(15))
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.history is history


def test_evaluate_return_forms():
    x, y = _binary_data()
    model = _binary_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"accuracy": accuracy, "loss": loss}
    # As Keras, compiling again without metrics keeps the metrics given before.
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert len(model.evaluate(x, y, verbose=0)) == 2
    model = _binary_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_multi_output_names_and_evaluate_order():
    inputs = keras.Input((4,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    out_a = layers.Dense(1, name="out_a")(hidden)
    out_b = layers.Dense(3, activation="softmax", name="out_b")(hidden)
    model = keras.Model(inputs, [out_a, out_b])
    model.compile(
        optimizer="adam",
        loss={"out_a": "mse", "out_b": "sparse_categorical_crossentropy"},
        metrics={"out_a": "mae", "out_b": ["accuracy"]},
        loss_weights=[1.0, 0.5],
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    ya, yb = rng.standard_normal((32, 1)).astype("float32"), rng.integers(0, 3, 32)
    history = model.fit(x, [ya, yb], epochs=1, batch_size=8, verbose=0)
    assert list(history.history) == ["loss", "out_a_loss", "out_a_mae", "out_b_accuracy",
                                     "out_b_loss"]
    values = model.evaluate(x, {"out_a": ya, "out_b": yb}, verbose=0)
    logs = model.evaluate(x, [ya, yb], verbose=0, return_dict=True)
    assert values == [logs[k] for k in ["loss", "out_a_loss", "out_b_loss", "out_a_mae",
                                         "out_b_accuracy"]]
    assert logs["loss"] == pytest.approx(logs["out_a_loss"] + 0.5 * logs["out_b_loss"], rel=1e-5)
    preds = model.predict(x, verbose=0)
    assert isinstance(preds, list) and preds[0].shape == (32, 1) and preds[1].dtype == np.float32


@pytest.mark.parametrize("loss_weights", [[1.0, 0.5], {"out_a": 1.0, "out_b": 0.5}])
def test_one_loss_with_a_weight_per_output_is_refused_at_fit_as_keras_does(loss_weights):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, [layers.Dense(1, name="out_a")(inputs),
                                 layers.Dense(1, name="out_b")(inputs)])
    model.compile(optimizer="sgd", loss="mse", loss_weights=loss_weights)  # Keras accepts this
    x, y = np.zeros((4, 4), "float32"), np.zeros((4, 1), "float32")
    message = "`loss_weights` must match the number of losses, got 1 losses and 2 weights"
    with pytest.raises(ValueError, match=message):
        model.fit(x, [y, y], verbose=0)
    with pytest.raises(ValueError, match=r"loss=\['mse', 'mse'\]"):
        model.evaluate(x, [y, y], verbose=0)


def test_class_weight_changes_the_loss_as_keras_does():
    """Reported loss = sum(w * l) / N (Keras divides by the sample count, not by sum(w))."""
    x, y = _binary_data()
    model = _binary_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    plain = model.evaluate(x, y, verbose=0)
    weighted = model.fit(x, y, class_weight={0: 1.0, 1: 3.0}, epochs=1, verbose=0,
                         shuffle=False).history["loss"][0]
    p = model.predict(x, verbose=0)
    per_sample = -(y * np.log(p) + (1 - y) * np.log(1 - p))[:, 0]
    weights = np.where(y[:, 0] == 1, 3.0, 1.0)
    assert weighted == pytest.approx((weights * per_sample).sum() / len(y), rel=1e-4)
    assert plain == pytest.approx(per_sample.mean(), rel=1e-4)


def test_validation_split_takes_the_tail_before_shuffling():
    x = np.arange(20, dtype="float32").reshape(20, 1)
    y = np.zeros((20, 1), dtype="float32")
    y[-5:] = 100.0  # only the tail has large targets
    inputs = keras.Input((1,))
    model = keras.Model(inputs, layers.Dense(1, kernel_initializer="zeros")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    history = model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    assert history.history["loss"][0] == 0.0
    assert history.history["val_loss"][0] == pytest.approx(10000.0)


def test_frozen_layer_stays_unchanged_and_others_train():
    x, y = _binary_data()
    inputs = keras.Input((4,))
    frozen = layers.Dense(8, activation="relu", name="frozen")
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(frozen(inputs)))
    frozen.trainable = False
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    after = model.get_weights()
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert not np.array_equal(after[2], before[2])


def test_dropout_is_off_in_predict_and_on_in_fit():
    inputs = keras.Input((50,))
    model = keras.Model(inputs, layers.Dropout(0.5)(inputs))
    ones = np.ones((4, 50), dtype="float32")
    np.testing.assert_array_equal(model.predict(ones, verbose=0), ones)
    model.compile(optimizer="sgd", loss="mse")
    # In training half the units drop: predictions of 0 or 2 against targets of 1 give mse 1.
    loss = model.fit(ones, ones, epochs=1, verbose=0).history["loss"][0]
    assert loss == pytest.approx(1.0)


def test_predict_and_evaluate_put_every_layer_in_inference_mode_and_restore_the_models():
    model = keras.Sequential([keras.Input((50,)), layers.Dropout(0.5)])
    model.compile(optimizer="sgd", loss="mse")
    ones = np.ones((4, 50), dtype="float32")
    dropout = model.layers[0]
    model.eval()
    dropout.train()  # the model in inference mode, one of its layers not
    np.testing.assert_array_equal(model.predict(ones, verbose=0), ones)
    assert not dropout.training
    model.train()
    assert model.evaluate(ones, ones, verbose=0) == 0.0
    np.testing.assert_array_equal(model.predict_on_batch(ones), ones)
    assert model.training and dropout.training


def test_data_errors_are_caught_before_the_first_step():
    model = keras.Sequential([keras.Input((10,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros((32, 1), dtype="float32")
    with pytest.raises(ValueError, match="expects data of shape \\(None, 10\\), but received "
                       "data of shape \\(None, 12\\) \\(32 samples\\)"):
        model.fit(np.zeros((32, 12), dtype="float32"), y, verbose=0)
    with pytest.raises(ValueError, match="expects 1 input\\(s\\).*called on 2"):
        model.fit([np.zeros((32, 10)), np.zeros((32, 10))], y, verbose=0)
    with pytest.raises(ValueError, match="x has 32, y has 30"):
        model.fit(np.zeros((32, 10)), np.zeros((30, 1)), verbose=0)


def test_compile_typos_get_did_you_mean():
    model = _binary_model()
    with pytest.raises(ValueError, match="Did you mean 'adam'"):
        model.compile(optimizer="adm", loss="mse")
    with pytest.raises(ValueError, match="Unknown loss: 'mse2'. Did you mean 'mse'"):
        model.compile(optimizer="adam", loss="mse2")
    with pytest.raises(ValueError, match="Did you mean 'accuracy'"):
        model.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
        model.fit(*_binary_data(), verbose=0)


def test_dict_inputs_dataframe_and_torch_tensors():
    pd = pytest.importorskip("pandas")
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    model = keras.Model([a, b], layers.Dense(1)(layers.concatenate([a, b])))
    model.compile(optimizer="sgd", loss="mse")
    frame = pd.DataFrame(np.ones((16, 2)), columns=["u", "v"])
    history = model.fit({"a": frame, "b": torch.ones(16, 3)}, np.ones((16, 1)), epochs=2,
                        batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2


def test_dataloader_and_generator_inputs():
    x, y = _binary_data(48)
    model = _binary_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(dataset, batch_size=16)
    history = model.fit(loader, epochs=2, verbose=0, shuffle=False).history
    assert list(history) == ["accuracy", "loss"]

    def generator():
        while True:
            for i in range(0, 48, 16):
                yield x[i:i + 16], y[i:i + 16]

    history = model.fit(generator(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.evaluate(loader, verbose=0, return_dict=True).keys() == {"accuracy", "loss"}


def test_on_batch_methods_and_predict_types():
    x, y = _binary_data(8)
    model = _binary_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.train_on_batch(x, y)
    assert isinstance(loss, float) and 0 <= accuracy <= 1
    assert set(model.test_on_batch(x, y, return_dict=True)) == {"accuracy", "loss"}
    out = model.predict_on_batch(x)
    assert isinstance(out, np.ndarray) and out.shape == (8, 1) and out.dtype == np.float32
    np.testing.assert_allclose(model.predict(x, batch_size=3, verbose=0), out, rtol=1e-6)


def test_regularization_penalty_is_in_the_loss():
    x, y = _binary_data()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(1, kernel_regularizer=keras.regularizers.l2(1.0),
                                             kernel_initializer="ones")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse", metrics=["mse"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["mse"] + 4.0, rel=1e-5)


def test_deferred_sequential_trains():
    model = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = _binary_data()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.count_params() == 4 * 8 + 8 + 9


def test_steps_per_epoch_with_arrays_continues_where_the_last_epoch_stopped():
    """Keras: 4 batches of data and steps_per_epoch=2 train on (0, 1), then (2, 3), then (0, 1)."""
    x = np.arange(8, dtype="float32").reshape(8, 1)
    inputs = keras.Input((1,))
    model = keras.Model(inputs, layers.Lambda(lambda t: t, output_shape=(1,))(inputs))
    batches = []  # the samples each step sees, recorded by the loss

    def loss(y_true, y_pred):
        batches.append(y_pred[:, 0].tolist())
        return (y_pred - y_true).mean()

    model.compile(optimizer="sgd", loss=loss)
    model.fit(x, x, batch_size=2, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0)
    assert batches == [[0, 1], [2, 3], [4, 5], [6, 7], [0, 1], [2, 3]]


def test_class_weight_and_sample_weight_together_are_refused_as_keras_does():
    x, y = _binary_data()
    model = _binary_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(ValueError, match="class_weight and sample_weight cannot be given"):
        model.fit(x, y, class_weight={0: 2.0, 1: 1.0}, sample_weight=np.ones(len(y)), verbose=0)
    with pytest.raises(ValueError, match="class_weight and sample_weight cannot be given"):
        model.train_on_batch(x, y, class_weight={0: 2.0, 1: 1.0}, sample_weight=np.ones(len(y)))
