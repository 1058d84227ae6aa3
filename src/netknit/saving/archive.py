"""The `.keras` file: a zip of `config.json`, `metadata.json` and `model.weights.h5` (and Keras's
legacy `.h5` format, through `legacy_h5.py`). With `zipped=False` the same three files go to a
directory instead, beside an `assets` folder, as Keras lays one out; `load_model` reads such a
directory too. A user's layer with `save_assets`/`load_assets` (or `save_own_variables`/
`load_own_variables`) hooks has them called, as Keras calls them.

The layout is Keras 3's, so files move between netknit and Keras both ways. Writing is atomic:
the file is written next to its destination under a temporary name and moved into place with
`os.replace`, so a crash or `kill` during a save leaves the previous file whole. Reading never
unpickles and never runs code from the file: JSON, numeric h5 datasets, and classes looked up in
netknit's registry. A file that is truncated, corrupted or edited into nonsense raises
`SavingError` naming what is wrong.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import tempfile
import zipfile

from ..file_io import atomic_write, write_directory_atomically
from ..optimizers import LossScaleOptimizer
from .legacy_h5 import (
    LEGACY_SUFFIXES,
    compile_config_from_training_config,
    is_legacy_weights_file,
    load_legacy_weights,
    read_legacy_model,
    read_legacy_weights,
    save_legacy_model,
)
from .registry import CustomObjectScope, SavingError
from .serialization import deserialize_keras_object, serialize_keras_object
from .weights import (
    load_model_arrays,
    model_arrays,
    read_h5,
    read_safetensors,
    saveables,
    users_hook,
    write_h5,
    write_safetensors,
)

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
ASSETS = "assets"  # the folder of layer assets: what a user's layer's `save_assets` writes
KERAS_VERSION = "3.15.1"  # the Keras release whose format netknit writes
_MAX_MEMBER_BYTES = 1 << 32


# ---------------------------------------------------------------- whole models


def save_model(model, filepath, overwrite: bool = True, zipped: bool | None = None) -> None:
    """Write `model` (config, weights, compiled state) to a `.keras` file, or with
    `zipped=False` to a directory of the same files (whose path must not end in `.keras`)."""
    filepath = os.fspath(filepath)
    if zipped is not None and not isinstance(zipped, bool):
        raise TypeError(f"Expected zipped=True, False or None. Received: zipped={zipped!r}")
    if zipped is False:
        if filepath.endswith(".keras"):
            raise ValueError(
                "With zipped=False the model is saved as a directory, whose path should not end "
                f"in .keras. Received: filepath={filepath!r}. Drop the suffix, or save zipped.")
    elif not filepath.endswith((".keras", *LEGACY_SUFFIXES)):
        raise ValueError(
            "model.save() writes the Keras 3 format, whose file name ends in .keras (or Keras's "
            f"legacy HDF5 format, .h5). Received: filepath={filepath!r}. Use "
            "model.save_weights('...weights.h5') for weights alone."
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    if filepath.endswith(LEGACY_SUFFIXES):
        buffer = io.BytesIO()
        save_legacy_model(model, buffer, serialize_keras_object(model), compile_config_of(model),
                          KERAS_VERSION)
        with atomic_write(filepath) as file:
            file.write(buffer.getvalue())
        return
    from .. import __version__

    # 1. Everything is serialized before a file is opened, so errors leave no trace.
    weights = io.BytesIO()
    write_h5(weights, *model_arrays(model))
    members = {
        METADATA: json.dumps({
            "keras_version": KERAS_VERSION,
            "netknit_version": __version__,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        }).encode(),
        CONFIG: json.dumps(model_config(model)).encode(),
        WEIGHTS: weights.getvalue(),
        **_saved_assets(model),
    }
    # 2. Then written in one go, atomically.
    if zipped is False:
        write_directory_atomically(filepath, members, folders=(ASSETS,),
                                   replaceable={CONFIG, METADATA, WEIGHTS, ASSETS})
        return
    with atomic_write(filepath) as file, zipfile.ZipFile(file, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _saved_assets(model) -> dict:
    """`{"assets/<layer path>/<file>": contents}`: the files each of the user's layers with a
    `save_assets` hook writes into a folder of its own, as Keras keeps them."""
    members = {}
    for entry in saveables(model):
        if not users_hook(entry.layer, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as root_folder:
            # The folder is named as the layer's place in the file, as Keras names it.
            folder = os.path.join(root_folder, ASSETS, *filter(None, entry.path.split("/")))
            os.makedirs(folder)
            entry.layer.save_assets(folder)
            for root, _, files in os.walk(folder):
                for name in files:
                    path = os.path.join(root, name)
                    relative = os.path.relpath(path, folder).replace(os.sep, "/")
                    with open(path, "rb") as file:
                        members["/".join(p for p in (ASSETS, entry.path, relative) if p)] = (
                            file.read())
    return members


def _load_assets(model, filepath: str, is_directory: bool) -> None:
    """Call `load_assets` of each of the user's layers that has one, with the folder of the
    files saved for it (an empty one when there are none)."""
    entries = [e for e in saveables(model) if users_hook(e.layer, "load_assets")]
    if not entries:
        return
    if is_directory:
        for entry in entries:
            entry.layer.load_assets(os.path.join(filepath, ASSETS, entry.path))
        return
    with zipfile.ZipFile(filepath, "r") as archive, tempfile.TemporaryDirectory() as folder:
        for info in archive.infolist():
            parts = info.filename.split("/")
            # Only plain relative names under assets/ are extracted: nothing may land outside.
            if parts[0] != ASSETS or info.is_dir() or any(p in ("", ".", "..") for p in parts):
                continue
            if info.file_size > _MAX_MEMBER_BYTES:
                raise SavingError(f"{filepath}: the member {info.filename} is implausibly large.")
            target = os.path.join(folder, *parts)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as file:
                file.write(archive.read(info))
        for entry in entries:
            inner = os.path.join(folder, ASSETS, *filter(None, entry.path.split("/")))
            os.makedirs(inner, exist_ok=True)
            entry.layer.load_assets(inner)


def model_config(model) -> dict:
    """The model's entry in `config.json`, with its compile arguments when compiled."""
    entry = serialize_keras_object(model)
    entry.setdefault("build_config", {"input_shape": None})
    # A user's model may override `get_compile_config` (and `compile_from_config`), as in Keras.
    compile_config = serialize_keras_object(model.get_compile_config())
    if compile_config is not None:
        entry["compile_config"] = compile_config
    return entry


