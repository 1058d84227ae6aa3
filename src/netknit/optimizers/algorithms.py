"""The optimization algorithms, with Keras 3's arguments, defaults and update rules.

Each class docstring states Keras's rule, and its `_update` applies it to all parameters at once
with `torch._foreach_*` operations (Adam and AdamW with torch's fused Adam kernel where it exists,
which computes the same rule). The rules are Keras's, which differ from `torch.optim`'s in places:
Adam adds epsilon to `sqrt(v)` before its bias correction is folded into the step size, RMSprop
and Adagrad add epsilon inside the square root, and SGD's momentum buffer holds the scaled step
`momentum * m - lr * g`.

All optimizers also take the common arguments of `Optimizer` (`weight_decay`, `clipnorm`,
`clipvalue`, `global_clipnorm`, `loss_scale_factor`, `name`, ...).

>>> import torch
>>> w = torch.nn.Parameter(torch.ones(2))
>>> opt = Adam(learning_rate=0.1)
>>> (w ** 2).sum().backward()
>>> opt.apply([w])
>>> w.detach()
tensor([0.9000, 0.9000])
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..variables import HostNumber
from .optimizer import Optimizer, add_scaled_, addcdiv_scaled_, check_range


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    `m = momentum * m - learning_rate * g`, then `p += m` (Nesterov:
    `p += momentum * m - learning_rate * g`); without momentum, `p -= learning_rate * g`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.01.
        momentum: a float in [0, 1] that accelerates descent along consistent directions.
        nesterov: whether to apply Nesterov momentum.
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("momentum", momentum, high=1.0)
        self.momentum = momentum
        self.nesterov = nesterov
        self._slot_groups = (("momentum",),) if momentum != 0 else ()

    def _update(self, params, grads, slots, lr):
        if self.momentum == 0:
            add_scaled_(params, grads, -lr)
            return
        m = slots["momentum"]
        torch._foreach_mul_(m, self.momentum)
        add_scaled_(m, grads, -lr)
        if self.nesterov:
            add_scaled_(params, grads, -lr)
            torch._foreach_add_(params, m, alpha=self.momentum)
        else:
            torch._foreach_add_(params, m)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    `m = beta_1 m + (1 - beta_1) g`, `v = beta_2 v + (1 - beta_2) g^2`, then
    `p -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`, with `v` replaced
    by its running maximum when `amsgrad`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: the decay rate of the first-moment estimates.
        beta_2: the decay rate of the second-moment estimates.
        epsilon: a small constant for numerical stability (Keras's "epsilon hat").
        amsgrad: whether to use the AMSGrad variant.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_moments(beta_1, beta_2, epsilon)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self._slot_groups = (("momentum", "velocity"),) + ((("velocity_hat",),) if amsgrad else ())
        self._fused_steps: torch.Tensor | None = None

    def _step_scalars(self, lr, step):
        f = _scalar_type(self._params)
        beta_1_power, beta_2_power = f(self.beta_1) ** f(step), f(self.beta_2) ** f(step)
        return (float(f(lr) * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)),)

    def _update(self, params, grads, slots, alpha):
        m, v = slots["momentum"], slots["velocity"]
        if self._fused_steps is not None and not isinstance(alpha, torch.Tensor):
            # torch's fused kernel divides by its own bias corrections 1 - beta^step; with a step
            # count of infinity they are exactly 1, and the kernel computes Keras's rule with the
            # step size `alpha` computed here.
            torch._fused_adam_(
                params, grads, m, v, slots.get("velocity_hat", []),
                [self._fused_steps] * len(params), amsgrad=self.amsgrad, lr=alpha,
                beta1=self.beta_1, beta2=self.beta_2, weight_decay=0.0, eps=self.epsilon,
                maximize=False,
            )
            return
        _moving_average_(m, grads, self.beta_1)
        _moving_average_of_squares_(v, grads, self.beta_2)
        if self.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], v)
            v = slots["velocity_hat"]
        denominators = torch._foreach_sqrt(v)
        torch._foreach_add_(denominators, self.epsilon)
        addcdiv_scaled_(params, m, denominators, -alpha)

    def build(self, params) -> None:
        if self.built:
            return
        super().build(params)
        self._fused_steps = None
        kinds = {(p.device, p.dtype) for p in self._params}
        if len(kinds) == 1 and self.beta_2 < 1:
            device, dtype = kinds.pop()
            if device.type in ("cpu", "cuda") and dtype.is_floating_point:
                self._fused_steps = torch.full((), math.inf, device=device)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (`p -= p * weight_decay * learning_rate` each step).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        weight_decay: the decay factor; required (defaults to 0.004).
        beta_1, beta_2, epsilon, amsgrad: as in `Adam`.
    """

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, **kwargs):
        if weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    `v = rho v + (1 - rho) g^2`; the step is `lr * g / sqrt(v + epsilon)`, or with `centered`
    `lr * g / sqrt(v - a^2 + epsilon)` where `a` is the running mean gradient. With momentum,
    `mom = momentum * mom + step` and `p -= mom`; else `p -= step`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        rho: the discounting factor of the running averages.
        momentum: if above 0, the momentum of the steps.
        epsilon: a small constant added inside the square root.
        centered: whether to normalize by the estimated variance instead of the second moment.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("rho", rho, high=1.0)
        check_range("momentum", momentum, high=1.0)
        check_range("epsilon", epsilon)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        self._slot_groups = (
            (("velocity",),)
            + ((("momentum",),) if momentum > 0 else ())
            + ((("average_gradient",),) if centered else ())
        )

    def _update(self, params, grads, slots, lr):
        v = slots["velocity"]
        _moving_average_of_squares_(v, grads, self.rho)
        denominators = torch._foreach_add(v, self.epsilon)
        if self.centered:
            average = slots["average_gradient"]
            _moving_average_(average, grads, self.rho)
            torch._foreach_addcmul_(denominators, average, average, value=-1)
        torch._foreach_sqrt_(denominators)
        if self.momentum > 0:
            momentum = slots["momentum"]
            torch._foreach_mul_(momentum, self.momentum)
            addcdiv_scaled_(momentum, grads, denominators, lr)
            torch._foreach_sub_(params, momentum)
        else:
            addcdiv_scaled_(params, grads, denominators, -lr)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates scaled by the sum of all past squared gradients.

    `acc += g^2`, then `p -= lr * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        initial_accumulator_value: the starting value of the accumulators (>= 0).
        epsilon: a small constant added inside the square root.
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("initial_accumulator_value", initial_accumulator_value)
        check_range("epsilon", epsilon)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        self._slot_groups = (("accumulator",),)
        self._slot_initial_value = float(initial_accumulator_value)

    def _update(self, params, grads, slots, lr):
        accumulators = slots["accumulator"]
        torch._foreach_addcmul_(accumulators, grads, grads)
        denominators = torch._foreach_add(accumulators, self.epsilon)
        torch._foreach_sqrt_(denominators)
        addcdiv_scaled_(params, grads, denominators, -lr)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adadelta(Optimizer):
    """Adadelta: steps scaled by running averages of squared gradients and squared steps.

    `a = rho a + (1 - rho) g^2`, `delta = -sqrt(d + epsilon) / sqrt(a + epsilon) * g`,
    `d = rho d + (1 - rho) delta^2`, then `p += lr * delta`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        rho: the decay rate of the running averages.
        epsilon: a small constant added inside the square roots.
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("rho", rho, high=1.0)
        check_range("epsilon", epsilon)
        self.rho = rho
        self.epsilon = epsilon
        self._slot_groups = (("accumulated_grad", "accumulated_delta_var"),)

    def _update(self, params, grads, slots, lr):
        grad_average, delta_average = slots["accumulated_grad"], slots["accumulated_delta_var"]
        _moving_average_of_squares_(grad_average, grads, self.rho)
        deltas = torch._foreach_mul(self._rms(delta_average), grads)
        torch._foreach_div_(deltas, self._rms(grad_average))
        _moving_average_of_squares_(delta_average, deltas, self.rho)
        add_scaled_(params, deltas, -lr)

    def _rms(self, averages):
        roots = torch._foreach_add(averages, self.epsilon)
        torch._foreach_sqrt_(roots)
        return roots

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    `m = beta_1 m + (1 - beta_1) g`, `u = max(beta_2 u, |g|)`, then
    `p -= lr * m / ((1 - beta_1^t) * (u + epsilon))`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: the decay rate of the first-moment estimates.
        beta_2: the decay rate of the infinity norm.
        epsilon: a small constant for numerical stability.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_moments(beta_1, beta_2, epsilon)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._slot_groups = (("momentum", "norm"),)

    def _step_scalars(self, lr, step):
        f = _scalar_type(self._params)
        return (float(f(lr) / (1 - f(self.beta_1) ** f(step))),)

    def _update(self, params, grads, slots, step_size):
        m, u = slots["momentum"], slots["norm"]
        _moving_average_(m, grads, self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominators = torch._foreach_add(u, self.epsilon)
        addcdiv_scaled_(params, m, denominators, -step_size)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum and Keras's momentum schedule `mu_t`.

    `mu_t = beta_1 (1 - 0.5 * 0.96^t)`; with `P_t` the product `mu_1 ... mu_t`,
    `m_hat = mu_{t+1} m / (1 - P_{t+1}) + (1 - mu_t) g / (1 - P_t)`,
    `v_hat = v / (1 - beta_2^t)`, then `p -= lr * m_hat / (sqrt(v_hat) + epsilon)`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: the decay rate of the first-moment estimates.
        beta_2: the decay rate of the second-moment estimates.
        epsilon: a small constant for numerical stability.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_moments(beta_1, beta_2, epsilon)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._slot_groups = (("momentum", "velocity"),)
        self._u_product = 1.0
        # Keras's variable for it, made in its `build` without a name (so its path is
        # "variable"), listed after the slots.
        self._u_product_variable = HostNumber("variable", torch.float32, self._set_u_product)

    def _set_u_product(self, value) -> None:
        self._u_product = float(value)

    @property
    def variables(self) -> list[torch.Tensor]:
        variables = super().variables
        if self.built and self._keras_extra_variables():
            variables.append(self._u_product_variable.showing(self._u_product))
        return variables

    def _momentum_at(self, step):
        f = _scalar_type(self._params)
        return f(self.beta_1) * (1 - 0.5 * f(0.96) ** f(step))

    def _step_scalars(self, lr, step):
        f = _scalar_type(self._params)
        u_t, u_next = self._momentum_at(step), self._momentum_at(step + 1)
        u_product = f(self._u_product) * u_t
        return (
            lr,
            float(u_next / (1 - u_product * u_next)),  # the momentum's factor in m_hat
            float((1 - u_t) / (1 - u_product)),  # the gradient's factor in m_hat
            float(1 - f(self.beta_2) ** f(step)),  # v's bias correction
        )

    def _count_step(self):
        # Keras moves the product with each update (not with a step that only accumulates).
        if self._updates_now():
            f = _scalar_type(self._params)
            self._u_product = float(f(self._u_product)
                                    * self._momentum_at(self._updates_done() + 1))
        super()._count_step()

    def _update(self, params, grads, slots, lr, momentum_factor, gradient_factor, correction):
        m, v = slots["momentum"], slots["velocity"]
        _moving_average_(m, grads, self.beta_1)
        _moving_average_of_squares_(v, grads, self.beta_2)
        m_hat = torch._foreach_mul(m, momentum_factor)
        add_scaled_(m_hat, grads, gradient_factor)
        denominators = torch._foreach_div(v, correction)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        addcdiv_scaled_(params, m_hat, denominators, -lr)

    def _extra_state(self) -> dict:
        return {"u_product": self._u_product}

    def _load_extra_state(self, state: dict) -> None:
        self._u_product = float(state["u_product"])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Lion(Optimizer):
    """Lion: steps of equal size in every coordinate, in the sign of an interpolated momentum.

    `p -= lr * sign(beta_1 m + (1 - beta_1) g)`, then `m = beta_2 m + (1 - beta_2) g`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: the interpolation factor of the step direction, in (0, 1].
        beta_2: the decay rate of the momentum.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("beta_1", beta_1, high=1.0, low_open=True)
        check_range("beta_2", beta_2, high=1.0)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self._slot_groups = (("momentum",),)

    def _update(self, params, grads, slots, lr):
        m = slots["momentum"]
        directions = torch._foreach_mul(m, self.beta_1)
        torch._foreach_add_(directions, grads, alpha=1 - self.beta_1)
        torch._foreach_sign_(directions)
        add_scaled_(params, directions, -lr)
        _moving_average_(m, grads, self.beta_2)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Ftrl(Optimizer):
    """FTRL-Proximal ("follow the regularized leader"), the optimizer of large sparse linear models.

    With `n` the running sum of squared gradients (from `initial_accumulator_value`),
    `k = -learning_rate_power` and `z` a running "linear" term, one step is `n' = n + g^2`,
    `z += g + 2 * l2_shrinkage * p - (n'^k - n^k) / lr * p`, then
    `p = (clip(z, -l1, l1) - z) / (n'^k / lr + 2 * (l2 + beta / (2 * lr)))`: coordinates whose
    `|z|` stays below `l1` are exactly 0.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        learning_rate_power: <= 0; how fast each coordinate's rate falls as its gradients add up.
        initial_accumulator_value: >= 0, the starting value of `n`.
        l1_regularization_strength: >= 0, the L1 penalty that makes weights exactly 0.
        l2_regularization_strength: >= 0, an L2 penalty on the weights.
        l2_shrinkage_regularization_strength: >= 0, an L2 penalty added to the gradient.
        beta: adds `beta / (2 * lr)` to the L2 penalty.
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("learning_rate_power", learning_rate_power, low=-math.inf, high=0.0)
        check_range("initial_accumulator_value", initial_accumulator_value)
        check_range("l1_regularization_strength", l1_regularization_strength)
        check_range("l2_regularization_strength", l2_regularization_strength)
        check_range("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)
        check_range("beta", beta)
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        self._slot_groups = (("accumulator", "linear"),)

    def _make_slot(self, slot, param):
        value = self.initial_accumulator_value if slot == "accumulator" else 0.0
        return torch.full_like(param, value)

    def _step_scalars(self, lr, step):
        f = _scalar_type(self._params)
        l2 = f(self.l2_regularization_strength)
        if self.beta:
            l2 = l2 + f(self.beta) / (f(2.0) * f(lr))
        return lr, float(f(2.0) * l2)

    def _update(self, params, grads, slots, lr, two_l2):
        accumulators, linears = slots["accumulator"], slots["linear"]
        power = -self.learning_rate_power
        new_accumulators = torch._foreach_addcmul(accumulators, grads, grads)
        new_roots = torch._foreach_pow(new_accumulators, power)
        # z += g + 2 * l2_shrinkage * p + (n^k - n'^k) / lr * p
        steps = torch._foreach_pow(accumulators, power)
        torch._foreach_sub_(steps, new_roots)
        torch._foreach_div_(steps, lr)
        torch._foreach_mul_(steps, params)
        torch._foreach_add_(steps, grads)
        if self.l2_shrinkage_regularization_strength:
            torch._foreach_add_(steps, params, alpha=2 * self.l2_shrinkage_regularization_strength)
        torch._foreach_add_(linears, steps)
        quadratics = torch._foreach_div(new_roots, lr)
        torch._foreach_add_(quadratics, two_l2)
        l1 = self.l1_regularization_strength
        values = torch._foreach_clamp_min(linears, -l1)
        torch._foreach_clamp_max_(values, l1)
        torch._foreach_sub_(values, linears)
        torch._foreach_div_(values, quadratics)
        torch._foreach_copy_(params, values)
        torch._foreach_copy_(accumulators, new_accumulators)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }


