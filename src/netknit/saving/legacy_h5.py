"""Keras's legacy HDF5 format: `model.save("m.h5")`, `load_model("m.h5")`, and `.h5` weights.

Keras 3 still writes and reads it (with a warning that it is legacy), and Keras 2 wrote it by
default, so files of this kind are common. A legacy file keys weights by layer *name*, not by
structural path: the `model_weights` group (or the file's root, for a weights file) lists its
layers in `layer_names`, and each layer's group lists its weights in `weight_names`, trainable
weights first. Weights load into the model's layers that have weights, in order, or with
`by_name=True` into the layers of the same name. The model's config is the JSON attribute
`model_config`, its compile arguments `training_config`. As for `.keras` files, nothing is
unpickled and nothing named in the file is imported; the optimizer's state is not restored.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import torch

from ..dtype_policies import to_numpy
from .registry import SavingError

LEGACY_SUFFIXES = (".h5", ".hdf5")


def is_legacy_weights_file(file) -> bool:
    """Whether an h5 file is in the legacy layout (weights listed by layer name)."""
    import h5py

    try:
        with h5py.File(file, "r") as f:
            return "layer_names" in f.attrs or (
                "model_weights" in f and "layer_names" in f["model_weights"].attrs)
    except Exception:  # not readable as h5: the caller's reader says what is wrong
        return False


# ---------------------------------------------------------------- writing


def save_legacy_model(model, file, model_config: dict, compile_config: dict | None,
                      keras_version: str) -> None:
    """Write the legacy layout to a path or binary file object: config, compile arguments and
    the weights of every layer by name."""
    import h5py

    with h5py.File(file, "w") as f:
        f.attrs["backend"] = "torch"
        f.attrs["keras_version"] = keras_version
        f.attrs["model_config"] = json.dumps(model_config)
        if compile_config is not None:
            optimizer = compile_config["optimizer"]
            training = {k: compile_config[k] for k in
                        ("loss", "metrics", "weighted_metrics", "loss_weights")}
            training["optimizer_config"] = {"class_name": optimizer["class_name"],
                                            "config": optimizer["config"]}
            f.attrs["training_config"] = json.dumps(training)
        group = f.create_group("model_weights")
        group.attrs["backend"] = "torch"
        group.attrs["keras_version"] = keras_version
        group.attrs["layer_names"] = [layer.name.encode("utf8") for layer in model.layers]
        for layer in model.layers:
            names, arrays = _legacy_weights(layer)
            layer_group = group.create_group(layer.name)
            layer_group.attrs["weight_names"] = [n.encode("utf8") for n in names]
            for name, array in zip(names, arrays):
                layer_group.create_dataset(name, data=array)


def _legacy_weights(layer) -> tuple[list[str], list[np.ndarray]]:
    """A layer's weights in the legacy order (trainable, then non-trainable) with unique names
    `<layer>/<owner>/<weight>`."""
    owners = {id(getattr(o, n)): (o, n) for o, n in layer._weight_entries()}
    names, arrays = [], []
    for tensor in layer.trainable_weights + layer.non_trainable_weights:
        owner, attribute = owners[id(tensor)]
        if owner is layer:
            path = f"{layer.name}/{attribute}"
        elif hasattr(owner, "name"):  # a sublayer
            path = f"{layer.name}/{owner.name}/{attribute}"
        else:  # a module inside a TorchModuleWrapper: no name of its own
            path = f"{layer.name}/{type(owner).__name__.lower()}_{len(names)}/{attribute}"
        names.append(path)
        arrays.append(to_numpy(tensor))
    return names, arrays


# ---------------------------------------------------------------- reading


def read_legacy_model(file, source: str) -> tuple[dict, dict | None, list]:
    """`(model_config, training_config or None, [(layer name, [arrays])])` of a legacy model."""
    import h5py

    try:
        with h5py.File(file, "r") as f:
            if "model_config" not in f.attrs:
                raise SavingError(f"{source} holds no model config: it is a weights file. Load it "
                                  "into a model with model.load_weights().")
            model_config = upgrade_keras2_config(json.loads(_text(f.attrs["model_config"])))
            training = f.attrs.get("training_config")
            training_config = json.loads(_text(training)) if training is not None else None
            layers = _read_layers(f["model_weights"] if "model_weights" in f else f, source)
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(f"{source} is not a readable legacy .h5 model ({error}).") from error
    if not isinstance(model_config, dict) or "class_name" not in model_config:
        raise SavingError(f"{source}: its model_config does not describe a model.")
    return model_config, training_config, layers


def read_legacy_weights(file, source: str) -> list[tuple[str, list[np.ndarray]]]:
    """`[(layer name, [arrays])]` in the file's order, for a legacy weights or model file."""
    import h5py

    try:
        with h5py.File(file, "r") as f:
            return _read_layers(f["model_weights"] if "model_weights" in f else f, source)
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(f"{source} is not a readable legacy .h5 file ({error}).") from error


