"""Muon: momentum orthogonalised by a Newton-Schulz iteration, with AdamW for the rest.

Keras 3's rule (`keras.optimizers.Muon`). Each weight is updated by one of two rules, decided
once when the optimizer is built:

- AdamW, for every weight that is not a matrix (biases, kernels of convolutions, scalars), for an
  embedding table when `exclude_embeddings` (any weight whose path contains "embedding", in any
  case), and for every weight whose path matches one of the regular expressions of
  `exclude_layers` (`re.search`): `m = beta_1 m + (1 - beta_1) g`,
  `v = beta_2 v + (1 - beta_2) g^2`, then
  `p -= lr * adam_lr_ratio * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`;
- Muon, for every other matrix: `m = momentum * m + g`, `u = g + momentum * m` (Nesterov) or
  `u = m`; `u` is then orthogonalised (`ns_steps` steps of the quintic Newton-Schulz iteration
  `X = a X + (b A + c A^2) X` with `A = X X^T`, from `X = u / (||u||_F + 1e-7)`, on the wide
  orientation of the matrix), and `p -= lr * X * sqrt(max(rows, columns)) * rms_rate` (without the
  last two factors when `rms_rate` is None).

Weight decay comes first, as in Keras: `p -= p * weight_decay * lr` for the Muon weights and
`p -= p * adam_weight_decay * lr` for the AdamW ones (the learning rate without
`adam_lr_ratio`); None turns either off.

Keras's variables are each weight's "momentum", followed, for the AdamW weights only, by its
"velocity". The optimizer keeps a velocity slot for every weight (the slot design of
`Optimizer`), an empty 1-D tensor for a Muon weight, which `variables`, `variables_size` and
`state_dict` leave out; `_has_slot(slot, index)` tells which slots Keras has.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np
import torch

from .algorithms import _scalar_type
from .optimizer import Optimizer, addcdiv_scaled_, check_range


class Muon(Optimizer):
    """Muon for matrices, AdamW for the other weights (see the module's docstring).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        adam_beta_1: the decay rate of the AdamW first moments.
        adam_beta_2: the decay rate of the AdamW second moments.
        adam_weight_decay: the weight decay of the AdamW weights (None: none).
        epsilon: AdamW's "epsilon hat".
        weight_decay: the weight decay of the Muon weights (None: none).
        exclude_layers: regular expressions; a weight whose path matches one uses AdamW.
        exclude_embeddings: whether weights with "embedding" in their path use AdamW.
        muon_a, muon_b, muon_c: the coefficients of the Newton-Schulz iteration.
        adam_lr_ratio: the AdamW weights' learning rate, relative to `learning_rate`.
        momentum: the momentum of the Muon weights.
        ns_steps: the number of Newton-Schulz steps.
        nesterov: whether the Muon step uses Nesterov momentum.
        rms_rate: scales each Muon step by `sqrt(max(rows, columns)) * rms_rate` (Moonlight's
            adjustment, which lets Muon use AdamW's learning rate and weight decay); None: no
            scaling.

    The other arguments are `Optimizer`'s.
    """

    _slot_groups = (("momentum", "velocity"),)

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        exclude_layers=None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )
        # beta_1 = 1 would divide by zero in the bias correction 1 - beta_1**t.
        check_range("adam_beta_1", adam_beta_1, high=1.0, high_open=True)
        check_range("adam_beta_2", adam_beta_2, high=1.0)
        check_range("epsilon", epsilon)
        if adam_weight_decay is not None:
            check_range("adam_weight_decay", adam_weight_decay)
        for arg, value in [("muon_a", muon_a), ("muon_b", muon_b), ("muon_c", muon_c)]:
            check_range(arg, value, low=-math.inf)
        check_range("adam_lr_ratio", adam_lr_ratio)
        check_range("momentum", momentum, high=1.0)
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, numbers.Integral) \
                or ns_steps < 0:
            raise ValueError("Argument `ns_steps` must be an integer >= 0. Received: "
                             f"ns_steps={ns_steps!r}")
        if rms_rate is not None:
            check_range("rms_rate", rms_rate)
        if isinstance(exclude_layers, str) or not all(
                isinstance(k, str) for k in exclude_layers or []):
            raise ValueError("Argument `exclude_layers` must be a list of strings (regular "
                             f"expressions). Received: exclude_layers={exclude_layers!r}")
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = list(exclude_layers or [])
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    # ------------------------------------------------------------------ which rule

    def _should_use_adamw(self, variable) -> bool:
        """Whether `variable` gets the AdamW step (Keras's rule; see the module's docstring)."""
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", None) or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _make_slot(self, slot, param):
        if slot == "velocity" and not self._should_use_adamw(param):
            # A Muon weight has no velocity: an empty tensor holds its place in the slot lists.
            return param.new_zeros((0,))
        return torch.zeros_like(param)

    def _has_slot(self, slot: str, index: int) -> bool:
        """Whether the parameter at `index` has a `slot` in Keras (a Muon weight's velocity
        does not)."""
        return not _is_placeholder(self._slots[slot][index], self._params[index])

    # ------------------------------------------------------------------ the step

    def _step_scalars(self, lr, step):
        f = _scalar_type(self._params)
        adam_lr = f(lr) * f(self.adam_lr_ratio)
        step_size = adam_lr * np.sqrt(1 - f(self.adam_beta_2) ** f(step)) / (
            1 - f(self.adam_beta_1) ** f(step))
        decays = [1.0 if wd is None else float(f(1) - f(wd) * f(lr))
                  for wd in (self.weight_decay, self.adam_weight_decay)]
        return (lr, float(step_size), *decays)

    def _clipped_update(self, params, grads, slots, scalars) -> None:
        # The base class's steps, with weight decay by rule: `weight_decay` for the Muon weights,
        # `adam_weight_decay` for the AdamW ones.
        _, lr, step_size, muon_decay, adam_decay = scalars
        grads = self._clip(grads)
        adam = [not _is_placeholder(v, p) for v, p in zip(slots["velocity"], params)]
        for decay_rate, factor, uses_adam in [(self.weight_decay, muon_decay, False),
                                             (self.adam_weight_decay, adam_decay, True)]:
            decayed = [p for p, a in zip(params, adam)
                       if a == uses_adam and id(p) not in self._excluded_from_decay]
            if decay_rate is not None and decayed:
                torch._foreach_mul_(decayed, factor)
        self._update(params, grads, slots, lr, step_size)

    def _update(self, params, grads, slots, lr, step_size):
        adam, muon = [], []
        for i, (v, p) in enumerate(zip(slots["velocity"], params)):
            (muon if _is_placeholder(v, p) else adam).append(i)
        if adam:
            self._adamw_update([params[i] for i in adam], [grads[i] for i in adam],
                               [slots["momentum"][i] for i in adam],
                               [slots["velocity"][i] for i in adam], step_size)
        if muon:
            self._muon_update([params[i] for i in muon], [grads[i] for i in muon],
                              [slots["momentum"][i] for i in muon], lr)

    def _adamw_update(self, params, grads, m, v, step_size):
        # Keras moves each average by `(1 - beta) * (x - average)`, which is what lerp computes.
        torch._foreach_lerp_(m, grads, 1 - self.adam_beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - self.adam_beta_2)
        denominators = torch._foreach_sqrt(v)
        torch._foreach_add_(denominators, self.epsilon)
        addcdiv_scaled_(params, m, denominators, -step_size)

    def _muon_update(self, params, grads, m, lr):
        torch._foreach_mul_(m, self.momentum)
        torch._foreach_add_(m, grads)
        if self.nesterov:
            directions = torch._foreach_add(grads, m, alpha=self.momentum)
        else:
            directions = m
        # Matrices of one shape are orthogonalised together, as one batch.
        by_shape: dict[tuple, list[int]] = {}
        for i, p in enumerate(params):
            by_shape.setdefault((tuple(p.shape), p.dtype), []).append(i)
        for (shape, _), indices in by_shape.items():
            updates = self.zeropower_via_newtonschulz5(
                torch.stack([directions[i] for i in indices]), self.ns_steps)
            scale = lr if self.rms_rate is None else \
                lr * (math.sqrt(max(shape)) * self.rms_rate)
            updates = updates * scale
            for i, update in zip(indices, updates.unbind()):
                params[i].sub_(update)

    def zeropower_via_newtonschulz5(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """The quintic Newton-Schulz iteration of Keras's Muon on the last two axes of `x`:
        nearly `U V^T` of `x`'s singular value decomposition (singular values near 1)."""
        if x.dim() < 2:
            raise ValueError("Expected gradient or momentum to have at least 2 dimensions. "
                             f"Received: shape={tuple(x.shape)}")
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.mT
        # A Frobenius norm of at most 1 bounds the spectral norm by 1.
        x = x / (torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True) + 1e-7)
        for _ in range(steps):
            gram = x @ x.mT
            x = a * x + (b * gram + (c * gram) @ gram) @ x
        return x.mT if tall else x

    def lr_adjust(self, x: torch.Tensor) -> torch.Tensor:
        """`x * sqrt(max(rows, columns)) * rms_rate` (Moonlight's scaling); `x` itself when
        `rms_rate` is None."""
        if self.rms_rate is None:
            return x
        return x * math.sqrt(max(x.shape[0], x.shape[1])) * self.rms_rate

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }


def _is_placeholder(slot: torch.Tensor, param: torch.Tensor) -> bool:
    # A real slot has its weight's shape; a Muon weight's velocity placeholder is 1-D (and
    # empty), where the weight is a matrix. Only shapes are read, so this also holds while the
    # compiled training step is traced.
    return slot.dim() != param.dim()
