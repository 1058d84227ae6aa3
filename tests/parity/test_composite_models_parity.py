"""Whole models against real Keras 3, live: the same code builds both, with the same weights.

Each case is a function of the library (`keras` or `netknit`) that builds a model with identical
code. Random weights go into both with `set_weights` (in Keras's order and layouts), then output
shapes, parameter counts and outputs must agree, in inference and, for models whose layers
behave differently in training (BatchNormalization), with `training=True` too. Masks from
`Embedding(mask_zero=True)` and `Masking` travel through the models as in Keras. Skipped when
Keras is not installed.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import torch

import netknit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                        "ignore::UserWarning:keras")


def cnn(k):
    L = k.layers
    return k.Sequential([k.Input((8, 8, 2)), L.Conv2D(4, 3, activation="relu"),
                         L.BatchNormalization(), L.MaxPooling2D(), L.Flatten(),
                         L.Dense(3, activation="softmax")])


def stacked_lstm(k):
    L = k.layers
    return k.Sequential([k.Input((5, 3)), L.LSTM(4, return_sequences=True), L.LSTM(3),
                         L.Dense(2)])


def bidirectional_gru(k):
    L = k.layers
    return k.Sequential([k.Input((5, 3)), L.Bidirectional(L.GRU(3, return_sequences=True)),
                         L.GlobalMaxPooling1D(), L.Dense(1)])


def embedding_average(k):
    L = k.layers
    return k.Sequential([k.Input((6,), dtype="int64"), L.Embedding(20, 4),
                         L.GlobalAveragePooling1D(), L.Dense(2)])


def masked_embedding_average(k):
    L = k.layers
    return k.Sequential([k.Input((6,), dtype="int64"), L.Embedding(20, 4, mask_zero=True),
                         L.GlobalAveragePooling1D(), L.Dense(2)])


def masked_embedding_lstm(k):
    L = k.layers
    return k.Sequential([k.Input((6,), dtype="int64"), L.Embedding(20, 4, mask_zero=True),
                         L.LSTM(3)])


def masking_gru(k):
    L = k.layers
    return k.Sequential([k.Input((6, 3)), L.Masking(), L.GRU(3, return_sequences=True),
                         L.LSTM(2)])


def nested_sequential(k):
    L = k.layers
    inner = k.Sequential([L.Dense(4, activation="relu"), L.Dense(3)])
    inputs = k.Input((5,))
    x = inner(inputs)
    x = L.LayerNormalization()(x)
    return k.Model(inputs, L.Dense(1)(L.Concatenate()([x, inputs])))


def siamese(k):
    L = k.layers
    encoder = L.Dense(4, activation="tanh")
    left, right = k.Input((3,)), k.Input((3,))
    distance = L.Subtract()([encoder(left), encoder(right)])
    return k.Model([left, right], L.Dense(1, activation="sigmoid")(distance))


def multi_output(k):
    L = k.layers
    inputs = k.Input((6,))
    x = L.Dense(5, activation="relu")(inputs)
    x = L.BatchNormalization()(x)
    return k.Model(inputs, [L.Dense(2, activation="softmax")(x), L.Dense(1)(x)])


def attention_block(k):
    L = k.layers
    inputs = k.Input((5, 8))
    attended = L.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([inputs, attended]))
    feed = L.Dense(8)(L.Dense(16, activation="relu")(x))
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, feed]))
    return k.Model(inputs, L.Dense(2)(L.GlobalAveragePooling1D()(x)))


def masked_self_attention(k):
    L = k.layers
    inputs = k.Input((6,), dtype="int64")
    x = L.Embedding(20, 8, mask_zero=True)(inputs)
    x = L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    return k.Model(inputs, L.Dense(2)(x))


def conv1d_text(k):
    L = k.layers
    return k.Sequential([k.Input((12,), dtype="int64"), L.Embedding(20, 6),
                         L.Conv1D(4, 3, activation="relu"), L.MaxPooling1D(2),
                         L.SpatialDropout1D(0.2), L.Conv1D(4, 3, padding="same"),
                         L.GlobalMaxPooling1D(), L.PReLU(), L.Dense(1, activation="sigmoid")])


def seed000_example1(k):
    L = k.layers
    time_series_input = k.Input(shape=(10, 1))
    lstm_out = L.LSTM(32)(time_series_input)
    static_input = k.Input(shape=(5,))
    dense_2 = L.Dense(8, activation="relu")(L.Dense(16, activation="relu")(static_input))
    merged = L.Concatenate()([lstm_out, dense_2])
    output = L.Dense(1, activation="sigmoid")(merged)
    return k.Model(inputs=[time_series_input, static_input], outputs=output)


def seed004_example1(k):
    L = k.layers

    def image_preprocessing(input_shape=(64, 64, 3), target_features=256):
        inputs = k.Input(shape=input_shape)
        x = L.Conv2D(32, 3, activation="relu")(inputs)
        x = L.MaxPool2D(2)(x)
        x = L.Conv2D(64, 3, activation="relu")(x)
        x = L.MaxPool2D(2)(x)
        x = L.Flatten()(x)
        x = L.Dense(target_features, activation="relu")(x)
        return k.Model(inputs=inputs, outputs=x)

    def tabular_preprocessing(input_shape=(10,), target_features=256):
        inputs = k.Input(shape=input_shape)
        x = L.Dense(128, activation="relu")(inputs)
        x = L.Dense(target_features, activation="relu")(x)
        return k.Model(inputs=inputs, outputs=x)

    image_input, tabular_input = k.Input(shape=(64, 64, 3)), k.Input(shape=(10,))
    features = L.concatenate([image_preprocessing()(image_input),
                              tabular_preprocessing()(tabular_input)])
    output = L.Dense(1, activation="sigmoid")(features)
    return k.Model(inputs=[image_input, tabular_input], outputs=output)


CASES = [cnn, stacked_lstm, bidirectional_gru, embedding_average, masked_embedding_average,
         masked_embedding_lstm, masking_gru, nested_sequential, siamese, multi_output,
         attention_block, masked_self_attention, conv1d_text, seed000_example1, seed004_example1]
# Models whose layers compute differently in training (batch statistics).
TRAINING_DIFFERS = {cnn, multi_output}


def _inputs(model, seed=0, batch=3):
    """Random data for each model input; integer ids end in zero padding (for the masks)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = (batch,) + tuple(tensor.shape[1:])
        if "int" in str(tensor.dtype):
            ids = rng.integers(1, 20, size=shape)
            ids[0, -2:] = 0
            ids[1, -4:] = 0
            arrays.append(ids.astype("int64"))
        else:
            x = rng.standard_normal(shape).astype("float32")
            if len(shape) == 3:
                x[0, -2:] = 0.0  # padded steps, for Masking
            arrays.append(x)
    return arrays


