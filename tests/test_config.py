"""`keras.config`: the global settings read as Keras's; changing them says what to do instead."""

import logging

import numpy as np
import pytest
import torch

import netknit as keras


def test_settings_read_as_keras():
    assert keras.config.floatx() == "float32"
    assert keras.config.epsilon() == 1e-7
    assert keras.config.image_data_format() == "channels_last"
    assert keras.config.backend() == "torch"
    keras.config.set_floatx("float32")  # the current value is accepted


@pytest.mark.parametrize("call, message", [
    (lambda: keras.config.set_floatx("float16"), "dtype="),
    (lambda: keras.config.set_image_data_format("channels_first"), "data_format="),
    (lambda: keras.config.set_epsilon(1e-5), "epsilon="),
    (lambda: keras.config.enable_unsafe_deserialization(), "safe_mode=False"),
])
def test_changes_say_what_to_do_instead(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_max_epochs_and_max_steps_per_epoch_cap_fit_as_keras():
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    keras.config.set_max_epochs(2)
    keras.config.set_max_steps_per_epoch(1)
    try:
        with pytest.warns(UserWarning) as caught:
            history = _tiny_model().fit(x, y, batch_size=2, epochs=5, verbose=0)
        assert {str(w.message) for w in caught} == {
            "Limiting epochs to 2", "Limiting steps_per_epoch to 1"}
        assert len(history.history["loss"]) == 2
        assert history.params["steps"] == 1
        with pytest.warns(UserWarning, match="Limiting steps_per_epoch to 1"):
            assert _tiny_model().predict(x, batch_size=2, verbose=0).shape == (2, 1)
    finally:
        keras.config.set_max_epochs(None)
        keras.config.set_max_steps_per_epoch(None)
    assert keras.config.max_epochs() is None and keras.config.max_steps_per_epoch() is None


def test_interactive_logging_off_sends_lines_to_the_logger(capsys, caplog):
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    keras.config.disable_interactive_logging()
    try:
        assert not keras.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="netknit"):
            _tiny_model().fit(x, y, epochs=1, verbose=2)
    finally:
        keras.config.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert any("loss:" in record.getMessage() for record in caplog.records)
    assert keras.config.is_interactive_logging_enabled()


def test_flash_attention_switch(monkeypatch):
    calls = []
    fused_kernel = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, **k: calls.append(1) or fused_kernel(*a, **k))
    layer = keras.layers.MultiHeadAttention(2, 4)
    x = torch.randn(2, 3, 8)
    fused = layer(x, x)
    assert keras.config.is_flash_attention_enabled() is None and len(calls) == 1
    keras.config.disable_flash_attention()
    try:
        assert keras.config.is_flash_attention_enabled() is False
        torch.testing.assert_close(layer(x, x), fused, atol=1e-5, rtol=1e-5)
        assert len(calls) == 1  # the scores were computed without torch's fused kernel
    finally:
        keras.layers.attention.flash_attention_enabled = None


def test_traceback_filtering_is_off():
    assert keras.config.is_traceback_filtering_enabled() is False
    keras.config.disable_traceback_filtering()
    with pytest.warns(UserWarning, match="does not filter tracebacks"):
        keras.config.enable_traceback_filtering()


def test_standardize_dtype_as_keras():
    standardize = keras.utils.standardize_dtype
    assert [standardize(d) for d in (None, "int", float, int, np.float64, torch.float16)] == [
        "float32", "int32", "float32", "int32", "float64", "float16"]


def test_nnx_is_off_as_keras_says_on_torch():
    assert keras.config.is_nnx_enabled() is False
    real_keras = pytest.importorskip("keras")
    assert real_keras.config.is_nnx_enabled() is keras.config.is_nnx_enabled()
