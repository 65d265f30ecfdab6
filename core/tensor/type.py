"""TensorType: dtype plus a static shape (an int or None per dimension), and interned tensor constants."""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Constant, GraphError, InputError, Type

__all__ = ["TensorType", "DTYPES", "FLOAT_DTYPES", "INT_DTYPES", "UINT_DTYPES", "COMPLEX_DTYPES",
           "broadcast_shapes", "promote_dtypes"]

DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64",
          "complex64", "complex128")
FLOAT_DTYPES = ("float32", "float64")
UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
INT_DTYPES = ("int8", "int16", "int32", "int64", *UINT_DTYPES)
COMPLEX_DTYPES = ("complex64", "complex128")
_SUPPORTED = frozenset(DTYPES)
# NumPy dtypes without a graphwright counterpart, and the supported dtype that holds all their values
_WIDEN = {"float16": "float32", "longdouble": "float64", "float128": "float64", "clongdouble": "complex128",
          "complex256": "complex128"}


def normalize_dtype(dtype: Any) -> str:
    """Return the canonical name of a supported dtype, or raise naming the unsupported one."""
    name = np.dtype(dtype).name if not isinstance(dtype, str) or dtype not in _SUPPORTED else dtype
    if name not in _SUPPORTED:
        raise TypeError(f"dtype {name!r} is not supported; graphwright supports {', '.join(DTYPES)}")
    return name


def promote_dtypes(*dtypes: str) -> str:
    """NumPy's result dtype for ``dtypes`` (NumPy 2 promotion), widened where NumPy gives an unsupported one.

    Examples
    --------
    >>> promote_dtypes("uint64", "int64"), promote_dtypes("uint32", "float32"), promote_dtypes("complex64", "int8")
    ('float64', 'float64', 'complex64')
    """
    return supported_dtype(np.result_type(*dtypes).name)


def supported_dtype(name: str) -> str:
    """Map NumPy result dtypes outside the supported set onto the supported one that holds all their values.

    Examples
    --------
    >>> supported_dtype("float16"), supported_dtype("uint16")
    ('float32', 'uint16')
    """
    if name in _SUPPORTED:
        return name
    if name in _WIDEN:
        return _WIDEN[name]
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
    is_tensor: ClassVar[bool] = True

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

    def filter(self, value: Any, *, name: str = "value", op: str | None = None) -> np.ndarray:
        """``value`` as an array of this dtype and shape, or an InputError naming ``name`` and both types.

        NumPy arrays must cast safely (no silent loss); Python scalars and lists may cast within the same kind
        (and integers to floats).

        Examples
        --------
        >>> TensorType("float64", (2,)).filter([1, 2])
        array([1., 2.])
        >>> TensorType("int64", ()).filter(np.float64(1.5), name="input 0 (n)")
        Traceback (most recent call last):
        ...
        graphwright.graph.basic.InputError: input 0 (n) expects dtype int64, got an array of dtype float64 that \
does not cast safely; convert it with .astype('int64')
        """
        label = self._where(name, op)
        target = np.dtype(self.dtype)
        if isinstance(value, np.ndarray | np.generic):
            if value.dtype != target and not np.can_cast(value.dtype, target, "safe"):
                raise InputError(f"{label} expects dtype {self.dtype}, got an array of dtype {value.dtype} that "
                                 f"does not cast safely; convert it with .astype('{self.dtype}')")
            array = np.asarray(value, dtype=target)
        else:
            try:
                raw = np.asarray(value)
            except Exception as exc:
                raise InputError(f"{label} expects a {self.short()} array, got {type(value).__name__}: "
                                 f"{exc}") from None
            if raw.dtype.kind not in "biufc" or (raw.dtype != target and not _python_values_cast(raw, target)):
                raise InputError(f"{label} expects dtype {self.dtype}, got {type(value).__name__} of dtype "
                                 f"{raw.dtype}")
            array = _cast_in_range(raw, target, label)
        self.check_shape(array, label)
        return array

    def check_shape(self, array: np.ndarray, label: str) -> None:
        """Raise InputError naming ``label`` unless ``array`` has this type's rank and static lengths."""
        if array.ndim != self.ndim:
            raise InputError(f"{label} expects {self.ndim} dimension(s) ({self.short()}), got an array of shape "
                             f"{array.shape}")
        for dim, (want, got) in enumerate(zip(self.shape, array.shape, strict=True)):
            if want is not None and want != got:
                raise InputError(f"{label} expects shape {self.short()}, got an array of shape {array.shape} "
                                 f"(dimension {dim} must have length {want})")

    def replacement_problem(self, new: Type) -> str | None:
        """Why a variable of type ``new`` may not replace one of this type (see ``rewrite.type_problem``)."""
        if not isinstance(new, TensorType):
            return f"type changes from {self.short()} to {new.short()}"
        if self.dtype != new.dtype:
            return f"dtype changes from {self.dtype} to {new.dtype}"
        if self.ndim != new.ndim or not new.is_refinement_of(self):
            return f"static shape changes from {self.short()} to {new.short()}"
        if any(o is None and n == 1 for o, n in zip(self.shape, new.shape, strict=True)):
            # a static 1 broadcasts where an unknown length does not: the runtime shape could change
            return f"static shape changes from {self.short()} to {new.short()} (a length 1 would broadcast)"
        return None

    def values_equal(self, a: Any, b: Any) -> bool:
        """Same shape and values, NaN equal to NaN (the dtype is this type's)."""
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))

    def copy_value(self, value: Any) -> np.ndarray:
        """A new array holding ``value``."""
        return np.array(value)

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


