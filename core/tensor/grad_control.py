"""Gradient control: ops that are the identity on values and change only what flows back through them.

They survive the pre-gradient stabilization (canonicalize and stabilize) and are removed in the specialize
phase (``graphwright.rules.grad_control``), so compiled functions never pay for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["GradControl", "zero_grad", "disconnected_grad", "grad_clip", "grad_scale"]

_PARAMS = {"zero": 0, "disconnected": 0, "clip": 2, "scale": 1}


@dataclass(frozen=True)
class GradControl(Op):
    """Identity forward; backward: ``zero`` gives zeros, ``disconnected`` nothing (as if constant), ``clip``
    clips the gradient to ``[lo, hi]``, ``scale`` multiplies it by ``s``."""

    kind: str
    returns_view: ClassVar[bool] = True
    types_follow_input_types: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.kind not in _PARAMS:
            raise GraphError(f"GradControl: unknown kind {self.kind!r}; expected one of {', '.join(_PARAMS)}")

    def make_node(self, x: Any, *params: Any) -> Apply:
        x = as_tensor(x)
        if len(params) != _PARAMS[self.kind]:
            raise TypeError(f"grad_{self.kind} takes {_PARAMS[self.kind]} parameter(s), got {len(params)}")
        ps = [as_tensor(p) for p in params]
        for p in ps:
            if p.type.ndim != 0:
                raise TypeError(f"grad_{self.kind}: the parameter {p} must be a scalar, got {p.type.short()}")
        return Apply.create(self, [x, *ps], lambda: [x.type])

    def perform(self, x: np.ndarray, *params: np.ndarray) -> np.ndarray:
        return x

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [input_shapes[0]]

    def pullback(self, node: Apply, output_grads: list) -> list:
        from graphwright.tensor import elemwise as ew
        from graphwright.tensor.creation import zeros_like

        g = output_grads[0]
        x, *params = node.inputs
        rest = [None] * len(params)
        if g is None or self.kind == "disconnected":
            return [None, *rest]
        if self.kind == "zero":
            return [zeros_like(x), *rest]
        if self.kind == "clip":
            return [ew.clip(g, params[0], params[1]), *rest]
        return [g * params[0], *rest]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        if any(batch_ndims[1:]):  # batched clip bounds or scale: one per slice
            return super().vectorize(node, inputs, batch_ndims)
        return [self(*inputs)]

    def short_name(self) -> str:
        return f"{self.kind}_grad" if self.kind in ("zero", "disconnected") else f"grad_{self.kind}"


def zero_grad(x: Any) -> TensorVariable:
    """``x`` whose gradient is zero (the cost still depends on ``x``: ``gw.grad`` gives zeros, no error).

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.function([x], gw.grad(gw.sum(gw.zero_grad(x) * x), x))(np.array([1.0, 2.0]))
    array([1., 2.])
    """
    return GradControl("zero")(x)


def disconnected_grad(x: Any) -> TensorVariable:
    """``x`` treated as a constant by ``gw.grad`` (like ``stop_gradient``): nothing flows through it.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.function([x], gw.grad(gw.sum(gw.disconnected_grad(x) * x ** 2), x))(np.array([1.0, 2.0]))
    array([2., 8.])
    """
    return GradControl("disconnected")(x)


def grad_clip(x: Any, lo: Any, hi: Any) -> TensorVariable:
    """``x`` whose incoming gradient is clipped elementwise to ``[lo, hi]``.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.function([x], gw.grad(gw.sum(gw.grad_clip(x, -1.0, 1.0) * 5), x))(np.array([1.0, 2.0]))
    array([1., 1.])
    """
    return GradControl("clip")(x, lo, hi)


def grad_scale(x: Any, s: Any) -> TensorVariable:
    """``x`` whose incoming gradient is multiplied by ``s``.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.scalar("x")
    >>> gw.grad(gw.grad_scale(x, 0.5) * 3, x).eval()
    array(1.5)
    """
    return GradControl("scale")(x, s)
