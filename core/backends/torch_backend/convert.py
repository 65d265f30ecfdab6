"""NumPy <-> torch for the torch backend: dtypes, graph inputs, constants and outputs.

Inputs and constants become tensors on the backend's device (zero-copy from NumPy on the CPU where NumPy
allows it); outputs come back as NumPy arrays that never share memory with the caller's inputs or constants.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["TORCH_DTYPES", "torch_dtype", "as_tensor", "input_converter", "to_output", "device_of"]

TORCH_DTYPES: dict[str, torch.dtype] = {
    "bool": torch.bool, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "uint8": torch.uint8, "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64,  # moved only
    "float32": torch.float32, "float64": torch.float64, "complex64": torch.complex64,
    "complex128": torch.complex128,
}


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of a graphwright dtype name.

    Examples
    --------
    >>> torch_dtype("uint8")
    torch.uint8
    """
    return TORCH_DTYPES[name]


def device_of(device: str | torch.device | None) -> torch.device:
    """The torch device for a ``device`` option (None: the CPU); an unusable device raises ValueError.

    Examples
    --------
    >>> device_of(None)
    device(type='cpu')
    """
    try:
        dev = torch.device("cpu" if device is None else device)
        torch.empty(0, device=dev)  # fails now (clear message) rather than on the first call
    except (RuntimeError, AssertionError, TypeError) as exc:
        raise ValueError(f"the torch backend cannot use device {device!r}: {exc}") from None
    return dev


def _shareable(array: np.ndarray) -> bool:
    """Whether ``torch.from_numpy`` can wrap ``array`` as it is (writeable, native byte order, no negative
    strides); otherwise it is copied first."""
    return (array.flags.writeable and array.dtype.isnative and array.flags.aligned
            and all(s >= 0 for s in array.strides))


def as_tensor(value, device: torch.device) -> torch.Tensor:
    """``value`` (array-like) as a tensor on ``device``, sharing memory with it on the CPU when possible.

    Examples
    --------
    >>> import numpy as np
    >>> as_tensor(np.arange(3), torch.device("cpu"))
    tensor([0, 1, 2])
    """
    array = value if value.__class__ is np.ndarray else np.asarray(value)
    if not _shareable(array):
        array = np.array(array)
    tensor = torch.from_numpy(array)
    return tensor if device.type == "cpu" else tensor.to(device)


def input_converter(device: torch.device) -> Callable[[np.ndarray], torch.Tensor]:
    """The per-call conversion of one (already checked) input array to a tensor on ``device``.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.ones(2)
    >>> tensor = input_converter(torch.device("cpu"))(data)
    >>> tensor.data_ptr() == data.ctypes.data  # no copy on the CPU
    True
    """
    from_numpy = torch.from_numpy
    ndarray = np.ndarray
    if device.type != "cpu":
        return lambda array: as_tensor(array, device)

    def convert(array):
        if array.__class__ is ndarray and array.flags.writeable:
            try:
                return from_numpy(array)
            except (TypeError, ValueError):  # negative strides, non-native byte order
                pass
        return as_tensor(array, device)

    return convert


def to_output(value: torch.Tensor, copy: bool) -> np.ndarray:
    """A result tensor as a NumPy array; ``copy``: the tensor may be (a view of) an input or a constant.

    Examples
    --------
    >>> to_output(torch.tensor([1.5, 2.0]), copy=False)
    array([1.5, 2. ], dtype=float32)
    """
    if value.device.type != "cpu":
        return value.cpu().numpy()
    array = value.numpy()
    return array.copy() if copy else array
