"""Functional models: a graph of layer calls, ordered once and run as a straight loop.

`Functional(inputs, outputs)` traces the graph back from the outputs (`graph/trace.py`), keeps the
layers as submodules, and turns each node into a `Step`: which layer to call, where its inputs are
in the value table, where its outputs go, and which values die after it. `forward` then runs the
steps in order, with no code generation and no per-call tree walking for single-input layers.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..graph import nest
from ..graph.errors import ShapeError, did_you_mean
from ..graph.shapes import format_shape
from ..graph.symbolic import SymbolicTensor
from ..graph.trace import cut, trace
from ..layers.input_layer import Input, InputLayer
from ..layers.layer import (
    Layer,
    _cast_floating,
    _shape_leaves,
    _shapes_of,
    building,
    unique_name,
)
from ..ops import is_operation
from ..training.loop import in_loop
from .model import Model


class Step:
    """One node, ready to run: `layer` on the values at `input_keys`, results to `output_keys`."""

    __slots__ = ("layer", "node", "input_keys", "output_keys", "single_input", "list_input",
                 "single_output", "pass_training", "recorded_training", "trains_by_default",
                 "free_after", "masked", "pass_mask", "output_has_mask", "floats_from_integers",
                 "mask_keys", "recorded_mask")

    def __init__(self, node, input_keys, output_keys, pass_training, pass_mask, output_has_mask):
        self.layer = node.layer
        self.node = node
        self.input_keys = input_keys
        self.output_keys = output_keys
        self.single_input = node.single_input
        self.list_input = node.list_input
        self.single_output = len(output_keys) == 1 and isinstance(node.outputs_structure,
                                                                  SymbolicTensor)
        self.pass_training = pass_training
        # A call recorded with `training=`: Keras's loops override it with the model's mode.
        self.recorded_training = pass_training and "training" in node._call_structure[1]
        # A call without it of a layer whose Keras `call` defaults to training=True (the
        # augmentation layers): Keras's graph runs it so, recorded or not, outside its loops.
        self.trains_by_default = pass_training and not self.recorded_training and (
            node.layer._keras_call_arguments.get("training") is True)
        if self.trains_by_default:
            self.single_input = self.list_input = False
        # Integer inputs of a layer that computes in floats (Dense on `Input(dtype="int32")`):
        # cast to its compute dtype, as its own call casts them (`_casts_integer_inputs`).
        self.floats_from_integers = node.layer._compute_dtype if (
            node.layer._casts_integer_inputs
            and not all(t.dtype.is_floating_point for t in node.inputs)) else None
        if self.floats_from_integers is not None:
            self.single_input = self.list_input = False
        self.free_after: tuple = ()
        # Masks the run computes (see `Functional._plan`) take the slower path; others never
        # see it.
        self.output_has_mask = output_has_mask
        self.pass_mask = pass_mask
        self.masked = self.pass_mask or self.output_has_mask
        if self.masked:
            self.single_input = self.list_input = False
        # The inputs whose masks make the call's: all of them for a call on one tensor argument
        # (and attention's), else the first argument's, as Keras's call falls back to them.
        self.mask_keys = input_keys
        # A mask the graph computes reaches the call as its `mask`; the inputs carry it too.
        self.recorded_mask = node._call_structure[1].get("mask") is not None
        if not node.layer._masked_arguments and _tensor_arguments(node) > 1:
            args = node._call_structure[0]
            first = sum(isinstance(t, SymbolicTensor) for t in nest.flatten(args[0])) if args else 0
            self.mask_keys = input_keys[:first]


class Functional(Model):
    """A model defined by its inputs and outputs; see `Model`."""

    _chain = None  # set with the graph (`_init_graph`); a deferred Sequential has none yet
    _masked_outputs = False  # whether an output carries a mask (Embedding(mask_zero=True), ...)
    _masked_outputs_for_masked_inputs = False  # the same when the inputs come with masks
    _fixed_sample_shape = None
    _fixed_input_dtype = None
    _allow_non_tensor_positional_args = True  # see `_reject_positional_training`
    _call_checks_sizes = True  # data's sizes on a call, not only its number of axes

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name or unique_name("functional"), trainable=trainable, **kwargs)
        with building(self):  # built where it is made: its `path` is there, as in Keras
            self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs) -> None:
        # 1. Record the structures the user gave, so results come back in the same shape. Inputs
        # from inside a graph cut it there: the model gets Inputs of its own, as in Keras.
        if not all(_is_input(t) for t in nest.flatten(inputs)):
            flat_inputs, flat_outputs = cut(nest.flatten(inputs), nest.flatten(outputs),
                                            _cut_input)
            inputs = nest.pack_like(inputs, flat_inputs)
            outputs = nest.pack_like(outputs, flat_outputs)
        self._input_structure = inputs
        self._output_structure = outputs
        self.inputs = nest.flatten(inputs)
        self.outputs = nest.flatten(outputs)
        if not self.outputs:
            raise ValueError(
                "A model needs at least one output: pass `outputs=` the tensor(s) it computes. "
                f"Received: outputs={outputs!r}"
            )
        # 2. Order the nodes and collect the layers once.
        graph = trace(self.inputs, self.outputs)
        self._nodes_by_depth = graph.nodes_by_depth
        self._check_unique_names(graph.layers)
        # Operations (`x * 2`, `x[:, :3]`) are graph nodes, but not layers, as in Keras.
        self._operation_list = graph.layers
        self._layer_list = [layer for layer in graph.layers if not is_operation(layer)]
        self._layer_modules = nn.ModuleDict({layer.name: layer for layer in graph.layers})
        for tensor in self.inputs:
            owners = getattr(tensor, "input_of_models", [])
            tensor.input_of_models = [m for m in owners if m is not self] + [self]

        # 3. Turn nodes into steps that read and write a table of values keyed by tensor id.
        def key(tensor):
            while id(tensor) in graph.aliases:
                tensor = graph.aliases[id(tensor)]
            return id(tensor)

        self._input_keys = [key(t) for t in self.inputs]
        self._output_keys = [key(t) for t in self.outputs]
        nodes = [node for node in graph.nodes if not isinstance(node.layer, InputLayer)]
        # Two plans: as built, and for inputs that come with masks (the model called on the
        # output of an Embedding(mask_zero=True)), whose masks then reach the layers inside.
        self._steps, masked = self._plan(nodes, key, set())
        self._masked_outputs = any(k in masked for k in self._output_keys)
        self._steps_for_masked_inputs, masked = self._plan(nodes, key, set(self._input_keys))
        self._masked_outputs_for_masked_inputs = any(k in masked for k in self._output_keys)
        # 5. A plain chain (a Sequential model, most often) runs as `x = layer(x)`, without the
        # table: on a small model that table costs a tenth of the forward pass.
        keys = [*self._input_keys]
        for step in self._steps:
            if not (step.single_input and step.single_output and step.input_keys == keys[-1:]):
                break
            keys.append(step.output_keys[0])
        chained = len(keys) == len(self._steps) + 1 and keys[-1:] == self._output_keys
        self._chain = tuple(step.layer for step in self._steps) if (
            chained and len(self.inputs) == 1 and isinstance(outputs, SymbolicTensor)
        ) else None
        # The per-sample shape a single tensor input must have, when the model fixes all of it:
        # `__call__` then checks it with one comparison.
        sample_shape = tuple(self.inputs[0].shape[1:])
        self._fixed_sample_shape = sample_shape if (
            len(self.inputs) == 1 and None not in sample_shape
        ) else None
        self._fixed_input_dtype = self.inputs[0].dtype.torch
        # 6. Steps compiled under jit_compile=True ran the graph this one replaces (a Sequential
        # that gained or lost a layer).
        compiled = getattr(self, "_compiled_steps", None)
        if compiled:
            compiled.clear()
        self.built = True

    def _check_unique_names(self, layers) -> None:
        seen = {}
        for layer in layers:
            if layer.name in seen and seen[layer.name] is not layer:
                raise ValueError(
                    f"The name '{layer.name}' is used by two different layers in the model. All "
                    "layer names in a model must be unique: pass name= to one of them."
                )
            seen[layer.name] = layer

    def _plan(self, nodes, key, masked: set) -> tuple[list[Step], set]:
        """The steps of `nodes`, given the keys of the values that carry masks (`masked`, which
        grows with the outputs that carry one), and each value freed after its last use, so
        inference holds only live activations.

        A mask that the graph computes (operations recorded by `compute_mask` on symbolic
        tensors) reaches a layer as its call's `mask` argument, with no work of the plan. The
        run computes a mask itself only for a layer that takes it from its input, as Keras's
        call takes `_keras_mask` (a mask known only when data flows, attention's query mask),
        or for the model's outputs: a mask no one reads is not computed.
        """
        calls = []
        for node in nodes:
            input_keys, output_keys = [key(t) for t in node.inputs], [id(t) for t in node.outputs]
            input_has_mask = any(t.has_mask for t in node.inputs) or any(
                k in masked for k in input_keys)
            output_has_mask = any(t.has_mask for t in node.outputs) or (
                input_has_mask and node.layer.produces_mask(True))
            if output_has_mask:
                masked.update(output_keys)
            # As Keras's call: `mask` is filled for a call on one tensor argument (a list of
            # them counts as one), not for `call(inputs, encoder_outputs, mask=None)`; attention
            # takes its arguments' masks in `mask`, as a list.
            pass_mask = input_has_mask and node.layer._accepts_mask and (
                node._call_structure[1].get("mask") is None) and (
                node.layer._masked_arguments or _tensor_arguments(node) == 1)
            calls.append([node, input_keys, output_keys, pass_mask, output_has_mask])
        # Backwards from the outputs: a step computes its output's mask only if a later step
        # reads it, and then reads its inputs' masks (unless its call has the graph's).
        needed = set(self._output_keys)
        for call in reversed(calls):
            node, input_keys, output_keys, pass_mask, output_has_mask = call
            call[4] = output_has_mask = output_has_mask and not needed.isdisjoint(output_keys)
            if pass_mask or (output_has_mask and node._call_structure[1].get("mask") is None):
                needed.update(input_keys)
        steps = [Step(node, input_keys, output_keys, node.layer._accepts_training, pass_mask,
                      output_has_mask)
                 for node, input_keys, output_keys, pass_mask, output_has_mask in calls]
        last_use = {k: index for index, step in enumerate(steps) for k in step.input_keys}
        keep = set(self._output_keys)
        for index, step in enumerate(steps):
            step.free_after = tuple(
                k for k in set(step.input_keys) if last_use[k] == index and k not in keep
            )
        return steps, masked

    def _sublayers(self) -> list[Layer]:
        return list(self._layer_list)

    def produces_mask(self, input_has_mask: bool) -> bool:
        return self._masked_outputs_for_masked_inputs if input_has_mask else self._masked_outputs

    def _symbolic_mask(self, inputs, mask):
        # As Keras's, a nested model's output mask comes with its output when data flows.
        return NotImplemented

    @property
    def operations(self) -> list[Layer]:
        """The layers and the operations of the graph, in Keras's order."""
        return list(self._operation_list)

    # ------------------------------------------------------------------ running

    def forward(self, inputs, training=None, mask=None):
        call = nn.Module.__call__
        if self._chain is not None and training is None and mask is None and isinstance(
                inputs, torch.Tensor):
            try:
                for layer in self._chain:
                    inputs = call(layer, inputs)
            except Exception as error:
                _add_context(error, layer)
                raise
            return inputs
        values = dict(zip(self._input_keys, self._flatten_inputs(inputs)))
        masks, steps = {}, self._steps
        if mask is not None:
            given = mask if isinstance(mask, (list, tuple)) else [mask]
            masks = {k: m for k, m in zip(self._input_keys, given) if m is not None}
            if masks:
                steps = self._steps_for_masked_inputs
        for step in steps:
            layer = step.layer
            try:
                if step.single_input and training is None:
                    outputs = call(layer, values[step.input_keys[0]])
                elif step.list_input and training is None:
                    outputs = call(layer, [values[k] for k in step.input_keys])
                else:
                    args, kwargs = step.node.arguments([values[k] for k in step.input_keys])
                    if step.floats_from_integers is not None:
                        args = (_cast_floating(args[0], step.floats_from_integers,
                                               integers=True), *args[1:])
                    if training is not None and step.pass_training:
                        kwargs["training"] = training
                    elif step.recorded_training and in_loop():
                        kwargs["training"] = layer.training
                    elif step.trains_by_default:
                        kwargs["training"] = layer.training if in_loop() else True
                    if step.recorded_mask:
                        # As in Keras's run of a graph, the inputs carry their masks: a layer of
                        # the user's that calls attention on them finds them there.
                        given = kwargs["mask"]
                        _carry_masks(args[0], list(given) if isinstance(given, (list, tuple))
                                     else [given])
                    if step.masked:
                        mask = kwargs.get("mask")  # the graph's, recorded with the call
                        if mask is None:
                            mask = [masks.get(k) for k in step.mask_keys]
                            mask = mask[0] if len(mask) == 1 else mask or None
                            if step.pass_mask:
                                kwargs["mask"] = mask
                    outputs = call(layer, *args, **kwargs)
                    if step.output_has_mask:
                        # a model inside gives its output's mask with the output
                        given = getattr(outputs, "_keras_mask", None)
                        output_mask = given if given is not None else \
                            layer.compute_mask(args[0], mask)
                        if step.single_output:
                            masks[step.output_keys[0]] = output_mask
                        elif output_mask is not None:
                            # One mask per output (a split), in the outputs' order, as Keras
                            # pairs them.
                            masks.update(zip(step.output_keys, nest.flatten(output_mask)))
                        _carry_masks(outputs, [masks.get(k) for k in step.output_keys])
            except Exception as error:
                _add_context(error, layer)
                raise
            if step.single_output:
                values[step.output_keys[0]] = outputs
            else:
                for k, v in zip(step.output_keys, nest.flatten(outputs)):
                    values[k] = v
            for k in step.free_after:
                del values[k]
        results = [values[k] for k in self._output_keys]
        if masks:
            # As Keras's: the outputs carry their masks, for the layers after this model.
            for k, result in zip(self._output_keys, results):
                if masks.get(k) is not None and isinstance(result, torch.Tensor):
                    result._keras_mask = masks[k]
                    Layer._eager_masks_seen = True
        # One output comes back alone, also when it was given in a list or tuple (Keras unpacks
        # that singleton on real data; a symbolic call keeps the structure).
        structure = self._output_structure
        if isinstance(structure, SymbolicTensor) or (
            isinstance(structure, (list, tuple)) and len(structure) == 1
            and isinstance(structure[0], SymbolicTensor)
        ):
            return results[0]
        return nest.pack_like(self._output_structure, results)

    def _flatten_inputs(self, inputs) -> list:
        """The model's inputs as a flat list, from a tensor, a list/tuple, or a dict by name."""
        expected = len(self.inputs)
        if isinstance(inputs, torch.Tensor) and expected == 1:
            return [inputs]
        if isinstance(inputs, dict):
            return self._inputs_from_dict(inputs)
        flat = nest.flatten(inputs)
        if len(flat) != expected:
            raise ValueError(
                f"Model '{self.name}' expects {expected} input(s) ({self._describe_inputs()}), "
                f"but it was called on {len(flat)}. Pass them as a list in this order, or as a "
                "dict keyed by input name."
            )
        return flat

    def _inputs_from_dict(self, inputs: dict) -> list:
        if isinstance(self._input_structure, dict):
            names = sorted(self._input_structure)
        else:
            names = [t.history.node.layer.name for t in self.inputs]
        missing = [n for n in names if n not in inputs]
        if missing:
            hint = "".join(did_you_mean(m, inputs) for m in missing[:1])
            raise ValueError(
                f"Model '{self.name}' has input(s) {names}, but the dict given has no "
                f"{missing}.{hint} Received keys: {sorted(inputs)}."
            )
        return [inputs[n] for n in names]

    def _describe_inputs(self) -> str:
        return ", ".join(
            f"'{t.history.node.layer.name}' {format_shape(t.shape)}" for t in self.inputs
        )

    def __call__(self, *args, **kwargs):
        if (
            len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor)
            and args[0].shape[1:] == self._fixed_sample_shape
            and args[0].dtype == self._fixed_input_dtype and self.built
        ):
            return nn.Module.__call__(self, args[0])
        if len(args) > 1 and args[1] is not None:
            self._reject_positional_training(args)
        if self.built and args and isinstance(args[0], (torch.Tensor, np.ndarray, list, tuple,
                                                        dict)):
            leaves = nest.flatten(args[0])
            if leaves and all(isinstance(t, (torch.Tensor, np.ndarray)) for t in leaves):
                inputs = self._conform_inputs(args[0], sizes=self._call_checks_sizes)
                if not kwargs:
                    return nn.Module.__call__(self, inputs, *args[1:])
                return super().__call__(inputs, *args[1:], **kwargs)
        return super().__call__(*args, **kwargs)

    def _reject_positional_training(self, args: tuple) -> None:
        """A second positional argument is `training`, which Keras's model call also sets by
        keyword, so Keras raises a TypeError (a Sequential first refuses a setting as every layer
        does)."""
        if not self._allow_non_tensor_positional_args:
            self._check_positional_arguments(args)
        raise TypeError(
            f"{type(self).__name__}.call() got multiple values for argument 'training': model "
            f"'{self.name}' takes its inputs as one positional argument (several as a list or a "
            f"dict) and training= and mask= by keyword; it received {len(args)} positional "
            "arguments.")

    def _conform_inputs(self, inputs, sizes: bool = True):
        """Real inputs as tensors the graph can take: one per model input, in order.

        As in Keras, each value takes its input's dtype (integer data for a float `Input` becomes
        float32), data with one axis more than its input, of size 1 at the end, loses it, and
        data with one axis less gains it when the input ends in size 1 (labels of shape `(n,)`
        for `Input((1,))`); other shapes that do not fit are a ValueError naming the input.
        With `sizes=False` only the number of axes must fit.
        """
        flat = [_as_tensor_of(value, tensor.dtype.torch)
                for value, tensor in zip(self._flatten_inputs(inputs), self.inputs)]
        for i, (tensor, value) in enumerate(zip(self.inputs, flat)):
            expected = tensor.shape
            if value.dim() == len(expected) + 1 and value.shape[-1] == 1:
                value = flat[i] = value.squeeze(-1)
            elif value.dim() == len(expected) - 1 and expected[-1] == 1:
                value = flat[i] = value.unsqueeze(-1)
            if not (_shape_fits(expected, tuple(value.shape)) if sizes
                    else value.dim() == len(expected)):
                received = (None, *value.shape[1:]) if value.dim() else ()
                raise ValueError(
                    f"Input '{tensor.history.node.layer.name}' of model '{self.name}' expects "
                    f"data of shape {format_shape(expected)}, but received data of shape "
                    f"{format_shape(received)} ({len(value) if value.dim() else 0} samples). "
                    "Check that the data matches the model's input layer, e.g. the number of "
                    "features."
                )
        return flat[0] if len(flat) == 1 else flat

    # ------------------------------------------------------------------ graph facts

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(input_shape)
        if len(shapes) != len(self.inputs):
            raise ShapeError(
                f"Model '{self.name}' expects {len(self.inputs)} input(s) "
                f"({self._describe_inputs()}), but was called on {len(shapes)}.",
                fix="call it on a list with one tensor per model input, in order.",
            )
        for i, (tensor, shape) in enumerate(zip(self.inputs, shapes)):
            if not _shape_fits(tensor.shape, shape):
                raise ShapeError(
                    f"Model '{self.name}' expects input {format_shape(tensor.shape)}"
                    f"{f' for its input {i}' if len(shapes) > 1 else ''}, but received "
                    f"{format_shape(shape)}.",
                    fix=_fit_fix(tensor.shape, shape),
                )
        if all(tuple(t.shape) == tuple(shape) for t, shape in zip(self.inputs, shapes)):
            return _shapes_of(self._output_structure)
        return self._propagate_shapes(shapes)

    def _propagate_shapes(self, shapes: list) -> list | tuple:
        """The output shapes for inputs of `shapes`, layer by layer through the graph.

        Keras runs a model's graph on the tensors it is called on, so a model built for a fixed
        batch (a Sequential built by a first call) or for sequences of any length gives the
        caller's sizes where they are known.
        """
        values = {key: SymbolicTensor(shape, tensor.dtype)
                  for key, shape, tensor in zip(self._input_keys, shapes, self.inputs)}
        try:
            for step in self._steps:
                args, kwargs = step.node.arguments([values[k] for k in step.input_keys])
                produced = _shape_leaves(step.layer._symbolic_output_shape(args, kwargs))
                for key, shape, tensor in zip(step.output_keys, produced, step.node.outputs):
                    values[key] = SymbolicTensor(shape, tensor.dtype)
        except (ShapeError, NotImplementedError):
            # The graph was checked for its own input shapes, and the given ones fit them: a
            # layer whose shape rule cannot take the more specific sizes keeps the model's shapes.
            return _shapes_of(self._output_structure)
        return _shapes_of(nest.pack_like(self._output_structure,
                                         [values[k] for k in self._output_keys]))

    def compute_output_dtype(self, inputs):
        """The dtypes of the model's outputs, each as its last layer gives it."""
        dtypes = [t.dtype for t in self.outputs]
        return dtypes[0] if len(dtypes) == 1 else dtypes

    def add_loss(self, value) -> None:
        # Keras 3 refuses it too; a loss of symbolic tensors kept here would never be computed.
        raise NotImplementedError(
            f"A functional model ('{self.name}') takes no add_loss(), as in Keras 3. Compute the "
            "loss in a layer of the graph instead: a layer whose call() runs "
            "`self.add_loss(...)` on its inputs and returns them (e.g. the KL term of a VAE "
            "from z_mean and z_log_var).")

    @property
    def input(self):
        return self._input_structure

    @property
    def output(self):
        return self._output_structure

    @property
    def input_shape(self):
        """One shape, or a list of shapes (dict inputs too, in sorted key order); a list of one
        input gives its shape alone, as in Keras."""
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_names(self) -> list[str]:
        """The names of the layers that produce the outputs, in `outputs` order (as Keras's)."""
        return [t.history.node.layer.name for t in self.outputs]

    def get_config(self) -> dict:
        from .config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, safe_mode=True):
        """Rebuild the model from `get_config()`'s output (or Keras's); weights are fresh."""
        from .from_config import functional_from_config

        return functional_from_config(cls, config, custom_objects, safe_mode)


