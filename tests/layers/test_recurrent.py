"""Recurrent layers: numerics against reference outputs computed with real Keras 3.15.1.

`REFERENCE` (at the end of this file) holds, for each case, the weights that were set in a Keras
layer (Keras's layouts) and the outputs Keras computed on `REFERENCE["x"]` (batch 2, 3 steps,
2 features). Setting the same weights here must give the same outputs.
"""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers

CASES = {
    "lstm": lambda: layers.LSTM(3),
    "lstm_seq_state": lambda: layers.LSTM(3, return_sequences=True, return_state=True),
    "lstm_back": lambda: layers.LSTM(3, go_backwards=True, return_sequences=True),
    "lstm_relu": lambda: layers.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid"),
    "lstm_mask": lambda: layers.LSTM(3, return_sequences=True, return_state=True),
    "lstm_mask_zero": lambda: layers.LSTM(3, return_sequences=True, zero_output_for_mask=True),
    "lstm_init": lambda: layers.LSTM(3, return_state=True),
    "gru": lambda: layers.GRU(3, return_sequences=True, return_state=True),
    "gru_back": lambda: layers.GRU(3, go_backwards=True),
    "gru_before": lambda: layers.GRU(3, reset_after=False, return_sequences=True),
    "gru_nobias": lambda: layers.GRU(3, use_bias=False),
    "gru_init": lambda: layers.GRU(3),
    "rnn": lambda: layers.SimpleRNN(3, return_sequences=True),
    "rnn_relu_back": lambda: layers.SimpleRNN(3, activation="relu", go_backwards=True),
    "rnn_selu": lambda: layers.SimpleRNN(3, activation="selu"),
    "bi_concat": lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
    "bi_sum": lambda: layers.Bidirectional(layers.GRU(3), merge_mode="sum"),
    "bi_state": lambda: layers.Bidirectional(layers.LSTM(3, return_state=True), merge_mode="ave"),
    "bi_none": lambda: layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True),
                                            merge_mode=None),
    "td": lambda: layers.TimeDistributed(layers.Dense(2)),
}


def _call_kwargs(key):
    f32 = lambda name: torch.tensor(REFERENCE[name])  # noqa: E731
    if key == "lstm_init":
        return {"initial_state": [f32("h0"), f32("c0")]}
    if key == "gru_init":
        return {"initial_state": [f32("h0")]}
    if key.startswith("lstm_mask"):
        return {"mask": torch.tensor(REFERENCE["mask"])}
    return {}


def _as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


@pytest.mark.parametrize("key", CASES)
def test_matches_keras_outputs_from_the_same_weights(key):
    layer = CASES[key]()
    x = torch.tensor(REFERENCE["x"])
    layer(x, **_call_kwargs(key))
    layer.set_weights([np.asarray(w, dtype="float32") for w in REFERENCE[key]["weights"]])
    outputs = _as_list(layer(x, **_call_kwargs(key)))
    expected = REFERENCE[key]["y"]
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got.detach().numpy(), np.asarray(want), rtol=1e-4, atol=1e-5)


def test_lstm_weights_in_keras_layout_and_param_count():
    layer = layers.LSTM(32)
    layer(keras.Input((10, 1)))
    assert [w.shape for w in layer.get_weights()] == [(1, 128), (32, 128), (128,)]
    assert layer.count_params() == 4352
    # Keras's shapes (as Keras 3.15.1 lists `layer.weights`), in the memory order of torch's
    # weight_ih / weight_hh: torch.lstm takes the transposes without a copy.
    assert [tuple(w.shape) for w in layer.weights] == [(1, 128), (32, 128), (128,)]
    assert layer.kernel.T.is_contiguous() and layer.recurrent_kernel.T.is_contiguous()
    # unit_forget_bias: the forget-gate block starts at one, the others at zero.
    bias = layer.get_weights()[2]
    np.testing.assert_array_equal(bias[32:64], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[32:64]), 0.0)


def test_gru_weights_keep_keras_gate_order():
    layer = layers.GRU(2)
    layer(keras.Input((4, 3)))
    kernel = np.arange(18, dtype="float32").reshape(3, 6)
    bias = np.arange(12, dtype="float32").reshape(2, 6)
    layer.set_weights([kernel, np.zeros((2, 6), "float32"), bias])
    # The weights are Keras's (z, r, h) blocks as they are; only torch's kernel sees (r, z, n).
    np.testing.assert_array_equal(layer.kernel.detach().numpy(), kernel)
    np.testing.assert_array_equal(layer.bias.detach().numpy(), bias)
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_fused_kernel_and_python_loop_agree(name):
    """The fused kernel reads the Keras-shaped weights through views (and GRU's reordering);
    the Python loop (taken here for a mask that masks nothing) reads them directly."""
    torch.manual_seed(0)
    layer = getattr(layers, name)(5, return_sequences=True)
    x = torch.randn(3, 4, 2)
    fused = layer(x)
    looped = layer(x, mask=torch.ones(3, 4, dtype=torch.bool))
    torch.testing.assert_close(fused, looped)