class Lamb(Optimizer):
    """LAMB: Adam's step, rescaled for each tensor by the ratio of its weights' norm to the
    step's norm (layer-wise adaptation for large batches).

    `m = beta_1 m + (1 - beta_1) g`, `v = beta_2 v + (1 - beta_2) g^2`,
    `u = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)`, then
    `p -= lr * ||p|| / ||u|| * u` (with a ratio of 1 where either norm is 0).

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_1: the decay rate of the first-moment estimates.
        beta_2: the decay rate of the second-moment estimates.
        epsilon: a small constant for numerical stability.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_moments(beta_1, beta_2, epsilon)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._slot_groups = (("momentum", "velocity"),)

    def _step_scalars(self, lr, step):
        f = _scalar_type(self._params)
        return (lr, float(1 - f(self.beta_1) ** f(step)), float(1 - f(self.beta_2) ** f(step)))

    def _update(self, params, grads, slots, lr, correction_1, correction_2):
        m, v = slots["momentum"], slots["velocity"]
        # Keras moves each average by `(1 - beta) * (x - average)`, which is what lerp computes.
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - self.beta_2)
        denominators = torch._foreach_div(v, correction_2)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        updates = torch._foreach_div(m, correction_1)
        torch._foreach_div_(updates, denominators)
        weight_norms = torch.stack(torch._foreach_norm(params))
        update_norms = torch.stack(torch._foreach_norm(updates))
        ratios = torch.where((weight_norms > 0) & (update_norms > 0),
                             weight_norms / update_norms, 1.0)
        torch._foreach_mul_(updates, (ratios * lr).unbind())
        torch._foreach_sub_(params, updates)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Adafactor(Optimizer):
    """Adafactor: adaptive steps whose second moment of a matrix is kept as two vectors.

    The running average of `g^2 + epsilon_1` decays at step `t` by `beta_t = 1 - t^beta_2_decay`.
    For a parameter of two or more dimensions it is kept factored, as its mean over the last
    axis `R` and its mean over the second-to-last axis `C`, and `v = R / mean(R) (outer) C`;
    smaller parameters keep `v` itself. With `u = g / sqrt(v)`, the step is
    `p -= max(epsilon_2, rms(p)) * min(lr, 1 / sqrt(t)) * u / max(1, rms(u) / clip_threshold)`.

    Args:
        learning_rate: a float, a schedule, or a callable. Defaults to 0.001.
        beta_2_decay: the exponent of the step in the decay rate, < 0.
        epsilon_1: added to the squared gradients.
        epsilon_2: the smallest scale of a step relative to the parameter.
        clip_threshold: the root mean square above which a tensor's step `u` is scaled down.
        relative_step: accepted for Keras configs, where it changes nothing: the step size is
            always at most `1 / sqrt(t)`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        check_range("beta_2_decay", beta_2_decay, low=-math.inf, high=0.0, high_open=True)
        check_range("epsilon_1", epsilon_1)
        check_range("epsilon_2", epsilon_2)
        check_range("clip_threshold", clip_threshold, low_open=True)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step
        # Keras's order: each parameter's row and column averages, then its velocity.
        self._slot_groups = (("row_average", "column_average", "velocity"),)

    def _make_slot(self, slot, param):
        if slot == "velocity":
            return torch.zeros_like(param)
        if param.dim() < 2:
            # Keras keeps an unused integer 0 in their place, which its files include (see
            # `_has_slot`).
            return torch.zeros((), dtype=torch.int32, device=param.device)
        shape = param.shape[:-1] if slot == "row_average" else (*param.shape[:-2], param.shape[-1])
        return torch.zeros(shape, dtype=param.dtype, device=param.device)

    def _has_slot(self, slot, index):
        # Keras makes the placeholders without `add_variable`: inside a LossScaleOptimizer they
        # are not its variables.
        return (self._lists_tracked_variables or slot == "velocity"
                or self._params[index].dim() >= 2)

    def _step_scalars(self, lr, step):
        f = _scalar_type(self._params)
        t = f(step)
        decay = 1 - t ** f(self.beta_2_decay)
        return float(min(f(lr), 1 / np.sqrt(t))), float(decay), float(1 - decay)

    def _update(self, params, grads, slots, step_size, decay, one_minus_decay):
        scales = torch._foreach_clamp_min(_root_mean_squares(params), self.epsilon_2)
        torch._foreach_mul_(scales, step_size)
        squares = torch._foreach_mul(grads, grads)
        torch._foreach_add_(squares, self.epsilon_1)
        whole_v, whole_squares = [], []
        for i, square in enumerate(squares):
            v = slots["velocity"][i]
            if square.dim() < 2:
                whole_v.append(v)
                whole_squares.append(square)
                continue
            rows, columns = slots["row_average"][i], slots["column_average"][i]
            rows.mul_(decay).add_(square.mean(dim=-1) * one_minus_decay)
            columns.mul_(decay).add_(square.mean(dim=-2) * one_minus_decay)
            v.copy_((rows / rows.mean(dim=-1, keepdim=True)).unsqueeze(-1) * columns.unsqueeze(-2))
        if whole_v:
            torch._foreach_mul_(whole_v, decay)
            torch._foreach_add_(whole_v, torch._foreach_mul(whole_squares, one_minus_decay))
        updates = torch._foreach_div(grads, torch._foreach_sqrt(slots["velocity"]))
        clipping = torch._foreach_div(_root_mean_squares(updates), self.clip_threshold)
        torch._foreach_clamp_min_(clipping, 1.0)
        torch._foreach_div_(updates, clipping)
        torch._foreach_mul_(updates, scales)
        torch._foreach_sub_(params, updates)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }


