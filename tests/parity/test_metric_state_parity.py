"""Every metric class against real Keras 3: its `_direction` (what mode="auto" reads) and its
state variables' paths, shapes and order, before and after an update. Skipped without Keras."""

import inspect
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from netknit import metrics  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ARGUMENTS = {
    "IoU": {"num_classes": 3, "target_class_ids": [0, 1]}, "MeanIoU": {"num_classes": 3},
    "OneHotIoU": {"num_classes": 3, "target_class_ids": [0, 1]},
    "OneHotMeanIoU": {"num_classes": 3}, "PrecisionAtRecall": {"recall": 0.5},
    "RecallAtPrecision": {"precision": 0.5}, "SensitivityAtSpecificity": {"specificity": 0.5},
    "SpecificityAtSensitivity": {"sensitivity": 0.5},
    "TopKCategoricalAccuracy": {"k": 2}, "SparseTopKCategoricalAccuracy": {"k": 2},
}
rng = np.random.default_rng(0)
LABELS = rng.integers(0, 3, (6,))
BINARY = (rng.integers(0, 2, (6, 3)).astype("float32"), rng.uniform(0, 1, (6, 3)).astype("float32"))
SPARSE = (LABELS, rng.uniform(0, 1, (6, 3)).astype("float32"))
ONE_HOT = (np.eye(3, dtype="float32")[LABELS], SPARSE[1])
DATA = {"IoU": (LABELS, LABELS), "MeanIoU": (LABELS, LABELS), "OneHotIoU": ONE_HOT,
        "OneHotMeanIoU": ONE_HOT, "SparseCategoricalAccuracy": SPARSE,
        "SparseCategoricalCrossentropy": SPARSE, "SparseTopKCategoricalAccuracy": SPARSE}
CLASSES = sorted(name for name, value in vars(keras.metrics).items()
                 if inspect.isclass(value) and name not in ("Metric", "MeanMetricWrapper"))


def state(metric):
    # The part of the path after the metric's name: the counter of automatic names is global.
    return [(v.path.split("/", 1)[1], tuple(v.shape)) for v in metric.variables]


def update(metric, name):
    y_true, y_pred = DATA.get(name, BINARY)
    if name in ("Mean", "Sum"):
        metric.update_state(y_pred)
    else:
        metric.update_state(y_true, y_pred)


@pytest.mark.parametrize("name", CLASSES)
def test_direction_and_variables_match_keras(name):
    theirs = getattr(keras.metrics, name)(**ARGUMENTS.get(name, {}))
    ours = getattr(metrics, name)(**ARGUMENTS.get(name, {}))
    assert getattr(ours, "_direction", None) == getattr(theirs, "_direction", None)
    assert state(ours) == state(theirs)
    update(theirs, name)
    update(ours, name)
    assert state(ours) == state(theirs)