def compile_config_of(model) -> dict | None:
    """`compile`'s arguments in Keras 3's `compile_config` form; None if not compiled."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    compile_args = model._compile_config
    return {
        # The optimizer compile was given: a LossScaleOptimizer it added is not saved, as in Keras.
        "optimizer": serialize_keras_object(compile_args.get("optimizer", model.optimizer)),
        **{k: serialize_keras_object(compile_args[k])
           for k in ("loss", "loss_weights", "metrics", "weighted_metrics")},
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": bool(getattr(model, "_jit_compile", False)),
    }


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Load a model saved with `model.save` (by netknit or Keras 3) from a `.keras` file, or
    from the directory `model.save(..., zipped=False)` writes.

    Args:
        filepath: the `.keras` file, or the model's directory.
        custom_objects: `{name: class or function}` for your own layers, losses, ... that are
            not registered with `register_keras_serializable`.
        compile: restore the compiled state (optimizer with its slots, loss, metrics).
        safe_mode: refuse to load Python code stored in the file (`Lambda` layers).

    Raises:
        SavingError: the file is not a model file netknit can read, or it is damaged.
    """
    filepath = os.fspath(filepath)
    is_directory = os.path.isfile(os.path.join(filepath, CONFIG))
    if filepath.endswith(LEGACY_SUFFIXES) and not is_directory:
        return _load_legacy_model(filepath, custom_objects, compile, safe_mode)
    if not (filepath.endswith(".keras") or is_directory):
        raise ValueError(
            f"load_model reads .keras files, model directories (saved with zipped=False, holding "
            f"a {CONFIG}) and Keras's legacy .h5 files. Received: {filepath!r}. For a weights "
            "file use model.load_weights()."
        )
    if not (is_directory or os.path.isfile(filepath)):
        raise _FileNotFound(f"File not found: filepath={filepath}. Please ensure the file is an "
                            "accessible `.keras` zip file.")
    # 1. Read the config and the weights.
    if is_directory:
        config, weights = _read_directory(filepath)
    else:
        config, contents = _read_archive(filepath)
        weights = io.BytesIO(contents)
    with _rebuilding(filepath):
        # 2. Rebuild the model from its config.
        model = _model_from_config(filepath, config, custom_objects, safe_mode)
        # 3. Compile (which creates the optimizer), then restore weights and optimizer state.
        compile_config = config.get("compile_config")
        if compile and compile_config and users_hook(model, "compile_from_config"):
            with CustomObjectScope(custom_objects or {}):
                model.compile_from_config(compile_config)
        elif compile and compile_config:
            compile_from_config(model, compile_config, custom_objects)
        arrays = read_h5(weights, f"The weights in {filepath}")
        _restore_loss_scaling(model, arrays)
        load_model_arrays(model, arrays, f"The weights in {filepath}")
        _load_assets(model, filepath, is_directory)
    return model


