"""The optimizer base: Keras's update pipeline over a list of `torch.nn.Parameter`s.

One call of `apply` is one training step, in Keras's order:

1. take each parameter's `.grad` (parameters without one are skipped, with Keras's warning);
2. undo the loss scale, then clip (`clipnorm` per tensor, `global_clipnorm` over all, or
   `clipvalue`);
3. decay the weights (`p -= p * weight_decay * learning_rate`, decoupled from the gradient);
4. run the algorithm's update (`_update`) with the learning rate at the current iteration;
5. count the step.

With `gradient_accumulation_steps=n`, a step between updates only adds its (unscaled) gradients
to the accumulators; every n-th step runs 2 to 4 on the mean of the n gradients and empties them.

Every tensor operation works on all parameters at once (`torch._foreach_*`), and the host never
waits for the device: the learning rate, the step count and the bias corrections are Python
numbers (`_host_scalars`). Steps 2 to 4 (`_apply_update`) are tensor work only, so that
`jit_compile=True` compiles them into the training step, with those numbers passed in as a
tensor. Slot tensors ("momentum", "velocity", ...) are created by `build`, one per parameter per
slot, with the parameter's shape, dtype and device unless the algorithm makes them otherwise
(`_make_slot`: Adafactor's factored second moments).

Keras sees its variables: `iterations` and `learning_rate` are variables that show the host
numbers when read and hand an `assign` back, and `variables` lists them with the slots (views as
variables named after their weights). An optimizer written as Keras's documentation shows
(`build` with `add_variable_from_reference`, `update_step` with `self.assign*`) runs too, one
`update_step` per parameter.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from ..layers.layer import to_snake_case, unique_name
from ..variables import HostNumber, Variable, as_variable, rewrapped
from . import schedules as schedules_module

_TRACKING = contextvars.ContextVar("netknit_optimizer_tracking", default=True)


@contextlib.contextmanager
def untracked_build():
    """Optimizers built inside leave out of their variables what Keras's automatic tracking
    would have added (see `Optimizer._lists_tracked_variables`)."""
    token = _TRACKING.set(False)
    try:
        yield
    finally:
        _TRACKING.reset(token)


class Optimizer:
    """Base class of netknit's optimizers; subclasses define `_slot_groups` and `_update`.

    Args:
        learning_rate: a float, a `LearningRateSchedule` evaluated at the current iteration, or a
            callable of no arguments returning a float.
        weight_decay: if set, each step first shrinks every parameter by
            `weight_decay * learning_rate` of itself.
        clipnorm: if set, each gradient is rescaled so that its own L2 norm is at most this.
        clipvalue: if set, each gradient element is clipped to `[-clipvalue, clipvalue]`.
        global_clipnorm: if set, all gradients are rescaled together so that their global L2 norm
            is at most this. At most one of the three clipping arguments may be set.
        use_ema: if True, keep an exponential moving average of each weight (first step: the
            weight itself; then `average = ema_momentum * average + (1 - ema_momentum) * weight`
            after each update); `fit` ends by writing the averages into the weights
            (`finalize_variable_values`), as Keras's does.
        ema_momentum: the averages' momentum, in [0, 1].
        ema_overwrite_frequency: with `use_ema`, every this many steps the weights are set to
            their averages; None (the default) only at the end of `fit`.
        loss_scale_factor: if set, gradients are divided by it before anything else.
        gradient_accumulation_steps: if set (an integer >= 2), the weights are updated every
            this many steps only, with the mean of the steps' gradients (clipped after
            averaging); in between, the gradients are summed in "gradient_accumulator" slots.
            `iterations` then counts updates, while a learning-rate schedule, as in Keras, is
            evaluated at the number of steps taken (`variables[0]`, which saved files hold).
            With `use_ema`, the averages still move every step.
        name: the optimizer's name; Keras's automatic name (`"adam"`, `"adam_1"`, ...) by default.
    """

    # Slot names, in groups created together: Keras interleaves the slots of one group per
    # parameter (m0, v0, m1, v1, ...) and lists the groups one after another.
    _slot_groups: tuple[tuple[str, ...], ...] = ()
    _slot_initial_value: float = 0.0

    def __init__(
        self,
        learning_rate,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs,
    ):
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if use_ema:
            check_range("ema_momentum", ema_momentum, high=1.0)
            if ema_overwrite_frequency is not None and (
                    not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency!r}")
        if gradient_accumulation_steps is not None and (
                isinstance(gradient_accumulation_steps, bool)
                or not isinstance(gradient_accumulation_steps, numbers.Integral)
                or gradient_accumulation_steps < 2):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2, or None to update the "
                "weights at every step. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps!r}"
            )
        clip_args = {
            "clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm
        }
        if sum(v is not None for v in clip_args.values()) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                + ", ".join(f"{k}={v}" for k, v in clip_args.items())
            )
        for arg, value in [*clip_args.items(), ("loss_scale_factor", loss_scale_factor)]:
            if value is not None:
                check_range(arg, value, low_open=True)
        if weight_decay is not None:
            check_range("weight_decay", weight_decay)
        self.name = name if name is not None else unique_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate = _check_learning_rate(learning_rate)
        self._iterations = 0
        # Keras's `iteration` and `learning_rate` variables; the numbers themselves stay Python
        # numbers on the host (`_host_scalars`).
        self._iteration_variable = HostNumber(f"{self.name}/iteration", torch.int32,
                                              self._set_iterations)
        self._learning_rate_variable = HostNumber(f"{self.name}/learning_rate", torch.float32,
                                                  self._set_learning_rate)
        self._slot_variables: list[torch.Tensor] = []
        self._user_variables: list[Variable] = []  # a user's optimizer's (`add_variable`)
        self.built = False
        self._params: list[torch.Tensor] = []
        self._slots: dict[str, list[torch.Tensor]] = {}
        self._excluded_from_decay: set[int] = set()
        self._pending_state: dict | None = None

    # ------------------------------------------------------------------ learning rate

    @property
    def iterations(self) -> torch.Tensor:
        """The number of steps taken, as Keras's int32 `iteration` variable (`assign` sets it);
        with gradient accumulation, the number of updates, an int32 tensor, as Keras gives it."""
        if self.gradient_accumulation_steps:
            return torch.tensor(self._updates_done(), dtype=torch.int32)
        return self._iteration_variable.showing(self._iterations)

    def _updates_done(self) -> int:
        """How many times the weights were updated: the steps taken, or with gradient
        accumulation the complete rounds of steps."""
        steps = self.gradient_accumulation_steps
        return self._iterations // steps if steps else self._iterations

    def _updates_now(self) -> bool:
        """Whether the next step updates the weights (with accumulation, only every n-th)."""
        steps = self.gradient_accumulation_steps
        return not steps or (self._iterations + 1) % steps == 0

    def _set_iterations(self, value) -> None:
        self._iterations = int(value)

    @property
    def learning_rate(self) -> torch.Tensor:
        """The learning rate of the next step, as Keras gives it: its float32 variable (which
        `assign` sets), or for a schedule or callable the value at `iterations`, a tensor."""
        lr = self._learning_rate
        if isinstance(lr, float):
            return self._learning_rate_variable.showing(lr)
        return torch.tensor(self._current_learning_rate(), dtype=torch.float32)

    def _current_learning_rate(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            return float(lr(self._iterations))
        if callable(lr):
            return float(lr())
        return lr

    def _set_learning_rate(self, value) -> None:
        self.learning_rate = float(value)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(self._learning_rate, schedules_module.LearningRateSchedule) and not callable(
            value
        ):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` as its `learning_rate`, "
                f"so its learning rate cannot be set to a number (received {value!r}). Create the "
                "optimizer with a float `learning_rate` to make it settable."
            )
        if isinstance(value, torch.Tensor):
            value = value.item()
        self._learning_rate = _check_learning_rate(value)

    # ------------------------------------------------------------------ state

    # Keras lists the variables an algorithm makes without `add_variable` (Nadam's momentum
    # product, Adafactor's placeholders for weights of fewer than 2 axes) only when it was built
    # with automatic tracking on, which a LossScaleOptimizer turns off while it builds its inner
    # optimizer (`untracked_build`). Read by `_has_slot` and `_keras_extra_variables`.
    _lists_tracked_variables = True

    def build(self, params: Sequence[torch.Tensor]) -> None:
        """Create the slot tensors for `params`; a no-op when already built."""
        if self.built:
            return
        self._lists_tracked_variables = _TRACKING.get()
        # The list as given, too: `fit` passes the same list every step, which then needs no
        # element-by-element check.
        self._given_params = params
        self._params = list(params)
        self._slots = {
            slot: [torch.zeros_like(p) if slot in _BASE_SLOTS else self._make_slot(slot, p)
                   for p in self._params]
            for group in self._state_groups
            for slot in group
        }
        # Keras's slot variables, named after their weights ("adam/dense_kernel_momentum"):
        # views of the slots, which the updates keep as plain tensors.
        self._slot_variables = [
            as_variable(self._slots[slot][i], trainable=False,
                        path=f"{self.name}/{_path_of(p, i).replace('/', '_')}_{slot}")
            for group in self._state_groups
            for i, p in enumerate(self._params)
            for slot in group
            if self._has_slot(slot, i)
        ]
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    @property
    def _state_groups(self) -> tuple[tuple[str, ...], ...]:
        """The slot groups in Keras's order: with `use_ema`, the weights' moving averages
        ("average") come first, then with gradient accumulation the summed gradients
        ("gradient_accumulator"), then the algorithm's own."""
        return ((("average",),) if self.use_ema else ()) + (
            (("gradient_accumulator",),) if self.gradient_accumulation_steps else ()
        ) + tuple(self._slot_groups)

    def _has_slot(self, slot: str, index: int) -> bool:
        """Whether Keras keeps `slot` for the parameter at `index` (as a variable, listed and
        saved): always, unless an algorithm leaves some out (Muon's weights have no velocity)."""
        return True

    def _make_slot(self, slot: str, param: torch.Tensor) -> torch.Tensor:
        """A new slot tensor of `param`: by default its shape, dtype and device, filled with
        `_slot_initial_value`."""
        return torch.full_like(param, self._slot_initial_value)

    def variables_size(self) -> tuple[int, int]:
        """(count, bytes) of Keras's optimizer variables: its int32 iteration, its float32
        learning rate (unless a schedule computes it), the slots and any extra scalars."""
        scalars = 1 + len(self._keras_extra_variables())
        if not isinstance(self._learning_rate, schedules_module.LearningRateSchedule):
            scalars += 1
        slots = self._slot_variables
        return (
            scalars + sum(v.numel() for v in slots),
            4 * scalars + sum(v.numel() * v.element_size() for v in slots),
        )

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras's list: the `iteration` variable (the steps taken, also with gradient
        accumulation), the learning rate (unless a schedule or callable gives it), then the slot
        variables (once built)."""
        numbers = [self._iteration_variable.showing(self._iterations)]
        if isinstance(self._learning_rate, float):
            numbers.append(self.learning_rate)
        return numbers + self._slot_variables + self._user_variables

    def state_dict(self) -> dict:
        """`iterations`, `learning_rate` (None for a schedule or callable) and `variables`.

        Only ints, floats and tensors (the slot tensors themselves, not copies), so a checkpoint
        can store the numbers as JSON and the tensors as arrays.
        """
        lr = self._learning_rate
        return {
            "iterations": self._iterations,
            "learning_rate": lr if isinstance(lr, float) else None,
            "variables": self._slot_variables,
            **self._extra_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()`'s output; before `build`, it is kept and applied by `build`."""
        if not self.built:
            self._pending_state = dict(state)
            return
        saved, mine = list(state["variables"]), self._slot_variables
        if len(saved) != len(mine):
            raise ValueError(
                f"Optimizer '{self.name}' has {len(mine)} slot tensors, but the saved state has "
                f"{len(saved)}. The state was saved from a different model or optimizer."
            )
        for target, value in zip(mine, saved):
            value = torch.as_tensor(value)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"Optimizer '{self.name}' cannot load a slot of shape {tuple(value.shape)} "
                    f"into one of shape {tuple(target.shape)}."
                )
            with torch.no_grad():
                target.copy_(value)
        self._iterations = int(state["iterations"])
        if state.get("learning_rate") is not None and isinstance(self._learning_rate, float):
            self._learning_rate = float(state["learning_rate"])
        self._load_extra_state(state)

    def _extra_state(self) -> dict:
        """Python numbers an algorithm keeps beside its slots (Nadam's running product)."""
        return {}

    def _keras_extra_variables(self) -> dict:
        """The `_extra_state` numbers that are Keras variables (listed, and saved in its files):
        all, unless a LossScaleOptimizer built this one (`_lists_tracked_variables`)."""
        return self._extra_state() if self._lists_tracked_variables else {}

    def _load_extra_state(self, state: dict) -> None:
        pass

    def exclude_from_weight_decay(self, var_list: Sequence[torch.Tensor]) -> None:
        """Leave the parameters in `var_list` out of weight decay; call before `build`."""
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer is "
                "built. Call it before `compile`/`fit` builds the optimizer."
            )
        self._excluded_from_decay = {id(v) for v in var_list}

    # ------------------------------------------------------------------ the step

    @torch.no_grad()
    def apply(self, params: Sequence[torch.Tensor] | None = None,
              trainable_variables: Sequence[torch.Tensor] | None = None) -> None:
        """One update of `params` (the built parameters by default) from their `.grad`.

        Keras's form `apply(grads, trainable_variables)` updates `trainable_variables` with the
        gradients `grads` (which become their `.grad`).
        """
        named = trainable_variables is not None
        if named:
            trainable_variables = list(trainable_variables)
            for variable, grad in zip(trainable_variables, params, strict=True):
                variable.grad = grad
            params = trainable_variables
        # 1. Collect the parameters that have gradients.
        given = params
        positions = None  # where `params` sit among the built ones, when they are only some
        if params is None or (self.built and params is self._given_params):
            params = self._params
        else:
            params = list(params)
        if not self.built:
            self.build(params)
            self._given_params = given
        else:
            # Keras's form may name only some of the built variables (a custom step that trains
            # part of a model); `fit`'s own step names them all, so that a change of `trainable`
            # since the optimizer was built asks for a new compile.
            positions = self._positions_of(params) if named else None
            if positions is None:
                self.check_params(params)
                if given is not None:
                    self._given_params = given  # checked once; the same list next step is not
        grads = [p.grad for p in params]
        if any(g is None for g in grads):
            keep = [i for i, g in enumerate(grads) if g is not None]
            if not keep:
                raise ValueError("No gradients provided for any variable.")
            missing = [getattr(p, "path", None) or f"parameter {i}"
                       for i, (p, g) in enumerate(zip(params, grads)) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If "
                "using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=2,
            )
        else:
            keep = None
        if positions is not None:
            # Only some built parameters: their slots are picked out by position.
            keep = [positions[i] for i in (range(len(params)) if keep is None else keep)]
            all_grads = [None] * len(self._params)
            for position, grad in zip(positions, grads):
                all_grads[position] = grad
            params, grads = self._params, all_grads
        params, grads, slots = self._select(params, grads, keep)
        self._apply_update(params, grads, slots, self._host_scalars())
        self._count_step()

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's `apply_gradients([(grad, variable), ...])`."""
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))

    def _positions_of(self, params: list) -> list[int] | None:
        """None when `params` are the built parameters or include one it was not built for
        (which `check_params` refuses); otherwise the index of each among the built ones."""
        if len(params) == len(self._params) and all(map(_same, params, self._params)):
            return None
        index = {id(p): i for i, p in enumerate(self._params)}
        positions = [index.get(id(p)) for p in params]
        return None if None in positions else positions

    def check_params(self, params: Sequence[torch.Tensor]) -> None:
        """Raise a ValueError unless `params` are the parameters this optimizer was built for."""
        if params is not self._params and (
            len(params) != len(self._params) or not all(map(_same, params, self._params))
        ):
            raise ValueError(
                f"Optimizer '{self.name}' was built for {len(self._params)} parameters and is "
                f"asked to update a different list of {len(params)}. Build a new optimizer for a "
                "new set of parameters (compile the model again after changing `trainable`)."
            )

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """The loss to take gradients of: times `loss_scale_factor` when set (`apply` divides
        the gradients by it again), as Keras's training step scales it."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _host_scalars(self) -> tuple[float, ...]:
        """The numbers of the next step, computed on the host; changes nothing.

        The weight-decay factor `1 - weight_decay * learning_rate`, then the algorithm's own
        (`_step_scalars`), with the learning rate of this step. With gradient accumulation,
        first 1.0 if the step updates the weights and 0.0 if it only accumulates; the
        algorithm's step is then the update's (Keras's `iterations + 1`), while the learning
        rate is the schedule's at the steps taken, as Keras evaluates it.
        """
        lr = self._current_learning_rate()
        decay = 1.0 - self.weight_decay * lr if self.weight_decay else 1.0
        if self.gradient_accumulation_steps:
            return (float(self._updates_now()), decay,
                    *self._step_scalars(lr, self._updates_done() + 1))
        return (decay, *self._step_scalars(lr, self._iterations + 1))

    def _count_step(self) -> None:
        """Count a step, after its update; first, with `use_ema`, move the averages."""
        if self.use_ema:
            self._update_averages()
        self._iterations += 1

    @torch.no_grad()
    def _update_averages(self) -> None:
        # As Keras: the first update's average is the weight; the count is a host number. With
        # gradient accumulation, Keras moves the averages at every step, and counts updates to
        # tell the first one and when to overwrite the weights.
        updates = self._updates_done()
        momentum = self.ema_momentum if updates else 0.0
        averages = self._slots["average"]
        torch._foreach_mul_(averages, momentum)
        torch._foreach_add_(averages, self._params, alpha=1 - momentum)
        if self.ema_overwrite_frequency and (updates + 1) % self.ema_overwrite_frequency == 0:
            torch._foreach_copy_(self._params, averages)

    @torch.no_grad()
    def finalize_variable_values(self, var_list: Sequence[torch.Tensor]) -> None:
        """With `use_ema`, set the weights in `var_list` to their moving averages (what `fit`
        does when it ends, as Keras's)."""
        if not (self.use_ema and self.built):
            return
        averages = {id(p): a for p, a in zip(self._params, self._slots["average"])}
        for variable in var_list:
            if id(variable) in averages:
                variable.copy_(averages[id(variable)])

    def _apply_update(self, params, grads, slots, scalars) -> None:
        """Steps 2 to 4 on tensors only, so that a compiled training step can include them:
        `scalars` are `_host_scalars()`'s numbers, as floats, or as 0-d tensors in a compiled
        step (a float there would be compiled in as a constant)."""
        # 2. Unscale the gradients.
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, self.loss_scale_factor)
        if self.gradient_accumulation_steps:
            self._accumulate(params, grads, slots, scalars)
        else:
            self._clipped_update(params, grads, slots, scalars)

    def _accumulate(self, params, grads, slots, scalars) -> None:
        """Add `grads` to the accumulators or, at an update step, update with the mean of the
        accumulated steps and this one and empty the accumulators, as Keras does.

        Eagerly the host knows which (the first scalar is a float). In a compiled step it is a
        0-d tensor, and the graph must serve both: it runs the update and keeps its results
        only at an update step (`torch.where`, which Inductor fuses into the update's kernels).
        """
        updating, *scalars = scalars
        accumulators = slots["gradient_accumulator"]
        compiled = isinstance(updating, torch.Tensor)
        if not (compiled or updating):
            torch._foreach_add_(accumulators, grads)
            return
        if compiled:
            updating = updating != 0
            state = [*params, *self._user_variables, *(
                t for slot, tensors in slots.items() if slot not in _BASE_SLOTS for t in tensors)]
            before = [t.clone() for t in state]
        mean = torch._foreach_add(grads, accumulators)
        torch._foreach_div_(mean, self.gradient_accumulation_steps)
        self._clipped_update(params, mean, slots, scalars)
        if not compiled:
            # Keras empties them by multiplying by zero (so a NaN stays a NaN).
            torch._foreach_mul_(accumulators, 0.0)
            return
        for tensor, old in zip(state, before):
            tensor.copy_(torch.where(updating, tensor, old))
        for accumulator, grad in zip(accumulators, grads):
            accumulator.copy_(torch.where(updating, accumulator * 0.0, accumulator + grad))

    def _clipped_update(self, params, grads, slots, scalars) -> None:
        """Steps 2 (clipping) to 4 on unscaled gradients."""
        decay, *scalars = scalars
        grads = self._clip(grads)
        # 3. Decoupled weight decay, with the learning rate of this step.
        if self.weight_decay:
            decayed = [p for p in params if id(p) not in self._excluded_from_decay]
            torch._foreach_mul_(decayed, decay)
        # 4. The algorithm's update.
        self._update(params, grads, slots, *scalars)

    def _select(self, params, grads, keep):
        slots = self._slots
        if keep is not None:
            params = [params[i] for i in keep]
            grads = [grads[i] for i in keep]
            slots = {name: [values[i] for i in keep] for name, values in slots.items()}
        return params, grads, slots

    def _clip(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.clipnorm is not None:
            scales = torch._foreach_maximum(torch._foreach_norm(grads), self.clipnorm)
            torch._foreach_reciprocal_(scales)
            torch._foreach_mul_(scales, self.clipnorm)
            return torch._foreach_mul(grads, scales)
        if self.global_clipnorm is not None:
            norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            # Like Keras: a scale of 1 below the limit, and NaN (not 0) for an infinite norm.
            scale = torch.clamp(norm.reciprocal(), max=1.0 / self.global_clipnorm)
            scale = scale * self.global_clipnorm + (norm - norm)
            return torch._foreach_mul(grads, scale)
        if self.clipvalue is not None:
            clipped = torch._foreach_clamp_min(grads, -self.clipvalue)
            torch._foreach_clamp_max_(clipped, self.clipvalue)
            return clipped
        return grads

    def _step_scalars(self, lr: float, step: int) -> tuple[float, ...]:
        """The numbers the algorithm's update needs at `step` (counted from 1, Keras's
        `iterations + 1`), computed on the host in Keras's arithmetic: by default the learning
        rate."""
        return (lr,)

    def _update(
        self,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        *scalars,
    ) -> None:
        """Update `params` in place with `_step_scalars`'s numbers (floats or 0-d tensors).

        The built-in algorithms update all parameters at once; a user's optimizer written as in
        Keras gets `update_step` called per parameter with the learning rate as a tensor.
        """
        if type(self).update_step is Optimizer.update_step:
            raise NotImplementedError(
                f"{type(self).__name__} must implement `update_step(gradient, variable, "
                "learning_rate)`, as a Keras optimizer does."
            )
        learning_rate = torch.as_tensor(scalars[0], dtype=torch.float32)
        for gradient, variable in zip(grads, params):
            self.update_step(gradient, variable, learning_rate)

    # ------------------------------------------------------------------ Keras's optimizer API

    def update_step(self, gradient, variable, learning_rate) -> None:
        """A user's optimizer (as in Keras): update one `variable` from its `gradient`."""
        raise NotImplementedError

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     layout=None, name=None) -> Variable:
        """A new optimizer variable (not trained), listed in `variables`, as Keras's."""
        return self._track(Variable(
            initializer=initializer, shape=shape, dtype=dtype, trainable=False,
            aggregation=aggregation, name=f"{self.name}/{name or 'variable'}"))

    def add_variable_from_reference(self, reference_variable, name=None,
                                    initializer="zeros") -> Variable:
        """A new optimizer variable of `reference_variable`'s shape, dtype and device, named
        `<optimizer>/<its path with _>_<name>` (`sgd/dense_kernel_momentum`)."""
        name = f"{_path_of(reference_variable, len(self._user_variables)).replace('/', '_')}_" \
               f"{name or 'var'}"
        variable = Variable(initializer=initializer, shape=tuple(reference_variable.shape),
                            dtype=reference_variable.dtype, trainable=False,
                            name=f"{self.name}/{name}")
        return self._track(rewrapped(variable, variable.to(reference_variable.device)))

    def _track(self, variable: Variable) -> Variable:
        self._user_variables.append(variable)
        return variable

    def _get_variable_index(self, variable) -> int:
        """The position of `variable` in the list the optimizer was built for."""
        return next(i for i, p in enumerate(self._params) if p is variable)

    @staticmethod
    @torch.no_grad()
    def assign(variable, value) -> None:
        """`variable[...] = value` (what Keras's optimizers write instead of `variable.assign`)."""
        variable.copy_(torch.as_tensor(value, device=variable.device))

    @staticmethod
    @torch.no_grad()
    def assign_add(variable, value) -> None:
        variable.add_(torch.as_tensor(value, device=variable.device))

    @staticmethod
    @torch.no_grad()
    def assign_sub(variable, value) -> None:
        variable.sub_(torch.as_tensor(value, device=variable.device))

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            lr = schedules_module.serialize(lr)
        elif callable(lr):
            raise TypeError(
                f"Optimizer '{self.name}' has a callable learning rate, which cannot be saved in a "
                "config. Use a float or a `keras.optimizers.schedules.LearningRateSchedule`."
            )
        elif isinstance(lr, float):
            lr = float(np.float32(lr))  # as Keras reads its float32 variable: 0.01 -> 0.00999999977
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name='{self.name}' learning_rate={self._learning_rate!r}>"


def add_scaled_(targets: list[torch.Tensor], tensors: list[torch.Tensor], scale) -> None:
    """`targets += scale * tensors`, in place; `scale` a float or a 0-d tensor."""
    if isinstance(scale, torch.Tensor):
        torch._foreach_add_(targets, torch._foreach_mul(tensors, scale))
    else:
        torch._foreach_add_(targets, tensors, alpha=scale)


def addcdiv_scaled_(targets, numerators, denominators, scale) -> None:
    """`targets += scale * numerators / denominators`, in place; `scale` a float or a 0-d
    tensor."""
    if isinstance(scale, torch.Tensor):
        quotients = torch._foreach_div(numerators, denominators)
        torch._foreach_mul_(quotients, scale)
        torch._foreach_add_(targets, quotients)
    else:
        torch._foreach_addcdiv_(targets, numerators, denominators, value=scale)


# The slots every optimizer may have, made as zeros by the base class and kept by it: the
# weights' moving averages (`use_ema`) and the summed gradients (`gradient_accumulation_steps`).
_BASE_SLOTS = ("average", "gradient_accumulator")


def _same(a, b) -> bool:
    return a is b


def _check_learning_rate(value):
    if isinstance(value, schedules_module.LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "Argument `learning_rate` should be a float, a LearningRateSchedule, or a callable "
            f"returning the learning rate. Received: learning_rate={value!r}"
        )
    check_range("learning_rate", value)
    return float(value)


def check_range(
    arg: str, value, low: float = 0.0, high: float = math.inf, low_open=False, high_open=False
) -> None:
    """Raise a ValueError naming `arg` unless `value` is a number in the interval."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and (low < value if low_open else low <= value)
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        if high == math.inf:
            interval = f"{'>' if low_open else '>='} {low:g}"
        else:
            interval = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"Argument `{arg}` must be a number {interval}. Received: {arg}={value!r}")


def _path_of(param: torch.Tensor, index: int) -> str:
    """A weight's path (`dense/kernel`); a plain torch parameter's place in the list."""
    return getattr(param, "path", None) or f"param_{index}"
