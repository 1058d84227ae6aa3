"""The Layer base: names, build on first call, weights in Keras's layouts, trainable, config."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def test_keras_style_unique_names():
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.MaxPool2D is layers.MaxPooling2D  # one class, two names, as in Keras
    assert layers.MaxPool2D().name == "max_pooling2d"
    assert layers.Conv2DTranspose(2, 3).name == "conv2d_transpose"
    assert layers.RepeatVector(2).name == "repeat_vector"
    assert layers.Dense(1, name="head").name == "head"
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"
    x = keras.Input((2,))
    assert x.history.node.layer.name == "input_layer"
    assert keras.Model(x, layers.Dense(1)(x)).name == "functional"


def test_builds_on_first_call_from_the_input_shape():
    dense = layers.Dense(4)
    assert not dense.built
    with pytest.raises(ValueError, match="not built yet"):
        dense.count_params()
    out = dense(np.ones((2, 3)))  # NumPy input is converted at the edge
    assert dense.built and out.shape == (2, 4) and out.dtype == torch.float32
    assert dense.count_params() == 16


def test_weights_in_keras_layout_and_numerics_of_dense():
    dense = layers.Dense(2, activation="relu")
    dense.build((None, 3))
    kernel = np.arange(6, dtype="float32").reshape(3, 2) - 2.5
    bias = np.array([0.5, -1.0], dtype="float32")
    dense.set_weights([kernel, bias])
    x = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    expected = np.maximum(x @ kernel + bias, 0)
    np.testing.assert_allclose(dense(x).detach().numpy(), expected)
    assert [w.shape for w in dense.get_weights()] == [(3, 2), (2,)]
    with pytest.raises(ValueError, match="shape \\(3, 2\\) in Keras's layout.*\\(2, 3\\)"):
        dense.set_weights([kernel.T, bias])


def test_trainable_freezes_parameters_and_moves_weights():
    x = keras.Input((3,))
    frozen = layers.Dense(2, name="frozen")
    model = keras.Model(x, layers.Dense(1)(frozen(x)))
    frozen.trainable = False
    assert not any(p.requires_grad for p in frozen.parameters())
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    assert [tuple(w.shape) for w in model.weights] == [(3, 2), (2,), (2, 1), (1,)]  # Keras
    printed = []
    model.summary(print_fn=printed.append)
    assert " Non-trainable params: 8 (32.00 B)" in printed[0]
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4


def test_input_output_and_shapes_from_first_call():
    x = keras.Input((5,))
    dense = layers.Dense(3)
    y = dense(x)
    assert dense.input is x and dense.output is y
    assert dense.input_shape == (None, 5) and dense.output_shape == (None, 3)
    with pytest.raises(AttributeError, match="has no attribute 'output'"):  # as Keras
        _ = layers.Dense(1).output
    assert not hasattr(layers.Dense(1), "input")


def test_symbolic_call_computes_nothing_and_eager_call_computes():
    x = keras.Input((4,))
    y = layers.Dense(2)(x)
    assert isinstance(y, keras.SymbolicTensor) and y.shape == (None, 2)
    with pytest.raises(TypeError, match="holds no data"):
        np.asarray(y)


def test_unknown_argument_gets_did_you_mean():
    with pytest.raises(TypeError, match="Did you mean 'activation'"):
        layers.Dense(3, activaton="relu")


def test_activations_initializers_regularizers_by_name():
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        layers.Dense(3, activation="rleu")
    with pytest.raises(ValueError, match="Did you mean 'glorot_uniform'"):
        layers.Dense(3, kernel_initializer="glorot_unifrom")
    dense = layers.Dense(3, kernel_regularizer="l2", kernel_initializer="ones")
    dense.build((None, 2))
    assert len(dense.losses) == 1
    torch.testing.assert_close(dense.losses[0], torch.tensor(0.01 * 6))
    assert keras.regularizers.l1_l2(l1=0.1).get_config() == {"l1": 0.1, "l2": 0.0}


@pytest.mark.parametrize("name,fn", [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("swish", lambda x: x / (1 + np.exp(-x))),
    ("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("linear", lambda x: x),
])
def test_activation_numerics(name, fn):
    x = np.linspace(-3, 3, 13, dtype="float32")
    out = keras.activations.get(name)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, fn(x), rtol=1e-5, atol=1e-6)


def test_glorot_uniform_default_limits():
    dense = layers.Dense(200)
    dense.build((None, 300))
    kernel = dense.get_weights()[0]
    limit = np.sqrt(6 / (300 + 200))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not dense.get_weights()[1].any()


def test_subclassed_layer_with_call_and_build():
    class Scale(keras.Layer):
        def build(self, input_shape):
            self.add_weight("scale", (input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.scale

    layer = Scale()
    assert layer(torch.ones(2, 3)).shape == (2, 3)
    assert layer.name == "scale" and layer.count_params() == 3
    assert layer(keras.Input((3,))).shape == (None, 3)  # shape inferred by running forward


class Linear(keras.Layer):
    """The custom layer of Keras 3's guide "Making new layers and models via subclassing"."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)
        self.total = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, inputs):
        return inputs @ self.w + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_keras_3_add_weight_idiom_names_weights_by_attribute(tmp_path):
    layer = Linear(4)
    x = np.ones((2, 3), "float32")
    out = layer(x)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.detach().numpy(), x @ layer.get_weights()[0], rtol=1e-6)
    assert [w.shape for w in layer.get_weights()] == [(3, 4), (4,), ()]
    # The weight is registered under the attribute it was assigned to, once.
    assert [name for name, _ in layer.named_parameters()] == ["w", "b"]
    assert [name for name, _ in layer.named_buffers()] == ["total"]
    assert layer.weights[0].path == "linear/variable"  # Keras's path for an unnamed weight
    layer.double()
    assert layer.total.dtype == torch.float64  # the attribute follows the moved buffer
    model = keras.Sequential([keras.Input((3,)), Linear(2), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.rand(16, 3), np.random.rand(16, 1), epochs=1, verbose=0)
    assert model.count_params() == 3 * 2 + 2 + 1 + 3


def test_add_weight_takes_keras_positional_forms():
    layer = keras.Layer()
    assert tuple(layer.add_weight((2, 3)).shape) == (2, 3)  # Keras 3: shape first
    assert tuple(layer.add_weight("legacy", (4,), "float64").shape) == (4,)  # Keras 2's order
    assert layer.legacy.dtype == torch.float64
    assert int(layer.add_weight(shape=(), dtype="int32").numel()) == 1
    assert layer.variable_1.dtype == torch.int32 and not layer.variable_1.any()  # int: zeros
    with pytest.raises(TypeError, match="at most 2 positional"):
        layer.add_weight((2,), "zeros", "float32")
    assert not layer.add_variable((3,), "zeros", name="counts").any()


def test_a_subclass_of_a_builtin_layer_reaches_its_call_with_super():
    # Keras's idiom: override `call` and reuse the parent's computation.
    class Doubled(layers.Dense):
        def call(self, inputs):
            return super().call(inputs) * 2

    layer = Doubled(3, kernel_initializer="ones", bias_initializer="zeros")
    assert torch.equal(layer(torch.ones(2, 4)), torch.full((2, 3), 8.0))
    x = keras.Input((4,))
    model = keras.Model(x, Doubled(2)(x))
    assert model.output_shape == (None, 2)
    assert len(model.trainable_variables) == 2 and model.non_trainable_variables == []


# ---------------------------------------------------------------- configs Keras writes by itself


class _Scaled(keras.layers.Layer):
    """A user's layer without get_config: Keras saves its constructor arguments."""

    def __init__(self, units, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.scale = units, scale

    def call(self, x):
        return x * self.scale


def test_a_layer_without_get_config_saves_its_constructor_arguments():
    layer = _Scaled(3, name="s")
    config = layer.get_config()
    # Keras 3.15.1: {'name': 's', 'units': 3, 'scale': 2.0, 'trainable': True, 'dtype': ...}
    assert {k: config[k] for k in ("name", "units", "scale", "trainable")} == {
        "name": "s", "units": 3, "scale": 2.0, "trainable": True}
    again = _Scaled.from_config(config)
    assert (again.units, again.scale) == (3, 2.0)
    with pytest.raises(NotImplementedError, match="Define get_config"):
        _Scaled(keras.initializers.Ones()).get_config()


def test_a_subclassed_model_without_get_config_saves_and_loads(tmp_path):
    class Net(keras.Model):
        def __init__(self, hidden=4, **kwargs):
            super().__init__(**kwargs)
            self.hidden_layer = layers.Dense(hidden)
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden_layer(x))

    model = Net(hidden=3)
    x = np.ones((2, 5), "float32")
    model(x)
    assert model.get_config()["hidden"] == 3  # the argument given, not the default
    model.save(tmp_path / "net.keras")
    loaded = keras.saving.load_model(tmp_path / "net.keras", custom_objects={"Net": Net})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_activity_regularizer_is_part_of_the_config():
    config = layers.Dense(2, activity_regularizer="l2").get_config()
    assert config["activity_regularizer"]["class_name"] == "L2"
    assert layers.Dense.from_config(config).activity_regularizer.l2 == pytest.approx(0.01)
    assert "activity_regularizer" not in layers.Dense(2).get_config()  # as Keras: only when set


def test_a_named_function_in_a_lambda_is_saved_by_name(tmp_path):
    def double(x):
        return x * 2

    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(double)(inputs))
    assert model.layers[1].get_config()["function"] == {
        "module": "builtins", "class_name": "function", "config": "double",
        "registered_name": "function"}
    model.save(tmp_path / "lambda.keras")
    loaded = keras.saving.load_model(tmp_path / "lambda.keras", custom_objects={"double": double})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3)), verbose=0), [[2.0, 2.0, 2.0]])


