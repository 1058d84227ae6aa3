"""How a layer call takes its arguments, as Keras's does: arrays in every argument become tensors
(floating ones in the compute dtype), and only tensors may be passed positionally."""

import numpy as np
import pytest
import torch

import netknit

RNG = np.random.RandomState(0)
Q = RNG.randn(2, 3, 4)  # float64, as NumPy makes them
V = RNG.randn(2, 5, 4)
H, C = RNG.randn(2, 2), RNG.randn(2, 2)
ATTENTION_MASK = np.array([[[1, 1, 0, 0, 0]] * 3, [[1, 1, 1, 1, 0]] * 3], bool)
SEQUENCE_MASK = np.array([[1, 1, 0], [1, 0, 0]], bool)
POSITIONAL = "Only input tensors may be passed as positional arguments"
TRAINING_TWICE = "got multiple values for argument 'training'"


def _uniform_weights(layer, offset=0):
    return [np.random.RandomState(i + offset).uniform(-0.5, 0.5, w.shape).astype("float32")
            for i, w in enumerate(layer.get_weights())]


def _seen_by_call(keras, **layer_kwargs):
    """A layer whose call reports the type and dtype of each argument it received."""

    def describe(value):
        if isinstance(value, list):
            return [describe(v) for v in value]
        return None if value is None else (type(value).__name__,
                                           str(getattr(value, "dtype", None)))

    class Report(keras.layers.Layer):
        def call(self, a, b=None, c=None, mask=None):
            return [describe(v) for v in (a, b, c, mask)]

    return Report(**layer_kwargs)


def test_multi_head_attention_takes_arrays_everywhere():
    mha = netknit.layers.MultiHeadAttention(2, 4)
    mha(Q, V)
    mha.set_weights(_uniform_weights(mha))
    out = mha(Q, V, attention_mask=ATTENTION_MASK)
    assert out.dtype == torch.float32 and out.shape == (2, 3, 4)
    # Keras 3.15.1 (torch backend), same weights and arrays.
    expected = [[0.0331, 0.5287, -0.1386, 0.7675], [-0.5632, 0.2226, -0.1792, 0.1196]]
    np.testing.assert_allclose(out.detach().numpy()[:, 0], expected, atol=1e-4)
    as_tensors = mha(torch.tensor(Q, dtype=torch.float32), torch.tensor(V, dtype=torch.float32),
                     attention_mask=torch.tensor(ATTENTION_MASK))
    torch.testing.assert_close(out, as_tensors)


def test_lstm_takes_array_initial_state_and_mask():
    lstm = netknit.layers.LSTM(2)
    lstm(Q, initial_state=[H, C])
    lstm.set_weights(_uniform_weights(lstm, offset=10))
    out = lstm(Q, initial_state=[H, C], mask=SEQUENCE_MASK)
    expected = [[-0.156, -0.1047], [0.2121, 0.1105]]  # Keras 3.15.1, same weights and arrays
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-4)


