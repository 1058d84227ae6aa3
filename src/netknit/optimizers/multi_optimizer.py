"""`MultiOptimizer`: different optimizers for different weights, chosen by the weights' paths.

An `OptimizerMap` maps path patterns (`"encoder/.*"`) to optimizers, with a default for the rest;
a plain function of the variable can choose instead. `MultiOptimizer` builds each chosen optimizer
on its own weights and steps them all in one `apply`, as one optimizer: eagerly, inside a
`jit_compile=True` training step, and inside a `LossScaleOptimizer`.

Each inner optimizer keeps its own learning rate, step count and slots; the `MultiOptimizer` has
only its own step count (and a learning rate of 0 that Keras lists but never uses: reading
`learning_rate` raises, since the inner optimizers' rates may differ).

>>> import torch
>>> from netknit.optimizers import SGD
>>> encoder = torch.nn.Parameter(torch.ones(2)); encoder.path = "encoder/kernel"
>>> head = torch.nn.Parameter(torch.ones(2)); head.path = "head/kernel"
>>> optimizer = MultiOptimizer(OptimizerMap(SGD(learning_rate=1.0), {"encoder/.*": SGD(0.1)}))
>>> optimizer.apply([torch.ones(2), torch.ones(2)], [encoder, head])
>>> encoder.detach(), head.detach()
(tensor([0.9000, 0.9000]), tensor([0., 0.]))
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping, Sequence

import torch

from .loss_scale_optimizer import LossScaleOptimizer
from .optimizer import Optimizer


class OptimizerMap(MutableMapping):
    """Maps variable paths, or regular expressions matching them, to optimizers.

    A key finds its optimizer by an exact match first; otherwise every key is tried as a pattern
    with `re.fullmatch`, so `"encoder/.*"` matches everything under `encoder` and `"encoder"`
    only a path that is exactly that. A path that nothing matches gets `default_optimizer`.
    Calling the map on a variable looks up its `path`.

    Args:
        default_optimizer: the optimizer of the variables that no key matches.
        optimizer_map: an optional dict of initial entries, `{path or pattern: optimizer}`.

    >>> from netknit import optimizers
    >>> optimizer_map = OptimizerMap(default_optimizer=optimizers.RMSprop())
    >>> optimizer_map["encoder/.*"] = optimizers.SGD()
    >>> type(optimizer_map["encoder/layer_0/kernel"]).__name__
    'SGD'
    >>> type(optimizer_map["decoder/layer_0/kernel"]).__name__
    'RMSprop'
    """

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("default_optimizer must be a Keras Optimizer instance. "
                            f"Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        """The optimizer of the path `key`; a ValueError when several patterns match it."""
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}. Patterns "
                             f"{matches} all match it; make them exclusive.")
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        """Give the variables `key` matches to `optimizer`; each key may be set once."""
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        # A wrapper inside would scale the loss or route the weights a second time.
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer. Wrap the MultiOptimizer in "
                             "a LossScaleOptimizer instead.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer. Put its entries in this map.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable) -> Optimizer:
        path = getattr(variable, "path", None)
        if not isinstance(path, str):
            raise AttributeError(
                "OptimizerMap picks a variable's optimizer by its `path` (such as "
                f"'dense/kernel'), and this variable has none: {type(variable).__name__} of shape "
                f"{tuple(getattr(variable, 'shape', ()))}. Use a netknit layer's weights, or give "
                "MultiOptimizer a function of the variable instead of a map.")
        return self[path]

    def get_config(self) -> dict:
        from ..saving.serialization import serialize_keras_object

        return {"default_optimizer": serialize_keras_object(self._default_optimizer),
                "optimizer_map": serialize_keras_object(self._optimizer_map)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> OptimizerMap:
        from ..saving.serialization import deserialize_keras_object

        return cls(deserialize_keras_object(config["default_optimizer"], custom_objects),
                   {key: deserialize_keras_object(entry, custom_objects)
                    for key, entry in (config.get("optimizer_map") or {}).items()})

    def __repr__(self) -> str:
        return (f"<OptimizerMap default_optimizer={self._default_optimizer!r} "
                f"optimizer_map={self._optimizer_map!r}>")


class MultiOptimizer(Optimizer):
    """Updates each variable with the optimizer that `optimizer_map` chooses for it.

    The inner optimizers are listed in `optimizers`: the map's values in order, then its default
    (a function's choices in the order it first makes them, when built). Each is built on its own
    variables; one that gets none stays unbuilt and does not step. Set learning rates on them:
    this optimizer has none of its own.

    Args:
        optimizer_map: an `OptimizerMap`, or a function from a variable to its optimizer.
        loss_scale_factor: if set, the loss is multiplied by it and every inner optimizer divides
            the gradients by it; it replaces the inner optimizers' own factors.
        name: the optimizer's name; `"multi_optimizer"` (made unique) by default.

    >>> from netknit import optimizers
    >>> optimizer = MultiOptimizer(optimizers.OptimizerMap(
    ...     default_optimizer=optimizers.SGD(0.01),
    ...     optimizer_map={"encoder/.*": optimizers.Adam(1e-3)}))
    >>> [type(o).__name__ for o in optimizer.optimizers]
    ['Adam', 'SGD']
    """

    def __init__(self, optimizer_map, loss_scale_factor: float | None = None,
                 name: str | None = None):
        if not callable(optimizer_map):
            raise TypeError("optimizer_map must be an OptimizerMap or a function that returns the "
                            f"optimizer of a variable. Received: {optimizer_map!r}")
        # Before the base sets `loss_scale_factor`, whose setter passes it on to these.
        self._inner_optimizers: list[Optimizer] = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        known = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for optimizer in [*known, *([default] if default is not None else [])]:
            self._add(optimizer)
        # Set by `build`: for each inner optimizer with variables, its positions in the built
        # list and how many of `_host_scalars`'s numbers are its own.
        self._steps: list[tuple[Optimizer, list[int], int]] = []

    def _add(self, optimizer: Optimizer) -> None:
        """List `optimizer` once, with this optimizer's loss scale factor in place of its own."""
        if not any(optimizer is known for known in self._inner_optimizers):
            optimizer.loss_scale_factor = self._loss_scale_factor
            self._inner_optimizers.append(optimizer)

    @property
    def optimizers(self) -> list[Optimizer]:
        """The inner optimizers, in the order their variables are listed."""
        return self._inner_optimizers

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on "
            "the individual sub-optimizers instead (`optimizer.optimizers`).")

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
            "individual sub-optimizers instead (`optimizer.optimizers`).")

    @property
    def loss_scale_factor(self) -> float | None:
        return self._loss_scale_factor

    @loss_scale_factor.setter
    def loss_scale_factor(self, value: float | None) -> None:
        # The inner optimizers unscale the gradients, each its own: they all take this factor
        # (a wrapping LossScaleOptimizer sets None, so that they leave that to it).
        self._loss_scale_factor = value
        for optimizer in self._inner_optimizers:
            optimizer.loss_scale_factor = value

    # ------------------------------------------------------------------ state

    def build(self, params: Sequence[torch.Tensor]) -> None:
        """Choose each parameter's optimizer and build each on its own; a no-op once built."""
        if self.built:
            return
        self._given_params = params
        self._params = list(params)
        positions: dict[int, list[int]] = {}
        for index, param in enumerate(self._params):
            optimizer = self._optimizer_map(param)
            _check_inner(optimizer, param)
            self._add(optimizer)
            positions.setdefault(id(optimizer), []).append(index)
        self._steps = []
        for optimizer in self._inner_optimizers:
            where = positions.get(id(optimizer))
            if where:
                own = [self._params[i] for i in where]
                optimizer.build(own)
                optimizer.check_params(own)  # one built before on other weights is refused
                self._steps.append((optimizer, where, len(optimizer._host_scalars())))
        # All the inner optimizers' slots, so that a wrapping LossScaleOptimizer restores them
        # after a step with gradients that are not finite.
        self._slots = {f"{k}/{slot}": tensors for k, (optimizer, _, _) in enumerate(self._steps)
                       for slot, tensors in optimizer._slots.items()}
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.load_state_dict(state)

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras's list: this optimizer's iteration and (unused, 0) learning rate, then each
        inner optimizer's variables in turn."""
        own = [self.iterations, self._learning_rate_variable.showing(0.0)]
        return own + [v for optimizer in self._inner_optimizers for v in optimizer.variables]

    def variables_size(self) -> tuple[int, int]:
        """(count, bytes) of `variables`: two 4-byte scalars, then the inner optimizers'."""
        sizes = [optimizer.variables_size() for optimizer in self._inner_optimizers]
        return 2 + sum(c for c, _ in sizes), 8 + sum(b for _, b in sizes)

    def state_dict(self) -> dict:
        """This optimizer's step count and each inner optimizer's `state_dict()`, in order."""
        return {"iterations": self._iterations,
                "optimizers": [optimizer.state_dict() for optimizer in self._inner_optimizers]}

    def load_state_dict(self, state: dict) -> None:
        if not self.built:
            self._pending_state = dict(state)
            return
        saved = state["optimizers"]
        if len(saved) != len(self._inner_optimizers):
            raise ValueError(
                f"MultiOptimizer '{self.name}' has {len(self._inner_optimizers)} inner "
                f"optimizers, but the saved state has {len(saved)}. The state was saved from a "
                "different model or optimizer map.")
        for optimizer, inner_state in zip(self._inner_optimizers, saved):
            optimizer.load_state_dict(inner_state)
        self._iterations = int(state["iterations"])

    # ------------------------------------------------------------------ the step

    def _host_scalars(self) -> tuple[float, ...]:
        """Each stepping inner optimizer's numbers, one after another."""
        return tuple(number for optimizer, _, _ in self._steps
                     for number in optimizer._host_scalars())

    def _select(self, params, grads, keep):
        # `_apply_update` finds each inner optimizer's slots itself; all of them go back, for a
        # wrapping LossScaleOptimizer to restore.
        if keep is not None:
            params, grads = [params[i] for i in keep], [grads[i] for i in keep]
        return params, grads, self._slots

    def _apply_update(self, params, grads, slots, scalars) -> None:
        """Each inner optimizer's update of its own parameters, with its own numbers from
        `scalars`. Tensor work only, so that the compiled training step includes it."""
        if len(params) == len(self._params):
            # Every parameter, in the order built (always so in a compiled step).
            given = None
        else:
            # Some parameters have no gradient: find the others by identity (an eager step).
            built = {id(p): i for i, p in enumerate(self._params)}
            given = {built[id(p)]: i for i, p in enumerate(params)}
        start = 0
        for optimizer, where, count in self._steps:
            numbers, start = scalars[start:start + count], start + count
            if given is None:
                optimizer._apply_update([params[i] for i in where], [grads[i] for i in where],
                                        optimizer._slots, numbers)
                continue
            keep = [j for j, i in enumerate(where) if i in given]
            if not keep:
                raise ValueError(
                    "No gradients provided for any variable of optimizer "
                    f"'{optimizer.name}' inside MultiOptimizer '{self.name}'.")
            own_grads = [grads[given[i]] if i in given else None for i in where]
            optimizer._apply_update(*optimizer._select(optimizer._params, own_grads, keep),
                                    numbers)

    def _count_step(self) -> None:
        for optimizer, _, _ in self._steps:
            optimizer._count_step()
        self._iterations += 1

    def finalize_variable_values(self, var_list: Sequence[torch.Tensor]) -> None:
        """Each inner optimizer's `finalize_variable_values` (its weights' moving averages)."""
        for optimizer in self._inner_optimizers:
            optimizer.finalize_variable_values(var_list)

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict:
        if isinstance(self._optimizer_map, OptimizerMap):
            entry = {"module": "keras.optimizers", "class_name": "OptimizerMap",
                     "config": self._optimizer_map.get_config(), "registered_name": None}
        else:
            from ..saving.serialization import serialize_keras_object

            entry = serialize_keras_object(self._optimizer_map)
        return {"optimizer_map": entry, "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> MultiOptimizer:
        from ..saving.serialization import deserialize_keras_object

        config = dict(config)
        entry = config.pop("optimizer_map")
        if isinstance(entry, dict) and str(entry.get("class_name")).lower() == "optimizermap":
            optimizer_map = OptimizerMap.from_config(entry["config"], custom_objects)
        else:
            optimizer_map = deserialize_keras_object(entry, custom_objects)
        return cls(optimizer_map, **config)

    def __repr__(self) -> str:
        names = ", ".join(repr(optimizer) for optimizer in self._inner_optimizers)
        return f"<MultiOptimizer name='{self.name}' optimizers=[{names}]>"


def _check_inner(optimizer, param) -> None:
    """Raise a ValueError unless `optimizer` can step `param` inside a MultiOptimizer."""
    path = getattr(param, "path", None) or f"of shape {tuple(param.shape)}"
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"Optimizer for variable {path} is not an Optimizer instance. "
                         f"Received: {optimizer!r}")
    if isinstance(optimizer, LossScaleOptimizer):
        raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer. Wrap the "
                         f"MultiOptimizer in it instead (variable {path}).")
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer (variable "
                         f"{path}).")
