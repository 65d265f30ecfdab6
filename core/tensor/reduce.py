"""Reductions (sum, prod, max, min, all, any; mean, var, std) and the axis helpers shared by the axis ops.

argmax/argmin and logsumexp live in :mod:`graphwright.tensor.reduce_special`.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op
from graphwright.tensor import elemwise as _ew
from graphwright.tensor import shape as _shape
from graphwright.tensor.type import COMPLEX_DTYPES, FLOAT_DTYPES, TensorType, normalize_dtype
from graphwright.tensor.variable import TensorVariable, as_tensor, constant

__all__ = ["Reduce", "sum", "prod", "max", "min", "all", "any", "mean", "var", "std", "AxisOp", "check_axis",
           "reduce_dtype", "refuse_complex"]

_REDUCE_FUNCS = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "all": np.all, "any": np.any}
_WIDEN = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64", "uint8": "uint64",
          "uint16": "uint64", "uint32": "uint64"}
_STATIC_FOLD_SIZE = 1024


def reduce_dtype(kind: str, dtype: str) -> str:
    """Output dtype of reduction ``kind``, as NumPy's: sums and products of small signed integers and bools give
    int64, of small unsigned integers uint64.

    Examples
    --------
    >>> reduce_dtype("sum", "uint8"), reduce_dtype("prod", "int16"), reduce_dtype("max", "uint8")
    ('uint64', 'int64', 'uint8')
    """
    if kind in ("all", "any"):
        return "bool"
    if kind in ("sum", "prod", "cumsum", "cumprod"):
        return _WIDEN.get(dtype, dtype)
    return dtype


def refuse_complex(x: TensorVariable, op_name: str) -> None:
    """Raise TypeError naming ``op_name`` when ``x`` is complex (complex numbers have no order).

    Examples
    --------
    >>> import graphwright as gw
    >>> refuse_complex(gw.vector("x"), "max")
    """
    if x.type.dtype in COMPLEX_DTYPES:
        raise TypeError(f"{op_name} does not accept complex inputs: {_describe(x)} (complex numbers have no "
                        "order; reduce gw.abs of it)")


def _float_dtype(dtype: str) -> str:
    """float32 and complex dtypes stay; every other dtype computes in float64 (as SciPy does for integers)."""
    return dtype if dtype in FLOAT_DTYPES or dtype in COMPLEX_DTYPES else "float64"


def _describe(x: TensorVariable) -> str:
    return f"{x} of type {x.type.short()}"


def check_axis(a: Any, x: TensorVariable, op_name: str) -> int:
    nd = x.type.ndim
    if not isinstance(a, int | np.integer) or isinstance(a, bool):
        raise GraphError(f"{op_name}: axis {a!r} must be an int (reducing {_describe(x)})")
    if not -nd <= a < nd:
        raise GraphError(f"{op_name}: axis {a!r} is out of range for {_describe(x)} ({nd} dimension(s))")
    return int(a) % nd


def normalize_axes(x: TensorVariable, axis: Any, op_name: str) -> tuple[int, ...]:
    """Sorted non-negative axes from None (all axes), an int or a sequence; raises naming the op on duplicates."""
    if axis is None:
        return tuple(range(x.type.ndim))
    axes = tuple(axis) if isinstance(axis, list | tuple | np.ndarray) else (axis,)
    norm = [check_axis(a, x, op_name) for a in axes]
    if len(set(norm)) != len(norm):
        raise GraphError(f"{op_name}: duplicate axis in {axes} for {_describe(x)}")
    return tuple(sorted(norm))


def _reduced_shape(shape: Sequence, axes: Sequence[int], keepdims: bool) -> tuple:
    if keepdims:
        return tuple(1 if d in axes else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in axes)


class AxisOp(Op):
    """Shared checks, names and printing; ``axis`` is a sorted tuple, an int, or None (flattened input)."""

    def _label(self) -> str:
        return getattr(self, "kind", None) or type(self).__name__.lower()

    def _axes(self) -> tuple[int, ...]:
        return () if self.axis is None else self.axis if isinstance(self.axis, tuple) else (self.axis,)

    def _input(self, x: Any) -> TensorVariable:
        x = as_tensor(x)
        if not builtins.all(0 <= a < x.type.ndim for a in self._axes()):
            raise GraphError(f"{self._label()}: axis {self.axis} is out of range for {_describe(x)}")
        return x

    def short_name(self) -> str:
        return f"{self._label()}{{axis={self.axis}{', keepdims' if getattr(self, 'keepdims', False) else ''}}}"

    def str_form(self, args: Sequence[str]) -> str:
        from graphwright.printing import unwrap_parens

        axes = self._axes()
        axis = "" if self.axis is None else f", axis={axes[0] if len(axes) == 1 else axes}"
        keep = ", keepdims=True" if getattr(self, "keepdims", False) else ""
        return f"{self._label()}({unwrap_parens(args[0])}{axis}{keep})"


class _TupleAxisOp(AxisOp):
    """An op whose ``axis`` is a sorted tuple of distinct non-negative ints, with ``keepdims``."""

    def __post_init__(self) -> None:
        axis = tuple(self.axis)
        bad = builtins.any(not isinstance(a, int | np.integer) or a < 0 for a in axis)
        if bad or list(axis) != sorted(set(axis)):
            raise GraphError(f"{type(self).__name__}: axis must be a sorted tuple of distinct non-negative ints, "
                             f"got {self.axis!r}")
        object.__setattr__(self, "axis", tuple(int(a) for a in axis))
        object.__setattr__(self, "keepdims", bool(self.keepdims))

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [_reduced_shape(input_shapes[0], self.axis, self.keepdims)]


@dataclass(frozen=True)
class Reduce(_TupleAxisOp):
    """Reduce over ``axis`` (a sorted tuple); ``kind``: sum, prod, max, min, all or any (NumPy semantics)."""

    types_follow_input_types: ClassVar[bool] = True
    kind: str
    axis: tuple[int, ...]
    keepdims: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _REDUCE_FUNCS:
            raise GraphError(f"Reduce: unknown kind {self.kind!r}; expected one of {', '.join(_REDUCE_FUNCS)}")
        super().__post_init__()

    def make_node(self, x: Any) -> Apply:
        x = self._input(x)
        if self.kind in ("max", "min"):
            refuse_complex(x, self.kind)
        shape = _reduced_shape(x.type.shape, self.axis, self.keepdims)
        return Apply.create(self, [x], lambda: [TensorType(reduce_dtype(self.kind, x.type.dtype), shape)])

    def perform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        kwargs = {"dtype": reduce_dtype(self.kind, x.dtype.name)} if self.kind in ("sum", "prod") else {}
        return np.asarray(_REDUCE_FUNCS[self.kind](x, axis=self.axis, keepdims=self.keepdims, **kwargs))

    def pullback(self, node: Apply, output_grads: list) -> list:
        """sum: the gradient broadcast back; max/min: to every element equal to the extreme; prod: the
        product of the other elements (exact with zeros); all/any: none."""
        from graphwright.tensor.creation import broadcast_to
        from graphwright.tensor.grad_util import is_differentiable

        (x,), (out,), g = node.inputs, node.outputs, output_grads[0]
        if g is None or not is_differentiable(x) or self.kind in ("all", "any"):
            return [None]
        if not self.keepdims:
            g, out = _shape.expand_dims(g, self.axis), _shape.expand_dims(out, self.axis)
        if self.kind == "sum":
            grad = broadcast_to(g, _shape.shape_of(x))
        elif self.kind in ("max", "min"):
            grad = _ew.switch(_ew.eq(x, out), g, 0)
        else:
            grad = g * _prod_others(x, self.axis)
        return [_ew.cast(grad, x.type.dtype)]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The reduced axes move right by the number of batch dimensions."""
        nb = batch_ndims[0]
        return [Reduce(self.kind, tuple(a + nb for a in self.axis), self.keepdims)(inputs[0])]

    def static_value(self, node: Apply) -> np.ndarray | None:
        value = _shape.static_value(node.inputs[0])
        if value is None or np.size(value) > _STATIC_FOLD_SIZE or (self.kind in ("max", "min") and not np.size(value)):
            return None
        return self.perform(value)


