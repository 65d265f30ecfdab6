"""Structural canonical forms (canonicalize phase): merged dimshuffles, reshapes and reductions; indexing
and transposes moved towards the inputs; products with transposed or diagonal matrices simplified.

The direction is fixed: layout operations (dimshuffle, basic indexing) move *below* elementwise ops,
towards the inputs. ``exp(x).T`` becomes ``exp(x.T)`` (the elementwise op is lifted above the transpose, so
transposes meet and merge), and ``exp(x)[:, 0]`` becomes ``exp(x[:, 0])`` (fewer elements are computed).
Both need the elementwise result to have no other client, or work would be duplicated.
"""

from __future__ import annotations

import numpy as np

from graphwright.facts import has
from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.rules.helpers import conform, scalar_name, single_client
from graphwright.tensor import elemwise as ew
from graphwright.tensor.index_spec import FULL
from graphwright.tensor.indexing import Subtensor
from graphwright.tensor.linalg import Dot, MatMul
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.shape import DimShuffle, Reshape, dimshuffle, transpose
from graphwright.tensor.variable import constant

__all__ = ["RULES"]


def _owner_op(var: Variable, cls: type | tuple) -> bool:
    return var.owner is not None and isinstance(var.owner.op, cls)


@function_rule("dimshuffle_merge", roots=(DimShuffle,),
               identity="dimshuffle(dimshuffle(x, a), b) = dimshuffle(x, [a[i] for i in b])")
def dimshuffle_merge(var: Variable, ctx) -> Variable | None:
    """Two dimshuffles in a row are one (the identity disappears: x.T.T = x)."""
    inner = var.owner.inputs[0]
    if not _owner_op(inner, DimShuffle):
        return None
    first = inner.owner.op.new_order
    return dimshuffle(inner.owner.inputs[0], ["x" if d == "x" else first[d] for d in var.owner.op.new_order])


@function_rule("reshape_reshape", roots=(Reshape,), identity="reshape(reshape(x, s1), s2) = reshape(x, s2)")
def reshape_reshape(var: Variable, ctx) -> Variable | None:
    """Only the last of two reshapes matters."""
    inner, shape = var.owner.inputs
    if not _owner_op(inner, Reshape):
        return None
    x = inner.owner.inputs[0]
    new = Reshape(var.type.ndim)(x, shape)
    if new.type.is_refinement_of(var.type):
        return new
    return Reshape(var.type.ndim)(x, var.type.shape) if None not in var.type.shape else None


@function_rule("reduce_reduce", roots=(Reduce,),
               identity="sum(sum(x, a), b) = sum(x, a + b) (axes renumbered; also prod, max, min, all, any)")
def reduce_reduce(var: Variable, ctx) -> Variable | None:
    """A reduction of a reduction of the same kind is one reduction over the combined axes (the inner one
    must have no other client); the length-1 axes a keepdims left behind are dropped or kept as before."""
    outer, inner = var.owner.op, var.owner.inputs[0]
    if not _owner_op(inner, Reduce) or inner.owner.op.kind != outer.kind or not single_client(ctx, inner):
        return None
    first = inner.owner.op
    x = inner.owner.inputs[0]
    nd = x.type.ndim
    if first.keepdims:  # the outer axes already are axes of x
        second = set(outer.axis)
        drop = set() if outer.keepdims else second
    else:
        remaining = [d for d in range(nd) if d not in first.axis]
        second = {remaining[j] for j in outer.axis}
        drop = set(first.axis) | (set() if outer.keepdims else second)
    axes = tuple(sorted(set(first.axis) | second))
    if drop == set(axes):
        return Reduce(outer.kind, axes, False)(x)
    full = Reduce(outer.kind, axes, True)(x)
    return dimshuffle(full, [d for d in range(nd) if d not in drop])


@function_rule("dimshuffle_lift", roots=(DimShuffle,),
               identity="dimshuffle(f(x, y), order) = f(dimshuffle(x, order), dimshuffle(y, order))")