def _flat(outputs):
    items = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(t.detach().cpu()) if torch.is_tensor(t) else np.asarray(t) for t in items]


def _build_pair(build):
    keras.backend.clear_session()
    netknit.backend.clear_session()
    theirs, ours = build(keras), build(netknit)
    rng = np.random.default_rng(1)
    weights = []
    for variable, value in zip(theirs.weights, theirs.get_weights()):
        w = rng.standard_normal(value.shape).astype(value.dtype) * 0.4
        weights.append(np.abs(w) + 0.5 if "variance" in variable.path else w)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return theirs, ours


@pytest.mark.parametrize("build", CASES, ids=lambda f: f.__name__)
def test_model_matches_keras(build):
    theirs, ours = _build_pair(build)
    assert ours.count_params() == theirs.count_params()
    their_shapes = [tuple(t.shape) for t in keras.tree.flatten(theirs.outputs)]
    assert [tuple(t.shape) for t in ours.outputs] == their_shapes
    x = _inputs(theirs)
    arg, our_arg = (x, [torch.as_tensor(a) for a in x]) if len(x) > 1 else (
        x[0], torch.as_tensor(x[0]))
    modes = [None, True] if build in TRAINING_DIFFERS else [None]
    for training in modes:
        kwargs = {} if training is None else {"training": training}
        expected = _flat(theirs(arg, **kwargs))
        got = _flat(ours(our_arg, **kwargs))
        assert [g.shape for g in got] == [e.shape for e in expected]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    # Training-mode calls update the moving statistics the same way in both.
    for g, e in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
