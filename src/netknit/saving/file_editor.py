"""`KerasFileEditor`: look inside a `.keras` or `.weights.h5` file, edit its weights, save them.

The editor holds the file's weights as a tree of dicts, `weights_dict`, laid out like the h5
file with Keras's `vars` groups folded into their objects: the array at `layers/dense/vars/0`
is `weights_dict["layers"]["dense"]["0"]`. Edits change the tree; `save` writes it back in
Keras's layout, so the result loads in netknit and in Keras.

Reading goes through the same checks as `load_model`: JSON, numeric h5 datasets, nothing
unpickled and no class built from the config, and a damaged file raises `SavingError`.

Where Keras 3.15's editor slips, this one does what Keras documents: an object keeps the
objects nested in it (Keras's drops a nested model's or a Bidirectional's weights whenever the
outer object has a `vars` group), `compare` counts each match and error once, and `summary`
shows the layer names that Keras's looks up under the wrong path.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import torch

from ..dtype_policies import to_numpy
from ..file_io import atomic_write
from ..layers.layer import Layer
from .archive import _MAX_MEMBER_BYTES, CONFIG, METADATA, WEIGHTS, _read_archive
from .registry import SavingError
from .weights import _join, model_arrays, read_h5, write_h5


class KerasFileEditor:
    """Inspect, edit and resave the weights of a `.keras` or `.weights.h5` file.

    Useful for adapting a saved file to a model whose architecture has changed: `compare` lists
    where the file and the model differ, and the editing methods rename, remove or add objects
    (layers, optimizers) and weights until they agree.

    Objects are named by their path in the file, as `summary` shows it (`"layers/dense_2"`), or
    by their last part alone (`"dense_2"`) when that occurs once in the file.

    Args:
        filepath: a `.keras` file (its weights, `config` and `metadata` are read) or a
            `.weights.h5` file.

    Attributes:
        weights_dict: the weights as nested dicts of NumPy arrays; edit it directly or with
            the methods below.
        object_metadata: `{"/path/of/object": {"name": layer name}}` as recorded in the file.
        config, metadata: the `.keras` file's `config.json` and `metadata.json` as dicts
            (None for a `.weights.h5` file).

    Raises:
        SavingError: the file is damaged or holds something other than numeric weights.

    Example:

    >>> editor = KerasFileEditor("my_model.keras")
    >>> editor.summary()
    >>> editor.compare(new_model)
    >>> editor.delete_object("layers/dense_2")
    >>> editor.add_object("layers/einsum_dense", weights={"0": kernel, "1": bias})
    >>> editor.save("edited_model.weights.h5")
    >>> new_model.load_weights("edited_model.weights.h5")
    """

    def __init__(self, filepath: str | os.PathLike):
        filepath = os.fspath(filepath)
        if not filepath.endswith((".keras", ".weights.h5")):
            raise ValueError(
                "KerasFileEditor opens files whose name ends in .keras or .weights.h5. "
                f"Received: filepath={filepath!r}"
            )
        if not os.path.isfile(filepath):
            raise FileNotFoundError(f"No file at {filepath}.")
        self.filepath = filepath
        self.config = self.metadata = None
        names: dict[str, str] = {}
        if filepath.endswith(".keras"):
            self.config, weights = _read_archive(filepath)
            self.metadata = _read_metadata(filepath)
            source = f"The weights in {filepath}"
            arrays = read_h5(io.BytesIO(weights), source, names)
        else:
            source = f"The weights file {filepath}"
            arrays = read_h5(filepath, source, names)
        self.weights_dict = _tree(arrays, source)
        self.object_metadata = {}
        for group, name in names.items():
            path = group.split("/")
            if path[-1] == "vars":  # Keras names an object on its vars group
                path.pop()
            # Only objects in the tree: those holding weights or holding objects that do.
            if path and isinstance(_lookup(self.weights_dict, path), dict):
                self.object_metadata["/" + "/".join(path)] = {"name": name}
        _print(self._header())

    # ------------------------------------------------------------ inspecting

    def summary(self) -> None:
        """Print the tree of objects and weights in the file, with each weight's shape and dtype.

        Example:

        >>> KerasFileEditor("model.keras").summary()
        Weights structure
          > layers
          │   ├─ dense ('dense')
          │   │   ├─ 0: shape=(4, 3), dtype=float32
          ...
        """
        _print(["Weights structure", *_tree_lines(self.weights_dict, self.object_metadata)])

    def compare(self, reference_model: Layer) -> dict:
        """List every difference between the file and the weights of `reference_model`.

        Reports, with their paths, the objects and weights that one has and the other lacks,
        and the weights whose shapes differ.

        Args:
            reference_model: the netknit model (or layer) the file should fit.

        Returns:
            `{"status": "success" or "error", "error_count": differences found,
            "match_count": weights present in both with the same shape}`.

        Example:

        >>> KerasFileEditor("model.keras").compare(model)
        {'status': 'success', 'error_count': 0, 'match_count': 4}
        """
        if not isinstance(reference_model, Layer):
            raise TypeError(
                "compare() takes a netknit model or layer to compare the file with. "
                f"Received: {type(reference_model).__name__}"
            )
        reference = _tree(model_arrays(reference_model)[0], "The reference model")
        lines = ["Running comparison"]
        # 1. What the model has: missing from the file, or of another shape?
        errors, matches = _compare_trees(reference, self.weights_dict, "",
                                         ("reference model", "saved file"), lines, True)
        # 2. What the file has and the model lacks (shapes were checked in 1).
        errors += _compare_trees(self.weights_dict, reference, "",
                                 ("saved file", "reference model"), lines, False)[0]
        lines.append("─" * 21)
        if errors == 0:
            lines += [
                "[color(28)][bold]Comparison successful:[/] saved file is compatible with the "
                "reference model[/]",
                f"    Found {matches} matching weight{'' if matches == 1 else 's'}",
            ]
        else:
            lines.append(
                f"[color(160)][bold]Found {errors} error{'' if errors == 1 else 's'}:[/] saved "
                "file is not compatible with the reference model[/]"
            )
        _print(lines)
        return {"status": "error" if errors else "success", "error_count": errors,
                "match_count": matches}

    # ------------------------------------------------------------ editing

    def rename_object(self, object_name: str, new_name: str) -> None:
        """Rename an object (e.g. a layer) in place.

        Args:
            object_name: the object's name or path, e.g. `"dense_2"` or `"layers/dense_2"`.
            new_name: its new name, the last part of the path only (e.g. `"dense_3"`).

        Example:

        >>> editor.rename_object("layers/dense_2", "dense_3")
        """
        _check_key(new_name, "new_name")
        path = self._find(object_name)
        parent = _lookup(self.weights_dict, path[:-1])
        if new_name in parent and new_name != path[-1]:
            raise ValueError(
                f"Cannot rename '{'/'.join(path)}' to '{new_name}': "
                f"'{'/'.join([*path[:-1], new_name])}' exists. Remove it first with "
                "delete_object()."
            )
        # Rebuilt in order so that the object keeps its place among its siblings.
        items = list(parent.items())
        parent.clear()
        parent.update((new_name if key == path[-1] else key, value) for key, value in items)
        self._move_metadata(path, [*path[:-1], new_name])

    def delete_object(self, object_name: str) -> None:
        """Remove an object (e.g. a layer) and all its weights.

        Args:
            object_name: the object's name or path, e.g. `"dense_2"` or `"layers/dense_2"`.

        Example:

        >>> editor.delete_object("layers/dense_2")
        """
        path = self._find(object_name)
        del _lookup(self.weights_dict, path[:-1])[path[-1]]
        self._move_metadata(path, None)

    def add_object(self, object_path: str, weights: dict) -> None:
        """Add an object (e.g. a layer) with its weights, or replace the one at that path.

        Args:
            object_path: the object's full path, e.g. `"layers/dense_2"`; every part but the
                last must exist.
            weights: `{weight name: array}`, e.g. `{"0": kernel, "1": bias}` (the names are a
                layer's weight indices, in the order of `layer.weights`). Arrays may be NumPy
                arrays, tensors or nested lists of numbers.

        Example:

        >>> editor.add_object("layers/dense_2", {"0": np.zeros((4, 2)), "1": np.zeros(2)})
        """
        if not isinstance(object_path, str) or not object_path.strip("/"):
            raise ValueError(
                f"Expected the object's path, e.g. 'layers/dense_2'. Received: {object_path!r}"
            )
        path = object_path.strip("/").split("/")
        for part in path:
            _check_key(part, "part of object_path")
        weights = _checked_weights(weights, object_path)
        parent = _lookup(self.weights_dict, path[:-1])
        if not isinstance(parent, dict):
            raise ValueError(
                f"Path '{'/'.join(path[:-1])}' not found in the file. Call summary() to see "
                "its objects."
            )
        parent[path[-1]] = weights
        self._move_metadata(path, None)  # the name recorded for an object replaced here

    def delete_weight(self, object_name: str, weight_name: str) -> None:
        """Remove one weight of an object.

        Args:
            object_name: the object's name or path, e.g. `"dense_2"` or `"layers/dense_2"`.
            weight_name: the weight's name, e.g. `"1"`.

        Example:

        >>> editor.delete_weight("layers/dense_2", "1")  # the bias
        """
        path, node = self._find_object(object_name)
        if weight_name not in node:
            raise ValueError(
                f"Weight {weight_name!r} not found in object '{'/'.join(path)}'. Weights found: "
                f"{list(node)}"
            )
        del node[weight_name]

    def add_weights(self, object_name: str, weights: dict) -> None:
        """Add weights to an existing object, replacing any of the same names.

        Args:
            object_name: the object's name or path, e.g. `"dense_2"` or `"layers/dense_2"`.
            weights: `{weight name: array}`, e.g. `{"1": bias}`.

        Example:

        >>> editor.add_weights("layers/dense_2", {"1": np.zeros(2)})
        """
        weights = _checked_weights(weights, object_name)
        self._find_object(object_name)[1].update(weights)

    # ------------------------------------------------------------ saving

    def save(self, filepath: str | os.PathLike) -> None:
        """Write the edited weights to a `.weights.h5` file, or a whole `.keras` model file.

        The file is written atomically: a crash during the save leaves any previous file whole.

        Args:
            filepath: a `.weights.h5` path; or a `.keras` path when the editor was opened on a
                `.keras` file, whose `config` and `metadata` it then takes.

        Example:

        >>> editor.save("edited.weights.h5")
        >>> model.load_weights("edited.weights.h5")
        """
        filepath = os.fspath(filepath)
        if filepath.endswith(".keras"):
            if self.config is None:
                raise ValueError(
                    f"Cannot save {filepath!r}: a .keras file needs the model's config, and "
                    f"this editor opened the weights file {self.filepath!r}. Save to a "
                    ".weights.h5 file instead."
                )
        elif not filepath.endswith(".weights.h5"):
            raise ValueError(
                "KerasFileEditor.save writes .weights.h5 files (or .keras files, when it opened "
                f"one). Received: filepath={filepath!r}"
            )
        # 1. Everything is converted and checked before the file is opened, so errors leave
        # no trace.
        weights = io.BytesIO()
        write_h5(weights, *_flat(self.weights_dict, self.object_metadata))
        members = {WEIGHTS: weights.getvalue()}
        if filepath.endswith(".keras"):
            members[CONFIG] = json.dumps(self.config)
            if self.metadata is not None:
                members[METADATA] = json.dumps(self.metadata)
        # 2. Then written in one go, atomically.
        with atomic_write(filepath) as file:
            if filepath.endswith(".weights.h5"):
                file.write(members[WEIGHTS])
            else:
                with zipfile.ZipFile(file, "w") as archive:
                    for member in (METADATA, CONFIG, WEIGHTS):
                        if member in members:
                            archive.writestr(member, members[member])

    def resave_weights(self, filepath: str | os.PathLike) -> None:
        """The same as `save(filepath)`: Keras's editor has both names.

        Args:
            filepath: a `.weights.h5` path (or `.keras`, see `save`).

        Example:

        >>> editor.resave_weights("edited.weights.h5")
        """
        self.save(filepath)

    # ------------------------------------------------------------ helpers

    def _header(self) -> list[str]:
        """What opening the file prints: its path, and which Keras saved it when."""
        quoted = f"'{self.filepath}'"
        lines = [f"Keras model file {_highlight(quoted)}"]
        if self.metadata is not None:
            saved_by = _highlight(self.metadata.get("keras_version", "unknown"))
            if "netknit_version" in self.metadata:
                saved_by += f" (netknit {_highlight(self.metadata['netknit_version'])})"
            date = _highlight(self.metadata.get("date_saved", "unknown"))
            lines.append(f"Saved with Keras {saved_by} - date: {date}")
        return lines

    def _find(self, object_name: str) -> list[str]:
        """The path of the object or weight `object_name` names: a path, or a name that
        occurs once in the file."""
        if not isinstance(object_name, str) or not object_name.strip("/"):
            raise ValueError(
                "Expected an object's name or path, e.g. 'dense_2' or 'layers/dense_2'. "
                f"Received: {object_name!r}"
            )
        if "/" in object_name:
            path = object_name.strip("/").split("/")
            if _lookup(self.weights_dict, path) is None:
                raise ValueError(
                    f"Path '{object_name}' not found in the file. Call summary() to see its "
                    "objects."
                )
            return path
        found = [p for p in _paths(self.weights_dict) if p[-1] == object_name]
        if not found:
            raise ValueError(
                f"Name '{object_name}' does not appear in the file. Call summary() to see its "
                "objects."
            )
        if len(found) > 1:
            raise ValueError(
                f"Name '{object_name}' occurs {len(found)} times in the file, at "
                f"{', '.join('/'.join(p) for p in found)}. Pass the complete path of one."
            )
        return found[0]

    def _find_object(self, object_name: str) -> tuple[list[str], dict]:
        """`_find` for an object (not a weight): its path and its dict."""
        path = self._find(object_name)
        node = _lookup(self.weights_dict, path)
        if not isinstance(node, dict):
            raise ValueError(
                f"'{'/'.join(path)}' is a weight, not an object holding weights. Remove it "
                "with delete_object(), or name the object that holds it."
            )
        return path, node

    def _move_metadata(self, path: list[str], new_path: list[str] | None) -> None:
        """Keep `object_metadata` in step with a rename (or a removal, when `new_path` is
        None) of the object at `path` and everything under it."""
        old = "/" + "/".join(path)
        for key in [k for k in self.object_metadata if k == old or k.startswith(old + "/")]:
            entry = self.object_metadata.pop(key)
            if new_path is not None:
                self.object_metadata["/" + "/".join(new_path) + key[len(old):]] = entry


# ---------------------------------------------------------------- the tree of weights


def _tree(arrays: dict, source: str) -> dict:
    """Nest `{h5 path: array}` into dicts, folding each `vars` group into its object."""
    tree: dict = {}
    for key, array in arrays.items():
        path = key.split("/")
        if len(path) > 1 and path[-2] == "vars":
            del path[-2]
        node = tree
        for depth, part in enumerate(path[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise _clash(source, path[:depth + 1])
        if path[-1] in node:
            raise _clash(source, path)
        node[path[-1]] = array
    return tree


def _clash(source: str, path: list[str]) -> SavingError:
    # Only a hand-made file holds an object and a weight of the same name in one place.
    return SavingError(f"{source}: '{'/'.join(path)}' is both an object and a weight.")


def _flat(tree: dict, object_metadata: dict) -> tuple[dict, dict]:
    """`({h5 path: array}, {vars group path: object name})` for `write_h5`: the inverse of
    `_tree`, with the names in `object_metadata` on the objects' `vars` groups, as Keras
    records them."""
    arrays, groups = {}, {}

    def visit(node: dict, path: str) -> None:
        name = object_metadata.get(f"/{path}", {}).get("name")
        if path and isinstance(name, str):
            groups[_join(path, "vars")] = name
        for key, value in node.items():
            _check_key(key, "key in weights_dict")
            if isinstance(value, dict):
                visit(value, _join(path, key))
            else:
                arrays[_join(path, "vars", key)] = _as_array(value, f"/{_join(path, key)}")

    visit(tree, "")
    return arrays, groups


def _lookup(tree: dict, path: list[str]):
    """The dict or array at `path` in `tree`; None if there is none."""
    node = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _paths(tree: dict, prefix: tuple = ()):
    """The path (a list) of every object and weight in `tree`, depth first."""
    for key, value in tree.items():
        yield [*prefix, key]
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))


def _check_key(key, what: str) -> None:
    if not isinstance(key, str) or not key or "/" in key:
        raise ValueError(f"Expected a non-empty {what} without '/'. Received: {key!r}")


def _checked_weights(weights, where: str) -> dict:
    """`weights` with each value as a NumPy array (nested dicts are sub-objects)."""
    if not isinstance(weights, dict):
        raise ValueError(
            "Argument `weights` should be a dict mapping weight names (usually '0', '1', ...) "
            f"to arrays, e.g. {{'0': kernel, '1': bias}}. Received: type(weights)="
            f"{type(weights).__name__}"
        )
    checked = {}
    for key, value in weights.items():
        _check_key(key, "weight name")
        inner = f"{where.rstrip('/')}/{key}"
        checked[key] = (_checked_weights(value, inner) if isinstance(value, dict)
                        else _as_array(value, inner))
    return checked


def _as_array(value, where: str) -> np.ndarray:
    """A weight as the NumPy array of numbers an h5 file stores."""
    if isinstance(value, torch.Tensor):
        value = to_numpy(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"The weight {where} is not an array of numbers ({error}).") from error
    if array.dtype.kind not in "fiub":
        raise ValueError(
            f"Expected an array of numbers (a NumPy array, a tensor or a nested list) for the "
            f"weight {where}. Received: dtype {array.dtype}"
        )
    return array


def _read_metadata(filepath: str) -> dict | None:
    """The `.keras` file's metadata.json (the saving library and date); None if it has none."""
    try:
        with zipfile.ZipFile(filepath, "r") as archive:
            if METADATA not in archive.namelist():
                return None
            if archive.getinfo(METADATA).file_size > _MAX_MEMBER_BYTES:
                raise SavingError(f"{filepath}: the member {METADATA} is implausibly large.")
            metadata = json.loads(archive.read(METADATA))
    except SavingError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RecursionError, RuntimeError,
            NotImplementedError) as error:  # JSON's and UTF-8's errors are ValueErrors
        raise SavingError(f"{filepath}: {METADATA} cannot be read ({error}).") from error
    if not isinstance(metadata, dict):
        raise SavingError(f"{filepath}: {METADATA} does not hold a JSON object.")
    return metadata


