"""TensorType: dtype plus a static shape (an int or None per dimension), and interned tensor constants."""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwright.graph.basic import Constant, GraphError, Type

__all__ = ["TensorType", "DTYPES", "FLOAT_DTYPES", "INT_DTYPES", "broadcast_shapes", "promote_dtypes"]

DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64")
FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")
_SUPPORTED = frozenset(DTYPES)


def normalize_dtype(dtype: Any) -> str:
    """Return the canonical name of a supported dtype, or raise naming the unsupported one."""
    name = np.dtype(dtype).name if not isinstance(dtype, str) or dtype not in _SUPPORTED else dtype
    if name not in _SUPPORTED:
        raise TypeError(f"dtype {name!r} is not supported; graphwright supports {', '.join(DTYPES)}")
    return name


def promote_dtypes(*dtypes: str) -> str:
    """NumPy's result dtype for ``dtypes``, widened where NumPy would give an unsupported one."""
    return supported_dtype(np.result_type(*dtypes).name)


def supported_dtype(name: str) -> str:
    """Map NumPy result dtypes outside the supported set onto the nearest supported one."""
    if name in _SUPPORTED:
        return name
    widen = {"float16": "float32", "uint16": "int32", "uint32": "int64", "uint64": "float64",
             "longdouble": "float64", "float128": "float64"}
    if name in widen:
        return widen[name]
    raise TypeError(f"dtype {name!r} is not supported; graphwright supports {', '.join(DTYPES)}")


