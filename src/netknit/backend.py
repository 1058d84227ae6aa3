"""The backend helpers Keras users call: `clear_session`, `epsilon`, `floatx`, ..."""

import contextlib

import torch

from .graph.symbolic import is_symbolic as is_keras_tensor
from .layers.layer import clear_session as clear_session
from .losses import EPSILON

__all__ = ["backend", "clear_session", "device", "epsilon", "floatx", "get_uid",
           "image_data_format", "is_float_dtype", "is_int_dtype", "is_keras_tensor",
           "result_type", "set_epsilon", "set_floatx", "set_image_data_format",
           "standardize_dtype"]


@contextlib.contextmanager
def device(device_name: str):
    """`with keras.device("gpu:0"):` — tensors and weights made inside are made on that device
    (`"cpu"`, `"gpu"`/`"cuda"` with an optional index), as Keras's torch backend does; the
    torch device is what the `with` gives."""
    if not isinstance(device_name, str):
        raise ValueError("Expected a device name such as 'gpu:0' or 'cpu'. Received: "
                         f"device_name={device_name!r}")
    with torch.device(device_name.lower().replace("gpu", "cuda")) as chosen:
        yield chosen


def backend() -> str:
    """The engine: `"torch"`."""
    return "torch"


def epsilon() -> float:
    """The fuzz factor losses and metrics use against division by zero and log(0): 1e-7."""
    return EPSILON


def floatx() -> str:
    """The default float dtype of weights and computation: `"float32"`."""
    return "float32"


def image_data_format() -> str:
    """The default image layout of convolution and pooling layers: `"channels_last"`."""
    return "channels_last"


def _keep(setting: str, value, current, instead: str) -> None:
    if value != current:
        raise ValueError(f"netknit's {setting} is {current!r} and cannot be set globally to "
                         f"{value!r}: {instead}")


def set_floatx(value: str) -> None:
    _keep("floatx", value, floatx(), "give the layers `dtype=` instead, or cast the model with "
          "`model.to(torch.float64)` / `model.half()`.")


def set_epsilon(value: float) -> None:
    _keep("epsilon", value, epsilon(), "pass `epsilon=` to the layer, loss or optimizer.")


def set_image_data_format(data_format: str) -> None:
    _keep("image_data_format", data_format, image_data_format(),
          "give convolution and pooling layers `data_format='channels_first'`.")


def set_backend(backend_name: str) -> None:
    _keep("backend", backend_name, backend(), "netknit runs on PyTorch only.")


def standardize_dtype(dtype) -> str:
    """Keras's name of a dtype (`"float32"`, `"int64"`) from a name, a torch or NumPy dtype."""
    from .ops.core import standardize_dtype as standardize

    return standardize(dtype)


def is_float_dtype(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes) -> str:
    """The dtype that values of `dtypes` combine to, by torch's promotion rules."""
    import torch

    from .ops.core import to_torch_dtype

    result = to_torch_dtype(dtypes[0]) if dtypes else torch.float32
    for dtype in dtypes[1:]:
        result = torch.promote_types(result, to_torch_dtype(dtype))
    return standardize_dtype(result)


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... per prefix, as Keras numbers automatic names."""
    from .layers.layer import unique_name

    name = unique_name(prefix)
    return 1 if name == prefix else int(name.rsplit("_", 1)[1]) + 1
