"""The scikit-learn wrappers: what the model is built from and trained on, scikit-learn's
estimator contract, and the same answers as Keras's wrappers from the same weights.

The comparisons with Keras are skipped when it is not installed.
"""

import importlib
import sys
import unittest

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone, is_classifier, is_regressor  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import get_tags  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import netknit as keras  # noqa: E402
from netknit import wrappers  # noqa: E402
from netknit.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: E402

CLASSIFY = {"activation": "softmax", "loss": "categorical_crossentropy"}
QUIET = {"verbose": 0}


def build(X, y, activation=None, loss="mse", units=0, learning_rate=0.01, lib=keras,
          weights=None, seen=None):
    """A compiled model sized from the data: `y.shape[1]` outputs, after `units` hidden ones.

    `lib` is the Keras-like library to build with, `weights` are set when given, and `seen`
    collects the `(X, y)` each call receives.
    """
    if seen is not None:
        seen.append((X, y))
    inputs = lib.Input((X.shape[1],))
    hidden = lib.layers.Dense(units, activation="relu")(inputs) if units else inputs
    model = lib.Model(inputs, lib.layers.Dense(y.shape[1], activation=activation)(hidden))
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=lib.optimizers.SGD(learning_rate), loss=loss)
    return model


def data(n=12, features=3):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, features)).astype("float32")
    return X, np.array(["b", "a", "c"] * (n // 3))


# ------------------------------------------------------------------ what the model sees


def test_classifier_trains_on_one_hot_targets_and_predicts_labels():
    X, y = data()
    seen = []
    classifier = SKLearnClassifier(build, model_kwargs={**CLASSIFY, "seen": seen},
                                   fit_kwargs={"epochs": 2, **QUIET})
    assert classifier.fit(X, y) is classifier
    np.testing.assert_array_equal(classifier.classes_, ["a", "b", "c"])
    (X_seen, y_seen), = seen
    np.testing.assert_array_equal(X_seen, X)
    assert y_seen.dtype == np.float64
    np.testing.assert_array_equal(y_seen, np.eye(3)[[1, 0, 2] * 4])
    assert isinstance(classifier.model_, keras.Model)
    assert isinstance(classifier.history_, keras.callbacks.History)
    assert classifier.history_.epoch == [0, 1]
    assert classifier.n_features_in_ == 3

    probabilities = classifier.predict_proba(X)
    assert probabilities.shape == (12, 3) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(classifier.decision_function(X), probabilities)
    labels = classifier.predict(X)
    assert labels.shape == (12,) and labels.dtype == y.dtype
    np.testing.assert_array_equal(labels, classifier.classes_[probabilities.argmax(axis=1)])
    assert classifier.score(X, y) == np.mean(labels == y)


def test_classifier_learns_a_separable_problem():
    X = np.random.default_rng(1).standard_normal((40, 2)).astype("float32")
    y = np.where(X[:, 0] > 0, 7, 3)
    classifier = SKLearnClassifier(build, model_kwargs={**CLASSIFY, "learning_rate": 1.0},
                                   fit_kwargs={"epochs": 20, **QUIET})
    classifier.fit(X, y)
    np.testing.assert_array_equal(classifier.classes_, [3, 7])
    assert classifier.decision_function(X).shape == (40, 2)  # one column per class, also here
    assert classifier.score(X, y) >= 0.9


def test_regressor_trains_on_a_column_and_predicts_a_vector():
    X, _ = data()
    y = X.sum(axis=1)
    seen = []
    regressor = SKLearnRegressor(build, model_kwargs={"seen": seen}, fit_kwargs=QUIET).fit(X, y)
    (_, y_seen), = seen
    np.testing.assert_array_equal(y_seen, y[:, None])
    predictions = regressor.predict(X)
    assert predictions.shape == (12,) and predictions.dtype == np.float32
    np.testing.assert_allclose(regressor.score(X, y), sklearn.metrics.r2_score(y, predictions),
                               rtol=1e-6)


def test_transformer_returns_the_model_outputs():
    X, _ = data()
    transformer = SKLearnTransformer(build, model_kwargs={"units": 4}, fit_kwargs=QUIET)
    outputs = transformer.fit_transform(X, X[:, 0])
    assert outputs.shape == (12, 1) and outputs.dtype == np.float32
    np.testing.assert_array_equal(outputs, transformer.model_.predict(X, verbose=0))


def test_fit_arguments_override_fit_kwargs_without_changing_them():
    X, y = data()
    classifier = SKLearnClassifier(build, model_kwargs=CLASSIFY,
                                   fit_kwargs={"epochs": 1, **QUIET})
    classifier.fit(X, y, epochs=3)
    assert classifier.history_.epoch == [0, 1, 2]
    assert classifier.fit_kwargs == {"epochs": 1, **QUIET}


def test_a_given_model_is_cloned_unless_warm_started():
    X, y = data()
    given = build(X, np.zeros((1, 3)), **CLASSIFY)
    before = [w.copy() for w in given.get_weights()]
    classifier = SKLearnClassifier(given, fit_kwargs={"epochs": 2, **QUIET}).fit(X, y)
    assert classifier.model_ is not given and classifier.model_.compiled
    for weight, original in zip(given.get_weights(), before):
        np.testing.assert_array_equal(weight, original)

    warm = SKLearnClassifier(given, warm_start=True, fit_kwargs={"epochs": 2, **QUIET})
    assert warm.fit(X, y).model_ is given
    assert not np.array_equal(given.get_weights()[0], before[0])


def test_warm_start_keeps_training_the_same_model():
    X, y = data()
    seen = []
    kwargs = {"model_kwargs": {**CLASSIFY, "seen": seen}, "fit_kwargs": QUIET}
    cold = SKLearnClassifier(build, **kwargs)
    first = cold.fit(X, y).model_
    assert cold.fit(X, y).model_ is not first and len(seen) == 2
    warm = SKLearnClassifier(build, warm_start=True, **kwargs)
    first = warm.fit(X, y).model_
    weights = first.get_weights()[0].copy()
    assert warm.fit(X, y).model_ is first and len(seen) == 3
    assert not np.array_equal(first.get_weights()[0], weights)


def test_a_seeded_fit_repeats():
    X, y = data()
    outputs = []
    for _ in range(2):
        keras.utils.set_random_seed(1)
        classifier = SKLearnClassifier(build, model_kwargs=CLASSIFY,
                                       fit_kwargs={"epochs": 2, "batch_size": 4, **QUIET})
        outputs.append(classifier.fit(X, y).decision_function(X))
    np.testing.assert_array_equal(*outputs)


# ------------------------------------------------------------------ scikit-learn's contract


def test_params_clone_and_repr():
    given = build(np.zeros((1, 3)), np.zeros((1, 1)))
    regressor = SKLearnRegressor(given, fit_kwargs={"epochs": 2})
    assert regressor.get_params() == {"model": given, "warm_start": False,
                                      "model_kwargs": None, "fit_kwargs": {"epochs": 2}}
    assert regressor.set_params(warm_start=True) is regressor and regressor.warm_start
    copy = clone(regressor)
    # Unlike Keras's clone, which drops `fit_kwargs` and shares a given model.
    assert copy.fit_kwargs == {"epochs": 2} and copy.warm_start
    assert isinstance(copy.model, keras.Model) and copy.model is not given
    text = " ".join(repr(SKLearnClassifier(build, fit_kwargs={"epochs": 2})).split())
    assert text.startswith("SKLearnClassifier(fit_kwargs={'epochs': 2}, model=<function build")


def test_tags():
    classifier, regressor = SKLearnClassifier(build), SKLearnRegressor(build)
    transformer = SKLearnTransformer(build)
    assert is_classifier(classifier) and is_regressor(regressor)
    assert all(get_tags(w).non_deterministic for w in (classifier, regressor, transformer))
    assert get_tags(classifier).classifier_tags.poor_score
    assert get_tags(regressor).regressor_tags.poor_score
    assert get_tags(transformer).transformer_tags.preserves_dtype == []


def test_pipeline_grid_search_and_cross_validation():
    X, y = data(24)
    pipeline = make_pipeline(StandardScaler(), SKLearnClassifier(
        build, model_kwargs=CLASSIFY, fit_kwargs={"epochs": 2, **QUIET}))
    assert 0 <= pipeline.fit(X, y).score(X, y) <= 1

    search = GridSearchCV(
        SKLearnClassifier(build, fit_kwargs=QUIET),
        {"model_kwargs": [{**CLASSIFY, "units": 2}, {**CLASSIFY, "units": 5}]}, cv=2)
    search.fit(X, y)
    units = search.best_params_["model_kwargs"]["units"]
    assert search.best_estimator_.model_.layers[1].units == units

    regressor = SKLearnRegressor(build, fit_kwargs=QUIET)
    scores = cross_val_score(regressor, X, X.sum(axis=1), cv=2, params={"epochs": 2})
    assert scores.shape == (2,) and np.isfinite(scores).all()


# Checks that need reproducible fits or more training than one epoch; Keras's wrappers fail the
# same ones here (scikit-learn 1.9, Keras 3.15.1 on torch).
UNREPRODUCIBLE = "assumes that two fits give the same model"
EXPECTED_FAILED_CHECKS = {
    "SKLearnClassifier": {
        "check_fit_idempotent": UNREPRODUCIBLE,
        "check_classifier_data_not_an_array": UNREPRODUCIBLE,
        "check_supervised_y_2d": UNREPRODUCIBLE,
        "check_classifiers_train": "decision_function can give probabilities or logits",
        "check_classifiers_classes": "a short fit does not always predict every class",
        "check_classifiers_one_label_sample_weights": "a zero sample weight still trains",
        "check_decision_proba_consistency":
            "decision_function has a column per class, also for two classes",
    },
    "SKLearnRegressor": {
        "check_fit_idempotent": UNREPRODUCIBLE,
        "check_regressor_data_not_an_array": UNREPRODUCIBLE,
        "check_supervised_y_2d": UNREPRODUCIBLE,
        "check_regressors_int": UNREPRODUCIBLE,
    },
    "SKLearnTransformer": {"check_fit_idempotent": UNREPRODUCIBLE},
}


# netknit's `fit` hands a read-only array (check_readonly_memmap_input) to `torch.from_numpy`,
# which warns once; not a concern of the wrappers.
@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable:UserWarning")
@parametrize_with_checks(
    [SKLearnClassifier(build, model_kwargs=CLASSIFY, fit_kwargs=QUIET),
     SKLearnRegressor(build, fit_kwargs=QUIET), SKLearnTransformer(build, fit_kwargs=QUIET)],
    expected_failed_checks=lambda wrapper: EXPECTED_FAILED_CHECKS[type(wrapper).__name__],
)
def test_scikit_learn_estimator_checks(estimator, check):
    try:
        check(estimator)
    except unittest.SkipTest as skip:
        # pytest reports a unittest skip raised in a plain test function as an error.
        pytest.skip(str(skip))


# ------------------------------------------------------------------ errors


def test_arguments_are_checked_in_fit():
    X, y = data()
    with pytest.raises(TypeError, match=r"`model` to be a compiled Model .* Received: model=3"):
        SKLearnRegressor(3).fit(X, X[:, 0])
    with pytest.raises(TypeError, match=r"`fit_kwargs` to be a dict or None"):
        SKLearnRegressor(build, fit_kwargs=[("epochs", 1)]).fit(X, X[:, 0])
    with pytest.raises(TypeError, match=r"`warm_start` to be True or False"):
        SKLearnRegressor(build, warm_start="yes").fit(X, X[:, 0])
    with pytest.raises(TypeError, match=r"return a compiled Model. Received: str"):
        SKLearnRegressor(lambda X, y: "model").fit(X, X[:, 0])
    uncompiled = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(RuntimeError, match=r"needs to be compiled.*model.compile\("):
        SKLearnRegressor(uncompiled).fit(X, X[:, 0])


def test_outputs_that_do_not_fit_the_targets():
    X, y = data()
    classifier = SKLearnClassifier(lambda X, y: build(X, y[:, :2], **CLASSIFY), fit_kwargs=QUIET)
    classifier.fit(X, y, epochs=0)  # a training step would fail on the loss
    with pytest.raises(ValueError, match=r"one column per class \(3 columns.*shape \(12, 2\)"):
        classifier.predict(X)
    regressor = SKLearnRegressor(lambda X, y: build(X, np.zeros((1, 2))), fit_kwargs=QUIET)
    with pytest.raises(ValueError, match=r"one column.*shape \(12, 2\)"):
        regressor.fit(X, X[:, 0], epochs=0).predict(X)


def test_without_scikit_learn_constructing_a_wrapper_says_what_to_install(monkeypatch):
    for name in ("sklearn", "sklearn.base", "sklearn.utils.multiclass",
                 "sklearn.utils.validation"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import` fail
    monkeypatch.delitem(sys.modules, "netknit.wrappers.sklearn_wrapper")
    monkeypatch.delattr(wrappers, "sklearn_wrapper")
    importlib.reload(wrappers)
    # The package defers the module (and scikit-learn) to the first use of a wrapper.
    assert "netknit.wrappers.sklearn_wrapper" not in sys.modules
    for wrapper in (wrappers.SKLearnClassifier, wrappers.SKLearnRegressor,
                    wrappers.SKLearnTransformer):
        with pytest.raises(ImportError, match=rf"{wrapper.__name__} requires `scikit-learn`.*"
                                              r"pip install scikit-learn"):
            wrapper(build)


# ------------------------------------------------------------------ against Keras


@pytest.fixture
def keras_ref():
    return pytest.importorskip("keras")


def build_for_weights(lib, X, n_outputs, **model_kwargs):
    """The weights both libraries start from: Keras's initialization of `build`."""
    return build(X, np.zeros((1, n_outputs)), lib=lib, **model_kwargs)


@pytest.mark.parametrize("labels", [["b", "a", "c"], [4, 9, 9]], ids=["strings", "binary"])
def test_classifier_matches_keras(keras_ref, labels):
    X, _ = data()
    y = np.array(labels * 4)
    classes = np.unique(y)
    weights = build_for_weights(keras_ref, X, len(classes), **CLASSIFY).get_weights()
    fitted = []
    for lib, module in ((keras, wrappers), (keras_ref, keras_ref.wrappers)):
        classifier = module.SKLearnClassifier(
            build, model_kwargs={**CLASSIFY, "lib": lib, "weights": weights},
            fit_kwargs={"epochs": 2, "batch_size": 4, "shuffle": False, **QUIET})
        fitted.append(classifier.fit(X, y))
    ours, theirs = fitted
    assert ours.classes_.dtype == theirs.classes_.dtype
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    outputs = ours.decision_function(X)
    assert outputs.shape == (12, len(classes)) and outputs.dtype == np.float32
    np.testing.assert_allclose(outputs, theirs.decision_function(X), rtol=1e-4, atol=1e-6)
    labels_ours, labels_theirs = ours.predict(X), theirs.predict(X)
    assert labels_ours.dtype == labels_theirs.dtype
    np.testing.assert_array_equal(labels_ours, labels_theirs)
    assert ours.score(X, y) == theirs.score(X, y)


@pytest.mark.parametrize("kind", ["SKLearnRegressor", "SKLearnTransformer"])
def test_regressor_and_transformer_match_keras(keras_ref, kind):
    X, _ = data()
    y = (X @ np.array([1.0, -2.0, 0.5])).astype(np.float64)
    model_kwargs = {"units": 4}
    weights = build_for_weights(keras_ref, X, 1, **model_kwargs).get_weights()
    fitted = []
    for lib, module in ((keras, wrappers), (keras_ref, keras_ref.wrappers)):
        wrapper = getattr(module, kind)(
            build, model_kwargs={**model_kwargs, "lib": lib, "weights": weights},
            fit_kwargs={"epochs": 2, "batch_size": 4, "shuffle": False, **QUIET})
        fitted.append(wrapper.fit(X, y))
    ours, theirs = fitted
    method = "predict" if kind == "SKLearnRegressor" else "transform"
    got, want = getattr(ours, method)(X), getattr(theirs, method)(X)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    if kind == "SKLearnRegressor":
        np.testing.assert_allclose(ours.score(X, y), theirs.score(X, y), rtol=1e-4)


def bad_fits(module, lib):
    """Each misuse, as a function of a wrappers module and its library."""
    X, y = data()

    def fitted():
        return module.SKLearnClassifier(build, model_kwargs={**CLASSIFY, "lib": lib},
                                        fit_kwargs={"epochs": 0, **QUIET}).fit(X, y)

    def classifier(**kwargs):
        return module.SKLearnClassifier(build, model_kwargs={**CLASSIFY, "lib": lib}, **kwargs)

    uncompiled = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    return {
        "continuous target": lambda: classifier().fit(X, X[:, 0]),
        "one class": lambda: classifier().fit(X, np.zeros(12)),
        "2-d target": lambda: classifier().fit(X, np.eye(3)[np.arange(12) % 3]),
        "fewer targets": lambda: classifier().fit(X, y[:-1]),
        "missing values": lambda: classifier().fit(X_nan, y),
        "1-d inputs": lambda: classifier().fit(X[:, 0], y),
        "not fitted": lambda: classifier().predict(X),
        "other features": lambda: fitted().predict(X[:, :2]),
        "uncompiled model": lambda: module.SKLearnRegressor(uncompiled).fit(X, X[:, 0]),
        "transformer without y": lambda: module.SKLearnTransformer(build).fit(X),
    }


def test_bad_input_raises_what_keras_raises(keras_ref):
    ours, theirs = bad_fits(wrappers, keras), bad_fits(keras_ref.wrappers, keras_ref)
    for case, misuse in ours.items():
        with pytest.raises(Exception) as raised_ours:
            misuse()
        with pytest.raises(Exception) as raised_theirs:
            theirs[case]()
        assert raised_ours.type is raised_theirs.type, case
        # The same first sentence: scikit-learn's validation for both, or Keras's words.
        first = str(raised_theirs.value).split(". ")[0]
        if case != "transformer without y":  # names the method's class: SKLBase in Keras
            assert str(raised_ours.value).startswith(first), case
