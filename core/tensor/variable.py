"""Tensor variables with NumPy-like operators and methods, constants, and the input constructors."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np

from graphwright.graph.basic import Constant, Variable
from graphwright.tensor.type import TensorType, intern_constant, normalize_dtype, supported_dtype

__all__ = ["TensorVariable", "TensorConstant", "as_tensor", "constant", "scalar", "vector", "matrix", "tensor",
           "tensor3", "tensor4"]


class TensorVariable(Variable):
    """A symbolic n-dimensional array. Operators build graph nodes; ``==`` stays identity (use ``gw.eq``)."""

    __slots__ = ()
    __array_ufunc__ = None  # make NumPy defer to our reflected operators (np.ones(3) + x)

    # --- static information -------------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return len(self.type.shape)

    @property
    def static_shape(self) -> tuple[int | None, ...]:
        return self.type.shape

    @property
    def shape(self) -> TensorVariable:
        """The runtime shape as an int64 vector (static lengths fold to constants when rewritten)."""
        return _shape.shape_of(self)

    @property
    def size(self) -> TensorVariable:
        return _reduce.prod(self.shape)

    @property
    def T(self) -> TensorVariable:
        return _shape.transpose(self)

    def __bool__(self) -> bool:
        raise TypeError(f"the symbolic variable {self} has no truth value; use gw.switch / gw.where for "
                        "conditions and gw.eq for elementwise equality")

    def __len__(self) -> int:
        if self.ndim and self.type.shape[0] is not None:
            return self.type.shape[0]
        raise TypeError(f"len() of {self} is not known statically (static shape {self.type.shape})")

    def __iter__(self):
        n = len(self)
        return (self[i] for i in range(n))

    # --- arithmetic ----------------------------------------------------------------------------------
    def __add__(self, other): return _ew.add(self, other)
    def __radd__(self, other): return _ew.add(other, self)
    def __sub__(self, other): return _ew.sub(self, other)
    def __rsub__(self, other): return _ew.sub(other, self)
    def __mul__(self, other): return _ew.mul(self, other)
    def __rmul__(self, other): return _ew.mul(other, self)
    def __truediv__(self, other): return _ew.true_div(self, other)
    def __rtruediv__(self, other): return _ew.true_div(other, self)
    def __floordiv__(self, other): return _ew.int_div(self, other)
    def __rfloordiv__(self, other): return _ew.int_div(other, self)
    def __mod__(self, other): return _ew.mod(self, other)
    def __rmod__(self, other): return _ew.mod(other, self)
    def __pow__(self, other): return _ew.pow(self, other)
    def __rpow__(self, other): return _ew.pow(other, self)
    def __matmul__(self, other): return _linalg.matmul(self, other)
    def __rmatmul__(self, other): return _linalg.matmul(other, self)
    def __neg__(self): return _ew.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ew.abs(self)
    def __invert__(self): return _ew.invert(self)
    def __and__(self, other): return _ew.and_(self, other)
    def __rand__(self, other): return _ew.and_(other, self)
    def __or__(self, other): return _ew.or_(self, other)
    def __ror__(self, other): return _ew.or_(other, self)
    def __xor__(self, other): return _ew.xor(self, other)
    def __rxor__(self, other): return _ew.xor(other, self)
    def __lt__(self, other): return _ew.lt(self, other)
    def __le__(self, other): return _ew.le(self, other)
    def __gt__(self, other): return _ew.gt(self, other)
    def __ge__(self, other): return _ew.ge(self, other)
    __hash__ = Variable.__hash__

    # --- indexing and shape methods ------------------------------------------------------------------
    def __getitem__(self, index): return _indexing.getitem(self, index)

    def reshape(self, *shape, ndim: int | None = None) -> TensorVariable:
        if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
            shape = shape[0]
        return _shape.reshape(self, shape, ndim=ndim)

    def flatten(self, ndim: int = 1) -> TensorVariable: return _shape.flatten(self, ndim)
    def dimshuffle(self, *order) -> TensorVariable:
        if len(order) == 1 and isinstance(order[0], list | tuple):
            order = tuple(order[0])
        return _shape.dimshuffle(self, order)
    def transpose(self, *axes) -> TensorVariable:
        return _shape.transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], list | tuple)
                                else (axes or None))
    def squeeze(self, axis=None) -> TensorVariable: return _shape.squeeze(self, axis)
    def astype(self, dtype) -> TensorVariable: return _ew.cast(self, dtype)
    def copy(self) -> TensorVariable: return self

    # --- reductions ----------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, dtype=None): return _reduce.sum(self, axis, keepdims, dtype)
    def prod(self, axis=None, keepdims=False, dtype=None): return _reduce.prod(self, axis, keepdims, dtype)
    def mean(self, axis=None, keepdims=False): return _reduce.mean(self, axis, keepdims)
    def var(self, axis=None, keepdims=False, ddof=0): return _reduce.var(self, axis, keepdims, ddof)
    def std(self, axis=None, keepdims=False, ddof=0): return _reduce.std(self, axis, keepdims, ddof)
    def max(self, axis=None, keepdims=False): return _reduce.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _reduce.min(self, axis, keepdims)
    def all(self, axis=None, keepdims=False): return _reduce.all(self, axis, keepdims)
    def any(self, axis=None, keepdims=False): return _reduce.any(self, axis, keepdims)
    def argmax(self, axis=None, keepdims=False): return _reduce_special.argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return _reduce_special.argmin(self, axis, keepdims)
    def cumsum(self, axis=None): return _cumulative.cumsum(self, axis)
    def cumprod(self, axis=None): return _cumulative.cumprod(self, axis)
    def dot(self, other): return _linalg.dot(self, other)

    def eval(self, inputs: dict | None = None):
        """Evaluate with the NumPy reference backend; ``inputs`` maps input variables to values.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> (x * 2).eval({x: [1.0, 2.0]})
        array([2., 4.])
        """
        from graphwright.backends.compile import eval_variable

        return eval_variable(self, inputs or {})


class TensorConstant(Constant, TensorVariable):
    """A tensor with a fixed, read-only value. Interned: equal values are one object."""

    __slots__ = ()

    def __init__(self, type: TensorType, data: np.ndarray, key: Any, name: str | None = None):
        Constant.__init__(self, type, data, key, name)


def _static_shape(shape, ndim: int) -> tuple[int | None, ...]:
    if shape is None:
        return (None,) * ndim
    shape = tuple(shape)
    if len(shape) != ndim:
        raise ValueError(f"shape {shape} has {len(shape)} entries but the variable has {ndim} dimensions")
    return shape


def tensor(name: str | None = None, dtype: Any = "float64", shape: Sequence[int | None] | None = None,
           ndim: int | None = None) -> TensorVariable:
    """A graph input of any rank.

    Examples
    --------
    >>> import graphwright as gw
    >>> gw.tensor("t", dtype="float32", shape=(2, None, 3)).type
    TensorType(float32, (2, None, 3))
    """
    if shape is None and ndim is None:
        raise ValueError("tensor() needs a shape or an ndim")
    nd = len(tuple(shape)) if shape is not None else ndim
    return TensorType(normalize_dtype(dtype), _static_shape(shape, nd)).make_variable(name=name)


def scalar(name: str | None = None, dtype: Any = "float64") -> TensorVariable:
    """A 0-d graph input. ``gw.scalar("a", "int64")``."""
    return tensor(name, dtype, ())


def vector(name: str | None = None, dtype: Any = "float64", shape: Sequence[int | None] | None = None):
    """A 1-d graph input; ``shape=(3,)`` fixes its length statically."""
    return tensor(name, dtype, _static_shape(shape, 1))


def matrix(name: str | None = None, dtype: Any = "float64", shape: Sequence[int | None] | None = None):
    """A 2-d graph input; ``shape=(3, None)`` fixes the number of rows."""
    return tensor(name, dtype, _static_shape(shape, 2))


def tensor3(name: str | None = None, dtype: Any = "float64", shape=None) -> TensorVariable:
    """A 3-d graph input."""
    return tensor(name, dtype, _static_shape(shape, 3))


def tensor4(name: str | None = None, dtype: Any = "float64", shape=None) -> TensorVariable:
    """A 4-d graph input."""
    return tensor(name, dtype, _static_shape(shape, 4))


def constant(value: Any, dtype: Any = None, name: str | None = None) -> TensorConstant:
    """An interned constant; Python ints become int64, floats float64, unless ``dtype`` says otherwise.

    Examples
    --------
    >>> import graphwright as gw
    >>> gw.constant(2.0) is gw.constant(2.0)
    True
    """
    if isinstance(value, Variable):
        raise TypeError(f"constant() got the symbolic variable {value}; constants hold concrete values")
    array = np.asarray(value, dtype=None if dtype is None else normalize_dtype(dtype))
    if array.dtype.kind not in "biufc":
        raise TypeError(f"cannot make a constant of dtype {array.dtype} from {value!r}")
    array = array.astype(supported_dtype(array.dtype.name), copy=False)
    return intern_constant(array, name)


def as_tensor(value: Any, name: str | None = None, dtype: Any = None) -> TensorVariable:
    """Return ``value`` as a tensor variable: variables pass through, anything array-like becomes a constant.

    Examples
    --------
    >>> import graphwright as gw
    >>> gw.as_tensor([1, 2]).type
    TensorType(int64, (2,))
    """
    if isinstance(value, TensorVariable):
        return value
    if isinstance(value, Variable):
        raise TypeError(f"{value!r} is not a tensor variable (type {value.type})")
    if isinstance(value, list | tuple) and any(isinstance(v, Variable) for v in _flat(value)):
        return _join.stack([as_tensor(v) for v in value])
    return constant(value, dtype=dtype, name=name)


def _flat(seq):
    for v in seq:
        if isinstance(v, list | tuple):
            yield from _flat(v)
        else:
            yield v


def is_python_scalar(value: Any) -> bool:
    return isinstance(value, Number) and not isinstance(value, np.generic) and not isinstance(value, Variable)


from graphwright.tensor import cumulative as _cumulative  # noqa: E402  (circular: the ops need TensorVariable)
from graphwright.tensor import elemwise as _ew  # noqa: E402
from graphwright.tensor import indexing as _indexing  # noqa: E402
from graphwright.tensor import join as _join  # noqa: E402
from graphwright.tensor import linalg as _linalg  # noqa: E402
from graphwright.tensor import reduce as _reduce  # noqa: E402
from graphwright.tensor import reduce_special as _reduce_special  # noqa: E402
from graphwright.tensor import shape as _shape  # noqa: E402
