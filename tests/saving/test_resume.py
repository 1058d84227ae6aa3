"""A compiled model saved mid-training resumes exactly where it stopped."""

import numpy as np
import pytest
import torch
from helpers import mixed_data, mixed_model

import netknit as keras


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "nadam", "adagrad", "ftrl", "lamb",
                                       "adafactor"])
def test_fit_resumed_from_a_saved_model_matches_an_uninterrupted_fit(optimizer, tmp_path):
    x, y = mixed_data(n=8)
    torch.manual_seed(1)
    straight = mixed_model()
    initial = straight.get_weights()

    def compiled(model):
        model.compile(optimizer=optimizer, loss={"first": "mse", "second": "mae"},
                      metrics={"first": ["mae"]})
        return model

    compiled(straight).fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)

    keras.backend.clear_session()
    resumed = mixed_model()
    resumed.set_weights(initial)
    compiled(resumed).fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    resumed.save(tmp_path / "half.keras")
    loaded = keras.models.load_model(tmp_path / "half.keras")
    assert loaded.optimizer.iterations == 2
    loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)

    for got, want in zip(loaded.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(straight.evaluate(x, y, verbose=0))


def test_compile_false_loads_an_uncompiled_model(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    model.save(tmp_path / "m.keras")
    assert not keras.models.load_model(tmp_path / "m.keras", compile=False).compiled


def test_a_model_saved_before_its_first_step_resumes_fresh(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(learning_rate=0.05), "mse", metrics=["mae"])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.learning_rate == pytest.approx(0.05)
    assert loaded.optimizer.iterations == 0
    loaded.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
