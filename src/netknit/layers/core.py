"""Core layers.

Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda, Identity.
"""

from __future__ import annotations

import base64
import inspect
import marshal
import math
import types

import torch
import torch.nn.functional as F

from .. import activations
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph import nest
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape, num_elements
from .layer import Layer, _shapes_of


def check_positive_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"Expected a positive integer for {name}. Received: {name}={value!r}")
    return value


def apply_activation(activation, outputs):
    """`activation(outputs)`, or `outputs` as they are for None and `linear`. The layer's
    `activation` is read at each call, as Keras reads it: Grad-CAM sets a built classifier's
    to None to get logits, and a new function set on a linear layer must apply."""
    if activation is None or activation is activations.linear:
        return outputs
    return activation(outputs)


def adapted_weight(name: str) -> property:
    """The class attribute for the weight `name` of a `LowRankAdaptable` layer: the weight
    itself, or once LoRA is enabled the weight with the adapters merged in (Keras's `kernel`)."""

    def read(layer):
        # The registered weight, or the stand-in a mixed policy or `predict` put in its place.
        weight = layer._parameters.get(name)
        if weight is not None:
            return weight
        if layer.__dict__.get("lora_enabled"):
            return layer._merged_weight()
        raise AttributeError(f"{type(layer).__name__} has no `{name}` until it is built: call it "
                             "on an input, or `build` it, first.")

    return property(read, doc=f"The layer's `{name}`, with LoRA's adapters merged in once "
                              "`enable_lora` ran.")


class LowRankAdaptable:
    """LoRA (low-rank adaptation) for a layer with one large weight, as Keras's `enable_lora`.

    Once enabled, the weight (`kernel`, or `embeddings`) is frozen and the layer computes with
    `weight + lora_alpha / rank * a @ b`, where only the thin `a` (the weight's shape with its
    last axis `rank`) and `b` (`(rank, last axis)`) train, in float32. `layer.kernel` gives that
    merged weight; the frozen variable moves to the attribute `_kernel` (Keras's), keeping its
    path, so `weights`, the optimizer and saving still see it. Saved files hold the merged weight
    under the weight's own key and no adapters; loading zeroes them (`saving/weights.py`).

    The class says which weight it adapts (`_adapted`, read through `adapted_weight`) and names
    the adapters (`_adapters`).
    """

    _adapted = "kernel"
    _adapters = ("lora_kernel_a", "lora_kernel_b")
    # Keras's Dense and Embedding enable LoRA in `build` with the default alpha (the rank), so
    # a lora_alpha given to their constructors does not reach the computation; EinsumDense's does.
    _build_keeps_alpha = False

    def _init_lora(self, lora_rank, lora_alpha) -> None:
        if lora_rank is not None and (not isinstance(lora_rank, int) or isinstance(
                lora_rank, bool) or lora_rank < 0):
            raise ValueError("Expected lora_rank to be None or a non-negative integer (0 or None: "
                             f"no LoRA). Received: lora_rank={lora_rank!r}")
        _check_lora_alpha(lora_alpha)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False

    def _build_lora(self) -> None:
        """Enable LoRA at the end of `build` when the constructor asked for it."""
        if self.lora_rank:
            self.built = True  # enable_lora wants a built layer; `build` marks it on return
            self.enable_lora(self.lora_rank,
                             lora_alpha=self.lora_alpha if self._build_keeps_alpha else None)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform",
                    b_initializer="zeros") -> None:
        """Freeze the weight and train a rank-`rank` update of it instead (once per layer, on a
        built layer).

        Args:
            rank: the inner size of the update (a positive integer).
            lora_alpha: the update's scale is `lora_alpha / rank`; the rank by default.
            a_initializer, b_initializer: of `a` and `b`; with `b` zero the layer starts out
                computing exactly what it did.
        """
        name = self._adapted
        if getattr(self, f"{name}_constraint") is not None:
            raise ValueError(
                f"LoRA cannot be enabled on a layer with a {name}_constraint: the constraint "
                f"applies to the frozen {name}, not to the update. Create the layer without "
                f"`{name}_constraint` to use LoRA."
            )
        if not self.built:
            raise ValueError(
                f"Cannot enable LoRA on layer '{self.name}' before it is built: call it on an "
                "input, or `layer.build(input_shape)`, first."
            )
        if self.lora_enabled:
            raise ValueError(f"LoRA is already enabled on layer '{self.name}'; it can be "
                             "enabled only once per layer.")
        check_positive_int("rank", rank)
        _check_lora_alpha(lora_alpha)
        base = getattr(self, name)
        self._rename_weight(name, "_" + name)
        regularizer = getattr(self, f"{name}_regularizer")
        shape = tuple(base.shape)
        self.add_weight(name=self._adapters[0], shape=shape[:-1] + (rank,),
                        initializer=a_initializer, dtype="float32", regularizer=regularizer)
        self.add_weight(name=self._adapters[1], shape=(rank, shape[-1]),
                        initializer=b_initializer, dtype="float32", regularizer=regularizer)
        base.trainable = False
        self.lora_enabled = True
        self.lora_rank = rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else rank

    def _merged_weight(self) -> torch.Tensor:
        a, b = (getattr(self, n) for n in self._adapters)
        merged = getattr(self, "_" + self._adapted) + (self.lora_alpha / self.lora_rank) * (a @ b)
        return merged.to(self._compute_dtype)

    def _lora_config(self) -> dict:
        if not self.lora_rank:
            return {}
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}


