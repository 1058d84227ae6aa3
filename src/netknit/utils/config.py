"""`keras.utils.Config`: a dict of named settings, also read and written as attributes."""

from __future__ import annotations

import copy
import difflib
import json


class Config:
    """A dict-like container of named values, readable and settable as attributes too.

    `config.seed = 1` and `config["seed"] = 1` set the same entry. `freeze()` turns every change
    into a ValueError until `unfreeze()`, so that settings cannot drift after they are fixed.
    `to_json()` writes the entries as JSON; `as_dict()` copies them into a plain dict.

    Iterating over a config gives its keys in sorted order; `keys()`, `values()` and `items()`
    keep the order in which the entries were added, as a dict does.

    Args:
        **kwargs: the initial entries.

    >>> config = Config(learning_rate=0.1, momentum=0.9)
    >>> config.seed = 123
    >>> config["learning_rate"], config.seed
    (0.1, 123)
    >>> config.freeze()
    >>> config.seed = 1
    Traceback (most recent call last):
    ...
    ValueError: Cannot mutate attribute(s) because the config is frozen.
    """

    # Until `__init__` has listed the object's own attributes, every attribute is one of them.
    _own_attributes: frozenset[str] | None = None

    def __init__(self, **kwargs):
        self._config = kwargs
        self._frozen = False
        # Names that stay attributes of the object (its methods, `_config`, ...); any other
        # attribute name is an entry.
        self._own_attributes = frozenset(dir(self))

    @property
    def frozen(self) -> bool:
        """Whether changes are refused."""
        return self._frozen

    def freeze(self) -> None:
        """Refuse every change (setting, updating, popping or deleting an entry) from now on."""
        self._frozen = True

    def unfreeze(self) -> None:
        """Allow changes again."""
        self._frozen = False

    def _raise_if_frozen(self) -> None:
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self) -> dict:
        """The entries as a new dict (the values themselves are not copied)."""
        return copy.copy(self._config)

    def to_json(self) -> str:
        """The entries as a JSON string."""
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args):
        """`dict.pop`: remove an entry and return its value."""
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs) -> None:
        """`dict.update`: add or replace entries."""
        self._raise_if_frozen()
        self._config.update(*args, **kwargs)

    def get(self, keyname, value=None):
        """The entry `keyname`, or `value` when there is none."""
        return self._config.get(keyname, value)

    def __setattr__(self, name: str, value) -> None:
        own = object.__getattribute__(self, "_own_attributes")
        if own is None or name in own:
            object.__setattr__(self, name, value)
            return
        self._raise_if_frozen()
        self._config[name] = value

    def __getattr__(self, name: str):
        # Only called for names that are not the object's own attributes.
        own = object.__getattribute__(self, "_own_attributes")
        if own is None or name in own:
            return object.__getattribute__(self, name)
        config = object.__getattribute__(self, "_config")
        if name in config:
            return config[name]
        message = f"Unknown attribute: '{name}'."
        closest = difflib.get_close_matches(name, list(config), n=1, cutoff=0.7)
        if closest:
            message += f" Did you mean '{closest[0]}'?"
        raise AttributeError(message)

    def __setitem__(self, key, item) -> None:
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key) -> None:
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item) -> bool:
        return item in self._config

    def __iter__(self):
        return iter(sorted(self._config))

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"
