"""Flatten nested inputs and outputs (tensors in lists, tuples and dicts) and pack them back.

Dicts are walked in sorted key order, as Keras does, so a dict of inputs and the same inputs
given as a list in that order mean the same thing.
"""

from __future__ import annotations

from typing import Any


def flatten(structure: Any) -> list:
    """All leaves of `structure`, depth first."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_like(structure: Any, leaves: list) -> Any:
    """Rebuild `structure` with `leaves` in place of its own leaves (inverse of `flatten`)."""
    iterator = iter(leaves)

    def rebuild(item):
        if isinstance(item, dict):
            return {key: rebuild(item[key]) for key in sorted(item)}
        if isinstance(item, (list, tuple)):
            return type(item)(rebuild(x) for x in item)
        return next(iterator)

    return rebuild(structure)


def map_structure(fn, structure: Any) -> Any:
    return pack_like(structure, [fn(leaf) for leaf in flatten(structure)])
