"""`jit_compile=True`: step functions compiled once per input signature, as Keras traces them.

Keras compiles its train, test and predict functions once for each input signature and then runs
them without looking at the model's Python state again: a change to that state (a layer's
`trainable`, say) takes a new `compile()`. `torch.compile` instead checks its guards on that state
at every call, which costs about 25 µs per call on a 2-core CPU — a fifth of a small model's whole
training step. `CompiledStep` keeps Keras's contract: it compiles a pure step function ahead of
time (`torch.compile(...).aot_compile`) for each new signature — the shapes, strides, dtypes
and devices of the tensors in the arguments and where the Nones are — and calls the result with
its guard check turned off. `CompiledForward` does the same for `predict`'s forward pass, without
torch.compile's per-call wrappers. `Model.compile()` drops every compiled step.

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

from ..graph import nest


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


class CompiledForward:
    """`module(inputs)` for inference, compiled per signature of the batch into one Inductor kernel
    call that takes the module's weights and the batch's tensors as a flat list.

    `CompiledStep` pays 5–13 µs a call for torch.compile's wrappers around the same kernels (the
    frame hooks, AOTAutograd's runtime wrapper), which a small model's whole prediction step (W5:
    20–40 µs on 2 cores) cannot afford. Prediction needs none of them: no autograd, no mutation, no
    graph breaks. So the forward pass is traced to ATen ops with fake tensors (`make_fx`, with
    mutations functionalized; views stay views, so convolutions keep their channels-last layout)
    and handed straight to Inductor. A forward pass that does not trace that way (a data-dependent
    branch, an op that mutates its inputs, forward hooks, which keep what they see, an older
    torch) gets `CompiledStep` for that signature.

    The weights are read from their modules on every call, so a weight that a layer replaces
    (rather than updates in place) is still seen.

    Args:
        module: the module whose `module(inputs)` is compiled.
    """

    def __init__(self, module):
        self._module = module
        self._by_signature = {}
        self._fallback = None

    def __call__(self, inputs):
        key = signature(inputs)
        compiled = self._by_signature.get(key)
        if compiled is None:
            compiled = self._by_signature[key] = self._compile(inputs)
        return compiled(inputs)

    def _compile(self, inputs):
        try:
            return _InferenceGraph(self._module, inputs)
        except Exception:
            if self._fallback is None:
                self._fallback = CompiledStep(torch.nn.Module.__call__, self._module)
            return self._fallback


class _InferenceGraph:
    """One signature's compiled forward pass (see `CompiledForward`)."""

    def __init__(self, module, inputs):
        from torch._inductor.compile_fx import _recursive_joint_graph_passes, compile_fx_inner
        from torch._inductor.decomposition import select_decomp_table
        from torch.fx.experimental.proxy_tensor import make_fx

        if any(m._forward_hooks or m._forward_pre_hooks for m in module.modules()):
            # Hooks (activity penalties) keep what they see: here that would be fake tensors.
            raise ValueError("the forward pass runs hooks")
        names, self._slots = _state_slots(module)
        state = [slots[name] for slots, name in self._slots]
        template = []

        def forward(*flat):
            weights = dict(zip(names, flat[:len(names)]))
            outputs = torch.func.functional_call(
                module, weights, (nest.pack_like(inputs, flat[len(names):]),)
            )
            template.append(outputs)
            return _tensor_leaves(outputs)

        flat = [*state, *_tensor_leaves(inputs)]
        with torch.inference_mode(False), torch.no_grad(), _own_random_stream():
            graph = make_fx(
                torch.func.functionalize(forward),
                decomposition_table=select_decomp_table(), tracing_mode="fake",
            )(*flat)
            if any(getattr(node.target, "_schema", None) is not None
                   and node.target._schema.is_mutable for node in graph.graph.nodes):
                raise ValueError("the forward pass mutates its inputs")
            graph = _recursive_joint_graph_passes(graph, input_device=flat[-1].device)
            output = next(iter(reversed(graph.graph.nodes)))
            output.meta["user_visible_output_idxs"] = list(range(len(output.args[0])))
            self._kernel = compile_fx_inner(graph, flat, is_inference=True)
        # One call on the real batch, checked against the trace: a torch whose compiled graphs
        # take their inputs otherwise fails here, where the fallback can still take over.
        results = self._kernel(list(flat))
        if [(t.shape, t.dtype) for t in results] != [(t.shape, t.dtype)
                                                     for t in nest.flatten(template[0])]:
            raise ValueError("the compiled forward pass does not return what was traced")
        self._template = None if isinstance(template[0], torch.Tensor) else template[0]

    def __call__(self, inputs):
        outputs = self._kernel([*[slots[name] for slots, name in self._slots],
                                *nest.flatten(inputs)])
        if self._template is None:
            return outputs[0]
        return nest.pack_like(self._template, outputs)


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


def _state_slots(module):
    """The full names of `module`'s parameters and buffers (each tensor once, as
    `named_parameters` lists them) and, for each, its `(dict, key)` in the module that holds it:
    reading those on each call sees a weight that was replaced."""
    names, slots, seen = [], [], set()
    for prefix, owner in module.named_modules():
        for store in (owner._parameters, owner._buffers):
            for key, tensor in store.items():
                if tensor is not None and id(tensor) not in seen:
                    seen.add(id(tensor))
                    names.append(f"{prefix}.{key}" if prefix else key)
                    slots.append((store, key))
    return names, slots


def _tensor_leaves(structure) -> list:
    """The leaves of `structure` (`nest`'s order), which must all be tensors to be traced."""
    leaves = nest.flatten(structure)
    if not all(isinstance(leaf, torch.Tensor) for leaf in leaves):
        raise ValueError("only nested tensors are traced")
    return leaves