def test_variable_length_sequences_in_a_sequential():
    model = keras.Sequential([layers.LSTM(8, input_shape=(None, 10)), layers.Dense(1)])
    assert model.output_shape == (None, 1)
    assert model(torch.zeros(2, 7, 10)).shape == (2, 1)
    assert model(torch.zeros(3, 2, 10)).shape == (3, 1)


def test_return_state_and_symbolic_initial_state():
    x, h, c = keras.Input((5, 3)), keras.Input((4,)), keras.Input((4,))
    outputs = layers.LSTM(4, return_sequences=True, return_state=True)(x, initial_state=[h, c])
    assert [t.shape for t in outputs] == [(None, 5, 4), (None, 4), (None, 4)]
    model = keras.Model([x, h, c], outputs)
    ones = torch.ones(2, 4)
    sequence, h_out, c_out = model([torch.zeros(2, 5, 3), ones, ones])
    torch.testing.assert_close(sequence[:, -1], h_out)
    zero_state = model([torch.zeros(2, 5, 3), 0 * ones, 0 * ones])
    assert not torch.allclose(zero_state[2], c_out)


def test_bidirectional_shapes_and_weight_order():
    x = keras.Input((5, 3))
    layer = layers.Bidirectional(layers.GRU(4, return_state=True), merge_mode=None)
    outputs = layer(x)
    assert [t.shape for t in outputs] == [(None, 4)] * 4
    assert layer.forward_layer.name == "forward_gru" and layer.backward_layer.name == "backward_gru"
    assert layer.backward_layer.go_backwards
    forward_weights = layer.forward_layer.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights()[:3], forward_weights))


