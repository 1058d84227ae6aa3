"""Errors that teach: what went wrong, where each input came from, and how to fix it.

A layer's `compute_output_shape` raises `ShapeError(problem, fix=...)` knowing only shapes. The
layer's symbolic call then attaches itself and its input tensors, so the message can also say which
layer produced each input. Every message is written for the person who wrote the model, in Keras's
shape notation `(None, 1, 1280)`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .shapes import format_shape


class ShapeError(ValueError):
    """A layer cannot accept the shapes of its inputs.

    Args:
        problem: what is wrong, in one or two sentences.
        fix: a concrete change that makes the model build, such as "add Flatten() before it".
    """

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        self.layer = None
        self.inputs: list = []
        super().__init__(self._compose())

    def attach(self, layer, inputs: list) -> "ShapeError":
        """Name the layer that failed and the tensors it was called on; returns self."""
        if self.layer is None:
            self.layer = layer
            self.inputs = list(inputs)
            self.args = (self._compose(),)
        return self

    def _compose(self) -> str:
        lines = []
        if self.layer is not None:
            lines.append(
                f"Layer {describe_layer(self.layer)} cannot accept its inputs. {self.problem}"
            )
        else:
            lines.append(self.problem)
        for i, tensor in enumerate(self.inputs):
            label = f"input {i}" if len(self.inputs) > 1 else "input"
            lines.append(f"  {label}: {format_shape(tensor.shape)}, {describe_origin(tensor)}")
        if self.fix:
            lines.append(f"Fix: {self.fix}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.args[0]


def describe_layer(layer) -> str:
    return f"'{layer.name}' ({type(layer).__name__})"


def describe_origin(tensor) -> str:
    """'produced by layer 'reshape' (Reshape)', or 'the model input 'input_layer''."""
    history = getattr(tensor, "history", None)
    if history is None:
        return "not produced by any layer"
    layer = history.node.layer
    if type(layer).__name__ == "InputLayer":
        return f"the model input '{layer.name}'"
    return f"produced by layer {describe_layer(layer)}"


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """' Did you mean 'adam'?' when `name` is close to one of `options`, else ''."""
    options = list(options)
    close = difflib.get_close_matches(str(name), options, n=1, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return f" Did you mean '{close[0]}'?" if close else ""


class UnknownArgumentError(TypeError, ValueError):
    """A keyword argument a layer does not take. A TypeError, as Python raises for unexpected
    arguments, and a ValueError, as Keras raises ("Unrecognized keyword arguments")."""


def unknown_argument_error(owner: str, key: str, known: Iterable[str]) -> UnknownArgumentError:
    """The error for `owner(key=...)`, with the nearest allowed argument and the whole list."""
    known = sorted(set(known))
    return UnknownArgumentError(
        f"{owner} got an unexpected keyword argument '{key}'.{did_you_mean(key, known)} "
        f"Allowed arguments: {', '.join(known)}."
    )


def unknown_name_error(kind: str, name: str, options: Iterable[str]) -> ValueError:
    """A ValueError for an unknown identifier that lists the valid ones and suggests the nearest."""
    options = sorted(set(options))
    plural = f"{kind}es" if kind.endswith("s") else f"{kind}s"
    return ValueError(
        f"Unknown {kind}: '{name}'.{did_you_mean(name, options)} "
        f"Valid {plural} are: {', '.join(options)}."
    )
