"""Linear algebra: dot (np.dot), matmul (the ``@`` operator), tensordot and outer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op
from graphwright.tensor import elemwise as _ew
from graphwright.tensor import shape as _shape
from graphwright.tensor.type import TensorType, broadcast_shapes, promote_dtypes
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["Dot", "MatMul", "TensorDot", "dot", "matmul", "tensordot", "outer"]


def _text(shape: Sequence) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _create(op: Op, a: TensorVariable, b: TensorVariable, shape: tuple) -> Apply:
    return Apply.create(op, [a, b], lambda: [TensorType(promote_dtypes(a.type.dtype, b.type.dtype), shape)])


def _describe(x: TensorVariable) -> str:
    return f"{x} of type {x.type.short()}"


def _both(a: TensorVariable, b: TensorVariable) -> str:
    return f"shapes {_text(a.type.shape)} and {_text(b.type.shape)} ({_describe(a)}; {_describe(b)})"


def _check_inner(op_name: str, a: TensorVariable, b: TensorVariable, ka: Any, kb: Any, what: str) -> None:
    if ka is not None and kb is not None and ka != kb:
        raise GraphError(f"{op_name}: {_both(a, b)} are not aligned: {what} ({ka} != {kb})")


@dataclass(frozen=True)
class Dot(Op):
    """``np.dot`` of 1-d and 2-d tensors: vector·vector (0-d), matrix·vector, vector·matrix, matrix·matrix."""

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor(a), as_tensor(b)
        for v, label in ((a, "a"), (b, "b")):
            if v.type.ndim not in (1, 2):
                raise GraphError(f"dot: input {label} ({_describe(v)}) must be 1-d or 2-d for the Dot op; "
                                 "gw.dot, matmul and tensordot handle other ranks")
        kb = b.type.shape[0]
        _check_inner("dot", a, b, a.type.shape[-1], kb, "the last dimension of a must equal the "
                     + ("length of b" if b.type.ndim == 1 else "first dimension of b"))
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return _create(self, a, b, shape)

    def perform(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.dot(a, b))

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [tuple(input_shapes[0][:-1]) + tuple(input_shapes[1][1:])]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """``g @ b.T`` and ``a.T @ g``, with outer products where an operand is a vector."""
        (a, b), g = node.inputs, output_grads[0]
        if g is None:
            return [None, None]
        if a.type.ndim == 1 and b.type.ndim == 1:
            ga, gb = g * b, g * a
        elif b.type.ndim == 1:
            ga, gb = _ew.mul(_shape.dimshuffle(g, (0, "x")), _shape.dimshuffle(b, ("x", 0))), Dot()(g, a)
        elif a.type.ndim == 1:
            ga, gb = Dot()(b, g), _ew.mul(_shape.dimshuffle(a, (0, "x")), _shape.dimshuffle(g, ("x", 0)))
        else:
            ga, gb = Dot()(g, _shape.transpose(b)), Dot()(_shape.transpose(a), g)
        return [_as_grad(ga, a), _as_grad(gb, b)]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """One batched matmul (see :func:`~graphwright.tensor.linalg_vectorize.vectorize_matmul`)."""
        from graphwright.tensor.linalg_vectorize import vectorize_matmul

        return vectorize_matmul(node, inputs, batch_ndims)

    def short_name(self) -> str:
        return "dot"


def _as_grad(grad: TensorVariable, x: TensorVariable) -> TensorVariable | None:
    """``grad`` in ``x``'s dtype, or None when ``x`` is not a float (no gradient flows to it)."""
    from graphwright.tensor.grad_util import is_differentiable

    if not is_differentiable(x):
        return None
    return grad if grad.type.dtype == x.type.dtype else _ew.cast(grad, x.type.dtype)


def _contract_static(a: TensorVariable, b: TensorVariable, axes_a: Sequence[int], axes_b: Sequence[int]):
    free_a = tuple(s for d, s in enumerate(a.type.shape) if d not in axes_a)
    free_b = tuple(s for d, s in enumerate(b.type.shape) if d not in axes_b)
    return free_a + free_b


