"""Exporting a model for inference: ONNX files and `torch.export` programs.

`model.export(path, format="onnx")` writes an ONNX file that runs without netknit (in ONNX Runtime,
for example); `format="torch"` writes a `.pt2` file holding a `torch.export.ExportedProgram`, which
`torch.export.load` reads back. Both trace the model once, in inference mode, on example inputs
built from the model's input shapes. The batch dimension stays dynamic, and so does every other
dimension the model leaves unknown (`None`) where the computation allows it.

Files are written atomically: the artifact is written next to its destination under a temporary
name and moved into place only once complete, so an interrupted export leaves any previous file
intact.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import warnings

import torch

from .file_io import write_atomically
from .graph.symbolic import SymbolicTensor
from .layers.layer import is_shape
from .training.loop import running

FORMATS = ("onnx", "torch")
# The size given to unknown non-batch dimensions (such as time steps) in the example inputs; large
# enough that convolutions and poolings still leave something, and not 0 or 1, which torch.export
# would fix as constants.
_UNKNOWN_DIM_EXAMPLE = 32
# Messages that torch's exporters emit about their own internals, which say nothing about the model.
_TORCH_INTERNAL_WARNINGS = (
    r".*_check_is_size will be removed.*",
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    r".*not properly registered as a submodule.*",
    r".*The axis name: .* will not be used.*",
)


def export(model, filepath, format: str = "onnx", verbose: bool | None = None,
           input_signature=None, **kwargs) -> str:
    """Export `model` for inference as an ONNX file or a `torch.export` program.

    Args:
        model: a built model (or any layer that has been called on symbolic inputs).
        filepath: where to write the artifact; `format="torch"` needs a name ending in `.pt2`.
        format: `"onnx"` (through `torch.onnx.export`; needs the `onnx` and `onnxscript`
            packages: `pip install "netknit[export]"`) or `"torch"` (an `ExportedProgram` saved
            with `torch.export.save`).
        verbose: print a line naming the file written (the default, as in Keras).
        input_signature: the model inputs' shapes, when the model has no symbolic inputs (a
            subclassed model): a shape tuple with the batch dimension, such as `(None, 28, 28, 1)`,
            a list of them, symbolic tensors from `Input()`, or example tensors.
        **kwargs: for `"onnx"`, `opset_version`; for `"torch"`, `strict`.

    Returns:
        The path written, as a string.

    >>> model.export("model.onnx")
    Saved artifact at 'model.onnx'.
    >>> session = onnxruntime.InferenceSession("model.onnx")
    """
    filepath = os.fspath(filepath)
    if format not in FORMATS:
        raise ValueError(
            f"Unrecognized export format={format!r}. netknit exports to {list(FORMATS)}: "
            "'onnx' for ONNX Runtime and other ONNX tools, 'torch' for a torch.export program "
            "(.pt2). Keras's 'tf_saved_model', 'openvino' and 'litert' are not available."
        )
    allowed = {"onnx": {"opset_version"}, "torch": {"strict"}}[format]
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(
            f"Unrecognized argument(s) {unknown} for format={format!r}. Allowed: {sorted(allowed)}."
        )
    if format == "torch" and not filepath.endswith(".pt2"):
        raise ValueError(
            f"A torch.export program is saved as a .pt2 file. Received: filepath={filepath!r}. "
            "Use a name ending in '.pt2'."
        )
    if format == "onnx":
        missing = [p for p in ("onnx", "onnxscript") if importlib.util.find_spec(p) is None]
        if missing:
            raise ImportError(
                f"ONNX export needs the package(s) {missing}, which are not installed. Install "
                'them with `pip install "netknit[export]"` (or `pip install onnx onnxscript`).'
            )

    # 1. Example inputs and their dynamic dimensions.
    signature = _input_signature(model, input_signature)
    weight = next(itertools.chain(model.parameters(), model.buffers()), None)
    device = weight.device if weight is not None else torch.device("cpu")
    examples, dynamic_shapes, input_names = _examples(signature, device)
    args = (examples[0],) if len(examples) == 1 else (examples,)
    dynamic = (dynamic_shapes[0],) if len(examples) == 1 else (dynamic_shapes,)

    # 2. Trace in inference mode (no dropout, frozen batch statistics, no augmentation), as
    # `predict` runs the model, then restore the mode.
    was_training = model.training
    model.eval()
    try:
        with _quiet_torch_internals(), torch.no_grad(), running():
            if format == "onnx":
                program = torch.onnx.export(
                    model, args, dynamo=True, verbose=False, dynamic_shapes=dynamic,
                    input_names=input_names, output_names=_output_names(model),
                    opset_version=kwargs.get("opset_version"),
                )
            else:
                program = torch.export.export(
                    model, args, dynamic_shapes=dynamic, strict=kwargs.get("strict", False)
                )
    except Exception as error:
        error.add_note(
            f"While exporting model '{model.name}' to format={format!r} with example inputs of "
            f"shape {[tuple(e.shape) for e in examples]}."
        )
        raise
    finally:
        model.train(was_training)

    # 3. Write next to the destination, then move into place.
    if format == "onnx":
        write_atomically(filepath, program.save)
    else:
        _contiguous_weights(program)
        write_atomically(filepath, lambda path: torch.export.save(program, path))
    if verbose is None or verbose:
        print(f"Saved artifact at '{filepath}'.")
    return filepath


class ExportArchive:
    """Keras's `keras.export.ExportArchive` writes a TensorFlow SavedModel, which needs
    TensorFlow also under Keras's torch backend: netknit, which runs on PyTorch alone, does not
    write SavedModels. Making one raises an ImportError (as Keras's torch backend does without
    TensorFlow) that names what to use instead: `model.export(path, format="onnx")` or
    `format="torch"`."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            "keras.export.ExportArchive writes a TensorFlow SavedModel, which netknit (PyTorch "
            "only) does not write. Export the model with `model.export('model.onnx', "
            "format='onnx')` (ONNX Runtime and other ONNX tools) or "
            "`model.export('model.pt2', format='torch')` (a torch.export program).")


