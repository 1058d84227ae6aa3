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


def test_layers_called_eagerly_in_a_subclassed_model_show_their_output_shapes():
    # Keras 3.15.1 infers a layer's output shape from the shapes it was built for when it has
    # no symbolic call (the layers of a subclassed model called on data).
    class Mlp(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense_1 = layers.Dense(64, activation="relu")
            self.dense_2 = layers.Dense(10)

        def call(self, inputs):
            return self.dense_2(self.dense_1(inputs))

    model = Mlp()
    model(np.zeros((1, 32), "float32"))
    assert _summary(model) == KERAS_SUBCLASSED_SUMMARY


def test_a_custom_layer_without_a_shape_rule_shows_a_question_mark_as_in_keras():
    # The subclassing guide's VAE: Keras's base layer has no compute_output_shape, so its
    # Encoder/Decoder blocks show "?" once called.
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(4)

        def call(self, inputs):
            return self.dense(inputs)

    class Outer(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block = Block()

        def call(self, inputs):
            return self.block(inputs)

    model = Outer()
    model(np.zeros((2, 3), "float32"))
    assert "│ block (Block)                   │ ?                      │            16 │" in (
        _summary(model))


KERAS_SUBCLASSED_SUMMARY = """\
Model: "mlp"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (1, 64)                │         2,112 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (1, 10)                │           650 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 2,762 (10.79 KB)
 Trainable params: 2,762 (10.79 KB)
 Non-trainable params: 0 (0.00 B)
"""
