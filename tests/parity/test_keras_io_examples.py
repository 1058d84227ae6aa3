"""Differences found by running keras.io examples (the bidirectional LSTM, the text
Transformer) on netknit beside Keras; the expected values are what Keras 3.15 gives."""

import numpy as np

import netknit as keras
from netknit import layers


def test_pack_x_y_sample_weight_leaves_a_single_x_alone():
    x = np.ones(2)
    assert keras.utils.pack_x_y_sample_weight(x) is x
    assert keras.utils.pack_x_y_sample_weight([x, x]) == ([x, x],)
    assert len(keras.utils.pack_x_y_sample_weight(x, x)) == 2


def _wrapped_build_configs(lib):
    inputs = lib.Input((5, 3))
    time_distributed = lib.layers.TimeDistributed(lib.layers.Dense(2))
    rnn = lib.layers.RNN(lib.layers.LSTMCell(4))
    bidirectional = lib.layers.Bidirectional(lib.layers.GRU(2))
    for layer in (time_distributed, rnn, bidirectional):
        layer(inputs)
    return [time_distributed.get_config()["layer"]["build_config"],
            rnn.get_config()["cell"]["build_config"],
            bidirectional.get_config()["layer"]["build_config"],
            bidirectional.get_config()["backward_layer"]["build_config"]]


def test_wrapped_layers_record_their_build_shape_as_a_tuple():
    assert _wrapped_build_configs(keras) == [
        {"input_shape": (None, 3)}, {"input_shape": (None, 3)},
        {"input_shape": (None, 5, 3)}, {"input_shape": (None, 5, 3)}]


def test_wrapped_layers_build_configs_match_keras(real_keras):
    real_keras.backend.clear_session()
    assert _wrapped_build_configs(keras) == _wrapped_build_configs(real_keras)


def test_attention_takes_the_names_of_keras_s_softmax_and_dropout():
    # keras.io's TransformerBlock: the Dropout layers made after the block are "dropout_3" and
    # "dropout_4" in Keras, whose attention makes a Softmax and a Dropout when it is built.
    attention = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    assert layers.Dropout(0.1).name == "dropout"
    x = keras.Input((5, 8))
    attention(x, x)
    assert (layers.Dropout(0.1).name, layers.Softmax().name) == ("dropout_2", "softmax_1")
    grouped = layers.GroupQueryAttention(head_dim=4, num_query_heads=2, num_key_value_heads=1)
    grouped(x, x)
    assert (layers.Dropout(0.1).name, layers.Softmax().name) == ("dropout_4", "softmax_3")
