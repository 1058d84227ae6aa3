"""Shape arithmetic, and shapes written the way Keras prints them: `(None, 1, 1280)`."""

from __future__ import annotations

from collections.abc import Sequence


def format_shape(shape: Sequence | None) -> str:
    """`(None, 32)` for a shape; a 1-tuple keeps its comma, as Python writes it: `(None,)`."""
    if shape is None:
        return "?"
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def standardize_shape(shape, what: str = "shape") -> tuple:
    """Turn an int, list or tuple of ints/None into a tuple, or explain what was wrong."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(
            f"Expected {what} to be a tuple of integers, such as (28, 28, 1). Received: {shape!r}"
        ) from None
    for d in shape:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 0):
            raise ValueError(
                f"Expected {what} to hold non-negative integers or None. Received: {shape!r}"
            )
    return shape


def num_elements(shape: Sequence) -> int | None:
    """Product of the sizes, or None when any is unknown."""
    total = 1
    for d in shape:
        if d is None:
            return None
        total *= d
    return total


def broadcast_shapes(a: Sequence, b: Sequence) -> tuple | None:
    """Broadcast two shapes by NumPy's rules (None is unknown); None if they cannot be."""
    a, b = tuple(a), tuple(b)
    if len(a) < len(b):
        a = (1,) * (len(b) - len(a)) + a
    elif len(b) < len(a):
        b = (1,) * (len(a) - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        else:
            return None
    return tuple(out)