def _prod_others(x: TensorVariable, axis: tuple[int, ...]) -> TensorVariable:
    """For each element, the product of the other elements along ``axis`` (x's shape): an exclusive running
    product from the left times one from the right. No division, so it is exact at zeros, and so are its own
    derivatives (second derivatives of prod)."""
    from graphwright.tensor.creation import ones_like
    from graphwright.tensor.cumulative import cumprod
    from graphwright.tensor.join import concatenate

    rest = [d for d in range(x.type.ndim) if d not in axis]
    perm = [*rest, *axis]
    moved = _shape.transpose(x, perm)
    flat = _shape.flatten_core(moved, len(rest))
    one = ones_like(flat[..., :1])
    left = concatenate([one, cumprod(flat, axis=-1)[..., :-1]], axis=-1)
    right = concatenate([cumprod(flat[..., ::-1], axis=-1)[..., ::-1][..., 1:], one], axis=-1)
    others = _shape.reshape(left * right, _shape.shape_tuple(moved))
    return _shape.transpose(others, [perm.index(d) for d in range(x.type.ndim)])


def _reduce(kind: str, x: Any, axis: Any, keepdims: bool, dtype: Any = None) -> TensorVariable:
    x = as_tensor(x)
    axes = normalize_axes(x, axis, kind)
    if dtype is not None:
        dtype = normalize_dtype(dtype)
        x = _ew.cast(x, dtype)
    out = Reduce(kind, axes, keepdims)(x) if axes else _ew.cast(x, reduce_dtype(kind, x.type.dtype))
    return out if dtype is None else _ew.cast(out, dtype)


