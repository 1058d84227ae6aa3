"""`keras.tree`: nested structures of lists, tuples and dicts, walked the way netknit's graph
walks inputs and outputs (dicts in sorted key order; None is a leaf)."""

from __future__ import annotations

from .graph import nest


def is_nested(structure) -> bool:
    return isinstance(structure, (list, tuple, dict))


def flatten(structure) -> list:
    return nest.flatten(structure)


def pack_sequence_as(structure, flat_sequence):
    leaves = list(flat_sequence)
    if len(leaves) != len(nest.flatten(structure)):
        raise ValueError(f"The structure has {len(nest.flatten(structure))} leaves, but "
                         f"{len(leaves)} values were given to pack into it.")
    return nest.pack_like(structure, leaves)


def map_structure(func, *structures, none_is_leaf=True):
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    columns = zip(*(nest.flatten(s) for s in structures))
    return nest.pack_like(structures[0], [func(*values) for values in columns])


def map_structure_up_to(shallow_structure, func, *structures):
    def cut(structure, shallow):
        if isinstance(shallow, dict):
            return {key: cut(structure[key], shallow[key]) for key in shallow}
        if isinstance(shallow, (list, tuple)):
            return type(shallow)(cut(s, t) for s, t in zip(structure, shallow))
        return _Leaf(structure)

    cut_structures = [cut(s, shallow_structure) for s in structures]
    columns = zip(*(nest.flatten(s) for s in cut_structures))
    return nest.pack_like(shallow_structure, [func(*(v.value for v in values))
                                              for values in columns])


class _Leaf:
    """A subtree that `map_structure_up_to` passes whole."""

    def __init__(self, value):
        self.value = value


def flatten_with_path(structure) -> list:
    """`(path, leaf)` pairs, a path being the tuple of keys and indices down to the leaf."""
    if isinstance(structure, dict):
        return [((key, *path), leaf) for key in sorted(structure)
                for path, leaf in flatten_with_path(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [((i, *path), leaf) for i, item in enumerate(structure)
                for path, leaf in flatten_with_path(item)]
    return [((), structure)]


def assert_same_structure(a, b, check_types=None):
    def shape(structure):
        if isinstance(structure, dict):
            return ("dict", tuple((k, shape(structure[k])) for k in sorted(structure)))
        if isinstance(structure, (list, tuple)):
            return ("sequence", tuple(shape(item) for item in structure))
        return "leaf"

    if shape(a) != shape(b):
        raise ValueError(f"The two structures differ: {a!r} and {b!r}.")


def assert_same_paths(a, b):
    paths_a = {path for path, _ in flatten_with_path(a)}
    paths_b = {path for path, _ in flatten_with_path(b)}
    if paths_a != paths_b:
        raise ValueError(f"The structures' paths differ: {sorted(paths_a ^ paths_b, key=str)}.")


def lists_to_tuples(structure):
    if isinstance(structure, dict):
        return {key: lists_to_tuples(value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return tuple(lists_to_tuples(item) for item in structure)
    return structure


class MAP_TO_NONE:  # noqa: N801 (Keras's name)
    """What `traverse`'s function returns to replace a subtree with None: returning None itself
    leaves the subtree as it is."""


def traverse(func, structure, top_down=True):
    """Call `func` on every subtree, each parent before its children (`top_down`) or after.

    Top-down, a subtree for which `func` returns something other than None is replaced by that
    and not walked further; bottom-up, each subtree (its children already walked) is replaced
    by `func`'s result unless that is None. `MAP_TO_NONE` replaces a subtree with None. Dicts
    are walked, shown to `func` and returned in sorted key order.

    >>> visited = []
    >>> traverse(visited.append, [(1, 2), {"b": 3, "a": 4}])
    [(1, 2), {'a': 4, 'b': 3}]
    >>> visited
    [[(1, 2), {'a': 4, 'b': 3}], (1, 2), 1, 2, {'a': 4, 'b': 3}, 4, 3]
    >>> traverse(lambda x: MAP_TO_NONE if isinstance(x, tuple) else None, [(1, 2), [3]])
    [None, [3]]
    """

    def walk(item):
        if top_down:
            replaced = func(item)
            if replaced is not None:
                return None if replaced is MAP_TO_NONE else replaced
        if isinstance(item, dict):
            result = {key: walk(value) for key, value in item.items()}
        elif isinstance(item, (list, tuple)):
            result = type(item)(walk(value) for value in item)
        else:
            result = item
        if top_down:
            return result
        replaced = func(result)
        if replaced is None:
            return result
        return None if replaced is MAP_TO_NONE else replaced

    # A copy with every dict in sorted key order, the order in which Keras walks them.
    return walk(nest.pack_like(structure, nest.flatten(structure)))


def map_shape_structure(func, structure):
    """`map_structure` where a tuple of ints (or None) is one leaf: a shape."""
    if isinstance(structure, tuple) and all(d is None or isinstance(d, int) for d in structure):
        return func(structure)
    if isinstance(structure, dict):
        return {key: map_shape_structure(func, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_shape_structure(func, item) for item in structure)
    return func(structure)
