"""Numba kernels for ops along axes: reductions, argmax/argmin, logsumexp, softmax, log_softmax, cumsum, cumprod.

Each kernel moves the axes it works on to the end (a transpose, copied contiguous), sees the input as rows
(``(kept elements, reduced elements)``), runs one compiled row loop, and puts the result back in the declared
shape. The row loops follow NumPy: NaN propagates through max/min, argmax returns the first maximum (or the
first NaN), empty max/min/argmax raise, float32 sums accumulate in float64 (NumPy sums pairwise).
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.numba_backend.kernels import njit_source, permuted, tuple_source
from graphwright.graph.basic import Apply
from graphwright.tensor.cumulative import CumOp
from graphwright.tensor.nn import LogSoftmax, Softmax
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.reduce_special import Argmax, Argmin, LogSumExp

__all__: list[str] = []

_jit = numba.njit(error_model="numpy", cache=False)


@_jit
def _sum_float(rows, out):
    for i in range(rows.shape[0]):
        acc = 0.0
        for j in range(rows.shape[1]):
            acc += rows[i, j]
        out[i] = acc


@_jit
def _sum_int(rows, out):
    for i in range(rows.shape[0]):
        acc = 0
        for j in range(rows.shape[1]):
            acc += np.int64(rows[i, j])
        out[i] = acc


@_jit
def _sum_complex(rows, out):
    for i in range(rows.shape[0]):
        acc = 0j
        for j in range(rows.shape[1]):
            acc += rows[i, j]
        out[i] = acc


@_jit
def _prod_complex(rows, out):
    for i in range(rows.shape[0]):
        acc = 1 + 0j
        for j in range(rows.shape[1]):
            acc *= rows[i, j]
        out[i] = acc


@_jit
def _prod_float(rows, out):
    for i in range(rows.shape[0]):
        acc = 1.0
        for j in range(rows.shape[1]):
            acc *= rows[i, j]
        out[i] = acc


@_jit
def _prod_int(rows, out):
    for i in range(rows.shape[0]):
        acc = 1
        for j in range(rows.shape[1]):
            acc *= np.int64(rows[i, j])
        out[i] = acc


@_jit
def _extreme(rows, out, largest):
    """max (largest) or min of each row; a NaN wins, as in NumPy; empty rows have no extreme."""
    if rows.shape[1] == 0 and rows.shape[0] > 0:
        raise ValueError("max/min: zero-size array to reduction operation which has no identity")
    for i in range(rows.shape[0]):
        acc = rows[i, 0]
        for j in range(1, rows.shape[1]):
            v = rows[i, j]
            if (v > acc if largest else v < acc) or v != v:
                acc = v
        out[i] = acc


@_jit
def _all(rows, out):
    for i in range(rows.shape[0]):
        acc = True
        for j in range(rows.shape[1]):
            if not rows[i, j]:
                acc = False
                break
        out[i] = acc


@_jit
def _any(rows, out):
    for i in range(rows.shape[0]):
        acc = False
        for j in range(rows.shape[1]):
            if rows[i, j]:
                acc = True
                break
        out[i] = acc


@_jit
def _arg_extreme(rows, out, largest):
    """The position of the first maximum (largest) or minimum of each row, or of its first NaN."""
    if rows.shape[1] == 0 and rows.shape[0] > 0:
        raise ValueError("argmax/argmin: attempt to get the extreme of an empty sequence")
    for i in range(rows.shape[0]):
        best = rows[i, 0]
        at = 0
        if best == best:
            for j in range(1, rows.shape[1]):
                v = rows[i, j]
                if v != v:
                    at = j
                    break
                if v > best if largest else v < best:
                    best = v
                    at = j
        out[i] = at


@_jit
def _shift(rows, i):
    """The row's maximum, or 0 when it is not finite (an empty row, -inf, inf or nan)."""
    m = -np.inf
    for j in range(rows.shape[1]):
        v = rows[i, j]
        if v > m or v != v:
            m = v
    return m if np.isfinite(m) else 0.0


@_jit
def _logsumexp(rows, out):
    for i in range(rows.shape[0]):
        shift = _shift(rows, i)
        acc = 0.0
        for j in range(rows.shape[1]):
            acc += np.exp(rows[i, j] - shift)
        out[i] = np.log(acc) + shift


@_jit
def _softmax(rows, out):
    for i in range(rows.shape[0]):
        shift = _shift(rows, i)
        acc = 0.0
        for j in range(rows.shape[1]):
            e = np.exp(rows[i, j] - shift)
            out[i, j] = e
            acc += out[i, j]
        for j in range(rows.shape[1]):
            out[i, j] = out[i, j] / acc


@_jit
def _log_softmax(rows, out):
    for i in range(rows.shape[0]):
        shift = rows.dtype.type(_shift(rows, i))
        acc = 0.0
        for j in range(rows.shape[1]):
            acc += np.exp(rows[i, j] - shift)
        log_acc = np.log(acc)
        for j in range(rows.shape[1]):
            out[i, j] = (rows[i, j] - shift) - log_acc


@_jit
def _cumsum(rows, out):
    for i in range(rows.shape[0]):
        if rows.shape[1]:
            out[i, 0] = rows[i, 0]
        for j in range(1, rows.shape[1]):
            out[i, j] = out[i, j - 1] + rows[i, j]


@_jit
def _cumprod(rows, out):
    for i in range(rows.shape[0]):
        if rows.shape[1]:
            out[i, 0] = rows[i, 0]
        for j in range(1, rows.shape[1]):
            out[i, j] = out[i, j - 1] * rows[i, j]