# ---------------------------------------------------------------- masks of a user's layers


class _NonZeroMask(keras.layers.Layer):
    def call(self, x):
        return keras.ops.expand_dims(keras.ops.cast(x, "float32"), -1)

    def compute_mask(self, inputs, mask=None):
        return keras.ops.not_equal(inputs, 0)


class _NeedsMask(keras.layers.Layer):
    def call(self, x, mask=None):
        assert mask is not None  # the guide's TemporalSoftmax checks it, also when built
        return x * keras.ops.expand_dims(keras.ops.cast(mask, "float32"), -1)


def test_a_users_compute_mask_reaches_the_next_layers():
    inputs = keras.Input((None,), dtype="int32")
    outputs = layers.LSTM(2)(_NonZeroMask()(inputs))
    model = keras.Model(inputs, outputs)
    x = np.array([[1, 2, 0, 0]], "int32")
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x[:, :2], verbose=0),
                               rtol=1e-6)  # the padded steps are skipped


def test_a_layer_reading_the_mask_gets_one_when_the_graph_is_built():
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, _NeedsMask()(x))
    out = model.predict(np.array([[3, 0]]), verbose=0)
    assert np.all(out[0, 1] == 0) and np.any(out[0, 0] != 0)


def test_a_misspelt_argument_is_the_error_keras_raises_and_suggests_the_name():
    # Keras raises ValueError ("Unrecognized keyword arguments"); Python's convention is a
    # TypeError: the error is both.
    with pytest.raises(ValueError, match="Did you mean 'units'"):
        layers.Dense(2, untis=3)
    with pytest.raises(TypeError, match="Did you mean 'dropout'"):
        layers.LSTM(2, dropot=0.1)
    with pytest.raises(ValueError) as error:
        layers.ConvLSTM2D(2, 3, foo=1)
    assert "units" not in str(error.value).split("Allowed arguments:")[1].split(", ")


