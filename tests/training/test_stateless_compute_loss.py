"""Model.compute_loss / stateless_compute_loss / metrics_variables, as in Keras 3.15.1."""

import inspect

import numpy as np
import torch

import netknit as keras


def _compiled():
    inputs = keras.Input((3,))
    dense = keras.layers.Dense(2, kernel_initializer="ones",
                               kernel_regularizer=keras.regularizers.L2(0.1), name="d")
    model = keras.Model(inputs, dense(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


X, Y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")


def test_compute_loss_before_fit_adds_penalties():
    model = _compiled()
    # mse 9.0 plus 0.1 * the kernel's six squared ones: Keras gives 9.6.
    loss = model.compute_loss(X, Y, model(X)).detach()
    np.testing.assert_allclose(loss.numpy(), 9.6, rtol=1e-6)


def test_stateless_compute_loss_uses_given_values_and_changes_nothing():
    model = _compiled()
    y_pred = model(X)
    model.compute_metrics(X, Y, y_pred)
    assert [v.path for v in model.metrics_variables] == [
        "loss/total", "loss/count", "mean_absolute_error/total", "mean_absolute_error/count"]
    zeros = [torch.zeros_like(v) for v in model.trainable_variables]
    metric_values = [v.detach().clone() for v in model.metrics_variables]
    loss, (trainable, non_trainable, metrics) = model.stateless_compute_loss(
        zeros, [], metric_values, x=X, y=Y, y_pred=y_pred)
    assert float(loss.detach()) == 9.0  # the penalty reads the given (zero) kernel
    assert trainable is zeros and non_trainable == [] and len(metrics) == 4
    assert np.asarray(model.layers[1].kernel).sum() == 6.0
    assert list(inspect.signature(model.stateless_compute_loss).parameters) == [
        "trainable_variables", "non_trainable_variables", "metrics_variables", "x", "y",
        "y_pred", "sample_weight", "training"]
