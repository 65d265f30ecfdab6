"""Split meets join: a node rule that replaces every output of a ``Split`` in one step.

``split(concatenate([a, b, ...], axis), [len(a), len(b), ...], axis)`` is ``(a, b, ...)``: the pieces are the
joined parts when there are as many pieces as parts and each size is statically the length of its part along
the axis (a constant equal to a static length, or ``shape_of(part)[axis]``, as the gradient of ``concatenate``
and ``gw.split(y, [a.shape[0], b.shape[0]])`` write it, also after ``shape_of_elemwise`` has turned
``shape_of(exp(a))`` into ``shape_of(a)``). All outputs are replaced together or none is: a
split whose first piece is replaced while the others still cut the joined copy would keep the copy alive.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphwright.graph.basic import Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.rules.broadcast import shape_of_elemwise
from graphwright.rules.helpers import _entry_is_dim
from graphwright.tensor.join import Join, Split
from graphwright.tensor.shape import MakeVector, normalize_axis, shape_of, static_ints

__all__ = ["RULES", "split_of_join", "sizes_are_lengths"]

# How many elementwise nodes a size is followed through (``shape_of_elemwise``) to the part it measures.
MAX_SHAPE_HOPS = 16


def _same_shape(part: Variable) -> list[Variable]:
    """``part`` and the variables ``shape_of_elemwise`` says have its runtime shape (its elementwise inputs of
    the full shape, and theirs ...)."""
    found = [part]
    shape = shape_of(part)
    for _ in range(MAX_SHAPE_HOPS):
        shape = shape_of_elemwise.apply(shape, None)
        if shape is None:
            break
        found.append(shape.owner.inputs[0])
    return found


def sizes_are_lengths(sizes: Variable, parts: Sequence[Variable], axis: int) -> bool:
    """True when the int vector ``sizes`` statically holds each part's length along ``axis``.

    Examples
    --------
    >>> import graphwright as gw
    >>> a, b = gw.vector("a"), gw.vector("b", shape=(3,))
    >>> sizes_are_lengths(gw.stack([a.shape[0], 3]), [a, b], 0)
    True
    >>> sizes_are_lengths(gw.constant([2, 3]), [a, b], 0)
    False
    """
    node = sizes.owner
    if node is not None and isinstance(node.op, MakeVector) and len(node.inputs) == len(parts):
        return all(any(_entry_is_dim(e, s, axis) for s in _same_shape(p))
                   for e, p in zip(node.inputs, parts, strict=True))
    static = static_ints(sizes, len(parts))
    return len(static) == len(parts) and all(
        n is not None and p.type.shape[axis] == n for n, p in zip(static, parts, strict=True))


@function_rule("split_of_join", roots=(Split,),
               identity="split(concatenate([a, b, ...]), [len a, len b, ...]) = (a, b, ...)")
def split_of_join(var: Variable, ctx) -> dict[Variable, Variable] | None:
    """A split of a concatenation along the same axis into its parts' lengths gives back the parts."""
    node = var.owner
    x, sizes = node.inputs
    join = x.owner
    if join is None or type(join.op) is not Join or len(join.inputs) != node.op.n_splits:
        return None
    ndim = x.type.ndim
    axis = normalize_axis(node.op.axis, ndim, "split")
    if normalize_axis(join.op.axis, ndim, "concatenate") != axis:
        return None
    if not sizes_are_lengths(sizes, join.inputs, axis):
        return None
    return dict(zip(node.outputs, join.inputs, strict=True))


RULES = register("canonicalize", RuleSet("split_join", [split_of_join]))
