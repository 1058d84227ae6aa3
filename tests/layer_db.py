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
]
