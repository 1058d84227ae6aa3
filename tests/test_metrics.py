"""Metrics: results after each batch checked against numbers computed with real Keras 3.15."""

import numpy as np
import pytest
import torch
from keras_cases import LOGITS, P_BIN, P_CAT, P_REG, WEIGHTS, Y_BIN, Y_CAT, Y_REG

from netknit import metrics


def results(metric, batches):
    out = []
    for batch in batches:
        metric.update_state(*batch)
        out.append(metric.result().numpy())
    return out


CASES = [
    (metrics.BinaryAccuracy(), [(Y_BIN, P_BIN), (Y_BIN, P_BIN, WEIGHTS)],
     [0.8333333730697632, 0.7777777910232544]),
    (metrics.CategoricalAccuracy(), [(Y_CAT, P_CAT), (Y_CAT, LOGITS, WEIGHTS)],
     [0.5, 0.7777777910232544]),
    (metrics.SparseCategoricalAccuracy(),
     [(torch.tensor([[1], [2]]), P_CAT), (torch.tensor([0, 0]), LOGITS, WEIGHTS)],
     [0.5, 0.2222222238779068]),
    (metrics.TopKCategoricalAccuracy(k=2), [(Y_CAT, P_CAT), (Y_CAT, LOGITS)], [1.0, 1.0]),
    (metrics.SparseTopKCategoricalAccuracy(k=2),
     [(np.array([1, 2]), P_CAT), (np.array([0, 2]), LOGITS)], [1.0, 0.75]),
    (metrics.Precision(), [(Y_BIN, P_BIN), (Y_BIN, P_BIN, WEIGHTS)],
     [0.75, 0.6666666865348816]),
    (metrics.Recall(thresholds=[0.5, 0.75]), [(Y_BIN, P_BIN), (Y_BIN, P_BIN, WEIGHTS)],
     [[1.0, 0.3333333432674408], [1.0, 0.25]]),
    (metrics.AUC(), [(Y_BIN, P_BIN), (Y_BIN, P_BIN, WEIGHTS)],
     [0.6666666269302368, 0.6000000238418579]),
    (metrics.AUC(curve="PR"), [(Y_BIN, P_BIN), (Y_BIN, P_BIN, WEIGHTS)],
     [0.5379018783569336, 0.45069384574890137]),
    (metrics.F1Score(), [(Y_CAT, P_CAT), (Y_CAT, LOGITS)],
     [[0.0, 0.666666567325592, 0.0], [0.0, 0.7999999523162842, 0.666666567325592]]),
    (metrics.F1Score(average="macro", threshold=0.5), [(Y_CAT, P_CAT)], [0.2222221940755844]),
    (metrics.RootMeanSquaredError(), [(Y_REG, P_REG), (Y_REG, P_REG * 2, WEIGHTS)],
     [1.0606601238250732, 1.3540064096450806]),
    (metrics.MeanSquaredError(), [(Y_REG, P_REG), (Y_REG, P_REG * 2, WEIGHTS)],
     [1.125, 1.8333333730697632]),
    (metrics.Mean(), [(np.array([1.0, 2.0, 3.0]),), (np.array([[4.0, 6.0]]), np.array([2.0]))],
     [2.0, 3.200000047683716]),
    (metrics.Sum(), [(np.array([1.0, 2.0, 3.0]),), (np.array([[4.0, 6.0]]), np.array([2.0]))],
     [6.0, 26.0]),
    (metrics.CategoricalCrossentropy(from_logits=True), [(Y_CAT, LOGITS, WEIGHTS)],
     [0.09858957678079605]),
]


@pytest.mark.parametrize("metric, batches, expected", CASES, ids=lambda v: getattr(v, "name", ""))
def test_results_match_keras(metric, batches, expected):
    metric.reset_state()
    got = results(metric, batches)
    for value, want in zip(got, expected):
        np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-7)
    metric.reset_state()
    assert all(float(v.abs().sum()) == 0 for v in metric.variables)


def test_reset_state_starts_again():
    metric = metrics.BinaryAccuracy()
    metric.update_state(Y_BIN, P_BIN)
    metric.reset_state()
    metric.update_state(torch.tensor([[1.0]]), torch.tensor([[0.9]]))
    assert float(metric.result()) == 1.0


def test_results_are_tensors_and_state_is_updated_in_place():
    metric = metrics.Mean()
    total = metric.total
    metric.update_state(torch.tensor([1.0, 3.0]))
    assert metric.total is total
    assert isinstance(metric.result(), torch.Tensor) and metric.result().dim() == 0