def dimshuffle_lift(var: Variable, ctx) -> Variable | None:
    """A dimshuffle of an elementwise op moves onto its inputs (exp(x).T = exp(x.T)); lower-rank inputs are
    first padded with leading broadcast axes, 0-d inputs stay as they are."""
    inner = var.owner.inputs[0]
    name = scalar_name(inner)
    n = inner.type.ndim
    if name is None or n == 0 or not single_client(ctx, inner):
        return None
    order = var.owner.op.new_order
    args = []
    for v in inner.owner.inputs:
        if v.type.ndim == 0:
            args.append(v)
            continue
        pad = ["x"] * (n - v.type.ndim) + list(range(v.type.ndim))
        args.append(dimshuffle(v, ["x" if d == "x" else pad[d] for d in order]))
    return conform(ew.elemwise(name, *args), var.type, args)


_BASIC = ("int", "slice", "newaxis")


def _index_operand(v: Variable, out: Variable, spec: tuple, parts: list[Variable]) -> Variable:
    """``v`` (an operand broadcast to ``out``) indexed the way ``out`` is indexed by ``spec``: leading axes
    ``v`` lacks are skipped, and axes where ``v`` broadcasts (static 1) take index 0 or a full slice."""
    if v.type.ndim == 0:
        return v
    lead = out.type.ndim - v.type.ndim
    new_spec: list[tuple] = []
    new_parts: list[Variable] = []
    it = iter(parts)
    dim = 0
    for e in spec:
        kind = e[0]
        mine = [next(it) for _ in range(sum(e[1:]) if kind == "slice" else int(kind == "int"))]
        if kind == "newaxis":
            if dim >= lead:
                new_spec.append(e)
            continue
        if dim >= lead:
            if v.type.shape[dim - lead] == 1 and out.type.shape[dim] != 1:  # v broadcasts along this axis
                new_spec.append(e if kind == "int" else FULL)
                new_parts += [constant(0)] if kind == "int" else []
            else:
                new_spec.append(e)
                new_parts += mine
        dim += 1
    if all(e == FULL for e in new_spec):
        return v
    return Subtensor(tuple(new_spec))(v, *new_parts)


@function_rule("subtensor_lift", roots=(Subtensor,), identity="f(x, y)[idx] = f(x[idx], y[idx])")
def subtensor_lift(var: Variable, ctx) -> Variable | None:
    """Basic indexing (ints, slices, None) of an elementwise op moves onto its inputs, so that only the
    selected elements are computed (exp(x)[:, 0] = exp(x[:, 0]))."""
    inner, *parts = var.owner.inputs
    name = scalar_name(inner)
    spec = var.owner.op.spec
    if (name is None or inner.type.ndim == 0 or not single_client(ctx, inner)
            or any(e[0] not in _BASIC for e in spec)):
        return None
    args = [_index_operand(v, inner, spec, parts) for v in inner.owner.inputs]
    return conform(ew.elemwise(name, *args), var.type, args)


@function_rule("reduce_subtensor", roots=(Subtensor,), identity="sum(x, 1)[0] = sum(x[0], 0)")
def reduce_subtensor(var: Variable, ctx) -> Variable | None:
    """Ints and slices on the result of a reduction (keepdims=False) move onto its input; the reduced
    axes get full slices and are renumbered."""
    inner, *parts = var.owner.inputs
    spec = var.owner.op.spec
    if (not _owner_op(inner, Reduce) or inner.owner.op.keepdims or not single_client(ctx, inner)
            or any(e[0] not in ("int", "slice") for e in spec) or all(e == FULL for e in spec)):
        return None
    op = inner.owner.op
    x = inner.owner.inputs[0]
    entries = iter(spec)
    new_spec, axes, removed = [], [], 0
    for d in range(x.type.ndim):
        if d in op.axis:
            new_spec.append(FULL)
            axes.append(d - removed)
        else:
            e = next(entries)
            new_spec.append(e)
            removed += e[0] == "int"
    return Reduce(op.kind, tuple(axes), False)(Subtensor(tuple(new_spec))(x, *parts))


