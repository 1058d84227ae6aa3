"""`keras.config`: the global settings read as Keras's; changing them says what to do instead."""

import pytest

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
