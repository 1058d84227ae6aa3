"""Losses: values checked against numbers computed with real Keras 3.15 (torch backend)."""

import numpy as np
import pytest
import torch
from keras_cases import LOGITS, P_BIN, P_CAT, P_REG, WEIGHTS, Y_BIN, Y_CAT, Y_REG

from netknit import losses


def close(value, expected):
    np.testing.assert_allclose(np.asarray(value), expected, rtol=1e-6, atol=1e-7)


def test_binary_crossentropy_clips_probabilities_and_reduces_like_keras():
    close(losses.BinaryCrossentropy()(Y_BIN, P_BIN), 2.8935887813568115)
    close(losses.BinaryCrossentropy()(Y_BIN, P_BIN, sample_weight=WEIGHTS), 5.57734489440918)
    close(losses.BinaryCrossentropy(label_smoothing=0.2)(Y_BIN, P_BIN), 2.7315919399261475)
    close(losses.BinaryCrossentropy(from_logits=True)(Y_BIN, LOGITS), 0.9641603231430054)
    close(losses.binary_crossentropy(Y_BIN, P_BIN), [0.27977654337882996, 5.507400989532471])


@pytest.mark.parametrize("reduction, expected", [
    ("sum_over_batch_size", 5.57734489440918),
    ("mean", 5.57734489440918),
    ("sum", 11.15468978881836),
    ("mean_with_sample_weight", 4.461875915527344),
    (None, [0.5 * 0.27977654337882996, 2.0 * 5.507400989532471]),
    ("none", [0.5 * 0.27977654337882996, 2.0 * 5.507400989532471]),
])
def test_reductions(reduction, expected):
    loss = losses.BinaryCrossentropy(reduction=reduction)
    close(loss(Y_BIN, P_BIN, sample_weight=WEIGHTS), expected)


def test_categorical_and_sparse_crossentropy():
    close(losses.CategoricalCrossentropy()(Y_CAT, P_CAT), 1.1769392490386963)
    close(losses.CategoricalCrossentropy(label_smoothing=0.1)(Y_CAT, P_CAT), 1.459135890007019)
    close(losses.CategoricalCrossentropy(from_logits=True)(Y_CAT, LOGITS), 0.16895274817943573)
    close(losses.SparseCategoricalCrossentropy()(torch.tensor([1, 2]), P_CAT), 1.1769392490386963)
    column_of_floats = torch.tensor([[1.0], [2.0]])
    close(losses.SparseCategoricalCrossentropy()(column_of_floats, P_CAT), 1.1769392490386963)
    close(losses.SparseCategoricalCrossentropy(from_logits=True)(
        np.array([1, 2]), LOGITS, sample_weight=WEIGHTS), 0.12323696911334991)


def test_sparse_ignore_class_is_left_out_of_the_average():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    logits = torch.cat([LOGITS, LOGITS[:1]])
    close(loss(torch.tensor([1, 2, 0]), logits), 2.036224603652954)


@pytest.mark.parametrize("name, expected", [
    ("MeanSquaredError", 1.125),
    ("MeanAbsoluteError", 1.0),
    ("MeanAbsolutePercentageError", 70.83333587646484),
    ("LogCosh", 0.4607791304588318),
    ("Huber", 0.53125),
    ("CosineSimilarity", -0.855952262878418),
    ("Hinge", 0.375),
    ("SquaredHinge", 0.5625),
    ("CategoricalHinge", 0.0),
])
def test_regression_and_hinge_losses(name, expected):
    close(getattr(losses, name)()(Y_REG, P_REG), expected)


def test_other_losses():
    close(losses.MeanSquaredLogarithmicError()(Y_REG.abs(), P_REG.abs()), 0.09492923319339752)
    close(losses.Poisson()(Y_REG.abs(), P_REG.abs()), 0.8020600080490112)
    close(losses.KLDivergence()(Y_CAT, P_CAT), 1.1769371032714844)
    close(losses.Hinge()(Y_BIN, LOGITS), 1.0833333730697632)  # {0, 1} labels become {-1, 1}
    close(losses.Huber(delta=0.5, reduction=None)(Y_REG, P_REG), [0.25, 0.5])
    close(losses.BinaryFocalCrossentropy(gamma=2.0)(Y_BIN, P_BIN), 2.679187059402466)


def test_labels_of_rank_one_meet_predictions_of_shape_batch_by_one():
    loss = losses.MeanSquaredError(reduction=None)
    close(loss(torch.tensor([1.0, 2.0]), torch.tensor([[0.0], [0.5]])), [1.0, 2.25])


