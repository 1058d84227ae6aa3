"""Which metric goes to which output, and the keys they are logged under: Keras 3.15.1's rules,
with the values Keras gave for the same weights and data."""

import numpy as np
import pytest

import netknit as keras
from netknit import layers


def _set_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype("float32")
                       for w in model.get_weights()])


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((32, 6)).astype("float32")
    ya = rng.random((32, 1)).astype("float32")
    yb = np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]
    labels = rng.integers(0, 3, 32)
    return x, ya, yb, labels, np.where(labels == 1, 2.0, 1.0)


def _last(history: dict) -> dict:
    return {key: values[-1] for key, values in history.items()}


def _two_outputs():
    inputs = keras.Input((6,))
    hidden = layers.Dense(4, activation="relu")(inputs)
    model = keras.Model(inputs, [layers.Dense(1, name="a")(hidden),
                                 layers.Dense(3, activation="softmax", name="b")(hidden)])
    _set_weights(model)
    return model


def _one_output():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(inputs))
    _set_weights(model)
    return model


def test_a_flat_list_with_one_metric_per_output_maps_them_in_output_order():
    x, ya, yb, _, _ = _data()
    model = _two_outputs()
    model.compile("sgd", loss=["mse", "categorical_crossentropy"], metrics=["mae", "accuracy"])
    history = model.fit(x, [ya, yb], batch_size=8, verbose=0, shuffle=False).history
    assert _last(history) == pytest.approx({
        "a_loss": 0.3349040150642395, "a_mae": 0.48173272609710693, "b_accuracy": 0.375,
        "b_loss": 1.109269380569458, "loss": 1.4441734552383423}, rel=1e-5)
    assert list(history) == ["a_loss", "a_mae", "b_accuracy", "b_loss", "loss"]
    assert model.evaluate(x, [ya, yb], verbose=0) == pytest.approx(
        [1.420973777770996, 0.31220585107803345, 1.1087679862976074, 0.459292471408844, 0.375],
        rel=1e-5)


def test_a_flat_list_that_does_not_fit_the_outputs_is_refused_at_fit():
    x, ya, yb, _, _ = _data()
    model = _two_outputs()
    model.compile("sgd", loss="mse", metrics=["mae"])  # Keras accepts it here
    with pytest.raises(ValueError, match=r"(?s)Invalid `metrics`.*Received: metrics=\['mae'\]"):
        model.fit(x, [ya, yb], verbose=0)


def test_one_loss_alone_logs_no_per_output_loss():
    x, ya, yb, _, _ = _data()
    model = _two_outputs()
    model.compile("sgd", loss=[None, "categorical_crossentropy"], metrics=[["mae"], ["accuracy"]])
    with pytest.warns(UserWarning, match="Gradients do not exist"):  # as Keras warns
        history = model.fit(x, [ya, yb], batch_size=8, verbose=0, shuffle=False).history
    assert _last(history) == pytest.approx({"a_mae": 0.4968987703323364, "b_accuracy": 0.375,
                                            "loss": 1.1092630624771118}, rel=1e-5)
    assert model.metrics_names == ["loss", "compile_metrics"]
    assert model.evaluate(x, [ya, yb], verbose=0) == pytest.approx(
        [1.1087379455566406, 0.4969152510166168, 0.375], rel=1e-5)


def test_recompiling_with_fewer_losses_drops_the_per_output_losses():
    x, ya, yb, _, _ = _data()
    model = _two_outputs()
    model.compile("sgd", loss=["mse", "categorical_crossentropy"])
    model.fit(x, [ya, yb], verbose=0)
    model.compile("sgd", loss=[None, "categorical_crossentropy"])
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        assert sorted(model.fit(x, [ya, yb], verbose=0).history) == ["loss"]
    assert model.metrics_names == ["loss"]


def test_a_loss_dict_must_name_every_output_of_a_list():
    x, ya, yb, _, _ = _data()
    model = _two_outputs()
    model.compile("sgd", loss={"b": "categorical_crossentropy"})
    with pytest.raises(ValueError, match=r"Expected keys \['a', 'b'\] in loss dict, but found "
                                         r"loss.keys\(\)=\['b'\]"):
        model.fit(x, [ya, yb], verbose=0)


