"""`model.save(path, zipped=False)`: Keras's unzipped layout, read back by netknit and Keras."""

import json
import os

import numpy as np
import pytest

import netknit as keras
from netknit import file_io

X = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")


def trained(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4), lib.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, X[:, :2], batch_size=4, verbose=0)
    return model


def layout(path):
    return sorted((os.path.relpath(root, path), sorted(dirs), sorted(files))
                  for root, dirs, files in os.walk(path))


def state(model):
    return model.get_weights() + [np.asarray(v) for v in model.optimizer.variables]


def assert_same_state(a, b):
    assert len(state(a)) == len(state(b))
    for x, y in zip(state(a), state(b)):
        np.testing.assert_array_equal(x, y)


def test_the_directory_holds_keras_files(tmp_path):
    model = trained(keras)
    model.save(tmp_path / "model", zipped=False)
    # As Keras 3.15.1 writes it (given an absolute path): the zip's three members, and an
    # empty assets folder.
    assert layout(tmp_path / "model") == [
        (".", ["assets"], ["config.json", "metadata.json", "model.weights.h5"]),
        ("assets", [], []),
    ]
    assert json.loads((tmp_path / "model" / "metadata.json").read_text())["keras_version"] == \
        "3.15.1"
    loaded = keras.saving.load_model(tmp_path / "model")
    assert_same_state(loaded, model)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_keras_and_netknit_read_each_others_directories(tmp_path, real_keras):
    theirs, mine = trained(real_keras), trained(keras)
    theirs.save(str(tmp_path / "theirs"), zipped=False)
    keras.saving.save_model(mine, tmp_path / "mine", zipped=False)
    assert layout(tmp_path / "mine") == layout(tmp_path / "theirs")
    assert_same_state(keras.saving.load_model(tmp_path / "theirs"), theirs)
    assert_same_state(real_keras.saving.load_model(str(tmp_path / "mine")), mine)


def test_saving_again_replaces_the_directory(tmp_path):
    path = tmp_path / "model"
    first = trained(keras)
    first.save(path, zipped=False)
    second = trained(keras)
    second.save(path, zipped=False)
    assert_same_state(keras.saving.load_model(path), second)
    assert os.listdir(tmp_path) == ["model"]  # no temporary folder left
    with pytest.raises(FileExistsError, match="overwrite=True"):
        first.save(path, zipped=False, overwrite=False)


def test_a_crash_while_saving_keeps_the_previous_directory(tmp_path, monkeypatch):
    path = tmp_path / "model"
    first = trained(keras)
    first.save(path, zipped=False)
    real_rename = os.rename

    def crash_when_moving_in(source, target):
        if os.fspath(target) == os.fspath(path) and source.endswith(".tmp"):
            raise KeyboardInterrupt
        real_rename(source, target)

    monkeypatch.setattr(file_io.os, "rename", crash_when_moving_in)
    with pytest.raises(KeyboardInterrupt):
        trained(keras).save(path, zipped=False)
    monkeypatch.undo()
    # The new directory never took the name: the old one is back, nothing else is left.
    assert os.listdir(tmp_path) == ["model"]
    assert_same_state(keras.saving.load_model(path), first)


def test_a_directory_with_other_files_is_not_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"other files than a saved model \(notes.txt\)"):
        trained(keras).save(tmp_path, zipped=False)
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_bad_paths_and_arguments(tmp_path):
    model = trained(keras)
    with pytest.raises(ValueError, match="should not end in .keras"):
        model.save(tmp_path / "m.keras", zipped=False)
    with pytest.raises(TypeError, match="zipped='no'"):
        model.save(tmp_path / "m.keras", zipped="no")
    model.save(tmp_path / "model", zipped=False)
    os.remove(tmp_path / "model" / "model.weights.h5")
    with pytest.raises(keras.saving.SavingError, match="has no model.weights.h5"):
        keras.saving.load_model(tmp_path / "model")
    with pytest.raises(ValueError, match="model directories"):
        keras.saving.load_model(tmp_path)  # a directory without config.json
