"""Training parity with Keras 3 (torch backend): same initial weights, same data order, a few
steps of SGD and Adam, then the weights and the reported losses agree."""

import numpy as np
import pytest

keras_ref = pytest.importorskip("keras")

import netknit as keras  # noqa: E402
from netknit import layers  # noqa: E402


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 6)).astype("float32")
    y = rng.integers(0, 3, size=48)
    return x, y


def _netknit_model():
    inputs = keras.Input((6,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(hidden))


def _keras_model():
    inputs = keras_ref.Input((6,))
    hidden = keras_ref.layers.Dense(8, activation="relu")(inputs)
    return keras_ref.Model(inputs, keras_ref.layers.Dense(3, activation="softmax")(hidden))


@pytest.mark.parametrize("optimizer", [
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("Adam", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01}),
])
def test_fit_matches_keras_step_for_step(optimizer):
    name, kwargs = optimizer
    x, y = _data()
    ours, theirs = _netknit_model(), _keras_model()
    ours.set_weights(theirs.get_weights())
    ours.compile(getattr(keras.optimizers, name)(**kwargs), "sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    theirs.compile(getattr(keras_ref.optimizers, name)(**kwargs),
                   "sparse_categorical_crossentropy", metrics=["accuracy"])
    h_ours = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    h_theirs = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    assert list(h_ours) == list(h_theirs)
    np.testing.assert_allclose(h_ours["loss"], h_theirs["loss"], rtol=1e-4)
    np.testing.assert_allclose(h_ours["accuracy"], h_theirs["accuracy"])
    for got, want in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)
