"""Weights files of models holding plain torch modules move both ways between netknit and Keras 3
(torch backend), which wraps such modules in TorchModuleWrapper. Skipped without Keras."""

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import netknit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")


def _model(library):
    class Mixed(library.Model):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 3)
            self.bn = torch.nn.BatchNorm1d(3)
            self.d = library.layers.Dense(2)

        def call(self, x):
            return self.d(self.bn(self.fc(x)))

    model = Mixed()
    model.compile("sgd", "mse")
    return model


@pytest.mark.parametrize("source,target", [(keras, netknit), (netknit, keras)],
                         ids=["keras-to-netknit", "netknit-to-keras"])
def test_weights_files_load_across(tmp_path, source, target):
    x = np.random.default_rng(0).random((8, 4), dtype=np.float32)
    saved = _model(source)
    saved.fit(x, np.ones((8, 2), "float32"), epochs=2, verbose=0)  # moves the running stats
    path = str(tmp_path / "mixed.weights.h5")
    saved.save_weights(path)
    loaded = _model(target)
    loaded.predict(x, verbose=0)  # builds
    loaded.load_weights(path)
    assert loaded.count_params() == saved.count_params() == 29
    # In inference, so that BatchNorm uses the loaded running statistics. (Keras's own `predict`
    # leaves a wrapped module in training mode here: it normalizes with the batch's statistics.)
    np.testing.assert_allclose(_infer(loaded, x), _infer(saved, x), rtol=1e-5, atol=1e-6)


def _infer(model, x):
    with torch.no_grad():
        return model(torch.as_tensor(x), training=False).cpu().numpy()
