"""Reductions with an op of their own: argmax/argmin (int64 indices) and logsumexp (max-shifted).

The plain reductions and the axis helpers they share live in :mod:`graphwright.tensor.reduce`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply
from graphwright.tensor.reduce import (
    AxisOp,
    _float_dtype,
    _reduced_shape,
    _TupleAxisOp,
    check_axis,
    normalize_axes,
    refuse_complex,
)
from graphwright.tensor.type import TensorType
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["Argmax", "Argmin", "LogSumExp", "argmax", "argmin", "logsumexp"]


@dataclass(frozen=True)
class _ArgExtreme(AxisOp):
    """What Argmax and Argmin share. They are two unrelated op classes on this base, so an exact-class lookup
    or pattern for one never matches the other; ``largest`` says which one a node is, for shared kernels."""

    axis: int | None = None
    keepdims: bool = False
    largest: ClassVar[bool] = True

    def make_node(self, x: Any) -> Apply:
        x = self._input(x)
        refuse_complex(x, "argmax" if self.largest else "argmin")
        return Apply.create(self, [x], lambda: [TensorType("int64", self._shape(x.type.shape))])

    def _shape(self, shape: tuple) -> tuple:
        if self.axis is None:
            return (1,) * len(shape) if self.keepdims else ()
        return _reduced_shape(shape, (self.axis,), self.keepdims)

    def perform(self, x: np.ndarray) -> np.ndarray:
        fn = np.argmax if self.largest else np.argmin
        return np.asarray(fn(x, axis=self.axis, keepdims=self.keepdims), dtype=np.int64)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [self._shape(input_shapes[0])]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """Integer indices: no gradient flows to the input."""
        return [None]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The axis moves past the batch dimensions; ``axis=None`` (flat index in each core block) works on
        the core part flattened to one axis, with length-1 axes put back for ``keepdims``."""
        from graphwright.tensor.shape import dimshuffle, flatten_core

        x, nb, core, cls = inputs[0], batch_ndims[0], node.inputs[0].type.ndim, type(self)
        if self.axis is not None or core == 1:
            return [cls((self.axis or 0) + nb, self.keepdims)(x)]
        out = cls(nb, False)(flatten_core(x, nb))
        return [dimshuffle(out, list(range(nb)) + ["x"] * core) if self.keepdims else out]


@dataclass(frozen=True)
class Argmax(_ArgExtreme):
    """Index of the largest element along ``axis`` (None: in the flattened input), like ``np.argmax``."""


@dataclass(frozen=True)
class Argmin(_ArgExtreme):
    """Index of the smallest element along ``axis`` (None: in the flattened input), like ``np.argmin``."""

    largest: ClassVar[bool] = False


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> TensorVariable:
    """Indices of the maxima along ``axis`` (``np.argmax``; None flattens), int64.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x")
    >>> gw.argmax(x, axis=1).eval({x: [[1, 9, 3], [7, 2, 0]]})
    array([1, 0])
    >>> gw.argmax(x).eval({x: [[1, 9, 3], [7, 2, 0]]})
    array(1)
    """
    x = as_tensor(x)
    return Argmax(None if axis is None else check_axis(axis, x, "argmax"), bool(keepdims))(x)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> TensorVariable:
    """Indices of the minima along ``axis`` (``np.argmin``; None flattens), int64.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.argmin(x).eval({x: [4.0, -2.0, 3.0]})
    array(1)
    """
    x = as_tensor(x)
    return Argmin(None if axis is None else check_axis(axis, x, "argmin"), bool(keepdims))(x)


@dataclass(frozen=True)
class LogSumExp(_TupleAxisOp):
    """``log(sum(exp(x), axis))`` computed after shifting by the maximum; safe for infinite inputs."""

    axis: tuple[int, ...]
    keepdims: bool = False

    def make_node(self, x: Any) -> Apply:
        x = self._input(x)
        refuse_complex(x, "logsumexp")
        shape = _reduced_shape(x.type.shape, self.axis, self.keepdims)
        return Apply.create(self, [x], lambda: [TensorType(_float_dtype(x.type.dtype), shape)])

    def perform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        x = x.astype(_float_dtype(x.dtype.name), copy=False)
        shift = np.max(x, axis=self.axis, keepdims=True, initial=-np.inf)
        shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(x - shift), axis=self.axis, keepdims=True)) + shift
        return out if self.keepdims else np.squeeze(out, axis=self.axis)

    def pullback(self, node: Apply, output_grads: list) -> list:
        """``g * exp(x - out)`` (the softmax over ``axis``): finite wherever the output is."""
        from graphwright.tensor import elemwise as _ew
        from graphwright.tensor import shape as _shape
        from graphwright.tensor.grad_util import is_differentiable

        (x,), (out,), g = node.inputs, node.outputs, output_grads[0]
        if g is None or not is_differentiable(x):
            return [None]
        if not self.keepdims:
            g, out = _shape.expand_dims(g, self.axis), _shape.expand_dims(out, self.axis)
        return [_ew.cast(g * _ew.exp(x - out), x.type.dtype)]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The reduced axes move right by the number of batch dimensions."""
        nb = batch_ndims[0]
        return [LogSumExp(tuple(a + nb for a in self.axis), self.keepdims)(inputs[0])]


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """``log(sum(exp(x)))`` over ``axis``, stable (max-shifted) like ``scipy.special.logsumexp``.

    All ``-inf`` gives ``-inf`` and a ``+inf`` gives ``+inf``; integers give float64.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.logsumexp(x).eval({x: [1000.0, 1000.0]})
    array(1000.69314718)
    """
    x = as_tensor(x)
    return LogSumExp(normalize_axes(x, axis, "logsumexp"), bool(keepdims))(x)
