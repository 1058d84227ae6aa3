"""`get_source_inputs`: the `Input` tensors a symbolic tensor was computed from."""

from __future__ import annotations

from ..graph.symbolic import SymbolicTensor


def get_source_inputs(tensor: SymbolicTensor) -> list[SymbolicTensor]:
    """The model inputs (`Input(...)` tensors) that `tensor` depends on, in the order first met.

    >>> a, b = Input((3,)), Input((3,))
    >>> get_source_inputs(Dense(2)(a + b))  # [a, b]
    """
    if not isinstance(tensor, SymbolicTensor):
        raise TypeError(f"get_source_inputs takes a symbolic tensor (from Input or a layer call "
                        f"on one); got {type(tensor).__name__}.")
    sources, seen, pending = [], set(), [tensor]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        node = current.history.node if current.history is not None else None
        if node is None or not node.inputs:
            sources.append(current)
        else:
            pending.extend(reversed(node.inputs))
    return sources
