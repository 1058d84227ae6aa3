"""TorchModuleWrapper: a plain `torch.nn.Module` used as a Keras layer.

A layer (or model) that holds a plain torch module as an attribute gets it wrapped in this layer,
as Keras's torch backend does, so the module's parameters are the layer's weights: they are
listed, counted, frozen with `trainable`, saved and loaded. The wrapper stays out of the way of
PyTorch code: attributes it does not have are the module's (`self.fc.weight`), and `state_dict()`
keys are those of the unwrapped module (`fc.weight`, not `fc.module.weight`).
"""

from __future__ import annotations

import base64
import io

import torch
from torch import nn

from .layer import Layer


class TorchModuleWrapper(Layer):
    """Makes a `torch.nn.Module` a Keras layer whose weights are the module's parameters.

    Args:
        module: the `torch.nn.Module` to wrap. A lazy module (`nn.LazyLinear`) must have been
            called once, so that its parameters exist.
        name: the layer's name; `torch_module_wrapper`, `torch_module_wrapper_1`, ... by default.
        output_shape: the output shape (batch dimension included) that symbolic calls give. By
            default it is found by running the module on zeros, in inference mode.

    The module's parameters that require gradients are the trainable weights, the others the
    non-trainable ones, in `module.parameters()` order; buffers (BatchNorm's running statistics)
    are not weights but are saved with them, under their `state_dict` keys, as Keras saves them.
    With `training=` the call sets the module's mode, as `fit`, `evaluate` and `predict` do.

    A saved model records the module pickled in its config, which Keras can read back with
    `safe_mode=False`; netknit never unpickles, so it does not rebuild such a layer from a file:
    build the model in code and load the weights.

    Example:

    >>> layer = TorchModuleWrapper(torch.nn.Linear(4, 2))
    >>> [tuple(w.shape) for w in layer.weights]
    [(2, 4), (2,)]
    >>> layer(torch.ones(3, 4)).shape
    torch.Size([3, 2])
    """

    _wraps_torch_modules = False  # the module it holds is the one it wraps

    def __init__(self, module: nn.Module, name: str | None = None, output_shape=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(module, nn.Module) or isinstance(module, Layer):
            raise TypeError(
                "TorchModuleWrapper wraps a plain torch.nn.Module (a netknit layer is one "
                f"already and needs no wrapper). Received: module={module!r}"
            )
        if isinstance(module, nn.modules.lazy.LazyModuleMixin) and \
                module.has_uninitialized_params():
            raise ValueError(
                f"The lazy module {type(module).__name__} has no parameters yet. Call it once on "
                "an input before wrapping it, so that its parameters exist."
            )
        self.module = module
        named = list(module.named_parameters())
        self._module_weights = {
            trainable: [n for n, p in named if p.requires_grad == trainable]
            for trainable in (True, False)
        }
        self._declared_output_shape = None if output_shape is None else tuple(output_shape)
        self.built = True
        self.train(False)  # inference unless training says otherwise, as every netknit layer
        self._register_state_dict_hook(_unwrapped_keys)
        self._register_load_state_dict_pre_hook(_wrapped_keys)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError as missing:
            module = self.__dict__.get("_modules", {}).get("module")
            if module is None:
                raise
            try:
                return getattr(module, name)
            except AttributeError:
                raise missing from None

    def forward(self, *args, training=None, **kwargs):
        if training is not None and bool(training) != self.module.training:
            self.module.train(bool(training))
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._declared_output_shape is not None:
            return self._declared_output_shape
        # Running the module to find the shape must not change it: in inference mode, running
        # statistics stay as they are.
        modes = [(m, m.training) for m in self.module.modules()]
        self.module.eval()
        try:
            return super().compute_output_shape(input_shape)
        finally:
            for module, mode in modes:
                module.training = mode

    def _own_weight_entries(self, trainable: bool) -> list[tuple[nn.Module, str]]:
        return [_owner(self.module, name) for name in self._module_weights[trainable]]

    def state_entries(self) -> list[tuple[str, nn.Module, str]]:
        """`(state_dict key, owner module, attribute)` for each parameter and saved buffer: what
        a weights file holds for this layer, under the keys Keras uses."""
        keys = self.module.state_dict(keep_vars=True)
        return [(key, *_owner(self.module, key)) for key in keys]

    def get_config(self) -> dict:
        buffer = io.BytesIO()
        torch.save(self.module, buffer)  # Keras's format; netknit itself never reads it back
        return {
            **super().get_config(),
            "module": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "output_shape": (None if self._declared_output_shape is None
                             else list(self._declared_output_shape)),
        }

    @classmethod
    def from_config(cls, config: dict):
        if not isinstance(config.get("module"), nn.Module):
            raise ValueError(
                f"TorchModuleWrapper '{config.get('name')}' records its torch module as a pickle, "
                "and netknit never unpickles (a pickle can run any code). Build the model in code "
                "and load its weights with model.load_weights(...)."
            )
        return cls(**config)


def _owner(module: nn.Module, key: str) -> tuple[nn.Module, str]:
    path, _, attribute = key.rpartition(".")
    return (module.get_submodule(path) if path else module), attribute


def _unwrapped_keys(wrapper, state_dict, prefix, local_metadata):
    wrapped = prefix + "module."
    for key in [k for k in state_dict if k.startswith(wrapped)]:
        state_dict[prefix + key[len(wrapped):]] = state_dict.pop(key)


def _wrapped_keys(state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
    wrapped = prefix + "module."
    for key in [k for k in state_dict if k.startswith(prefix) and not k.startswith(wrapped)]:
        state_dict[wrapped + key[len(prefix):]] = state_dict.pop(key)