class _FileNotFound(FileNotFoundError, ValueError):
    """A missing model file: Keras raises ValueError, Python code expects FileNotFoundError."""


def _load_legacy_model(filepath: str, custom_objects, compile: bool, safe_mode: bool):
    """`load_model` for Keras's legacy HDF5 format: config, compile arguments, weights by the
    order of the layers (the optimizer starts afresh)."""
    source = f"The legacy model file {filepath}"
    config, training_config, saved = read_legacy_model(filepath, source)
    with _rebuilding(filepath):
        model = _model_from_config(filepath, config, custom_objects, safe_mode)
        if compile and training_config:
            compile_from_config(model, compile_config_from_training_config(training_config),
                                custom_objects)
        load_legacy_weights(model, saved, source)
    return model


@contextlib.contextmanager
def _rebuilding(filepath: str):
    """Any error while a model is rebuilt from a file is a SavingError that names the file."""
    try:
        yield
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(
            f"{filepath}: the saved model cannot be rebuilt ({type(error).__name__}: {error})."
        ) from error


def _model_from_config(filepath: str, config: dict, custom_objects, safe_mode: bool):
    model = deserialize_keras_object(config, custom_objects, safe_mode)
    if not hasattr(model, "compile"):
        raise SavingError(f"{filepath} holds a {config.get('class_name')}, not a model.")
    return model


