"""The variables of an optimizer inside a LossScaleOptimizer: Keras builds it with automatic
tracking off, so Nadam's momentum product and Adafactor's placeholders for 1-D weights are not
among them (nor in the files), while the same optimizer alone lists them."""

import numpy as np
import pytest

import netknit as keras

X = np.random.RandomState(0).rand(4, 3).astype("float32")
Y = np.random.RandomState(1).rand(4, 2).astype("float32")


def _trained(lib, optimizer):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
    model.compile(optimizer, "mse")
    model.fit(X, Y, epochs=2, batch_size=2, verbose=0)
    return model


def _shapes(optimizer):
    return [tuple(v.shape) for v in optimizer.variables]


# Keras 3.15.1's variable shapes: the wrapper's 4 scalars, then the inner optimizer's.
EXPECTED = {
    "Nadam": ([(), (), (3, 2), (3, 2), (2,), (2,), ()],
              [(), (), (), (), (), (), (3, 2), (3, 2), (2,), (2,)]),
    "Adafactor": ([(), (), (3,), (2,), (3, 2), (), (), (2,)],
                  [(), (), (), (), (), (), (3,), (2,), (3, 2), (2,)]),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_variables_alone_and_inside_a_loss_scale_optimizer(name):
    alone, wrapped = EXPECTED[name]
    assert _shapes(_trained(keras, getattr(keras.optimizers, name)()).optimizer) == alone
    optimizer = _trained(keras, keras.optimizers.LossScaleOptimizer(
        getattr(keras.optimizers, name)())).optimizer
    assert _shapes(optimizer) == wrapped
    assert _shapes(optimizer.inner_optimizer) == wrapped[4:]
    # The numbers Keras counts (the optimizer's line of `summary`).
    assert optimizer.variables_size()[0] == sum(int(np.prod(s)) for s in wrapped)


def test_an_optimizer_built_before_it_was_wrapped_keeps_them():
    inner = keras.optimizers.Nadam()
    inner.build([keras.Variable(np.zeros((2,), "float32"))])
    assert len(keras.optimizers.LossScaleOptimizer(inner).inner_optimizer.variables) == 5


@pytest.mark.parametrize("name", EXPECTED)
def test_files_move_between_keras_and_netknit(name, real_keras, tmp_path):
    def make(lib):
        return _trained(lib, lib.optimizers.LossScaleOptimizer(getattr(lib.optimizers, name)()))

    for source, target in ((real_keras, keras), (keras, real_keras)):
        model = make(source)
        model.save(tmp_path / "m.keras")
        saved = [real_keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
        loaded = target.saving.load_model(tmp_path / "m.keras")
        values = [real_keras.ops.convert_to_numpy(v) for v in loaded.optimizer.variables]
        assert len(values) == len(saved) == 10
        for value, expected in zip(values, saved):
            np.testing.assert_allclose(value, expected, rtol=1e-6)


def test_training_on_after_loading_a_keras_file_matches_keras(real_keras, tmp_path):
    # Keras's file leaves Nadam's product out, so both restart it; they go on alike.
    model = _trained(real_keras, real_keras.optimizers.LossScaleOptimizer(
        real_keras.optimizers.Nadam()))
    model.save(tmp_path / "m.keras")
    theirs = real_keras.saving.load_model(tmp_path / "m.keras")
    ours = keras.saving.load_model(tmp_path / "m.keras")
    for loaded in (theirs, ours):
        loaded.fit(X, Y, epochs=3, batch_size=4, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