def dot(a: Any, b: Any) -> TensorVariable:
    """``np.dot``: inner product of vectors, matrix products, and for other ranks a sum over the last axis of
    ``a`` and the second-to-last of ``b`` (0-d inputs multiply).

    Integers stay integers and bool·bool is bool, as in NumPy.

    Examples
    --------
    >>> import graphwright as gw
    >>> A = gw.matrix("A", shape=(2, 3))
    >>> v = gw.vector("v", shape=(3,))
    >>> gw.dot(A, v).type
    TensorType(float64, (2,))
    >>> gw.dot(v, v).eval({v: [1.0, 2.0, 3.0]})
    array(14.)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.type.ndim == 0 or b.type.ndim == 0:
        return _ew.mul(a, b)
    if a.type.ndim <= 2 and b.type.ndim <= 2:
        return Dot()(a, b)
    return tensordot(a, b, ([a.type.ndim - 1], [max(b.type.ndim - 2, 0)]))


@dataclass(frozen=True)
class MatMul(Op):
    """``np.matmul``: matrix products broadcast over leading batch dimensions; 1-d inputs are promoted."""

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor(a), as_tensor(b)
        for v, label in ((a, "a"), (b, "b")):
            if v.type.ndim == 0:
                raise GraphError(f"matmul: input {label} ({_describe(v)}) is 0-d; matmul needs at least one "
                                 "dimension (use * for scalars)")
        shape = self._static(a, b)
        return _create(self, a, b, shape)

    @staticmethod
    def _static(a: TensorVariable, b: TensorVariable) -> tuple:
        sa = a.type.shape if a.type.ndim >= 2 else (1,) + a.type.shape
        sb = b.type.shape if b.type.ndim >= 2 else b.type.shape + (1,)
        _check_inner("matmul", a, b, sa[-1], sb[-2], "the last dimension of a must equal the "
                     + ("length of b" if b.type.ndim == 1 else "second-to-last dimension of b"))
        try:
            batch = broadcast_shapes([sa[:-2], sb[:-2]], "matmul")
        except GraphError:
            raise GraphError(f"matmul: {_both(a, b)} have batch dimensions {_text(sa[:-2])} and "
                             f"{_text(sb[:-2])} that cannot be broadcast together") from None
        return batch + sa[-2:-1] * (a.type.ndim >= 2) + sb[-1:] * (b.type.ndim >= 2)

    def perform(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.matmul(a, b))

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        a, b = node.inputs
        sa, sb = tuple(input_shapes[0]), tuple(input_shapes[1])
        out_static = node.outputs[0].type.shape
        ba, bb = sa[:-2], sb[:-2]
        sta, stb = a.type.shape[:-2], b.type.shape[:-2]
        nb = max(len(ba), len(bb))
        batch = []
        for i in range(nb):
            ia, ib = i - (nb - len(ba)), i - (nb - len(bb))
            if out_static[i] is not None:
                batch.append(out_static[i])
            elif ia < 0 or sta[ia] == 1:
                batch.append(bb[ib])
            elif ib < 0 or stb[ib] == 1:
                batch.append(ba[ia])
            else:  # both lengths unknown statically: exact for any broadcastable pair of runtime lengths
                batch.append(_ew.switch(_ew.eq(ba[ia], 1), bb[ib], ba[ia]))
        rows = sa[-2:-1] if a.type.ndim >= 2 else ()
        cols = sb[-1:] if b.type.ndim >= 2 else ()
        return [tuple(batch) + rows + cols]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """``g @ swap(b)`` and ``swap(a) @ g`` on 1-d operands promoted to matrices, summed over the batch
        dimensions an operand was broadcast along."""
        from graphwright.tensor.grad_util import reduce_to

        (a, b), g = node.inputs, output_grads[0]
        if g is None:
            return [None, None]
        if a.type.ndim == 2 and b.type.ndim == 1:  # matrix @ vector: a vector @ matrix product and an outer
            return [_as_grad(_outer(g, b), a), _as_grad(MatMul()(g, a), b)]
        if a.type.ndim == 1 and b.type.ndim == 2:
            return [_as_grad(MatMul()(b, g), a), _as_grad(_outer(a, g), b)]
        a2 = a if a.type.ndim >= 2 else _shape.expand_dims(a, 0)
        b2 = b if b.type.ndim >= 2 else _shape.expand_dims(b, 1)
        g2 = g
        if a.type.ndim == 1:
            g2 = _shape.expand_dims(g2, g2.type.ndim - (b.type.ndim >= 2))
        if b.type.ndim == 1:
            g2 = _shape.expand_dims(g2, g2.type.ndim)
        ga, gb = reduce_to(MatMul()(g2, _swap(b2)), a2), reduce_to(MatMul()(_swap(a2), g2), b2)
        if a.type.ndim == 1:
            ga = _shape.squeeze(ga, 0)
        if b.type.ndim == 1:
            gb = _shape.squeeze(gb, 1)
        return [_as_grad(ga, a), _as_grad(gb, b)]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """One matmul with the batch dimensions in front of its own batch dimensions."""
        from graphwright.tensor.linalg_vectorize import vectorize_matmul

        return vectorize_matmul(node, inputs, batch_ndims)

    def short_name(self) -> str:
        return "matmul"

    def str_form(self, args: Sequence[str]) -> str:
        return f"({args[0]} @ {args[1]})"


def _outer(u: TensorVariable, v: TensorVariable) -> TensorVariable:
    return _ew.mul(_shape.dimshuffle(u, (0, "x")), _shape.dimshuffle(v, ("x", 0)))


def _swap(x: TensorVariable) -> TensorVariable:
    """``x`` with its last two dimensions exchanged."""
    nd = x.type.ndim
    return _shape.dimshuffle(x, (*range(nd - 2), nd - 1, nd - 2))


def matmul(a: Any, b: Any) -> TensorVariable:
    """``np.matmul`` (the ``@`` operator), with batch broadcasting where only a static 1 broadcasts.

    Examples
    --------
    >>> import graphwright as gw
    >>> A = gw.tensor3("A", shape=(5, 2, 3))
    >>> B = gw.matrix("B", shape=(3, 4))
    >>> (A @ B).type
    TensorType(float64, (5, 2, 4))
    >>> v = gw.vector("v")
    >>> (v @ v).eval({v: [3.0, 4.0]})
    array(25.)
    """
    return MatMul()(a, b)


@dataclass(frozen=True)
class TensorDot(Op):
    """``np.tensordot`` with normalised ``axes``: a pair of equal-length tuples of non-negative axes."""

    axes: tuple[tuple[int, ...], tuple[int, ...]]

    def __post_init__(self) -> None:
        axes_a, axes_b = (tuple(int(d) for d in ax) for ax in self.axes)
        if len(axes_a) != len(axes_b) or any(d < 0 for d in axes_a + axes_b):
            raise GraphError(f"TensorDot: axes must be two equal-length tuples of non-negative ints, "
                             f"got {self.axes!r}")
        object.__setattr__(self, "axes", (axes_a, axes_b))

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor(a), as_tensor(b)
        axes_a, axes_b = self.axes
        for v, ax, label in ((a, axes_a, "a"), (b, axes_b, "b")):
            if any(d >= v.type.ndim for d in ax) or len(set(ax)) != len(ax):
                raise GraphError(f"tensordot: axes {ax} are invalid (out of range or repeated) for input "
                                 f"{label} ({_describe(v)})")
        for da, db in zip(axes_a, axes_b, strict=True):
            _check_inner("tensordot", a, b, a.type.shape[da], b.type.shape[db],
                         f"axis {da} of a must have the length of axis {db} of b")
        shape = _contract_static(a, b, axes_a, axes_b)
        return _create(self, a, b, shape)

    def perform(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.tensordot(a, b, axes=(list(self.axes[0]), list(self.axes[1]))))

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        sa, sb = input_shapes
        axes_a, axes_b = self.axes
        return [tuple(s for d, s in enumerate(sa) if d not in axes_a)
                + tuple(s for d, s in enumerate(sb) if d not in axes_b)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """Contract ``g`` with the free axes of the other operand, then put the axes back in order."""
        (a, b), g = node.inputs, output_grads[0]
        if g is None:
            return [None, None]
        axes_a, axes_b = self.axes
        free_a = [d for d in range(a.type.ndim) if d not in axes_a]
        free_b = [d for d in range(b.type.ndim) if d not in axes_b]
        n = len(free_a)
        # g's axes: free_a then free_b. The uncontracted axes of the other operand come out in its own order.
        ga = TensorDot((tuple(range(n, g.type.ndim)), tuple(free_b)))(g, b)
        ga_src = free_a + [da for _, da in sorted(zip(axes_b, axes_a, strict=True))]
        gb = TensorDot((tuple(free_a), tuple(range(n))))(a, g)
        gb_src = [db for _, db in sorted(zip(axes_a, axes_b, strict=True))] + free_b
        return [_as_grad(_shape.transpose(ga, [ga_src.index(d) for d in range(a.type.ndim)]), a),
                _as_grad(_shape.transpose(gb, [gb_src.index(d) for d in range(b.type.ndim)]), b)]

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """One tensordot (one operand batched) or one batched matmul (both)."""
        from graphwright.tensor.linalg_vectorize import vectorize_tensordot

        return vectorize_tensordot(node, inputs, batch_ndims)

    def short_name(self) -> str:
        return f"tensordot{{axes={self.axes}}}"


def _axis_list(axes: Any, v: TensorVariable, label: str) -> tuple[int, ...]:
    seq = (axes,) if isinstance(axes, int | np.integer) else tuple(axes)
    nd = v.type.ndim
    for d in seq:
        if not isinstance(d, int | np.integer) or not -nd <= d < nd:
            raise GraphError(f"tensordot: axis {d!r} is out of range for input {label} ({_describe(v)})")
    return tuple(int(d) % nd for d in seq)


def tensordot(a: Any, b: Any, axes: Any = 2) -> TensorVariable:
    """``np.tensordot``: sum products over ``axes``, an int ``n`` (the last ``n`` axes of ``a`` with the first
    ``n`` of ``b``) or a pair of axis sequences.

    Examples
    --------
    >>> import graphwright as gw
    >>> a = gw.tensor3("a", shape=(2, 3, 4))
    >>> b = gw.matrix("b", shape=(4, 3))
    >>> gw.tensordot(a, b, axes=([1, 2], [1, 0])).type
    TensorType(float64, (2,))
    >>> gw.tensordot(a, b, axes=1).type
    TensorType(float64, (2, 3, 3))
    """
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(axes, int | np.integer):
        n = int(axes)
        if not 0 <= n <= min(a.type.ndim, b.type.ndim):
            raise GraphError(f"tensordot: axes={n} is invalid for inputs {_describe(a)} and {_describe(b)}")
        pair = (tuple(range(a.type.ndim - n, a.type.ndim)), tuple(range(n)))
    else:
        try:
            axes_a, axes_b = axes
        except (TypeError, ValueError):
            raise GraphError(f"tensordot: axes must be an int or a pair of sequences, got {axes!r}") from None
        pair = (_axis_list(axes_a, a, "a"), _axis_list(axes_b, b, "b"))
        if len(pair[0]) != len(pair[1]):
            raise GraphError(f"tensordot: axes {axes!r} name {len(pair[0])} axes of a but {len(pair[1])} of "
                             f"b ({_both(a, b)})")
    return TensorDot(pair)(a, b)


def outer(a: Any, b: Any) -> TensorVariable:
    """``np.outer``: the outer product of the flattened inputs, an ``(a.size, b.size)`` matrix.

    Examples
    --------
    >>> import graphwright as gw
    >>> u = gw.vector("u", shape=(2,))
    >>> v = gw.vector("v", shape=(3,))
    >>> gw.outer(u, v).type
    TensorType(float64, (2, 3))
    >>> gw.outer(u, v).eval({u: [1.0, 2.0], v: [1.0, 0.0, -1.0]})
    array([[ 1.,  0., -1.],
           [ 2.,  0., -2.]])
    """
    a, b = (v if v.type.ndim == 1 else _shape.flatten(v) for v in (as_tensor(a), as_tensor(b)))
    return _ew.mul(_shape.dimshuffle(a, (0, "x")), _shape.dimshuffle(b, ("x", 0)))