def _restore_loss_scaling(model, arrays: dict) -> None:
    """Wrap the optimizer in a LossScaleOptimizer when the file's was one (its inner optimizer's
    variables are stored apart): `compile` adds it only when the model's own policy is
    mixed_float16, and a functional model's policy is not saved, so without this the saved
    optimizer state would not fit."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not isinstance(optimizer, LossScaleOptimizer) and any(
        k.startswith("optimizer/inner_optimizer/") for k in arrays
    ):
        model.optimizer = LossScaleOptimizer(optimizer, name="loss_scale_optimizer")


def _read_archive(filepath: str) -> tuple[dict, bytes]:
    try:
        with zipfile.ZipFile(filepath, "r") as archive:
            names = set(archive.namelist())
            missing = [n for n in (CONFIG, WEIGHTS) if n not in names]
            if missing:
                raise SavingError(f"{filepath} is not a complete .keras file: it has no {missing}.")
            for name in (CONFIG, WEIGHTS):
                if archive.getinfo(name).file_size > _MAX_MEMBER_BYTES:
                    raise SavingError(f"{filepath}: the member {name} is implausibly large.")
            config_text = archive.read(CONFIG)
            weights = archive.read(WEIGHTS)
    except SavingError:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as error:
        raise SavingError(f"{filepath} is not a readable .keras (zip) file: {error}") from error
    return _parsed_config(filepath, config_text), weights


def _read_directory(dirpath: str) -> tuple[dict, str]:
    """The config of a model directory, and the path of its weights file."""
    weights = os.path.join(dirpath, WEIGHTS)
    if not os.path.isfile(weights):
        raise SavingError(f"{dirpath} is not a complete model directory: it has no {WEIGHTS}.")
    try:
        with open(os.path.join(dirpath, CONFIG), "rb") as file:
            config_text = file.read(_MAX_MEMBER_BYTES + 1)
    except OSError as error:
        raise SavingError(f"{dirpath}: {CONFIG} cannot be read ({error}).") from error
    if len(config_text) > _MAX_MEMBER_BYTES:
        raise SavingError(f"{dirpath}: {CONFIG} is implausibly large.")
    return _parsed_config(dirpath, config_text), weights


def _parsed_config(filepath: str, config_text: bytes) -> dict:
    try:
        config = json.loads(config_text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise SavingError(f"{filepath}: {CONFIG} is not valid JSON ({error}).") from error
    if not isinstance(config, dict) or "class_name" not in config:
        raise SavingError(f"{filepath}: {CONFIG} does not describe a model.")
    return config


def compile_from_config(model, compile_config: dict, custom_objects=None) -> None:
    """`model.compile(...)` with the arguments of a `compile_config`."""
    if not isinstance(compile_config, dict):
        raise SavingError("The saved compile_config is not a dict.")

    def restore(value):
        if isinstance(value, str) and custom_objects and value in custom_objects:
            return custom_objects[value]
        if isinstance(value, dict) and "class_name" in value:
            return deserialize_keras_object(value, custom_objects)
        if isinstance(value, dict):
            return {k: restore(v) for k, v in value.items()}
        if isinstance(value, list):
            return [restore(v) for v in value]
        return value

    known = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "jit_compile")
    arguments = {k: restore(compile_config[k]) for k in known if k in compile_config}
    try:
        model.compile(**arguments)
    except (TypeError, ValueError) as error:
        raise SavingError(
            f"The saved compile settings cannot be restored ({error}). Pass custom_objects= for "
            "your own losses or metrics, or load with compile=False."
        ) from error


# ---------------------------------------------------------------- weights alone


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write the weights (and optimizer state) to `.weights.h5`, or to `.safetensors`."""
    filepath = os.fspath(filepath)
    if not filepath.endswith((".weights.h5", ".safetensors")):
        raise ValueError(
            "save_weights writes files ending in .weights.h5 (Keras's format) or .safetensors. "
            f"Received: filepath={filepath!r}"
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    if filepath.endswith(".safetensors"):
        arrays, _ = model_arrays(model, include_optimizer=False)
        buffer = io.BytesIO()
        write_safetensors(buffer, arrays)
    else:
        buffer = io.BytesIO()
        write_h5(buffer, *model_arrays(model))
    with atomic_write(filepath) as file:
        file.write(buffer.getvalue())


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Load weights written by `save_weights` (netknit's or Keras's) into `model`.

    Args:
        model: the model to load into.
        filepath: a `.weights.h5` or `.safetensors` file, or the weights of a `.keras` file; or
            a legacy Keras `.h5` file (weights or whole model), whose weights go to the layers
            in order, or by name.
        skip_mismatch: let layers whose weights do not fit keep theirs, with a warning.
        by_name: for a legacy `.h5` file only, load into the layers of the same names.
    """
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No weights file at {filepath}.")
    source = f"The weights file {filepath}"
    legacy = filepath.endswith(LEGACY_SUFFIXES) and is_legacy_weights_file(filepath)
    if by_name and not legacy:
        raise ValueError(
            "by_name=True applies to Keras's legacy .h5 weights files only (a .weights.h5 file "
            f"keys weights by the model's structure). Received: {filepath!r}"
        )
    if legacy:
        saved = read_legacy_weights(filepath, source)
        load_legacy_weights(model, saved, source, by_name=by_name, skip_mismatch=skip_mismatch)
        return
    if filepath.endswith(".safetensors"):
        arrays = read_safetensors(filepath, source)
    elif filepath.endswith(LEGACY_SUFFIXES):
        arrays = read_h5(filepath, source)
    elif filepath.endswith(".keras"):  # the weights of a whole-model file, as Keras allows
        arrays = read_h5(io.BytesIO(_read_archive(filepath)[1]), source)
    else:
        raise ValueError(
            "load_weights reads .weights.h5, .safetensors and .keras files (and Keras's legacy "
            f".h5 files). Received: {filepath!r}"
        )
    load_model_arrays(model, arrays, source, skip_mismatch=skip_mismatch)