def _python_values_cast(raw: np.ndarray, target: np.dtype) -> bool:
    """Whether Python scalars or lists (``raw``, as NumPy read them) may become ``target``: within the same kind,
    integers to any integer dtype, integers to floats or complex, floats to complex (the values must also fit:
    see :func:`_cast_in_range`)."""
    return (np.can_cast(raw.dtype, target, "same_kind") or (raw.dtype.kind in "biu" and target.kind in "fc")
            or (raw.dtype.kind in "iu" and target.kind == "u"))


def _cast_in_range(raw: np.ndarray, target: np.dtype, label: str) -> np.ndarray:
    """``raw`` (Python values as NumPy read them) as ``target``, or an InputError naming ``label``, the value and
    the dtype when a value does not fit: an integer outside an integer dtype's range, or a finite number that
    a float dtype rounds to infinity (an infinity or NaN given as such stays one).

    Examples
    --------
    >>> _cast_in_range(np.asarray([100, -128]), np.dtype("int8"), "input 0 (n)")
    array([ 100, -128], dtype=int8)
    >>> _cast_in_range(np.asarray(300), np.dtype("int8"), "input 0 (n)")
    Traceback (most recent call last):
    ...
    graphwright.graph.basic.InputError: input 0 (n) expects dtype int8, got the value 300, outside its range \
[-128, 127]
    """
    if target.kind in "iu" and raw.dtype.kind in "iu" and raw.size:
        info = np.iinfo(target)
        low, high = int(raw.min()), int(raw.max())
        if low < info.min or high > info.max:
            raise InputError(f"{label} expects dtype {target}, got the value {low if low < info.min else high}, "
                             f"outside its range [{info.min}, {info.max}]")
    with np.errstate(over="ignore"):
        array = raw.astype(target, copy=False)
    if target.kind in "fc" and raw.dtype.kind in "iufc" and array.size:
        overflowed = np.isinf(array) & np.isfinite(raw)
        if overflowed.any():
            raise InputError(f"{label} expects dtype {target}, got the value {raw[overflowed].flat[0]}, which "
                             f"overflows it to infinity (largest finite value {np.finfo(target).max})")
    return array


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