def test_gradient_flows_from_logits():
    logits = LOGITS.clone().requires_grad_(True)
    losses.CategoricalCrossentropy(from_logits=True)(Y_CAT, logits).backward()
    expected = (torch.softmax(LOGITS, -1) - Y_CAT) / 2
    close(logits.grad, expected.numpy())


def test_get_resolves_names_aliases_classes_and_callables():
    # As in Keras: a function's name or alias gives the function itself, a class name an
    # instance, and a callable comes back as it is (compile wraps functions).
    assert losses.get(None) is None
    assert losses.get("mse") is losses.get("MSE") is losses.mean_squared_error
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    assert losses.get("categorical_crossentropy") is losses.categorical_crossentropy
    loss = losses.BinaryCrossentropy()
    assert losses.get(loss) is loss

    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().sum(-1)

    assert losses.get(my_loss) is my_loss
    from_dict = losses.get({"class_name": "BinaryCrossentropy", "config": {"from_logits": True}})
    assert from_dict.from_logits is True
    close(losses.get("MeanSquaredError")(Y_REG, P_REG, sample_weight=WEIGHTS),
          (0.625 * 0.5 + 1.625 * 2) / 2)
    with pytest.raises(ValueError, match="Could not interpret loss identifier.*Received: 3"):
        losses.get(3)


@pytest.mark.parametrize("name, suggestion", [
    ("mse2", "mse"), ("categorical_crossentropyy", "categorical_crossentropy"),
])
def test_unknown_names_suggest_the_nearest(name, suggestion):
    with pytest.raises(ValueError, match=f"Did you mean '{suggestion}'") as info:
        losses.get(name)
    assert "mean_absolute_error" in str(info.value)


def test_invalid_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="reduction='avg'"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing=1.5"):
        losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(torch.tensor([1, 2]), P_CAT)
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        losses.SparseCategoricalCrossentropy()(Y_CAT, P_CAT)


@pytest.mark.parametrize("loss", [
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, reduction="sum"),
    losses.CategoricalCrossentropy(axis=1),
    losses.SparseCategoricalCrossentropy(ignore_class=0),
    losses.Huber(delta=2.0),
    losses.CosineSimilarity(axis=0),
    losses.BinaryFocalCrossentropy(gamma=3.0),
    losses.LossFunctionWrapper(losses.mean_absolute_error),
])
def test_config_round_trip(loss):
    rebuilt = losses.deserialize(losses.serialize(loss))
    assert type(rebuilt) is type(loss)
    assert rebuilt.get_config() == loss.get_config()


def test_config_keys_are_keras_keys():
    assert losses.BinaryCrossentropy().get_config() == {
        "name": "binary_crossentropy", "reduction": "sum_over_batch_size", "from_logits": False,
        "label_smoothing": 0.0, "axis": -1,
    }
    assert losses.SparseCategoricalCrossentropy().get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "ignore_class": None,
    }
    assert losses.Huber().name == "huber_loss"


def test_categorical_focal_crossentropy_as_keras():
    y = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0.0]], "float32")
    p = np.array([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]], "float32")
    weights = np.array([1, 2, 0.5])
    # Keras 3.15.1: (unweighted, weighted) for each argument set.
    for kwargs, expected in [({}, (0.042673, 0.062942)),
                             ({"alpha": 0.5, "gamma": 1.0}, (0.156829, 0.219577)),
                             ({"from_logits": True}, (0.079061, 0.100237)),
                             ({"label_smoothing": 0.1}, (0.057967, 0.077912))]:
        loss = losses.CategoricalFocalCrossentropy(**kwargs)
        got = (float(loss(y, p)), float(loss(y, p, sample_weight=weights)))
        np.testing.assert_allclose(got, expected, atol=2e-6)
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(y, p).numpy(),
                               [0.002231, 0.082466, 0.043322], atol=2e-6)
    by_name = losses.get("categorical_focal_crossentropy")
    np.testing.assert_allclose(float(by_name(y, p).mean()), 0.042673, atol=2e-6)


