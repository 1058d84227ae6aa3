"""summary() details beyond the seeds, with the text Keras 3 prints for the same models."""

import numpy as np
import pytest

import netknit as keras
from netknit import layers


@pytest.fixture(autouse=True)
def terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def _summary(model, **kwargs) -> str:
    printed = []
    model.summary(print_fn=printed.append, **kwargs)
    assert len(printed) == 1  # Keras calls print_fn once, with the whole table
    return printed[0]


def test_optimizer_params_appear_once_training_built_the_optimizer():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile("adam", "mse")
    model.evaluate(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert "Optimizer params" not in _summary(model)  # evaluate does not build it
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    text = _summary(model)
    # Keras: iteration + learning rate + 2 slots per weight = 1 + 1 + 16 variables.
    assert " Total params: 26 (104.00 B)\n" in text
    assert " Optimizer params: 18 (72.00 B)\n" in text


def test_learning_rate_schedule_has_no_learning_rate_variable():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile(keras.optimizers.SGD(learning_rate=schedule), "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert " Optimizer params: 1 (4.00 B)\n" in _summary(model)


def test_expand_nested_lists_inner_layers_with_keras_prefix():
    inner = keras.Sequential(
        [keras.Input((8,)), layers.Dense(4, name="inner_d1"), layers.Dense(2, name="inner_d2")],
        name="inner",
    )
    x = keras.Input((8,))
    model = keras.Model(x, layers.Dense(1)(inner(x)))
    assert "inner_d1" not in _summary(model)
    expanded = _summary(model, expand_nested=True)
    assert "│    └ inner_d1 (Dense)" in expanded and "│    └ inner_d2 (Dense)" in expanded


def test_show_trainable_column():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(4, name="frozen"), layers.Dense(2)])
    model.layers[0].trainable = False
    text = _summary(model, show_trainable=True)
    # The same table as Keras: the narrow column truncates its header.
    assert text.splitlines()[2].endswith("┃    Param # ┃ Trai… ┃")
    assert "│ frozen (Dense)              │ (None, 4)             │         24 │   N   │" in text
    assert " Non-trainable params: 24 (96.00 B)" in text