def _root_mean_squares(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """`sqrt(mean(x^2))` of each tensor, as 0-d tensors (no wait for the device)."""
    return torch._foreach_div(torch._foreach_norm(tensors), [math.sqrt(t.numel()) for t in tensors])


def _scalar_type(params: list[torch.Tensor]) -> type:
    """The float type Keras computes bias corrections in: the parameters' (float32 below float64).

    It matters: in float32, `1 - 0.999 ** 1` is 0.99998713e-3, not 1e-3, so Adam's step size
    computed in float64 would differ from Keras's by about 1e-5 relative on every step.
    """
    return np.float64 if params[0].dtype == torch.float64 else np.float32


def _check_moments(beta_1, beta_2, epsilon) -> None:
    # beta_1 = 1 would divide by zero in the bias correction 1 - beta_1**t.
    check_range("beta_1", beta_1, high=1.0, high_open=True)
    check_range("beta_2", beta_2, high=1.0)
    check_range("epsilon", epsilon)


def _moving_average_(averages: list[torch.Tensor], values: list[torch.Tensor], decay: float):
    """`a = decay * a + (1 - decay) * x`, in place, in Keras's operation order."""
    torch._foreach_mul_(averages, decay)
    torch._foreach_add_(averages, values, alpha=1 - decay)


def _moving_average_of_squares_(averages, values, decay: float):
    """`a = decay * a + (1 - decay) * x^2`, in place."""
    torch._foreach_mul_(averages, decay)
    torch._foreach_addcmul_(averages, values, values, value=1 - decay)
