import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
# Parity tests compare with real Keras when it is installed, always on its torch backend and on
# the CPU: the reference values come back as NumPy arrays, and a GPU's kernels round differently.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_TORCH_DEVICE", "cpu")
# On a GPU, float32 convolutions in exact float32 (torch's default lets cuDNN use TF32), so that
# tolerances written for the CPU hold there too.
torch.backends.cudnn.allow_tf32 = False

import netknit  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_session():
    """Each test starts with Keras's automatic names reset and seeded random generators."""
    netknit.backend.clear_session()
    torch.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(scope="session")
def real_keras():
    """Real Keras on its torch backend, for tests that compare with it live; they are skipped
    when Keras is not installed or runs another backend."""
    real = pytest.importorskip("keras")
    if real.backend.backend() != "torch":
        pytest.skip("needs Keras on the torch backend")
    return real