def _rows_source(nd: int, reduced: tuple[int, ...], in_dtype: str | None) -> list[str]:
    """Lines defining ``rows`` (kept elements x reduced elements), ``perm`` order of ``xt`` and sizes."""
    kept = [d for d in range(nd) if d not in reduced]
    perm = kept + list(reduced)
    lines = ["def kernel(x):"]
    lines.append(f"    xs = x.astype(np.{in_dtype})" if in_dtype else "    xs = x")
    lines.append(f"    xt = np.ascontiguousarray({permuted('xs', perm)})")
    lines.append("    m = 1")
    lines += [f"    m *= x.shape[{d}]" for d in kept]
    lines.append("    r = 1")
    lines += [f"    r *= x.shape[{d}]" for d in reduced]
    lines.append("    rows = xt.reshape((m, r))")
    return lines


def _reduction(node: Apply, reduced: tuple[int, ...], keepdims: bool, row_fn: Callable, in_dtype=None,
               largest: bool | None = None) -> Callable:
    x, out = node.inputs[0], node.outputs[0]
    nd = x.type.ndim
    lines = _rows_source(nd, reduced, in_dtype)
    lines.append(f"    out = np.empty(m, np.{out.type.dtype})")
    lines.append("    row_fn(rows, out)" if largest is None else f"    row_fn(rows, out, {largest})")
    shape = [("1" if d in reduced else f"x.shape[{d}]") for d in range(nd) if keepdims or d not in reduced]
    if shape:
        lines.append(f"    return out.reshape({tuple_source(shape)})")
    else:
        lines += ["    res = np.empty((), out.dtype)", "    res[()] = out[0]", "    return res"]
    return njit_source("\n".join(lines) + "\n", row_fn=row_fn)


def _along(node: Apply, axis: int | None, row_fn: Callable, in_dtype=None) -> Callable:
    """A shape-preserving op along one axis (None: the flattened input, as one row)."""
    x, out = node.inputs[0], node.outputs[0]
    nd = x.type.ndim
    if axis is None:
        src = f"x.astype(np.{in_dtype})" if in_dtype else "x"
        lines = ["def kernel(x):", f"    rows = np.ascontiguousarray({src}).reshape((1, x.size))",
                 f"    out = np.empty((1, x.size), np.{out.type.dtype})", "    row_fn(rows, out)"]
        tail = "    return out.reshape((x.size,))" if out.type.ndim == 1 else (
            f"    return out.reshape({tuple_source([f'x.shape[{d}]' for d in range(nd)])})")
        return njit_source("\n".join(lines + [tail]) + "\n", row_fn=row_fn)
    axis = axis % nd
    lines = _rows_source(nd, (axis,), in_dtype)
    lines += [f"    out = np.empty((m, r), np.{out.type.dtype})", "    row_fn(rows, out)",
              "    res = out.reshape(xt.shape)"]
    perm = [d for d in range(nd) if d != axis] + [axis]
    if perm != list(range(nd)):
        inverse = [perm.index(d) for d in range(nd)]
        lines.append(f"    res = {permuted('res', inverse)}")
    return njit_source("\n".join(lines + ["    return res"]) + "\n", row_fn=row_fn)


def _float_input(node: Apply) -> str | None:
    x, out = node.inputs[0], node.outputs[0]
    return out.type.dtype if x.type.dtype != out.type.dtype else None


@kernel("numba", Reduce)
def _reduce(node: Apply, ctx: KernelContext) -> Callable:
    op = node.op
    out_dtype = node.outputs[0].type.dtype
    is_float = out_dtype.startswith("float")
    if op.kind in ("max", "min"):
        return _reduction(node, tuple(op.axis), op.keepdims, _extreme, largest=op.kind == "max")
    family = "float" if is_float else "complex" if out_dtype.startswith("complex") else "int"
    sums = {"float": _sum_float, "complex": _sum_complex, "int": _sum_int}  # int: wraps as uint64 does too
    prods = {"float": _prod_float, "complex": _prod_complex, "int": _prod_int}
    row_fn = {"sum": sums[family], "prod": prods[family], "all": _all, "any": _any}[op.kind]
    return _reduction(node, tuple(op.axis), op.keepdims, row_fn)


@kernel("numba", Argmax, Argmin)
def _arg(node: Apply, ctx: KernelContext) -> Callable:
    op = node.op
    nd = node.inputs[0].type.ndim
    reduced = tuple(range(nd)) if op.axis is None else (op.axis % nd,)
    return _reduction(node, reduced, op.keepdims, _arg_extreme, largest=op.largest)


@kernel("numba", LogSumExp)
def _logsumexp_kernel(node: Apply, ctx: KernelContext) -> Callable:
    return _reduction(node, tuple(node.op.axis), node.op.keepdims, _logsumexp, _float_input(node))


@kernel("numba", Softmax, LogSoftmax)
def _softmax_kernel(node: Apply, ctx: KernelContext) -> Callable:
    row_fn = _log_softmax if node.op.log else _softmax
    return _along(node, node.op.axis, row_fn, _float_input(node))


@kernel("numba", CumOp)
def _cumulative(node: Apply, ctx: KernelContext) -> Callable:
    row_fn = _cumsum if node.op.kind == "cumsum" else _cumprod
    return _along(node, node.op.axis, row_fn, _float_input(node))
