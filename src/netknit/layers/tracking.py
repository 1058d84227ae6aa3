"""Lists, dicts and tuples of layers held by a layer, tracked as Keras tracks them.

`self.blocks = [Dense(5), Dense(5)]` in a layer's `__init__`: Keras wraps the list in a
`TrackedList` so that its layers (and those appended later) are the layer's sublayers. Here the
attribute reads as a `TrackedList` (a `list`), and torch's side of it, a `ContainerList` (an
`nn.ModuleList`) holding the same layers, is registered under the attribute's name: torch's
`parameters()`, `state_dict()` and `.to()` see the layers, and every change to the list (append,
extend, insert, item assignment, pop, del, ...) is made to it as well. Dicts become `TrackedDict`s
(torch's side a `ContainerDict`); tuples stay tuples (their lists and dicts tracked). Nested
lists, dicts and tuples are sub-containers, as in Keras's weights files
(`blocks/container/dense/vars/0`).

Variables in a tracked container (`self.scales = [keras.Variable(1.0), keras.Variable(2.0)]`) are
the holding layer's own weights, as in Keras: torch's side registers them as its parameters (or
buffers, for non-trainable ones), named with the layers by position or key (`scales.0`).

Only `list`, `dict` and `tuple` themselves are tracked (not their subclasses), and only when they
hold a layer or a variable (at any depth) or, for a public attribute, are empty (to be filled
later): other containers stay the plain objects they are.
"""

from __future__ import annotations

from torch import nn

from ..variables import Variable

_CONTAINERS = (list, dict, tuple)


class ContainerModules:
    """Torch's side of a tracked container: its layers, variables and sub-containers, in
    order."""

    _nk_order: list = []  # the names of the layers and variables, in the container's order

    def flat_layers(self, found: list, seen: set) -> None:
        from .layer import Layer

        for module in self._modules.values():
            if isinstance(module, Layer):
                if id(module) not in seen:
                    seen.add(id(module))
                    found.append(module)
            elif isinstance(module, ContainerModules):
                module.flat_layers(found, seen)

    def variable_entries(self, trainable: bool) -> list[tuple[nn.Module, str]]:
        """(owner, name) of the trainable (or non-trainable) variables held, at any depth, in
        the container's order."""
        entries = []
        for name in self._nk_order:
            module = self._modules.get(name)
            if isinstance(module, ContainerModules):
                entries.extend(module.variable_entries(trainable))
            elif module is None and (name in self._parameters) == trainable:
                entries.append((self, name))
        return entries


class ContainerList(ContainerModules, nn.ModuleList):
    """Torch's side of a tracked list or tuple."""


class ContainerDict(ContainerModules, nn.ModuleDict):
    """Torch's side of a tracked dict: keyed as the dict is where its keys allow, else by
    position."""


def holds_state(value) -> bool:
    """Whether a list, dict or tuple holds a layer or a variable at any depth."""
    from .layer import Layer

    items = value.values() if isinstance(value, dict) else value
    for item in items:
        if isinstance(item, (Layer, Variable)):
            return True
        if type(item) in _CONTAINERS and holds_state(item):
            return True
    return False


def should_track(value, name: str) -> bool:
    if type(value) in (TrackedList, TrackedDict):
        return True
    return (type(value) in _CONTAINERS and (holds_state(value) or (
        not value and type(value) is not tuple and not name.startswith("_"))))


def wrap(value):
    """A tracked version of `value` (already tracked ones as they are); other values as given."""
    kind = type(value)
    if kind is list:
        return TrackedList(value)
    if kind is dict:
        return TrackedDict(value)
    if kind is tuple:
        return tuple(wrap(item) for item in value)
    return value


def modules_of(value) -> nn.Module:
    """Torch's side of a tracked container (a new one for a tuple)."""
    if isinstance(value, (TrackedList, TrackedDict)):
        return value._nk_modules
    modules = ContainerList()
    _fill(modules, value)
    return modules


def _torch_side(item):
    """What torch's side holds for an item: a layer or variable itself, a container's modules;
    None for anything else."""
    from .layer import Layer

    if isinstance(item, (Layer, Variable)):
        return item
    if isinstance(item, (TrackedList, TrackedDict)) or type(item) is tuple:
        return modules_of(item)
    return None


def _fill(modules: nn.Module, value) -> None:
    for table in (modules._modules, modules._parameters, modules._buffers):
        table.clear()
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    held = [(key, side) for key, item in pairs if (side := _torch_side(item)) is not None]
    names = [str(key) for key, _ in held] if isinstance(value, dict) else []
    if len(set(names)) != len(names) or any(not n or "." in n for n in names) or not names:
        names = [str(i) for i in range(len(held))]
    for name, (_, side) in zip(names, held):
        if isinstance(side, nn.Parameter):
            modules._parameters[name] = side
        elif isinstance(side, Variable):
            modules._buffers[name] = side
        else:
            modules._modules[name] = side
    # The order of layers and variables together, for the variables' place among the weights.
    modules._nk_order = names


def _syncing(method):
    def synced(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        self._sync()
        return result

    synced.__name__ = method.__name__
    synced.__doc__ = method.__doc__
    return synced


class TrackedList(list):
    """A list of layers held by a layer (Keras's `TrackedList`): changes reach torch's side."""

    def __init__(self, values=()):
        super().__init__(wrap(v) for v in values)
        self._nk_modules = ContainerList()
        self._sync()

    def _sync(self) -> None:
        modules = self.__dict__.get("_nk_modules")
        if modules is not None:  # (None while unpickling: the modules come after the items)
            _fill(modules, self)

    def append(self, value) -> None:
        super().append(wrap(value))
        self._sync()

    def extend(self, values) -> None:
        super().extend([wrap(v) for v in values])
        self._sync()

    def insert(self, index, value) -> None:
        super().insert(index, wrap(value))
        self._sync()

    def __setitem__(self, index, value) -> None:
        if isinstance(index, slice):
            value = [wrap(v) for v in value]
        else:
            value = wrap(value)
        super().__setitem__(index, value)
        self._sync()

    def __iadd__(self, values):
        self.extend(values)
        return self

    def __copy__(self) -> list:
        return list(self)

    __delitem__ = _syncing(list.__delitem__)
    __imul__ = _syncing(list.__imul__)
    pop = _syncing(list.pop)
    remove = _syncing(list.remove)
    clear = _syncing(list.clear)
    sort = _syncing(list.sort)
    reverse = _syncing(list.reverse)


class TrackedDict(dict):
    """A dict of layers held by a layer (Keras's `TrackedDict`): changes reach torch's side."""

    def __init__(self, values=(), **kwargs):
        super().__init__()
        super().update({k: wrap(v) for k, v in dict(values, **kwargs).items()})
        self._nk_modules = ContainerDict()
        self._sync()

    def _sync(self) -> None:
        modules = self.__dict__.get("_nk_modules")
        if modules is not None:
            _fill(modules, self)

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, wrap(value))
        self._sync()

    def update(self, values=(), **kwargs) -> None:
        super().update({k: wrap(v) for k, v in dict(values, **kwargs).items()})
        self._sync()

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, values):
        self.update(values)
        return self

    def __copy__(self) -> dict:
        return dict(self)

    __delitem__ = _syncing(dict.__delitem__)
    pop = _syncing(dict.pop)
    popitem = _syncing(dict.popitem)
    clear = _syncing(dict.clear)


# What `Layer.__setattr__` looks at further: containers, tracked or not.
_TRACKABLE = frozenset({list, dict, tuple, TrackedList, TrackedDict})
