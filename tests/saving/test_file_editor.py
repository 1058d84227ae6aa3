"""KerasFileEditor: the tree it reads, what it prints, compare, edits, saves, and damaged files;
then side by side with Keras's own editor (skipped when Keras is not installed)."""

import json
import os
import re
import zipfile

import h5py
import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers
from netknit.saving import KerasFileEditor, SavingError

SMALL_TREE = [
    "Weights structure",
    "  > layers",
    "      ├─ dense ('a')",
    "      │   ├─ 0: shape=(4, 3), dtype=float32",
    "      │   └─ 1: shape=(3,), dtype=float32",
    "      └─ dense_1 ('b')",
    "          ├─ 0: shape=(3, 2), dtype=float32",
    "          └─ 1: shape=(2,), dtype=float32",
]


def _model(library=keras, units=(3, 2), names=("a", "b"), compiled=False):
    """A Sequential of Dense layers (by default `a` with 3 units, `b` with 2) on 4 inputs; when
    `compiled`, one step of Adam has built the optimizer's slots."""
    dense = library.layers.Dense
    model = library.Sequential([library.Input((4,)), *(
        dense(n, name=name) for n, name in zip(units, names))])
    if compiled:
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.ones((2, 4)), np.ones((2, units[-1])), verbose=0)
    return model


def _open(path, capsys):
    """An editor on `path`, and the lines it printed on opening."""
    editor = KerasFileEditor(path)
    return editor, capsys.readouterr().out.splitlines()


def _h5(path, datasets):
    with h5py.File(path, "w") as f:
        for key, value in datasets.items():
            f[key] = value


# ---------------------------------------------------------------- reading and printing


def test_weights_dict_holds_the_arrays_with_vars_groups_folded(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short paths: rich wraps what it prints at 80 columns
    model = _model(compiled=True)
    model.save("m.keras")
    model.save_weights("m.weights.h5")
    editor, printed = _open("m.keras", capsys)
    assert printed[0] == "Keras model file 'm.keras'"
    assert re.fullmatch(r"Saved with Keras 3\.15\.1 \(netknit .+\) - date: \S+", printed[1])
    assert list(editor.weights_dict) == ["layers", "optimizer"]
    dense = editor.weights_dict["layers"]
    assert list(dense) == ["dense", "dense_1"]
    for layer, key in zip(model.layers, dense):
        np.testing.assert_array_equal(dense[key]["0"], layer.kernel.detach().numpy())
        np.testing.assert_array_equal(dense[key]["1"], layer.bias.detach().numpy())
    assert editor.weights_dict["optimizer"]["0"] == 1  # the iteration count
    assert len(editor.weights_dict["optimizer"]) == 10  # iterations, rate, 2 slots x 4 weights
    assert editor.object_metadata == {"/layers/dense": {"name": "a"},
                                      "/layers/dense_1": {"name": "b"},
                                      "/optimizer": {"name": "adam"}}
    assert editor.config["class_name"] == "Sequential"
    assert editor.metadata["keras_version"] == "3.15.1"

    weights, printed = _open("m.weights.h5", capsys)
    assert printed == ["Keras model file 'm.weights.h5'"]
    assert weights.config is None and weights.metadata is None
    assert weights.object_metadata == editor.object_metadata


def test_nested_models_and_wrapped_layers_keep_their_weights(tmp_path, capsys):
    x = keras.Input((4,))
    h = layers.Bidirectional(layers.LSTM(2))(layers.Reshape((2, 2))(x))
    model = keras.Model(x, keras.Sequential([layers.Dense(3)])(h))
    model.save(tmp_path / "n.keras")
    editor, _ = _open(tmp_path / "n.keras", capsys)
    tree = editor.weights_dict["layers"]
    assert tree["bidirectional"]["forward_layer"]["cell"]["0"].shape == (2, 8)
    assert tree["sequential"]["layers"]["dense"]["0"].shape == (4, 3)
    assert editor.object_metadata["/layers/bidirectional/forward_layer"] == {
        "name": "forward_lstm"}
    editor.save(tmp_path / "n.weights.h5")
    same = keras.models.clone_model(model)
    same.load_weights(tmp_path / "n.weights.h5")
    for a, b in zip(model.weights, same.weights):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_summary_draws_the_tree_with_shapes_and_layer_names(tmp_path, capsys):
    _model().save(tmp_path / "m.keras")
    editor, _ = _open(tmp_path / "m.keras", capsys)
    editor.summary()
    assert capsys.readouterr().out.splitlines() == SMALL_TREE


def test_compare_reports_each_difference_and_counts_them(tmp_path, capsys):
    _model(compiled=True).save(tmp_path / "m.keras")
    editor, _ = _open(tmp_path / "m.keras", capsys)
    result = editor.compare(_model(compiled=True))
    assert result == {"status": "success", "error_count": 0, "match_count": 14}
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "Comparison successful: saved file is compatible with the reference model",
        "    Found 14 matching weights",
    ]
    result = editor.compare(_model(units=(3, 5, 1), names=("a", "b", "c")))
    assert result == {"status": "error", "error_count": 4, "match_count": 2}
    assert capsys.readouterr().out.splitlines() == [
        "Running comparison",
        "...Weight shape mismatch for /layers/dense_1/0",
        "    In reference model: shape=(3, 5)",
        "    In saved file: shape=(3, 2)",
        "...Weight shape mismatch for /layers/dense_1/1",
        "    In reference model: shape=(5,)",
        "    In saved file: shape=(2,)",
        "...Object /layers/dense_2 present in reference model, missing from saved file",
        "    In reference model, /layers/dense_2 contains the following keys: ['0', '1']",
        "...Object /optimizer present in saved file, missing from reference model",
        "    In saved file, /optimizer contains the following keys: ['0', '1', '2', '3', ",
        "'4', '5', '6', '7', '8', '9']",
        "─────────────────────",
        "Found 4 errors: saved file is not compatible with the reference model",
    ]
    with pytest.raises(TypeError, match="netknit model or layer"):
        editor.compare("m.keras")


