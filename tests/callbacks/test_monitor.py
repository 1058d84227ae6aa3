"""mode="auto": the expected directions and refusals were observed with Keras 3.15.1 on models
compiled and fitted the same way."""

import numpy as np
import pytest

import netknit as keras
from netknit.callbacks import EarlyStopping, ModelCheckpoint, MonitorCallback, ReduceLROnPlateau

X = np.random.default_rng(0).random((8, 4), dtype=np.float32)
Y = (X.sum(1, keepdims=True) > 2).astype("float32")


def mean_prediction(y_true, y_pred):
    return keras.ops.mean(y_pred, axis=-1)


class UserMean(keras.metrics.Mean):
    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_pred)


class UserLoss(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return keras.ops.mean(y_pred, axis=-1)


def fitted(metrics, outputs=1):
    inputs = keras.Input((4,))
    heads = [keras.layers.Dense(1, activation="sigmoid", name=f"out{i + 1}")(inputs)
             for i in range(outputs)]
    model = keras.Model(inputs, heads[0] if outputs == 1 else heads)
    model.compile("sgd", "binary_crossentropy", metrics=metrics)
    targets = Y if outputs == 1 else [Y] * outputs
    model.fit(X, targets, epochs=1, batch_size=8, verbose=0)
    return model


@pytest.fixture(scope="module")
def single_output():
    return fitted(["accuracy", "acc", "mae", "auc", "precision", "bce", "r2_score",
                   "false_negatives", "f1_score", mean_prediction, UserMean(name="user_mean"),
                   keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error, name="w_mse"),
                   keras.metrics.MeanMetricWrapper(keras.losses.Huber(), name="w_huber"),
                   keras.metrics.MeanMetricWrapper(UserLoss(), name="w_user_loss")])


def direction(model, monitor):
    callback = MonitorCallback(monitor)
    callback.set_model(model)
    try:
        callback._set_direction()
    except ValueError as error:
        assert "maximized or minimized" in str(error) and "mode='max'" in str(error)
        return "refused"
    return "max" if callback._maximize else "min"


@pytest.mark.parametrize("monitor, expected", [
    ("loss", "min"), ("val_loss", "min"), ("val_accuracy", "max"), ("acc", "max"),
    ("val_mae", "min"), ("val_auc", "max"), ("precision", "max"), ("val_bce", "min"),
    ("val_r2_score", "max"), ("val_f1_score", "max"), ("val_w_mse", "min"),
    ("val_w_huber", "min"),
    # Resolved by the compiled metric's own name and its `_direction` only: no guessing from
    # words in the name, and metrics without a direction are refused.
    ("val_mean_absolute_error", "refused"), ("val_lossy", "refused"), ("val_error", "refused"),
    ("val_false_negatives", "refused"), ("val_mean_prediction", "refused"),
    ("val_user_mean", "refused"), ("val_w_user_loss", "refused"), ("learning_rate", "refused"),
])
def test_auto_mode_of_a_compiled_metric(single_output, monitor, expected):
    assert direction(single_output, monitor) == expected


@pytest.mark.parametrize("monitor, expected", [
    ("val_loss", "min"),
    # The metric objects of a multi-output model keep their unprefixed names, so the logged key
    # is refused and the bare name (never logged) resolves, as in Keras.
    ("val_out1_accuracy", "refused"), ("val_accuracy", "max"), ("val_out2_mae", "refused"),
    ("val_mae", "min"), ("val_out1_loss", "refused"),
])
def test_auto_mode_with_several_outputs(monitor, expected):
    model = fitted({"out1": "accuracy", "out2": "mae"}, outputs=2)
    assert direction(model, monitor) == expected


def test_metric_directions():
    assert keras.metrics.AUC()._direction == "up"
    assert keras.metrics.RootMeanSquaredError()._direction == "down"
    assert keras.metrics.MeanSquaredError()._direction == "down"
    assert keras.metrics.CosineSimilarity()._direction == "up"
    assert not hasattr(keras.metrics.Mean(), "_direction")
    assert not hasattr(keras.metrics.TruePositives(), "_direction")
    assert not hasattr(keras.metrics.MeanMetricWrapper(mean_prediction), "_direction")


@pytest.mark.parametrize("make", [
    lambda path: EarlyStopping(monitor="val_nope"),
    lambda path: ReduceLROnPlateau(monitor="learning_rate"),
    lambda path: ModelCheckpoint(path, monitor="nope"),  # even without save_best_only
])
def test_unknown_direction_is_refused_at_the_first_epoch_end(tmp_path, make):
    callback = make(str(tmp_path / "m.keras"))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    with pytest.raises(ValueError, match="monitor='(val_nope|learning_rate|nope)'.*mode='max'"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[callback])


def test_explicit_mode_and_min_delta():
    callback = MonitorCallback("val_custom", mode="max", min_delta=-0.1)
    assert callback.min_delta == 0.1
    assert callback._is_improvement(1.2, 1.0) and not callback._is_improvement(1.05, 1.0)
    callback = MonitorCallback("val_custom", mode="min", min_delta=0.1)
    assert callback._is_improvement(0.8, 1.0) and not callback._is_improvement(0.95, 1.0)
    assert callback._is_improvement(5.0, None)