def test_bidirectional_rejects_mismatched_backward_layer():
    with pytest.raises(ValueError, match="opposite directions"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        layers.Bidirectional(
            layers.LSTM(2), backward_layer=layers.LSTM(2, go_backwards=True, return_sequences=True)
        )
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")


def test_dropout_only_in_training():
    layer = layers.GRU(4, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    x = torch.randn(3, 5, 2)
    inference = layer(x)
    torch.testing.assert_close(layer(x), inference)
    trained = layer(x, training=True)
    assert trained.shape == inference.shape and not torch.allclose(trained, inference)


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="units=0"):
        layers.SimpleRNN(0)
    with pytest.raises(ValueError, match="dropout=1.5"):
        layers.LSTM(4, dropout=1.5)
    with pytest.raises(ValueError, match=r"2 state\(s\) \(h, c\); received 1"):
        layers.LSTM(4)(torch.zeros(2, 3, 1), initial_state=[torch.zeros(2, 4)])


def test_two_dimensional_input_gets_a_teaching_error():
    with pytest.raises(keras.ShapeError, match=r"Reshape\(\(10, 1\)\)") as info:
        layers.LSTM(4)(keras.Input((10,)))
    assert "(batch, timesteps, features)" in str(info.value)
    assert "RepeatVector(n)" in str(info.value)


def test_time_distributed_over_a_recurrent_feature_axis():
    x = keras.Input((None, 6, 2))
    y = layers.TimeDistributed(layers.LSTM(3))(x)
    assert y.shape == (None, None, 3)
    model = keras.Model(x, y)
    assert model(torch.zeros(2, 4, 6, 2)).shape == (2, 4, 3)


REFERENCE = {'x': [[[0.55, -0.12], [0.72, 0.39], [-0.81, 0.95]],
       [[0.52, 0.57], [-0.74, -0.1], [-0.26, 0.85]]],
 'lstm': {'weights': [[[0.29, 0.65, -0.11, -0.55, 0.11, -0.87, 0.66, 0.26, 0.52,
                        -0.29, 0.94, 0.79],
                       [0.56, -0.61, -0.07, -0.91, -0.69, 0.37, 0.49, 0.94, -0.35,
                        -0.26, -0.06, -0.62]],
                      [[-0.74, -0.05, -0.55, 0.34, -0.13, 0.67, 0.4, -0.38, 0.66,
                        0.61, -0.23, -0.42],
                       [0.36, -0.72, -0.6, -0.99, 0.57, 0.33, 0.41, 0.56, -0.08, 0.14,
                        -0.72, -0.77],
                       [0.34, -0.06, 0.13, 0.53, 0.27, 0.11, 0.12, -0.39, -0.94,
                        -0.13, -0.57, -0.18]],
                      [0.71, -0.53, -0.88, -0.44, -0.41, 0.32, 0.11, 0.57, 0.33,
                       -0.19, 0.63, -0.67]],
          'y': [[[0.160686, 0.085311, 0.007992], [0.128001, 0.135685, 0.006737]]]},
 'lstm_seq_state': {'weights': [[[-0.95, -0.82, 0.44, -0.08, -0.68, 0.0, -0.7, 0.39,
                                  -0.11, -0.24, -0.4, 0.26],
                                 [-0.28, -0.82, -0.76, 0.92, 0.82, 0.4, -0.47, 0.94,
                                  0.56, 0.43, -0.1, -0.46]],
                                [[-0.81, 0.81, -0.09, -0.6, -0.39, 0.16, -0.65, 0.71,
                                  0.52, 0.44, -0.14, 0.25],
                                 [0.17, 0.3, -0.83, -0.17, -0.92, -0.01, -0.34, -0.71,
                                  -0.79, 0.18, -0.66, 0.85],
                                 [0.16, -0.31, 0.18, -0.95, 0.92, -0.04, 0.57, -0.83,
                                  -0.03, -0.02, 0.88, 0.14]],
                                [-0.05, -0.47, -0.34, 0.04, -0.12, -0.96, 0.65, 0.79,
                                 -0.72, 0.11, -0.78, 0.34]],
                    'y': [[[[0.054905, 0.058066, -0.208884],
                            [0.00608, 0.057573, -0.183592],
                            [0.227962, 0.159526, -0.059697]],
                           [[0.003339, 0.047677, -0.086291],
                            [0.279611, 0.116816, -0.139381],
                            [0.269745, 0.129523, -0.064418]]],
                          [[0.227962, 0.159526, -0.059697],
                           [0.269745, 0.129523, -0.064418]],
                          [[0.351676, 0.546271, -0.139813],
                           [0.43052, 0.525023, -0.127551]]]},
 'lstm_back': {'weights': [[[-0.44, 0.32, 0.45, 0.54, -0.78, 0.83, -0.54, -0.93, 0.11,
                             -0.26, 0.66, 0.62],
                            [-0.37, 0.91, -0.42, 0.03, -0.49, 0.87, -0.67, -0.91,
                             -0.13, 0.98, 0.78, 0.5]],
                           [[0.78, 0.79, 0.04, -0.37, 0.54, 0.32, -0.25, -0.81, 0.49,
                             -0.48, 0.87, -0.52],
                            [-0.75, 0.66, -0.69, -0.64, 0.2, 0.75, -0.61, -0.38, 0.55,
                             0.94, 0.0, -0.71],
                            [-0.97, -0.54, -0.74, 0.36, -0.76, 0.01, 0.39, 0.16, -0.6,
                             0.61, 0.43, 0.48]],
                           [-0.74, -0.75, 0.86, -0.2, -0.4, -0.02, 0.33, 0.91, -0.43,
                            0.85, -0.95, 0.11]],
               'y': [[[[0.037094, 0.096139, -0.150249],
                       [-0.060918, -0.00845, -0.240447],
                       [-0.018, 0.04865, -0.227114]],
                      [[-0.023633, 0.067182, -0.176035],
                       [0.174474, 0.057549, -0.120286],
                       [0.003106, -0.019595, -0.252043]]]]},
 'lstm_relu': {'weights': [[[0.27, -0.79, -0.72, -0.16, 0.93, 0.19, 0.87, 0.61, -0.07,
                             0.57, -0.96, -0.78],
                            [0.66, 0.59, -0.53, 0.06, 0.21, 0.74, 0.21, -0.17, -0.25,
                             -0.15, 0.3, 0.73]],
                           [[-0.09, -0.5, -0.53, 0.49, 0.63, -0.79, -0.87, 0.19,
                             -0.71, 0.65, -0.38, -0.71],
                            [0.84, -0.67, -0.43, -0.69, -0.77, -0.96, -0.89, -0.65,
                             -0.89, 0.18, 0.36, -0.21],
                            [-0.36, 0.01, 0.75, 0.7, -0.91, -0.64, -0.53, -0.5, 0.14,
                             -0.17, -0.9, -0.25]],
                           [0.05, -0.8, 0.67, -0.9, 0.85, -0.8, 0.69, 0.81, 0.96, 0.6,
                            0.56, 0.28]],
               'y': [[[0.156067, 0.209021, 0.195676],
                      [0.132286, 0.189013, 0.301948]]]},
 'h0': [[0.56, -0.73, 0.07], [0.03, 0.72, -0.07]],
 'c0': [[-0.23, 0.28, -0.47], [-0.72, -0.04, -0.17]],
 'lstm_init': {'weights': [[[-0.53, -0.26, -0.27, -0.35, -0.24, 0.37, -0.41, 0.9,
                             0.83, -0.04, -0.34, 0.07],
                            [0.7, 0.31, 0.61, 0.07, 0.27, -0.42, 0.47, -0.6, 0.39,
                             0.72, -0.74, 0.23]],
                           [[-0.81, 0.45, -0.83, 0.87, -0.73, 0.92, 0.6, 0.19, 0.57,
                             0.59, 0.89, -0.49],
                            [0.18, -0.81, 0.23, -0.66, 0.13, 0.14, -0.07, 0.05, 0.53,
                             0.6, -0.02, 0.2],
                            [0.86, -0.76, -0.77, -0.82, 0.32, -0.16, 0.55, 0.34,
                             -0.33, 0.8, 0.53, -0.46]],
                           [-0.27, -0.37, -0.68, -0.7, 0.87, -0.12, -0.23, 0.46, 0.11,
                            0.87, 0.56, -0.04]],
               'y': [[[0.226549, 0.120281, -0.023748],
                      [0.065693, -0.052312, 0.036124]],
                     [[0.226549, 0.120281, -0.023748],
                      [0.065693, -0.052312, 0.036124]],
                     [[0.272846, 0.240574, -0.043098],
                      [0.081753, -0.109383, 0.06552]]]},
 'mask': [[True, True, False], [True, False, True]],
 'lstm_mask': {'weights': [[[-0.25, 0.97, 0.44, 0.9, -0.76, 0.7, 0.27, -0.76, 0.18,
                             0.37, -0.98, -0.09],
                            [0.65, -0.41, -0.08, -0.12, -0.4, 0.84, 0.56, -0.78, 0.99,
                             0.76, -0.43, 0.67]],
                           [[-0.79, 1.0, 0.33, 0.3, -0.82, 0.79, -0.94, -0.52, -0.71,
                             0.55, -0.6, 0.82],
                            [0.31, -0.93, -0.99, -0.9, 0.21, 0.6, -0.52, 0.7, -0.89,
                             0.6, 0.86, 0.54],
                            [0.4, 0.68, -0.92, -0.6, -0.75, 0.01, 0.49, 0.26, 0.7,
                             -0.69, 0.47, -0.61]],
                           [-0.46, 0.42, 0.96, 0.22, -0.89, 0.23, -0.92, 0.77, 0.42,
                            -0.65, -0.82, -0.63]],
               'y': [[[[-0.083715, 0.063195, 0.090761],
                       [-0.144574, 0.012879, 0.243743],
                       [-0.144574, 0.012879, 0.243743]],
                      [[-0.093528, -0.007958, 0.229478],
                       [-0.093528, -0.007958, 0.229478],
                       [-0.106001, 0.05349, 0.325557]]],
                     [[-0.144574, 0.012879, 0.243743],
                      [-0.106001, 0.05349, 0.325557]],
                     [[-0.32485, 0.073453, 0.784211],
                      [-0.256709, 0.171077, 0.966062]]]},
 'lstm_mask_zero': {'weights': [[[0.96, -0.08, 0.57, 0.27, 0.14, -0.71, 0.89, -0.4,
                                  0.16, 0.4, 0.3, 0.88],
                                 [-0.7, 0.02, -0.19, -0.05, -0.76, -0.73, -0.44,
                                  -0.39, -0.14, 0.22, 0.27, -0.18]],
                                [[-0.18, -0.56, 0.18, -0.37, -0.93, -0.16, -0.05,
                                  -0.55, 0.14, 0.13, 0.4, 0.3],
                                 [0.3, -0.37, 0.57, 0.1, -0.14, 0.25, -0.28, 0.03,
                                  0.47, 0.77, 0.84, 0.01],
                                 [0.04, 0.6, -0.37, 0.67, -0.01, -0.77, -0.86, 0.68,
                                  -0.89, -0.44, -0.33, -0.65]],
                                [-0.37, 0.49, -0.97, 0.65, 0.71, -0.26, -0.69, 0.2,
                                 -0.76, -0.27, 0.92, 0.99]],
                    'y': [[[[-0.039416, 0.012097, -0.160762],
                            [-0.053449, -0.136551, -0.196371], [0.0, 0.0, 0.0]],
                           [[-0.098096, -0.10666, -0.157046], [0.0, 0.0, 0.0],
                            [-0.130325, -0.091832, -0.143153]]]]},
 'gru': {'weights': [[[0.54, -0.38, 0.38, 0.41, -0.22, 0.28, -0.98, -0.58, 0.05],
                      [-0.67, -0.67, 0.67, 0.98, 0.11, 0.68, 0.98, -0.72, -0.1]],
                     [[-0.21, -0.84, 0.51, -0.13, -0.06, -0.7, -0.64, 0.81, -0.91],
                      [-0.53, -0.42, -0.02, 0.17, -0.01, -0.83, -0.51, 0.69, 0.28],
                      [0.3, 0.34, 0.53, -0.88, -0.27, 0.08, -0.32, 0.69, -0.03]],
                     [[0.54, 0.7, 0.01, 0.82, 0.17, 0.7, -0.32, -0.0, 0.06],
                      [-0.79, -0.2, 0.83, 0.26, -0.64, -0.32, -0.62, -0.95, 0.85]]],
         'y': [[[[-0.419519, -0.209865, 0.151462], [-0.556283, -0.448047, 0.285959],
                 [0.447568, -0.522184, 0.40263]],
                [[-0.391963, -0.409594, 0.109424], [-0.069944, -0.351398, 0.329888],
                 [0.203944, -0.496464, 0.367449]]],
               [[0.447568, -0.522184, 0.40263], [0.203944, -0.496464, 0.367449]]]},
 'gru_back': {'weights': [[[-0.1, -0.38, 0.2, -0.99, -0.44, 0.41, 0.27, 0.96, 0.24],
                           [-0.04, 0.52, 0.81, 0.44, 0.93, 0.56, 0.73, -0.77, 0.46]],
                          [[-0.12, 0.11, 0.31, 0.94, 0.97, -0.42, 0.47, 0.5, -0.31],
                           [-0.75, -0.92, 0.55, -0.02, 0.97, -0.07, 0.96, -0.18,
                            0.59],
                           [-0.83, 0.11, 0.6, 0.85, 0.65, -0.93, -0.25, -0.9, -0.78]],
                          [[0.35, 0.43, 0.55, 0.73, 0.48, 0.6, -0.9, -0.53, 0.24],
                           [0.72, -0.99, 0.03, 0.35, -0.94, -0.2, 0.79, 0.34,
                            -0.52]]],
              'y': [[[-0.086479, 0.060341, -0.018727],
                     [-0.08894, -0.449478, -0.074842]]]},
 'gru_before': {'weights': [[[0.71, -0.3, 0.71, -0.4, 0.18, -0.21, -0.45, 0.77,
                              -0.62],
                             [-0.83, -0.32, 0.44, 0.61, 1.0, -0.41, -0.18, -0.73,
                              0.15]],
                            [[1.0, 0.4, 0.19, -0.22, 0.83, -0.01, -0.73, -0.27,
                              -0.87],
                             [-0.6, -0.96, -0.09, 0.27, -0.31, -0.16, 0.92, 0.5,
                              0.08],
                             [-0.43, 0.79, -0.53, -0.35, 0.82, 0.06, 0.48, 0.18,
                              0.31]],
                            [-0.4, -0.52, -0.36, -0.69, 0.75, -0.43, 0.12, 0.58,
                             0.57]],
                'y': [[[[-0.050378, 0.52321, 0.105121],
                        [0.059998, 0.729167, 0.163123],
                        [0.634607, -0.13333, 0.614138]],
                       [[-0.13295, 0.359002, 0.139884], [0.458542, 0.26643, 0.629787],
                        [0.303085, 0.037791, 0.641423]]]]},
 'gru_nobias': {'weights': [[[-0.12, -0.05, 0.99, 0.35, 0.63, 0.81, 0.58, -0.63,
                              0.12],
                             [-0.8, 0.31, 0.91, 0.03, -0.13, -0.93, 0.92, -0.79,
                              -0.92]],
                            [[-0.51, -0.87, -0.09, 0.03, -0.37, -0.9, -0.78, -0.23,
                              -0.88],
                             [0.4, -0.59, -0.4, -0.21, -0.17, -1.0, -0.78, 0.73,
                              -1.0],
                             [0.02, -0.02, -0.33, -0.14, 0.56, 0.68, -0.48, -0.36,
                              -0.52]]],
                'y': [[[0.390909, -0.376414, -0.347393],
                       [0.331956, -0.133367, -0.278143]]]},
 'gru_init': {'weights': [[[-0.04, 0.37, -0.54, -0.34, 0.86, -0.9, -0.08, 0.42, -0.7],
                           [-0.91, -0.72, 0.84, -0.98, -0.62, -0.94, -0.78, 0.24,
                            -0.52]],
                          [[0.14, 0.18, 0.7, -0.99, 0.71, 0.24, -0.67, 0.55, 0.71],
                           [-0.49, 0.84, -0.09, 0.21, 0.97, -0.28, 0.63, -0.36, 0.6],
                           [0.2, -0.57, -0.17, -0.36, -0.84, -0.94, -0.31, -0.96,
                            -0.67]],
                          [[0.45, 0.42, 0.48, -0.37, 0.78, 0.19, -0.75, -0.71, 0.39],
                           [-0.65, 0.01, 0.98, -0.99, -0.97, 0.99, 0.17, -0.75,
                            0.79]]],
              'y': [[[-0.745428, -0.678669, 0.131141],
                     [-0.744086, -0.501279, 0.197927]]]},
 'rnn': {'weights': [[[0.76, 0.07, 0.24], [-0.45, -0.9, 0.19]],
                     [[-0.41, 0.33, 0.67], [-0.96, 0.19, -0.54], [0.75, -0.49, 0.22]],
                     [0.11, -0.21, 0.36]],
         'y': [[[[0.524118, -0.063415, 0.437553], [0.575598, -0.511006, 0.796354],
                 [-0.081085, -0.889402, 0.828361]],
                [[0.243696, -0.595793, 0.532121], [0.433125, -0.434411, 0.644289],
                 [0.247332, -0.847865, 0.809515]]]]},
 'rnn_relu_back': {'weights': [[[0.45, 0.13, 0.52], [0.97, -0.16, 0.03]],
                               [[-0.98, 0.59, 0.04], [-0.18, -0.81, 0.78],
                                [-0.21, 0.37, -0.7]],
                               [0.92, -0.64, -0.6]],
                   'y': [[[0.832483, 0.0, 0.0], [1.663695, 0.0, 0.0]]]},
 'rnn_selu': {'weights': [[[0.72, 0.83, -0.58], [-0.06, 0.47, 0.76]],
                          [[-0.24, 0.03, 0.48], [0.46, 0.57, 0.14],
                           [-0.79, 0.81, 0.73]],
                          [0.6, -0.8, -0.59]],
              'y': [[[-0.08692, -1.631964, 0.321824],
                     [-0.159259, -1.468927, -0.26547]]]},
 'bi_concat': {'weights': [[[0.49, -0.95, 0.96, -0.25, 0.44, 0.78, -0.21, -0.36, 0.22,
                             0.16, -0.18, 0.2],
                            [0.87, -0.06, -0.61, -0.25, -0.21, -0.74, -0.67, 0.37,
                             -0.32, 0.91, -0.51, -0.8]],
                           [[0.51, 0.76, -0.44, -0.6, -0.63, 0.04, -0.06, -0.48,
                             -0.91, -0.04, 0.92, 0.31],
                            [-0.01, -0.78, -0.5, -0.41, 0.53, 0.75, 0.8, 0.97, 0.96,
                             0.91, -0.86, -0.72],
                            [-0.39, 0.11, -0.81, 0.69, 0.23, 0.08, -0.67, -0.49,
                             -0.68, 0.7, 0.17, 0.47]],
                           [-0.41, -0.26, -0.19, 0.52, 0.54, -0.59, 0.88, -0.76, 0.79,
                            -0.8, -0.47, 0.69],
                           [[-0.64, -0.17, -0.1, -0.51, 0.42, 0.7, 0.75, -0.32, 0.06,
                             -0.5, -0.51, -0.68],
                            [0.88, 0.78, 0.55, 0.04, -0.02, 0.06, 0.07, -0.13, -0.74,
                             -0.75, 0.9, -0.04]],
                           [[0.91, -0.67, 0.11, -0.58, -0.49, -0.94, -0.76, 0.83,
                             -0.36, 0.22, -0.07, -0.2],
                            [0.06, -0.63, 0.98, 0.64, 0.48, -0.06, -0.69, 0.84, -0.32,
                             -0.9, -0.32, 0.59],
                            [0.25, 0.5, 0.59, -0.58, 0.85, -0.12, 0.28, -1.0, 0.99,
                             -0.44, -0.88, -0.08]],
                           [-0.74, -0.7, 0.26, -0.21, 0.84, -0.36, 0.45, -0.08, 0.32,
                            0.2, -0.05, 0.9]],
               'y': [[[[0.08963, -0.088646, 0.296515, 0.116532, -0.01339, 0.012771],
                       [0.125844, -0.140608, 0.257883, 0.07454, -0.014179, -0.143231],
                       [0.120792, -0.163146, 0.015226, -0.027832, 0.023377,
                        -0.22396]],
                      [[0.096047, -0.057758, 0.171708, 0.093093, -0.034082,
                        -0.012281],
                       [0.097909, -0.218122, 0.120108, 0.010359, 0.045458, 0.029669],
                       [0.12526, -0.191164, 0.028753, 0.069496, -0.037514,
                        -0.155342]]]]},
 'bi_sum': {'weights': [[[-0.31, -0.65, 0.36, 0.69, -0.92, -0.1, 0.78, 0.5, 0.98],
                         [0.06, 0.32, -0.4, 0.9, -0.27, 0.48, -0.19, 0.12, 0.44]],
                        [[0.02, 0.81, -0.16, 0.29, -0.32, -0.18, -0.12, -0.75, -0.82],
                         [0.33, 0.31, 0.33, -0.96, -0.35, -0.6, 0.56, 0.72, -0.51],
                         [0.34, -0.74, -0.45, -0.72, -0.43, 0.35, 0.82, -0.59, 0.08]],
                        [[0.4, 0.91, 0.22, -0.49, 0.25, -0.36, 0.95, -0.2, 0.37],
                         [-0.95, -0.2, 0.75, 0.22, -0.11, 0.87, 0.71, -0.36, 0.09]],
                        [[-0.02, 0.26, -0.33, -0.51, 0.83, 0.85, 0.69, 0.96, 0.49],
                         [0.53, 0.53, -0.04, -0.09, -0.52, 0.29, -0.42, -0.48, 0.17]],
                        [[-0.18, -0.56, 0.63, 0.72, -0.66, -0.98, -0.33, 0.6, 0.68],
                         [-0.72, 0.55, -0.77, -0.22, 1.0, -0.61, -0.69, -0.15, 0.24],
                         [0.87, 0.96, -0.86, -0.72, 0.58, -0.46, 0.77, 0.33, -0.78]],
                        [[0.67, -0.65, -0.15, 0.1, 0.0, 0.37, 0.31, 0.98, 1.0],
                         [0.03, -0.81, 0.46, 0.95, -0.36, -0.08, -0.15, -0.9, 0.34]]],
            'y': [[[0.884958, 0.515291, 0.732531], [0.709842, 0.195437, 0.754303]]]},
 'bi_state': {'weights': [[[-0.29, 0.57, 0.66, 0.64, -0.17, -0.36, 0.5, 0.6, -0.02,
                            0.79, -0.71, 0.76],
                           [-0.81, -0.69, 0.07, -0.86, -0.89, -1.0, -0.13, 0.55,
                            -0.93, 0.3, 0.65, -0.66]],
                          [[-0.71, 0.72, 0.65, 0.08, 0.64, -0.81, -0.21, 0.48, -0.49,
                            0.5, 0.01, 0.5],
                           [-0.07, -0.26, -0.56, -0.58, 0.5, -0.76, -0.83, -0.65,
                            -0.65, 0.65, -0.2, 0.98],
                           [-0.73, 0.31, -0.1, -0.21, 0.75, 0.95, 0.75, -0.62, -0.56,
                            0.31, -0.42, 0.47]],
                          [0.13, 0.1, 0.66, 0.42, -0.95, -0.9, 0.2, -0.03, -0.48,
                           -0.16, 0.52, 0.65],
                          [[0.12, -0.23, -0.46, 0.04, -0.37, 0.13, 0.35, -0.87, -1.0,
                            -0.58, 0.79, 0.29],
                           [-0.66, 0.78, -0.06, -0.05, 0.87, -0.88, -0.57, 0.17,
                            -0.61, 0.36, -0.57, -0.8]],
                          [[-0.59, -0.15, -0.65, -0.73, 0.72, -0.36, -0.28, -0.89,
                            -0.29, -0.47, 0.22, -0.59],
                           [0.78, 0.86, -0.8, -0.79, -0.77, 0.24, -0.76, 0.7, 0.51,
                            0.64, 0.05, 0.99],
                           [-0.91, -0.2, -0.35, 0.9, 0.15, 0.61, -0.66, 0.96, -0.0,
                            -0.01, 0.94, -0.24]],
                          [-0.2, 0.17, -0.74, -0.36, -0.61, -0.79, 0.73, 0.18, -0.28,
                           -0.18, -0.14, 0.27]],
              'y': [[[0.036607, -0.017284, -0.167551],
                     [0.015172, 0.082414, -0.144416]],
                    [[-0.086994, 0.088652, -0.189017],
                     [-0.064809, 0.085734, -0.216317]],
                    [[-0.22175, 0.103248, -0.541165],
                     [-0.148234, 0.108646, -0.553736]],
                    [[0.160208, -0.12322, -0.146085],
                     [0.095153, 0.079095, -0.072515]],
                    [[0.478799, -0.219932, -0.238054],
                     [0.219131, 0.154946, -0.144162]]]},
 'bi_none': {'weights': [[[0.85, 0.87, -0.22], [-0.34, -0.1, 0.14]],
                         [[-0.08, 0.32, 0.11], [-0.36, -0.31, -0.24],
                          [-0.81, -0.67, 0.45]],
                         [-0.22, -0.57, 0.13],
                         [[0.51, -0.49, 0.65], [0.86, 0.19, 0.34]],
                         [[-0.89, 0.89, -0.22], [0.85, 0.16, -0.99],
                          [-0.92, 0.36, 0.13]],
                         [-0.95, 0.49, 0.7]],
             'y': [[[[0.280569, -0.079333, -0.0078], [0.265329, 0.136151, 0.072465],
                     [-0.876495, -0.879952, 0.438457]],
                    [[0.028193, -0.172847, 0.095112], [-0.681586, -0.835149, 0.35065],
                     [-0.577595, -0.791467, 0.529503]]],
                   [[[-0.92773, 0.659971, 0.736832], [0.416172, 0.059898, 0.597463],
                     [-0.497591, 0.78848, 0.45936]],
                    [[0.887288, -0.366287, 0.589308], [-0.827314, 0.70658, -0.289921],
                     [-0.337794, 0.652075, 0.67507]]]]},
 'td': {'weights': [[[-0.01, -0.07], [-0.99, 0.57]], [-0.34, 0.76]],
        'y': [[[[-0.2267, 0.6531], [-0.7333, 0.9319], [-1.2724, 1.3582]],
               [[-0.9095, 1.0485], [-0.2336, 0.7548], [-1.1789, 1.2627]]]]}}


@pytest.mark.parametrize("make,kernel", [
    (lambda: layers.LSTM(4), "lstm"), (lambda: layers.GRU(4), "gru"),
    (lambda: layers.SimpleRNN(4), "rnn_tanh"),
])
def test_the_fused_kernel_keeps_what_backward_needs_only_when_gradients_are_on(
        monkeypatch, make, kernel):
    """cuDNN keeps what its backward pass needs only with the kernels' `train` flag set (on a
    GPU, training fails without it; checked here on the flag itself)."""
    flags = []
    original = getattr(torch, kernel)

    def spy(*args):
        flags.append(args[6])  # (input, hx, params, has_biases, layers, dropout, train, ...)
        return original(*args)

    monkeypatch.setattr(torch, kernel, spy)
    if kernel == "rnn_tanh":  # SimpleRNN holds its kernels in a table by activation
        from netknit.layers import recurrent
        monkeypatch.setitem(recurrent._FUSED_SIMPLE_RNN, keras.activations.tanh, spy)
        monkeypatch.setitem(recurrent._CUDNN_MODES, spy, "RNN_TANH")
    layer = make()
    x = torch.randn(2, 5, 3)
    layer(x).sum().backward()
    with torch.no_grad():
        layer(x)
    with torch.inference_mode():
        layer(x)
    assert flags == [True, False, False]


def test_kernel_constraint_acts_on_keras_axes():
    """MaxNorm's default axis 0 is the input axis of Keras's (features, 4 * units) kernel: every
    column is scaled to norm 1 (when the weights were kept in torch's layout, it acted on the
    other axis and left the columns at norm 0.5 here)."""
    model = keras.Sequential([
        keras.Input((3, 2)),
        layers.LSTM(2, kernel_initializer=keras.initializers.Constant(5.0),
                    kernel_constraint=keras.constraints.MaxNorm(1.0)),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    model.fit(np.zeros((4, 3, 2), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    np.testing.assert_allclose(np.linalg.norm(model.get_weights()[0], axis=0), 1.0, rtol=1e-5)


# ---------------------------------------------------------------- stateful layers


def _stateful_model(layer, batch=2):
    inputs = keras.Input((5, 3), batch_size=batch)
    return keras.Model(inputs, layer(inputs))


def test_stateful_layer_carries_its_states_until_reset():
    layer = layers.LSTM(4, stateful=True)
    model = _stateful_model(layer)
    # As in Keras: the carried states are neither weights nor counted.
    assert (len(model.weights), model.count_params()) == (3, 128)
    assert [tuple(s.shape) for s in layer.states] == [(2, 4), (2, 4)]
    x = np.random.default_rng(0).random((2, 5, 3), dtype=np.float32)
    first = model.predict(x, verbose=0)
    torch.testing.assert_close(layer.states[0], torch.as_tensor(first))  # h is the output
    second = model.predict(x, verbose=0)
    assert not np.allclose(first, second)  # started from the carried states
    layer.reset_states()
    np.testing.assert_allclose(model.predict(x, verbose=0), first, rtol=1e-6)
    # Carrying over equals passing the last states in by hand.
    stateless = layers.LSTM(4, return_state=True)
    stateless(torch.as_tensor(x))
    stateless.set_weights(layer.get_weights())
    _, h, c = stateless(torch.as_tensor(x))
    out, _, _ = stateless(torch.as_tensor(x), initial_state=[h, c])
    np.testing.assert_allclose(out.detach().numpy(), second, rtol=1e-5, atol=1e-6)


def test_stateful_training_cuts_gradients_between_batches():
    layer = layers.GRU(3, stateful=True)
    model = _stateful_model(layer)
    model.compile("adam", "mse")
    x = np.random.default_rng(1).random((8, 5, 3), dtype=np.float32)
    history = model.fit(x, np.ones((8, 3), "float32"), batch_size=2, shuffle=False, epochs=2,
                        verbose=0)
    assert len(history.history["loss"]) == 2
    assert not layer.states[0].requires_grad and layer.states[0].abs().sum() > 0


def test_stateful_needs_a_fixed_batch_size():
    with pytest.raises(ValueError, match=r"needs a fixed batch size.*batch_size=32"):
        keras.Sequential([keras.Input((5, 3)), layers.SimpleRNN(4, stateful=True)])
    model = _stateful_model(layers.LSTM(4, stateful=True))
    with pytest.raises(ValueError, match="stateful with batches of 2; received a batch of 3"):
        model.predict(np.ones((3, 5, 3), "float32"), verbose=0)


def test_stateful_wrappers_cells_and_convolutions_carry_states():
    bidirectional = layers.Bidirectional(layers.LSTM(3, stateful=True))
    _stateful_model(bidirectional)
    assert len(bidirectional.states) == 4
    rnn = layers.RNN(layers.GRUCell(2), stateful=True)
    model = _stateful_model(rnn)
    x = np.ones((2, 5, 3), "float32")
    first = model.predict(x, verbose=0)
    assert not np.allclose(first, model.predict(x, verbose=0))
    bidirectional.reset_state()
    assert all(float(s.abs().sum()) == 0 for s in bidirectional.states)
    conv = layers.ConvLSTM1D(2, 3, stateful=True)
    inputs = keras.Input((4, 6, 1), batch_size=2)
    keras.Model(inputs, conv(inputs))
    assert [tuple(s.shape) for s in conv.states] == [(2, 4, 2), (2, 4, 2)]


def test_outputs_with_states_or_scores_are_tuples_as_in_keras():
    x = np.ones((2, 3, 5), "float32")
    symbolic = keras.Input((3, 5))
    assert type(layers.LSTM(4, return_state=True)(x)) is tuple
    assert type(layers.LSTM(4, return_state=True)(symbolic)) is tuple
    assert type(layers.Bidirectional(layers.GRU(2, return_state=True))(x)) is tuple
    assert type(layers.Bidirectional(layers.GRU(2, return_sequences=True),
                                     merge_mode=None)(symbolic)) is tuple
    assert type(layers.ConvLSTM1D(2, 3, return_state=True)(np.ones((2, 3, 5, 1), "float32"))) \
        is tuple
    attention = layers.MultiHeadAttention(2, 2)
    assert type(attention(symbolic, symbolic, return_attention_scores=True)) is tuple
    output, states = layers.LSTMCell(3)(torch.ones(2, 5), [torch.zeros(2, 3)] * 2)
    assert output.shape == (2, 3) and len(states) == 2


def test_a_built_lstm_refuses_another_number_of_features_when_called_eagerly():
    # torch's fused LSTM kernel does not check the input size, and read a wrong one silently.
    lstm = layers.LSTM(2)
    lstm(np.ones((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match=r"'lstm' \(LSTM\).*built for 2 features.*\(1, 5, 3\)"):
        lstm(np.ones((1, 5, 3), "float32"))
