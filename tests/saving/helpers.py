"""Small models and data shared by the saving tests."""

import numpy as np

import netknit as keras
from netknit import layers


def mixed_model():
    """Two named inputs, a shared layer, a nested Sequential, and a dict of outputs."""
    image = keras.Input((6, 6, 2), name="image")
    table = keras.Input((5,), name="table")
    h = layers.Flatten()(layers.MaxPooling2D()(layers.Conv2D(3, 3)(image)))
    shared = layers.Dense(4)
    joined = layers.concatenate([h, shared(table), shared(table)])
    first = layers.Dense(2, name="first")(joined)
    second = keras.Sequential([layers.Dense(3), layers.Dense(1)])(first)
    return keras.Model({"image": image, "table": table}, {"first": first, "second": second})


def mixed_data(n=4, seed=0):
    rng = np.random.default_rng(seed)
    x = {"image": rng.standard_normal((n, 6, 6, 2)).astype("float32"),
         "table": rng.standard_normal((n, 5)).astype("float32")}
    y = {"first": rng.standard_normal((n, 2)).astype("float32"),
         "second": rng.standard_normal((n, 1)).astype("float32")}
    return x, y


def assert_same_predictions(a, b, x):
    pa, pb = a.predict(x, verbose=0), b.predict(x, verbose=0)
    if isinstance(pa, dict):
        assert pa.keys() == pb.keys()
        for key in pa:
            np.testing.assert_allclose(pa[key], pb[key], rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_allclose(pa, pb, rtol=1e-6, atol=1e-6)