def test_dice_and_tversky_as_keras():
    close(losses.Dice()(Y_BIN, P_BIN), 0.3437499403953552)  # sums over the whole batch
    close(losses.Dice(axis=1, reduction=None)(Y_BIN, P_BIN),
          [0.19999992847442627, 0.517241358757019])
    close(losses.Dice(axis=-1)(Y_BIN, P_BIN, sample_weight=WEIGHTS), 0.5672413110733032)
    close(losses.Tversky()(Y_BIN, P_BIN), 0.34375)
    close(losses.Tversky(alpha=0.2, beta=0.8, axis=1, reduction=None)(Y_BIN, P_BIN),
          [0.12500005960464478, 0.5930233001708984])
    close(losses.tversky(Y_BIN, P_BIN, alpha=0.7, beta=0.3), 0.32692307233810425)
    assert losses.Tversky(axis=(1,)).get_config() == {
        "name": "tversky", "reduction": "sum_over_batch_size", "alpha": 0.5, "beta": 0.5,
        "axis": (1,),
    }


EMBEDDINGS = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-0.8, 0.6]])
EMBEDDING_LABELS = torch.tensor([0, 0, 1, 2])


def test_circle_averages_over_the_embeddings_with_a_positive_loss_as_keras():
    close(losses.circle(EMBEDDING_LABELS, EMBEDDINGS),
          [0.693147599697113, 38.400001525878906, 0, 0])
    # Labels 1 and 2 have no other member: their loss is 0, and the mean is over the other two.
    close(losses.Circle()(EMBEDDING_LABELS, EMBEDDINGS), 19.546573638916016)
    close(losses.get("Circle")(EMBEDDING_LABELS, EMBEDDINGS), 19.546573638916016)
    close(losses.Circle(gamma=8.0, margin=0.3)(EMBEDDING_LABELS, EMBEDDINGS), 3.127310276031494)
    close(losses.Circle(remove_diagonal=False)(EMBEDDING_LABELS, EMBEDDINGS), 16.983278274536133)
    close(losses.Circle(reduction="sum")(EMBEDDING_LABELS, EMBEDDINGS), 39.09314727783203)


def test_categorical_generalized_cross_entropy_as_keras():
    labels = torch.tensor([1, 2])
    close(losses.CategoricalGeneralizedCrossEntropy()(labels, P_CAT), 0.7090927958488464)
    close(losses.CategoricalGeneralizedCrossEntropy()(labels[:, None], P_CAT), 0.7090927958488464)
    close(losses.categorical_generalized_cross_entropy(labels, P_CAT, q=0.3),
          [0.050900574773550034, 1.6627092361450195])
    close(losses.CategoricalGeneralizedCrossEntropy(q=0.8)(labels, P_CAT, sample_weight=WEIGHTS),
          1.0644521713256836)
    # Keras knows neither name; here the function's name gives the class with its default q.
    assert isinstance(losses.get("categorical_generalized_cross_entropy"),
                      losses.CategoricalGeneralizedCrossEntropy)
    with pytest.raises(ValueError, match="q=1.0"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)


@pytest.mark.parametrize("loss", [
    losses.Dice(axis=(1, 2)), losses.Tversky(alpha=0.3, beta=0.7), losses.Circle(gamma=10.0),
    losses.CategoricalGeneralizedCrossEntropy(q=0.3), losses.get("Dice"), losses.get("Tversky"),
])
def test_new_losses_round_trip(loss):
    rebuilt = losses.deserialize(losses.serialize(loss))
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == loss.get_config()


@pytest.mark.parametrize("name, expected", [
    ("Dice", "dice"), ("Tversky", "tversky"), ("Circle", "circle"),
    ("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy"),
])
def test_new_losses_by_name(name, expected):
    assert losses.get(name).name == expected
    if name != "CategoricalGeneralizedCrossEntropy":
        assert losses.get(expected) is getattr(losses, expected)


def test_ctc_matches_keras():
    # Keras 3.15.1 (torch backend) on the same arrays: per sample [4.16749, 5.59727], mean 4.88238
    y_true = np.array([[1, 2, 0], [2, 2, 1]])
    y_pred = (np.arange(40).reshape(2, 5, 4) % 7 / 3.0 - 1).astype("float32")
    np.testing.assert_allclose(losses.ctc(y_true, y_pred).numpy(), [4.167490, 5.597271],
                               rtol=1e-5)
    assert float(losses.CTC()(y_true, y_pred)) == pytest.approx(4.882381, rel=1e-5)
    assert losses.CTC().get_config() == {"name": "ctc", "reduction": "sum_over_batch_size"}
    with pytest.raises(ValueError, match=r"\(batch_size, max_length\)"):
        losses.ctc(np.ones(3), y_pred)