# ---------------------------------------------------------------- printing


def _print(lines: list[str]) -> None:
    from rich.console import Console  # loaded on first use: importing netknit never needs it

    Console(highlight=False).print("\n".join(lines))


def _escape(value) -> str:
    """`value` as text that rich prints as it is: a file's names are data, never markup."""
    from rich.markup import escape

    return escape(str(value))


def _highlight(value) -> str:
    return f"[color(33)]{_escape(value)}[/]"


def _tree_lines(tree: dict, object_metadata: dict, prefix: str = "  ", path: str = "",
                first: bool = True) -> list[str]:
    """`summary`'s drawing of `tree`: the first entry marked `>`, then `├─`/`└─` branches."""
    lines = []
    for index, (key, value) in enumerate(tree.items()):
        last = index == len(tree) - 1
        connector = "> " if first else "└─ " if last else "├─ "
        first = False
        label = f"{prefix}{connector}[bold]{_escape(key)}[/]"
        inner = f"{path}/{key}"
        if isinstance(value, dict):
            name = object_metadata.get(inner, {}).get("name")
            lines.append(label if name is None else f"{label} ('{_escape(name)}')")
            lines += _tree_lines(value, object_metadata, prefix + ("    " if last else "│   "),
                                 inner, first=False)
        elif hasattr(value, "shape"):
            lines.append(f"{label}: shape={value.shape}, dtype={value.dtype}")
        else:  # a value set by hand in weights_dict, converted when saved
            lines.append(f"{label}: {_escape(value)}")
    return lines


