"""The base `Layer`: a `torch.nn.Module` with Keras's names, weights, build-on-first-call and graph.

A layer is called in one of two ways, through the same `__call__`:

* on symbolic tensors (from `Input()` or other layer calls): it builds its weights from the input
  shape if it has not yet, checks and infers the output shape with `compute_output_shape`, records
  a `Node` and returns symbolic outputs. Nothing is computed.
* on real data (torch tensors or NumPy arrays): it builds if needed and runs `forward`, plain
  PyTorch. Floating inputs of another dtype are cast to the layer's first, as Keras's autocast
  does. Once built, a call on a tensor of the layer's dtype goes straight to
  `torch.nn.Module.__call__`, unchecked; a wrong size that fails in torch's kernels is then
  explained by the layer's shape rule (a `ShapeError`, a ValueError, as Keras's input spec raises).

Weights are `Variable`s, `nn.Parameter`s (trainable) and buffers (non-trainable, e.g. moving
statistics) with Keras's variable API, of Keras's shapes, so `layer.kernel`, `model.weights` and
`get_weights()` all show what Keras shows.
Where a torch kernel wants another layout, it gets a view: a weight created with
`add_weight(..., linear_in_axes=k)` keeps torch's `(out, in)` Linear memory order behind its Keras
shape, and `linear_weight(w, k)` is that `(out, in)` matrix without a copy (Dense, the recurrent
kernels, attention projections).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import re
import sys

import numpy as np
import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode, unset_fake_temporarily

from .. import constraints as constraints_module
from .. import dtype_policies, scopes
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from .. import remat as remat_module
from ..graph import nest
from ..graph.errors import ShapeError, unknown_argument_error
from ..graph.node import Node
from ..graph.shapes import format_shape
from ..graph.symbolic import SymbolicTensor
from ..variables import Variable, as_variable, rewrapped, stateless
from . import tracking
from .input_spec import check_input_spec
from .tracking import _TRACKABLE

_name_counts: dict[str, int] = {}


def clear_session() -> None:
    """Reset automatic names, so the next `Dense` is called `dense` again (as in Keras)."""
    _name_counts.clear()


def unique_name(prefix: str) -> str:
    """`dense`, then `dense_1`, `dense_2`, ... per prefix, as Keras names layers."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def to_snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def linear_weight(weight: torch.Tensor, in_axes: int = 1) -> torch.Tensor:
    """A Keras weight whose first `in_axes` axes are a linear map's input, as torch's `(out, in)`
    Linear weight: a view, contiguous for a weight made with `add_weight(linear_in_axes=...)`."""
    return weight.reshape(math.prod(weight.shape[:in_axes]), -1).T


def unique_weight_name(layer, prefix: str) -> str:
    """The next of `prefix`, `prefix_1`, ... on the session's counter (shared by all layers and
    variables, as Keras names an unnamed variable) that is not yet an attribute or weight path
    of `layer` (a weight renamed by assignment keeps the path of its first name)."""
    taken = {getattr(getattr(layer, n, None), "path", "").rsplit("/", 1)[-1]
             for n in layer.__dict__.get("_weight_names", ())}
    name = unique_name(prefix)
    while hasattr(layer, name) or name in taken:
        name = unique_name(prefix)
    return name


# The layers being built, outermost first, among the open `name_scope`s: a weight's path starts
# with their names, as Keras's name scopes make it ("sequential/dense/kernel").
_BUILDING = scopes.PATH_SCOPES


@contextlib.contextmanager
def building(layer):
    """Name the weights `layer` and the layers inside it create under its name."""
    stack = _BUILDING.get()
    token = _BUILDING.set(stack if layer in stack else (*stack, layer))
    # As Keras's build: the layer's path is where it was last built.
    vars(layer)["_path"] = scopes.current_path()
    try:
        yield
    finally:
        _BUILDING.reset(token)


def _weight_path(layer, name: str) -> str:
    scope = scopes.current_path(exclude=layer)
    return f"{scope}/{layer.name}/{name}" if scope else f"{layer.name}/{name}"


def _dtype(value) -> torch.dtype:
    """The torch dtype of a weight or input dtype given by name (`"float32"`, `"int64"`) or as a
    torch dtype; None is float32. A policy (or its config) gives its variable dtype."""
    if value is None:
        return torch.float32
    if isinstance(value, torch.dtype):
        return value
    if isinstance(value, (dict, dtype_policies.DTypePolicy)):
        return dtype_policies.get(value)._variable
    return dtype_policies.torch_dtype(value)


def is_shape(value) -> bool:
    """True for one shape `(None, 32)`, False for a structure of shapes `[(None, 3), (None, 4)]`."""
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value
    )


