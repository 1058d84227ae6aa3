"""Fakes for driving callbacks without a trainer: a model, its optimizer, lazy batch logs."""

import io
import re
from collections.abc import Mapping

import numpy as np
import pytest
import torch


class FakeOptimizer:
    """An optimizer with what callbacks use: learning_rate, iterations."""

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


def screen(output):
    """The lines a terminal shows after `output`, for the codes rich's live display writes."""
    lines, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", output):
        if token == "\n":
            row, col = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif token == "\r":
            col = 0
        elif token == "\x1b[2K":
            lines[row] = ""
        elif up := re.fullmatch(r"\x1b\[(\d*)A", token):
            row -= int(up[1] or 1)
        elif not token.startswith("\x1b"):  # colors and cursor visibility change no text
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token):]
            col += len(token)
    return lines


@pytest.fixture
def terminal(monkeypatch):
    """A terminal 120 columns wide, whatever terminal the tests run in."""
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    return FakeTerminal()


@pytest.fixture(name="screen")
def screen_fixture():
    return screen
