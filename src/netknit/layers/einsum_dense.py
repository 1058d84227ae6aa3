"""EinsumDense: a dense layer whose product is any einsum of the input with one kernel.

The equation names every axis with a letter: `"abc,cd->abd"` multiplies the last axis (`c`) of
a `(batch, steps, c)` input by a `(c, d)` kernel, `"abc,cde->abde"` projects it into a `(d, e)`
grid (a multi-head projection). The kernel's shape comes from the equation: an axis also in the
output has the size `output_shape` gives it, any other the input's. `...` stands for axes the
layer passes through: on the left (`"...b,bc->...c"`, any leading axes) or on the right
(`"ab...,bc->ac..."`).
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F

from .. import activations
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..graph.errors import ShapeError
from ..graph.shapes import format_shape
from .core import LowRankAdaptable, adapted_weight, apply_activation
from .input_spec import InputSpec
from .layer import Layer, linear_weight

# The three forms Keras accepts: X,Y->Z  ...X,Y->...Z  X...,Y->Z...
_FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), None),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)"), "left"),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\."), "right"),
)


def _parse(equation) -> tuple[str, str, str, str | None]:
    """(input, kernel, output letters, where the ellipsis is) of an EinsumDense equation."""
    for pattern, ellipsis in _FORMS:
        match = pattern.fullmatch(equation) if isinstance(equation, str) else None
        if match:
            return (*match.groups(), ellipsis)
    raise ValueError(
        "Expected an equation of the form 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...' "
        "(one input, one kernel, letters for axes, '...' for axes passed through on the left or "
        f"the right). Received: equation={equation!r}"
    )


class _FansFrom2D:
    """Draws a kernel from a variance-scaling initializer with the fans Keras's EinsumDense gives
    it: the product of the kernel's input axes and of its output axes (not the last two axes)."""

    def __init__(self, initializer, fan_in: int, fan_out: int):
        self.initializer, self.fans = initializer, (fan_in, fan_out)

    def __call__(self, shape, dtype=torch.float32):
        # Variance-scaling draws are independent, so drawing them as a (fan_in, fan_out) matrix
        # and reshaping gives the kernel Keras's distribution.
        return self.initializer(self.fans, dtype=dtype).reshape(shape)


