"""Helpers shared by the canonicalize rule modules: give a replacement the exact type of what it replaces.

The engine refuses a replacement whose dtype differs or whose static shape is less specific. It cannot see
one more hazard: a static length 1 counts as "more specific" than an unknown length, yet it broadcasts, so
``x * y / x -> y`` with ``y`` of static shape ``(1,)`` and ``x`` of ``(None,)`` would change the runtime
shape. :func:`conform` handles all three: it casts, refines the static shape with a reshape (a view), or
broadcasts with ``alloc`` to the shape of the operands that made the old result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite.pattern import PVar, constant_value
from graphwright.tensor import elemwise as ew
from graphwright.tensor.creation import alloc
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.indexing import Subtensor
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.tensor.shape import MakeVector, Shape, reshape, shape_of, static_value
from graphwright.tensor.type import TensorType, broadcast_shapes

__all__ = ["single_client", "scalar_name", "elemwise_type", "constant_equal", "conform", "keep_operand",
           "is_shape_of", "MAX_FOLD_SIZE"]

# Constant folding (and combining constants) never creates a constant with more elements than this.
MAX_FOLD_SIZE = 100_000


def single_client(ctx: Any, var: Variable) -> bool:
    """True when ``var`` has at most one client in the pass's graph (always, without a context)."""
    return ctx is None or ctx.n_clients(var) <= 1


def scalar_name(var: Variable) -> str | None:
    """The scalar-table name of ``var``'s elementwise op, or None."""
    node = var.owner
    return node.op.scalar_op.name if node is not None and isinstance(node.op, Elemwise) else None


def elemwise_type(name: str, *operands: Variable) -> TensorType:
    """The output type of the elementwise op ``name`` on ``operands``, without building a node.

    Examples
    --------
    >>> import graphwright as gw
    >>> elemwise_type("mul", gw.vector("v", "int8"), gw.constant([1.0, 1.0]))
    TensorType(float64, (2,))
    """
    dtype = SCALAR_OPS[name].output_dtype(*(v.type.dtype for v in operands))
    return TensorType(dtype, broadcast_shapes([v.type.shape for v in operands], name))


def constant_equal(name: str, value: float) -> PVar:
    """A pattern variable matching a constant whose every element equals ``value`` (bound as ``name``)."""
    return PVar(name, "constant", lambda v: constant_value(v) == value)


def _covers(new: tuple, old: tuple) -> bool:
    """Same runtime lengths: equal static entries, or an unknown old length that new does not pin to 1."""
    return all(n == o or (o is None and n != 1) for n, o in zip(new, old, strict=True))


def _refines(new: tuple, old: tuple) -> bool:
    """Same runtime lengths, where new only lacks static lengths that old knows (never a broadcast 1)."""
    return all(n == o or (o is None and n != 1) or (n is None and o not in (None, 1))
               for n, o in zip(new, old, strict=True))


def conform(new: Variable, ttype: TensorType, sources: Sequence[Variable] = ()) -> Variable | None:
    """``new`` cast to ``ttype.dtype`` and given exactly ``ttype``'s runtime shape; None if impossible.

    ``sources`` are the operands that were broadcast together to make the old result: an unknown length
    is read from one of them (one whose static length there is not 1) when ``new`` must be broadcast.

    Examples
    --------
    >>> import graphwright as gw
    >>> conform(gw.scalar("s", "int8"), gw.TensorType("float64", (3,)))
    alloc(cast_float64(s), [3])
    """
    if new.type.dtype != ttype.dtype:
        new = ew.cast(new, ttype.dtype)
    old, cur = ttype.shape, new.type.shape
    if len(cur) > len(old):
        return None
    if len(cur) == len(old):
        if _covers(cur, old):
            return new
        if _refines(cur, old):  # a view that only states the static lengths
            return reshape(new, [o if o is not None else shape_of(new)[d] for d, o in enumerate(old)])
    entries: list[Any] = []
    for d, o in enumerate(old):
        if o is not None:
            entries.append(o)
            continue
        length = _length_from(d, len(old), [new, *sources])
        if length is None:
            return None
        entries.append(length)
    return alloc(new, entries)


def _length_from(d: int, ndim: int, sources: Sequence[Variable]) -> Variable | None:
    for s in sources:
        k = d - (ndim - s.type.ndim)
        if k >= 0 and not isinstance(s, Constant) and s.type.shape[k] != 1:
            return shape_of(s)[k]
    return None


def keep_operand(op: str, keep: str, other: str):
    """A replacement for ``op(keep, other) -> keep`` (x * 1 -> x ...), typed like the node it replaces."""

    def replacement(b) -> Variable | None:
        x, c = b[keep], b[other]
        return conform(x, elemwise_type(op, x, c), (x,))

    replacement.__name__ = f"keep_{keep}"
    return replacement


def is_shape_of(vec: Variable, x: Variable) -> bool:
    """True when the int vector ``vec`` is statically known to hold ``x``'s runtime shape.

    Examples
    --------
    >>> import graphwright as gw
    >>> m = gw.matrix("m", shape=(2, None))
    >>> is_shape_of(gw.shape_of(m), m), is_shape_of(gw.constant([2, 5]), m)
    (True, False)
    """
    node = vec.owner
    if node is not None and isinstance(node.op, Shape):
        return node.inputs[0] is x
    if vec.type.shape != (x.type.ndim,):
        return False
    value = static_value(vec)
    if value is not None:
        return None not in x.type.shape and tuple(int(v) for v in value) == x.type.shape
    if node is None or not isinstance(node.op, MakeVector):
        return False
    return all(_entry_is_dim(e, x, d) for d, e in enumerate(node.inputs))


def _entry_is_dim(entry: Variable, x: Variable, d: int) -> bool:
    value = static_value(entry)
    if value is not None:
        return x.type.shape[d] == int(value)
    node = entry.owner
    if node is None or not isinstance(node.op, Subtensor) or node.op.spec != (("int",),):
        return False
    src, index = node.inputs
    idx = static_value(index)
    return (idx is not None and int(idx) % max(x.type.ndim, 1) == d and src.owner is not None
            and isinstance(src.owner.op, Shape) and src.owner.inputs[0] is x)
