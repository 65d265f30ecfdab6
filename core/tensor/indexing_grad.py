"""Pullbacks of Subtensor and IncSubtensor.

Reading ``x[idx]`` scatters the gradient back into zeros of ``x``'s shape, accumulating positions that repeated
index arrays read more than once. Writing ``x[idx] = y`` gives ``y`` the gradient of the positions it lands on:
with repeated positions only the last write lands, so the other elements of ``y`` get zero.
"""

from __future__ import annotations

import numpy as np

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.tensor import elemwise as _ew
from graphwright.tensor import index_spec as _spec
from graphwright.tensor import shape as _shape
from graphwright.tensor.grad_util import is_differentiable, reduce_to, zeros_for
from graphwright.tensor.variable import TensorVariable, constant

__all__ = ["may_repeat", "subtensor_pullback", "inc_subtensor_pullback"]


def _static_positions(spec: tuple, x: Variable, parts: list[Variable]) -> list[np.ndarray] | None:
    """The advanced indices as non-negative integer arrays, one per indexed dimension; None if not static."""
    cols: list[np.ndarray] = []
    for kind, p, dims in _spec.plan(spec)[1]:
        value = _shape.static_value(parts[p])
        if value is None:
            return None
        if kind == "bool":
            cols += list(np.nonzero(value))
            continue
        value, n = np.asarray(value, dtype=np.int64), x.type.shape[dims[0]]
        if (value < 0).any():
            if n is None:
                return None
            value = value % n
        cols.append(value)
    return cols


def may_repeat(spec: tuple, x: Variable, parts: list[Variable]) -> bool:
    """False when the index provably reaches every position of ``x`` at most once.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> may_repeat(x[[0, 2]].owner.op.spec, x, x[[0, 2]].owner.inputs[1:])
    False
    >>> may_repeat(x[[0, 0]].owner.op.spec, x, x[[0, 0]].owner.inputs[1:])
    True
    """
    if all(kind != "array" for kind, _, _ in _spec.plan(spec)[1]):
        return False  # basic indices, integers and masks never repeat a position
    cols = _static_positions(spec, x, parts)
    if cols is None:
        return True
    rows = np.stack([c.reshape(-1) for c in np.broadcast_arrays(*cols)])
    return rows.shape[1] > 1 and np.unique(rows, axis=1).shape[1] != rows.shape[1]


def _last_writes(spec: tuple, x: TensorVariable, parts: list) -> TensorVariable:
    """A bool tensor shaped like ``x[idx]``: True where the element is the write that lands in ``x[idx] = y``."""
    from graphwright.tensor.creation import alloc, arange
    from graphwright.tensor.indexing import IncSubtensor, Subtensor
    from graphwright.tensor.reduce import prod

    canvas = alloc(constant(-1, "int64"), _shape.shape_tuple(x))
    region = Subtensor(spec)(canvas, *parts)
    ids = _shape.reshape(arange(prod(_shape.shape_of(region))), _shape.shape_tuple(region))
    landed = Subtensor(spec)(IncSubtensor(spec, "set")(canvas, ids, *parts), *parts)
    return _ew.eq(landed, ids)


def subtensor_pullback(node: Apply, g: Variable | None) -> list[Variable | None]:
    """``x[idx]``: the gradient scattered into zeros shaped like ``x``; none for the index parts."""
    from graphwright.tensor.indexing import IncSubtensor

    (x, *parts), spec = node.inputs, node.op.spec
    none = [None] * len(parts)
    if g is None or not is_differentiable(x):
        return [None, *none]
    mode = "inc" if may_repeat(spec, x, parts) else "set"
    return [IncSubtensor(spec, mode)(zeros_for(x), g, *parts), *none]


def inc_subtensor_pullback(node: Apply, g: Variable | None) -> list[Variable | None]:
    """``x[idx] = y`` or ``x[idx] += y``: ``x`` gets ``g`` (with the region zeroed for set), ``y`` gets ``g[idx]``
    summed to its shape (for set, only where its write lands); none for the index parts."""
    from graphwright.tensor.indexing import IncSubtensor, Subtensor

    (x, y, *parts), op = node.inputs, node.op
    none = [None] * len(parts)
    if g is None or not is_differentiable(x):
        return [None, None, *none]
    gx = g if op.mode == "inc" else IncSubtensor(op.spec, "set")(g, 0, *parts)
    if isinstance(y, Constant):
        return [gx, None, *none]
    gy = Subtensor(op.spec)(g, *parts)
    if op.mode == "set" and may_repeat(op.spec, x, parts):
        gy = _ew.switch(_last_writes(op.spec, x, parts), gy, 0)
    return [gx, reduce_to(gy, y), *none]
