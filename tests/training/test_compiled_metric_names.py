"""Names of compiled metrics, as Keras 3.15.1 gives them: a metric given by a string is made
under its class's automatic name first (taking it up), then named after the string."""

import numpy as np

import netknit as keras

X = np.random.default_rng(0).random((8, 4), dtype=np.float32)
Y = (X.sum(1, keepdims=True) > 2).astype("float32")


def number(name: str) -> int:
    """The counter in an automatic name: 0 for "precision", 3 for "precision_3"."""
    head, _, tail = name.rpartition("_")
    return int(tail) if head and tail.isdigit() else 0


def mean_prediction(y_true, y_pred):
    return keras.ops.mean(y_pred, axis=-1)


def test_a_string_metric_takes_up_the_automatic_name():
    n = number(keras.metrics.Precision().name)
    m = number(keras.metrics.MeanMetricWrapper(mean_prediction).name)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    # Keras: the object is precision_{n+1}; the string's metric is made as precision_{n+2} and
    # renamed "precision"; the function is wrapped as a mean_metric_wrapper, then renamed.
    model.compile("sgd", "binary_crossentropy",
                  metrics=[keras.metrics.Precision(), "precision", mean_prediction])
    history = model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert sorted(history.history) == sorted(
        ["loss", "precision", f"precision_{n + 1}", "mean_prediction"])
    assert keras.metrics.Precision().name == f"precision_{n + 3}"
    assert keras.metrics.MeanMetricWrapper(mean_prediction).name == f"mean_metric_wrapper_{m + 2}"
    compiled = model.metrics[1].metrics
    assert [type(metric).__name__ for metric in compiled] == [
        "Precision", "Precision", "MeanMetricWrapper"]
    # The variables keep the path of the name they were made under, as in Keras.
    assert compiled[1].variables[0].path == f"precision_{n + 2}/true_positives"
