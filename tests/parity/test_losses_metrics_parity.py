"""Losses and metrics against real Keras 3, live, on random data.

Every loss is compared in every reduction, with and without sample weights; every metric is fed
the same three batches (with and without sample weights) and its result compared after each.
Skipped when Keras is not installed.
"""

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from netknit import losses, metrics  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::SyntaxWarning")

BATCH = 6


def make_data(kind: str, rng: np.random.Generator):
    """(y_true, y_pred) for one kind of problem."""
    if kind == "binary":
        return (rng.integers(0, 2, (BATCH, 3)).astype("float32"),
                rng.uniform(0, 1, (BATCH, 3)).astype("float32"))
    if kind == "binary1":
        return (rng.integers(0, 2, (BATCH,)).astype("float32"),
                rng.uniform(0, 1, (BATCH, 1)).astype("float32"))
    if kind == "binary_logits":
        return (rng.integers(0, 2, (BATCH, 3)).astype("float32"),
                rng.normal(0, 3, (BATCH, 3)).astype("float32"))
    if kind == "categorical":
        probs = rng.uniform(0.01, 1, (BATCH, 5)).astype("float32")
        return (np.eye(5, dtype="float32")[rng.integers(0, 5, BATCH)],
                probs / probs.sum(-1, keepdims=True))
    if kind == "categorical_logits":
        return (np.eye(5, dtype="float32")[rng.integers(0, 5, BATCH)],
                rng.normal(0, 2, (BATCH, 5)).astype("float32"))
    if kind == "sparse":
        probs = rng.uniform(0.01, 1, (BATCH, 5)).astype("float32")
        return rng.integers(0, 5, (BATCH,)), probs / probs.sum(-1, keepdims=True)
    if kind == "sparse_col_float":
        return (rng.integers(0, 5, (BATCH, 1)).astype("float32"),
                rng.normal(0, 2, (BATCH, 5)).astype("float32"))
    if kind == "regression":
        return (rng.normal(0, 1, (BATCH, 4)).astype("float32"),
                rng.normal(0, 1.5, (BATCH, 4)).astype("float32"))
    if kind == "positive":
        return (rng.uniform(0, 1, (BATCH, 4)).astype("float32"),
                rng.uniform(0.01, 1, (BATCH, 4)).astype("float32"))
    if kind == "signed":
        return (rng.choice([-1.0, 1.0], (BATCH, 3)).astype("float32"),
                rng.normal(0, 1, (BATCH, 3)).astype("float32"))
    if kind == "binary_edges":  # predictions of exactly 0, 1 and on thresholds
        predictions = rng.choice([0.0, 1.0, 0.5, 0.25, 1 / 199, 2 / 6, 0.7], (BATCH, 3))
        return rng.integers(0, 2, (BATCH, 3)).astype("float32"), predictions.astype("float32")
    if kind == "mask":
        return (rng.integers(0, 2, (BATCH, 4, 4, 1)).astype("float32"),
                rng.uniform(0, 1, (BATCH, 4, 4, 1)).astype("float32"))
    if kind == "embeddings":
        # Label 2 occurs once: without itself, that embedding has no positive pair (loss 0).
        labels = np.concatenate([rng.integers(0, 2, BATCH - 1), [2]])
        embeddings = rng.normal(0, 1, (BATCH, 5)).astype("float32")
        return labels, embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    raise ValueError(kind)


LOSS_CASES = [
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {}, "binary1"),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary_logits"),
    ("BinaryFocalCrossentropy", {"gamma": 1.5, "apply_class_balancing": True}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True}, "binary_logits"),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.3},
     "categorical_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_col_float"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2},
     "sparse_col_float"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.5}, "regression"),
    ("LogCosh", {}, "regression"),
    ("KLDivergence", {}, "categorical"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "binary_logits"),
    ("Hinge", {}, "signed"),
    ("SquaredHinge", {}, "binary_logits"),
    ("CategoricalHinge", {}, "categorical_logits"),
    ("CosineSimilarity", {}, "regression"),
    ("Dice", {}, "binary"),
    ("Dice", {"axis": 1}, "binary"),
    ("Dice", {"axis": (1, 2, 3)}, "mask"),
    ("Tversky", {}, "binary"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": -1}, "binary"),
    ("Circle", {}, "embeddings"),
    ("Circle", {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}, "embeddings"),
    ("CategoricalGeneralizedCrossEntropy", {}, "sparse"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.2}, "sparse"),
]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean",
                                       "mean_with_sample_weight", None])
@pytest.mark.parametrize("class_name, kwargs, kind", LOSS_CASES)
def test_loss_matches_keras(class_name, kwargs, kind, reduction):
    rng = np.random.default_rng(len(class_name) + len(kwargs))
    y_true, y_pred = make_data(kind, rng)
    weights = rng.uniform(0, 2, (BATCH,)).astype("float32")
    ours = getattr(losses, class_name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, class_name)(reduction=reduction, **kwargs)
    for sample_weight in (None, weights):
        expected = np.asarray(theirs(y_true, y_pred, sample_weight=sample_weight))
        got = ours(torch.as_tensor(y_true), torch.as_tensor(y_pred), sample_weight=sample_weight)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("class_name, kwargs, kind", LOSS_CASES)