def _compare_trees(reference: dict, target: dict, path: str, names: tuple[str, str],
                   lines: list[str], check_shapes: bool) -> tuple[int, int]:
    """Report into `lines` what `reference` holds and `target` lacks (and, with `check_shapes`,
    the weights whose shapes differ); return (differences, weights that match)."""
    ref_name, target_name = names
    errors = matches = 0
    for key, value in reference.items():
        inner = _escape(f"{path}/{key}")
        if key not in target:
            errors += 1
            kind = "Object" if isinstance(value, dict) else "Weight"
            lines.append(f"[color(160)]...{kind} [bold]{inner}[/] present in {ref_name}, "
                         f"missing from {target_name}[/]")
            if isinstance(value, dict):
                lines.append(f"    In {ref_name}, {inner} contains the following keys: "
                             f"{_escape(list(value))}")
            continue
        other = target[key]
        if isinstance(value, dict) and isinstance(other, dict):
            more_errors, more_matches = _compare_trees(value, other, f"{path}/{key}", names,
                                                       lines, check_shapes)
            errors, matches = errors + more_errors, matches + more_matches
        elif not check_shapes:
            continue
        elif isinstance(value, dict) or isinstance(other, dict):
            errors += 1
            kinds = ("an object", "a weight") if isinstance(value, dict) else ("a weight",
                                                                                 "an object")
            lines.append(f"[color(160)]...[bold]{inner}[/] is {kinds[0]} in {ref_name} and "
                         f"{kinds[1]} in {target_name}[/]")
        elif tuple(np.shape(value)) != tuple(np.shape(other)):
            errors += 1
            lines.append(f"[color(160)]...Weight shape mismatch for [bold]{inner}[/][/]\n"
                         f"    In {ref_name}: shape={tuple(np.shape(value))}\n"
                         f"    In {target_name}: shape={tuple(np.shape(other))}")
        else:
            matches += 1
    return errors, matches
