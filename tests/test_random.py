"""`keras.random`: Keras's functions, shapes and dtypes; an int seed repeats its draw, a
SeedGenerator draws anew each call but repeats its sequence."""

import pytest
import torch

import netknit as keras
from netknit import random


@pytest.mark.parametrize("draw, dtype", [
    (lambda seed: random.normal((3, 4), seed=seed), torch.float32),
    (lambda seed: random.uniform((3, 4), minval=2, maxval=3, seed=seed), torch.float32),
    (lambda seed: random.randint((3, 4), 0, 5, seed=seed), torch.int32),
    (lambda seed: random.truncated_normal((3, 4), seed=seed), torch.float32),
    (lambda seed: random.gamma((3, 4), 2.0, seed=seed), torch.float32),
    (lambda seed: random.beta((3, 4), 2.0, 3.0, seed=seed), torch.float32),
    (lambda seed: random.binomial((3, 4), 5, 0.5, seed=seed), torch.float32),
    (lambda seed: random.normal((3, 4), dtype="float64", seed=seed), torch.float64),
])
def test_shapes_dtypes_and_seeds(draw, dtype):
    first, again = draw(7), draw(7)
    assert first.shape == (3, 4) and first.dtype == dtype
    assert torch.equal(first, again)
    generator = random.SeedGenerator(7)
    a, b = draw(generator), draw(generator)
    assert not torch.equal(a, b)
    replay = random.SeedGenerator(7)
    assert torch.equal(draw(replay), a)


def test_ranges_and_statistics():
    uniform = random.uniform((10000,), minval=2.0, maxval=3.0, seed=1)
    assert 2.0 <= uniform.min() and uniform.max() < 3.0
    normal = random.normal((10000,), mean=5.0, stddev=2.0, seed=1)
    assert abs(normal.mean() - 5.0) < 0.1 and abs(normal.std() - 2.0) < 0.1
    truncated = random.truncated_normal((10000,), stddev=2.0, seed=1)
    assert truncated.abs().max() <= 4.0
    integers = random.randint((1000,), 3, 6, seed=1)
    assert set(integers.tolist()) == {3, 4, 5}


def test_dropout_keeps_the_expected_scale():
    x = torch.ones(10000)
    dropped = random.dropout(x, 0.25, seed=3)
    kept = dropped[dropped != 0]
    assert torch.allclose(kept, torch.full_like(kept, 4 / 3))
    assert abs((dropped == 0).float().mean() - 0.25) < 0.02
    rows = random.dropout(torch.ones(4, 100), 0.5, noise_shape=(4, 1), seed=3)
    assert all(len(row.unique()) == 1 for row in rows)
    with pytest.raises(ValueError, match="rate must be in"):
        random.dropout(x, 1.0)


def test_shuffle_and_categorical():
    shuffled = random.shuffle(torch.arange(10), seed=2)
    assert sorted(shuffled.tolist()) == list(range(10))
    logits = torch.tensor([[0.0, 100.0, 0.0], [100.0, 0.0, 0.0]])
    draws = random.categorical(logits, 5, seed=2)
    assert draws.dtype == torch.int32 and draws.tolist() == [[1] * 5, [0] * 5]


def test_a_bad_seed_is_named():
    with pytest.raises(ValueError, match="A seed is an int"):
        random.normal((2,), seed="abc")
    assert keras.random.SeedGenerator(3).get_config()["seed"] == 3
