"""What the functional API, Sequential and transfer-learning guides showed to differ from Keras:
a user's layer keeps a static batch size, an automatic config leaves out a name the constructor
cannot take, and a functional config keeps Keras's tuples."""

import netknit as keras
from netknit import layers, ops

_FLOAT32 = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": None}


class _Stack(layers.Layer):
    """The guide's CustomRNN in short: a loop over time steps, whose shape netknit infers."""

    def __init__(self):
        super().__init__()
        self.projection = layers.Dense(4)

    def call(self, inputs):
        steps = [self.projection(inputs[:, t, :]) for t in range(inputs.shape[1])]
        return ops.stack(steps, axis=1)


class _NoName(layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units


class _WithKwargs(layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units


def _static_batch_shapes(lib):
    inputs = lib.Input(batch_shape=(16, 10, 5))
    x = lib.layers.Conv1D(32, 3)(inputs)
    return x.shape, lib.layers.Lambda(lambda t: t * 2)(x).shape


def test_a_users_layer_keeps_a_static_batch_size():
    inputs = keras.Input(batch_shape=(16, 10, 5))
    assert _Stack()(inputs).shape == (16, 10, 4)  # Keras: (16, 10, 4); was (None, 10, 4)
    assert _Stack()(keras.Input((10, 5))).shape == (None, 10, 4)
    assert _static_batch_shapes(keras) == ((16, 8, 32), (16, 8, 32))


def test_static_batch_size_as_keras_infers_it(real_keras):
    assert _static_batch_shapes(keras) == _static_batch_shapes(real_keras)


def test_automatic_config_leaves_out_a_name_the_constructor_cannot_take():
    layer = _NoName(10)
    assert layer.get_config() == {"units": 10, "trainable": True, "dtype": _FLOAT32}
    assert _WithKwargs(10, name="mine").get_config() == {
        "name": "mine", "units": 10, "trainable": True, "dtype": _FLOAT32}


def _nested_model(lib):
    encoder_input = lib.Input((4,), name="img")
    encoder = lib.Model(encoder_input, lib.layers.Dense(3)(encoder_input), name="encoder")
    a = lib.Input((4,), name="a")
    b = lib.Input((3,), name="b")
    merged = lib.layers.concatenate([encoder(a), b])
    return lib.Model([a, b], merged[:, :2])


def _inbound(model):
    return {entry["name"]: entry["inbound_nodes"] for entry in model.get_config()["layers"]}


def test_functional_config_keeps_keras_s_tuples():
    inbound = _inbound(_nested_model(keras))
    tensor = {"class_name": "__keras_tensor__",
              "config": {"shape": (None, 4), "dtype": "float32", "keras_history": ["a", 0, 0]}}
    assert inbound["encoder"] == [{"args": (tensor,), "kwargs": {"mask": None}}]
    args = inbound["concatenate"][0]["args"]
    assert type(args) is tuple and type(args[0]) is list and len(args[0]) == 2
    assert type(inbound["get_item"][0]["args"][1]) is tuple
    # The tuples survive from_config, and JSON (where they become lists).
    model = keras.Model.from_config(_nested_model(keras).get_config())
    assert model.output_shape == (None, 2)
    assert keras.models.model_from_json(model.to_json()).output_shape == (None, 2)


def test_functional_config_as_keras_writes_it(real_keras):
    real_keras.backend.clear_session()
    assert _inbound(_nested_model(keras)) == _inbound(_nested_model(real_keras))