# ---------------------------------------------------------------- editing and saving


def test_edits_saved_to_a_weights_file_load_into_the_edited_architecture(tmp_path, capsys):
    _model().save(tmp_path / "m.keras")
    editor, _ = _open(tmp_path / "m.keras", capsys)
    editor.rename_object("dense_1", "head")  # a name that occurs once
    assert list(editor.weights_dict["layers"]) == ["dense", "head"]  # in place
    assert editor.object_metadata["/layers/head"] == {"name": "b"}
    editor.delete_object("/layers/head")
    assert "/layers/head" not in editor.object_metadata
    kernel = np.arange(15, dtype="float32").reshape(3, 5)
    editor.add_object("layers/dense_1", {"0": kernel, "1": torch.ones(5)})
    editor.delete_weight("layers/dense_1", "1")
    editor.add_weights("dense_1", {"1": [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert editor.weights_dict["layers"]["dense_1"]["1"].dtype == np.float64
    editor.save(tmp_path / "edited.weights.h5")
    wider = _model(units=(3, 5))
    wider.load_weights(tmp_path / "edited.weights.h5")
    np.testing.assert_array_equal(wider.layers[1].kernel.detach().numpy(), kernel)
    np.testing.assert_array_equal(wider.layers[1].bias.detach().numpy(), [1, 2, 3, 4, 5])
    reopened, _ = _open(tmp_path / "edited.weights.h5", capsys)
    assert reopened.object_metadata == {"/layers/dense": {"name": "a"}}


def test_a_keras_file_saved_over_itself_keeps_its_config(tmp_path, capsys):
    model = _model()
    model.save(tmp_path / "m.keras")
    editor, _ = _open(tmp_path / "m.keras", capsys)
    editor.add_weights("layers/dense_1", {"1": np.full(2, 7.0, dtype="float32")})
    editor.resave_weights(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.layers[1].bias.detach().numpy(), [7, 7])
    assert os.listdir(tmp_path) == ["m.keras"]  # no temporary file left behind


@pytest.mark.parametrize("edit, error, message", [
    (lambda e: e.rename_object("0", "w"), ValueError, r"occurs 2 times.*/dense/0, layers/dense_1"),
    (lambda e: e.rename_object("conv2d", "w"), ValueError, "does not appear"),
    (lambda e: e.rename_object("layers/conv2d", "w"), ValueError, "not found"),
    (lambda e: e.rename_object("dense", "layers/w"), ValueError, "new_name without '/'"),
    (lambda e: e.rename_object("dense", "dense_1"), ValueError, "'layers/dense_1' exists"),
    (lambda e: e.delete_object(""), ValueError, "name or path"),
    (lambda e: e.add_object("model/dense", {}), ValueError, "Path 'model' not found"),
    (lambda e: e.add_object("layers/w", [np.ones(2)]), ValueError, "should be a dict"),
    (lambda e: e.add_object("layers/w", {"0": "text"}), ValueError, r"numbers.*layers/w/0"),
    (lambda e: e.add_weights("layers/dense/0", {}), ValueError, "is a weight, not an object"),
    (lambda e: e.delete_weight("dense", "2"), ValueError, r"Weights found: \['0', '1'\]"),
    (lambda e: e.save("edited.h5"), ValueError, r"\.weights\.h5"),
])
def test_edits_check_their_arguments(tmp_path, capsys, edit, error, message):
    _model().save(tmp_path / "m.keras")
    editor, _ = _open(tmp_path / "m.keras", capsys)
    with pytest.raises(error, match=message):
        edit(editor)


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path, capsys):
    _model().save_weights(tmp_path / "m.weights.h5")
    editor, _ = _open(tmp_path / "m.weights.h5", capsys)
    with pytest.raises(ValueError, match="needs the model's config"):
        editor.save(tmp_path / "m.keras")
    before = (tmp_path / "m.weights.h5").read_bytes()
    editor.weights_dict["layers"]["dense"]["0"] = "not a weight"
    with pytest.raises(ValueError, match=r"/layers/dense/0"):
        editor.save(tmp_path / "m.weights.h5")
    assert (tmp_path / "m.weights.h5").read_bytes() == before
    assert os.listdir(tmp_path) == ["m.weights.h5"]


# ---------------------------------------------------------------- damaged and hostile files


def _damage(tmp_path, how):
    """Write a damaged file of the kind `how` names and return its path."""
    _model().save(tmp_path / "m.keras")
    if how == "truncated":
        data = (tmp_path / "m.keras").read_bytes()
        (tmp_path / "m.keras").write_bytes(data[:len(data) // 2])
    elif how in ("weights", "metadata"):
        with zipfile.ZipFile(tmp_path / "m.keras") as source:
            members = {name: source.read(name) for name in source.namelist()}
        members["model.weights.h5" if how == "weights" else "metadata.json"] = b"garbage"
        with zipfile.ZipFile(tmp_path / "m.keras", "w") as target:
            for name, data in members.items():
                target.writestr(name, data)
    else:
        path = tmp_path / "m.weights.h5"
        if how == "not h5":
            path.write_bytes(b"\x89HDF but not really")
        elif how == "text":
            _h5(path, {"layers/dense/vars/0": np.array(["text"], dtype="S4")})
        elif how == "clash":
            _h5(path, {"layers/dense/vars/0": np.ones(2), "layers/dense/0/vars/0": np.ones(2)})
        else:  # external data: the values would come from another file on this machine
            (tmp_path / "secret").write_bytes(b"secret!!")
            with h5py.File(path, "w") as f:
                f.create_dataset("layers/dense/vars/0", shape=(8,), dtype="u1",
                                 external=[(str(tmp_path / "secret"), 0, 8)])
        return path
    return tmp_path / "m.keras"


@pytest.mark.parametrize("how, message", [
    ("truncated", "not a readable .keras"),
    ("weights", "not a readable weights file"),
    ("metadata", "metadata.json cannot be read"),
    ("not h5", "not a readable weights file"),
    ("text", "not numbers"),
    ("clash", "'layers/dense/0' is both an object and a weight"),
    ("external", "outside the file"),
])
def test_damaged_files_raise_saving_error_naming_the_problem(tmp_path, how, message):
    with pytest.raises(SavingError, match=message):
        KerasFileEditor(_damage(tmp_path, how))


def test_opening_reads_the_config_as_data_and_builds_nothing(tmp_path, capsys):
    _model().save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as source:
        members = {name: source.read(name) for name in source.namelist()}
    hostile = {"class_name": "Lambda", "module": "os", "registered_name": "system",
               "config": {"function": {"class_name": "__lambda__", "config": {"code": "ZZZ"}}}}
    members["config.json"] = json.dumps(hostile).encode()
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    editor, _ = _open(tmp_path / "m.keras", capsys)
    assert editor.config == hostile
    with pytest.raises(ValueError, match="KerasFileEditor opens"):
        KerasFileEditor(tmp_path / "m.h5")
    with pytest.raises(FileNotFoundError):
        KerasFileEditor(tmp_path / "absent.keras")


# ---------------------------------------------------------------- side by side with Keras

keras_warnings = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras",
                                            "ignore::UserWarning:keras")


def _assert_same_tree(ours, theirs):
    assert list(ours) == list(theirs)
    for key, value in ours.items():
        if isinstance(value, dict):
            _assert_same_tree(value, theirs[key])
        else:
            np.testing.assert_array_equal(value, np.asarray(theirs[key]), strict=True)


@keras_warnings
@pytest.mark.parametrize("saved_by", ["keras", "netknit"])
def test_both_editors_read_the_same_tree_and_draw_the_same_summary(tmp_path, capsys,
                                                                  real_keras, saved_by):
    _model(real_keras if saved_by == "keras" else keras, compiled=True).save(tmp_path / "m.keras")
    theirs = real_keras.saving.KerasFileEditor(str(tmp_path / "m.keras"))
    their_header = capsys.readouterr().out.splitlines()
    ours, our_header = _open(tmp_path / "m.keras", capsys)
    if saved_by == "keras":
        assert our_header == their_header
    _assert_same_tree(ours.weights_dict, theirs.weights_dict)
    assert ours.object_metadata == theirs.object_metadata
    assert ours.config == theirs.config and ours.metadata == theirs.metadata
    theirs.summary()
    their_summary = capsys.readouterr().out
    ours.summary()
    # Keras's editor means to show each layer's name too, but looks it up under another path.
    assert re.sub(r" \('\w+'\)", "", capsys.readouterr().out) == their_summary


@keras_warnings
@pytest.mark.parametrize("edit, reference", [
    ("rename", ((3, 2), ("a", "b"))),  # the file's dense_1 renamed: one missing on each side
    (None, ((3,), ("a",))),  # a layer the model no longer has
])
def test_compare_agrees_with_keras(tmp_path, capsys, real_keras, edit, reference):
    _model(real_keras).save(tmp_path / "m.keras")
    theirs = real_keras.saving.KerasFileEditor(str(tmp_path / "m.keras"))
    ours, _ = _open(tmp_path / "m.keras", capsys)
    if edit:
        theirs.rename_object("dense_1", "dense_9")
        ours.rename_object("dense_1", "dense_9")
    their_result = theirs.compare(_model(real_keras, *reference))
    their_report = capsys.readouterr().out
    assert ours.compare(_model(keras, *reference)) == their_result
    assert capsys.readouterr().out == their_report
    assert their_result["status"] == "error"


@keras_warnings
def test_files_edited_by_netknit_load_in_keras(tmp_path, capsys, real_keras):
    original = _model(real_keras)
    original.save(tmp_path / "m.keras")
    editor, _ = _open(tmp_path / "m.keras", capsys)
    bias = np.array([5.0, 6.0], dtype="float32")
    editor.add_weights("layers/dense_1", {"1": bias})
    editor.save(tmp_path / "edited.keras")
    loaded = real_keras.saving.load_model(tmp_path / "edited.keras")
    np.testing.assert_array_equal(loaded.layers[1].bias.numpy(), bias)
    np.testing.assert_array_equal(loaded.layers[0].kernel.numpy(),
                                  original.layers[0].kernel.numpy())
    ours = keras.models.load_model(tmp_path / "edited.keras")
    np.testing.assert_array_equal(ours.layers[1].bias.detach().numpy(), bias)

    extra = np.ones((2, 1), dtype="float32")
    editor.add_object("layers/dense_2", {"0": extra, "1": np.zeros(1, dtype="float32")})
    editor.save(tmp_path / "deeper.weights.h5")
    deeper = _model(real_keras, units=(3, 2, 1), names=("a", "b", "c"))
    deeper.load_weights(tmp_path / "deeper.weights.h5")
    np.testing.assert_array_equal(deeper.layers[2].kernel.numpy(), extra)
    np.testing.assert_array_equal(deeper.layers[1].bias.numpy(), bias)


@keras_warnings
def test_files_edited_by_keras_load_in_netknit(tmp_path, capsys, real_keras):
    original = _model(keras)
    original.save(tmp_path / "m.keras")
    theirs = real_keras.saving.KerasFileEditor(str(tmp_path / "m.keras"))
    theirs.delete_object("layers/dense_1")
    theirs.save(str(tmp_path / "shallow.weights.h5"))
    capsys.readouterr()
    shallow = _model(keras, units=(3,), names=("a",))
    shallow.load_weights(tmp_path / "shallow.weights.h5")
    np.testing.assert_array_equal(shallow.layers[0].kernel.detach().numpy(),
                                  original.layers[0].kernel.detach().numpy())
    ours, _ = _open(tmp_path / "shallow.weights.h5", capsys)
    _assert_same_tree(ours.weights_dict, theirs.weights_dict)
    assert ours.object_metadata == {}  # Keras's editor does not write the layers' names