def _read_layers(group, source: str) -> list[tuple[str, list[np.ndarray]]]:
    import h5py

    layers = []
    for layer_name in (_text(n) for n in group.attrs["layer_names"]):
        layer_group = group[layer_name]
        arrays = []
        for weight_name in (_text(n) for n in layer_group.attrs.get("weight_names", [])):
            dataset = layer_group[weight_name]
            if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind not in "fiub":
                raise SavingError(f"{source}: '{layer_name}/{weight_name}' is not numeric data.")
            arrays.append(np.asarray(dataset[()]))
        layers.append((layer_name, arrays))
    return layers


def _text(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def upgrade_keras2_config(entry):
    """A model entry as tf.keras 2 wrote it, in Keras 3's form: an input's `batch_input_shape`
    becomes `batch_shape`, and each call, a list of `[layer, node, tensor, kwargs]` inputs,
    becomes `{"args", "kwargs"}` of tensor references. Keras 3 entries come back unchanged."""
    if isinstance(entry, list):
        return [upgrade_keras2_config(e) for e in entry]
    if not isinstance(entry, dict):
        return entry
    entry = {k: upgrade_keras2_config(v) if k in ("config", "layers", "layer") else v
             for k, v in entry.items()}
    config = entry.get("config")
    if (entry.get("class_name") == "InputLayer" and isinstance(config, dict)
            and "batch_input_shape" in config):
        config = dict(config)
        config["batch_shape"] = config.pop("batch_input_shape")
        entry["config"] = config
    nodes = entry.get("inbound_nodes")
    if isinstance(nodes, list) and any(isinstance(node, list) for node in nodes):
        entry["inbound_nodes"] = [_keras3_call(node) if isinstance(node, list) else node
                                  for node in nodes]
    if entry.get("class_name") == "Model":  # tf.keras 2.3 and earlier named functional models so
        entry["class_name"] = "Functional"
    layers = config.get("layers") if isinstance(config, dict) else None
    if entry.get("class_name") == "Sequential" and layers and isinstance(layers[0], dict):
        # tf.keras 2 kept a Sequential's input shape on its first layer.
        first = layers[0].get("config") or {}
        if layers[0].get("class_name") != "InputLayer" and "batch_input_shape" in first:
            first = dict(first)
            shape = first.pop("batch_input_shape")
            inputs = {"class_name": "InputLayer",
                      "config": {"batch_shape": shape, "dtype": first.get("dtype", "float32")}}
            entry["config"] = {**config, "layers": [inputs, {**layers[0], "config": first},
                                                    *layers[1:]]}
    return entry


def _keras3_call(inputs: list) -> dict:
    """One call of tf.keras 2's inbound nodes (`[[layer, node, tensor, kwargs], ...]`) as
    Keras 3 records it."""
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"keras_history": [name, node, tensor]}}
               for name, node, tensor, *_ in inputs]
    kwargs = next((i[3] for i in inputs if len(i) > 3 and isinstance(i[3], dict)), {})
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}


def compile_config_from_training_config(training_config: dict) -> dict:
    """The legacy `training_config` as a Keras 3 `compile_config`."""
    optimizer = training_config.get("optimizer_config")
    if isinstance(optimizer, dict):
        optimizer = {"module": "keras.optimizers", "registered_name": None, **optimizer}
    return {"optimizer": optimizer, **{k: training_config.get(k) for k in
                                       ("loss", "metrics", "weighted_metrics", "loss_weights")}}


# ---------------------------------------------------------------- loading into a model


def load_legacy_weights(model, saved: list, source: str, by_name: bool = False,
                        skip_mismatch: bool = False) -> None:
    """Assign `saved` (from `read_legacy_weights`) to the model's layers: in order among the
    layers that have weights, or by layer name. Everything is checked before anything changes;
    with `skip_mismatch`, a layer that does not fit keeps its weights, with a warning."""
    plan = []

    def fit(layer, arrays) -> None:
        targets = layer.trainable_weights + layer.non_trainable_weights
        problem = None
        if len(arrays) != len(targets):
            problem = (f"layer '{layer.name}' has {len(targets)} weights; the file has "
                       f"{len(arrays)} for it")
        else:
            for target, array in zip(targets, arrays):
                if tuple(target.shape) != array.shape:
                    problem = (f"layer '{layer.name}' has a weight of shape "
                               f"{tuple(target.shape)}; the file's is {array.shape}")
                    break
        if problem is None:
            plan.extend(zip(targets, arrays))
        elif skip_mismatch:
            warnings.warn(f"Skipping loading weights for {problem}.", stacklevel=4)
        else:
            raise SavingError(f"{source}: {problem}. Pass skip_mismatch=True to load the layers "
                              "that fit.")

    if by_name:
        layers_by_name = {layer.name: layer for layer in model.layers}
        for name, arrays in saved:
            if name in layers_by_name:
                fit(layers_by_name[name], arrays)
    else:
        with_weights = [layer for layer in model.layers if layer.weights]
        saved = [(name, arrays) for name, arrays in saved if arrays]
        if len(with_weights) != len(saved):
            raise SavingError(
                f"{source} has weights for {len(saved)} layers; the model has {len(with_weights)} "
                "layers with weights. Pass by_name=True to load the layers whose names match."
            )
        for layer, (_, arrays) in zip(with_weights, saved):
            fit(layer, arrays)
    with torch.no_grad():
        for target, array in plan:
            target.copy_(torch.as_tensor(array, dtype=target.dtype))
