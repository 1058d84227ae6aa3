"""`keras.random`: random tensors drawn with torch, reproducible from a seed.

A `seed` is None (torch's global generator), an int (the same values on every call with that
int), or a `SeedGenerator` (a new draw on every call, the sequence fixed by its seed), as in Keras.
"""

from __future__ import annotations

import torch

from .ops.core import tensor, to_torch_dtype


class SeedGenerator:
    """A source of seeds: each random call that takes it draws differently, reproducibly.

    Args:
        seed: an int fixing the sequence of draws; None picks one at random.

    >>> generator = keras.random.SeedGenerator(1337)
    >>> a = keras.random.normal((2,), seed=generator)  # differs from the next draw
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"SeedGenerator's seed must be an int or None; got {seed!r}.")
        self.initial_seed = int(torch.randint(0, 2**31 - 1, ())) if seed is None else seed
        self.name = name or "seed_generator"
        self._draws = 0

    def next(self) -> int:
        """The next seed of the sequence: Keras's, the initial seed and then one more each draw
        (as 32 bits), so that a generator draws the numbers it draws in Keras on the CPU."""
        seed = (self.initial_seed + self._draws) & 0xFFFFFFFF
        self._draws += 1
        return seed

    def get_config(self) -> dict:
        return {"seed": self.initial_seed, "name": self.name}


def _generator(seed, device=None) -> torch.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        seed = seed.next()
    elif not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"A seed is an int, a keras.random.SeedGenerator or None; got {seed!r}.")
    return torch.Generator(device=device or "cpu").manual_seed(seed)


def _float(dtype) -> torch.dtype:
    return to_torch_dtype(dtype) or torch.float32


def _shape(shape) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    values = torch.randn(_shape(shape), generator=_generator(seed), dtype=_float(dtype))
    return values * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    values = torch.rand(_shape(shape), generator=_generator(seed), dtype=_float(dtype))
    return values * (maxval - minval) + minval


def randint(shape, minval, maxval, dtype="int32", seed=None):
    return torch.randint(int(minval), int(maxval), _shape(shape), generator=_generator(seed),
                         dtype=to_torch_dtype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values within two standard deviations, drawn as Keras draws them (so that a seed
    gives Keras's numbers): four candidates per value, the first within the bounds kept (the
    first of all in the rare case, about one value in 230,000, that none is)."""
    candidates = torch.randn(_shape(shape) + (4,), generator=_generator(seed), dtype=_float(dtype))
    first_within = ((candidates > -2) & (candidates < 2)).int().argmax(-1, keepdim=True)
    return candidates.gather(-1, first_within).squeeze(-1) * stddev + mean


def dropout(inputs, rate, noise_shape=None, seed=None):
    """`inputs` with a fraction `rate` of its entries zeroed, the rest scaled by 1 / (1 - rate)."""
    inputs = tensor(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout's rate must be in [0, 1); got {rate!r}.")
    shape = inputs.shape if noise_shape is None else tuple(
        n if n is not None else inputs.shape[i] for i, n in enumerate(noise_shape))
    # A Bernoulli mask of the keep probability, as Keras draws it: a seed gives Keras's mask.
    keep = torch.bernoulli(torch.full(shape, 1 - rate, device=inputs.device),
                           generator=_generator(seed, inputs.device))
    return torch.where(keep.bool(), inputs / (1 - rate), torch.zeros_like(inputs))


def shuffle(x, axis=0, seed=None):
    """`x` shuffled along `axis`: as in Keras, each position of the axes before it gets its own
    order (the ranks of uniform draws, Keras's, so that a seed gives Keras's order)."""
    x = tensor(x)
    axis %= x.ndim
    draws = torch.rand(x.shape[:axis + 1], generator=_generator(seed, x.device), device=x.device)
    order = draws.argsort(axis).reshape(draws.shape + (1,) * (x.ndim - axis - 1))
    return x.gather(axis, order.expand(x.shape))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """`num_samples` class indices per row of `logits` (batch, classes), drawn by softmax."""
    logits = tensor(logits).float()
    probabilities = torch.softmax(logits, dim=-1)
    draws = torch.multinomial(probabilities, num_samples, replacement=True,
                              generator=_generator(seed, logits.device))
    return draws.to(to_torch_dtype(dtype))


def _with_seed(seed, draw):
    # torch.distributions draws from the global generator: seed it in a forked state.
    generator = _generator(seed)
    if generator is None:
        return draw()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(generator.initial_seed())
        return draw()


def gamma(shape, alpha, dtype=None, seed=None):
    alpha = torch.as_tensor(alpha, dtype=_float(dtype))
    return _with_seed(seed, lambda: torch.distributions.Gamma(alpha, 1.0).sample(_shape(shape)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    a, b = (torch.as_tensor(v, dtype=_float(dtype)) for v in (alpha, beta))
    return _with_seed(seed, lambda: torch.distributions.Beta(a, b).sample(_shape(shape)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    counts, probabilities = (torch.as_tensor(v, dtype=torch.float32)
                             for v in (counts, probabilities))
    draws = _with_seed(seed, lambda: torch.distributions.Binomial(
        counts, probabilities).sample(_shape(shape)))
    return draws.to(_float(dtype))


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
