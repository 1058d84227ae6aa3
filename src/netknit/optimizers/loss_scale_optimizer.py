"""`LossScaleOptimizer`: dynamic loss scaling around another optimizer, for float16 training.

float16 gradients below about 6e-8 round to zero. Scaling the loss by a large factor scales every
gradient by it, out of that range; the update divides it out again. The factor adapts: a step
whose gradients hold an inf or a NaN (the scale was too large) is skipped and the scale halved;
after `dynamic_growth_steps` good steps in a row it is doubled.

The decision is tensor work on the device, so the host never waits for it: the update runs, and
`torch.where` keeps the old parameters and slots when the gradients were not finite. On the CPU,
where tensors live in host memory, the step count then leaves the skipped step out, as Keras
counts; on an accelerator, reading that would make the host wait for the device each step, so
there the count (and with it a schedule's position and Adam's bias corrections) includes the
skipped steps.

>>> import torch
>>> from netknit.optimizers import SGD
>>> w = torch.nn.Parameter(torch.ones(2))
>>> opt = LossScaleOptimizer(SGD(learning_rate=0.1))
>>> opt.scale_loss((w ** 2).sum()).backward()
>>> opt.apply([w])
>>> w.detach()
tensor([0.8000, 0.8000])
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch

from ..variables import as_variable
from .optimizer import Optimizer, untracked_build

# The base arguments Keras's configs of this optimizer may hold, at their only allowed values.
_BASE_DEFAULTS = {
    "learning_rate": None, "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
    "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """Wraps `inner_optimizer` with dynamic loss scaling.

    Args:
        inner_optimizer: the optimizer that updates the weights (its `loss_scale_factor` is
            turned off, so that gradients are not unscaled twice).
        initial_scale: the first loss scale, 2**15 by default; a large value is corrected down
            within a few steps.
        dynamic_growth_steps: the number of steps with finite gradients after which the scale
            doubles (2000 by default).
        name: the optimizer's name.

    `compile` wraps the optimizer in one by itself when the model's dtype policy is
    `"mixed_float16"`. The learning rate and the step count are the inner optimizer's.
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer scales dynamically only (dynamic=False is not supported). For "
                "a fixed scale, set `loss_scale_factor` on the optimizer itself."
            )
        for key in [k for k in kwargs if k in _BASE_DEFAULTS]:
            value = kwargs.pop(key)
            if value != _BASE_DEFAULTS[key] and not (key == "learning_rate" and value == 0):
                raise ValueError(f"LossScaleOptimizer does not take `{key}`. Set it on the inner "
                                 f"optimizer instead. Received: {key}={value!r}")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not take the argument(s) {sorted(kwargs)}.")
        if not isinstance(inner_optimizer, Optimizer) or isinstance(inner_optimizer,
                                                                    LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer wraps an optimizer such as Adam() (not another "
                            f"LossScaleOptimizer). Received: inner_optimizer={inner_optimizer!r}")
        if not isinstance(initial_scale, numbers.Real) or not initial_scale > 0:
            raise ValueError(f"Expected a positive initial_scale. Received: "
                             f"initial_scale={initial_scale!r}")
        if isinstance(dynamic_growth_steps, bool) or not isinstance(
                dynamic_growth_steps, numbers.Integral) or dynamic_growth_steps < 1:
            raise ValueError(f"Expected a positive integer dynamic_growth_steps. Received: "
                             f"dynamic_growth_steps={dynamic_growth_steps!r}")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        inner_optimizer.loss_scale_factor = None
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        # Made by `build`, on the parameters' device: the scale, the good steps since it last
        # changed, and whether the last step's gradients were finite.
        self.dynamic_scale: torch.Tensor | None = None
        self.step_counter: torch.Tensor | None = None
        self._finite: torch.Tensor | None = None
        # Keras's wrapper has an iteration count and a learning rate of its own, which stay 0
        # (`iterations` and `learning_rate` are the inner optimizer's): listed, never used.
        self._own_variables = [
            as_variable(torch.zeros((), dtype=torch.int32), trainable=False,
                        path=f"{self.name}/iteration"),
            as_variable(torch.zeros(()), trainable=False, path=f"{self.name}/learning_rate")]

    # ------------------------------------------------------------------ the inner optimizer's

    @property
    def learning_rate(self) -> torch.Tensor:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self) -> torch.Tensor:
        return self.inner_optimizer.iterations

    @property
    def _state_groups(self):
        return self.inner_optimizer._state_groups

    def _host_scalars(self) -> tuple[float, ...]:
        return self.inner_optimizer._host_scalars()

    def finalize_variable_values(self, var_list) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def _extra_state(self) -> dict:
        return self.inner_optimizer._extra_state()

    def _select(self, params, grads, keep):
        # The slots are the inner optimizer's, laid out as it knows (a MultiOptimizer's differ).
        return self.inner_optimizer._select(params, grads, keep)

    # ------------------------------------------------------------------ state

    def build(self, params: Sequence[torch.Tensor]) -> None:
        if self.built:
            return
        inner = self.inner_optimizer
        with untracked_build():  # as Keras builds it
            inner.build(params)
        self._given_params, self._params, self._slots = params, inner._params, inner._slots
        device = inner._params[0].device if inner._params else torch.device("cpu")
        self.dynamic_scale = as_variable(
            torch.tensor(self.initial_scale, dtype=torch.float32, device=device),
            trainable=False, path=f"{self.name}/dynamic_scale")
        self.step_counter = as_variable(torch.zeros((), dtype=torch.int32, device=device),
                                        trainable=False, path=f"{self.name}/step_counter")
        self._finite = torch.ones((), dtype=torch.bool, device=device)
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras's list: this optimizer's own iteration and learning rate, once built its step
        counter and scale, then the inner optimizer's variables."""
        own = [*self._own_variables, self.step_counter, self.dynamic_scale] if self.built else (
            self._own_variables)
        return [*own, *self.inner_optimizer.variables]

    def variables_size(self) -> tuple[int, int]:
        """Keras's count: this optimizer's iteration and learning rate (and, once built, its
        step counter and scale), all 4-byte scalars, then the inner optimizer's."""
        count, size = self.inner_optimizer.variables_size()
        own = 4 if self.built else 2
        return count + own, size + 4 * own

    def state_dict(self) -> dict:
        state = self.inner_optimizer.state_dict()
        if self.built:
            state["loss_scale"] = [self.step_counter, self.dynamic_scale]
        return state

    def load_state_dict(self, state: dict) -> None:
        if not self.built:
            self._pending_state = dict(state)
            return
        state = dict(state)
        loss_scale = state.pop("loss_scale", None)
        self.inner_optimizer.load_state_dict(state)
        if loss_scale is not None:
            self.set_loss_scale_state(*loss_scale)

    def set_loss_scale_state(self, step_counter, dynamic_scale) -> None:
        """Set the good-step count and the scale (from a checkpoint)."""
        with torch.no_grad():
            self.step_counter.copy_(torch.as_tensor(step_counter))
            self.dynamic_scale.copy_(torch.as_tensor(dynamic_scale))

    # ------------------------------------------------------------------ the step

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """`loss` times the current scale; backward of it gives the scaled gradients."""
        return loss * (self.dynamic_scale if self.built else self.initial_scale)

    def _apply_update(self, params, grads, slots, scalars) -> None:
        """Unscale, update with the inner optimizer, and keep the old values if a gradient was
        not finite; then adapt the scale. Tensor work only, as the compiled step needs."""
        scale, counter = self.dynamic_scale, self.step_counter
        # The largest magnitude of each gradient: inf or NaN exactly when one of its values is.
        finite = torch.isfinite(torch.stack(torch._foreach_norm(grads, float("inf")))).all()
        state = [*params, *(t for tensors in slots.values() for t in tensors)]
        before = [t.clone() for t in state]
        self.inner_optimizer._apply_update(params, torch._foreach_div(grads, scale), slots,
                                           scalars)
        for tensor, old in zip(state, before):
            tensor.copy_(torch.where(finite, tensor, old))
        grow = finite & (counter == self.dynamic_growth_steps - 1)
        scale.copy_(torch.where(finite, torch.where(grow, scale * 2, scale), scale * 0.5))
        counter.copy_(torch.where(finite & ~grow, counter + 1, 0))
        self._finite.copy_(finite)

    def _count_step(self) -> None:
        # A CPU tensor is in host memory: reading it waits for nothing, and a skipped step is
        # left out of the count, as in Keras. Elsewhere the read would stall the host each step.
        if self._finite.device.type != "cpu" or bool(self._finite):
            self.inner_optimizer._count_step()

    def check_params(self, params: Sequence[torch.Tensor]) -> None:
        self.inner_optimizer.check_params(params)

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict:
        from . import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> LossScaleOptimizer:
        from . import get

        config = dict(config)
        return cls(get(config.pop("inner_optimizer")), **config)

    def __repr__(self) -> str:
        return (f"<LossScaleOptimizer name='{self.name}' inner_optimizer="
                f"{self.inner_optimizer!r}>")
