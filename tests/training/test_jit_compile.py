"""`compile(jit_compile=True)` trains and predicts like the eager model."""

import numpy as np

import netknit as keras


def _model(jit_compile):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse", jit_compile=jit_compile)
    return model


def test_jit_compile_matches_eager_training_and_prediction():
    rng = np.random.default_rng(0)
    x, y = rng.random((24, 4), dtype="float32"), rng.random((24, 1), dtype="float32")
    eager, compiled = _model(False), _model(True)
    compiled.set_weights(eager.get_weights())
    eager_loss = eager.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    compiled_loss = compiled.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(compiled_loss.history["loss"], eager_loss.history["loss"],
                               rtol=1e-5)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled.predict(x, verbose=0), eager.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert "gradients" in compiled._compiled_steps  # the whole forward + backward, one graph
    assert all(p.grad is None for p in compiled.parameters())
