"""`set_random_seed`: one call seeds Python, NumPy and torch, as Keras's does."""

from __future__ import annotations

import random

import numpy as np
import torch


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy and torch (all devices) for reproducible runs."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"Expected an integer seed. Received: seed={seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
