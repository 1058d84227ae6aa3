"""split_dataset: the sizes, checks and samples of Keras 3.15.1 on the torch backend."""

import numpy as np
import pytest
import torch

import netknit as keras


def _samples(subset):
    return [tuple(int(t) for t in subset[i]) for i in range(len(subset))]


def test_sizes_by_fraction_count_or_complement():
    left, right = keras.utils.split_dataset(np.arange(10), left_size=0.8)
    assert isinstance(left, torch.utils.data.Subset) and (len(left), len(right)) == (8, 2)
    assert [len(s) for s in keras.utils.split_dataset(np.arange(10), right_size=3)] == [7, 3]
    both = keras.utils.split_dataset(np.arange(10), left_size=0.5, right_size=0.5)
    assert sorted(_samples(both[0]) + _samples(both[1])) == [(i,) for i in range(10)]


def test_samples_are_those_keras_draws_for_the_same_torch_seed():
    # Keras 3.15.1 (torch backend) after torch.manual_seed(0).
    torch.manual_seed(0)
    left, right = keras.utils.split_dataset(np.arange(10), left_size=0.8)
    assert _samples(left)[:4] == [(4,), (1,), (7,), (5,)] and _samples(right) == [(6,), (2,)]
    # With shuffle and a seed, a generator of its own; arrays of a tuple stay paired.
    left, right = keras.utils.split_dataset((np.arange(6), np.arange(6) * 10), left_size=0.5,
                                            shuffle=True, seed=3)
    assert _samples(left) == [(4, 40), (0, 0), (3, 30)]
    assert _samples(right) == [(2, 20), (1, 10), (5, 50)]


@pytest.mark.parametrize("kwargs, match", [
    ({}, "left_size or right_size"),
    ({"left_size": 1.5}, "left_size=1.5"),
    ({"left_size": 10}, "left_size=10"),
    ({"left_size": 0.3, "right_size": 0.3}, "cover the 10 samples"),
    ({"left_size": "half"}, "int or a float"),
])
def test_bad_sizes_are_refused(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        keras.utils.split_dataset(np.arange(10), **kwargs)