def test_loss_function_and_gradient_match_keras(class_name, kwargs, kind):
    rng = np.random.default_rng(7)
    y_true, y_pred = make_data(kind, rng)
    ours = getattr(losses, class_name)(**kwargs)
    theirs = getattr(keras.losses, class_name)(**kwargs)
    pred_ours = torch.tensor(y_pred, requires_grad=True)
    pred_theirs = torch.tensor(y_pred, requires_grad=True)
    ours(torch.as_tensor(y_true), pred_ours).backward()
    theirs(torch.as_tensor(y_true), pred_theirs).backward()
    np.testing.assert_allclose(pred_ours.grad.numpy(), pred_theirs.grad.numpy(), rtol=1e-4,
                               atol=1e-6)


METRIC_CASES = [
    ("Accuracy", {}, "sparse_col_float"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "binary1"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col_float"),
    ("TopKCategoricalAccuracy", {"k": 2}, "categorical"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.9]}, "binary"),
    ("Precision", {"top_k": 2}, "categorical"),
    ("Precision", {"class_id": 1}, "categorical"),
    ("Recall", {}, "binary1"),
    ("Recall", {"thresholds": 0.3, "class_id": 2}, "binary"),
    ("AUC", {}, "binary"),
    ("AUC", {"num_thresholds": 7}, "binary1"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "binary"),
    ("AUC", {"curve": "PRGAIN", "summation_method": "majoring"}, "binary"),
    ("AUC", {"from_logits": True, "thresholds": [0.1, 0.4, 0.5, 0.8]}, "binary_logits"),
    ("AUC", {"multi_label": True}, "binary"),
    ("AUC", {"multi_label": True, "label_weights": [0.2, 1.0, 0.5]}, "binary"),
    ("F1Score", {}, "categorical"),
    ("F1Score", {"average": "macro", "threshold": 0.3}, "categorical"),
    ("FBetaScore", {"average": "weighted", "beta": 2.0}, "categorical"),
    ("FBetaScore", {"average": "micro", "beta": 0.5, "threshold": 0.2}, "categorical"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("KLDivergence", {}, "categorical"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "signed"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    ("CategoricalCrossentropy", {"from_logits": True}, "categorical_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("PearsonCorrelation", {}, "regression"),
    ("ConcordanceCorrelation", {}, "regression"),
    ("PrecisionAtRecall", {"recall": 0.5}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 7}, "binary_edges"),
    ("RecallAtPrecision", {"precision": 0.6, "class_id": 1}, "binary"),
    ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 1}, "binary_edges"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "binary_edges"),
    ("SensitivityAtSpecificity", {"specificity": 0.7, "num_thresholds": 2}, "binary1"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.4, "num_thresholds": 11, "class_id": 2},
     "binary_edges"),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("class_name, kwargs, kind", METRIC_CASES)
def test_metric_matches_keras(class_name, kwargs, kind, weighted):
    rng = np.random.default_rng(len(class_name))
    ours = getattr(metrics, class_name)(**kwargs)
    theirs = getattr(keras.metrics, class_name)(**kwargs)
    for _ in range(3):
        y_true, y_pred = make_data(kind, rng)
        sample_weight = rng.uniform(0, 2, (BATCH,)).astype("float32") if weighted else None
        theirs.update_state(y_true, y_pred, sample_weight=sample_weight)
        ours.update_state(torch.as_tensor(y_true), torch.as_tensor(y_pred),
                          sample_weight=sample_weight)
        np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()),
                                   rtol=1e-5, atol=1e-6)
    ours.reset_state()
    theirs.reset_state()
    y_true, y_pred = make_data(kind, rng)
    theirs.update_state(y_true, y_pred)
    ours.update_state(y_true, y_pred)
    np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("class_name, kwargs, kind", LOSS_CASES)
def test_loss_config_matches_keras(class_name, kwargs, kind):
    ours = getattr(losses, class_name)(**kwargs).get_config()
    theirs = getattr(keras.losses, class_name)(**kwargs).get_config()
    # Keras leaves Huber's delta and CosineSimilarity's axis out of their configs; we keep them
    # so that from_config rebuilds the same loss.
    assert {k: v for k, v in ours.items() if k not in ("delta",) and k in theirs} == theirs
    assert set(ours) - set(theirs) <= {"delta", "axis"}


@pytest.mark.parametrize("class_name, kwargs, kind", METRIC_CASES)
def test_metric_config_matches_keras(class_name, kwargs, kind):
    ours = getattr(metrics, class_name)(name="m", **kwargs).get_config()
    theirs = getattr(keras.metrics, class_name)(name="m", **kwargs).get_config()
    if theirs.get("label_weights") is not None:
        np.testing.assert_allclose(ours.pop("label_weights"), np.asarray(theirs["label_weights"]))
        del theirs["label_weights"]
    # Keras leaves CosineSimilarity's axis out of its config; we keep it.
    assert {k: v for k, v in ours.items() if k in theirs} == theirs
    assert set(ours) - set(theirs) <= {"axis"}