def _tensor_arguments(node) -> int:
    """How many of the node's call arguments hold symbolic tensors."""
    args, kwargs = node._call_structure
    return sum(any(isinstance(t, SymbolicTensor) for t in nest.flatten(value))
               for value in (*args, *kwargs.values()))


def _carry_masks(outputs, masks: list) -> None:
    """Put each output's mask on it, as Keras's run of a graph does: a layer of the user's that
    calls other layers on its inputs (an encoder's attention) finds their masks there."""
    tensors = [outputs] if isinstance(outputs, torch.Tensor) else nest.flatten(outputs)
    for tensor, mask in zip(tensors, masks):
        if mask is not None and isinstance(tensor, torch.Tensor):
            tensor._keras_mask = mask
            Layer._eager_masks_seen = True


def _is_input(tensor) -> bool:
    return isinstance(tensor, SymbolicTensor) and tensor.history is not None and isinstance(
        tensor.history.node.layer, InputLayer)


def _cut_input(tensor: SymbolicTensor) -> SymbolicTensor:
    """The Input that stands for `tensor` in a model cut there, named as Keras names it."""
    return Input(batch_shape=tensor.shape, dtype=tensor.dtype.torch,
                 name=f"{unique_name('keras_tensor')}CLONE")


def _as_tensor_of(value, dtype: torch.dtype) -> torch.Tensor:
    """`value` (a tensor or array-like) as a tensor of `dtype`, as Keras converts model inputs."""
    if isinstance(value, torch.Tensor):
        return value if value.dtype == dtype else value.to(dtype)
    from ..ops.core import as_array  # ops build on models' layers

    return torch.as_tensor(as_array(value), dtype=dtype)


def _shape_list(shape):
    if isinstance(shape, dict):
        return [shape[k] for k in sorted(shape)]
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [tuple(s) for s in shape]
    return [tuple(shape)]


def _shape_fits(expected, received) -> bool:
    """Same rank and equal known sizes; the batch size is not checked."""
    if len(expected) != len(received):
        return False
    return all(e is None or r is None or e == r for e, r in zip(expected[1:], received[1:]))


def _fit_fix(expected, received) -> str:
    if len(expected) == len(received) == 2:
        return (
            f"add a layer that maps {received[1]} features to {expected[1]}, e.g. "
            f"Dense({expected[1]}), between the two."
        )
    if len(received) > len(expected) == 2 and expected[1] is not None:
        return f"Flatten() or Reshape(({expected[1]},)) the input first."
    return f"reshape the input to {format_shape(expected)} first (Reshape or Flatten)."


def _add_context(error: Exception, layer: Layer) -> None:
    """Name the failing layer in the error, as torch.fx's interpreter does."""
    note = f"While running layer '{layer.name}' ({type(layer).__name__})"
    if note not in getattr(error, "__notes__", ()):
        error.add_note(note)
