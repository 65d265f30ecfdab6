"""Helpers for the pullbacks that live beside each op: reducing a gradient to its input's shape, zeros, the error."""

from __future__ import annotations

from typing import Any

from graphwright.graph.basic import GraphError, Variable

__all__ = ["NotDifferentiableError", "is_differentiable", "reduce_to", "zeros_for"]


class NotDifferentiableError(GraphError, TypeError):
    """The cost depends, through an op that has no gradient, on a variable we differentiate with respect to."""


def is_differentiable(var: Variable) -> bool:
    """True for float tensors: integer and boolean variables carry no gradient.

    Examples
    --------
    >>> import graphwright as gw
    >>> is_differentiable(gw.vector("x")), is_differentiable(gw.vector("i", "int64"))
    (True, False)
    """
    return str(getattr(var.type, "dtype", "")).startswith("float")


def reduce_to(grad: Any, like: Variable) -> Variable:
    """Sum ``grad`` over the dimensions that ``like`` broadcast into, and cast it to ``like``'s dtype.

    A variable of ndim ``k`` used in a broadcasting op of ndim ``n >= k`` receives a gradient of ndim ``n``; the
    leading ``n - k`` dimensions and every dimension where ``like`` has static length 1 are summed away.

    Examples
    --------
    >>> import graphwright as gw
    >>> g = gw.matrix("g")
    >>> reduce_to(g, gw.tensor("b", shape=(1, None)))
    sum(g, axis=0, keepdims=True)
    >>> reduce_to(g, gw.vector("v"))
    sum(g, axis=0)
    """
    from graphwright.tensor import elemwise, reduce
    from graphwright.tensor.variable import as_tensor

    grad = as_tensor(grad)
    lead = grad.type.ndim - like.type.ndim
    if lead < 0:
        raise GraphError(f"reduce_to: the gradient {grad} has fewer dimensions than {like} "
                         f"({grad.type.short()} vs {like.type.short()})")
    if lead:
        grad = reduce.sum(grad, axis=tuple(range(lead)))
    axes = tuple(d for d, (s, g) in enumerate(zip(like.type.shape, grad.type.shape, strict=True))
                 if s == 1 and g != 1)
    if axes:
        grad = reduce.sum(grad, axis=axes, keepdims=True)
    if grad.type.dtype != like.type.dtype:
        grad = elemwise.cast(grad, like.type.dtype)
    return grad


def zeros_for(var: Variable) -> Variable:
    """A zero gradient for ``var`` (same shape and dtype).

    Examples
    --------
    >>> import graphwright as gw
    >>> zeros_for(gw.vector("x")).type
    TensorType(float64, (None,))
    """
    from graphwright.tensor.creation import zeros_like

    return zeros_like(var)
