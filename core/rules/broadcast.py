"""Shapes and broadcasting (canonicalize phase): shapes read from the simplest source, needless allocs removed.

Gradient graphs are full of these: the pullback of ``sum`` broadcasts its gradient back with
``alloc(g, shape(x ** 2))``, and the elementwise pullbacks then multiply that by tensors which already have the
full shape. These rules turn ``alloc(1, shape(x ** 2)) * 2 * x`` into ``2 * x``.
"""

from __future__ import annotations

from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.tensor.composite import Composite
from graphwright.tensor.creation import Alloc
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.tensor.shape import Shape, shape_of
from graphwright.tensor.variable import constant

__all__ = ["RULES"]


def _has_full_shape(x: Variable, out: Variable) -> bool:
    """``x`` alone has ``out``'s runtime shape: same rank, and a static 1 only where ``out`` has one (in
    graphwright only static length-1 dimensions broadcast, so equal ranks and no broadcasting mean equal shapes)."""
    return x.type.ndim == out.type.ndim and all(xs != 1 or os == 1
                                                for xs, os in zip(x.type.shape, out.type.shape, strict=True))


def _at_least_as_specific(x: Variable, out: Variable) -> bool:
    return all(os is None or xs == os for xs, os in zip(x.type.shape, out.type.shape, strict=True))


@function_rule("shape_of_elemwise", roots=(Shape,),
               identity="shape(f(x, y, ...)) = shape(x) for an elementwise f and an input x of the output's shape")
def shape_of_elemwise(var: Variable, ctx) -> Variable | None:
    """The shape of an elementwise result is the shape of an input that does not broadcast."""
    (v,) = var.owner.inputs
    node = v.owner
    if node is None or not isinstance(node.op, Elemwise | Composite) or None not in v.type.shape:
        return None
    for x in node.inputs:
        if _has_full_shape(x, v) and _at_least_as_specific(x, v):
            return shape_of(x)
    return None


@function_rule("shape_of_alloc", roots=(Shape,), identity="shape(alloc(v, s)) = s")
def shape_of_alloc(var: Variable, ctx) -> Variable | None:
    """The shape of an alloc is its shape argument."""
    (v,) = var.owner.inputs
    node = v.owner
    if node is None or not isinstance(node.op, Alloc):
        return None
    shape = node.inputs[1]
    return shape if shape.type == var.type else None


@function_rule("elemwise_alloc", roots=tuple(SCALAR_OPS),
               identity="f(alloc(v, shape(y)), y) = f(v, y): broadcasting does the alloc's work")
def elemwise_alloc(var: Variable, ctx) -> Variable | None:
    """An alloc feeding an elementwise op whose shape another input already fixes is replaced by its value."""
    node = var.owner
    ins = list(node.inputs)
    allocs = [i for i, x in enumerate(ins) if x.owner is not None and isinstance(x.owner.op, Alloc)]
    if not allocs:
        return None
    full = {j for j, x in enumerate(ins) if _has_full_shape(x, var)}  # once: linear in a long variadic op
    changed = False
    for i in allocs:
        if len(full) > (i in full):  # another operand (possibly an alloc kept so far) still fixes the shape
            ins[i] = ins[i].owner.inputs[0]
            changed = True
            if not _has_full_shape(ins[i], var):
                full.discard(i)
    if not changed:
        return None
    new = node.op(*ins)
    return new if new.type.is_refinement_of(var.type) and new.type.ndim == var.type.ndim else None


_UNARY = tuple(name for name, row in SCALAR_OPS.items() if row.nin == 1)


@function_rule("unary_into_alloc", roots=_UNARY, identity="f(alloc(v, s)) = alloc(f(v), s) for a unary elementwise f")
def unary_into_alloc(var: Variable, ctx) -> Variable | None:
    """A unary elementwise op applies to the (smaller) value of an alloc, before it is broadcast."""
    (x,) = var.owner.inputs
    if x.owner is None or not isinstance(x.owner.op, Alloc):
        return None
    value, shape = x.owner.inputs
    new = Alloc()(var.owner.op(value), shape)
    return new if new.type == var.type else None


@function_rule("elemwise_into_alloc", roots=tuple(SCALAR_OPS),
               identity="f(alloc(a, s), alloc(b, s), c) = alloc(f(a, b, c), s) when no other operand has the "
                        "full shape")
def elemwise_into_alloc(var: Variable, ctx) -> Variable | None:
    """An elementwise op whose shape comes only from allocs of one shape ``s`` applies to the allocs' values, and
    the result is allocated once, so the alloc moves towards a consumer whose other operand fixes the shape.

    Every operand that is not an alloc of ``s`` must lack the full shape: it broadcasts to it, so ``f`` of the
    values broadcasts to ``s`` too, and the alloc still gives the result its shape.
    """
    node = var.owner
    shape = _full_alloc_shape(node.inputs, var)
    if shape is None:
        return None
    ins = [x.owner.inputs[0] if _is_alloc_of(x, shape) else x for x in node.inputs]
    if any(_has_full_shape(x, var) for x in ins):
        return None
    value = node.op(*ins)
    if value.type.ndim > var.type.ndim:
        return None
    new = Alloc()(value, shape)
    return new if new.type.is_refinement_of(var.type) and new.type.ndim == var.type.ndim else None


def _is_alloc_of(x: Variable, shape: Variable) -> bool:
    return x.owner is not None and isinstance(x.owner.op, Alloc) and x.owner.inputs[1] is shape


def _full_alloc_shape(inputs, out: Variable) -> Variable | None:
    """The shape argument of the first alloc operand that has ``out``'s full shape, or None."""
    for x in inputs:
        if x.owner is not None and isinstance(x.owner.op, Alloc) and _has_full_shape(x, out):
            return x.owner.inputs[1]
    return None


@function_rule("elemwise_scalar_constant", roots=tuple(SCALAR_OPS),
               identity="f([[c]], y) = f(c, y): a length-1 constant operand becomes 0-d")
def elemwise_scalar_constant(var: Variable, ctx) -> Variable | None:
    """Constant operands whose lengths are all 1 (left by folding broadcast constants) become 0-d when another
    operand has the output's shape."""
    node = var.owner
    ins = list(node.inputs)
    picks = [i for i, x in enumerate(ins) if isinstance(x, Constant) and x.type.ndim and all(
        s == 1 for s in x.type.shape)]
    full = {j for j, x in enumerate(ins) if _has_full_shape(x, var)}  # once: linear in a long variadic op
    picks = [i for i in picks if len(full) > (i in full)]  # another operand has the output's shape
    if not picks:
        return None
    for i in picks:
        ins[i] = constant(ins[i].data.reshape(()))
    new = node.op(*ins)
    return new if new.type == var.type else None


RULES = register("canonicalize", RuleSet("broadcast", [
    shape_of_elemwise, shape_of_alloc, elemwise_alloc, unary_into_alloc, elemwise_into_alloc,
    elemwise_scalar_constant]))