def test_default_names_follow_keras():
    assert metrics.BinaryAccuracy().name == "binary_accuracy"
    assert metrics.RootMeanSquaredError().name == "root_mean_squared_error"
    assert metrics.Precision().name == "precision"
    assert metrics.Precision().name == "precision_1"
    assert metrics.AUC().name == "auc"
    assert metrics.LogCoshError().name == "logcosh"
    assert metrics.FBetaScore().name == "fbeta_score"


def test_get_gives_an_instance_under_its_default_name():
    # As Keras's metrics.get: compile, not get, names a metric after the string it was given.
    for name, cls, default in [
            ("mae", metrics.MeanAbsoluteError, "mean_absolute_error"),
            ("mean_absolute_error", metrics.MeanAbsoluteError, "mean_absolute_error"),
            ("MeanSquaredError", metrics.MeanSquaredError, "mean_squared_error"),
            ("accuracy", metrics.Accuracy, "accuracy"),
            ("binary_accuracy", metrics.BinaryAccuracy, "binary_accuracy"),
            ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy,
             "top_k_categorical_accuracy")]:
        metric = metrics.get(name)
        assert type(metric) is cls and metric.name == default
    # Classes named automatically take the next free name, as Keras's do.
    first, second = metrics.get("precision"), metrics.get("Precision")
    assert type(second) is metrics.Precision
    assert second.name.startswith("precision_") and second.name != first.name
    assert isinstance(metrics.get(metrics.AUC), metrics.AUC)
    assert metrics.get(None) is None
    recall = metrics.Recall()
    assert metrics.get(recall) is recall
    with pytest.raises(ValueError, match="Unknown metric: 'acc'"):
        metrics.get("acc")  # only compile knows "acc"
    with pytest.raises(ValueError, match="Could not interpret metric identifier.*Received: 3"):
        metrics.get(3)


def test_get_returns_a_plain_function_as_it_is():
    def mean_error(y_true, y_pred):
        return (y_pred - y_true).abs().mean(-1)

    assert metrics.get(mean_error) is mean_error


@pytest.mark.parametrize("name, suggestion", [
    ("accuracyy", "accuracy"), ("precission", "precision"), ("mse2", "mse"),
])
def test_unknown_names_suggest_the_nearest(name, suggestion):
    with pytest.raises(ValueError, match=f"Did you mean '{suggestion}'") as info:
        metrics.get(name)
    assert "binary_accuracy" in str(info.value)


def test_invalid_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="thresholds=1.5"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="average='avg'"):
        metrics.F1Score(average="avg")
    with pytest.raises(ValueError, match="Use k <= 3"):
        metrics.TopKCategoricalAccuracy(k=5).update_state(Y_CAT, P_CAT)


@pytest.mark.parametrize("metric", [
    metrics.BinaryAccuracy(threshold=0.3), metrics.Precision(thresholds=[0.2, 0.6], class_id=1),
    metrics.AUC(curve="PR", num_thresholds=50, from_logits=True), metrics.F1Score("macro"),
    metrics.FBetaScore(beta=2.0), metrics.SparseTopKCategoricalAccuracy(k=3),
    metrics.CategoricalCrossentropy(label_smoothing=0.1), metrics.get("mae"),
])
def test_config_round_trip(metric):
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert type(rebuilt) is type(metric)
    assert rebuilt.get_config() == metric.get_config()


def test_config_keys_are_keras_keys():
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False,
    }
    assert metrics.Precision().get_config() == {
        "name": "precision", "dtype": "float32", "thresholds": None, "top_k": None,
        "class_id": None,
    }
    assert metrics.SparseTopKCategoricalAccuracy().get_config() == {
        "name": "sparse_top_k_categorical_accuracy", "dtype": "float32", "k": 5,
    }


CONFUSION_Y = np.array([0, 1, 1, 1, 0, 0])
CONFUSION_P = np.array([0.2, 0.7, 0.4, 0.9, 0.6, 0.1])
CONFUSION_W = np.array([1, 2, 1, 1, 0.5, 1.0])


