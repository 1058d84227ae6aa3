"""What Keras's guides "Working with preprocessing layers" and "Migrating TF code to Keras 3"
show, on netknit. The lookup and text layers need TensorFlow in Keras, so their values are the
ones the guide prints (recorded with Keras on TensorFlow); the rest were observed with Keras
3.15.1 on its torch backend, or are compared live."""

import random
import warnings

import numpy as np
import pytest
import torch

import netknit as keras

ADAPT_TEXTS = [
    "The Brain is wider than the Sky",
    "For put them side by side",
    "The one the other will contain",
    "With ease and You beside",
]
QUERY = ["The Brain is deeper than the sea"]


# ---------------------------------------------------------------- preprocessing guide


def test_lookup_layers_give_the_guides_outputs():
    layer = keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    np.testing.assert_array_equal(layer(np.array([["a", "c", "d"], ["d", "z", "b"]])),
                                  [[1, 3, 4], [4, 0, 2]])

    lookup = keras.layers.StringLookup(output_mode="one_hot")
    lookup.adapt(np.array([["a"], ["b"], ["c"], ["b"], ["c"], ["a"]]))
    encoded = lookup(np.array([["a"], ["b"], ["c"], ["d"], ["e"], [""]]))
    np.testing.assert_array_equal(encoded, [[0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0],
                                            [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])

    lookup = keras.layers.IntegerLookup(output_mode="one_hot")
    lookup.adapt(np.array([[10], [20], [20], [10], [30], [0]]))
    encoded = lookup(np.array([[10], [10], [20], [50], [60], [0]]))
    np.testing.assert_array_equal(encoded, [[0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0],
                                            [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]])

    hasher = keras.layers.Hashing(num_bins=64, salt=1337)
    encoder = keras.layers.CategoryEncoding(num_tokens=64, output_mode="multi_hot")
    data = np.random.RandomState(0).randint(0, 100000, size=(100, 1))
    assert tuple(encoder(hasher(data)).shape) == (100, 64)


def test_text_vectorization_gives_the_guides_outputs():
    vectorizer = keras.layers.TextVectorization(output_mode="int")
    vectorizer.adapt(ADAPT_TEXTS)
    np.testing.assert_array_equal(vectorizer(QUERY), [[2, 19, 14, 1, 9, 2, 1]])
    assert vectorizer.vocabulary_size() == 22

    multi_hot = keras.layers.TextVectorization(output_mode="multi_hot", ngrams=2)
    multi_hot.adapt(ADAPT_TEXTS)
    expected = np.zeros(41, "float32")
    expected[[0, 1, 16, 17, 18, 28, 36, 37]] = 1
    np.testing.assert_array_equal(multi_hot(QUERY), [expected])

    # The guide's "tf-idf" is Keras 2's name of "tf_idf", which Keras 3 still takes.
    tf_idf = keras.layers.TextVectorization(output_mode="tf-idf", ngrams=2)
    tf_idf.adapt(ADAPT_TEXTS)
    assert tf_idf.get_config()["output_mode"] == "tf_idf"
    expected = expected * 1.0986123
    expected[:2] = [5.461647, 1.6945957]
    np.testing.assert_allclose(tf_idf(QUERY), [expected], rtol=1e-6)


def test_augmentation_stage_config_keeps_keras_build_input_shape(real_keras):
    """The guide's augmentation stage, called on a batch of 16 images: its config."""
    images = np.random.RandomState(0).randint(0, 256, (16, 8, 8, 3)).astype("uint8")

    def config(lib):
        lib.backend.clear_session()
        stage = lib.Sequential([lib.layers.RandomFlip("horizontal"),
                                lib.layers.RandomRotation(0.1), lib.layers.RandomZoom(0.1)])
        stage(images)
        return stage.get_config()

    ours, theirs = config(keras), config(real_keras)
    assert ours["build_input_shape"] == (16, 8, 8, 3)
    assert ours == theirs


def test_unseeded_random_crop_keeps_a_drawn_seed_in_its_config(real_keras):
    random.seed(3)
    theirs = real_keras.layers.RandomCrop(2, 2).get_config()["seed"]
    random.seed(3)
    layer = keras.layers.RandomCrop(2, 2)
    assert layer.get_config()["seed"] == theirs == 255512576
    rebuilt = keras.layers.RandomCrop.from_config(layer.get_config())
    images = torch.rand(1, 6, 6, 3)
    assert torch.equal(layer(images, training=True), rebuilt(images, training=True))


# ---------------------------------------------------------------- migration guide


def test_jit_compile_and_run_eagerly_read_back_as_keras():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert model.jit_compile is False  # Keras's "auto" on torch
    model.compile(optimizer="sgd", loss="mse", jit_compile=False)
    assert (model.jit_compile, model.run_eagerly) == (False, False)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    assert model.jit_compile is True
    model.jit_compile = False
    assert model.jit_compile is False
    with pytest.warns(UserWarning, match="jit_compile=True is turned off"):
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True, jit_compile=True)
    assert (model.jit_compile, model.run_eagerly) == (False, True)


def test_removed_rnn_constants_argument_is_refused_on_symbolic_calls():
    """Keras 3 removed RNN's `constants`: a call that passes it fails, not only when run."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'constants'"):
        keras.layers.RNN(keras.layers.LSTMCell(2))(keras.Input((3, 2)),
                                                   constants=keras.Input((2,)))
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        keras.layers.Dense(2)(keras.Input((3,)), foo=1)


def test_none_inside_nested_layer_inputs_passes_through():
    seen = []

    class PickFoo(keras.layers.Layer):
        def build(self, input_shape):
            seen.append(input_shape)

        def call(self, inputs):
            return inputs["foo"]

    symbolic = PickFoo()({"foo": keras.Input((1,)), "bar": {"baz": None}})
    assert tuple(symbolic.shape) == (None, 1)
    eager = PickFoo()({"foo": np.ones((2, 1), "float32"), "bar": {"baz": None}})
    assert tuple(eager.shape) == (2, 1)
    assert seen == [{"foo": (None, 1), "bar": {"baz": None}},
                    {"foo": (2, 1), "bar": {"baz": None}}]


def test_a_call_returning_none_says_so():
    class ReturnsNone(keras.layers.Layer):
        def call(self, inputs):
            return None

    with pytest.raises(AttributeError, match="Could not infer the output shape.*returned None"):
        ReturnsNone()(keras.Input((1,)))


def test_weights_from_add_weight_are_tracked():
    class Linear(keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=[input_shape[-1], self.units], initializer="zeros")
            self.b = self.add_weight(shape=[self.units], initializer="zeros")

        def call(self, inputs):
            return keras.ops.matmul(inputs, self.w) + self.b

    model = keras.models.Sequential([Linear(3)])
    model.compile(optimizer="adam", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(np.random.uniform(size=[3, 3]), np.zeros((3, 3)), verbose=0)
    assert [(v.path, tuple(v.shape)) for v in model.layers[0].trainable_variables] == [
        ("sequential/linear/variable", (3, 3)), ("sequential/linear/variable_1", (3,))]
