import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
# Parity tests compare with real Keras when it is installed, always on its torch backend.
os.environ.setdefault("KERAS_BACKEND", "torch")

import netknit  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_session():
    """Each test starts with Keras's automatic names reset and seeded random generators."""
    netknit.backend.clear_session()
    torch.manual_seed(0)
    np.random.seed(0)
    yield