class Layer(nn.Module):
    """Base class of all layers: a `torch.nn.Module` that speaks Keras.

    Args:
        trainable: whether the layer's weights are updated in training.
        name: a unique name; by default made from the class name (`dense`, `dense_1`, ...).
        dtype: the dtype policy: a name such as `"float32"` or `"mixed_float16"`, or a
            `DTypePolicy`; the global policy (`keras.mixed_precision.set_global_policy`) by
            default. `layer.dtype` is the weights' dtype (`variable_dtype`): a name
            that also equals the torch dtype.
        autocast: False leaves the inputs and weights of a layer under a mixed policy uncast, as
            Keras's `autocast=False`.
        input_shape: the shape of one sample, for the first layer of a `Sequential`.
        input_dim: the same as `input_shape=(input_dim,)`.

    Subclasses create weights in `build(input_shape)` with `add_weight`, compute in `forward`,
    and give their shape rule in `compute_output_shape`, raising `ShapeError` with a fix when the
    input cannot be accepted.

    Under a dtype policy other than the plain float32 one (and in every layer made while the
    global policy is not float32), `forward` is wrapped to follow the policy as Keras's layers
    do: floating inputs are cast to the compute dtype, a mixed policy's float32 weights are read
    as compute-dtype copies for the call (gradients reach the float32 weights), and floating
    outputs have the compute dtype. A float32 layer without a policy to follow runs `forward`
    unwrapped, so the float32 path pays nothing.
    """

    # Set by layers whose forward takes `training=` (Dropout, BatchNormalization, models, ...).
    _accepts_training = False
    # Set by layers whose forward takes `mask=` (recurrent layers, pooling, attention, ...).
    _accepts_mask = False
    # The `training` and `mask` arguments of Keras's `call` for this layer, with their defaults:
    # Keras writes them with each call in a saved graph (`models/config.py`). Read from `forward`
    # unless the class declares them, where its `forward` differs from Keras's `call` (Dropout's
    # `training` defaults to False in Keras, to None here: the module's mode).
    _keras_call_arguments: dict = {}
    # Whether Keras's call converts the inputs (a copy of the call's arguments): not for
    # RandomFlip, RandomCrop and Pipeline, whose saved graphs record `training` on any input.
    _keras_converts_inputs = True
    # Whether a call may take settings positionally (`layer(x, 3)`); Keras's and ours refuse
    # them, but for the layers that take raw values and for functional models.
    _allow_non_tensor_positional_args = False
    # Layers that pass an input mask on unchanged (element-wise layers, Dropout, Dense, ...).
    supports_masking = False
    # Whether Keras builds the layer when it is made (Dropout, Activation, pooling, Reshape, ...),
    # so that its saved config records no `build_config`; every other layer records the shapes
    # of its first call (Flatten, Rescaling, a user's call-only layer).
    _built_when_made = False
    # Layers that compute in floats from integer inputs too, where Keras's ops promote them
    # (Dense, the RNNs, the normalizations): their integer inputs are cast to the compute dtype.
    _casts_integer_inputs = False
    # An InputSpec (or a structure of them) that inputs must fit: checked on symbolic calls and on
    # the first call on data, never on the hot path.
    input_spec = None
    # Whether calls follow the dtype policy (cast inputs, weights and outputs). Models do not:
    # their layers do, each by its own policy, as in Keras. Neither do operations and inputs.
    _follows_dtype_policy = True
    # Whether a plain torch module assigned as an attribute is wrapped in a TorchModuleWrapper.
    _wraps_torch_modules = True
    # Whether the layer makes a mask of its own (Embedding(mask_zero=True), Masking), found on
    # its first eager call (None until then); and whether any eager call has put a mask on a
    # tensor yet. Until then, calls on tensors need not look at their input's attributes.
    _makes_masks = None
    _eager_masks_seen = False
    # Under a mixed policy, run `forward` in float32 (inputs cast up, weights as they are) and
    # return the compute dtype: Keras's normalization and embedding layers compute so.
    _mixed_computes_in_float32 = False

    def __new__(cls, *args, **kwargs):
        layer = super().__new__(cls)
        if _takes_automatic_config(cls):
            vars(layer)["_automatic_config"] = _constructor_arguments(cls, args, kwargs)
        return layer

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Keras users write `call`; torch runs `forward`. A subclass may define either.
        if "call" in cls.__dict__ and "forward" not in cls.__dict__:
            cls.forward = cls.__dict__["call"]
        elif "forward" in cls.__dict__ and "call" not in cls.__dict__:
            # So that a subclass's `call` can reach its parent's with `super().call(...)`.
            cls.call = cls.__dict__["forward"]
        # `layer.build(shape)` called by hand marks the layer built, as in Keras.
        if "build" in cls.__dict__:
            cls.build = _marks_built(cls.__dict__["build"])
        parameters = inspect.signature(cls.forward).parameters
        cls._accepts_training = "training" in parameters
        cls._accepts_mask = "mask" in parameters
        # The arguments with a `<name>_mask` partner (MultiHeadAttention's query, value, key).
        cls._masked_arguments = tuple(name[:-5] for name in parameters
                                      if name.endswith("_mask") and name[:-5] in parameters)
        if "forward" in cls.__dict__ and "_keras_call_arguments" not in cls.__dict__:
            cls._keras_call_arguments = {
                name: None if parameters[name].default is inspect.Parameter.empty
                else parameters[name].default
                for name in ("training", "mask") if name in parameters
            }

    def __init__(
        self,
        *,
        trainable: bool = True,
        name: str | None = None,
        dtype=None,
        autocast: bool = True,
        input_shape=None,
        input_dim: int | None = None,
        activity_regularizer=None,
        **kwargs,
    ):
        if kwargs:
            self._reject_unknown_kwargs(kwargs)
        super().__init__()
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"Expected a non-empty name without '/'. Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.autocast = bool(autocast)
        # The settings of the RematScope open when the layer is made (`remat.RematMode`, or
        # None): as in Keras, they decide, not the scope open at a call.
        self._remat_mode = remat_module.current_remat_mode()
        self._set_dtype_policy(dtype_policies.get(dtype),
                               mixed_session=dtype_policies.dtype_policy().name != "float32")
        self._trainable = bool(trainable)
        self.built = False
        self._inbound_nodes: list[Node] = []
        self._weight_names: list[str] = []  # in creation order
        self._unnamed_weights: set[str] = set()  # made without a name: renamed when assigned
        self._uncast_weights: set[str] = set()  # made with autocast=False
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._activity_losses: list[torch.Tensor] = []
        self._loss_hooks = None
        if self.activity_regularizer is not None:
            self._track_losses()
        if input_dim is not None:
            input_shape = (input_dim,)
        self._input_shape_arg = None if input_shape is None else tuple(input_shape)
        # Keras layers run in inference mode unless training says otherwise (fit switches it).
        self.train(False)

    def _reject_unknown_kwargs(self, kwargs: dict) -> None:
        known = set(inspect.signature(type(self).__init__).parameters) | set(
            inspect.signature(Layer.__init__).parameters
        )
        known -= {"self", "kwargs"}
        raise unknown_argument_error(type(self).__name__, next(iter(kwargs)), known)

    # ------------------------------------------------------------------ dtype policy

    def _set_dtype_policy(self, policy: dtype_policies.DTypePolicy, mixed_session=False) -> None:
        """Take `policy`, and wrap `forward` to follow it if it casts anything (see the class
        docstring); `mixed_session`: the layer is made while the global policy is not float32,
        so its inputs may come in another float dtype."""
        self._dtype_policy = policy
        self._variable_dtype = policy._variable
        self.dtype = dtype_policies.KerasDType(policy._variable)
        self._compute_dtype = policy._compute
        follows = type(self)._follows_dtype_policy and policy._compute.is_floating_point and (
            policy.is_mixed or policy.name != "float32" or mixed_session
        )
        self._follow_policy(follows)

    def _follow_policy(self, follows: bool) -> None:
        mixed = self._dtype_policy.is_mixed
        in_float32 = mixed and type(self)._mixed_computes_in_float32
        # The dtypes the wrapped forward casts floating inputs and outputs to (None: leave them),
        # and whether it reads the weights in the compute dtype.
        self._inputs_dtype = None if not self.autocast else (
            self._variable_dtype if in_float32 else self._compute_dtype)
        self._outputs_dtype = self._compute_dtype if self.autocast else None
        self._casts_weights = mixed and self.autocast and not in_float32
        self._policy_wrapped = follows
        # A RematScope's wrapper goes around the policy's: its recomputation then casts the
        # weights again.
        forward = functools.partial(_forward_in_policy if follows else type(self).forward, self)
        forward = remat_module.rematerialized_forward(self, forward) or (
            forward if follows else None)
        if forward is not None:
            self.forward = forward
        else:
            self.__dict__.pop("forward", None)

    @property
    def path(self) -> str | None:
        """Where the layer was built: the open name scopes and the layers it was built inside,
        then its name (`"model/block/dense"`); None until it is built, and for layers that need
        no building (`Activation`, `Dropout`, `InputLayer`), as in Keras."""
        return vars(self).get("_path")

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's `DTypePolicy`; settable (before the weights are made) by name or policy."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        self._set_dtype_policy(dtype_policies.get(value), mixed_session=self._policy_wrapped)

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in and returns, as a name (`"float16"`)."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights, as a name (`"float32"`)."""
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype the layer casts its floating inputs to."""
        return dtype_policies.dtype_name(self._inputs_dtype or self._compute_dtype)

    # ------------------------------------------------------------------ weights

    def build(self, input_shape) -> None:
        """Create the layer's weights for inputs of `input_shape` (batch dimension included)."""

    def forward(self, *args, **kwargs):
        """The layer's computation; a subclass defines it as `call` (or `forward`)."""
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `call` method implemented. "
            "Define `call(self, inputs)` in the subclass.")

    def add_weight(
        self,
        *args,
        shape=None,
        initializer=None,
        dtype=None,
        trainable: bool = True,
        regularizer=None,
        constraint=None,
        name: str | None = None,
        linear_in_axes: int = 0,
        autocast: bool = True,
        aggregation: str = "none",
    ) -> Variable:
        """Create a weight of Keras shape `shape`, as Keras's `add_weight`, stored as
        `self.<name>` and returned (a `Variable`).

        Args:
            shape: the weight's shape (`()` by default). Also the first positional argument, as
                in Keras 3; Keras 2's order `(name, shape, dtype, initializer, regularizer,
                trainable, constraint)` is accepted too.
            initializer: `"glorot_uniform"` for float weights by default, `"zeros"` for others.
            dtype: the layer's by default (a counter may be `"int32"`, as in Keras).
            trainable: a `nn.Parameter` (True) or a buffer (False).
            regularizer, constraint: applied in training, by name or object (kept as the
                variable's `regularizer` and `constraint`).
            name: the attribute; without one the weight is `variable`, `variable_1`, ... until
                it is assigned to an attribute (`self.w = self.add_weight(...)`), which then
                names it.
            linear_in_axes: with `k`, the first `k` axes are a linear map's input and the rest
                its output: the weight keeps its Keras shape in the memory order of torch's
                `(out, in)` Linear weight, so that `linear_weight(w, k)` hands it to `F.linear`
                or a fused kernel without a copy.
            autocast: False keeps the weight in its own dtype when a layer under a mixed
                policy runs (the weights are otherwise read in the compute dtype).
            aggregation: accepted for compatibility (`fit` updates every weight where it lives).
        """
        if args:
            legacy = ("name", "shape", "dtype", "initializer", "regularizer", "trainable",
                      "constraint") if isinstance(args[0], str) else ("shape", "initializer")
            if len(args) > len(legacy):
                raise TypeError(f"add_weight takes at most {len(legacy)} positional arguments "
                                f"({', '.join(legacy)}); received {len(args)}.")
            given = dict(zip(legacy, args))
            shape = given.get("shape", shape)
            initializer = given.get("initializer", initializer)
            dtype = given.get("dtype", dtype)
            trainable = given.get("trainable", trainable)
            regularizer = given.get("regularizer", regularizer)
            constraint = given.get("constraint", constraint)
            name = given.get("name", name)
        shape = () if shape is None else tuple(shape) if isinstance(shape, (tuple, list)) else (
            shape,)
        dtype = self._variable_dtype if dtype is None else _dtype(dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating_point else "zeros"
        if name is None:
            name = unique_weight_name(self, "variable")
            self._unnamed_weights.add(name)
        # 16-bit weights are drawn in float32 (torch's CPU kernels lack some, such as the QR
        # decomposition of the orthogonal initializer), then rounded.
        draw = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
        value = initializers_module.get(initializer)(shape, dtype=draw).to(dtype)
        if linear_in_axes:
            value = linear_weight(value, linear_in_axes).contiguous().T.reshape(value.shape)
        # Keras variables carry their path ("dense/kernel"); so do ours.
        weight = as_variable(value, trainable=trainable, path=_weight_path(self, name))
        if trainable:
            # An integer weight cannot take gradients; it is still listed as trainable, as in Keras.
            weight.trainable = self._trainable
            self.register_parameter(name, weight)
        else:
            self.register_buffer(name, weight)
        self._weight_names.append(name)
        if not autocast:
            self._uncast_weights.add(name)
        if regularizer is not None:
            weight.regularizer = regularizers_module.get(regularizer)
        if constraint is not None:
            weight.constraint = constraints_module.get(constraint)
        return weight

    def add_variable(self, shape, initializer, dtype=None, trainable=True, autocast=True,
                     regularizer=None, constraint=None, name=None) -> torch.Tensor:
        """Keras 3's other spelling of `add_weight`, with shape and initializer required."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype,
                               trainable=trainable, autocast=autocast, regularizer=regularizer,
                               constraint=constraint, name=name)

    def __setattr__(self, name: str, value) -> None:
        # `self.w = self.add_weight(shape=...)`, Keras's idiom: the weight takes the name `w`.
        unnamed = self.__dict__.get("_unnamed_weights")
        if unnamed and isinstance(value, torch.Tensor) and name not in self.__dict__:
            old = next((n for n in unnamed
                        if self._parameters.get(n) is value or self._buffers.get(n) is value), None)
            if old is not None:
                self._rename_weight(old, name)
                return
        if type(value) in _TRACKABLE and "_modules" in self.__dict__ and not _set_by_netknit(
                ) and tracking.should_track(value, name):
            # As in Keras: a list, dict or tuple of layers is tracked, its layers sublayers and
            # its variables the layer's weights (in `weights` where the container was assigned).
            # (Not netknit's own lists of layers, its bookkeeping: it registers them otherwise.)
            value = tracking.wrap(value)
            self._modules[name] = tracking.modules_of(value)
            object.__setattr__(self, name, value)
            if name not in self._weight_names:
                self._weight_names.append(name)
            return
        if name in self.__dict__ and name in self.__dict__.get("_modules", ()):
            # A tracked list or dict replaced: its torch side goes with it.
            self._untrack_container(name)
        if isinstance(value, Variable) and "_weight_names" in self.__dict__ and not (
                _set_by_netknit()) and all(
                w is not value for w in self._own_weights(True) + self._own_weights(False)):
            # As in Keras: a variable assigned to an attribute (`self.scale = keras.Variable(1.0)`)
            # is one of the layer's weights. (netknit's layers make theirs with `add_weight`.)
            self._track_variable(name, value)
            return
        if isinstance(value, nn.Module) and self._wraps_torch_modules and not isinstance(
                value, (Layer, nn.ModuleList, nn.ModuleDict)):
            # As in Keras: a plain torch module held by a layer is wrapped, so that its
            # parameters are the layer's weights (listed, frozen, saved).
            from .torch_module_wrapper import TorchModuleWrapper

            value = TorchModuleWrapper(value)
        elif isinstance(value, torch.Tensor) and not isinstance(value, Variable):
            # A plain tensor in place of a weight (`load_state_dict(..., assign=True)`,
            # `layer.kernel = nn.Parameter(...)`) stays a variable, path and regularizer kept.
            old = self.__dict__["_parameters"].get(name, self.__dict__["_buffers"].get(name))
            if isinstance(old, Variable):
                value = rewrapped(old, value)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__ and name in self.__dict__.get("_modules", ()):
            self._untrack_container(name)  # a tracked list or dict, and its torch side
            return
        if name in self.__dict__.get("_weight_names", ()):
            self._weight_names.remove(name)  # a weight: no longer listed
        super().__delattr__(name)

    def _untrack_container(self, name: str) -> None:
        del self._modules[name]
        object.__delattr__(self, name)
        self._weight_names.remove(name)

    def _track_variable(self, name: str, variable: Variable) -> None:
        """Make `variable` one of the layer's own weights, stored as `self.<name>`."""
        for store in (self._parameters, self._buffers, self.__dict__):
            store.pop(name, None)
        if isinstance(variable, nn.Parameter):
            self.register_parameter(name, variable)
        else:
            self.register_buffer(name, variable)
        if name not in self._weight_names:
            self._weight_names.append(name)

    def _rename_weight(self, old: str, new: str) -> None:
        self._unnamed_weights.discard(old)
        if old in self._parameters:
            self.register_parameter(new, self._parameters.pop(old))
        else:
            self.register_buffer(new, self._buffers.pop(old))
        self._weight_names[self._weight_names.index(old)] = new
        if old in self._uncast_weights:
            self._uncast_weights = (self._uncast_weights - {old}) | {new}

    def _own_weight_entries(self, trainable: bool) -> list[tuple[nn.Module, str]]:
        """(owner, attribute) of the layer's own trainable (or non-trainable) weights, in
        creation order (the variables in a tracked list or dict where it was assigned)."""
        entries = []
        for n in self._weight_names:
            container = self._modules.get(n)
            if container is not None:
                entries.extend(container.variable_entries(trainable))
            elif (n in self._parameters) == trainable:
                entries.append((self, n))
        return entries

    def _own_weights(self, trainable: bool) -> list[torch.Tensor]:
        return [getattr(owner, n) for owner, n in self._own_weight_entries(trainable)]

    def _apply(self, fn, recurse=True):
        # `.to()`, `.double()`, `.cuda()`: torch puts what `fn` returns in place of a buffer (and
        # of a parameter it cannot update in place), a plain tensor: keep the weights variables.
        before = {n: w for store in (self._parameters, self._buffers)
                  for n, w in store.items() if isinstance(w, Variable)}
        super()._apply(fn, recurse)
        for store in (self._parameters, self._buffers):
            for n, old in before.items():
                if n in store and store[n] is not old:
                    store[n] = rewrapped(old, store[n])
        return self

    @property
    def metrics(self) -> list:
        """The metrics the layer holds as attributes, then those of its sublayers, as Keras
        lists them (`self.accuracy = keras.metrics.BinaryAccuracy()` in an endpoint layer)."""
        return self._held_metrics() + [m for layer in self._sublayers() for m in layer.metrics]

    def _held_metrics(self) -> list:
        from ..metrics import Metric  # metrics.py imports this module

        return [value for value in vars(self).values() if isinstance(value, Metric)]

    def _sublayers(self) -> list["Layer"]:
        found = [m for m in self._modules.values() if isinstance(m, Layer)]
        if any(isinstance(m, tracking.ContainerModules) for m in self._modules.values()):
            # The layers of tracked lists and dicts, in attribute order, each once (as Keras's).
            found, seen = [], set()
            for m in self._modules.values():
                if isinstance(m, tracking.ContainerModules):
                    m.flat_layers(found, seen)
                elif isinstance(m, Layer) and id(m) not in seen:
                    seen.add(id(m))
                    found.append(m)
        return found

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weights: own trainable, own non-trainable, then each sublayer's, without repeats."""
        return _unique(
            self._own_weights(True)
            + self._own_weights(False)
            + [w for layer in self._sublayers() for w in layer.weights]
        )

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        """The weights that train: none when this layer is frozen; else each layer's own
        trainable weights where that layer's `trainable` is set (a layer unfrozen inside a frozen
        block trains, as Keras's per-weight flags make it), in `weights` order."""
        if not self._trainable:
            return []
        return _unique(self._weights_marked_trainable())

    def _weights_marked_trainable(self) -> list[torch.Tensor]:
        # A variable set `trainable = False` on its own (LoRA's frozen kernel) stays a parameter
        # in `weights` order, as in Keras, but no longer trains.
        own = [w for w in self._own_weights(True) if getattr(w, "trainable", True)] \
            if self._trainable else []
        return own + [w for layer in self._sublayers() for w in layer._weights_marked_trainable()]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        if not self._trainable:
            return self.weights
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def variables(self) -> list[torch.Tensor]:
        return self.weights

    @property
    def trainable_variables(self) -> list[torch.Tensor]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[torch.Tensor]:
        return self.non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze this layer and every layer inside it."""
        value = bool(value)
        for module in self.modules():
            if isinstance(module, Layer):
                module._trainable = value
                for owner, name in module._own_weight_entries(True):
                    weight = owner._parameters[name]
                    if isinstance(weight, Variable):
                        weight.trainable = value
                    elif weight.is_floating_point():  # a wrapped torch module's
                        weight.requires_grad_(value)

    def _weight_entries(self) -> list[tuple["Layer", str]]:
        """(owner, name) for each weight, in `weights` order, without repeats."""
        entries, seen = [], set()

        def visit(layer: Layer):
            for trainable in (True, False):
                for owner, n in layer._own_weight_entries(trainable):
                    tensor = getattr(owner, n)
                    if id(tensor) not in seen:
                        seen.add(id(tensor))
                        entries.append((owner, n))
            for sub in layer._sublayers():
                visit(sub)

        visit(self)
        return entries

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, in Keras's order."""
        arrays = []
        for owner, n in self._weight_entries():
            value = dtype_policies.to_numpy(getattr(owner, n))
            arrays.append(value.copy(order="C"))  # as Keras's: C order
        return arrays

    def set_weights(self, weights: list) -> None:
        """Set the weights from NumPy arrays in Keras's order (as `get_weights` gives them)."""
        entries = self._weight_entries()
        expected = [(f"{getattr(o, 'name', type(o).__name__)}/{n}", tuple(getattr(o, n).shape))
                    for o, n in entries]
        weights = list(weights)
        if len(weights) != len(entries):
            listing = ", ".join(f"{n} {format_shape(s)}" for n, s in expected) or "none"
            raise ValueError(
                f"Layer '{self.name}' expects {len(entries)} weight arrays ({listing}); "
                f"received {len(weights)}."
            )
        # Keras gives bfloat16 weights as ml_dtypes arrays, which torch does not read.
        weights = [np.asarray(w, np.float32) if np.asarray(w).dtype.name == "bfloat16" else w
                   for w in weights]
        for (label, shape), value in zip(expected, weights):
            value = np.asarray(value)
            if tuple(value.shape) != shape:
                raise ValueError(
                    f"Weight {label} has shape {format_shape(shape)} in Keras's layout; received "
                    f"an array of shape {format_shape(value.shape)}."
                )
        with torch.no_grad():
            for (owner, n), value in zip(entries, weights):
                target = getattr(owner, n)
                target.copy_(torch.as_tensor(np.asarray(value), dtype=target.dtype))

    def count_params(self) -> int:
        """The number of scalars in all weights (trainable and not)."""
        if not self.built:
            raise ValueError(
                f"Layer '{self.name}' is not built yet, so it has no weights to count. Call it on "
                "an input first, or build it with `layer.build(input_shape)`."
            )
        return int(sum(w.numel() for w in self.weights))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties of this layer and the layers inside it, as scalar tensors."""
        penalties = []
        for layer in self.modules():
            if isinstance(layer, Layer):
                penalties.extend(layer._activity_losses)
                if layer.trainable:  # as Keras: a frozen layer's weights add no penalty
                    penalties.extend(w.regularizer(w) for w in layer._parameters.values()
                                     if getattr(w, "regularizer", None) is not None)
        return penalties

    def add_loss(self, value: torch.Tensor) -> None:
        """Add a penalty computed in `forward` (kept until the next call of the layer)."""
        self._track_losses()
        self._activity_losses.append(value)

    def _track_losses(self) -> None:
        """Hooks that reset this layer's penalties at each call and add its activity penalty.

        Hooks run on every path into the layer (a direct call, a model's forward, DDP), and
        layers without penalties have none, so their calls pay nothing.
        """
        if self._loss_hooks is None:
            self._loss_hooks = (
                self.register_forward_pre_hook(_clear_penalties),
                self.register_forward_hook(_add_activity_penalty),
            )

    def stateless_call(self, trainable_variables, non_trainable_variables, *args,
                       return_losses: bool = False, **kwargs):
        """Call the layer with the given weight values, leaving its weights unchanged.

        Args:
            trainable_variables: values for `self.trainable_variables`, in that order.
            non_trainable_variables: values for `self.non_trainable_variables`, in that order.
            *args, **kwargs: the call's arguments.
            return_losses: also return the losses of the call (`self.losses`, computed with
                the given values).

        Returns:
            `(outputs, non_trainable_variables)`: the updated values of the non-trainable
            weights (moving statistics, ...); `(outputs, non_trainable_variables, losses)` with
            `return_losses`. Write them back with `v.assign(value)` to keep them.

        >>> outputs, state = model.stateless_call(model.trainable_variables,
        ...                                       model.non_trainable_variables, x)
        """
        return scopes.stateless_call(self, trainable_variables, non_trainable_variables, *args,
                                     return_losses=return_losses, **kwargs)

    # ------------------------------------------------------------------ calling

    def __call__(self, *args, **kwargs):
        try:
            # The hot path: a built layer called on one tensor of its compute dtype (or not
            # floating) is a plain torch module call, unless masks travel on eager tensors (see
            # `_eager_call`).
            if self.built and not kwargs and len(args) == 1 and isinstance(
                    args[0], torch.Tensor) and (
                    args[0].dtype is self._compute_dtype
                    or not (args[0].is_floating_point() or self._casts_integer_inputs)) and (
                    self._makes_masks is False
                    and not (Layer._eager_masks_seen and "_keras_mask" in args[0].__dict__)):
                return nn.Module.__call__(self, *args)
            if not args:
                args, kwargs = self._first_argument_named(kwargs)
            return self._dispatch_call(args, kwargs)
        except RuntimeError as error:
            self._explain_failed_call(args, error)
            raise

    def _first_argument_named(self, kwargs: dict) -> tuple[tuple, dict]:
        """A call that names its first argument, as Keras's may (`mha(query=q, value=v)`), as
        `(args, kwargs)` with that argument first, where calls look for the inputs."""
        parameters = list(inspect.signature(type(self).forward).parameters)[1:]
        if not parameters or parameters[0] not in kwargs:
            return (), kwargs
        kwargs = dict(kwargs)
        return (kwargs.pop(parameters[0]),), kwargs

    def _explain_failed_call(self, args: tuple, error: RuntimeError) -> None:
        """Raise the ShapeError this layer's shape rule gives for the failed call's inputs.

        Built layers are not checked on calls (the hot path), so a wrong size fails in torch's
        kernels, whose message names neither the layer nor a fix; Keras's input spec raises a
        ValueError there. Returns when the shape rule finds nothing wrong.
        """
        try:
            inputs = nest.map_structure(self._to_tensor, args[0])
            if self.input_spec is not None:
                check_input_spec(self, self.input_spec, inputs)
            if type(self).compute_output_shape is not Layer.compute_output_shape:
                self.compute_output_shape(nest.map_structure(lambda t: tuple(t.shape), inputs))
        except ShapeError as shape_error:
            raise shape_error.attach(self, []) from error
        except Exception:  # the shape rule could not judge these inputs; torch's error stands
            return

    def _dispatch_call(self, args: tuple, kwargs: dict):
        # 1. Keras allows `training=` and `mask=` on every layer; drop them where forward
        # does not take them.
        if ("training" in kwargs and not self._accepts_training) or (
            "mask" in kwargs and not self._accepts_mask
        ):
            kwargs = {
                k: v for k, v in kwargs.items()
                if (k != "training" or self._accepts_training)
                and (k != "mask" or self._accepts_mask)
            }
        if not args:
            raise TypeError(f"Layer '{self.name}' was called without inputs.")
        if not self._allow_non_tensor_positional_args:
            self._check_positional_arguments(args)
        leaves = nest.flatten(args[0])
        # 2. Symbolic inputs record a node and compute nothing.
        if any(isinstance(t, SymbolicTensor) for t in leaves):
            return self._symbolic_call(args, kwargs)
        # 3. Convert the arrays in every argument to tensors once, at the edge, and floating
        # tensors of another dtype to the compute dtype, as Keras's autocast does (a layer that
        # computes in float32 under a mixed policy casts them back in `_forward_in_policy`).
        args = nest.map_structure(self._to_tensor, args)
        if kwargs:
            kwargs = nest.map_structure(self._to_tensor, kwargs)
        if self._casts_integer_inputs:
            args = (_cast_floating(args[0], self._compute_dtype, integers=True),) + args[1:]
        inputs = args[0]
        # 4. Check the input_spec and build from the real shapes on the first call.
        if not self.built:
            if self.input_spec is not None:
                try:
                    check_input_spec(self, self.input_spec, inputs)
                except ShapeError as error:
                    raise error.attach(self, []) from None
            device = next((t.device for t in nest.flatten(inputs) if torch.is_tensor(t)), None)
            with building(self):  # the layers inside are built in this first call
                self._build_once(nest.map_structure(
                    lambda t: None if t is None else tuple(t.shape), inputs))
                if device is not None:
                    self.to(device)
                return self._eager_call(args, kwargs)
        # 5. Compute.
        return self._eager_call(args, kwargs)

    def _eager_call(self, args: tuple, kwargs: dict):
        """Compute, with Keras's masks on eager tensors: an input's `_keras_mask` is the call's
        `mask` (unless one is given), and the output gets the mask `compute_mask` gives, so that
        `lstm(embedding(tokens))` in a subclassed model skips the padding, as in Keras."""
        mask = kwargs.get("mask")
        if mask is None:
            mask = _keras_mask_of(args[0])
            if self._masked_arguments and Layer._eager_masks_seen:
                kwargs = self._with_argument_masks(args, kwargs, mask)
            elif mask is not None and self._accepts_mask:
                kwargs = {**kwargs, "mask": mask}
        outputs = nn.Module.__call__(self, *args, **kwargs)
        if self._makes_masks is None:
            self._makes_masks = self.produces_mask(False)
        if self.produces_mask(mask is not None):
            output_mask = self.compute_mask(args[0], mask)
            if output_mask is not None:
                # A layer of several outputs (a split) gives one mask per output, as Keras's do.
                tensors = [outputs] if isinstance(outputs, torch.Tensor) else nest.flatten(outputs)
                masks = [output_mask] if isinstance(outputs, torch.Tensor) else nest.flatten(
                    output_mask)
                for tensor, tensor_mask in zip(tensors, masks):
                    if isinstance(tensor, torch.Tensor) and tensor_mask is not None:
                        tensor._keras_mask = tensor_mask
                Layer._eager_masks_seen = True  # from now on, calls look for masks
        return outputs

    def _with_argument_masks(self, args: tuple, kwargs: dict, mask) -> dict:
        """`kwargs` with the masks Keras fills in: for a call on several tensor arguments, each
        `<name>_mask` not given takes its argument's `_keras_mask` (and `mask` is left out);
        for a call on one, `mask` takes it."""
        try:
            bound = inspect.signature(type(self).forward).bind_partial(
                self, *args, **kwargs).arguments
        except TypeError:
            return kwargs  # the call itself then says what is wrong
        tensors = {name: value for name, value in list(bound.items())[1:]
                   if any(isinstance(t, torch.Tensor) for t in nest.flatten(value))}
        if len(tensors) < 2:
            return {**kwargs, "mask": mask} if mask is not None and self._accepts_mask else kwargs
        filled = {f"{name}_mask": _keras_mask_of(tensors[name]) for name in self._masked_arguments
                  if name in tensors and bound.get(f"{name}_mask") is None}
        return {**kwargs, **{name: m for name, m in filled.items() if m is not None}}

    def _to_tensor(self, value):
        """An argument of an eager call as the layer takes it: an array (NumPy's, or anything
        with `__array__`) as a tensor, a floating tensor in the compute dtype where the layer
        autocasts; other values (settings, None) as they are, as Keras converts them."""
        if not isinstance(value, torch.Tensor):
            if not hasattr(value, "__array__"):
                return value
            from ..ops.core import as_array  # ops build on layers

            array = as_array(value)
            if array.dtype.kind not in "fiubc":
                raise TypeError(
                    f"Layer '{self.name}' cannot be called on {type(value).__name__} data of "
                    f"dtype {array.dtype}. Pass a torch tensor, a NumPy array, or a symbolic "
                    "tensor from Input().")
            value = torch.as_tensor(array)
        if self.autocast and value.is_floating_point() and value.dtype != self._compute_dtype:
            cast = value.to(self._compute_dtype)
            if "_keras_mask" in value.__dict__:  # the mask travels with the data, as in Keras
                cast._keras_mask = value._keras_mask
            return cast
        return value

    def _check_positional_arguments(self, args: tuple) -> None:
        """Raise Keras's error for a positional argument that is not a tensor, an array or None:
        anything else is a setting (`training`, ...), which goes by keyword."""
        for index, arg in enumerate(args):
            for leaf in nest.flatten(arg):
                if leaf is None or isinstance(leaf, (torch.Tensor, SymbolicTensor)) or hasattr(
                        leaf, "__array__"):
                    continue
                parameters = [p.name for p in inspect.signature(type(self).forward).parameters
                              .values() if p.kind is p.POSITIONAL_OR_KEYWORD][1:]  # after self
                named = leaf is arg and 0 < index < len(parameters)
                example = f", e.g. {parameters[index]}={leaf!r}" if named else ""
                raise ValueError(
                    f"Only input tensors may be passed as positional arguments to layer "
                    f"'{self.name}'; received {leaf!r} (of type {type(leaf).__name__}). Pass "
                    f"inputs as tensors or arrays and other values as keyword arguments{example}.")

    def _check_keyword_arguments(self, kwargs: dict) -> None:
        """Raise Python's TypeError for a keyword argument `forward` does not take, as Keras's
        symbolic call does: the recorded call would keep it, and only running the model fail."""
        if not kwargs:
            return
        parameters = inspect.signature(type(self).forward).parameters
        if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            return
        for name in kwargs:
            if name not in parameters:
                takes = ", ".join(list(parameters)[2:]) or "no keyword arguments"
                raise TypeError(
                    f"Layer '{self.name}' ({type(self).__name__}) got an unexpected keyword "
                    f"argument '{name}'. Besides its inputs, its call takes: {takes}.")

    def _build_once(self, input_shape) -> None:
        # Recorded for the saved build_config, also for a layer without a `build` of its own.
        self.__dict__.setdefault("_build_shapes", ((input_shape,), {}))
        # Real weights also for a layer first called in a shape inference on fake tensors.
        with building(self), unset_fake_temporarily():
            self.build(_map_shapes(tuple, input_shape))
        self.built = True

    def _symbolic_call(self, args: tuple, kwargs: dict):
        self._check_keyword_arguments(kwargs)
        inputs = args[0]
        symbolic = [t for t in nest.flatten((args, kwargs)) if isinstance(t, SymbolicTensor)]
        try:
            if self.input_spec is not None:
                check_input_spec(self, self.input_spec, inputs)
            with building(self) if not self.built else contextlib.nullcontext():
                output_shape = self._symbolic_output_shape(args, kwargs)
        except ShapeError as error:
            raise error.attach(self, symbolic) from None
        # Shape inference may have run `forward` on stand-ins: the penalties it added are not
        # the model's (Keras's `model.losses` is empty until a real call).
        for layer in self.modules():
            if isinstance(layer, Layer) and layer._activity_losses:
                layer._activity_losses = []
        dtype = self._symbolic_output_dtype(inputs)
        if is_shape(output_shape):
            outputs = SymbolicTensor(output_shape, dtype, name=f"{self.name}/output")
        else:
            shapes = _shape_leaves(output_shape)
            dtypes = dtype if isinstance(dtype, list) else [dtype] * len(shapes)
            tensors = [
                SymbolicTensor(shape, dtype, name=f"{self.name}/output_{i}")
                for i, (shape, dtype) in enumerate(zip(shapes, dtypes))
            ]
            outputs = _pack_shapes(output_shape, tensors)
        kwargs = self._set_symbolic_masks(args, kwargs, outputs)
        Node(self, args, kwargs, outputs)
        return outputs

    def _set_symbolic_masks(self, args: tuple, kwargs: dict, outputs) -> dict:
        """Give the outputs of a symbolic call their masks, and return the call's `kwargs` as
        its node keeps them.

        As Keras's call does, the input's mask (`_keras_mask`, a symbolic tensor that operations
        in the graph compute) is the layer's `mask` argument unless one is given, and is kept with
        the call where Keras keeps it (then the graph computes it, and the model's run hands it
        over); the output masks are `compute_mask` run on the symbolic tensors, which records its
        operations. Where the mask is known only when data flows (a user's `compute_mask`, a
        nested model), `has_mask` still says that one travels, and the model computes it then.
        """
        inputs = args[0]
        masked = [t for t in nest.flatten(inputs) if isinstance(t, SymbolicTensor) and t.has_mask]
        mask = kwargs.get("mask")
        if mask is None and masked:
            mask = nest.map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)
            from ..models.config import keeps_call_kwargs  # models build on layers

            if self._accepts_mask and keeps_call_kwargs(self, args, kwargs) and any(
                    m is not None for m in nest.flatten(mask)):
                kwargs = {**kwargs, "mask": mask}
        has_mask = self.produces_mask(bool(masked) or mask is not None)
        known = has_mask and all(t._keras_mask is not None for t in masked)
        output_masks = self._symbolic_mask(inputs, mask) if known else NotImplemented
        if output_masks is NotImplemented:
            for tensor in nest.flatten(outputs):
                tensor.has_mask = has_mask
            return kwargs
        for tensor, output_mask in zip(nest.flatten(outputs), nest.flatten(output_masks)):
            tensor._keras_mask = output_mask
            tensor.has_mask = output_mask is not None
        return kwargs

    def _symbolic_mask(self, inputs, mask):
        """The output mask(s) of a symbolic call for the input `mask`, or `NotImplemented` where
        only data tells: a user's `compute_mask` may use torch functions that need real tensors,
        where Keras's would use `keras.ops`."""
        owner = next(c for c in type(self).__mro__ if "compute_mask" in c.__dict__)
        return NotImplemented if _users_class(owner) else self.compute_mask(inputs, mask)

    def _symbolic_output_shape(self, args: tuple, kwargs: dict):
        """Build if needed, then infer the output shape(s) of a call on symbolic `args`/`kwargs`.

        Layers whose shapes depend on more than the first argument (`MultiHeadAttention`'s
        `value`, `return_attention_scores=True`) override this.
        """
        input_shape = _shapes_of(args[0])
        if not self.built:
            self._build_once(input_shape)
        masked = self._accepts_mask and any(
            t.has_mask for t in nest.flatten(args[0]) if isinstance(t, SymbolicTensor))
        more_inputs = any(isinstance(t, SymbolicTensor) for t in nest.flatten((args[1:], kwargs)))
        default_rule = type(self).compute_output_shape is Layer.compute_output_shape
        if (masked or more_inputs) and default_rule:
            # Run with every symbolic argument, and with a mask for a layer whose call reads it,
            # as Keras's symbolic call does.
            return self._run_for_shapes(input_shape, masked=masked, call=(args, kwargs))
        return self.compute_output_shape(input_shape)

    def _symbolic_output_dtype(self, inputs) -> torch.dtype:
        """`compute_output_dtype`, and the casts of the policy: a layer given floating inputs of
        another dtype than its compute dtype (a float32 layer after mixed ones, made before the
        policy was set or loaded from a config) casts them, as Keras's layers do."""
        if not self._policy_wrapped and type(self)._follows_dtype_policy and any(
            isinstance(t, SymbolicTensor) and t.dtype.is_floating_point
            and t.dtype != self._compute_dtype for t in nest.flatten(inputs)
        ) and self._compute_dtype.is_floating_point:
            self._follow_policy(True)
        dtype = self.compute_output_dtype(inputs)
        if self._policy_wrapped and self._outputs_dtype is not None and (
            dtype.is_floating_point
        ):
            return self._outputs_dtype
        return dtype

    def compute_output_dtype(self, inputs) -> torch.dtype | list[torch.dtype]:
        """The dtype of the outputs, by default the compute dtype (or a list: one per output,
        in `nest.flatten`'s order)."""
        return self._compute_dtype

    def produces_mask(self, input_has_mask: bool) -> bool:
        """Whether the output carries a mask, given whether the input does (graph time). A
        layer with its own `compute_mask` may make one (it can still return None)."""
        if type(self).compute_mask is not Layer.compute_mask and _users_class(type(self)):
            return True
        return input_has_mask and self.supports_masking

    def compute_mask(self, inputs, mask=None):
        """The output mask for `inputs` and input `mask`: real tensors when data flows, or
        symbolic ones when a graph is built, where the `netknit.ops` it calls are recorded (so a
        layer's own rule is written with them, as Keras's are)."""
        return mask if self.supports_masking else None

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape`; by default found by running `forward` twice.

        The run uses zeros with every unknown size set to two different values: output sizes that
        change with them are unknown (`None`) in the result, as in Keras's own inference.
        """
        return self._run_for_shapes(input_shape)

    def _run_for_shapes(self, input_shape, masked: bool = False, call=None):
        """`compute_output_shape`'s default rule. With `call`, the symbolic `(args, kwargs)` of
        a call, every symbolic argument gets a stand-in (a layer of several tensor arguments);
        with `masked`, the call also gets a mask of ones over the first input's axes but the
        last, `(batch, timesteps)`."""
        def run(fill):
            def zeros(shape, dtype=self._variable_dtype):
                dims = [fill[0] if i == 0 and d is None else fill[1] if d is None else d
                        for i, d in enumerate(shape)]
                return torch.zeros(dims, dtype=dtype)

            if call is None:
                args, kwargs = (_map_shapes(zeros, input_shape),), {}
            else:
                args, kwargs = nest.map_structure(
                    lambda t: zeros(t.shape, dtype=t.dtype.torch)
                    if isinstance(t, SymbolicTensor) else t, call)
            if masked:
                first = nest.flatten(args[0])[0]
                kwargs = {**kwargs, "mask": torch.ones(first.shape[:-1], dtype=torch.bool)}
            with torch.no_grad(), stateless(), scopes.SymbolicScope():
                return nn.Module.__call__(self, *args, **kwargs)

        fills = ((2, 83), (3, 89))
        try:
            outs = [run(fill) for fill in fills]
        except Exception as error:
            # Keras runs this call on tensors without data (torch's "meta" device), so a call
            # that reads its stand-ins' values out of bounds still gives shapes: an embedding
            # of the positions `arange(length)` in a table shorter than the stand-in length.
            # Retry so, on fake tensors; a call that needs data raises its first error.
            try:
                with FakeTensorMode(allow_non_fake_inputs=True):
                    outs = [run(fill) for fill in fills]
            except Exception:
                raise error from None
        results = []
        for out in outs:
            leaves = nest.flatten(out)
            if not all(isinstance(leaf, torch.Tensor) for leaf in leaves):
                # An AttributeError, as Keras's inference raises (a leaf without `.shape`).
                what = "None" if out is None else f"a {type(out).__name__} of non-tensors"
                raise AttributeError(
                    f"Could not infer the output shape of layer '{self.name}' "
                    f"({type(self).__name__}): its call returned {what} where tensors were "
                    "expected. Return the output tensor(s) from `call`, or implement "
                    "`compute_output_shape()`.")
            results.append(leaves)
        # A size the two runs agree on is known, the batch size too (Input(batch_shape=...)).
        shapes = [tuple(None if a != b else a for a, b in zip(x.shape, y.shape))
                  for x, y in zip(*results)]
        return shapes[0] if len(shapes) == 1 else shapes

    # ------------------------------------------------------------------ graph facts

    def _first_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            # An AttributeError, as in Keras (`hasattr(layer, "output")` is False); torch's
            # `Module.__getattr__`, which Python then asks, words it "has no attribute".
            raise AttributeError(f"Layer '{self.name}' has no {what}: it has not been called on "
                                 "a symbolic input.")
        return self._inbound_nodes[0]

    @property
    def input(self):
        node = self._first_node("input")
        return node.inputs[0] if len(node.inputs) == 1 else list(node.inputs)

    @property
    def output(self):
        node = self._first_node("output")
        return node.outputs_structure

    @property
    def input_shape(self):
        return _shapes_of(self.input)

    @property
    def output_shape(self):
        return _shapes_of(self.output)

    # ------------------------------------------------------------------ config

    def get_config(self) -> dict:
        """The constructor arguments that recreate this layer (without weights).

        A user's layer without a `get_config` of its own gets, as in Keras, the arguments its
        constructor was called with (defaults included), when they are plain values (numbers,
        strings, None, and lists or dicts of them).
        """
        config = {"name": self.name}
        if _takes_automatic_config(type(self)):
            automatic = self.__dict__.get("_automatic_config")
            if automatic is None:
                raise NotImplementedError(
                    f"Layer {type(self).__name__} has no get_config(), and its constructor "
                    "arguments are not all plain values (numbers, strings, None, lists and dicts "
                    "of them), so they cannot be saved as they are. Define get_config() returning "
                    "{**super().get_config(), 'arg': self.arg, ...}, and from_config() for "
                    "arguments that need rebuilding."
                )
            config.update(automatic)
            if not _init_takes_name(type(self)):
                del config["name"]  # as in Keras: a name the constructor cannot take back
        config.update(trainable=self.trainable,
                      dtype=dtype_policies.serialize(self._dtype_policy))
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers_module.serialize(
                self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def get_build_config(self) -> dict | None:
        """The input shapes the layer was built for, as a saved model records them:
        `{"input_shape": (None, 3)}` (or `{"shapes_dict": {...}}`); None before it is built."""
        from ..models.config import build_config_of  # models build on the layers

        return build_config_of(self)

    def build_from_config(self, config: dict) -> None:
        """Build the layer for the shapes of a `get_build_config()` result."""
        from ..saving.serialization import build_from_config  # saving builds on the layers

        build_from_config(self, config)

    def save_own_variables(self, store: dict) -> None:
        """Put the layer's own weights (not its sublayers') in `store` under "0", "1", ...
        (trainable first), as a saved file keeps them. A layer of yours may override this
        (with `load_own_variables`) to save other state; `model.save` and `save_weights` write
        what it puts in `store` (arrays) under the layer's path."""
        for index, weight in enumerate(self._own_weights(True) + self._own_weights(False)):
            store[str(index)] = weight

    def load_own_variables(self, store) -> None:
        """Assign the weights `save_own_variables` put in `store` (a dict of arrays)."""
        weights = self._own_weights(True) + self._own_weights(False)
        if len(store) != len(weights):
            raise ValueError(
                f"Layer '{self.name}' has {len(weights)} weights, but the saved file holds "
                f"{len(store)} arrays for it ({sorted(store)}). The file was saved from a layer "
                "with other weights; build this layer as that one was before loading.")
        with torch.no_grad():
            for index, weight in enumerate(weights):
                weight.copy_(torch.as_tensor(np.asarray(store[str(index)]), dtype=weight.dtype))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _forward_in_policy(layer: Layer, *args, **kwargs):
    """`layer`'s forward under its dtype policy: floating inputs cast to the compute dtype (or to
    float32 for layers that compute in it), the weights read as compute-dtype copies under a
    mixed policy, and floating outputs cast to the compute dtype.

    The copies stand in for the weights in the modules' own parameter tables for the length of
    the call, as `torch.func.functional_call` swaps weights, so every layer's `forward` reads
    them unchanged; the cast is part of the autograd graph, so the float32 weights get float32
    gradients. Sublayers under the same compute dtype are covered too (an RNN reads its cell's
    weights directly); the weights are put back even when the call fails.
    """
    if layer._inputs_dtype is not None:
        args = _cast_floating(args, layer._inputs_dtype)
        if kwargs:
            kwargs = _cast_floating(kwargs, layer._inputs_dtype)
    swapped = _swap_in_cast_weights(layer) if layer._casts_weights else ()
    try:
        outputs = type(layer).forward(layer, *args, **kwargs)
    finally:
        for store, name, weight in swapped:
            store[name] = weight
    if layer._outputs_dtype is None:
        return outputs
    return _cast_floating(outputs, layer._outputs_dtype)


def _cast_floating(structure, dtype: torch.dtype, integers: bool = False):
    """Cast the floating tensors in `structure` (and with `integers`, the integer ones too; not
    booleans: masks) to `dtype`."""
    if isinstance(structure, torch.Tensor):
        if structure.dtype != dtype and (structure.is_floating_point() or (
                integers and structure.dtype is not torch.bool and not structure.is_complex())):
            return structure.to(dtype)
        return structure
    if isinstance(structure, (list, tuple, dict)):
        return nest.map_structure(lambda t: _cast_floating(t, dtype, integers), structure)
    return structure


def _swap_in_cast_weights(layer: Layer) -> list:
    """Put compute-dtype copies of the float32 weights of `layer` (and of the modules inside it
    that compute in the same dtype) in place; returns `(table, name, weight)` to put back."""
    dtype, swapped = layer._compute_dtype, []

    def visit(module) -> None:
        uncast = getattr(module, "_uncast_weights", ())
        for table in (module._parameters, module._buffers):
            found = [(name, weight) for name, weight in table.items()
                     if weight is not None and weight.dtype == torch.float32
                     and name not in uncast]
            for name, weight in found:
                swapped.append((table, name, weight))
                table[name] = weight.to(dtype)
        for child in module._modules.values():
            if child is not None and (not isinstance(child, Layer) or _read_in(child, dtype)):
                visit(child)

    visit(layer)
    return swapped


def _read_in(child: Layer, dtype: torch.dtype) -> bool:
    """Whether a sublayer's weights are read in `dtype` within its parent's call: when it casts
    its own the same way, or casts nothing at all (a float32 layer made before the policy was
    set, such as an RNN's cell, whose weights the RNN reads directly). Never those of a layer
    that computes in float32 or does not autocast, nor those of one following another policy."""
    if not child.autocast or type(child)._mixed_computes_in_float32:
        return False
    if not child._policy_wrapped:
        return True
    return child._casts_weights and child._compute_dtype == dtype


def _clear_penalties(layer: Layer, args) -> None:
    layer._activity_losses = []


def _add_activity_penalty(layer: Layer, args, outputs) -> None:
    """Keras's activity penalty: the regularizer of each output, divided by the batch size."""
    if layer.activity_regularizer is not None:
        layer._activity_losses.extend(
            layer.activity_regularizer(t) / t.shape[0]
            for t in nest.flatten(outputs)
            if isinstance(t, torch.Tensor) and t.dim() > 0
        )


def _takes_automatic_config(cls) -> bool:
    """Whether `cls` is a user's layer class that leaves `get_config` to the base class."""
    return cls.get_config is Layer.get_config and _users_class(cls)


@contextlib.contextmanager
def plain_weights(model: nn.Module):
    """Within: the trainable weights of netknit's own layers in `model` are plain tensors (the
    same memory, no gradient), which torch hands to its kernels without the check that a tensor
    subclass costs (about 0.5 µs per weight per operation; W5's eager `predict` is 8% slower
    with it). For inference only; a user's layer keeps its variables, whose API it may call."""
    swapped = []
    for module in model.modules():
        if isinstance(module, Layer) and not _users_class(type(module)):
            weights = module._parameters
            for name, weight in weights.items():
                if isinstance(weight, Variable):
                    weights[name] = weight.detach()
                    swapped.append((weights, name, weight))
    try:
        yield
    finally:
        for weights, name, weight in swapped:
            weights[name] = weight


def _users_class(cls) -> bool:
    """Whether `cls` is defined outside netknit (a user's layer, whose overrides Keras honours
    where netknit's own layers say what they do themselves)."""
    return not cls.__module__.startswith("netknit.")


def _init_takes_name(cls) -> bool:
    """Whether `cls(name=...)` can work, as Keras judges it: `__init__` has a `name` parameter
    or a `**kwargs` one by that very name."""
    parameters = inspect.signature(cls.__init__).parameters
    kwargs = parameters.get("kwargs")
    return "name" in parameters or (kwargs is not None and kwargs.kind is kwargs.VAR_KEYWORD)


def _constructor_arguments(cls, args: tuple, kwargs: dict) -> dict | None:
    """The arguments of `cls(*args, **kwargs)` by name, defaults included, `**kwargs` spread and
    `name` left out; None when they cannot make a config (not plain values, or `*args`)."""
    signature = inspect.signature(cls.__init__)
    parameters = signature.parameters
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(next(iter(parameters)))  # self
    for name, parameter in parameters.items():
        if parameter.kind is parameter.POSITIONAL_ONLY and name in arguments:
            return None
        if parameter.kind is parameter.VAR_POSITIONAL and arguments.pop(name, ()):
            return None
        if parameter.kind is parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(name, {}))
    arguments.pop("name", None)
    for shape_argument in ("input_shape", "input_dim"):  # Keras takes these through **kwargs
        if arguments.get(shape_argument, 0) is None:
            del arguments[shape_argument]
    plain = (str, int, float, bool, type(None))
    if not all(isinstance(v, plain) for v in nest.flatten(arguments)):
        return None
    return arguments


def _keras_mask_of(inputs):
    """The `_keras_mask` an eager call left on `inputs` (a list of them for a list of tensors),
    or None."""
    if isinstance(inputs, torch.Tensor):
        return getattr(inputs, "_keras_mask", None)
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def _set_by_netknit() -> bool:
    """Whether the attribute `Layer.__setattr__` is setting is set by netknit's own code (its
    bookkeeping, which registers what it holds itself), not by a user's."""
    return sys._getframe(2).f_globals.get("__name__", "").startswith("netknit.")


def _marks_built(build):
    @functools.wraps(build)
    def build_and_mark(self, *args, **kwargs):
        # The shapes of the outermost build call: a layer built without a symbolic call records
        # them in its saved `build_config`.
        self.__dict__.setdefault("_build_shapes", (args, kwargs))
        with building(self):  # also by hand: the layers built inside are named under this one
            result = build(self, *args, **kwargs)
        self.built = True
        return result

    return build_and_mark


def _unique(tensors: list) -> list:
    seen, out = set(), []
    for t in tensors:
        if id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def _shapes_of(structure):
    if isinstance(structure, SymbolicTensor):
        return structure.shape
    if isinstance(structure, dict):
        return {k: _shapes_of(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_shapes_of(v) for v in structure]
    return None


def _shape_leaves(structure) -> list:
    if is_shape(structure):
        return [tuple(structure)]
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in _shape_leaves(structure[k])]
    return [leaf for item in structure for leaf in _shape_leaves(item)]


def _map_shapes(fn, structure):
    if structure is None:  # a None among a call's inputs, which Keras passes through
        return None
    if is_shape(structure):
        return fn(tuple(structure))
    if isinstance(structure, dict):
        return {k: _map_shapes(fn, v) for k, v in structure.items()}
    mapped = [_map_shapes(fn, v) for v in structure]
    return tuple(mapped) if isinstance(structure, tuple) else mapped  # Keras's tuples stay


def _pack_shapes(structure, tensors: list):
    iterator = iter(tensors)
    return _map_shapes(lambda s: next(iterator), structure)


def check_rank(shape, rank: int | tuple, expected: str, fix: str) -> None:
    """Raise a ShapeError unless `shape` has `rank` dimensions (an int or a tuple of allowed)."""
    allowed = (rank,) if isinstance(rank, int) else tuple(rank)
    if len(shape) not in allowed:
        raise ShapeError(
            f"It expects a {'- or '.join(str(r) for r in allowed)}-D input {expected}, but "
            f"received a {len(shape)}-D input {format_shape(shape)}.",
            fix=fix,
        )

