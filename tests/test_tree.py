"""`keras.tree`: Keras's structure functions, with dicts in sorted key order."""

import pytest

from netknit import tree


def test_flatten_and_pack():
    structure = {"b": [1, (2, 3)], "a": 4}
    assert tree.flatten(structure) == [4, 1, 2, 3]
    assert tree.pack_sequence_as(structure, [40, 10, 20, 30]) == {"a": 40, "b": [10, (20, 30)]}
    with pytest.raises(ValueError, match="4 leaves, but 2 values"):
        tree.pack_sequence_as(structure, [1, 2])
    assert tree.is_nested([1]) and not tree.is_nested(1)
    assert tree.flatten(None) == [None]


def test_map_structure_and_paths():
    assert tree.map_structure(lambda x, y: x + y, [1, (2, 3)], [10, (20, 30)]) == [11, (22, 33)]
    with pytest.raises(ValueError, match="differ"):
        tree.map_structure(lambda x, y: x, [1, 2], [1])
    assert tree.flatten_with_path({"a": [1, 2], "b": 3}) == [
        (("a", 0), 1), (("a", 1), 2), (("b",), 3)]
    assert tree.map_structure_up_to([0, 0], lambda x: x, [1, [2, 3]]) == [1, [2, 3]]
    assert tree.lists_to_tuples([1, [2]]) == (1, (2,))
    assert tree.map_shape_structure(lambda s: s[-1], [(None, 3), (2, 4)]) == [3, 4]
    assert tree.traverse(lambda x: 0 if x == 2 else None, [1, [2, 3]]) == [1, [0, 3]]