def _check_lora_alpha(lora_alpha) -> None:
    if lora_alpha is not None and (not isinstance(lora_alpha, (int, float)) or isinstance(
            lora_alpha, bool) or lora_alpha <= 0):
        raise ValueError("Expected lora_alpha to be None (the rank) or a positive number. "
                         f"Received: lora_alpha={lora_alpha!r}")


class Dense(LowRankAdaptable, Layer):
    """A densely connected layer: `activation(inputs @ kernel + bias)`.

    Applied to the last axis, so a `(batch, steps, features)` input gives `(batch, steps, units)`.

    Args:
        units: the number of output features (a positive integer).
        activation: an activation name such as `"relu"`, a callable, or None for linear.
        use_bias: whether to add a bias vector.
        kernel_initializer: `"glorot_uniform"` by default.
        bias_initializer: `"zeros"` by default.
        kernel_regularizer, bias_regularizer: e.g. `"l2"` or `regularizers.l2(1e-4)`.
        kernel_constraint, bias_constraint: e.g. `"max_norm"`.
        lora_rank: if set (a positive integer), LoRA is enabled when the layer is built (see
            `enable_lora`): the kernel is frozen and a rank-`lora_rank` update trains instead.
        lora_alpha: accepted as in Keras, whose Dense builds its LoRA with the default scale
            (`lora_alpha` = the rank); pass it to `enable_lora` to set it.

    Input shape: `(batch, ..., input_dim)`. Output shape: `(batch, ..., units)`.

    >>> layer = Dense(3)
    >>> layer(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    >>> layer.enable_lora(2)  # fine-tune a rank-2 update of the frozen kernel
    >>> [w.name for w in layer.trainable_weights]
    ['bias', 'lora_kernel_a', 'lora_kernel_b']
    """

    # Keras's call (saved graphs record it) takes `training`, unused.
    _keras_call_arguments = {"training": None}

    supports_masking = True
    kernel = adapted_weight("kernel")
    _casts_integer_inputs = True  # Keras's matmul promotes integer inputs to floats

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if quantization_config is not None:
            raise ValueError("Dense does not support quantization; leave quantization_config "
                             "None.")
        self._init_lora(lora_rank, lora_alpha)
        self.units = check_positive_int("units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self.bias_constraint = constraints_module.get(bias_constraint)

    def build(self, input_shape):
        self._check_input(input_shape)
        in_features = input_shape[-1]
        # Keras's shape, (in, units): `layer.kernel` is what Keras code expects. Its memory is
        # nn.Linear's (units, in) weight: the matrix product reads that order up to twice as
        # fast for a narrow output (Dense(10) on 64 features: 6.8 vs 10.5 µs at batch 128), and
        # autograd produces the gradient in the same order.
        self.add_weight(name="kernel", shape=(in_features, self.units),
                        initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint, linear_in_axes=1)
        if self.use_bias:
            self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self._build_lora()

    def forward(self, inputs):
        bias = self.bias
        if bias is not None and inputs.dim() == 2:
            outputs = torch.addmm(bias, inputs, self.kernel)  # one kernel, as F.linear's
        else:
            # A transposed view: F.linear's matrix product then reads the kernel as stored.
            outputs = F.linear(inputs, self.kernel.T, bias)
        return apply_activation(self.activation, outputs)

    def _check_input(self, input_shape):
        if len(input_shape) < 2:
            raise ShapeError(
                f"Dense needs inputs of rank 2 or more, (batch, features); received "
                f"{format_shape(input_shape)}.",
                fix="give each sample a feature axis, e.g. Reshape((1,)) before the Dense.",
            )
        if input_shape[-1] is None:
            raise ShapeError(
                f"Dense needs to know the size of the last axis to create its kernel; received "
                f"{format_shape(input_shape)}.",
                fix="give the Input a fixed last dimension, e.g. Input(shape=(None, 16)).",
            )

    def compute_output_shape(self, input_shape):
        self._check_input(input_shape)
        if self.built and input_shape[-1] != self.kernel.shape[0]:
            expected = self.kernel.shape[0]
            raise ShapeError(
                f"It was built for inputs with {expected} features on the last axis, but received "
                f"{format_shape(input_shape)} with {input_shape[-1]}.",
                fix=f"project the input to {expected} features first, e.g. with "
                f"Dense({expected}), or use a new Dense layer for this input.",
            )
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            "kernel_constraint": constraints_module.serialize(self.kernel_constraint),
            "bias_constraint": constraints_module.serialize(self.bias_constraint),
            "quantization_config": None,
            **self._lora_config(),
        }


