"""Names Keras code reaches for exist, and are the same objects as netknit's own."""

import netknit as keras
from netknit import constraints, initializers, losses, metrics


def test_top_level_names():
    assert keras.KerasTensor is keras.SymbolicTensor
    assert isinstance(keras.Input((2,)), keras.KerasTensor)
    assert keras.Loss is losses.Loss and keras.Metric is metrics.Metric
    assert keras.version() == keras.__version__
    assert issubclass(keras.ops.OPERATIONS["Add"], keras.Operation)


def test_backend_facts():
    assert keras.backend.epsilon() == 1e-7
    assert keras.backend.floatx() == "float32"
    assert keras.backend.image_data_format() == "channels_last"
    assert keras.backend.backend() == "torch"
    assert keras.backend.is_keras_tensor(keras.Input((2,)))
    assert keras.utils.is_keras_tensor(keras.Input((2,)))


def test_lowercase_and_longer_aliases():
    assert metrics.mean_squared_error is losses.mean_squared_error
    assert constraints.max_norm is constraints.MaxNorm
    assert initializers.IdentityInitializer is initializers.identity is initializers.Identity
    # Keras's lookup table takes the longer class names as strings too.
    assert isinstance(initializers.get("OrthogonalInitializer"), initializers.Orthogonal)
    assert isinstance(initializers.get("STFTInitializer"), initializers.STFT)
    assert keras.models.save_model is keras.saving.save_model
    assert keras.utils.register_keras_serializable is keras.saving.register_keras_serializable
