"""SwapEMAWeights against Keras 3.15.1 (torch backend), the same model, data and callbacks."""

import numpy as np
import pytest

import netknit as keras

X = np.arange(32, dtype="float32").reshape(8, 4) / 32
Y = np.ones((8, 2), "float32")


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_validation_uses_the_averages(swap_on_epoch):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_initializer="ones")])
    model.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    history = model.fit(X, Y, batch_size=4, epochs=3, verbose=0, shuffle=False,
                        validation_data=(X, Y),
                        callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)])
    assert history.history["loss"] == pytest.approx([2.165546, 1.201129, 0.826058], rel=1e-5)
    assert history.history["val_loss"] == pytest.approx([1.585166, 1.006433, 0.713182],
                                                        rel=1e-5)
    np.testing.assert_allclose(model.get_weights()[0][:, 0], [0.7392, 0.7309, 0.72261, 0.71431],
                               atol=1e-5)
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(0.713182, rel=1e-5)


def test_predict_puts_the_trained_weights_back():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9), "mse")
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)  # the averages and weights now differ
    before = model.get_weights()[0]
    model.predict(X, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    np.testing.assert_array_equal(model.get_weights()[0], before)


def test_an_optimizer_without_ema_is_refused():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="use_ema=True"):
        model.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
