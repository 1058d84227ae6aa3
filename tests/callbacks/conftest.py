"""Fakes for driving callbacks without a trainer: a model, its optimizer, lazy batch logs."""

import io
from collections.abc import Mapping

import numpy as np
import pytest
import torch


class FakeOptimizer:
    """An optimizer with what callbacks use: learning_rate, iterations, state_dict."""

    def __init__(self, params, learning_rate=0.01):
        self._torch = torch.optim.Adam(params, lr=learning_rate)
        self.iterations = 0

    @property
    def learning_rate(self):
        return self._torch.param_groups[0]["lr"]

    @learning_rate.setter
    def learning_rate(self, value):
        self._torch.param_groups[0]["lr"] = value

    def step(self):
        self._torch.step()
        self.iterations += 1

    def state_dict(self):
        return {"torch": self._torch.state_dict(), "iterations": self.iterations}

    def load_state_dict(self, state):
        self._torch.load_state_dict(state["torch"])
        self.iterations = state["iterations"]


class FakeModel(torch.nn.Module):
    """A small model with the surface callbacks see: weights, optimizer, save, stop_training."""

    def __init__(self):
        super().__init__()
        self.name = "fake_model"
        self.dense = torch.nn.Linear(3, 2)
        self.optimizer = FakeOptimizer(self.parameters())
        self.stop_training = False
        self.history = None
        self.saved = []

    def get_weights(self):
        return [p.detach().numpy().copy() for p in self.parameters()]

    def set_weights(self, weights):
        with torch.no_grad():
            for p, w in zip(self.parameters(), weights, strict=True):
                p.copy_(torch.as_tensor(w))

    def train_one_step(self):
        self.optimizer._torch.zero_grad()
        self.dense(torch.ones(4, 3)).square().sum().backward()
        self.optimizer.step()

    def save(self, path):
        self.saved.append(path)
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saved.append(path)
        with open(path, "w") as f:
            f.write("weights")


class CountingLogs(Mapping):
    """Batch logs like the trainer's: values computed on access; counts the reads."""

    def __init__(self, values):
        self.values = dict(values)
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self.values[key]

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def model():
    return FakeModel()


@pytest.fixture
def weights_equal():
    def check(a, b):
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    return check


@pytest.fixture
def counting_logs():
    return CountingLogs


@pytest.fixture
def terminal():
    return FakeTerminal()


@pytest.fixture
def new_model():
    """Makes fresh models, e.g. a second one to restore a backup into."""
    return FakeModel
