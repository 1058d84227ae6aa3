"""scikit-learn estimators around netknit models, as in `keras.wrappers`.

The wrappers load on first use: importing scikit-learn takes seconds, and netknit does not
require it. Without scikit-learn the names still resolve, and constructing a wrapper raises an
`ImportError` that says what to install.

>>> from netknit.wrappers import SKLearnClassifier
"""

import importlib

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module(".sklearn_wrapper", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
