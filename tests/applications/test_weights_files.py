"""`weights="<path>"`: Keras 3's files (`.weights.h5`, `.safetensors`, `.keras`) and Keras 2's h5
layout, in which Keras's ImageNet weights files are written."""

import shutil

import h5py
import numpy as np
import pytest

from netknit import applications
from netknit.saving import SavingError

KWARGS = {"weights": None, "alpha": 0.25, "include_top": False, "input_shape": (32, 32, 3),
          "pooling": "avg"}


def _model(**kwargs):
    return applications.MobileNet(**{**KWARGS, **kwargs})


def _randomized(model):
    rng = np.random.default_rng(1)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                       for w in model.get_weights()])
    return model


def _assert_same_weights(a, b):
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


def _write_keras2_h5(model, path, chunks=1, nested=False):
    """Keras 2's layout: `layer_names` at the root (split into chunks as h5 splits long lists),
    each layer's `weight_names` and datasets in its group."""
    with h5py.File(path, "w") as file:
        root = file.create_group("model_weights") if nested else file
        names = [layer.name.encode() for layer in model.layers]
        if chunks == 1:
            root.attrs["layer_names"] = names
        else:
            size = -(-len(names) // chunks)
            for chunk in range(chunks):
                root.attrs[f"layer_names{chunk}"] = names[chunk * size:(chunk + 1) * size]
        root.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = root.create_group(layer.name)
            weight_names = [f"{layer.name}/w{i}:0" for i in range(len(layer.weights))]
            group.attrs["weight_names"] = [n.encode() for n in weight_names]
            for name, value in zip(weight_names, layer.get_weights()):
                group.create_dataset(name, data=value)


@pytest.mark.parametrize("suffix", [".weights.h5", ".safetensors"])
def test_save_weights_files(tmp_path, suffix):
    source = _randomized(_model())
    source.save_weights(tmp_path / f"m{suffix}")
    _assert_same_weights(_model(weights=str(tmp_path / f"m{suffix}")), source)


def test_keras_file_and_plain_h5_name(tmp_path):
    source = _randomized(_model())
    source.save(tmp_path / "m.keras")
    _assert_same_weights(_model(weights=tmp_path / "m.keras"), source)
    source.save_weights(tmp_path / "m.weights.h5")
    shutil.copy(tmp_path / "m.weights.h5", tmp_path / "m.h5")
    _assert_same_weights(_model(weights=tmp_path / "m.h5"), source)


@pytest.mark.parametrize("chunks, nested", [(1, False), (3, False), (1, True)])
def test_keras2_h5_layout(tmp_path, chunks, nested):
    source = _randomized(_model())
    path = tmp_path / "mobilenet_2_5_224_tf_no_top.h5"
    _write_keras2_h5(source, path, chunks=chunks, nested=nested)
    _assert_same_weights(_model(weights=str(path)), source)


def test_keras2_h5_of_another_architecture(tmp_path):
    path = tmp_path / "other.h5"
    _write_keras2_h5(_model(), path)
    with pytest.raises(SavingError, match="has weights for 54 layers; model 'mobilenet_0.25_32' "
                                          "has 55"):
        applications.MobileNet(weights=str(path), alpha=0.25, input_shape=(32, 32, 3),
                               classes=3)
    with pytest.raises(SavingError, match="expects"):
        _model(alpha=0.5, weights=str(path))