@pytest.mark.parametrize("name, plain, weighted, at_thresholds", [
    # Keras 3.15.1's results: one batch, the same batch again weighted, thresholds 0.3/0.5/0.8.
    ("TruePositives", 2.0, 5.0, [3.0, 2.0, 1.0]),
    ("FalsePositives", 1.0, 1.5, [1.0, 1.0, 0.0]),
    ("TrueNegatives", 2.0, 4.0, [2.0, 2.0, 3.0]),
    ("FalseNegatives", 1.0, 2.0, [0.0, 1.0, 2.0]),
])
def test_confusion_counts_as_keras(name, plain, weighted, at_thresholds):
    cls = getattr(metrics, name)
    metric = cls()
    metric.update_state(CONFUSION_Y, CONFUSION_P)
    assert float(metric.result()) == plain
    metric.update_state(CONFUSION_Y, CONFUSION_P, sample_weight=CONFUSION_W)
    assert float(metric.result()) == weighted
    several = cls(thresholds=[0.3, 0.5, 0.8])
    several.update_state(CONFUSION_Y, CONFUSION_P)
    assert several.result().tolist() == at_thresholds
    assert metric.get_config()["thresholds"] is None
    assert type(metrics.get(name)) is cls


def test_r2_score_as_keras():
    y_true, y_pred = np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([[1.1], [1.9], [3.2], [3.7]])
    score = metrics.R2Score()
    score.update_state(y_true, y_pred)
    assert float(score.result()) == pytest.approx(0.97)
    adjusted = metrics.R2Score(num_regressors=1)
    adjusted.update_state(y_true, y_pred)
    assert float(adjusted.result()) == pytest.approx(0.955)
    per_output = metrics.R2Score(class_aggregation=None)
    per_output.update_state(np.array([[1.0, 2], [2, 1], [3, 5]]),
                            np.array([[1.1, 2], [1.9, 1.5], [3.2, 4]]),
                            sample_weight=np.array([1, 2, 1.0]))
    np.testing.assert_allclose(per_output.result().numpy(), [0.965, 0.8604651], rtol=1e-6)
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="median")


def test_r2_score_counts_values_and_constant_targets_as_keras():
    # Keras 3.15.1: the adjusted score's n is the number of values (samples times outputs), and
    # an output whose targets never vary scores 0.
    y_true = np.array([[1.0, 0.5], [2.0, 0.1], [3.0, 0.9], [4.0, 0.3]])
    y_pred = np.array([[1.1, 0.4], [1.9, 0.3], [3.2, 0.8], [3.7, 0.2]])
    for regressors, expected in ((1, 0.8658333420753479), (6, 0.19499993324279785)):
        score = metrics.R2Score(num_regressors=regressors)
        score.update_state(y_true, y_pred)
        assert float(score.result()) == pytest.approx(expected, rel=1e-6)
    assert [v.path for v in score.variables] == [
        f"{score.name}/{n}" for n in ("num_samples", "squared_sum", "sum", "residual", "count")]
    with pytest.warns(UserWarning, match="num_regressors=7 and 8 values"):
        too_many = metrics.R2Score(num_regressors=7)
        too_many.update_state(y_true, y_pred)
        too_many.result()
    constant = metrics.R2Score(class_aggregation=None)
    constant.update_state(np.stack([y_true[:, 0], np.ones(4)], 1), y_pred)
    np.testing.assert_allclose(constant.result().numpy(), [0.97, 0.0], rtol=1e-6)


def test_iou_metrics_as_keras():
    labels, predicted = [0, 1, 2, 2, 1], [0, 2, 2, 1, 1]
    mean_iou = metrics.MeanIoU(num_classes=3)
    mean_iou.update_state(labels, predicted)
    assert float(mean_iou.result()) == pytest.approx(0.555556, abs=1e-6)  # Keras 3.15.1
    mean_iou.update_state([0, 0, 1], [0, 1, 1], sample_weight=[2, 1, 1])
    assert float(mean_iou.result()) == pytest.approx(0.494444, abs=1e-6)
    some = metrics.IoU(num_classes=3, target_class_ids=[0, 2])
    some.update_state(labels, predicted)
    assert float(some.result()) == pytest.approx(0.666667, abs=1e-6)
    binary = metrics.BinaryIoU()
    binary.update_state([0, 1, 0, 1], [0.2, 0.7, 0.6, 0.4])
    assert float(binary.result()) == pytest.approx(1 / 3, abs=1e-6)
    one_hot = metrics.OneHotMeanIoU(num_classes=3)
    one_hot.update_state(np.eye(3), np.array([[.8, .1, .1], [.2, .3, .5], [.1, .1, .8]]))
    assert float(one_hot.result()) == pytest.approx(0.5, abs=1e-6)
    ignoring = metrics.MeanIoU(num_classes=3, ignore_class=1)
    ignoring.update_state(labels, predicted)
    assert float(ignoring.result()) == pytest.approx(0.5, abs=1e-6)
    absent = metrics.MeanIoU(num_classes=4)  # classes 2 and 3 never occur: not averaged in
    absent.update_state([0, 1], [0, 1])
    assert float(absent.result()) == pytest.approx(1.0, abs=1e-6)
    assert mean_iou.get_config() == {"name": "mean_io_u", "dtype": "int32", "num_classes": 3,
                                     "ignore_class": None, "sparse_y_true": True,
                                     "sparse_y_pred": True, "axis": -1}
    with pytest.raises(ValueError, match=r"Target class id 3 is out of range"):
        metrics.IoU(num_classes=3, target_class_ids=[3])


