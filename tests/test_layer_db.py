"""The generic layer test: every row of layer_db.ROWS through the same checks."""

import re

import numpy as np
import pytest
import torch
from layer_db import ROWS, LayerCase

import netknit as keras


def _inputs(case: LayerCase):
    shapes = case.input_shape if isinstance(case.input_shape, list) else [case.input_shape]
    return [keras.Input(shape=s, dtype=case.input_dtype) for s in shapes]


def _data(case: LayerCase, batch=3):
    shapes = case.input_shape if isinstance(case.input_shape, list) else [case.input_shape]
    rng = np.random.default_rng(0)
    if case.input_dtype.startswith("int"):
        arrays = [rng.integers(0, 5, size=(batch,) + s) for s in shapes]
    else:
        arrays = [rng.standard_normal((batch,) + s).astype("float32") for s in shapes]
    return [torch.as_tensor(a) for a in arrays]


def _one_or_list(items, case):
    return items if isinstance(case.input_shape, list) else items[0]


def _call(layer, items, case):
    """Call `layer` on the row's inputs: one tensor, a list, or separate arguments."""
    return layer(*items) if case.separate_inputs else layer(_one_or_list(items, case))


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_symbolic_shape_and_params_match_keras(case):
    layer = case.cls(**case.kwargs)
    output = _call(layer, _inputs(case), case)
    assert output.shape == case.output_shape
    assert layer.count_params() == case.params


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_eager_shape_equals_inferred_shape(case):
    layer = case.cls(**case.kwargs)
    symbolic = _call(layer, _inputs(case), case)
    real = _call(layer, _data(case), case)
    assert (None,) + tuple(real.shape[1:]) == symbolic.shape


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_config_round_trip(case):
    layer = case.cls(**case.kwargs)
    _call(layer, _inputs(case), case)
    clone = case.cls.from_config(layer.get_config(), **case.from_config_kwargs)
    assert clone.get_config().keys() == layer.get_config().keys()
    # The clone computes the same function once it has the same weights.
    _call(clone, _inputs(case), case)
    clone.set_weights(layer.get_weights())
    data = _data(case)
    torch.manual_seed(0)  # augmentation layers draw at random when called directly
    expected = _call(layer, data, case)
    torch.manual_seed(0)
    torch.testing.assert_close(_call(clone, data, case), expected)
    # A config is a fixed point: saving the clone gives the same config again.
    again = case.cls.from_config(clone.get_config(), **case.from_config_kwargs)
    assert again.get_config() == clone.get_config()


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_weights_round_trip_in_keras_layout(case):
    layer = case.cls(**case.kwargs)
    _call(layer, _inputs(case), case)
    weights = [np.random.default_rng(1).standard_normal(w.shape).astype(w.dtype)
               for w in layer.get_weights()]
    layer.set_weights(weights)
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    if weights:
        with pytest.raises(ValueError, match="expects"):
            layer.set_weights(weights[:-1])


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_training_step_reaches_every_trainable_weight(case):
    layer = case.cls(**case.kwargs)
    _call(layer, _inputs(case), case)
    layer.train()
    data = _data(case)
    for x in data:
        x.requires_grad_(x.is_floating_point())
    out = _call(layer, data, case)
    if not out.requires_grad:  # integer inputs, no weights (CategoryEncoding): nothing to train
        assert not layer.trainable_weights
        return
    out.float().square().mean().backward()
    for weight in layer.trainable_weights:
        assert weight.grad is not None and torch.isfinite(weight.grad).all()


ERROR_CASES = [(case, bad, pattern) for case in ROWS for bad, pattern in case.errors]


@pytest.mark.parametrize(
    "case,bad,pattern", ERROR_CASES, ids=[f"{c.id}-{i}" for i, (c, _, _) in enumerate(ERROR_CASES)]
)
def test_bad_input_raises_teaching_shape_error(case, bad, pattern):
    shapes = bad if isinstance(bad, list) else [bad]
    inputs = [keras.Input(shape=s) for s in shapes]
    with pytest.raises(keras.ShapeError, match=pattern) as info:
        layer = case.cls(**case.kwargs)
        if case.separate_inputs:
            layer(*inputs)
        else:
            layer(inputs if isinstance(bad, list) else inputs[0])
    message = str(info.value)
    assert "Fix:" in message
    assert re.search(r"\(None", message)
