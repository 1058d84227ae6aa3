"""Weights files keyed as Keras keys them: by structural path, not by layer name.

Keras walks a model and gives every layer a path made of class-derived names in order
(`layers/dense`, `layers/dense_1`, a nested model's `layers/sequential/layers/dense`, a wrapped
layer's `layers/bidirectional/forward_layer`, a recurrent layer's weights under its `cell`); a
layer's own weights are `<path>/vars/0`, `1`, ... (trainable first), in Keras's layouts. The
optimizer's are `optimizer/vars/0` (iterations), `1` (the learning rate, unless a schedule
sets it), then its slots in Keras's order. Two files with the same structure load into each other
whatever the layers are called.

A file is read completely and checked (every expected array present, with the right shape and a
numeric dtype) before any weight changes, so a bad file leaves the model as it was.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..dtype_policies import to_numpy
from ..layers.convolutional import ConvTranspose
from ..layers.core import LowRankAdaptable
from ..layers.layer import Layer, to_snake_case
from ..layers.recurrent import RNNBase
from ..layers.torch_module_wrapper import TorchModuleWrapper
from ..layers.tracking import ContainerModules
from ..models.model import Model
from .registry import SavingError


@dataclass
class Saveable:
    """One entry of Keras's walk: a layer's path and the weights it owns there."""

    path: str
    name: str
    weights: list = field(default_factory=list)  # (owner module, attribute name)
    # The weights' names under `vars/`: 0, 1, ... unless given (a wrapped torch module's are its
    # state_dict keys, as Keras stores them).
    names: list | None = None
    # The layer itself (not a sublayer Keras gives it), whose own saving hooks may apply.
    layer: Layer | None = None

    def keys(self) -> list[str]:
        """Each weight's key in the file, in `weights` order."""
        names = self.names or [str(i) for i in range(len(self.weights))]
        return [_join(self.path, "vars", n) for n in names]


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _unique(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def saveables(model: Layer) -> list[Saveable]:
    """Every layer's path in Keras's walk of `model`, with the weights stored under it."""
    found, visited = [], set()

    def visit(layer: Layer, path: str) -> None:
        if id(layer) in visited:
            return
        visited.add(id(layer))
        if isinstance(layer, TorchModuleWrapper):
            state = layer.state_entries()
            found.append(Saveable(path, layer.name, [(o, n) for _, o, n in state],
                                  [key for key, _, _ in state]))
            return
        for sub_path, sub_name, weights in _keras_sublayers(layer, _own_entries(layer)):
            found.append(Saveable(_join(path, sub_path), sub_name, weights,
                                  layer=None if sub_path else layer))
        if hasattr(layer, "_layer_list"):  # a model: its layers, in order
            visit_container(layer.layers, _join(path, "layers"))
            return
        children = list(layer.named_children())
        if isinstance(layer, Model):
            # A subclassed model: Keras's walk meets its `layers` list among its attributes.
            children.append(("layers", layer.layers))
        # Keras walks attributes by name, private ones last.
        for attribute, child in sorted(children, key=lambda c: (c[0].startswith("_"), c[0])):
            if isinstance(child, Layer):
                visit(child, _join(path, attribute))
            elif isinstance(child, (nn.ModuleList, nn.ModuleDict)):
                visit_container(list(child._modules.values()), _join(path, attribute))
            elif isinstance(child, list):
                visit_container(child, _join(path, attribute))

    def visit_container(layers: list, path: str) -> None:
        # Keras's names in a list or dict: each layer's class, and `container` for a list, dict
        # or tuple inside it (a tracked one's torch side), numbered on repeats.
        used: dict = {}
        for child in layers:
            if isinstance(child, Layer):
                name = type(child).__name__
                name = to_snake_case(_KERAS_CLASS_NAMES.get(name, name))
                visit(child, _join(path, _unique(name, used)))
            elif isinstance(child, ContainerModules):
                name = _unique("container", used)
                if id(child) not in visited:
                    visited.add(id(child))
                    visit_container(list(child._modules.values()), _join(path, name))

    visit(model, "")
    return found


# Keras's class behind an exported name that differs from it: Keras's walk names paths after the
# class.
_KERAS_CLASS_NAMES = {"GroupQueryAttention": "GroupedQueryAttention"}

# Layers that keep in one place weights Keras spreads over sublayers: weight-name prefix -> the
# attribute of Keras's sublayer that holds them (kernel first, then bias).
_KERAS_SUBLAYERS_BY_PREFIX = {
    "MultiHeadAttention": {"query": "query_dense", "key": "key_dense", "value": "value_dense",
                           "output": "output_dense", "gate": "_gate_dense"},
    "GroupQueryAttention": {"query": "_query_dense", "key": "_key_dense",
                            "value": "_value_dense", "output": "_output_dense",
                            "gate": "_gate_dense"},
}


def _keras_sublayers(layer: Layer, own: list) -> list[tuple[str, str, list]]:
    """(path under the layer, name, weights) for the layer and the sublayers Keras gives it."""
    if isinstance(layer, RNNBase):  # Keras keeps a recurrent layer's weights in its cell
        return [("", layer.name, []), ("cell", f"{layer.name}_cell", own)]
    prefixes = _KERAS_SUBLAYERS_BY_PREFIX.get(type(layer).__name__)
    if prefixes is None:
        return [("", layer.name, own)]
    groups = [("", layer.name, [])]
    for prefix, attribute in prefixes.items():
        weights = [(o, n) for o, n in own if n.rsplit("_", 1)[0] == prefix]
        if weights:  # the sublayer's name, as Keras's build gives it
            groups.append((attribute, "attention_output" if prefix == "output" else prefix,
                           weights))
    groups += [(attribute, name, []) for attribute, name in
               layer._keras_weightless_sublayers.items()]
    return groups


def users_hook(layer: Layer | None, name: str) -> bool:
    """Whether `layer`'s class has its own `name` saving hook (`save_own_variables`,
    `save_assets`, ...) from the user's code. netknit's layers keep their state in the walk's
    layout, so only a user's hook is called."""
    hook = getattr(type(layer), name, None)
    return hook is not None and not hook.__module__.startswith("netknit")


def _own_entries(layer: Layer) -> list:
    """(owner, name) of the weights Keras keeps for the layer itself: all of its own but the
    adapters of a layer with LoRA enabled, which Keras saves merged into the weight they adapt
    (`_saved_value`) and zeroes on loading (`_plan_entry`)."""
    own = layer._own_weight_entries(True) + layer._own_weight_entries(False)
    if getattr(layer, "lora_enabled", False):
        own = [(o, n) for o, n in own if n not in layer._adapters]
    return own


def _saved_value(owner, name: str) -> torch.Tensor:
    # A LoRA layer's frozen weight (`_kernel`) is saved as Keras saves it: `kernel`, merged.
    if getattr(owner, "lora_enabled", False) and name == "_" + owner._adapted:
        return getattr(owner, owner._adapted)
    return getattr(owner, name)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return to_numpy(tensor)


def _assign(target: torch.Tensor, array: np.ndarray) -> None:
    with torch.no_grad():
        target.copy_(torch.as_tensor(array, dtype=target.dtype))


# ---------------------------------------------------------------- the arrays of a model


def model_arrays(model: Layer, include_optimizer: bool = True) -> tuple[dict, dict]:
    """`({path: array}, {group path: layer name})` for the model (and its optimizer)."""
    arrays, groups = {}, {}
    for entry in saveables(model):
        groups[_join(entry.path, "vars")] = entry.name
        if users_hook(entry.layer, "save_own_variables"):
            store = {}
            entry.layer.save_own_variables(store)
            for key, value in store.items():
                arrays[_join(entry.path, "vars", key)] = (
                    _numpy(value) if isinstance(value, torch.Tensor) else np.asarray(value))
            continue
        for key, (owner, name) in zip(entry.keys(), entry.weights):
            arrays[key] = _numpy(_saved_value(owner, name))
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None:
        _add_optimizer_arrays(model, optimizer, "optimizer", arrays, groups)
    return arrays, groups


def _add_optimizer_arrays(model, optimizer, path: str, arrays: dict, groups: dict) -> None:
    """The optimizer's variables under `<path>/vars`; Keras also stores the optimizers it wraps
    on their own: a LossScaleOptimizer's under `inner_optimizer`, a MultiOptimizer's under
    `optimizers/<class name>` (`adam`, `adam_1`, ...)."""
    groups[f"{path}/vars"] = optimizer.name
    for index, value in enumerate(optimizer_arrays(model, optimizer)):
        arrays[f"{path}/vars/{index}"] = value
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        _add_optimizer_arrays(model, inner, f"{path}/inner_optimizer", arrays, groups)
    used: dict = {}
    for sub in getattr(optimizer, "optimizers", ()):
        name = _unique(to_snake_case(type(sub).__name__), used)
        _add_optimizer_arrays(model, sub, f"{path}/optimizers/{name}", arrays, groups)


def _slot_order(model, optimizer) -> list[tuple[str, int, tuple]]:
    """(slot name, parameter index in the optimizer, owner/name) in Keras's order."""
    position = {id(p): i for i, p in enumerate(optimizer._params)}
    owners = {id(getattr(o, n)): (o, n) for o, n in model._weight_entries()}
    params = [p for p in model.trainable_weights if id(p) in position]
    return [(slot, position[id(p)], owners[id(p)])
            for group in optimizer._state_groups for p in params for slot in group
            if optimizer._has_slot(slot, position[id(p)])]


def optimizer_arrays(model, optimizer) -> list[np.ndarray]:
    """Keras's optimizer variables: iterations, learning rate (if a float), slots, extras. A
    LossScaleOptimizer's are its own (an unused iteration count and learning rate, then, once
    built, the good-step count and the scale) followed by its inner optimizer's; a
    MultiOptimizer's are its iteration count and unused learning rate, then each inner
    optimizer's in turn."""
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        values = [np.array(0, dtype="int32"), np.array(0.0, dtype="float32")]
        if optimizer.built:
            values += [_numpy(optimizer.step_counter), _numpy(optimizer.dynamic_scale)]
        return values + optimizer_arrays(model, inner)
    subs = getattr(optimizer, "optimizers", None)
    if subs is not None:
        values = [np.array(optimizer._iterations, dtype="int32"), np.array(0.0, dtype="float32")]
        return values + [v for sub in subs for v in optimizer_arrays(model, sub)]
    values = [np.array(optimizer._iterations, dtype="int32")]
    if isinstance(optimizer._learning_rate, float):
        # float64, not Keras's float32, so that a resumed run continues with the exact rate.
        values.append(np.array(optimizer._learning_rate, dtype="float64"))
    if optimizer.built:
        for slot, index, _ in _slot_order(model, optimizer):
            values.append(_numpy(optimizer._slots[slot][index]))
        for _, value in sorted(optimizer._keras_extra_variables().items()):
            values.append(np.array(value, dtype="float32"))
        values += [_numpy(v) for v in optimizer._user_variables]
    return values


def load_model_arrays(model: Layer, arrays: dict, source: str,
                      skip_mismatch: bool = False) -> None:
    """Check every array against the model, then assign them all (or raise and change nothing).

    With `skip_mismatch`, a layer whose weights are missing from the file or have other shapes
    keeps its own, with a warning, and the rest load; arrays the model has no place for are left.
    """
    # 1. Match each weight to its array, layer by layer; a layer with its own
    # `load_own_variables` gets the arrays under its path.
    plan, entries, hooks, claimed = [], saveables(model), [], set()
    for entry in entries:
        if users_hook(entry.layer, "load_own_variables"):
            prefix = _join(entry.path, "vars") + "/"
            store = {k[len(prefix):]: v for k, v in arrays.items()
                     if k.startswith(prefix) and "/" not in k[len(prefix):]}
            hooks.append((entry.layer, store))
            claimed.update(prefix + k for k in store)
            continue
        try:
            plan.extend(_plan_entry(_keras_saved_part(entry, arrays, source), arrays, source))
        except SavingError as error:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping weight loading for '{entry.path}': {error}", stacklevel=3)
    expected = claimed | {key for e in entries for key in e.keys()}
    extra = sorted(k for k in arrays if k not in expected and not k.startswith("optimizer/"))
    if extra and not skip_mismatch:
        raise SavingError(
            f"{source} has weights this model has no place for, e.g. '{extra[0]}'. The file was "
            "saved from a model with a different structure. Pass skip_mismatch=True to load "
            "the layers that match."
        )
    # 2. The optimizer's state, when both the file and the model have one.
    optimizer = getattr(model, "optimizer", None)
    saved = sorted((k for k in arrays if k.startswith("optimizer/vars/")),
                   key=lambda k: int(k.rsplit("/", 1)[1]))
    restore_optimizer = None
    if optimizer is not None and saved:
        try:
            restore_optimizer = _plan_optimizer(model, optimizer, [arrays[k] for k in saved],
                                                source)
        except SavingError as error:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping the optimizer's state: {error}", stacklevel=3)
    # 3. Assign.
    for target, array in plan:
        _assign(target, array)
    for layer, store in hooks:
        layer.load_own_variables(store)
    if restore_optimizer is not None:
        restore_optimizer()


def _keras_saved_part(entry: Saveable, arrays: dict, source: str) -> Saveable:
    """`entry`, or only its kernel (embeddings) and bias when `arrays` hold just those for it:
    Keras's Dense, EinsumDense, Embedding and convolutions save these alone, so a file Keras
    wrote from a user's subclass of one lacks the weights the subclass adds. They keep their
    values (with a warning); netknit's own files hold them too (Keras loads such a file)."""
    layer = entry.layer
    if not isinstance(layer, (LowRankAdaptable, ConvTranspose)) or type(
            layer).__module__.startswith("netknit"):
        return entry
    kernel = getattr(layer, "_adapted", "kernel")
    kept = [(o, n) for name in (kernel, "_" + kernel, "bias") for o, n in entry.weights
            if n == name]
    prefix = _join(entry.path, "vars") + "/"
    if len(kept) == len(entry.weights) or sum(k.startswith(prefix) for k in arrays) != len(kept):
        return entry
    left = [n for _, n in entry.weights if all(n != k for _, k in kept)]
    base = next(c for c in type(layer).__mro__ if c.__module__.startswith("netknit"))
    warnings.warn(
        f"{source} has only {' and '.join(n.lstrip('_') for _, n in kept)} for layer "
        f"'{entry.name}', as Keras saves subclasses of {base.__name__}: its other weights "
        f"({', '.join(left)}) keep their current values.", stacklevel=4)
    return Saveable(entry.path, entry.name, kept, layer=layer)


def _plan_entry(entry, arrays: dict, source: str) -> list:
    """(target, array) for each weight of one saveable entry; SavingError if the
    file lacks one or has it in another shape."""
    plan = []
    for key, (owner, name) in zip(entry.keys(), entry.weights):
        if key not in arrays:
            raise SavingError(
                f"{source} has no weights for layer '{entry.name}' (expected '{key}'). The "
                "file was saved from a model with a different structure."
            )
        array = arrays[key]
        target = getattr(owner, name)
        if array.shape != target.shape:
            raise SavingError(
                f"{source}: '{key}' (layer '{entry.name}', {name}) has shape "
                f"{tuple(array.shape)}; the model expects {tuple(target.shape)}."
            )
        plan.append((target, array))
    for owner in {id(o): o for o, _ in entry.weights}.values():
        if getattr(owner, "lora_enabled", False):  # the file's weight already holds the update
            plan.extend((getattr(owner, n), np.zeros(getattr(owner, n).shape, np.float32))
                        for n in owner._adapters)
    return plan


def _plan_optimizer(model, optimizer, values: list, source: str):
    """A function restoring the optimizer from Keras's variable list, after checking it."""
    if getattr(optimizer, "inner_optimizer", None) is not None:
        return _plan_loss_scale_optimizer(model, optimizer, values, source)
    if getattr(optimizer, "optimizers", None) is not None:
        return _plan_multi_optimizer(model, optimizer, values, source)
    has_lr = isinstance(optimizer._learning_rate, float)
    head = 2 if has_lr else 1
    if any(v.shape != () for v in values[:head]):
        raise SavingError(f"{source}: the optimizer's iteration count or learning rate is bad.")
    if len(values) == head:  # saved before the optimizer's first step
        slots = None
    else:
        if not optimizer.built:
            optimizer.build([p for p in model.parameters() if p.requires_grad])
        order = _slot_order(model, optimizer)
        extras = sorted(optimizer._keras_extra_variables())
        users = optimizer._user_variables  # a user's optimizer's own (`add_variable`)
        expected_count = head + len(order) + len(extras) + len(users)
        if len(values) != expected_count:
            raise SavingError(
                f"{source} has {len(values)} optimizer variables; optimizer '{optimizer.name}' of "
                f"this model has {expected_count}. It was saved from a different model or "
                "optimizer; recompile or load with compile=False."
            )
        users_saved = values[len(values) - len(users):] if users else []
        for variable, value in zip(users, users_saved):
            if tuple(value.shape) != tuple(variable.shape):
                raise SavingError(f"{source}: optimizer variable '{variable.path}' has shape "
                                  f"{tuple(value.shape)}, expected {tuple(variable.shape)}.")
        slots = values[head:head + len(order)]
        for (slot, index, (_, name)), value in zip(order, slots):
            # A slot has its parameter's shape, except Adafactor's factored averages.
            expected = tuple(optimizer._slots[slot][index].shape)
            if tuple(value.shape) != expected:
                raise SavingError(
                    f"{source}: optimizer slot '{slot}' of weight {name} has shape "
                    f"{tuple(value.shape)}, expected {expected}."
                )

    def restore():
        optimizer._iterations = int(values[0])
        if has_lr:
            optimizer._learning_rate = float(values[1])
        if slots is None:
            return
        for (slot, index, _), value in zip(order, slots):
            _assign(optimizer._slots[slot][index], value)
        extra = dict(zip(extras, (float(v) for v in values[head + len(order):])))
        if extra:
            optimizer._load_extra_state(extra)
        for variable, value in zip(users, users_saved):
            _assign(variable, value)

    return restore


def _plan_loss_scale_optimizer(model, optimizer, values: list, source: str):
    """`_plan_optimizer` for a LossScaleOptimizer: its own two scalars, its step count and scale
    when the file's was built, then the inner optimizer's variables."""
    inner = optimizer.inner_optimizer
    inner_head = _unbuilt_size(inner)
    if len(values) < 2 + inner_head or any(v.shape != () for v in values[:2]):
        raise SavingError(f"{source}: the optimizer variables are not a LossScaleOptimizer's.")
    if len(values) == 2 + inner_head:  # saved before the first step
        return _plan_optimizer(model, inner, values[2:], source)
    if any(v.shape != () for v in values[2:4]):
        raise SavingError(f"{source}: the loss scale or its step count is bad.")
    if not optimizer.built:
        optimizer.build([p for p in model.parameters() if p.requires_grad])
    restore_inner = _plan_optimizer(model, inner, values[4:], source)

    def restore():
        restore_inner()
        optimizer.set_loss_scale_state(values[2], values[3])

    return restore


def _unbuilt_size(optimizer) -> int:
    """How many variables Keras lists for `optimizer` before it is built: its iteration count
    and learning rate (unless a schedule gives it); a MultiOptimizer's two and its inner
    optimizers' (those known before it is built)."""
    subs = getattr(optimizer, "optimizers", None)
    if subs is not None:
        return 2 + sum(_unbuilt_size(sub) for sub in subs)
    return 2 if isinstance(optimizer._learning_rate, float) else 1


def _plan_multi_optimizer(model, optimizer, values: list, source: str):
    """`_plan_optimizer` for a MultiOptimizer: its step count and unused learning rate, then
    each inner optimizer's variables, as many as that optimizer lists."""
    if len(values) < 2 or any(v.shape != () for v in values[:2]):
        raise SavingError(f"{source}: the optimizer variables are not a MultiOptimizer's.")
    saved_built = len(values) != _unbuilt_size(optimizer)
    if saved_built and not optimizer.built:
        # The inner optimizers' shares of the slots follow from the weights each steps.
        optimizer.build([p for p in model.parameters() if p.requires_grad])
    sizes = [_unbuilt_size(sub) + (len(_slot_order(model, sub)) + len(sub._keras_extra_variables())
                                   + len(sub._user_variables) if saved_built and sub.built else 0)
             for sub in optimizer.optimizers]
    if 2 + sum(sizes) != len(values):
        raise SavingError(
            f"{source} has {len(values)} optimizer variables; MultiOptimizer '{optimizer.name}' "
            f"of this model has {2 + sum(sizes)}. It was saved from a different model or "
            "optimizer map; recompile or load with compile=False.")
    plans, start = [], 2
    for sub, size in zip(optimizer.optimizers, sizes):
        plans.append(_plan_optimizer(model, sub, values[start:start + size], source))
        start += size

    def restore():
        optimizer._iterations = int(values[0])
        for plan in plans:
            plan()

    return restore


# ---------------------------------------------------------------- h5 files


def write_h5(file, arrays: dict, groups: dict) -> None:
    """Write Keras's h5 layout to a path or a binary file object."""
    import h5py

    with h5py.File(file, "w") as f:
        for path, name in groups.items():
            f.require_group(path).attrs["name"] = name
        for key, value in arrays.items():
            f.require_group(key.rsplit("/", 1)[0]).create_dataset(key.rsplit("/", 1)[1], data=value)


def read_h5(file, source: str, names: dict | None = None) -> dict:
    """Every dataset of an h5 file as `{path: numeric array}`; anything odd is a SavingError.

    When `names` is given, it also receives every group's `name` attribute by the group's path
    (Keras records each layer's name on its `vars` group).
    """
    import h5py

    arrays = {}
    try:
        with h5py.File(file, "r") as f:
            def collect(path, item):
                if isinstance(item, h5py.Dataset):
                    if item.dtype.kind not in "fiub":
                        raise SavingError(
                            f"{source}: '{path}' holds {item.dtype} data, not numbers."
                        )
                    # Their values would be read from other files on this machine.
                    if item.external or item.is_virtual:
                        raise SavingError(
                            f"{source}: '{path}' keeps its data outside the file (an external "
                            "or virtual dataset), which netknit refuses to read."
                        )
                    arrays[path] = np.asarray(item[()])
                elif names is not None and isinstance(item.attrs.get("name"), str):
                    names[path] = item.attrs["name"]

            f.visititems(collect)
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(f"{source} is not a readable weights file ({error}).") from error
    return arrays


# ---------------------------------------------------------------- safetensors files

_SAFETENSORS_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2",
                       "I32": "<i4", "I64": "<i8", "U8": "u1", "BOOL": "?"}


