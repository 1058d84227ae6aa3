"""Initializer configs and fan rules as Keras 3.15.1 has them."""

import math

import netknit as keras
from netknit import initializers


def test_variance_scaling_config_and_axes():
    init = initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform",
                                        input_axes=[0], output_axes=[1, 2])
    assert init.get_config() == {"seed": None, "scale": 2.0, "mode": "fan_out",
                                 "distribution": "uniform", "input_axes": [0],
                                 "output_axes": [1, 2]}
    values = init((10, 4, 5))
    limit = math.sqrt(3 * 2.0 / 20)  # fan_out = 4 * 5 over the given output axes
    assert values.abs().max() <= limit and values.abs().max() > 0.8 * limit
    assert initializers.compute_fans((10, 4, 5), [0], [1, 2]) == (10.0, 20.0)
    assert initializers.compute_fans((3, 3, 4, 8)) == (36.0, 72.0)


def test_presets_keep_their_axes():
    init = keras.initializers.GlorotUniform(input_axes=[0], output_axes=[1])
    assert init.get_config() == {"seed": None, "input_axes": [0], "output_axes": [1]}
    rebuilt = initializers.get({"class_name": "VarianceScaling", "config": {
        "seed": None, "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
        "input_axes": None, "output_axes": None}})
    assert isinstance(rebuilt, initializers.VarianceScaling)
