"""Cumulative ops: cumsum and cumprod along an axis (or over the flattened input, like NumPy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwright.graph.basic import Apply, GraphError
from graphwright.tensor import elemwise as _ew
from graphwright.tensor.reduce import AxisOp, check_axis, reduce_dtype
from graphwright.tensor.type import TensorType
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["CumOp", "cumsum", "cumprod"]


@dataclass(frozen=True)
class CumOp(AxisOp):
    """Cumulative sum or product along ``axis``; ``axis=None`` works on the flattened input (like NumPy)."""

    kind: str
    axis: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("cumsum", "cumprod"):
            raise GraphError(f"CumOp: kind must be 'cumsum' or 'cumprod', got {self.kind!r}")

    def make_node(self, x: Any) -> Apply:
        x = self._input(x)
        shape = x.type.shape
        if self.axis is None:
            shape = (None if None in shape else math.prod(shape),)
        return Apply.create(self, [x], lambda: [TensorType(reduce_dtype(self.kind, x.type.dtype), shape)])

    def perform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        fn = np.cumsum if self.kind == "cumsum" else np.cumprod
        return fn(x, axis=self.axis, dtype=reduce_dtype(self.kind, x.dtype.name))

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        shp = input_shapes[0]
        if self.axis is not None:
            return [tuple(shp)]
        size: Any = math.prod(int(s) for s in shp if isinstance(s, int | np.integer))
        for s in shp:
            if not isinstance(s, int | np.integer):
                size = s if isinstance(size, int) and size == 1 else size * s
        return [(size,)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """cumsum: the reversed cumulative sum of the gradient; cumprod: exact also where ``x`` has zeros."""
        from graphwright.tensor import shape as _shape
        from graphwright.tensor.grad_util import is_differentiable

        (x,), (out,), g = node.inputs, node.outputs, output_grads[0]
        if g is None or not is_differentiable(x):
            return [None]
        axis, flat = (0, _shape.reshape(x, (-1,))) if self.axis is None else (self.axis, x)
        grad = _rev_cumsum(g, axis) if self.kind == "cumsum" else _cumprod_grad(flat, out, g, axis)
        if self.axis is None:
            grad = _shape.reshape(grad, _shape.shape_of(x), ndim=x.type.ndim)
        return [_ew.cast(grad, x.type.dtype)]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The axis moves past the batch dimensions; ``axis=None`` works on the core part flattened to one
        axis (the batched output is ``batch + (core size,)``)."""
        from graphwright.tensor.shape import flatten_core

        x, nb, core = inputs[0], batch_ndims[0], node.inputs[0].type.ndim
        if self.axis is not None or core == 1:
            return [CumOp(self.kind, (self.axis or 0) + nb)(x)]
        return [CumOp(self.kind, nb)(flatten_core(x, nb))]


def _flip(x: TensorVariable, axis: int) -> TensorVariable:
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _rev_cumsum(x: TensorVariable, axis: int) -> TensorVariable:
    """``out[i] = sum(x[i:])`` along ``axis``."""
    return _flip(CumOp("cumsum", axis)(_flip(x, axis)), axis)


def _cumprod_grad(x: TensorVariable, out: TensorVariable, g: TensorVariable, axis: int) -> TensorVariable:
    """``d/dx[k] = sum_{i >= k} g[i] * prod_{j <= i, j != k} x[j]`` along ``axis``, exact with zeros.

    Before the first zero of a lane, ``x[k] != 0`` and the usual ``rev_cumsum(g * out) / x`` is exact; at the
    first zero it is ``rev_cumsum(g * cumprod(x with that zero replaced by 1))``; after it, every product
    holds the first zero, so the gradient is 0.
    """
    is_zero = _ew.eq(x, 0)
    n_zero = CumOp("cumsum", axis)(_ew.cast(is_zero, "int64"))
    first_zero = _ew.and_(is_zero, _ew.eq(n_zero, 1))
    before = _rev_cumsum(g * out, axis) / _ew.switch(is_zero, 1, x)
    at_first = _rev_cumsum(g * CumOp("cumprod", axis)(_ew.switch(first_zero, 1, x)), axis)
    return _ew.switch(_ew.eq(n_zero, 0), before, _ew.switch(first_zero, at_first, 0))


def cumsum(x: Any, axis: int | None = None) -> TensorVariable:
    """Cumulative sum along ``axis`` (``np.cumsum``; None flattens first); small ints and bool give int64.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x", dtype="int64")
    >>> gw.cumsum(x).eval({x: [[1, 2], [3, 4]]})
    array([ 1,  3,  6, 10])
    >>> gw.cumsum(x, axis=0).eval({x: [[1, 2], [3, 4]]})
    array([[1, 2],
           [4, 6]])
    """
    x = as_tensor(x)
    return CumOp("cumsum", None if axis is None else check_axis(axis, x, "cumsum"))(x)


def cumprod(x: Any, axis: int | None = None) -> TensorVariable:
    """Cumulative product along ``axis`` (``np.cumprod``; None flattens first).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.cumprod(x).eval({x: [1.0, 2.0, 3.0]})
    array([1., 2., 6.])
    """
    x = as_tensor(x)
    return CumOp("cumprod", None if axis is None else check_axis(axis, x, "cumprod"))(x)
