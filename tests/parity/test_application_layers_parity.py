"""The layers private to Keras's application modules (ConvNeXt's LayerScale, InceptionResNetV2's
CustomScaleLayer) are saved under Keras's module, so `.keras` files holding them load both ways
without custom objects. Skipped when Keras is not installed."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import netknit  # noqa: E402
from netknit.applications.convnext import LayerScale  # noqa: E402
from netknit.applications.inception_resnet_v2 import CustomScaleLayer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")


def _model():
    inputs = netknit.Input((4,))
    scaled = LayerScale(0.5, 4)(netknit.layers.Dense(4)(inputs))
    return netknit.Model(inputs, CustomScaleLayer(0.17)([inputs, scaled]))


def test_application_layers_load_in_keras_and_back(tmp_path):
    x = np.random.default_rng(0).random((2, 4), dtype=np.float32)
    ours = _model()
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert [type(layer).__name__ for layer in theirs.layers][-2:] == ["LayerScale",
                                                                     "CustomScaleLayer"]
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6)
    theirs.save(tmp_path / "theirs.keras")
    again = netknit.saving.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-6)
