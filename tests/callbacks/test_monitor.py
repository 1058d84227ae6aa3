import pytest

from netknit.callbacks import MonitorCallback


class Metric:
    def __init__(self, name, direction):
        self.name = name
        self._direction = direction


class Container:
    def __init__(self, metrics):
        self.metrics = metrics


class ModelWithMetrics:
    def __init__(self, metrics):
        self.metrics = metrics


@pytest.mark.parametrize("monitor, maximize", [
    ("val_loss", False), ("loss", False), ("output_a_loss", False), ("val_accuracy", True),
    ("acc", True), ("auc", True), ("val_precision", True), ("recall", True), ("f1_score", True),
    ("mean_io_u", True), ("r2_score", True), ("mae", False), ("val_mean_squared_error", False),
    ("kl_divergence", False), ("categorical_crossentropy", False),
])
def test_auto_mode_from_the_name(monitor, maximize):
    callback = MonitorCallback(monitor)
    callback._set_direction()
    assert callback._maximize is maximize


def test_auto_mode_prefers_the_model_metric_direction():
    callback = MonitorCallback("val_custom")
    callback.set_model(ModelWithMetrics([Container([Metric("custom", "up")])]))
    callback._set_direction()
    assert callback._maximize is True


def test_unknown_direction_asks_for_a_mode():
    callback = MonitorCallback("val_custom")
    with pytest.raises(ValueError, match="Pass mode='max'"):
        callback._set_direction()


def test_explicit_mode_and_min_delta():
    callback = MonitorCallback("val_custom", mode="max", min_delta=-0.1)
    assert callback.min_delta == 0.1
    assert callback._is_improvement(1.2, 1.0) and not callback._is_improvement(1.05, 1.0)
    callback = MonitorCallback("val_custom", mode="min", min_delta=0.1)
    assert callback._is_improvement(0.8, 1.0) and not callback._is_improvement(0.95, 1.0)
    assert callback._is_improvement(5.0, None)