def sum(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> TensorVariable:
    """Sum over ``axis`` (None: all axes; an int or a tuple), like ``np.sum``.

    Bool, uint8 and integers narrower than int64 sum to int64. ``dtype`` casts the input first.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x", shape=(2, 3))
    >>> gw.sum(x, axis=0).type
    TensorType(float64, (3,))
    >>> gw.sum(x, axis=1).eval({x: [[1, 2, 3], [4, 5, 6]]})
    array([ 6., 15.])
    """
    return _reduce("sum", x, axis, keepdims, dtype)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> TensorVariable:
    """Product over ``axis``, like ``np.prod`` (same dtype rules as :func:`sum`).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x", dtype="int32")
    >>> gw.prod(x).eval({x: [2, 3, 4]})
    array(24)
    """
    return _reduce("prod", x, axis, keepdims, dtype)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Maximum over ``axis``, like ``np.max`` (an empty reduction raises when run).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x")
    >>> gw.max(x, axis=-1).eval({x: [[1, 5], [7, 2]]})
    array([5., 7.])
    """
    return _reduce("max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Minimum over ``axis``, like ``np.min`` (an empty reduction raises when run).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.min(x).eval({x: [3, -1, 2]})
    array(-1.)
    """
    return _reduce("min", x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """True where every element over ``axis`` is non-zero (``np.all``); bool result.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x", dtype="bool")
    >>> gw.all(x, axis=1).eval({x: [[True, False], [True, True]]})
    array([False,  True])
    """
    return _reduce("all", x, axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """True where some element over ``axis`` is non-zero (``np.any``); bool result.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.any(x).eval({x: [0.0, 0.0, 2.0]})
    array(True)
    """
    return _reduce("any", x, axis, keepdims)


def _count(x: TensorVariable, axes: tuple[int, ...]) -> int | TensorVariable:
    """Number of elements reduced over ``axes``: an int when static, else an int64 0-d variable."""
    lengths = [x.type.shape[a] for a in axes]
    if None not in lengths:
        return math.prod(lengths)
    if len(axes) == x.type.ndim:
        return prod(_shape.shape_of(x))
    mask = constant(np.array([d in axes for d in range(x.type.ndim)], dtype=bool))
    return prod(_ew.switch(mask, _shape.shape_of(x), 1))


def _divide(total: TensorVariable, count: int | TensorVariable) -> TensorVariable:
    if isinstance(count, int):
        return total if count == 1 else _ew.true_div(total, count)
    return _ew.true_div(total, _ew.cast(count, total.type.dtype))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Arithmetic mean over ``axis`` (``np.mean``): the sum divided by the count.

    float32 stays float32; integers and bool give float64.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x", dtype="int64")
    >>> m = gw.mean(x, axis=0)
    >>> m.dtype, m.eval({x: [[1, 2], [4, 4]]})
    ('float64', array([2.5, 3. ]))
    """
    x = as_tensor(x)
    axes = normalize_axes(x, axis, "mean")
    total = sum(x, axes, keepdims, dtype=_float_dtype(x.type.dtype))
    return _divide(total, _count(x, axes))


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> TensorVariable:
    """Variance over ``axis`` (``np.var``), in the two-pass form ``sum((x - mean)**2) / max(n - ddof, 0)``.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.var(x).eval({x: [1.0, 2.0, 3.0, 4.0]})
    array(1.25)
    >>> gw.var(x, ddof=1).eval({x: [1.0, 2.0, 3.0, 4.0]})
    array(1.66666667)
    """
    x = as_tensor(x)
    axes = normalize_axes(x, axis, "var")
    centred = x - mean(x, axes, keepdims=True)
    squares = _ew.sqr(_ew.abs(centred)) if x.type.dtype in COMPLEX_DTYPES else centred * centred
    total = sum(squares, axes, keepdims)
    count = _count(x, axes)
    if isinstance(count, int):
        denom = builtins.max(count - ddof, 0)
    else:
        denom = _ew.maximum(count - ddof, 0) if ddof else count
    return _divide(total, denom)


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> TensorVariable:
    """Standard deviation over ``axis``: the square root of :func:`var`.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.std(x).eval({x: [1.0, 3.0]})
    array(1.)
    """
    return _ew.sqrt(var(x, axis, keepdims, ddof))
