"""The shared forms of the scalar table's derivative column (``ScalarOp.grad``), used by the rows in
:mod:`graphwright.tensor.scalar_ops`.

A derivative is ``grad(inputs, output, g)``: the node's inputs, its output and the output's gradient (whole
tensors) in, one gradient per input out, before broadcasting is undone. The forms here are the ones many rows
share; a row's own formula sits beside the row.
"""

from __future__ import annotations

from collections.abc import Callable

from graphwright.graph.basic import Variable
from graphwright.tensor.grad_util import NotDifferentiableError

__all__ = ["ew", "grad_same", "grad_zero", "grad_none", "no_derivative"]


class GraphFunctions:
    """``gw.cos`` and the other graph functions the derivatives build with, looked up when a derivative runs
    (graphwright.tensor.elemwise imports the scalar table, so the table cannot import it first).

    Examples
    --------
    >>> import graphwright as gw
    >>> ew.cos(gw.vector("x"))
    cos(x)
    """

    def __getattr__(self, name: str) -> Callable:
        from graphwright.tensor import elemwise

        return getattr(elemwise, name)


ew = GraphFunctions()


def grad_same(xs: list[Variable], out: Variable, g: Variable) -> list[Variable]:
    """The output gradient, unchanged, for every input (add, casts).

    Examples
    --------
    >>> import graphwright as gw
    >>> x, y, g = gw.vector("x"), gw.vector("y"), gw.vector("g")
    >>> grad_same([x, y], x + y, g)
    [g, g]
    """
    return [g for _ in xs]


def grad_zero(xs: list[Variable], out: Variable, g: Variable) -> list[Variable]:
    """Zeros for every input: the derivative is zero almost everywhere (floor, sign, int_div ...).

    Examples
    --------
    >>> import graphwright as gw
    >>> x, g = gw.vector("x"), gw.vector("g")
    >>> len(grad_zero([x], gw.floor(x), g))
    1
    """
    from graphwright.tensor.creation import zeros_like

    return [zeros_like(g) for _ in xs]


def grad_none(xs: list[Variable], out: Variable, g: Variable) -> list[None]:
    """No gradient flows to any input (comparisons, predicates, bitwise ops).

    Examples
    --------
    >>> import graphwright as gw
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> grad_none([x, y], gw.lt(x, y), gw.vector("g"))
    [None, None]
    """
    return [None for _ in xs]


def no_derivative(name: str) -> Callable:
    """A derivative that raises NotDifferentiableError naming the row ``name`` (no formula written yet).

    Examples
    --------
    >>> import graphwright as gw
    >>> no_derivative("digamma")([gw.vector("x")], None, None)
    Traceback (most recent call last):
    ...
    graphwright.tensor.grad_util.NotDifferentiableError: digamma has no derivative in graphwright yet (its input x)
    """

    def fail(xs, out, g):
        raise NotDifferentiableError(f"{name} has no derivative in graphwright yet (its input {xs[0]})")

    return fail
