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

    _extra_scalar_variables = 1  # the momentum product P_t

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
        f = _scalar_type(self._params)
        self._u_product = float(f(self._u_product) * self._momentum_at(self.iterations + 1))
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