def test_correlations_as_keras():
    pearson = metrics.PearsonCorrelation()
    assert results(pearson, [(Y_REG, P_REG), (Y_BIN, P_BIN, WEIGHTS)]) == pytest.approx(
        [0.0, 0.17024417221546173], abs=1e-6)
    y_true, y_pred = torch.tensor([[0.0, 1, 1], [1, 0, 1]]), torch.tensor([[0.1, 0.8, 0.6],
                                                                          [0.7, 0.2, 0.9]])
    concordance = metrics.ConcordanceCorrelation()
    assert results(concordance, [(y_true, y_pred), (Y_REG, P_REG, WEIGHTS)]) == pytest.approx(
        [0.8215712308883667, 0.5793569684028625], abs=1e-6)
    np.testing.assert_allclose(metrics.pearson_correlation(y_true, y_pred).numpy(),
                               [0.9607688784599304, 0.96076899766922], rtol=1e-6)
    np.testing.assert_allclose(metrics.concordance_correlation(y_true, y_pred).numpy(),
                               [0.792078971862793, 0.8510635495185852], rtol=1e-6)
    assert concordance.get_config() == {"name": "concordance_correlation", "dtype": "float32",
                                        "axis": -1}
    assert type(metrics.get("pearson_correlation")) is metrics.PearsonCorrelation


@pytest.mark.parametrize("name, kwargs, expected", [
    # Keras 3.15.1's results after one batch, then the same batch again weighted.
    ("PrecisionAtRecall", {"recall": 0.6}, [1.0, 1.0]),
    ("RecallAtPrecision", {"precision": 0.8}, [0.6666666865348816, 1.0]),
    ("SensitivityAtSpecificity", {"specificity": 0.6}, [1.0, 1.0]),
    ("SpecificityAtSensitivity", {"sensitivity": 0.9}, [0.6666666865348816, 0.7272727489471436]),
    ("PrecisionAtRecall", {"recall": 0.6, "num_thresholds": 1},
     [0.6666666865348816, 0.7692307829856873]),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 3},
     [0.6666666865348816, 0.7272727489471436]),
])
def test_rates_at_a_constraint_as_keras(name, kwargs, expected):
    metric = getattr(metrics, name)(**kwargs)
    got = results(metric, [(CONFUSION_Y, CONFUSION_P), (CONFUSION_Y, CONFUSION_P, CONFUSION_W)])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    value_name, value = next(iter(kwargs.items()))
    assert metric.get_config() == {"name": metric.name, "dtype": "float32", "class_id": None,
                                   "num_thresholds": kwargs.get("num_thresholds", 200),
                                   value_name: value}
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert type(rebuilt) is type(metric) and rebuilt.get_config() == metric.get_config()


def test_rates_at_a_constraint_check_their_arguments():
    with pytest.raises(ValueError, match="recall=1.5"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="num_thresholds=0"):
        metrics.SensitivityAtSpecificity(0.5, num_thresholds=0)
    assert metrics.SpecificityAtSensitivity(0.5).name.startswith("specificity_at_sensitivity")


class TruePositives(metrics.Metric):
    """The custom metric of Keras's training guide, with in-place updates for `assign_add`."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")
        self.ones = self.add_weight(shape=(2,), initializer="ones", name="ones")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = torch.as_tensor(y_true).reshape(-1) == torch.as_tensor(y_pred).argmax(1)
        self.true_positives.add_(hits.float().sum())

    def result(self):
        return self.true_positives


def test_add_variable_takes_keras_s_arguments():
    metric = TruePositives()
    assert metric.ones.tolist() == [1.0, 1.0] and len(metric.variables) == 2
    metric.update_state([0, 1], [[0.9, 0.1], [0.8, 0.2]])
    assert float(metric.result()) == 1.0
    metric.reset_state()  # zeros every variable, as Keras's reset_state
    assert float(metric.result()) == 0.0 and metric.ones.tolist() == [0.0, 0.0]


def test_state_kept_under_another_attribute_follows_the_metric_to_a_device():
    metric = TruePositives()
    kept = metric.true_positives
    metric._on_device_of(torch.zeros(1, device="meta"))
    assert metric.true_positives.device.type == "meta" and kept.device.type == "cpu"
