"""`SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer`: scikit-learn estimators that
train a compiled netknit model, as in `keras.wrappers`.

`fit` validates `X` and `y` with scikit-learn, builds the model (by calling the given function,
or by cloning the given model), and trains it with `model.fit`; `predict` and `transform` answer
from `model.predict`. The classifier trains on one-hot targets, one column per class of
`classes_`, and maps the model's outputs back to labels by their largest column.

scikit-learn is optional for netknit. Without it (or with one older than 1.6, the first with
`validate_data` and `__sklearn_tags__`) the classes are still defined, over stand-in bases, and
constructing one raises an `ImportError` that says what to install.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..models import Model
from ..models.cloning import clone_model

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import check_is_fitted, validate_data

    _SKLEARN_FOUND = True
except ImportError:
    _SKLEARN_FOUND = False
    # Distinct empty classes, so that the class statements below still run (a class cannot list
    # the same base twice); `__init__` raises before any scikit-learn behaviour is needed.
    BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin = (
        type(name, (), {})
        for name in ("BaseEstimator", "ClassifierMixin", "RegressorMixin", "TransformerMixin")
    )


class SKLearnWrapper(BaseEstimator):
    """The base of the scikit-learn wrappers: builds, trains and queries the model.

    Randomness in weight initialization and in the order of the batches makes two fits differ;
    seed it (`keras.utils.set_random_seed`) to repeat a fit.

    Args:
        model: a compiled `Model`, or a function returning one. A function is called in `fit` as
            `model(X=X, y=y, **model_kwargs)` with the validated inputs and the targets as the
            model trains on them (for a classifier, one-hot: one column per class). A `Model` is
            cloned with `keras.models.clone_model` (same architecture and compile arguments,
            fresh weights) at each fit, unless `warm_start=True`.
        warm_start: whether a fit continues training the model of the previous fit, instead of
            building a new one. When the first fit of a warm-started wrapper is given a `Model`,
            it trains that model itself (not a clone).
        model_kwargs: keyword arguments for `model`, when it is a function.
        fit_kwargs: keyword arguments for `model.fit` (e.g. `epochs`); those given to `fit`
            itself take precedence.

    Attributes:
        model_: the trained `Model`.
        history_: the `History` that `model.fit` returned for the last fit.
        n_features_in_: the number of features (columns of `X`) seen in `fit`.
    """

    def __init__(self, model: Model | Callable[..., Model], warm_start: bool = False,
                 model_kwargs: dict | None = None, fit_kwargs: dict | None = None):
        if not _SKLEARN_FOUND:
            raise ImportError(
                f"{type(self).__name__} requires `scikit-learn` 1.6 or newer to be installed. "
                "Run `pip install scikit-learn` to install it (`pip install -U scikit-learn` "
                "to upgrade an older version)."
            )
        # Stored as given and checked in `fit`: scikit-learn's `clone` and `set_params` build
        # estimators from any values, and expect errors to wait for `fit`.
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Random initial weights and shuffled batches: two fits agree only under the same seed.
        tags.non_deterministic = True
        return tags

    def fit(self, X, y, **kwargs) -> SKLearnWrapper:
        """Build the model and train it on `X` and `y`.

        Args:
            X: array-like of shape `(n_samples, n_features)`, the inputs.
            y: array-like of shape `(n_samples,)`, the targets.
            **kwargs: keyword arguments for `model.fit`, over those of `fit_kwargs`.

        Returns:
            The wrapper itself, fitted.
        """
        # 1. Check the constructor's arguments (see `__init__` for why only now).
        self._check_params()
        # 2. Validate the data, as scikit-learn estimators do, and prepare the targets.
        X, y = validate_data(self, X, y)
        y = self._targets_for_model(y)
        # 3. Build (or, warm-started, reuse) the model, and train it.
        model = self._model_for_fit(X, y)
        self.history_ = model.fit(X, y, **{**(self.fit_kwargs or {}), **kwargs})
        self.model_ = model
        return self

    def _check_params(self) -> None:
        if not callable(self.model):
            raise TypeError(
                "Expected `model` to be a compiled Model or a function returning one. "
                f"Received: model={self.model!r}"
            )
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"Expected `warm_start` to be True or False. "
                            f"Received: warm_start={self.warm_start!r}")
        for name in ("model_kwargs", "fit_kwargs"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"Expected `{name}` to be a dict or None. "
                                f"Received: {name}={value!r}")

    def _model_for_fit(self, X: np.ndarray, y: np.ndarray) -> Model:
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            model = self.model if self.warm_start else clone_model(self.model)
        else:
            model = self.model(X=X, y=y, **(self.model_kwargs or {}))
            if not isinstance(model, Model):
                raise TypeError(
                    "Expected the `model` function to return a compiled Model. "
                    f"Received: {type(model).__name__} from model={self.model!r}"
                )
        if not model.compiled or not model.loss or not model.optimizer:
            raise RuntimeError(
                "Given model needs to be compiled, and have a loss and an optimizer. Call "
                "`model.compile(optimizer=..., loss=...)` before handing it to "
                f"{type(self).__name__} (or in the function that builds it)."
            )
        return model

    def _targets_for_model(self, y: np.ndarray) -> np.ndarray:
        """`y` as the model trains on it: a column, for regression and transformation."""
        # `validate_data` lets through targets that are no kind of label or number at all.
        type_of_target(y, input_name="y", raise_unknown=True)
        return y.reshape(-1, 1)

    def _model_outputs(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.model_.predict(validate_data(self, X, reset=False))

    def predict(self, X) -> np.ndarray:
        """The model's predictions for `X`.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            An array of shape `(n_samples,)`: the model's one output column, like `y`.
        """
        outputs = self._model_outputs(X)
        if outputs.ndim != 2:
            return outputs
        if outputs.shape[1] != 1:
            raise ValueError(
                "Expected the model to output one column, as it was trained on `y` of shape "
                f"(n_samples,). Received outputs of shape {outputs.shape}."
            )
        return outputs[:, 0]


class SKLearnClassifier(ClassifierMixin, SKLearnWrapper):
    """A scikit-learn classifier that trains a netknit model on one-hot targets.

    `fit` takes binary or multiclass labels of any type (`y` of shape `(n_samples,)`), sorts
    them into `classes_`, and trains the model on their one-hot encoding (float64, of shape
    `(n_samples, n_classes)`), so the model needs one output per class; a softmax output with
    `"categorical_crossentropy"` is the usual choice. `predict` returns the class of each row's
    largest output. `score` is the accuracy.

    Args:
        model: a compiled `Model` (cloned at each fit), or a function
            `model(X=X, y=y, **model_kwargs)` returning one; `y` is the one-hot targets.
        warm_start: whether a fit continues training the previous fit's model.
        model_kwargs: keyword arguments for `model`, when it is a function.
        fit_kwargs: keyword arguments for `model.fit`; those given to `fit` take precedence.

    Attributes:
        model_: the trained `Model`.
        history_: the `History` of the last fit.
        classes_: the sorted class labels; column `i` of the model's outputs is `classes_[i]`.

    >>> import numpy as np
    >>> import netknit as keras
    >>> def build(X, y, units=8):
    ...     inputs = keras.Input((X.shape[1],))
    ...     hidden = keras.layers.Dense(units, activation="relu")(inputs)
    ...     outputs = keras.layers.Dense(y.shape[1], activation="softmax")(hidden)
    ...     model = keras.Model(inputs, outputs)
    ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
    ...     return model
    >>> classifier = keras.wrappers.SKLearnClassifier(
    ...     build, model_kwargs={"units": 16}, fit_kwargs={"epochs": 5, "verbose": 0})
    >>> classifier.fit(np.random.rand(4, 3), ["cat", "dog", "cat", "bird"]).classes_
    array(['bird', 'cat', 'dog'], dtype='<U4')
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A few epochs on scikit-learn's small check datasets do not reach the accuracy its
        # checks expect of a classifier.
        tags.classifier_tags.poor_score = True
        return tags

    def _targets_for_model(self, y: np.ndarray) -> np.ndarray:
        target_type = type_of_target(y, input_name="y", raise_unknown=True)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                "Only binary and multiclass target types are supported. Received a target of "
                f"type {target_type!r}; SKLearnRegressor fits continuous targets."
            )
        classes = np.unique(y)
        if len(classes) == 1:
            raise ValueError(
                "Classifier can't train when only one class is present. Received: one class, "
                f"{classes[0]!r}"
            )
        self.classes_ = classes
        # Float64 one-hot columns in `classes_` order: what Keras's wrapper hands its model.
        return (y[:, None] == classes).astype(np.float64)

    def _class_scores(self, X) -> np.ndarray:
        outputs = self._model_outputs(X)
        if outputs.ndim != 2 or outputs.shape[1] != len(self.classes_):
            raise ValueError(
                f"Expected the model to output one column per class ({len(self.classes_)} "
                f"columns, for classes {self.classes_.tolist()}). Received outputs of shape "
                f"{outputs.shape}."
            )
        return outputs

    def predict(self, X) -> np.ndarray:
        """The predicted class of each row of `X`: the class of its largest model output.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            An array of shape `(n_samples,)` with the dtype of `classes_`.
        """
        scores = self._class_scores(X)  # first: it checks that the wrapper is fitted
        return self.classes_[np.argmax(scores, axis=1)]

    def decision_function(self, X) -> np.ndarray:
        """The model's raw outputs for `X` (probabilities or logits, as the model makes them).

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            An array of the model's outputs, of shape `(n_samples, n_classes)` for a model made
            as this wrapper expects (also for two classes).
        """
        return self._model_outputs(X)

    def predict_proba(self, X) -> np.ndarray:
        """The probability of each class for each row of `X`, as the model outputs them.

        The model's outputs are taken as probabilities, so its last activation should make them
        (softmax). Keras's wrapper has no `predict_proba`; it is here for scikit-learn tools that
        need one (soft voting, calibration, log-loss scoring).

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            An array of shape `(n_samples, n_classes)`, columns in `classes_` order.
        """
        return self._class_scores(X)


