"""InputSpec: a layer's declared inputs are checked on symbolic calls and on the building call,
with errors that name the layer, what it expects and what it received."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


class Sequences(layers.Layer):
    """Takes (batch, steps, features) inputs only, as declared by its input_spec."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = layers.InputSpec(ndim=3)

    def forward(self, inputs):
        return inputs.sum(1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def test_a_symbolic_call_of_the_wrong_rank_names_the_layer_and_both_ranks():
    with pytest.raises(keras.ShapeError) as info:
        Sequences(name="pool_steps")(keras.Input((4,)))
    message = str(info.value)
    assert "'pool_steps' (Sequences)" in message
    assert "expects 3-D inputs (ndim=3)" in message
    assert "the 2-D input (None, 4)" in message
    assert "the model input" in message and "Fix:" in message


def test_the_building_call_on_data_is_checked_and_later_calls_are_not():
    layer = Sequences()
    with pytest.raises(ValueError, match=r"Layer 'sequences' \(Sequences\) .* expects 3-D"):
        layer(np.zeros((2, 4), "float32"))
    assert not layer.built
    assert layer(torch.zeros(2, 5, 4)).shape == (2, 4)
    # Built: the hot path runs torch directly, without the check.
    assert layer(torch.zeros(2, 5, 4, 1)).shape == (2, 4, 1)


def test_a_model_checks_when_it_is_built_not_when_it_runs():
    inputs = keras.Input((5, 4))
    model = keras.Model(inputs, Sequences()(inputs))
    assert model.predict(np.ones((2, 5, 4), "float32"), verbose=0).shape == (2, 4)


@pytest.mark.parametrize("spec, shape, dtype, pattern", [
    (dict(min_ndim=3), (None, 4), "float32", r"at least 3 axes \(min_ndim=3\)"),
    (dict(max_ndim=2), (None, 4, 2), "float32", r"at most 2 axes \(max_ndim=2\)"),
    (dict(axes={-1: 8}), (None, 4), "float32", r"size 8 on axis -1"),
    (dict(shape=(None, 28, 28)), (None, 28, 27), "float32", r"shape \(None, 28, 28\)"),
    (dict(dtype="int32"), (None, 4), "float32", r"dtype int32.*received float32"),
])
def test_every_kind_of_expectation_is_checked(spec, shape, dtype, pattern):
    layer = layers.Identity()
    layer.input_spec = layers.InputSpec(**spec)
    with pytest.raises(ValueError, match=pattern):
        layer(keras.Input(shape[1:], dtype=dtype))


def test_what_fits_passes():
    for spec, shape in [
        (dict(ndim=3, axes={-1: 4}), (None, 2, 4)),
        (dict(shape=(None, 28, 28, 1), allow_last_axis_squeeze=True), (None, 28, 28)),
        (dict(min_ndim=2, max_ndim=3, dtype="float32"), (None, 5)),
        (dict(axes={1: 6}), (None, None, 2)),  # an unknown size may be the right one
    ]:
        layer = layers.Identity()
        layer.input_spec = layers.InputSpec(**spec)
        assert layer(keras.Input(shape[1:])).shape == shape


def test_specs_for_several_inputs_and_named_inputs():
    add = layers.Add()
    add.input_spec = [layers.InputSpec(ndim=2), layers.InputSpec(ndim=2)]
    with pytest.raises(ValueError, match="expects 2 input"):
        add([keras.Input((3,)), keras.Input((3,)), keras.Input((3,))])
    with pytest.raises(keras.ShapeError, match="input 1 is the 3-D input"):
        add([keras.Input((3,)), keras.Input((3, 1))])
    named = layers.Identity()
    named.input_spec = [layers.InputSpec(ndim=2, name="a"), layers.InputSpec(ndim=3, name="b")]
    with pytest.raises(ValueError, match="has no 'b'"):
        named({"a": keras.Input((3,))})


def test_input_spec_arguments_repr_and_config_are_keras_s():
    spec = layers.InputSpec(shape=(None, 3), axes={-1: 3})
    assert spec.ndim == 2 and repr(spec) == "InputSpec(shape=(None, 3), ndim=2, axes={-1: 3})"
    assert spec.get_config() == {"dtype": None, "shape": (None, 3), "ndim": 2, "max_ndim": None,
                                 "min_ndim": None, "axes": {-1: 3}, "optional": False}
    assert layers.InputSpec.from_config(spec.get_config()).axes == {-1: 3}
    assert keras.InputSpec is layers.InputSpec
    with pytest.raises(TypeError, match="integer keys"):
        layers.InputSpec(axes={"last": 3})
    with pytest.raises(ValueError, match="axis 2, but its inputs have at most 2 axes"):
        layers.InputSpec(ndim=2, axes={2: 3})
    with pytest.raises(ValueError, match="Unknown dtype"):
        layers.InputSpec(dtype="float33")


@pytest.mark.parametrize("make, good, bad, expected", [
    (lambda: layers.Dense(4), (2, 8), (2, 5), r"'dense\w*' \(Dense\).*8 features on the last axis"),
    (lambda: layers.Conv2D(4, 3), (1, 8, 8, 3), (1, 8, 8, 2), r"\(Conv2D\).*3 channels"),
    (lambda: layers.Conv2D(4, 3), (1, 8, 8, 3), (8, 8, 3), r"\(Conv2D\) .*expects 4-D inputs"),
    (lambda: layers.BatchNormalization(), (2, 4), (2, 5), r"\(BatchNormalization\).*4 channels"),
])
def test_a_built_layer_called_on_a_wrong_size_raises_a_value_error_naming_it(
        make, good, bad, expected):
    """As Keras's input spec does (a ValueError); torch's kernel error is kept as the cause."""
    layer = make()
    layer(np.zeros(good, "float32"))
    for data in (np.zeros(bad, "float32"), torch.zeros(bad)):
        with pytest.raises(ValueError, match=expected) as info:
            layer(data)
        assert isinstance(info.value.__cause__, RuntimeError)


class Failing(layers.Layer):
    def forward(self, inputs):
        raise RuntimeError("a kernel failure unrelated to shapes")

    def compute_output_shape(self, input_shape):
        return input_shape


def test_a_failed_call_the_shape_rule_accepts_keeps_torch_s_error():
    layer = Failing()
    with pytest.raises(RuntimeError, match="unrelated to shapes"):
        layer(torch.zeros(2, 3))


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(3), lambda: layers.LSTM(3), lambda: layers.BatchNormalization(),
    lambda: layers.ReLU(), lambda: layers.Conv1D(3, 2)])