def _input_signature(model, input_signature) -> list:
    """The model's inputs as a flat list of symbolic tensors or example tensors."""
    if input_signature is None:
        inputs = getattr(model, "inputs", None)
        if not inputs:
            raise ValueError(
                f"Cannot export model '{model.name}': its input shapes are unknown (it was never "
                "called on Input() tensors). Pass input_signature=, e.g. (None, 28, 28, 1) or a "
                "list of such shapes, one per input."
            )
        return list(inputs)
    if isinstance(input_signature, (SymbolicTensor, torch.Tensor)) or is_shape(input_signature):
        input_signature = [input_signature]
    signature = []
    for spec in input_signature:
        if isinstance(spec, (SymbolicTensor, torch.Tensor)):
            signature.append(spec)
        elif is_shape(spec):
            signature.append(SymbolicTensor(tuple(spec)))
        else:
            raise TypeError(
                "input_signature must hold shapes (tuples such as (None, 10)), symbolic tensors "
                f"from Input(), or example tensors. Received: {spec!r}"
            )
    return signature


def _examples(signature: list, device: torch.device) -> tuple[list, list, list]:
    """Example tensors, `torch.export` dynamic-shape specs and names, one each per input."""
    batch = torch.export.Dim("batch")
    examples, dynamic_shapes, names = [], [], []
    for index, spec in enumerate(signature):
        if isinstance(spec, torch.Tensor):
            examples.append(spec.detach())
            # A batch of 1 would be fixed as a constant; AUTO keeps it dynamic where it can.
            dynamic_shapes.append({0: batch if spec.shape[0] > 1 else torch.export.Dim.AUTO})
            names.append(f"input_{index}")
            continue
        # A batch size fixed by the model (Input(batch_size=...)) stays fixed.
        shape = [(2 if i == 0 else _UNKNOWN_DIM_EXAMPLE) if d is None else d
                 for i, d in enumerate(spec.shape)]
        # Zeros are valid for every input kind, including indices into an Embedding.
        examples.append(torch.zeros(shape, dtype=spec.dtype.torch, device=device))
        dims = {i: torch.export.Dim.AUTO for i, d in enumerate(spec.shape) if i and d is None}
        if spec.shape[0] is None:
            dims[0] = batch
        dynamic_shapes.append(dims or None)
        producer = spec.producer
        names.append(producer.name if producer is not None else f"input_{index}")
    return examples, dynamic_shapes, names


def _output_names(model) -> list[str] | None:
    """The output layers' names (`dense_1`, ...), numbered where a layer gives several outputs."""
    outputs = getattr(model, "outputs", None)
    if not outputs:
        return None
    names = [t.producer.name for t in outputs]
    return [
        name if names.count(name) == 1 else f"{name}_{names[:i].count(name)}"
        for i, name in enumerate(names)
    ]


@contextlib.contextmanager
def _quiet_torch_internals():
    with warnings.catch_warnings():
        for message in _TORCH_INTERNAL_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        yield


def _contiguous_weights(program) -> None:
    """Give the program contiguous copies of weights stored in another memory order (Dense
    kernels are column-major): torch.export's file writer takes those for slices of a larger
    tensor, and warns that it may save them wrongly off the CPU."""
    for name, value in program.state_dict.items():
        if not value.is_contiguous():
            program.state_dict[name] = torch.nn.Parameter(value.detach().contiguous(),
                                                          requires_grad=value.requires_grad)
