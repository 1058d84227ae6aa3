"""`Model`: a layer that can be trained, summarized and saved.

`Model(inputs, outputs)` builds a functional model (see `functional.py`). Subclassing `Model` and
writing `forward` (or Keras's `call`) gives a model whose graph is Python code.
"""

from __future__ import annotations

import inspect

from ..layers.layer import Layer
from ..training.trainer import Trainer


class Model(Trainer, Layer):
    """A trainable graph of layers.

    Args:
        inputs: the model inputs: a symbolic tensor from `Input()`, a list, or a dict of them.
        outputs: the model outputs: symbolic tensors computed from `inputs`, single, list or dict.
        name: the model's name (`"functional"`, `"functional_1"`, ... by default).

    >>> x = Input(shape=(10,))
    >>> model = Model(x, Dense(1)(x))
    >>> model.output_shape
    (None, 1)
    """

    # A model's layers follow their own dtype policies; the model's policy decides only whether
    # `compile` scales the loss (mixed_float16), as in Keras.
    _follows_dtype_policy = False

    def __new__(cls, *args, **kwargs):
        if cls is Model and _functional_arguments(args, kwargs):
            from .functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls, *args, **kwargs)  # the arguments make a subclass's config

    def __init__(self, *args, **kwargs):
        from .functional import Functional

        if _functional_arguments(args, kwargs) and not isinstance(self, Functional):
            # A subclass that passes inputs and outputs on (to override `train_step`, say) is a
            # functional model of that subclass, as in Keras.
            self.__class__ = _functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        super().__init__(*args, **kwargs)

    def forward(self, *args, **kwargs):
        """The model's computation: a subclass defines `call` (a functional model runs its own)."""
        raise NotImplementedError(
            f"Model {type(self).__name__} does not have a `call()` method implemented. "
            "Define `call(self, inputs)` in the subclass.")

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, safe_mode=True) -> "Model":
        """`Model.from_config(functional_model.get_config())` rebuilds the functional model, as in
        Keras, also for a subclass whose constructor takes a functional model's arguments; other
        configs are constructor arguments."""
        if takes_functional_arguments(cls) and all(
            k in config for k in ("layers", "input_layers", "output_layers")
        ):
            from .from_config import functional_from_config

            return functional_from_config(cls, config, custom_objects, safe_mode)
        return super().from_config(config)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print Keras's table of layers, output shapes and parameter counts.

        Args:
            line_length: total width of the table (default: fits the columns).
            positions: relative or absolute column ends.
            print_fn: called with the rendered text instead of `print`.
            expand_nested: also list the layers inside nested models.
            show_trainable: add a column saying whether each layer is trainable.
            layer_range: a pair of layer names; only the layers between them are listed.
        """
        from .summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    # ------------------------------------------------------------------ saving

    def save(self, filepath, overwrite: bool = True, zipped: bool | None = None) -> None:
        """Save config, weights and compiled state to a Keras 3 `.keras` file, atomically; with
        `zipped=False`, to a directory of the same files (Keras's unzipped layout)."""
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite, zipped=zipped)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights (and optimizer state) to `.weights.h5`, or to `.safetensors`."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False, by_name: bool = False) -> None:
        """Load weights saved by `save_weights` (netknit's or Keras's); all or nothing, unless
        `skip_mismatch` (then layers that do not match keep their weights, with a warning).
        `by_name=True` loads a legacy Keras `.h5` file into the layers of the same names."""
        from ..saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def get_compile_config(self) -> dict | None:
        """`compile`'s arguments, serialized as Keras 3 stores them; None if not compiled."""
        from ..saving.archive import compile_config_of

        return compile_config_of(self)

    def compile_from_config(self, config: dict) -> None:
        """Compile with `get_compile_config()`'s output (or Keras's)."""
        from ..saving.archive import compile_from_config

        compile_from_config(self, config)

    def to_json(self, **kwargs) -> str:
        """The model's config as JSON (Keras 3's format); `models.model_from_json` reads it."""
        import json

        from ..saving import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    @property
    def layers(self) -> list[Layer]:
        return self._sublayers()

    @property
    def operations(self) -> list[Layer]:
        """The layers and, in a functional graph, the operations (`x * 2`, `x[:, :3]`)."""
        return self.layers

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name`, or at position `index` in `model.layers`."""
        from ..graph.errors import did_you_mean

        if (name is None) == (index is None):
            raise ValueError("Pass either name= or index= to get_layer, not both or neither.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Model '{self.name}' has {len(layers)} layers; index {index} is out of range."
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        names = [layer.name for layer in layers]
        raise ValueError(
            f"No layer named '{name}' in model '{self.name}'.{did_you_mean(name, names)} "
            f"Its layers are: {', '.join(names)}."
        )

    def export(self, filepath, format="onnx", verbose=None, input_signature=None, **kwargs):
        """Export the model for inference: an ONNX file, or a `torch.export` program (`.pt2`).

        Args:
            filepath: where to write the artifact.
            format: `"onnx"` (needs `pip install "netknit[export]"`) or `"torch"`.
            verbose: print a line naming the file written (default).
            input_signature: input shapes for a model never called on `Input()` tensors.
            **kwargs: `opset_version` for ONNX, `strict` for torch.export.

        The batch dimension of the artifact is dynamic. See `netknit.export.export`.
        """
        from ..export import export

        return export(self, filepath, format=format, verbose=verbose,
                      input_signature=input_signature, **kwargs)


def takes_functional_arguments(cls: type) -> bool:
    """Whether `cls(inputs, outputs, name=...)` makes a functional model of that class: its
    constructor is Model's or Functional's, has their arguments, or takes `*args, **kwargs`
    (Keras's rule for reviving and cloning functional subclasses)."""
    from .functional import Functional

    spec = inspect.getfullargspec(cls.__init__)
    return (spec.varargs is not None and spec.varkw is not None) or spec.args[1:] in (
        ["inputs", "outputs", "name"], inspect.getfullargspec(Functional.__init__).args[1:])


def _functional_arguments(args: tuple, kwargs: dict) -> bool:
    """Whether a Model is being made from inputs and outputs, as Keras tells."""
    return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs))


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _functional_subclass(cls: type) -> type:
    """`cls` with `Functional` behind it: the user's methods first, then the graph's."""
    from .functional import Functional

    if cls not in _FUNCTIONAL_SUBCLASSES:
        attributes = {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                      "__doc__": cls.__doc__}
        if "_registered_name" in cls.__dict__:
            attributes["_registered_name"] = cls.__dict__["_registered_name"]
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional), attributes)
    return _FUNCTIONAL_SUBCLASSES[cls]
