"""Specialize rules for sums: move scalar factors and negations out of a sum (``sum(a * X) -> a * sum(X)``).

A scalar here is a variable whose every dimension is statically 1 (or a 0-d one) and that has no more
dimensions than the other operand: it then broadcasts the same way everywhere, so it may be multiplied in after
the reduction instead of before. The rules keep the dtype exactly; they leave integer sums whose elements would
be computed in a narrower dtype (and so wrap around differently) alone.
"""

from __future__ import annotations

from graphwright.graph.basic import Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.rules.specialize import fit, is_float, operands
from graphwright.tensor import elemwise as ew
from graphwright.tensor.reduce import Reduce, reduce_dtype
from graphwright.tensor.shape import dimshuffle

__all__ = ["RULES"]


def _sum_parts(var: Variable) -> tuple[Reduce, Variable] | None:
    """(op, input) of a sum node whose input's dtype the sum keeps (floats, int64), else None."""
    op = var.owner.op
    if op.kind != "sum":
        return None
    x = var.owner.inputs[0]
    if reduce_dtype("sum", x.type.dtype) != x.type.dtype:
        return None
    return op, x


def _is_scalar_for(a: Variable, other: Variable) -> bool:
    """``a`` broadcasts against ``other`` without changing its shape: every dimension static 1, no extra ones."""
    return all(s == 1 for s in a.type.shape) and a.type.ndim <= other.type.ndim


def _squeezed(a: Variable) -> Variable:
    return dimshuffle(a, ()) if a.type.ndim else a


def _resum(op: Reduce, x: Variable, dtype: str) -> Variable:
    return Reduce("sum", op.axis, op.keepdims)(ew.cast(x, dtype))


@function_rule("sum_of_scalar_mul", roots=(Reduce,),
               identity="sum(a * X, axis) = a * sum(X, axis) for a scalar a (every dimension statically 1)")
def sum_of_scalar_mul(var: Variable, ctx) -> Variable | None:
    parts = _sum_parts(var)
    if parts is None:
        return None
    op, prod = parts
    ins = operands(prod, "mul")
    out = prod.type.dtype
    if ins is None or (len(ins) > 2 and any(v.type.dtype != out for v in ins)):
        return None  # regrouping a mixed-dtype product could change where integers wrap
    # the rank of the product of the other operands, without building it for every candidate (a product of
    # k operands would cost k products of k - 1)
    ranks = sorted((v.type.ndim for v in ins), reverse=True)
    for i, a in enumerate(ins):
        rest_rank = ranks[1] if a.type.ndim == ranks[0] else ranks[0]
        if all(s == 1 for s in a.type.shape) and a.type.ndim <= rest_rank:
            rest = ins[:i] + ins[i + 1:]
            x = rest[0] if len(rest) == 1 else ew.mul(*rest)
            if _is_scalar_for(a, x):
                return fit(var, ew.mul(_squeezed(a), _resum(op, x, out)))
    return None


@function_rule("sum_of_scalar_div", roots=(Reduce,),
               identity="sum(X / a, axis) = sum(X, axis) / a for a scalar a (every dimension statically 1)")
def sum_of_scalar_div(var: Variable, ctx) -> Variable | None:
    parts = _sum_parts(var)
    if parts is None:
        return None
    op, quotient = parts
    ins = operands(quotient, "true_div")
    if ins is None or not is_float(quotient.type.dtype) or not _is_scalar_for(ins[1], ins[0]):
        return None
    return fit(var, ew.true_div(_resum(op, ins[0], quotient.type.dtype), _squeezed(ins[1])))


@function_rule("sum_of_neg", roots=(Reduce,), identity="sum(-X, axis) = -sum(X, axis)")
def sum_of_neg(var: Variable, ctx) -> Variable | None:
    parts = _sum_parts(var)
    ins = None if parts is None else operands(parts[1], "neg")
    if ins is None or ins[0].type.dtype != parts[1].type.dtype:
        return None
    return fit(var, ew.neg(_resum(parts[0], ins[0], ins[0].type.dtype)))


RULES = register("specialize", RuleSet("specialize", [sum_of_scalar_mul, sum_of_scalar_div, sum_of_neg]))