def test_floating_tensors_of_another_dtype_are_cast_to_the_layer_s_as_keras_autocasts(make):
    layer = make()
    data = torch.rand(2, 4, 5)
    expected = layer(data)
    for dtype in (torch.float64, torch.float16):
        out = layer(data.to(dtype))  # built: the call the hot path would take
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, expected, atol=2e-3, rtol=1e-2)


def test_multi_head_attention_casts_its_value_too():
    query = torch.rand(2, 3, 4, dtype=torch.float64)
    assert layers.MultiHeadAttention(2, 3)(query, query).dtype == torch.float32


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(3), lambda: layers.LSTM(3), lambda: layers.SimpleRNN(3),
    lambda: layers.BatchNormalization(), lambda: layers.LayerNormalization(),
    lambda: layers.GroupNormalization(2), lambda: layers.GlobalAveragePooling1D(),
    lambda: layers.TimeDistributed(layers.Dense(2))])
def test_integer_inputs_of_layers_that_compute_in_floats_give_floats_as_in_keras(make):
    """Keras's matmuls and means promote integers: `Dense(3)(np.array([[1, 2]]))` works there."""
    layer = make()
    tokens = np.random.default_rng(0).integers(0, 5, (2, 4, 6))
    for data in (tokens, torch.as_tensor(tokens), torch.as_tensor(tokens)):  # unbuilt, built
        out = layer(data)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, layer(torch.as_tensor(tokens, dtype=torch.float32)))


def test_layers_that_take_integers_keep_them():
    assert layers.Embedding(10, 2)(torch.tensor([[1, 2]])).shape == (1, 2, 2)
    assert layers.Flatten()(torch.ones(2, 3, 2, dtype=torch.int64)).dtype == torch.int64
    assert layers.ReLU()(torch.ones(2, 3, dtype=torch.int32)).dtype == torch.int32
