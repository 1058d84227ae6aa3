"""`keras.utils.Config`: attribute and item access, freezing, JSON, as Keras 3.15 has them."""

import copy
import json
import pickle

import pytest

from netknit.utils.config import Config


def test_attributes_and_items_are_the_same_entries():
    config = Config(learning_rate=0.1, momentum=0.9)
    config.use_ema = True
    config["seed"] = 123
    assert config.seed == config["seed"] == 123
    assert config.learning_rate == 0.1 and config["use_ema"] is True
    assert "seed" in config and "frozen" not in config and len(config) == 4
    assert config.get("missing") is None and config.get("missing", 3) == 3
    assert config.pop("momentum") == 0.9 and config.pop("momentum", None) is None
    config.update({"b": 1}, a=2)
    del config["seed"]
    assert config.as_dict() == {"learning_rate": 0.1, "use_ema": True, "b": 1, "a": 2}
    # Iteration is sorted; keys(), values() and items() keep the order of insertion.
    assert list(config) == ["a", "b", "learning_rate", "use_ema"]
    assert list(config.keys()) == ["learning_rate", "use_ema", "b", "a"]
    assert list(config.values()) == [0.1, True, 1, 2]
    assert dict(config.items()) == config.as_dict()
    assert repr(config) == "<Config {'learning_rate': 0.1, 'use_ema': True, 'b': 1, 'a': 2}>"
    assert json.loads(config.to_json()) == config.as_dict()


def test_as_dict_is_a_copy():
    config = Config(a=[1])
    copied = config.as_dict()
    copied["b"] = 2
    assert "b" not in config and copied["a"] is config.a


def test_an_unknown_attribute_suggests_the_closest_entry():
    config = Config(learning_rate=0.1)
    with pytest.raises(AttributeError, match=r"Unknown attribute: 'learning_rat'\. Did you mean "
                                             r"'learning_rate'\?"):
        config.learning_rat  # noqa: B018
    with pytest.raises(AttributeError, match=r"^Unknown attribute: 'zzz'\.$"):
        config.zzz  # noqa: B018
    assert not hasattr(config, "seed")
    with pytest.raises(KeyError):
        config["seed"]  # noqa: B018


def test_a_frozen_config_refuses_every_change_until_unfrozen():
    config = Config(a=1)
    config.freeze()
    assert config.frozen
    changes = [lambda: setattr(config, "b", 2), lambda: config.__setitem__("b", 2),
               lambda: config.update(b=2), lambda: config.pop("a"),
               lambda: config.__delitem__("a")]
    for change in changes:
        with pytest.raises(ValueError, match="Cannot mutate attribute\\(s\\) because the config "
                                             "is frozen."):
            change()
    assert config.as_dict() == {"a": 1} and config.a == 1
    config.unfreeze()
    config.b = 2
    assert not config.frozen and config.as_dict() == {"a": 1, "b": 2}


def test_copies_and_pickles_keep_the_entries_and_the_state():
    config = Config(a=[1], b="x")
    config.freeze()
    for again in (copy.copy(config), copy.deepcopy(config), pickle.loads(pickle.dumps(config))):
        assert again.as_dict() == config.as_dict() and again.frozen
        with pytest.raises(ValueError, match="frozen"):
            again.c = 1


def test_behaves_as_keras_config():
    real_keras = pytest.importorskip("keras")

    def run(cls):
        """The outcome of each step on a config of `cls`: a value, or the error's type and
        message."""
        config = cls(b=1, a=2)
        steps = [
            lambda: setattr(config, "c", [3]), lambda: config.c, lambda: config["c"],
            lambda: list(config), lambda: list(config.items()), lambda: config.to_json(),
            lambda: repr(config), lambda: config.get("z", 5), lambda: config.abc,
            lambda: config.bb, lambda: config["z"], lambda: config.freeze(),
            lambda: config.frozen, lambda: config.update(z=1), lambda: setattr(config, "d", 1),
            lambda: config.pop("a"), lambda: config.unfreeze(), lambda: config.pop("a"),
            lambda: config.pop("a", 0), lambda: len(config), lambda: "b" in config,
            lambda: config.as_dict(), lambda: dict(config),
        ]
        outcomes = []
        for step in steps:
            try:
                outcomes.append(step())
            except Exception as error:  # the errors are compared as outcomes
                outcomes.append((type(error).__name__, str(error)))
        return outcomes

    assert run(Config) == run(real_keras.utils.Config)