class Activation(Layer):
    """Applies an activation function.

    Args:
        activation: a name such as `"relu"` or `"softmax"`, or a callable.

    Input and output shape: any, unchanged.

    >>> Activation("relu")(torch.tensor([[-1.0, 2.0]]))
    tensor([[0., 2.]])
    """

    _built_when_made = True
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.built = True

    def forward(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Randomly sets a fraction `rate` of inputs to 0 in training, scaling the rest by 1/(1-rate).

    In inference (`predict`, `evaluate`, or calling the model outside `fit`) it does nothing.

    Args:
        rate: the fraction to drop, in [0, 1).
        noise_shape: the shape of the keep/drop mask, broadcast over the input, e.g.
            `(batch, 1, features)` to drop the same features at every time step.
        seed: an integer for a reproducible mask.

    >>> Dropout(0.5)(torch.ones(1, 4))  # inference: unchanged
    tensor([[1., 1., 1., 1.]])
    """

    _built_when_made = True
    # Keras's call (saved graphs record it) runs in inference unless told.
    _keras_call_arguments = {"training": False}

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Expected a rate between 0 and 1. Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.built = True

    def forward(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, True)
        return inputs * self._keep_mask(inputs) / (1 - self.rate)

    def _keep_mask(self, inputs):
        """1 where an input is kept, drawn in `noise_shape` (its None sizes the input's)."""
        shape = inputs.shape if self.noise_shape is None else [
            s if d is None else d for d, s in zip(self.noise_shape, inputs.shape)]
        keep = torch.empty(shape, dtype=inputs.dtype, device=inputs.device)
        return keep.bernoulli_(1 - self.rate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


def _normalize_data_format(data_format):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "Expected data_format 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


class Flatten(Layer):
    """Flattens each sample into a vector: `(batch, 4, 4, 32)` becomes `(batch, 512)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`; with channels first the
            values are ordered as a channels-last input would be, so weights stay portable.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _normalize_data_format(data_format)
        self.built = True

    def forward(self, inputs):
        if inputs.dim() == 1:
            return inputs.unsqueeze(1)
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.flatten(1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], num_elements(input_shape[1:]) if len(input_shape) > 1 else 1)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape`; one entry may be -1, inferred from the size.

    Args:
        target_shape: the shape of one sample, without the batch dimension, e.g. `(1280,)`.

    >>> Reshape((-1, 4))(torch.zeros(2, 8)).shape
    torch.Size([2, 2, 4])
    """

    _built_when_made = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = (target_shape,) if isinstance(target_shape, int) else tuple(target_shape)
        if sum(d == -1 for d in target_shape) > 1:
            raise ValueError(
                f"Reshape's target_shape may contain -1 at most once. Received: {target_shape}"
            )
        if any(not isinstance(d, int) or (d < 1 and d != -1) for d in target_shape):
            raise ValueError(
                "Expected target_shape to hold positive integers and at most one -1. "
                f"Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape
        self.built = True

    def forward(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        size = num_elements(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size is not None and size % known:
                raise ShapeError(
                    f"Reshape cannot fit {size} values per sample ({format_shape(input_shape)}) "
                    f"into {format_shape(self.target_shape)}: {size} is not a multiple of {known}.",
                    fix=f"choose a target shape whose sizes multiply to {size}.",
                )
            fill = None if size is None else size // known
            return (input_shape[0],) + tuple(fill if d == -1 else d for d in self.target_shape)
        if size is not None and size != known:
            raise ShapeError(
                f"Reshape cannot turn {size} values per sample ({format_shape(input_shape)}) into "
                f"{format_shape(self.target_shape)}, which holds {known}.",
                fix=f"choose a target shape whose sizes multiply to {size}, e.g. "
                f"Reshape(({size},)) or Flatten().",
            )
        return (input_shape[0],) + self.target_shape

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes: `Permute((2, 1))` swaps the two axes of `(batch, a, b)`.

    Args:
        dims: a permutation of `1..rank-1` (axes are numbered from 1; the batch axis stays).
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Expected dims to be a permutation of 1..n (axis 0 is the batch and stays). "
                f"Received: dims={dims}"
            )
        self.dims = dims
        self.built = True

    def forward(self, inputs):
        return inputs.permute((0,) + self.dims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ShapeError(
                f"Permute{self.dims} reorders {len(self.dims)} axes, but the input "
                f"{format_shape(input_shape)} has {len(input_shape) - 1} besides the batch.",
                fix=f"use a permutation of 1..{len(input_shape) - 1}.",
            )
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a vector `n` times: `(batch, features)` becomes `(batch, n, features)`.

    Args:
        n: the number of repetitions.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_positive_int("n", n)
        self.built = True

    def forward(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ShapeError(
                f"RepeatVector repeats vectors (batch, features), but received the "
                f"{len(input_shape)}-D input {format_shape(input_shape)}.",
                fix="Flatten() the input first.",
            )
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Lambda(Layer):
    """Wraps a function of tensors as a layer: `Lambda(lambda x: x * 2)`.

    Args:
        function: called as `function(inputs, **arguments)` on torch tensors.
        output_shape: the output shape (without batch) or a function of the input shape; when
            omitted, it is found by running the function on zeros.
        mask: the outputs' mask: a function `(inputs, mask) -> mask`, or a tensor. Without it, no
            mask leaves the layer (as in Keras).
        arguments: extra keyword arguments for the function.

    A function with a `mask` or `training` parameter gets the call's (the input's mask).

    A Lambda's function is Python code, so a saved model that contains one only loads with
    `safe_mode=False`.
    """

    # Keras's call (saved graphs record it) takes both, for the function.
    _keras_call_arguments = {"training": None, "mask": None}

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Expected a callable for Lambda. Received: {function!r}")
        self.function = function
        self.output_shape_arg = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        self.arguments = dict(arguments or {})
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a signature takes neither
            parameters = {}
        self._function_takes = tuple(n for n in ("mask", "training") if n in parameters)
        self.built = True

    def forward(self, inputs, mask=None, training=None):
        kwargs = self.arguments
        if self._function_takes:
            given = {"mask": mask, "training": training}
            kwargs = {**kwargs, **{name: given[name] for name in self._function_takes}}
        return self.function(inputs, **kwargs)

    def produces_mask(self, input_has_mask: bool) -> bool:
        return self.mask is not None

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def _symbolic_mask(self, inputs, mask):
        # The user's mask function may need real tensors: it runs when data flows.
        return NotImplemented if callable(self.mask) else self.mask

    def _symbolic_output_shape(self, args: tuple, kwargs: dict):
        if self.output_shape_arg is not None:
            return super()._symbolic_output_shape(args, kwargs)
        # Run the function as the call runs it, with the mask it may read (as Keras infers it).
        masked = any(getattr(t, "has_mask", False) for t in nest.flatten(args[0]))
        return self._run_for_shapes(_shapes_of(args[0]), masked=masked, call=(args, kwargs))

    def compute_output_shape(self, input_shape):
        if self.output_shape_arg is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape_arg):
            return self.output_shape_arg(input_shape)
        first = input_shape[0] if isinstance(input_shape, tuple) else None
        return (first,) + tuple(self.output_shape_arg)

    def get_config(self):
        config = {**super().get_config(), "function": _serialize_function(self.function)}
        if self.output_shape_arg is not None:
            config["output_shape"] = (_serialize_function(self.output_shape_arg)
                                      if callable(self.output_shape_arg) else self.output_shape_arg)
        if self.mask is not None:
            config["mask"] = (_serialize_function(self.mask) if callable(self.mask)
                              else self.mask)
        return {**config, "arguments": self.arguments}

    @classmethod
    def from_config(cls, config: dict, safe_mode: bool | None = None) -> "Lambda":
        """Rebuild a Lambda; its Python code is only loaded with an explicit `safe_mode=False`."""
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") == "__lambda__":
                if safe_mode is not False:
                    raise ValueError(
                        f"Refusing to load the Python code of Lambda layer "
                        f"'{config.get('name')}': loading it would run code from the file, which "
                        "is unsafe if you did not write the file yourself. If you trust it, pass "
                        "safe_mode=False."
                    )
                config[key] = _load_function(value["config"])
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        return cls(**config)


def _serialize_function(fn):
    """A named function by its name (Keras's function entry: loading finds it among the custom
    objects, and runs no code from the file); a lambda in Keras's `__lambda__` form, its
    bytecode base64-encoded."""
    if getattr(fn, "__name__", "<lambda>") != "<lambda>":
        from ..saving.serialization import serialize_function  # saving builds on the layers

        return serialize_function(fn)
    return {
        "class_name": "__lambda__",
        "config": {
            # MIME base64 (lines of 76), as Keras writes it.
            "code": base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii"),
            "defaults": fn.__defaults__,
            # The values the lambda reads from its enclosing function (`lambda x: x * scale`).
            "closure": tuple(cell.cell_contents for cell in fn.__closure__)
            if fn.__closure__ else None,
        },
    }


def _load_function(config: dict):
    code = marshal.loads(base64.b64decode(config["code"]))
    defaults, closure = config.get("defaults"), config.get("closure")
    return types.FunctionType(code, globals(), code.co_name,
                              tuple(defaults) if defaults else None,
                              tuple(types.CellType(v) for v in closure) if closure else None)


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer)."""

    _built_when_made = True
    supports_masking = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def forward(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