class SKLearnRegressor(RegressorMixin, SKLearnWrapper):
    """A scikit-learn regressor that trains a netknit model.

    The model trains on `y` as a column (`(n_samples, 1)`), so it needs one output; `predict`
    returns shape `(n_samples,)` for it. `score` is the coefficient of determination (R²).

    Args:
        model: a compiled `Model` (cloned at each fit), or a function
            `model(X=X, y=y, **model_kwargs)` returning one; `y` is the targets as a column.
        warm_start: whether a fit continues training the previous fit's model.
        model_kwargs: keyword arguments for `model`, when it is a function.
        fit_kwargs: keyword arguments for `model.fit`; those given to `fit` take precedence.

    Attributes:
        model_: the trained `Model`.
        history_: the `History` of the last fit.

    >>> import numpy as np
    >>> import netknit as keras
    >>> def build(X, y):
    ...     inputs = keras.Input((X.shape[1],))
    ...     model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model
    >>> X = np.random.rand(100, 3)
    >>> regressor = keras.wrappers.SKLearnRegressor(build, fit_kwargs={"epochs": 10, "verbose": 0})
    >>> regressor.fit(X, X.sum(axis=1)).history_.epoch[-1]
    9
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # As for the classifier: short training does not reach the R² scikit-learn's checks want.
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLearnWrapper):
    """A scikit-learn transformer (a pipeline step that maps features) made of a netknit model.

    `fit` trains the model on `X` and `y` (as a column, like `SKLearnRegressor`); `transform`
    returns the model's outputs, e.g. an embedding that a later pipeline step uses.

    Args:
        model: a compiled `Model` (cloned at each fit), or a function
            `model(X=X, y=y, **model_kwargs)` returning one; `y` is the targets as a column.
        warm_start: whether a fit continues training the previous fit's model.
        model_kwargs: keyword arguments for `model`, when it is a function.
        fit_kwargs: keyword arguments for `model.fit`; those given to `fit` take precedence.

    Attributes:
        model_: the trained `Model`.
        history_: the `History` of the last fit.

    >>> import numpy as np
    >>> import netknit as keras
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> def build(X, y):
    ...     inputs = keras.Input((X.shape[1],))
    ...     model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model
    >>> X, y = np.random.rand(20, 3), np.arange(20) % 2
    >>> embed = keras.wrappers.SKLearnTransformer(build, fit_kwargs={"verbose": 0})
    >>> pipeline = make_pipeline(embed, LogisticRegression())
    >>> pipeline.fit(X, y).predict(X).shape  # doctest: +SKIP
    (20,)
    """

    def transform(self, X) -> np.ndarray:
        """The model's outputs for `X`.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            The model's outputs, e.g. of shape `(n_samples, n_outputs)` (float32).
        """
        return self._model_outputs(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The outputs are in the model's dtype (float32), whatever the dtype of `X`.
        tags.transformer_tags.preserves_dtype = []
        return tags
