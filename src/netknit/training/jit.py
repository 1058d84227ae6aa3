"""`jit_compile=True`: step functions compiled once per input signature, as Keras traces them.

Keras compiles its train, test and predict functions once for each input signature and then runs
them without looking at the model's Python state again: a change to that state (a layer's
`trainable`, say) takes a new `compile()`. `torch.compile` instead checks its guards on that state
at every call, which costs about 25 µs per call on a 2-core CPU — a fifth of a small model's whole
training step. `CompiledStep` keeps Keras's contract: it compiles a pure step function ahead of
time (`torch.compile(...).aot_compile`) for each new signature — the shapes, strides, dtypes
and devices of the tensors in the arguments and where the Nones are — and calls the result with
its guard check turned off. `Model.compile()` drops every `CompiledStep`.

A function that cannot be compiled as one graph (or a torch without `aot_compile`) gets plain
`torch.compile` for that signature, guards and graph breaks included. So does one whose objects
do not pickle: the ahead-of-time compiler pickles the state its guards refer to (the model, its
layers) to make the result savable, which is why a model keeps its compiled steps in
`CompiledSteps`.
"""

from __future__ import annotations

import contextlib
import inspect
import random

import torch


class CompiledStep:
    """`fn(*fixed, *args)` compiled per signature of `args`.

    Args:
        fn: a function that only computes: no Python side effects (they would not be replayed).
        *fixed: leading arguments passed on every call and left out of the signature (the
            parameter list, which only a new `compile()` changes).
    """

    def __init__(self, fn, *fixed):
        if inspect.ismethod(fn):
            # The ahead-of-time compiled function takes the instance as an argument.
            fn, fixed = fn.__func__, (fn.__self__, *fixed)
        self._fn = fn
        self._fixed = fixed
        self._by_signature = {}

    def __call__(self, *args):
        key = signature(args)
        compiled = self._by_signature.get(key)
        if compiled is None:
            compiled = self._by_signature[key] = self._compile(args)
        return compiled(*self._fixed, *args)

    def _compile(self, args):
        whole_graph = torch.compile(self._fn, fullgraph=True)
        if not hasattr(whole_graph, "aot_compile"):  # an older torch (2.11 has none)
            return torch.compile(self._fn)
        try:
            # One static graph per signature, as Keras traces: torch would otherwise make what
            # changed since an earlier compilation of the same code (another model's sizes, its
            # optimizer's floats) symbolic, and some graphs then fail to compile.
            with _own_random_stream(), torch._dynamo.config.patch(automatic_dynamic_shapes=False):
                compiled = whole_graph.aot_compile(((*self._fixed, *args), {}))
        except Exception:
            # A graph break, or an error of the model itself: plain torch.compile either compiles
            # the pieces or raises that error again when called.
            return torch.compile(self._fn)
        compiled.disable_guard_check()
        return compiled


@contextlib.contextmanager
def _own_random_stream():
    """Python's `random` reseeded from the OS while compiling, and given back untouched after.

    For a graph it cannot hash (one that calls a function it does not know, such as the oneDNN
    LSTM's `_lstm_time_major`), the ahead-of-time compiler keys its cache with `random.random()`.
    After a user's `set_random_seed(n)` that key repeats, and a later model was handed an earlier
    model's compiled graph, which then failed on its first call. Compiling also no longer moves
    the user's random stream.
    """
    state = random.getstate()
    random.seed()
    try:
        yield
    finally:
        random.setstate(state)


class CompiledSteps(dict):
    """A model's compiled step functions by name; pickled empty, since compiled functions do not
    pickle and the ahead-of-time compiler pickles the model they belong to."""

    def __reduce__(self):
        return CompiledSteps, ()


def signature(value):
    """A hashable key of what a compiled graph depends on in `value`: each tensor's shape,
    strides, dtype and device, the nesting of lists, tuples and dicts, and any other value
    itself."""
    if isinstance(value, torch.Tensor):
        return value.shape, value.stride(), value.dtype, value.device
    if isinstance(value, (list, tuple)):
        return type(value), tuple(map(signature, value))
    if isinstance(value, dict):
        return dict, tuple((k, signature(v)) for k, v in value.items())
    return value
