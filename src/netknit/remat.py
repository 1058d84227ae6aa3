"""Rematerialization (gradient checkpointing): recompute activations in the backward pass rather
than keep them, trading computation for memory.

`remat(f)` wraps one function; `RematScope` decides it for the layers made inside it. As in
Keras, a layer takes the scope that is open when the layer is *made* (its constructor runs), and
the scope applies when the layer computes on data; a scope open only around a call changes
nothing. The engine is `torch.utils.checkpoint` (non-reentrant), as Keras's torch backend uses:
random operations replay the same draws when recomputed (Dropout keeps its mask), so outputs and
gradients are those of the plain call.

A layer made inside a scope gets its `forward` wrapped once, when it is made (as a dtype policy
wraps it); layers made outside pay nothing per call.

>>> with RematScope(mode="full"):
...     block = keras.Sequential([keras.layers.Dense(512, activation="relu")] * 4)
>>> block(x).sum().backward()  # each Dense recomputes its output in the backward pass
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
from typing import Callable, NamedTuple

import torch
from torch.utils import checkpoint

from .graph import nest
from .scopes import in_symbolic_scope

MODES = ("full", "activations", "larger_than", "list_of_layers", None)


class RematMode(NamedTuple):
    """The settings of the `RematScope` a layer was made in (`layer._remat_mode`)."""

    mode: str | None
    output_size_threshold: int
    layer_names: list


# The open scopes' settings, innermost last.
_SCOPES: contextvars.ContextVar[tuple] = contextvars.ContextVar("netknit_remat_scopes",
                                                                default=())


class RematScope:
    """Rematerialize the layers made inside: their activations are recomputed in the backward
    pass instead of being kept from the forward pass.

    Args:
        mode: which layers, among those made in the scope:
            - `"full"`: every layer (and model, and operation in a functional graph).
            - `"activations"`: only the activation function of layers that have one
              (`Dense(..., activation="relu")`): the rest of the layer keeps its activations.
            - `"larger_than"`: layers whose output has more than `output_size_threshold`
              elements (the batch counted), decided per input shape.
            - `"list_of_layers"`: the layers named in `layer_names`.
            - `None`: none, also inside an outer scope.
        output_size_threshold: the size for `"larger_than"` (1024 by default).
        layer_names: the names for `"list_of_layers"`.

    The innermost scope open when a layer is made decides for that layer; it applies whenever
    the layer computes on data, in or out of the scope.

    >>> with RematScope(mode="list_of_layers", layer_names=["big"]):
    ...     big = keras.layers.Dense(4096, name="big", activation="gelu")
    ...     small = keras.layers.Dense(8, name="small")
    >>> y = small(big(x))  # only `big` is recomputed when gradients are taken
    """

    def __init__(self, mode: str | None = "full", output_size_threshold: int = 1024,
                 layer_names=None):
        if mode not in MODES:
            raise ValueError(f"Invalid mode {mode!r}. Supported modes are: 'full', "
                             "'activations', 'larger_than', 'list_of_layers', or None.")
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = list(layer_names or [])
        self._token = None

    def __enter__(self) -> "RematScope":
        settings = RematMode(self.mode, self.output_size_threshold, self.layer_names)
        self._token = _SCOPES.set((*_SCOPES.get(), settings))
        return self

    def __exit__(self, *exc) -> None:
        if self._token is not None:
            _SCOPES.reset(self._token)
            self._token = None


def current_remat_mode() -> RematMode | None:
    """The settings of the innermost open `RematScope`, or None outside any."""
    scopes = _SCOPES.get()
    return scopes[-1] if scopes else None


def remat(f: Callable) -> Callable:
    """`f`, rematerialized: what it computes is not kept for the backward pass but recomputed
    there from its inputs (`torch.utils.checkpoint`, non-reentrant). The results and gradients
    are those of `f`; the memory its intermediate tensors took is free until the backward pass.

    Args:
        f: the function (or layer) to rematerialize; it takes tensors and other arguments.

    Returns:
        A function with `f`'s arguments and results.

    >>> class Block(keras.layers.Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.mlp = keras.remat(self.expand_and_project)
    ...     def call(self, x):
    ...         return x + self.mlp(x)
    """
    if not callable(f):
        raise TypeError(f"remat() expects a function or layer to wrap. Received: {f!r}")
    # A partial, not a closure: a layer holding it is copied (`copy.deepcopy`, `clone_model`)
    # and pickled with the function bound to the copy.
    return functools.partial(_rematerialized_call, f)


def _rematerialized_call(f: Callable, *args, **kwargs):
    return checkpoint.checkpoint(f, *args, use_reentrant=False, **kwargs)


def rematerializes(model) -> bool:
    """Whether a layer in `model` recomputes in the backward pass: its `forward` or a function it
    holds is wrapped by a `RematScope` or `remat`. (`torch.func`'s transforms, on which the
    compiled training step is built, do not take `torch.utils.checkpoint`.)"""
    wrappers = (_rematerialized_call, _rematerialized_if_larger, _with_rematerialized_activation)
    return any(isinstance(value, functools.partial) and value.func in wrappers
               for module in model.modules() for value in vars(module).values())


def rematerialized_forward(layer, forward: Callable) -> Callable | None:
    """`forward` (the layer's computation) wrapped as the layer's `RematScope` asks, or None
    where the scope leaves the layer as it is."""
    settings = layer._remat_mode
    if settings is None or settings.mode is None:
        return None
    if settings.mode == "full" or (settings.mode == "list_of_layers"
                                   and layer.name in settings.layer_names):
        wrapped = remat(forward)
    elif settings.mode == "larger_than":
        wrapped = functools.partial(_rematerialized_if_larger, layer, forward, remat(forward), {})
    elif settings.mode == "activations":
        wrapped = functools.partial(_with_rematerialized_activation, layer, forward)
    else:
        return None
    # The class's signature, which torch.export matches its inputs against.
    wrapped.__signature__ = inspect.signature(functools.partial(type(layer).forward, layer))
    return wrapped


def _with_rematerialized_activation(layer, forward: Callable, *args, **kwargs):
    """Run `forward` with the layer's activation function rematerialized for the call (a layer
    holds it as `self.activation` and applies it last, as Keras's layers do)."""
    activation = layer.__dict__.get("activation")
    if activation is None:
        return forward(*args, **kwargs)
    layer.__dict__["activation"] = remat(activation)
    try:
        return forward(*args, **kwargs)
    finally:
        layer.__dict__["activation"] = activation


def _rematerialized_if_larger(layer, forward: Callable, rematerialized: Callable, decided: dict,
                              *args, **kwargs):
    """Run `rematerialized` where the call's output is larger than the threshold, else
    `forward`. The output size comes from the layer's shape rule, once per input shape."""
    inputs = args[0] if args else None
    key = tuple(tuple(t.shape) if isinstance(t, torch.Tensor) else None
                for t in nest.flatten((args, kwargs)))
    larger = decided.get(key)
    if larger is None:
        if in_symbolic_scope():  # the layer's shape rule running it on stand-ins, to decide
            return forward(*args, **kwargs)
        size = _output_size(layer, inputs)
        if size is None:
            # The shape rule could not tell: the first run at this shape is measured.
            outputs = forward(*args, **kwargs)
            size = sum(t.numel() for t in nest.flatten(outputs) if isinstance(t, torch.Tensor))
            decided[key] = size > layer._remat_mode.output_size_threshold
            return outputs
        larger = decided[key] = size > layer._remat_mode.output_size_threshold
    return rematerialized(*args, **kwargs) if larger else forward(*args, **kwargs)


def _output_size(layer, inputs) -> int | None:
    """The number of elements of the layer's output(s) for real `inputs` by its shape rule
    (unknown sizes but the batch count as 1, as Keras counts them), or None where the rule
    cannot tell."""
    from .layers.layer import _shape_leaves  # the layers build on this module

    tensors = [t for t in nest.flatten(inputs) if isinstance(t, torch.Tensor)]
    if not tensors:
        return None
    try:
        # The default rule runs the layer on stand-ins: it must not take random numbers from
        # the call's stream (the call's Dropout masks stay those of a plain call).
        with torch.random.fork_rng(devices=[]):
            shapes = layer.compute_output_shape(
                nest.map_structure(lambda t: tuple(t.shape) if isinstance(t, torch.Tensor)
                                   else t, inputs))
    except Exception:  # noqa: BLE001 (a rule that needs more than the first input)
        return None
    batch = tensors[0].shape[0] if tensors[0].dim() else 1
    return sum(math.prod((batch if i == 0 and d is None else d or 1) for i, d in enumerate(s))
               for s in _shape_leaves(shapes))
