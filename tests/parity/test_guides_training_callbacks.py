"""Keras's guides "Training & evaluation with the built-in methods" and "Writing your own
callbacks", run on netknit: what differed from Keras 3 (torch backend) when both ran them.

The numbers were observed with Keras 3.15.1; the live checks skip when Keras is absent.
"""

import sys
import warnings

import numpy as np
import pytest

import netknit
from netknit.callbacks import tensorboard as tensorboard_module

X = np.linspace(-1, 1, 48, dtype="float32").reshape(12, 4)
LABELS = np.array([0, 1, 2, 1, 0, 2, 2, 1, 0, 1, 2, 0], dtype="float32")


def classifier(keras, metrics, loss="sparse_categorical_crossentropy"):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.set_weights([np.linspace(-0.5, 0.5, 12, dtype="float32").reshape(4, 3),
                       np.zeros(3, "float32")])
    model.compile("sgd", loss, metrics=metrics)
    return model


def test_class_weight_reads_float_labels_as_class_indices():
    # The guide's MNIST labels are float32 (5.0 is class 5), and Keras rounds them.
    history = classifier(netknit, ["sparse_categorical_accuracy"]).fit(
        X, LABELS, batch_size=4, shuffle=False, verbose=0, class_weight={0: 1.0, 1: 3.0, 2: 0.5})
    np.testing.assert_allclose(history.history["loss"], [1.672002911567688], rtol=1e-6)
    np.testing.assert_allclose(history.history["sparse_categorical_accuracy"], [1 / 3])


def _preloaded_mae(keras):
    metric = keras.metrics.MeanAbsoluteError()
    metric.update_state(np.full((4, 1), 100.0), np.zeros((4, 1)))
    return metric


def test_a_metric_object_starts_from_zero_in_each_run():
    onehot = np.eye(3, dtype="float32")[LABELS.astype(int)]
    metric = _preloaded_mae(netknit)
    model = classifier(netknit, [metric], loss="categorical_crossentropy")
    assert model.evaluate(X, onehot, verbose=0, return_dict=True)["mean_absolute_error"] == (
        pytest.approx(0.4442470371723175, rel=1e-6))
    # Compiling again without metrics keeps that object, which again starts from zero.
    metric.update_state(np.full((4, 1), 100.0), np.zeros((4, 1)))
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(X, onehot, batch_size=4, shuffle=False, verbose=0)
    fresh = classifier(netknit, ["mean_absolute_error"], loss="categorical_crossentropy")
    expected = fresh.fit(X, onehot, batch_size=4, shuffle=False, verbose=0)
    assert history.history["mean_absolute_error"] == pytest.approx(
        expected.history["mean_absolute_error"])


def _hook_calls(keras):
    """Each hook's positional argument count and keyword names, on a recorder whose hooks take
    anything; and what a callback added to the epoch logs, as later hooks see it."""
    calls = []

    class Recorder(keras.callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                return lambda *args, **kwargs: calls.append((name, len(args), sorted(kwargs)))
            return super().__getattribute__(name)

    class AddsToLogs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["added"] = 1.0

        def on_train_end(self, logs=None):
            calls.append(("train_end keys", sorted(logs)))

    model = classifier(keras, ["sparse_categorical_accuracy"])
    history = model.fit(X, LABELS, batch_size=6, shuffle=False, verbose=0,
                        validation_data=(X[:6], LABELS[:6]),
                        callbacks=[Recorder(), AddsToLogs()])
    model.predict(X, batch_size=6, verbose=0, callbacks=[Recorder()])
    return calls, sorted(history.history)


NETKNIT_CALLS = [
    ("on_train_begin", 1, []), ("on_epoch_begin", 2, []),
    ("on_train_batch_begin", 1, ["logs"]), ("on_train_batch_end", 1, ["logs"]),
    ("on_train_batch_begin", 1, ["logs"]), ("on_train_batch_end", 1, ["logs"]),
    ("on_test_begin", 1, []), ("on_test_batch_begin", 1, ["logs"]),
    ("on_test_batch_end", 1, ["logs"]), ("on_test_end", 1, []), ("on_epoch_end", 2, []),
    ("on_train_end", 1, []),
    # A key added at the end of an epoch stays in that epoch's logs (History records it).
    ("train_end keys", ["loss", "sparse_categorical_accuracy", "val_loss",
                        "val_sparse_categorical_accuracy"]),
    ("on_predict_begin", 1, []), ("on_predict_batch_begin", 1, ["logs"]),
    ("on_predict_batch_end", 1, ["logs"]), ("on_predict_batch_begin", 1, ["logs"]),
    ("on_predict_batch_end", 1, ["logs"]), ("on_predict_end", 1, []),
]


def test_batch_hooks_get_logs_by_keyword_and_hooks_get_their_own_logs():
    calls, history_keys = _hook_calls(netknit)
    assert calls == NETKNIT_CALLS
    assert history_keys == ["added", "loss", "sparse_categorical_accuracy", "val_loss",
                            "val_sparse_categorical_accuracy"]


def test_hook_calls_as_keras_makes_them(real_keras):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _hook_calls(netknit) == _hook_calls(real_keras)


def test_tensorboard_is_made_without_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    callback = netknit.callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=0,
                                             embeddings_freq=0, update_freq="epoch")
    assert callback.update_freq == "epoch"
    with pytest.raises(ImportError, match="pip install tensorboard"):
        tensorboard_module.TensorBoard(log_dir=tmp_path).set_model(classifier(netknit, None))


def test_missing_gradients_warning_names_the_variables():
    inputs = netknit.Input((4,))
    hidden = netknit.layers.Dense(2, name="hidden")(inputs)
    outputs = [netknit.layers.Dense(1, name="score")(hidden),
               netknit.layers.Dense(3, name="label")(hidden)]
    model = netknit.Model(inputs, outputs)
    model.compile("sgd", loss=[None, "mse"])
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables "
                                         r"\['score/kernel', 'score/bias'\] when minimizing"):
        model.fit(X, [X[:, :1], X[:, :3]], batch_size=12, verbose=0)
