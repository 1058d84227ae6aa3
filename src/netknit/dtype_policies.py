"""`keras.dtype_policies`: which dtype a layer computes in, and which its weights are kept in.

A policy is named after a dtype (`"float32"`, `"float64"`, `"bfloat16"`, ... : weights and
computation both in it) or after one of the two mixed precisions: `"mixed_float16"` and
`"mixed_bfloat16"` compute in the 16-bit type while the weights stay in float32, so that small
updates are not lost to rounding. Each layer takes the global policy when it is made, unless
given `dtype=`; `set_dtype_policy` (`keras.mixed_precision.set_global_policy`) changes it.

>>> policy = DTypePolicy("mixed_float16")
>>> policy.compute_dtype, policy.variable_dtype
('float16', 'float32')
"""

from __future__ import annotations

import torch

from .graph.errors import did_you_mean

MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
# The policies the error message offers; any other torch dtype name is accepted as well.
COMMON = ("float32", "float16", "bfloat16", "float64", "mixed_float16", "mixed_bfloat16")


class KerasDType(str):
    """A dtype as Keras gives it (a layer's, a symbolic tensor's): a name, `"float32"`, that
    also stands for its torch dtype. It equals it (`layer.dtype == torch.float32`), answers
    `is_floating_point`, and `.torch` is the torch dtype itself, for torch functions."""

    torch: torch.dtype

    def __new__(cls, dtype):
        if isinstance(dtype, KerasDType):
            return dtype
        if not isinstance(dtype, torch.dtype):
            dtype = torch_dtype(dtype)
        name = super().__new__(cls, dtype_name(dtype))
        name.torch = dtype
        return name

    def __eq__(self, other) -> bool:
        if isinstance(other, torch.dtype):
            return other == self.torch
        return str.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = str.__hash__

    @property
    def is_floating_point(self) -> bool:
        return self.torch.is_floating_point


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of a dtype name (`"float32"`, `"int64"`, `"torch.float16"`); ValueError
    for anything else, policy names included."""
    if name in ("string", "str", "bytes"):
        raise ValueError(
            f"dtype {name!r}: netknit has no string tensors (torch has none). Turn texts into "
            "numbers before the model: `x = keras.layers.TextVectorization(...)(texts)` (or a "
            "StringLookup), then give the model `keras.Input(shape, dtype='int64')`.")
    dtype = getattr(torch, str(name).removeprefix("torch."), None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"Unknown dtype: {name!r}. Use e.g. 'float32', 'float64' or 'int64'.")
    return dtype


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def to_numpy(tensor: torch.Tensor):
    """A tensor's values as a NumPy array; NumPy has no bfloat16, so bfloat16 values come back
    as float32 (exactly: each bfloat16 is a float32)."""
    tensor = tensor.detach().cpu()
    return (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()


class DTypePolicy:
    """The compute and variable dtypes of a layer, by name.

    Args:
        name: a dtype name such as `"float32"` or `"float64"` (compute and variables in that
            dtype), or `"mixed_float16"` / `"mixed_bfloat16"` (compute in float16 / bfloat16,
            variables in float32). By default, the global policy's name.

    A layer under a mixed policy casts its floating inputs and its weights to the compute dtype
    when it runs, and returns outputs of the compute dtype; its weights stay float32 and take
    float32 gradients.
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError(
                "A DTypePolicy's name must be a string, such as 'mixed_float16'. Received: "
                f"name={name!r} (of type {type(name).__name__})"
            )
        if name in MIXED:
            compute, variable = torch_dtype(MIXED[name]), torch.float32
        else:
            try:
                compute = variable = torch_dtype(name)
            except ValueError:
                raise ValueError(
                    f"Cannot use {name!r} as a dtype policy.{did_you_mean(name, COMMON)} Allowed: "
                    f"{', '.join(repr(n) for n in COMMON)}, or another dtype name such as "
                    "'int32'."
                ) from None
        self._name = name
        self._compute = compute
        self._variable = variable

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in and return, as a string (`"float16"`)."""
        return dtype_name(self._compute)

    @property
    def variable_dtype(self) -> str:
        """The dtype layers keep their weights in, as a string (`"float32"`)."""
        return dtype_name(self._variable)

    @property
    def quantization_mode(self) -> None:
        """Always None: netknit has no quantized policies."""
        return None

    @property
    def is_mixed(self) -> bool:
        """Whether computation and weights have different dtypes."""
        return self._compute != self._variable

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicy:
        return cls(**config)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)


class FloatDTypePolicy(DTypePolicy):
    """Keras's other name for `DTypePolicy` (configs of earlier Keras 3 versions use it)."""


_global_policy: DTypePolicy | None = None


def set_dtype_policy(policy) -> None:
    """Make `policy` (a name or a `DTypePolicy`) the default of the layers made from now on.

    >>> set_dtype_policy("mixed_float16")
    >>> set_dtype_policy("float32")
    """
    global _global_policy
    if isinstance(policy, str):
        policy = DTypePolicy(policy)
    elif not isinstance(policy, DTypePolicy):
        raise ValueError(
            "Expected the name of a dtype policy (such as 'mixed_float16') or a DTypePolicy. "
            f"Received: policy={policy!r} (of type {type(policy).__name__})"
        )
    _global_policy = policy


def dtype_policy() -> DTypePolicy:
    """The global policy: `DTypePolicy("float32")` unless `set_dtype_policy` changed it."""
    global _global_policy
    if _global_policy is None:
        _global_policy = DTypePolicy("float32")
    return _global_policy


def get(identifier) -> DTypePolicy:
    """A policy from None (the global one), a name, a torch dtype, a config dict or a policy."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    if isinstance(identifier, torch.dtype):
        return DTypePolicy(dtype_name(identifier))
    name = getattr(identifier, "name", None)  # a NumPy dtype
    if isinstance(name, str):
        return DTypePolicy(name)
    raise ValueError(
        "Cannot interpret this dtype: expected a name such as 'float32' or 'mixed_float16', or "
        f"a DTypePolicy. Received: dtype={identifier!r}"
    )


def serialize(policy: DTypePolicy) -> dict:
    """Keras 3's config entry of a policy, as layer configs hold it."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects=None) -> DTypePolicy:
    """A policy from `serialize`'s output (or Keras's, `FloatDTypePolicy` included)."""
    class_name = config.get("class_name", "DTypePolicy")
    if class_name not in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
        raise ValueError(
            f"netknit reads the dtype policies DTypePolicy and FloatDTypePolicy; this config has "
            f"a {class_name!r} (quantized policies are not supported). Received: {config!r}"
        )
    return DTypePolicy.from_config(config.get("config") or {})


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get", "serialize",
           "set_dtype_policy"]