def write_safetensors(file, arrays: dict) -> None:
    """The safetensors layout: an 8-byte header length, a JSON header, then the raw arrays."""
    codes = {np.dtype(v): k for k, v in _SAFETENSORS_DTYPES.items()}
    header, chunks, offset = {}, [], 0
    for key, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.byteorder == ">":
            value = value.astype(value.dtype.newbyteorder("<"))
        if value.dtype not in codes:
            raise SavingError(f"Cannot write '{key}' of dtype {value.dtype} to safetensors.")
        data = np.ascontiguousarray(value).tobytes()
        header[key] = {"dtype": codes[value.dtype], "shape": list(value.shape),
                       "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    file.write(len(encoded).to_bytes(8, "little"))
    file.write(encoded)
    for chunk in chunks:
        file.write(chunk)


def read_safetensors(path: str | os.PathLike, source: str) -> dict:
    """Parse a safetensors file by hand (JSON header, raw bytes): no code, no pickles."""
    with open(path, "rb") as f:
        blob = f.read()
    try:
        length = int.from_bytes(blob[:8], "little")
        if len(blob) < 8 or length > len(blob) - 8:
            raise ValueError("the header length runs past the end of the file")
        header = json.loads(blob[8:8 + length])
        body = memoryview(blob)[8 + length:]
        arrays = {}
        for key, spec in header.items():
            if key == "__metadata__":
                continue
            dtype = np.dtype(_SAFETENSORS_DTYPES[spec["dtype"]])
            start, end = (int(x) for x in spec["data_offsets"])
            shape = tuple(int(d) for d in spec["shape"])
            if not 0 <= start <= end <= len(body) or end - start != dtype.itemsize * int(
                    np.prod(shape, dtype=np.int64)):
                raise ValueError(f"the byte range of '{key}' does not fit its shape")
            arrays[key] = np.frombuffer(body[start:end], dtype=dtype).reshape(shape).copy()
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SavingError(f"{source} is not a valid safetensors file: {error}") from error
    return arrays
