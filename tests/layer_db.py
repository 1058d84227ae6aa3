"""One row per layer: how to build it, what it receives, and what Keras says it gives.

`tests/test_layer_db.py` runs every row through the same checks: the shape inferred on symbolic
inputs equals the shape `forward` produces; the output shape and parameter count equal Keras's;
`get_config` round-trips; `get_weights`/`set_weights` round-trip; a training step reaches every
trainable weight; and each listed bad input raises a ShapeError whose message matches.

Adding a layer to netknit means adding a row here (shapes and counts taken from Keras 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netknit import layers


@dataclass
class LayerCase:
    cls: type
    kwargs: dict
    input_shape: tuple | list  # without the batch dimension; a list of tuples for several inputs
    output_shape: tuple  # Keras's output shape, batch dimension (None) included
    params: int  # Keras's count_params()
    input_dtype: str = "float32"
    # (input_shape, regex) pairs: inputs that must raise a ShapeError matching regex when built.
    errors: list = field(default_factory=list)
    id: str = ""
    from_config_kwargs: dict = field(default_factory=dict)
    # Pass several inputs as separate arguments, layer(query, value), instead of one list.
    separate_inputs: bool = False

    def __post_init__(self):
        self.id = self.id or self.cls.__name__


ROWS = [
    # core
    LayerCase(layers.Dense, {"units": 3}, (4,), (None, 3), 15),
    LayerCase(layers.Dense, {"units": 3, "activation": "relu", "use_bias": False}, (5, 4),
              (None, 5, 3), 12, id="Dense-3d-nobias",
              errors=[((), r"rank 2 or more")]),
    LayerCase(layers.Activation, {"activation": "softmax"}, (4,), (None, 4), 0),
    LayerCase(layers.Dropout, {"rate": 0.5}, (4,), (None, 4), 0),
    LayerCase(layers.Flatten, {}, (2, 3, 4), (None, 24), 0),
    LayerCase(layers.Reshape, {"target_shape": (-1, 4)}, (2, 6), (None, 3, 4), 0,
              errors=[((5,), r"not a multiple of 4")]),
    LayerCase(layers.Reshape, {"target_shape": (3, 4)}, (12,), (None, 3, 4), 0,
              id="Reshape-exact", errors=[((10,), r"Reshape cannot turn 10 values")]),
    LayerCase(layers.Permute, {"dims": (2, 1)}, (3, 4), (None, 4, 3), 0,
              errors=[((3, 4, 5), r"reorders 2 axes")]),
    LayerCase(layers.RepeatVector, {"n": 3}, (4,), (None, 3, 4), 0,
              errors=[((2, 4), r"Flatten\(\)")]),
    LayerCase(layers.Identity, {}, (3,), (None, 3), 0),
    LayerCase(layers.Lambda, {"function": lambda x: x[:, :2] * 2}, (5,), (None, 2), 0,
              from_config_kwargs={"safe_mode": False}),
    # merging
    LayerCase(layers.Concatenate, {}, [(3,), (5,)], (None, 8), 0,
              errors=[([(1, 1280), (16,)], r"ranks differ")]),
    LayerCase(layers.Concatenate, {"axis": 1}, [(2, 3), (4, 3)], (None, 6, 3), 0,
              id="Concatenate-axis1"),
    LayerCase(layers.Add, {}, [(4,), (4,)], (None, 4), 0,
              errors=[([(32,), (16,)], r"Dense\(32\)")]),
    LayerCase(layers.Subtract, {}, [(4,), (4,)], (None, 4), 0),
    LayerCase(layers.Multiply, {}, [(4,), (4,)], (None, 4), 0),
    LayerCase(layers.Average, {}, [(4,), (4,), (4,)], (None, 4), 0),
    LayerCase(layers.Maximum, {}, [(4,), (4,)], (None, 4), 0),
    LayerCase(layers.Minimum, {}, [(4,), (4,)], (None, 4), 0),
    LayerCase(layers.Dot, {"axes": 1}, [(4,), (4,)], (None, 1), 0),
    LayerCase(layers.Dot, {"axes": 2}, [(3, 4), (5, 4)], (None, 3, 5), 0, id="Dot-3d"),
    # recurrent
    LayerCase(layers.LSTM, {"units": 4}, (5, 3), (None, 4), 128,
              errors=[((10,), r"Reshape\(\(10, 1\)\)"), ((2, 5, 3), r"4-D input")]),
    LayerCase(layers.LSTM, {"units": 4, "return_sequences": True, "go_backwards": True},
              (5, 3), (None, 5, 4), 128, id="LSTM-sequences-backwards"),
    LayerCase(layers.LSTM, {"units": 2, "activation": "relu", "use_bias": False}, (5, 3),
              (None, 2), 40, id="LSTM-loop-nobias"),
    LayerCase(layers.GRU, {"units": 4}, (5, 3), (None, 4), 108,
              errors=[((10,), r"RepeatVector\(n\)")]),
    LayerCase(layers.GRU, {"units": 4, "reset_after": False, "return_sequences": True}, (5, 3),
              (None, 5, 4), 96, id="GRU-reset-before"),
    LayerCase(layers.SimpleRNN, {"units": 4}, (5, 3), (None, 4), 32),
    LayerCase(layers.SimpleRNN, {"units": 4, "activation": "selu", "go_backwards": True}, (5, 3),
              (None, 4), 32, id="SimpleRNN-loop"),
    LayerCase(layers.Bidirectional, {"layer": layers.LSTM(4)}, (5, 3), (None, 8), 256,
              errors=[((10,), r"sequences \(batch, timesteps, features\)")]),
    LayerCase(layers.Bidirectional,
              {"layer": layers.GRU(3, return_sequences=True), "merge_mode": "sum"}, (5, 3),
              (None, 5, 3), 144, id="Bidirectional-sum"),
    LayerCase(layers.TimeDistributed, {"layer": layers.Dense(2)}, (5, 3), (None, 5, 2), 8,
              errors=[((3,), r"each step")]),
    # convolutional
    LayerCase(layers.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal"}, (10, 2),
              (None, 10, 4), 28, errors=[((10,), r"Reshape\(\(10, 1\)\)")]),
    LayerCase(layers.Conv2D, {"filters": 32, "kernel_size": (3, 3)}, (28, 28, 1),
              (None, 26, 26, 32), 320,
              errors=[((10,), r"\(batch, height, width, channels\).*\n.*\n.*Reshape\("),
                      ((784,), r"Reshape\(\(28, 28, 1\)\)"),
                      ((2, 2, 1), r"padding='same'")]),
    LayerCase(layers.Conv2D, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
                              "activation": "relu"}, (7, 7, 3), (None, 4, 4, 4), 112,
              id="Conv2D-strided-same"),
    LayerCase(layers.Conv2D, {"filters": 4, "kernel_size": 3, "groups": 2,
                              "data_format": "channels_first"}, (4, 6, 6), (None, 4, 4, 4), 76,
              id="Conv2D-groups-channels-first", errors=[((3, 6, 6), r"divisible by 2")]),
    LayerCase(layers.Conv3D, {"filters": 2, "kernel_size": 2}, (4, 4, 4, 2), (None, 3, 3, 3, 2),
              34, errors=[((4, 4, 2), r"Conv2D")]),
    LayerCase(layers.Conv1DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2,
                                       "output_padding": 1}, (4, 2), (None, 10, 3), 21),
    LayerCase(layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2,
                                       "padding": "same"}, (4, 4, 2), (None, 8, 8, 3), 57),
    LayerCase(layers.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2}, (6, 6, 3),
              (None, 4, 4, 6), 60),
    LayerCase(layers.SeparableConv2D, {"filters": 4, "kernel_size": 3, "padding": "same"},
              (6, 6, 3), (None, 6, 6, 4), 43),
    # pooling
    LayerCase(layers.MaxPooling1D, {}, (8, 3), (None, 4, 3), 0),
    LayerCase(layers.MaxPooling2D, {}, (26, 26, 32), (None, 13, 13, 32), 0,
              errors=[((26, 26), r"Reshape\(\(26, 26, 1\)\)"), ((1, 5, 3), r"pool_size")]),
    LayerCase(layers.MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 7, 2),
              (None, 4, 4, 2), 0, id="MaxPooling2D-same"),
    LayerCase(layers.MaxPooling3D, {}, (4, 4, 4, 2), (None, 2, 2, 2, 2), 0),
    LayerCase(layers.AveragePooling1D, {"pool_size": 2}, (8, 3), (None, 4, 3), 0),
    LayerCase(layers.AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"},
              (7, 7, 2), (None, 4, 4, 2), 0),
    LayerCase(layers.AveragePooling3D, {"pool_size": 2}, (4, 4, 4, 2), (None, 2, 2, 2, 2), 0),
    LayerCase(layers.GlobalAveragePooling1D, {}, (5, 3), (None, 3), 0),
    LayerCase(layers.GlobalAveragePooling2D, {}, (4, 4, 3), (None, 3), 0,
              errors=[((4, 3), r"GlobalAveragePooling1D")]),
    LayerCase(layers.GlobalAveragePooling3D, {"keepdims": True}, (2, 3, 4, 3),
              (None, 1, 1, 1, 3), 0),
    LayerCase(layers.GlobalMaxPooling1D, {}, (5, 3), (None, 3), 0),
    LayerCase(layers.GlobalMaxPooling2D, {"keepdims": True}, (4, 4, 3), (None, 1, 1, 3), 0),
    LayerCase(layers.GlobalMaxPooling3D, {}, (2, 3, 4, 3), (None, 3), 0),
    # reshaping
    LayerCase(layers.ZeroPadding1D, {"padding": 2}, (5, 3), (None, 9, 3), 0),
    LayerCase(layers.ZeroPadding2D, {"padding": ((1, 2), (0, 1))}, (4, 4, 3), (None, 7, 5, 3), 0,
              errors=[((4, 3), r"Reshape\(\(4, 3, 1\)\)")]),
    LayerCase(layers.Cropping1D, {"cropping": (1, 2)}, (6, 3), (None, 3, 3), 0,
              errors=[((3, 3), r"only 3")]),
    LayerCase(layers.Cropping2D, {"cropping": ((1, 0), (2, 1))}, (5, 6, 3), (None, 4, 3, 3), 0),
    LayerCase(layers.UpSampling1D, {"size": 3}, (4, 2), (None, 12, 2), 0),
    LayerCase(layers.UpSampling2D, {}, (3, 4, 2), (None, 6, 8, 2), 0),
    LayerCase(layers.UpSampling2D, {"size": (2, 3), "interpolation": "bilinear"}, (3, 4, 2),
              (None, 6, 12, 2), 0, id="UpSampling2D-bilinear"),
    LayerCase(layers.ZeroPadding3D, {"padding": (1, 2, 0)}, (2, 3, 4, 2), (None, 4, 7, 4, 2), 0,
              errors=[((4, 4, 3), r"ZeroPadding3D")]),
    LayerCase(layers.ZeroPadding3D, {"padding": ((1, 0), (0, 2), (3, 1))}, (2, 3, 4, 2),
              (None, 3, 5, 8, 2), 0, id="ZeroPadding3D-pairs"),
    LayerCase(layers.Cropping3D, {}, (4, 5, 6, 2), (None, 2, 3, 4, 2), 0,
              errors=[((2, 5, 6, 2), r"only 2")]),
    LayerCase(layers.Cropping3D, {"cropping": ((1, 0), (0, 2), 1)}, (4, 5, 6, 2),
              (None, 3, 3, 4, 2), 0, id="Cropping3D-mixed"),
    LayerCase(layers.UpSampling3D, {}, (2, 3, 4, 2), (None, 4, 6, 8, 2), 0),
    LayerCase(layers.UpSampling3D, {"size": (1, 2, 3), "data_format": "channels_first"},
              (2, 3, 4, 2), (None, 2, 3, 8, 6), 0, id="UpSampling3D-channels_first"),
    # normalization
    LayerCase(layers.BatchNormalization, {}, (5, 3), (None, 5, 3), 12,
              errors=[((5, None), r"size of axis 2")]),
    LayerCase(layers.BatchNormalization, {"axis": 1, "center": False}, (3, 4, 4),
              (None, 3, 4, 4), 9, id="BatchNormalization-axis1",
              errors=[((), r"axis 1, which a 1-D input")]),
    LayerCase(layers.LayerNormalization, {}, (5, 3), (None, 5, 3), 6),
    LayerCase(layers.LayerNormalization, {"axis": [1, 2]}, (3, 4, 2), (None, 3, 4, 2), 24,
              id="LayerNormalization-axes"),
    LayerCase(layers.GroupNormalization, {"groups": 2}, (5, 4), (None, 5, 4), 8,
              errors=[((5, 3), r"groups that divides 3: one of \[1, 3\]")]),
    LayerCase(layers.UnitNormalization, {}, (5, 3), (None, 5, 3), 0),
    # embedding and masking
    LayerCase(layers.Embedding, {"input_dim": 10, "output_dim": 4}, (5,), (None, 5, 4), 40,
              input_dtype="int64"),
    LayerCase(layers.Embedding, {"input_dim": 10, "output_dim": 3, "mask_zero": True}, (2, 5),
              (None, 2, 5, 3), 30, input_dtype="int64", id="Embedding-mask-zero"),
    LayerCase(layers.Masking, {}, (5, 3), (None, 5, 3), 0, errors=[((), r"feature axis")]),
    # preprocessing
    LayerCase(layers.Rescaling, {"scale": 0.5, "offset": 1.0}, (4,), (None, 4), 0),
    LayerCase(layers.Rescaling, {"scale": [1.0, 2.0, 0.5]}, (2, 3), (None, 2, 3), 0,
              id="Rescaling-per-channel"),
    LayerCase(layers.Resizing, {"height": 3, "width": 4}, (5, 7, 2), (None, 3, 4, 2), 0,
              errors=[((5, 7), r"4-D inputs")]),
    LayerCase(layers.Resizing, {"height": 4, "width": 4, "crop_to_aspect_ratio": True,
                                "interpolation": "bicubic"}, (5, 7, 2), (None, 4, 4, 2), 0,
              id="Resizing-crop-bicubic"),
    LayerCase(layers.Resizing, {"height": 4, "width": 4, "pad_to_aspect_ratio": True,
                                "fill_value": 1.0, "data_format": "channels_first"},
              (2, 5, 7), (None, 2, 4, 4), 0, id="Resizing-pad-channels-first"),
    LayerCase(layers.Normalization, {}, (5, 3), (None, 5, 3), 7,
              errors=[((None,), r"needs the size of axis 1")]),
    LayerCase(layers.Normalization, {"axis": (1, 2)}, (2, 3), (None, 2, 3), 13,
              id="Normalization-axes"),
    LayerCase(layers.Normalization, {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]},
              (3,), (None, 3), 0, id="Normalization-given"),
    LayerCase(layers.CategoryEncoding, {"num_tokens": 5}, (3,), (None, 5), 0,
              input_dtype="int64", errors=[((3, 2), r"takes inputs \(batch,\) or")]),
    LayerCase(layers.CategoryEncoding, {"num_tokens": 5, "output_mode": "one_hot"}, (3,),
              (None, 3, 5), 0, input_dtype="int64", id="CategoryEncoding-one-hot"),
    LayerCase(layers.CenterCrop, {"height": 2, "width": 3}, (4, 5, 3), (None, 2, 3, 3), 0,
              errors=[((4, 5), r"4-D inputs")]),
    LayerCase(layers.CenterCrop, {"height": 6, "width": 6, "data_format": "channels_first"},
              (3, 4, 5), (None, 3, 6, 6), 0, id="CenterCrop-resize"),
    # augmentation (the identity in inference, where the parity tests compare them)
    LayerCase(layers.RandomFlip, {"mode": "horizontal"}, (4, 5, 3), (None, 4, 5, 3), 0,
              errors=[((4, 5, 3, 2), r"4-D inputs")]),
    LayerCase(layers.RandomRotation, {"factor": 0.1, "fill_mode": "constant",
                                      "fill_value": 1.0}, (4, 5, 3), (None, 4, 5, 3), 0),
    LayerCase(layers.RandomZoom, {"height_factor": (-0.2, 0.3), "width_factor": 0.1,
                                  "fill_mode": "wrap"}, (4, 5, 3), (None, 4, 5, 3), 0),
    LayerCase(layers.RandomTranslation, {"height_factor": 0.1, "width_factor": 0.2,
                                         "fill_mode": "nearest", "interpolation": "nearest"},
              (4, 5, 3), (None, 4, 5, 3), 0),
    LayerCase(layers.RandomContrast, {"factor": 0.2}, (4, 5, 3), (None, 4, 5, 3), 0),
    LayerCase(layers.RandomBrightness, {"factor": (-0.1, 0.3), "value_range": (0, 1)},
              (4, 5, 3), (None, 4, 5, 3), 0),
    # activations
    LayerCase(layers.Softmax, {"axis": [1, 2]}, (5, 3), (None, 5, 3), 0,
              errors=[((3,), r"axis 2")]),
    LayerCase(layers.ReLU, {"max_value": 6.0, "negative_slope": 0.1}, (4,), (None, 4), 0),
    LayerCase(layers.LeakyReLU, {}, (4,), (None, 4), 0),
    LayerCase(layers.PReLU, {}, (3, 4), (None, 3, 4), 12,
              errors=[((None, 4), r"PReLU\(shared_axes=\[1\]\)")]),
    LayerCase(layers.PReLU, {"shared_axes": [1]}, (3, 4), (None, 3, 4), 4,
              id="PReLU-shared"),
    LayerCase(layers.ELU, {"alpha": 0.5}, (4,), (None, 4), 0),
    # regularization
    LayerCase(layers.GaussianNoise, {"stddev": 0.1}, (4,), (None, 4), 0),
    LayerCase(layers.GaussianDropout, {"rate": 0.2}, (4,), (None, 4), 0),
    LayerCase(layers.AlphaDropout, {"rate": 0.2, "noise_shape": (None, 1)}, (4,), (None, 4), 0),
    LayerCase(layers.SpatialDropout1D, {"rate": 0.5}, (5, 3), (None, 5, 3), 0,
              errors=[((4, 4, 3), r"SpatialDropout2D")]),
    LayerCase(layers.SpatialDropout2D, {"rate": 0.5}, (4, 4, 3), (None, 4, 4, 3), 0),
    LayerCase(layers.SpatialDropout3D, {"rate": 0.5}, (2, 2, 2, 3), (None, 2, 2, 2, 3), 0),
    LayerCase(layers.ActivityRegularization, {"l1": 0.01, "l2": 0.01}, (4,), (None, 4), 0),
    # attention
    LayerCase(layers.MultiHeadAttention, {"num_heads": 2, "key_dim": 3}, [(4, 6), (5, 3)],
              (None, 4, 6), 132, separate_inputs=True,
              errors=[([(6,), (6,)], r"Reshape\(\(1, features\)\)"),
                      ([(4, 6), (5, 3, 2)], r"different ranks"),
                      ([(4, 6), (5, 3), (2, 3)], r"one key per value")]),
    LayerCase(layers.MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "value_dim": 3,
                                          "output_shape": 5, "attention_axes": -2,
                                          "use_gate": True},
              [(4, 6), (5, 3), (5, 2)], (None, 4, 5), 141, separate_inputs=True,
              id="MultiHeadAttention-key-gate"),
    LayerCase(layers.Attention, {"score_mode": "concat", "use_scale": True}, [(4, 6), (5, 6)],
              (None, 4, 6), 2, errors=[([(4, 6), (5, 3)], r"same number of features"),
                                       ((4, 6), r"Attention\(\)\(\[query, value\]\)")]),
    LayerCase(layers.AdditiveAttention, {}, [(4, 6), (5, 3), (5, 6)], (None, 4, 3), 6),
]
