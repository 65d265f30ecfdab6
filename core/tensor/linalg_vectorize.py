"""Direct vectorize rules (batched forms) for :class:`~graphwright.tensor.linalg.Dot`, ``MatMul`` and
``TensorDot``: one batched matmul (or one tensordot) instead of a Blockwise loop over the batch."""

from __future__ import annotations

from graphwright.tensor import shape as _shape
from graphwright.tensor.shape import core_size, reshape_core
from graphwright.tensor.variable import TensorVariable

__all__ = ["vectorize_matmul", "vectorize_tensordot"]


def _lift(v: TensorVariable, nb: int, top: int, core_nd: int, core_batch: int, vec_axis: int) -> TensorVariable:
    """Operand ``v`` of a batched matmul: ``top`` batch dimensions (``nb`` of them its own, the others static
    1), ``core_batch`` core batch dimensions, and a 1-d core promoted to a row (``vec_axis=0``) or a column
    (``vec_axis=1``)."""
    own_core_batch = max(core_nd - 2, 0)
    order: list = ["x"] * (top - nb) + list(range(nb)) + ["x"] * (core_batch - own_core_batch)
    core = list(range(nb, nb + core_nd))
    if core_nd == 1:
        core.insert(vec_axis, "x")
    return _shape.dimshuffle(v, order + core)


def vectorize_matmul(node, inputs: list, batch_ndims: list) -> list:
    """``np.matmul`` (or ``np.dot`` on 1-d/2-d operands) with batched operands, as one MatMul.

    A batch of vectors against an unbatched operand is a plain matrix product (``xs @ b``, or ``xs @ a.T``
    for ``a @ x``); otherwise vectors become rows/columns, the batch dimensions are padded to the same count
    (static 1s broadcast), and the promoted axes are dropped from the result.
    """
    from graphwright.tensor.linalg import MatMul

    (a, b), (na, nb) = inputs, batch_ndims
    ca, cb = (v.type.ndim for v in node.inputs)
    if na and not nb and ca == 1 and cb <= 2:
        return [MatMul()(a, b)]  # rows of a times b
    if nb and not na and cb == 1 and ca <= 2:
        return [MatMul()(b, _shape.transpose(a) if ca == 2 else a)]  # (a @ x)[..., i] = x @ a.T
    top, core_batch = max(na, nb), max(ca - 2, cb - 2, 0)
    # an unbatched operand broadcasts as it is (matmul promotes and drops a 1-d one itself)
    a2 = _lift(a, na, top, ca, core_batch, 0) if na else a
    b2 = _lift(b, nb, top, cb, core_batch, 1) if nb else b
    out = MatMul()(a2, b2)
    drop = [out.type.ndim - 2] * (ca == 1 and na > 0) + [out.type.ndim - 1] * (cb == 1 and nb > 0)
    return [_shape.squeeze(out, drop) if drop else out]


def vectorize_tensordot(node, inputs: list, batch_ndims: list) -> list:
    """One tensordot when a single operand is batched (its batch axes moved to the front); with both batched,
    the free and contracted axes are merged and the product is a batched matmul."""
    from graphwright.tensor.linalg import MatMul, TensorDot
    from graphwright.transforms.vectorize import pad_batch

    op = node.op
    (a, b), (na, nb) = inputs, batch_ndims
    (axes_a, axes_b), (ca, cb) = op.axes, (v.type.ndim for v in node.inputs)
    free_a = [d for d in range(ca) if d not in axes_a]
    free_b = [d for d in range(cb) if d not in axes_b]
    if not nb:
        return [TensorDot((tuple(d + na for d in axes_a), axes_b))(a, b)]
    if not na:
        out = TensorDot((axes_a, tuple(d + nb for d in axes_b)))(a, b)
        nfa = len(free_a)
        order = list(range(nfa, nfa + nb)) + list(range(nfa)) + list(range(nfa + nb, out.type.ndim))
        return [_shape.transpose(out, order)]
    a, b = pad_batch([a, b], [na, nb])
    top, nfa, nk = max(na, nb), len(free_a), len(axes_a)
    at = _shape.transpose(a, list(range(top)) + [d + top for d in free_a + list(axes_a)])
    bt = _shape.transpose(b, list(range(top)) + [d + top for d in list(axes_b) + free_b])
    ka, kb = range(top + nfa, at.type.ndim), range(top, top + nk)
    k = core_size(at, ka) if None not in [at.type.shape[d] for d in ka] else core_size(bt, kb)
    a2 = reshape_core(at, top, (core_size(at, range(top, top + nfa)), k))
    b2 = reshape_core(bt, top, (k, core_size(bt, range(top + nk, bt.type.ndim))))
    out = MatMul()(a2, b2)
    free_shape = _shape.shape_tuple(at)[top:top + nfa] + _shape.shape_tuple(bt)[top + nk:]
    return [reshape_core(out, top, free_shape)]