@pytest.mark.parametrize("make", [
    lambda keras: keras.layers.Attention()([Q, V]),
    lambda keras: keras.layers.Add()([Q, Q]),
    lambda keras: keras.layers.Add()([np.ones((2, 3), "int32")] * 2),
    lambda keras: keras.layers.Dense(3)(np.ones((2, 3), "int64")),
    lambda keras: keras.layers.Embedding(5, 3)(np.ones((2, 3), "int64")),
    lambda keras: keras.layers.Embedding(5, 3)(np.ones((2, 3))),
    lambda keras: keras.layers.MultiHeadAttention(2, 4)(Q, V, attention_mask=ATTENTION_MASK),
])
def test_outputs_of_array_calls_as_keras(make, real_keras):
    ours, theirs = make(netknit), make(real_keras)
    assert (tuple(ours.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype)


def test_every_argument_is_converted_with_keras_dtypes():
    f64, i64, i32 = np.ones((2, 3)), np.ones((2, 3), "int64"), np.ones((2, 3), "int32")
    float32, float64 = ("Tensor", "torch.float32"), ("Tensor", "torch.float64")
    int64, int32 = ("Tensor", "torch.int64"), ("Tensor", "torch.int32")
    # What the call of the same layer received in Keras 3.15.1 (torch backend).
    assert _seen_by_call(netknit)(f64, f64, c=[f64, i64], mask=SEQUENCE_MASK) == [
        float32, float32, [float32, int64], ("Tensor", "torch.bool")]
    assert _seen_by_call(netknit)(i64, i32, c=np.float64(2.0), mask=i32) == [
        int64, int32, float32, int32]
    assert _seen_by_call(netknit, autocast=False)(f64, f64, c=f64) == [
        float64, float64, float64, None]
    assert _seen_by_call(netknit, dtype="float16")(
        torch.ones(2), c=np.float32(1.0)) == [("Tensor", "torch.float16"), None,
                                              ("Tensor", "torch.float16"), None]
    # Python numbers given by keyword are settings: they stay as they are.
    layer = _seen_by_call(netknit)
    assert layer(f64, c=[1.0, 2])[2] == [("float", "None"), ("int", "None")]
    assert layer(f64, c=1.5)[2] == ("float", "None")


def test_call_arguments_as_keras_sees_them(real_keras):
    arrays = (np.ones((2, 3)), np.ones((2, 3), "uint8"))
    for layer_kwargs in ({}, {"autocast": False}):
        assert _seen_by_call(netknit, **layer_kwargs)(*arrays, c=[arrays[1], arrays[0]]) == (
            _seen_by_call(real_keras, **layer_kwargs)(*arrays, c=[arrays[1], arrays[0]]))


def test_a_setting_passed_positionally_is_refused():
    x = torch.ones(2, 3)
    with pytest.raises(ValueError, match=f"{POSITIONAL}.*True.*e.g. training=True"):
        netknit.layers.Dropout(0.5)(x, True)
    dense = netknit.layers.Dense(2)
    dense(x)
    with pytest.raises(ValueError, match=f"{POSITIONAL}.*'dense.*True"):
        dense(x, True)  # built, so past the first call's checks
    with pytest.raises(ValueError, match=f"{POSITIONAL}.*received 1.0 \\(of type float\\)"):
        dense([x, 1.0])
    with pytest.raises(ValueError, match=POSITIONAL):
        dense([[1.0, 2.0, 3.0]])  # Python numbers, which Keras does not convert
    with pytest.raises(ValueError, match=POSITIONAL):
        netknit.layers.Dense(2)(netknit.Input((3,)), True)


def test_a_users_layer_refuses_settings_unless_it_allows_them():
    class Scale(netknit.layers.Layer):
        def call(self, x, scale):
            return x * scale

    with pytest.raises(ValueError, match=f"{POSITIONAL}.*e.g. scale=2.0"):
        Scale()(torch.ones(2, 3), 2.0)
    assert Scale()(torch.ones(2, 3), scale=2.0).sum().item() == 12.0
    allowed = Scale()
    allowed._allow_non_tensor_positional_args = True  # Keras's switch, set in `__init__`
    assert allowed(torch.ones(2, 3), 2.0).sum().item() == 12.0
    # Arrays, tensors and None are inputs.
    assert Scale()(torch.ones(2, 3), np.array(2.0)).dtype == torch.float32
    assert netknit.layers.Dropout(0.5)(torch.ones(2, 3), None).shape == (2, 3)


def _functional():
    inputs = netknit.Input((3,))
    return netknit.Model(inputs, netknit.layers.Dense(2)(inputs))


def test_a_second_positional_argument_of_a_model_is_refused():
    x = torch.ones(2, 3)
    model = _functional()
    for second in (True, np.ones((2, 3), "float32"), x):
        with pytest.raises(TypeError, match=f"Functional.call\\(\\) {TRAINING_TWICE}"):
            model(x, second)
    with pytest.raises(TypeError, match=TRAINING_TWICE):
        model(netknit.Input((3,)), True)
    assert model(x, None).shape == (2, 2)
    sequential = netknit.Sequential([netknit.Input((3,)), netknit.layers.Dense(2)])
    with pytest.raises(ValueError, match=f"{POSITIONAL}.*e.g. training=True"):
        sequential(x, True)
    with pytest.raises(TypeError, match=f"Sequential.call\\(\\) {TRAINING_TWICE}"):
        sequential(x, x)
    assert sequential(x, None).shape == (2, 2)


@pytest.mark.parametrize("call", [
    lambda keras: keras.layers.Dense(2)(torch.ones(2, 3), True),
    lambda keras: keras.layers.BatchNormalization()(torch.ones(2, 3), True),
    lambda keras: keras.layers.Dense(2)([torch.ones(2, 3), 1]),
    lambda keras: keras.layers.Dense(2)(1.0),
    lambda keras: keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])(
        torch.ones(2, 3), False),
    lambda keras: keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])(
        torch.ones(2, 3), torch.ones(2, 3)),
    lambda keras: (lambda i: keras.Model(i, keras.layers.Dense(2)(i)))(keras.Input((3,)))(
        torch.ones(2, 3), np.ones((2, 3))),
])
def test_errors_of_the_same_type_as_keras(call, real_keras):
    with pytest.raises(Exception) as theirs:
        call(real_keras)
    with pytest.raises(type(theirs.value)):
        call(netknit)
