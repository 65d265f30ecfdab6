"""Neural-network ops: softmax and log_softmax along an axis (or over all elements), max-shifted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op
from graphwright.tensor.elemwise import cast, exp
from graphwright.tensor.grad_util import is_differentiable
from graphwright.tensor.reduce import refuse_complex
from graphwright.tensor.reduce import sum as reduce_sum
from graphwright.tensor.type import FLOAT_DTYPES, TensorType
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["Softmax", "LogSoftmax", "softmax", "log_softmax"]


def _float_dtype(dtype: str) -> str:
    return dtype if dtype in FLOAT_DTYPES else "float64"


@dataclass(frozen=True)
class _SoftmaxLike(Op):
    """What Softmax and LogSoftmax share (checks, shape, vectorize, printing). They are two unrelated op
    classes on this base, so an exact-class lookup or pattern for one never matches the other; ``log`` says
    which one a node is, for backends that share a kernel."""

    axis: int | None = -1
    log: ClassVar[bool] = False

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        name = self._label()
        refuse_complex(x, name)
        if self.axis is not None and not -x.type.ndim <= self.axis < x.type.ndim:
            raise GraphError(f"{name}: axis {self.axis} is out of range for {x} of type {x.type.short()} "
                             f"({x.type.ndim} dimension(s))")
        return Apply.create(self, [x], lambda: [TensorType(_float_dtype(x.type.dtype), x.type.shape)])

    @staticmethod
    def _prepare(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        return x.astype(_float_dtype(x.dtype.name), copy=False)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [tuple(input_shapes[0])]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The axis moves past the batch dimensions; ``axis=None`` (all core axes) normalises the core part
        flattened to one axis, reshaped back afterwards."""
        from graphwright.tensor.shape import flatten_core, reshape_core, shape_tuple

        x, nb, core = inputs[0], batch_ndims[0], node.inputs[0].type.ndim
        if self.axis is not None:
            return [type(self)(self.axis % core + nb)(x)]
        if core == 1:
            return [type(self)(nb)(x)]
        return [reshape_core(type(self)(nb)(flatten_core(x, nb)), nb, shape_tuple(x)[nb:])]

    def _label(self) -> str:
        return "log_softmax" if self.log else "softmax"

    def short_name(self) -> str:
        return f"{self._label()}{{axis={self.axis}}}"

    def str_form(self, args: Sequence[str]) -> str:
        from graphwright.printing import unwrap_parens

        return f"{self._label()}({unwrap_parens(args[0])}, axis={self.axis})"


@dataclass(frozen=True)
class Softmax(_SoftmaxLike):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (None: all elements), like SciPy's softmax."""

    def perform(self, x: np.ndarray) -> np.ndarray:
        x = self._prepare(x)
        shift = np.max(x, axis=self.axis, keepdims=True)
        # a +inf entry gives nan there and 0 elsewhere (the limit of exp(x) / sum(exp(x))), not nan everywhere
        shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x - shift)
            return e / np.sum(e, axis=self.axis, keepdims=True)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [tuple(input_shapes[0])]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """``sm * (g - sum(g * sm, axis, keepdims))``, with ``sm`` the output."""
        (x,), (sm,), g = node.inputs, node.outputs, output_grads[0]
        if g is None or not is_differentiable(x):
            return [None]
        return [cast(sm * (g - reduce_sum(g * sm, axis=self.axis, keepdims=True)), x.type.dtype)]


@dataclass(frozen=True)
class LogSoftmax(_SoftmaxLike):
    """``x - max - log(sum(exp(x - max)))`` along ``axis``, like SciPy's log_softmax."""

    log: ClassVar[bool] = True

    def perform(self, x: np.ndarray) -> np.ndarray:
        x = self._prepare(x)
        shift = np.max(x, axis=self.axis, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
        centred = x - shift
        with np.errstate(divide="ignore"):
            return centred - np.log(np.sum(np.exp(centred), axis=self.axis, keepdims=True))

    def pullback(self, node: Apply, output_grads: list) -> list:
        """``g - exp(out) * sum(g, axis, keepdims)``: ``exp(out)`` is the softmax, finite for large logits."""
        (x,), (out,), g = node.inputs, node.outputs, output_grads[0]
        if g is None or not is_differentiable(x):
            return [None]
        return [cast(g - exp(out) * reduce_sum(g, axis=self.axis, keepdims=True), x.type.dtype)]


def _axis(x: TensorVariable, axis: Any, name: str) -> int | None:
    if axis is None:
        return None
    nd = x.type.ndim
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool) or not -nd <= axis < nd:
        raise GraphError(f"{name}: axis {axis!r} is out of range for {x} of type {x.type.short()} "
                         f"({nd} dimension(s))")
    return int(axis) % nd


def softmax(x: Any, axis: int | None = -1) -> TensorVariable:
    """Softmax along ``axis`` (default the last; None normalises over all elements), like
    ``scipy.special.softmax``. Integers give float64.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x")
    >>> gw.softmax(x).eval({x: [[0.0, 0.0], [1000.0, 1000.0]]})
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    x = as_tensor(x)
    return Softmax(_axis(x, axis, "softmax"))(x)


def log_softmax(x: Any, axis: int | None = -1) -> TensorVariable:
    """Logarithm of :func:`softmax`, computed stably, like ``scipy.special.log_softmax``.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.log_softmax(x).eval({x: [0.0, 0.0]})
    array([-0.69314718, -0.69314718])
    """
    x = as_tensor(x)
    return LogSoftmax(_axis(x, axis, "log_softmax"))(x)
