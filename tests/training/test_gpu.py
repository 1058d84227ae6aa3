"""On a CUDA GPU: training runs on the device and the host never waits for it inside the loop.

These tests run only where CUDA is available (CI has no GPU; they were run on the H100 that the
project's `device` tool lends, see BENCHMARKS.md). The host waits for the device only at the
end of an epoch (reading the logs) and when the progress bar refreshes, so with `verbose=0` the
number of synchronisations must not grow with the number of steps.
"""

import warnings

import numpy as np
import pytest
import torch

import netknit as keras

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _synchronisations(fn) -> int:
    """How often `fn` makes the host wait for the GPU (torch's sync debug mode warns each time)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def _model(jit_compile, optimizer="adam"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit_compile)
    return model


def _data(samples):
    rng = np.random.default_rng(0)
    return rng.random((samples, 8), dtype="float32"), rng.integers(0, 3, samples)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_fit_does_not_wait_for_the_gpu_per_step(jit_compile, optimizer):
    model = _model(jit_compile, optimizer)
    assert next(model.parameters()).device.type == "cuda"
    few, many = _data(4 * 16), _data(64 * 16)
    model.fit(*few, batch_size=16, verbose=0)  # compiles; its synchronisations are not counted
    model.fit(*many, batch_size=16, verbose=0)

    per_fit_few = _synchronisations(lambda: model.fit(*few, batch_size=16, verbose=0))
    per_fit_many = _synchronisations(lambda: model.fit(*many, batch_size=16, verbose=0))
    # A wait per step would add 60; the end of the epoch reads the logs once in both.
    assert per_fit_few <= 4 and per_fit_many <= per_fit_few + 1, (per_fit_few, per_fit_many)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_evaluate_and_predict_do_not_wait_for_the_gpu_per_step(jit_compile):
    model = _model(jit_compile)
    few, many = _data(4 * 16), _data(64 * 16)
    for x, y in (few, many):
        model.evaluate(x, y, batch_size=16, verbose=0)
        model.predict(x, batch_size=16, verbose=0)
    evaluate = [_synchronisations(lambda d=d: model.evaluate(*d, batch_size=16, verbose=0))
                for d in (few, many)]
    predict = [_synchronisations(lambda d=d: model.predict(d[0], batch_size=16, verbose=0))
               for d in (few, many)]
    assert evaluate[0] <= 4 and evaluate[1] <= evaluate[0] + 1, evaluate
    assert predict[0] <= 4 and predict[1] <= predict[0] + 1, predict


@pytest.mark.parametrize("jit_compile", [False, True])
def test_training_on_the_gpu_matches_the_cpu(jit_compile):
    x, y = _data(96)
    on_gpu = _model(jit_compile)
    on_cpu = _model(False)
    on_cpu.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"], device="cpu")
    on_cpu.set_weights(on_gpu.get_weights())
    gpu_history = on_gpu.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    cpu_history = on_cpu.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert sorted(gpu_history) == ["accuracy", "loss"]
    np.testing.assert_allclose(gpu_history["loss"], cpu_history["loss"], rtol=1e-4)
    # Adam divides by the gradient's root mean square, so a weight whose gradients nearly cancel
    # moves by up to ~1e-4 differently when the GPU sums them in another order.
    for a, b in zip(on_gpu.get_weights(), on_cpu.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(on_gpu.predict(x, verbose=0), on_cpu.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer", [
    "LSTM", "SimpleRNN",
    # GRU's two biases are rows of one weight, so cuDNN copies its weights at every call.
    pytest.param("GRU", marks=pytest.mark.filterwarnings("ignore:RNN module weights")),
])
def test_recurrent_layers_train_on_the_gpu_as_on_the_cpu(layer):
    """cuDNN's fused kernels: trained with their weights in one buffer where they can be (no
    "not part of single contiguous chunk" warning, which the test configuration makes an error),
    and with what their backward pass needs kept (it fails otherwise)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 5, 3), dtype="float32"), rng.random((32, 1), dtype="float32")
    models = []
    for device in ("cuda", "cpu"):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5, 3)), getattr(keras.layers, layer)(4),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse", device=device)
        models.append(model)
    on_gpu, on_cpu = models
    on_gpu.set_weights(on_cpu.get_weights())
    for model in models:
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(on_gpu.get_weights(), on_cpu.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(on_gpu.predict(x, verbose=0), on_cpu.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-4)