class EinsumDense(LowRankAdaptable, Layer):
    """A dense layer computing `activation(einsum(equation, inputs, kernel) + bias)`.

    Args:
        equation: an einsum of the input and the kernel, e.g. `"ab,bc->ac"` (a `Dense`),
            `"abc,cd->abd"` (a `Dense` on each step), `"abc,cde->abde"` (a projection into heads),
            `"...b,bc->...c"` (any leading axes).
        output_shape: the output's sizes after the batch axis and the axes of `...` (an int for
            one axis); None where the input gives the size.
        activation: an activation name, a callable, or None for linear.
        bias_axes: the output letters that have a bias, e.g. `"c"`; None for no bias. The bias
            spans the output from the first of them to the end (size 1 on the others).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as in `Dense`.
        lora_rank, lora_alpha: enable LoRA when the layer is built, with the update scaled by
            `lora_alpha / lora_rank` (see `Dense.enable_lora`): `lora_kernel_a` has the kernel's
            shape with its last axis `lora_rank`, `lora_kernel_b` is `(lora_rank, last axis)`.

    Input shape: what the equation's input letters describe. Output shape: the output letters'.

    Weights: `kernel` (the kernel letters' sizes) and `bias`, in Keras's shapes.

    >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de")
    >>> layer(torch.zeros(2, 5, 16)).shape
    torch.Size([2, 5, 4, 8])
    """

    # Keras's call (saved graphs record it) takes `training`, unused.
    _keras_call_arguments = {"training": None}
    kernel = adapted_weight("kernel")
    _build_keeps_alpha = True  # as Keras's EinsumDense (Dense's build drops lora_alpha)

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        if (gptq_unpacked_column_size, quantization_config) != (None, None):
            raise ValueError("EinsumDense does not support quantization; leave "
                             "gptq_unpacked_column_size and quantization_config None.")
        self._init_lora(lora_rank, lora_alpha)
        self._in, self._kernel_letters, self._out, self._ellipsis = _parse(equation)
        self.equation = equation
        self.partial_output_shape = self._check_output_shape(output_shape)
        self._check_letters(bias_axes)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self.bias_constraint = constraints_module.get(bias_constraint)

    @staticmethod
    def _check_output_shape(output_shape) -> tuple:
        sizes = (output_shape,) if isinstance(output_shape, int) else output_shape
        if not isinstance(sizes, (tuple, list)) or not all(
                d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                for d in sizes):
            raise ValueError("Expected output_shape to be a positive int or a tuple of positive "
                             f"ints and None. Received: output_shape={output_shape!r}")
        return tuple(sizes)

    def _check_letters(self, bias_axes) -> None:
        for letter in self._out:
            if letter not in self._in and letter not in self._kernel_letters:
                raise ValueError(
                    f"Output letter '{letter}' of equation '{self.equation}' is neither in the "
                    f"input ('{self._in}') nor in the kernel ('{self._kernel_letters}'), so "
                    "nothing gives it a value."
                )
        for letter in self._kernel_letters:
            if letter not in self._in and letter not in self._out:
                raise ValueError(
                    f"Kernel letter '{letter}' of equation '{self.equation}' is neither in the "
                    f"input ('{self._in}') nor in the output ('{self._out}'), so its size is "
                    "unknown."
                )
        if bias_axes is None:
            return
        if not isinstance(bias_axes, str) or not bias_axes or any(
                a not in self._out for a in bias_axes):
            raise ValueError(
                f"Expected bias_axes to be letters of the output '{self._out}' (e.g. "
                f"'{self._out[-1]}'), or None for no bias. Received: bias_axes={bias_axes!r}"
            )

    # ------------------------------------------------------------------ shapes

    def _analyze(self, input_shape) -> dict:
        """The sizes of every letter, the output, kernel and bias shapes for `input_shape`."""
        input_shape = tuple(input_shape)
        passed = len(input_shape) - len(self._in)  # the axes `...` stands for
        if passed < 0 or (self._ellipsis is None and passed):
            expected = f"{len(self._in)}" + (" or more" if self._ellipsis else "")
            raise ShapeError(
                f"Its equation '{self.equation}' names {len(self._in)} input axes "
                f"('{self._in}'), so it expects {expected}-D inputs, but received the "
                f"{len(input_shape)}-D input {format_shape(input_shape)}.",
                fix="reshape the input to the equation's axes, or write the equation for this "
                "input (use '...' for axes to pass through).",
            )
        left = passed if self._ellipsis == "left" else 0
        right = passed if self._ellipsis == "right" else 0
        sizes = dict(zip(self._in, input_shape[left:len(input_shape) - right]))
        # The output's sizes that output_shape gives: all the output letters after `...` on the
        # left, else all but the first (the batch axis).
        given = self._out if left else self._out[1:]
        if len(self.partial_output_shape) != len(given):
            raise ShapeError(
                f"Its output_shape {self.partial_output_shape} should give the sizes of the "
                f"{len(given)} output axes '{given}' of equation '{self.equation}' (the batch "
                "axis and the axes of '...' come from the input).",
                fix=f"pass output_shape with {len(given)} sizes (None where the input gives it).",
            )
        output_sizes = dict(zip(given, self.partial_output_shape))
        for letter, size in output_sizes.items():
            if letter in sizes and size is not None and sizes[letter] not in (None, size):
                raise ShapeError(
                    f"Axis '{letter}' is in both the input and the output of '{self.equation}', "
                    f"so it keeps its size, but output_shape gives it {size} and the input "
                    f"{format_shape(input_shape)} has {sizes[letter]}.",
                    fix=f"give output_shape None (or {sizes[letter]}) for axis '{letter}'.",
                )
            if size is not None or letter not in sizes:
                sizes[letter] = size
        output = [sizes.get(letter) for letter in self._out]
        if left:
            output = list(input_shape[:left]) + output
        else:
            output[0] = input_shape[0]
        output += list(input_shape[len(input_shape) - right:])
        kernel_shape = tuple(sizes.get(letter) for letter in self._kernel_letters)
        bias_shape = None
        if self.bias_axes is not None:
            first = min(self._out.index(a) for a in self.bias_axes)
            bias_shape = tuple(sizes.get(a) if a in self.bias_axes else 1
                               for a in self._out[first:]) + (1,) * right
        return {"output": tuple(output), "kernel": kernel_shape, "bias": bias_shape}

    def _check_weight_sizes(self, input_shape, shapes: dict) -> None:
        for what in ("kernel", "bias"):
            if shapes[what] is not None and None in shapes[what]:
                letters = self._kernel_letters if what == "kernel" else self.bias_axes
                raise ShapeError(
                    f"It needs the sizes of axes '{letters}' for its {what}, but the input "
                    f"{format_shape(input_shape)} and output_shape "
                    f"{self.partial_output_shape} leave some unknown: "
                    f"{format_shape(shapes[what])}.",
                    fix="give those axes fixed sizes in the Input or in output_shape.",
                )

    def build(self, input_shape):
        shapes = self._analyze(input_shape)
        self._check_weight_sizes(input_shape, shapes)
        # As Keras's: a built layer takes inputs of the rank it was built for.
        self.input_spec = InputSpec(ndim=len(input_shape))
        in_axes = [i for i, a in enumerate(self._kernel_letters) if a not in self._out]
        out_axes = [i for i, a in enumerate(self._kernel_letters) if a in self._out]
        kernel_shape = shapes["kernel"]
        initializer = self.kernel_initializer
        if isinstance(initializer, initializers_module.VarianceScaling):
            initializer = _FansFrom2D(initializer, math.prod(kernel_shape[i] for i in in_axes),
                                      math.prod(kernel_shape[i] for i in out_axes))
        # A product over the input's last axes into the kernel's first axes is a linear map:
        # it runs as F.linear on a kernel kept in torch's (out, in) memory order (as Dense).
        contracted = self._contracted_letters()
        self._contracted = len(contracted)
        self.add_weight(name="kernel", shape=kernel_shape, initializer=initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                        linear_in_axes=self._contracted)
        self._output_sizes = kernel_shape[self._contracted:]
        if shapes["bias"] is not None:
            self.add_weight(name="bias", shape=shapes["bias"], initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
            # A bias over all the kernel's output axes goes into F.linear itself.
            self._fused_bias = bool(self._contracted) and shapes["bias"] == self._output_sizes
        else:
            self.bias = None
            self._fused_bias = False
        self._build_lora()

    def _contracted_letters(self) -> str:
        """The letters of a plain linear map `P+C, C+O -> P+O` (C nonempty, O nonempty); ''
        when the equation is another kind of product (then torch.einsum computes it)."""
        if self._ellipsis == "right":
            return ""
        contracted = "".join(a for a in self._in if a not in self._out)
        kept = self._in[:len(self._in) - len(contracted)]
        out = self._kernel_letters[len(contracted):]
        if (contracted and out and self._in.endswith(contracted)
                and self._kernel_letters == contracted + out and self._out == kept + out
                and not set(kept) & set(self._kernel_letters) and not set(out) & set(self._in)):
            return contracted
        return ""

    def forward(self, inputs):
        if self._contracted:
            x = inputs.flatten(-self._contracted) if self._contracted > 1 else inputs
            bias = self.bias.reshape(-1) if self._fused_bias else None
            outputs = F.linear(x, linear_weight(self.kernel, self._contracted), bias)
            if len(self._output_sizes) != 1:
                outputs = outputs.unflatten(-1, self._output_sizes)
            if self.bias is not None and not self._fused_bias:
                outputs = outputs + self.bias
        else:
            outputs = torch.einsum(self.equation, inputs, self.kernel)
            if self.bias is not None:
                outputs = outputs + self.bias
        return apply_activation(self.activation, outputs)

    def compute_output_shape(self, input_shape):
        shapes = self._analyze(input_shape)
        if self.built and shapes["kernel"] != tuple(self.kernel.shape):
            raise ShapeError(
                f"It was built with a kernel of shape {format_shape(tuple(self.kernel.shape))}, "
                f"but the input {format_shape(tuple(input_shape))} needs "
                f"{format_shape(shapes['kernel'])}.",
                fix="use a new EinsumDense layer for this input.",
            )
        return shapes["output"]

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers_module.serialize(self.activity_regularizer),
            "kernel_constraint": constraints_module.serialize(self.kernel_constraint),
            "bias_constraint": constraints_module.serialize(self.bias_constraint),
            "quantization_config": None,
            **self._lora_config(),
        }