@dataclass(frozen=True, slots=True)
class TensorType(Type):
    """Type of an n-dimensional array: a dtype and a static shape with ``None`` for unknown lengths.

    Only a static length of 1 broadcasts.

    Examples
    --------
    >>> TensorType("float64", (3, None))
    TensorType(float64, (3, None))
    """

    dtype: str
    shape: tuple[int | None, ...]

    def __post_init__(self) -> None:
        shape = self.shape
        if self.dtype in _SUPPORTED and shape.__class__ is tuple and all(
                s is None or (s.__class__ is int and s >= 0) for s in shape):
            return  # already canonical (the common case, kept fast)
        object.__setattr__(self, "dtype", normalize_dtype(self.dtype))
        shape = tuple(shape)
        for s in shape:
            if s is not None and (not isinstance(s, int | np.integer) or s < 0):
                raise GraphError(f"static shape entries must be non-negative ints or None, got {shape}")
        object.__setattr__(self, "shape", tuple(None if s is None else int(s) for s in shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    def __repr__(self) -> str:
        return f"TensorType({self.dtype}, {self.shape})"

    def short(self) -> str:
        """``float64[3,?]`` style text used by printers and error messages."""
        dims = ",".join("?" if s is None else str(s) for s in self.shape)
        return f"{self.dtype}[{dims}]"

    def make_variable(self, owner=None, index: int = 0, name: str | None = None):
        return _variable_class()(self, owner, index, name)

    def make_constant(self, data: Any, name: str | None = None) -> Constant:
        return intern_constant(np.asarray(data, dtype=self.dtype), name)

    def is_compatible(self, other: TensorType) -> bool:
        """True when a value of type ``other`` may stand where this type is expected (same dtype, ndim and
        no contradicting static length)."""
        return (
            self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(a is None or b is None or a == b for a, b in zip(self.shape, other.shape, strict=True))
        )

    def is_refinement_of(self, other: TensorType) -> bool:
        """True when this type is ``other`` or more specific (same dtype, known lengths kept)."""
        return (
            self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(b is None or a == b for a, b in zip(self.shape, other.shape, strict=True))
        )


def _variable_class():
    global _TENSOR_VARIABLE
    if _TENSOR_VARIABLE is None:
        from graphwright.tensor.variable import TensorVariable

        _TENSOR_VARIABLE = TensorVariable
    return _TENSOR_VARIABLE


_TENSOR_VARIABLE = None


def broadcast_shapes(shapes: list[tuple[int | None, ...]], op_name: str) -> tuple[int | None, ...]:
    """Static NumPy broadcasting where only a static 1 broadcasts; raises naming ``op_name`` and the shapes."""
    first = shapes[0]
    if all(s == first for s in shapes):
        return first
    if len(shapes) == 2 and not (first and shapes[1]):
        return first or shapes[1]  # a 0-d operand broadcasts against anything
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out: list[int | None] = []
    for dim in range(ndim):
        known = {s[dim] for s in padded if s[dim] is not None and s[dim] != 1}
        if len(known) > 1:
            text = ", ".join(_shape_text(s) for s in shapes)
            raise GraphError(f"{op_name}: shapes {text} cannot be broadcast together (dimension {dim} has "
                             f"lengths {sorted(known)})")
        if known:
            out.append(known.pop())
        elif all(s[dim] == 1 for s in padded):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class _ConstantKey:
    """Identity of a constant: dtype, shape, the bit pattern of its contents, and its name.

    Contents compare bit for bit, so ``-0.0`` and ``0.0``, or two NaNs with different payloads, are different
    constants (``1 / c`` tells the zeros apart); a NaN equals a NaN with the same bits. The hash covers every
    byte (a digest for large arrays): a hash of a sample would give every constant that differs only outside
    it the same hash (a thousand one-hot vectors: one bucket, quadratic interning), and interning already
    pays for one pass over the bytes when it copies them. Equal hashes are confirmed byte for byte.
    """

    __slots__ = ("dtype", "shape", "array", "name", "_hash")
    DIGEST_ABOVE = 4096  # bytes; smaller contents are hashed directly

    def __init__(self, array: np.ndarray, name: str | None = None):
        self.dtype = array.dtype.name
        self.shape = array.shape
        self.array = array
        self.name = name
        bits = _bits(array)
        content = (bits.tobytes() if bits.size <= self.DIGEST_ABOVE
                   else hashlib.blake2b(memoryview(bits), digest_size=16).digest())
        self._hash = hash((self.dtype, self.shape, content, name))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _ConstantKey):
            return NotImplemented
        if (self._hash != other._hash or self.dtype != other.dtype or self.shape != other.shape
                or self.name != other.name):
            return False
        return bool(np.array_equal(_bits(self.array), _bits(other.array)))


def _bits(array: np.ndarray) -> np.ndarray:
    """The bytes of ``array`` in C order, as a flat uint8 array (a view whenever ``array`` is C-contiguous)."""
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


_CONSTANTS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def intern_constant(array: np.ndarray, name: str | None = None) -> Constant:
    """The unique constant holding ``array`` (copied, read-only) under ``name``.

    Constants are hash-consed on their bit pattern *and* their name. Unnamed constants with equal bits are one
    object everywhere (rules, folding and common-subexpression elimination rely on it). The name is display
    metadata, so it is never overwritten: a constant created with a new name is its own object and shows its
    own name (``momentum`` never prints as an earlier ``lr`` of the same value), while building the same named
    constant twice still gives one object, so graphs built from it hash-cons as before. Two equal values under
    different names are deliberately not merged: the user labelled them as different quantities, and rules
    that look at values (``constant_value``, folding) see through names anyway. Entries are weak: a constant
    nobody holds is freed.

    Examples
    --------
    >>> a = intern_constant(np.array([0.0, 1.0]))
    >>> a is intern_constant(np.array([0.0, 1.0])), a is intern_constant(np.array([-0.0, 1.0]))
    (True, False)
    >>> lr, momentum = intern_constant(np.array(0.9), "lr"), intern_constant(np.array(0.9), "momentum")
    >>> lr.name, momentum.name, lr is intern_constant(np.array(0.9), "lr")
    ('lr', 'momentum', True)
    """
    from graphwright.tensor.variable import TensorConstant

    dtype = supported_dtype(array.dtype.name)
    array = np.array(array, dtype=dtype, copy=True)
    array.setflags(write=False)
    key = _ConstantKey(array, name)
    const = _CONSTANTS.get(key)
    if const is None:
        const = TensorConstant(TensorType(dtype, array.shape), array, key, name)
        _CONSTANTS[key] = const
    return const
