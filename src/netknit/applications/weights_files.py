"""The weights files an application model takes (`weights="<path>"`), as Keras's builders take them.

- Keras 3's files, read by `Model.load_weights`: `.weights.h5` and `.safetensors` (from
  `save_weights`), and the weights inside a `.keras` file.
- Keras 2's h5 layout, in which Keras's ImageNet weights files are written
  (`resnet50_weights_tf_dim_ordering_tf_kernels.h5`, ...): the root lists `layer_names`, each
  layer's group lists its `weight_names`. As Keras reads these files, they are matched by order,
  not by name: the i-th layer with weights in the file goes to the i-th layer with weights in
  `model.layers`.

>>> model = VGG16(weights=None)
>>> load_weights_file(model, "vgg16_weights_tf_dim_ordering_tf_kernels.h5")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from ..saving import SavingError
from ..saving.weights import load_model_arrays, read_h5


def load_weights_file(model, filepath) -> None:
    """Load the weights file at `filepath` into `model`: all weights, or none (and an error)."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        _load_keras_archive(model, filepath)
    elif filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5"):
        import h5py

        with h5py.File(filepath, "r") as file:
            # A whole Keras 2 model file keeps the weights in one group.
            group = file["model_weights"] if "model_weights" in file else file
            if _attribute_list(group, "layer_names"):
                _load_keras2_group(model, group, filepath)
                return
        model.load_weights(filepath)
    else:
        model.load_weights(filepath)


def _load_keras_archive(model, filepath: str) -> None:
    source = f"The weights in {filepath}"
    try:
        with zipfile.ZipFile(filepath, "r") as archive:
            data = archive.read("model.weights.h5")
    except (KeyError, zipfile.BadZipFile, OSError) as error:
        raise SavingError(f"{filepath} is not a .keras file with weights ({error}).") from error
    load_model_arrays(model, read_h5(io.BytesIO(data), source), source)


def _attribute_list(group, name: str) -> list[str]:
    """A list attribute; h5 caps an attribute's size, so long lists are split into `name0`,
    `name1`, ..."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values.extend(group.attrs[f"{name}{chunk}"])
            chunk += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _load_keras2_group(model, group, filepath: str) -> None:
    saved = []
    for name in _attribute_list(group, "layer_names"):
        weight_names = _attribute_list(group[name], "weight_names")
        if weight_names:
            saved.append((name, [np.asarray(group[name][w]) for w in weight_names]))
    layers = [layer for layer in model.layers if layer.weights]
    if len(saved) != len(layers):
        raise SavingError(
            f"{filepath} has weights for {len(saved)} layers; model '{model.name}' has "
            f"{len(layers)} layers with weights. The file was saved from another architecture "
            "(or another include_top)."
        )
    # Check everything before assigning anything.
    for (saved_name, values), layer in zip(saved, layers):
        expected = [tuple(w.shape) for w in layer.weights]
        received = [tuple(v.shape) for v in values]
        if expected != received:
            raise SavingError(
                f"{filepath}: layer '{saved_name}' of the file has weights of shapes {received}; "
                f"layer '{layer.name}' of the model, in the same place, expects {expected}."
            )
    for (_, values), layer in zip(saved, layers):
        layer.set_weights(values)