def test_a_layer_unfrozen_inside_a_frozen_block_trains_as_in_keras():
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(2)])
    outer = keras.Sequential([inner, layers.Dense(1)])
    inner.trainable = False
    inner.layers[0].trainable = True
    # Keras 3.15.1: 4 trainable (the unfrozen Dense and the head), 2 non-trainable, 6 in all.
    assert (len(outer.trainable_weights), len(outer.non_trainable_weights)) == (4, 2)
    assert outer.trainable_weights[0] is inner.layers[0].kernel


class _LogisticEndpoint(keras.layers.Layer):
    """The training guide's endpoint layer: two tensor arguments, its loss added in `call`."""

    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits):
        self.add_loss(self.loss_fn(targets, logits))
        return keras.ops.softmax(logits)


def test_a_layer_of_two_tensor_arguments_whose_loss_is_the_models():
    inputs, targets = keras.Input((3,), name="inputs"), keras.Input((10,), name="targets")
    predictions = _LogisticEndpoint(name="predictions")(targets, layers.Dense(10)(inputs))
    assert predictions.shape == (None, 10)
    model = keras.Model([inputs, targets], predictions)
    assert model.losses == []  # nothing left from building the graph, as in Keras
    model.compile(optimizer="adam")  # no loss: the layer's is the loss
    data = {"inputs": np.random.random((3, 3)), "targets": np.random.random((3, 10))}
    history = model.fit(data, verbose=0, epochs=2)
    assert list(history.history) == ["loss"] and history.history["loss"][0] > 0


