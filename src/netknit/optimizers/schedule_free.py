"""Schedule-Free AdamW: no learning-rate schedule, an average of the iterates in its place.

Keras 3's rule (`keras.optimizers.ScheduleFreeAdamW`, after Defazio et al., 2024). Each weight
has a "momentum" slot `z`, the sequence the Adam-normalised gradient steps move (it starts as a
copy of the weight when the optimizer is built), and a "velocity" `v`. At step `t`, with the
learning rate `lr_t = lr * min(t / warmup_steps, 1)` (just `lr` without warmup) and the weight
`y` (after weight decay, `y -= y * weight_decay * lr`):

    v = beta_2 v + (1 - beta_2) g^2
    z -= lr_t * g / (sqrt(v / (1 - beta_2^t)) + epsilon)
    x = (y - (1 - beta_1) z) / beta_1
    x = (1 - 1/t) x + (1/t) z
    y = (1 - beta_1) z + beta_1 x

as Keras 3.15.1 computes it with its torch backend: there the `z` that recovers the average `x`
from `y` in the third line is already the updated one (Keras keeps a reference to the momentum,
which its in-place update then changes), so that the three lines amount to
`y = (1 - 1/t) y + (1/t) z`. netknit follows Keras's arithmetic line by line.

The weights are `y` throughout, also when the model is evaluated or predicts: Keras's optimizer
does not swap in an average for evaluation (it has no `x` variable, no callback and no
`finalize_variable_values` of its own); only `use_ema`, as for any optimizer, does that at the end
of `fit`.
"""

from __future__ import annotations

import torch

from .algorithms import _scalar_type
from .optimizer import Optimizer, add_scaled_, addcdiv_scaled_, check_range


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW (see the module's docstring for the rule).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.0025.
        beta_1: the interpolation between the weights' average and the momentum sequence.
        beta_2: the decay rate of the second-moment estimates.
        epsilon: a small constant for numerical stability. Defaults to 1e-8.
        warmup_steps: the learning rate grows linearly from `lr / warmup_steps` at the first step
            to `lr` at step `warmup_steps`; 0 (the default): no warmup.

    The other arguments are `Optimizer`'s (`weight_decay` defaults to None, as in Keras).
    """

    _slot_groups = (("momentum", "velocity"),)

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        # beta_1 = 0 would divide by zero in the recovery of x.
        check_range("beta_1", beta_1, high=1.0, low_open=True)
        check_range("beta_2", beta_2, high=1.0)
        check_range("epsilon", epsilon)
        check_range("warmup_steps", warmup_steps)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def _make_slot(self, slot, param):
        if slot == "momentum":  # z starts at the weight
            return param.detach().clone()
        return torch.zeros_like(param)

    def _step_scalars(self, lr, step):
        # In the weights' float type, as Keras casts them.
        f = _scalar_type(self._params)
        t = f(step)
        lr = f(lr)
        if self.warmup_steps > 0:
            lr = lr * min(t / f(self.warmup_steps), f(1))
        weight = f(1) / t
        return float(lr), float(1 - f(self.beta_2) ** t), float(weight), float(1 - weight)

    def _update(self, params, grads, slots, lr, correction, weight, one_minus_weight):
        z, v = slots["momentum"], slots["velocity"]
        f = _scalar_type(params)
        beta_1 = float(f(self.beta_1))
        one_minus_beta_1 = float(1 - f(self.beta_1))
        # v += (1 - beta_2) * (g^2 - v), which is what lerp computes.
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), float(1 - f(self.beta_2)))
        denominators = torch._foreach_div(v, correction)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        addcdiv_scaled_(z, grads, denominators, -lr)
        # x = (y - (1 - beta_1) z) / beta_1, with the updated z (see the module's docstring).
        x = torch._foreach_mul(z, one_minus_beta_1)
        torch._foreach_sub_(x, params)
        torch._foreach_div_(x, -beta_1)
        # x = (1 - 1/t) x + (1/t) z
        torch._foreach_mul_(x, one_minus_weight)
        add_scaled_(x, z, weight)
        # y = (1 - beta_1) z + beta_1 x
        torch._foreach_mul_(x, beta_1)
        torch._foreach_add_(x, z, alpha=one_minus_beta_1)
        torch._foreach_copy_(params, x)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
