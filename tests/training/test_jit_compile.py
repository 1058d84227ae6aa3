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
    steps = compiled._compiled_steps
    assert "gradients" in steps  # the whole forward + backward, one graph
    assert all(type(f).__name__ == "AOTCompiledFunction" for name in ("gradients", "predict")
               for f in steps[name]._by_signature.values())
    assert all(p.grad is None for p in compiled.parameters())


def test_jit_compile_with_sample_weights_a_smaller_last_batch_and_two_outputs():
    rng = np.random.default_rng(1)
    x = rng.random((26, 4), dtype="float32")
    y = {"a": rng.random((26, 1), dtype="float32"), "b": rng.integers(0, 3, 26)}
    weights = rng.random(26).astype("float32")

    def model(jit_compile):
        keras.utils.set_random_seed(2)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        outputs = {"a": keras.layers.Dense(1, name="a")(hidden),
                   "b": keras.layers.Dense(3, activation="softmax", name="b")(hidden)}
        built = keras.Model(inputs, outputs)
        built.compile(optimizer="rmsprop",
                      loss={"a": "mse", "b": "sparse_categorical_crossentropy"},
                      metrics={"b": ["accuracy"]}, jit_compile=jit_compile)
        return built

    eager, compiled = model(False), model(True)
    histories = [m.fit(x, y, sample_weight=weights, batch_size=8, epochs=2, shuffle=False,
                       validation_data=(x, y), verbose=0).history for m in (eager, compiled)]
    assert sorted(histories[1]) == sorted(histories[0])
    for key, values in histories[0].items():
        np.testing.assert_allclose(histories[1][key], values, rtol=1e-4, atol=1e-6, err_msg=key)
    # Batches of 8 and a last one of 2, without and with sample weights: one graph for each.
    assert len(compiled._compiled_steps["gradients"]._by_signature) == 2
    unweighted = [m.evaluate(x, y, batch_size=8, return_dict=True, verbose=0)
                  for m in (eager, compiled)]
    for key, value in unweighted[0].items():
        np.testing.assert_allclose(unweighted[1][key], value, rtol=1e-4, err_msg=key)
    steps = compiled._compiled_steps
    assert len(steps["test_loss"]._by_signature) == 2
    # Each compiled ahead of time (no guards checked per call), none fell back.
    assert all(type(f).__name__ == "AOTCompiledFunction" for name in ("gradients", "test_loss")
               for f in steps[name]._by_signature.values())
