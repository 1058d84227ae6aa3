"""`keras.ops.rearrange`: einops-style reordering, merging and splitting of axes.

>>> images = np.zeros((32, 30, 40, 3))
>>> rearrange(images, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2).shape
torch.Size([32, 15, 20, 12])
"""

from __future__ import annotations

import math
import re

from .core import tensor
from .operation import keras_operation

_GROUP = re.compile(r"\(([^()]*)\)|([^\s()]+)")


def rearrange(tensor, pattern: str, **axes_lengths):
    """Rearrange the axes of `tensor` by an einops `pattern` such as `"b h w c -> b c h w"`.

    Args:
        tensor: the input.
        pattern: `"<input axes> -> <output axes>"`; parentheses merge axes (`"(b h) w c"`) on
            the output side and split one on the input side, where all but one of its parts
            must be given in `axes_lengths`. Each axis name appears once on each side.
        **axes_lengths: the sizes of the axes a split creates, e.g. `h1=2`.
    """
    return _rearrange(tensor, pattern, axes_lengths)


@keras_operation("einops", "Rearrange", call="x")
def _rearrange(x, pattern, axes_lengths=None):
    x = tensor(x)
    inputs, outputs = _parse(pattern)
    if len(inputs) != x.ndim:
        raise ValueError(
            f"rearrange pattern {pattern!r} names {len(inputs)} input axes; the tensor has "
            f"{x.ndim}: shape {tuple(x.shape)}."
        )
    sizes = _axis_sizes(inputs, x.shape, dict(axes_lengths or {}), pattern)
    order = [axis for group in inputs for axis in group]
    x = x.reshape([sizes[axis] for axis in order])
    x = x.permute([order.index(axis) for group in outputs for axis in group])
    return x.reshape([math.prod(sizes[axis] for axis in group) for group in outputs])


def _parse(pattern: str) -> tuple[list, list]:
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise ValueError(f"Expected a rearrange pattern '<input axes> -> <output axes>'. "
                         f"Received: pattern={pattern!r}")
    sides = [[m.group(1).split() if m.group(1) is not None else [m.group(2)]
              for m in _GROUP.finditer(side)] for side in pattern.split("->")]
    names = [[axis for group in side for axis in group] for side in sides]
    for side in names:
        bad = [a for a in side if not a.isidentifier()]
        if bad or len(set(side)) != len(side):
            raise ValueError(
                f"In rearrange pattern {pattern!r}, each side must name each axis once with a "
                f"Python identifier (no '...' or numbers). Received: {' '.join(side)}"
            )
    if set(names[0]) != set(names[1]):
        raise ValueError(
            f"rearrange pattern {pattern!r} must name the same axes on both sides; "
            f"{sorted(set(names[0]) ^ set(names[1]))} appear on one side only."
        )
    return sides[0], sides[1]


def _axis_sizes(groups: list, shape, lengths: dict, pattern: str) -> dict:
    sizes = {}
    for group, size in zip(groups, shape):
        unknown = [axis for axis in group if axis not in lengths]
        known = math.prod(lengths[axis] for axis in group if axis in lengths)
        if len(group) == 1 and not unknown and lengths[group[0]] != size:
            raise ValueError(f"rearrange: axis {group[0]} has size {size}, not "
                             f"{lengths[group[0]]} as given.")
        if len(unknown) > 1:
            raise ValueError(
                f"rearrange pattern {pattern!r}: give the sizes of all but one of "
                f"{unknown}, e.g. {unknown[0]}=..."
            )
        if size % known or (not unknown and known != size):
            given = ", ".join(f"{a}={lengths[a]}" for a in group if a in lengths)
            raise ValueError(f"rearrange: the axis of size {size} cannot be split into "
                             f"({' '.join(group)}) with {given}.")
        sizes.update({axis: lengths.get(axis, size // known) for axis in group})
    return sizes