def test_weighted_metrics_take_the_weighted_prefix_only_when_the_name_is_taken():
    x, _, _, labels, weights = _data()
    model = _one_output()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    history = model.fit(x, labels, sample_weight=weights, batch_size=8, verbose=0,
                        shuffle=False, validation_data=(x, labels, weights)).history
    # Keras sorts the keys, the validation ones included.
    assert list(history) == ["accuracy", "loss", "val_accuracy", "val_loss",
                             "val_weighted_accuracy", "weighted_accuracy"]
    assert _last(history) == pytest.approx({
        "accuracy": 0.4375, "loss": 1.4990549087524414, "val_accuracy": 0.40625,
        "val_loss": 1.4889163970947266, "val_weighted_accuracy": 0.5777778029441833,
        "weighted_accuracy": 0.6000000238418579}, rel=1e-5)
    # The list follows the metrics' own names, so "accuracy" comes twice, as in Keras.
    assert model.evaluate(x, labels, sample_weight=weights, verbose=0) == pytest.approx(
        [1.488916277885437, 0.40625, 0.40625, 0.5777778029441833], rel=1e-5)

    model = _one_output()
    model.compile("sgd", "sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    history = model.fit(x, labels, sample_weight=weights, batch_size=8, verbose=0,
                        shuffle=False).history
    assert _last(history) == pytest.approx({"accuracy": 0.6000000238418579,
                                            "loss": 1.4990549087524414}, rel=1e-5)


def test_a_repeated_metric_is_numbered():
    x, _, _, labels, weights = _data()
    model = _one_output()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, labels, sample_weight=weights, batch_size=8, verbose=0, shuffle=False)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy", "accuracy"])
    assert model.evaluate(x, labels, verbose=0, return_dict=True) == pytest.approx(
        {"accuracy": 0.40625, "accuracy_1": 0.40625, "loss": 1.0890378952026367}, rel=1e-5)
    assert model.evaluate(x, labels, verbose=0) == pytest.approx(
        [1.0890378952026367, 0.40625, 0.40625, 0.40625], rel=1e-5)


def test_metric_objects_keep_their_names():
    x, ya, yb, _, _ = _data()
    mae = keras.metrics.MeanAbsoluteError()
    model = _two_outputs()
    model.compile("sgd", loss=["mse", "categorical_crossentropy"], metrics=[[mae], []])
    assert "a_mean_absolute_error" in model.fit(x, [ya, yb], verbose=0).history
    assert mae.name == "mean_absolute_error"


def test_accuracy_is_chosen_from_the_shapes_alone():
    x, _, _, _, _ = _data()
    labels = (np.random.default_rng(1).random((32, 3)) > 0.5).astype("float32")
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3, activation="sigmoid")])
    model.compile("sgd", keras.losses.BinaryCrossentropy(), metrics=["accuracy"])
    model.fit(x, labels, verbose=0)
    # Keras looks at the shapes only: three columns of targets is categorical accuracy.
    accuracy = model._metrics_container.metrics[0]
    assert type(accuracy).__name__ == "CategoricalAccuracy"


@pytest.mark.parametrize("loss, names, values", [
    # A loss dict on a dict of outputs: the per-output losses in the dict's order, as Keras.
    ({"z": "mse", "b": "mae"}, ["loss", "z_loss", "b_loss"], [44.75, 42.25, 2.5]),
    # A list: the outputs in the order of their sorted keys.
    (["mse", "mae"], ["loss", "b_loss", "z_loss"], [12.75, 6.25, 6.5]),
])
def test_per_output_losses_of_a_dict_of_outputs_in_keras_s_order(loss, names, values):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, {"z": layers.Dense(1, name="a")(inputs),
                                 "b": layers.Dense(2, name="b")(inputs)})
    model.set_weights([np.full(w.shape, 0.5 * (k + 1), "float32")
                       for k, w in enumerate(model.get_weights())])
    model.compile("sgd", loss)
    x, y = np.ones((4, 3), "float32"), {"z": np.zeros((4, 1)), "b": np.zeros((4, 2))}
    assert model.evaluate(x, y, verbose=0) == pytest.approx(values)
    assert model.metrics_names == names


def test_crossentropy_by_name_is_chosen_from_the_shapes():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="softmax")])
    model.set_weights([np.full(w.shape, 0.1, "float32") for w in model.get_weights()])
    model.compile("sgd", "crossentropy", metrics=["acc"])
    history = model.fit(np.ones((8, 3)), np.zeros(8), verbose=0).history
    # Keras 3.15.1: sparse categorical cross-entropy for class indices against 4 columns.
    assert history == {"acc": [1.0], "loss": [pytest.approx(1.3862943649291992, rel=1e-6)]}
