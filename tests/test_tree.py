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


def test_map_to_none_replaces_a_subtree_with_none_in_traverse():
    def tuples_to_none(x):
        return tree.MAP_TO_NONE if isinstance(x, tuple) else None

    assert tree.traverse(tuples_to_none, [(1, [2]), [3, (4, 5, 6)]]) == [None, [3, None]]
    assert tree.traverse(tuples_to_none, [(1, [2]), [3, (4, 5, 6)]], top_down=False) == \
        [None, [3, None]]
    assert tree.traverse(lambda x: tree.MAP_TO_NONE, {"a": 1}) is None
    # Only traverse reads it, as in Keras: a mapped function's result is kept as returned.
    assert tree.map_structure(lambda x: tree.MAP_TO_NONE, [1]) == [tree.MAP_TO_NONE]


def test_traverse_visits_as_keras_does():
    # Keras's docstring example, and dicts visited in sorted key order.
    for top_down, order in [(True, [[(1, 2), [3], {"a": 4}], (1, 2), 1, 2, [3], 3, {"a": 4}, 4]),
                            (False, [1, 2, (1, 2), 3, [3], 4, {"a": 4}, [(1, 2), [3], {"a": 4}]])]:
        visited = []
        assert tree.traverse(visited.append, [(1, 2), [3], {"a": 4}], top_down) == \
            [(1, 2), [3], {"a": 4}]
        assert visited == order
    visited = []
    assert list(tree.traverse(visited.append, {"b": 1, "a": [2]})) == ["a", "b"]
    assert visited[1:] == [[2], 2, 1]


STRUCTURES = [[(1, [2]), [3, (4, 5, 6)]], {"b": (1, None), "a": {"d": [2], "c": 3}}, 7, None,
              ((), [], {})]


@pytest.mark.parametrize("top_down", [True, False])
@pytest.mark.parametrize("structure", STRUCTURES, ids=range(len(STRUCTURES)))
def test_traverse_matches_live_keras(structure, top_down):
    real_keras = pytest.importorskip("keras")

    def run(module):
        # Equal subtrees, not their reprs: Keras shows `func` dicts nested in a dict unsorted.
        visited = []

        def func(x):
            visited.append(x)
            if isinstance(x, tuple):
                return module.MAP_TO_NONE
            return x * 10 if isinstance(x, int) and x % 2 else None

        return repr(module.traverse(func, structure, top_down=top_down)), visited

    assert run(tree) == run(real_keras.tree)
