"""The derivative column of the scalar table, collected from its rows, and the pullback of an Elemwise node.

Each row of :data:`graphwright.tensor.scalar_ops.SCALAR_OPS` declares its derivative beside itself (its
``grad``): ``grad(inputs, output, g)`` (whole tensors: the node's inputs, its output and the output's
gradient) gives one gradient per input, before broadcasting is undone; ``None`` means no gradient flows.
:data:`DERIVATIVES` maps each row's name to it; :func:`elementwise_grads` reads it from there, so a test may
swap one entry for a deliberately wrong derivative.
"""

from __future__ import annotations

from collections.abc import Callable

from graphwright.graph.basic import Apply, Variable
from graphwright.tensor.grad_util import NotDifferentiableError, is_differentiable, reduce_to
from graphwright.tensor.scalar_ops import SCALAR_OPS

__all__ = ["DERIVATIVES", "elementwise_grads"]

DERIVATIVES: dict[str, Callable] = {name: row.grad for name, row in SCALAR_OPS.items() if row.grad is not None}


def elementwise_grads(node: Apply, g: Variable | None) -> list[Variable | None]:
    """The pullback of an Elemwise node from its row's derivative in :data:`DERIVATIVES`.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> elementwise_grads(gw.exp(x).owner, gw.vector("g"))
    [g * exp(x)]
    """
    if g is None:
        return [None for _ in node.inputs]
    name = node.op.scalar_op.name
    try:
        rule = DERIVATIVES[name]
    except KeyError:
        raise NotDifferentiableError(f"{name} has no derivative in the scalar table (its row has no grad)") from None
    raw = rule(list(node.inputs), node.outputs[0], g)
    return [reduce_to(r, x) if r is not None and is_differentiable(x) else None
            for r, x in zip(raw, node.inputs, strict=True)]