def test_eager_tensors_carry_keras_mask_into_the_next_layers():
    # The masking guide: an Embedding(mask_zero=True) output carries its mask, and a subclassed
    # model's LSTM skips the padding without being given the mask (Keras 3.15.1's values).
    tokens = keras.utils.pad_sequences([[711, 632, 71], [73, 8, 3215, 55, 927]], padding="post")
    embedded = layers.Embedding(5000, 16, mask_zero=True)(tokens)
    np.testing.assert_array_equal(embedded._keras_mask.numpy(),
                                  [[True, True, True, False, False], [True] * 5])

    class Encoder(keras.Model):
        def __init__(self):
            super().__init__()
            self.embedding = layers.Embedding(50, 4, mask_zero=True)
            self.dense = layers.Dense(4)  # passes the mask on
            self.lstm = layers.LSTM(3)

        def call(self, inputs):
            return self.lstm(self.dense(self.embedding(inputs)))

    model = Encoder()
    x = np.array([[5, 7, 0, 0], [9, 0, 0, 0]])
    np.testing.assert_allclose(model(x).detach().numpy(), model(x[:, :2]).detach().numpy(),
                               rtol=1e-6)


class _BuildsItsBlock(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(3, name="inner")

    def build(self, input_shape):
        self.inner.build(input_shape)

    def call(self, inputs):
        return self.inner(inputs)


@pytest.mark.parametrize("make, shape, paths", [
    (lambda: layers.Bidirectional(layers.LSTM(2), name="bi"), (None, 3, 4),
     [f"bi/{side}_lstm/lstm_cell/{w}" for side in ("forward", "backward")
      for w in ("kernel", "recurrent_kernel", "bias")]),
    (lambda: layers.RNN(layers.GRUCell(2), name="r"), (None, 3, 4),
     ["r/gru_cell/kernel", "r/gru_cell/recurrent_kernel", "r/gru_cell/bias"]),
    (lambda: _BuildsItsBlock(name="blk"), (None, 4), ["blk/inner/kernel", "blk/inner/bias"]),
])
def test_a_layer_built_by_hand_names_the_weights_of_the_layers_inside_under_its_own(
        make, shape, paths):
    """Keras's paths, as when the layer is built by its first call."""
    layer = make()
    layer.build(shape)
    assert [w.path for w in layer.weights] == paths


def test_lambda_masks_as_keras_s():
    """The function gets the input's mask if it asks; `mask=` gives the outputs theirs; without
    it no mask leaves the layer (the graph records the NotEqual the Lambda reads)."""
    def keep_unmasked(x, mask=None):
        return x * mask.unsqueeze(-1).to(x.dtype)

    tokens = keras.Input((4,))
    embedded = layers.Embedding(10, 3, mask_zero=True, embeddings_initializer="ones")(tokens)
    model = keras.Model(tokens, layers.Lambda(keep_unmasked)(embedded))
    assert [type(op).__name__ for op in model.operations] == [
        "InputLayer", "Embedding", "NotEqual", "Lambda"]
    np.testing.assert_array_equal(model.predict(np.array([[1, 2, 0, 0]]), verbose=0),
                                  [[[1] * 3, [1] * 3, [0] * 3, [0] * 3]])
    masking = layers.Lambda(lambda x: x + 1, mask=lambda x, mask: x.sum(-1) > 1)
    out = masking(torch.tensor([[[1.0, 1.0], [0.0, 0.0]]]))
    assert out._keras_mask.tolist() == [[True, False]]
    assert "mask" in masking.get_config() and "mask" not in layers.Lambda(abs).get_config()