@function_rule("dot_transpose", roots=(DimShuffle,), identity="dot(x, y).T = dot(y.T, x.T) for matrices")
def dot_transpose(var: Variable, ctx) -> Variable | None:
    """The transpose of a matrix product (dot or matmul of two matrices) moves onto the factors."""
    inner = var.owner.inputs[0]
    if (var.owner.op.new_order != (1, 0) or not _owner_op(inner, Dot | MatMul)
            or not single_client(ctx, inner)):
        return None
    a, b = inner.owner.inputs
    if a.type.ndim != 2 or b.type.ndim != 2:
        return None
    return type(inner.owner.op)()(transpose(b), transpose(a))


def _diag_of_factor(f: Variable) -> Variable | None:
    """The diagonal a factor contributes when it multiplies a diagonal matrix (0-d, vectors, rows, columns)."""
    shape = f.type.shape
    if f.type.ndim <= 1:
        return f
    if _owner_op(f, DimShuffle | Subtensor) and f.owner.inputs[0].type.ndim == 1 and (
            len(f.owner.inputs) == 1 and all(e in (FULL, ("newaxis",)) for e in getattr(f.owner.op, "spec", ()))):
        return f.owner.inputs[0]  # v[:, None], v[None, :] and their dimshuffle forms
    if f.type.ndim == 2 and shape[0] == 1:
        return f[0] if shape[1] != 1 else f[0, 0]
    if f.type.ndim == 2 and shape[1] == 1:
        return f[:, 0]
    return None


def _diagonal(d: Variable) -> list[Variable] | None:
    """Factors whose product is the diagonal of the square diagonal matrix ``d`` ([] for the identity),
    or None when ``d`` is not recognisably diagonal: eye(n), a diagonal constant, eye(n) * v."""
    if d.type.ndim != 2:
        return None
    if has("identity", d):
        return []
    if isinstance(d, Constant):
        data = d.data
        if data.shape[0] != data.shape[1] or np.count_nonzero(data[~np.eye(len(data), dtype=bool)]):
            return None
        diag = np.diagonal(data)
        return [] if np.all(diag == 1) else [constant(diag.copy())]
    if scalar_name(d) != "mul":
        return None
    factors = d.owner.inputs
    base = [k for k, f in enumerate(factors) if f.type.ndim == 2 and (has("identity", f) or isinstance(f, Constant))]
    for k in base:
        inner = _diagonal(factors[k])
        others = [_diag_of_factor(f) for j, f in enumerate(factors) if j != k]
        if inner is not None and all(o is not None for o in others):
            return inner + others
    return None


@function_rule("dot_diag", roots=(Dot, MatMul), identity="dot(x, eye(n) * v) = x * v; dot(eye(n) * v, x) = "
               "v[:, None] * x")
def dot_diag(var: Variable, ctx) -> Variable | None:
    """A product with a diagonal matrix (eye, a diagonal constant, or eye times a vector) is a
    broadcast elementwise product."""
    a, b = var.owner.inputs
    for diag_mat, other, right in ((b, a, True), (a, b, False)):
        factors = _diagonal(diag_mat)
        if factors is None:
            continue
        dtype = diag_mat.type.dtype
        d = ew.cast(factors[0] if len(factors) == 1 else ew.mul(*factors), dtype) if factors else None
        if d is None:
            new = other
        elif right or other.type.ndim == 1 or d.type.ndim == 0:
            new = other * d
        else:
            new = dimshuffle(d, (0, "x")) * other
        return conform(new, var.type, (other,))
    return None


RULES = register("canonicalize", RuleSet("lifting", [
    dimshuffle_merge, dot_transpose, dimshuffle_lift, reshape_reshape, reduce_reduce, subtensor_lift,
    reduce_subtensor, dot_diag,
]))
