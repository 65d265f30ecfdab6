"""Useless operations removed (canonicalize phase): x * 1, x + 0, identity reshapes, casts to the same dtype ...

Each rule returns its operand typed exactly like the node it replaces: ``x * 1`` with ``x`` of dtype int8
and a float64 ``1`` becomes ``cast(x, "float64")``, and a ``1`` that broadcasts ``x`` to a larger shape
becomes ``alloc(x, shape)`` (see :func:`graphwright.rules.helpers.conform`).
"""

from __future__ import annotations

from graphwright.facts import has
from graphwright.graph.basic import Variable
from graphwright.rewrite import P, Rule, RuleSet, function_rule, register
from graphwright.rewrite import ops as o
from graphwright.rules.helpers import conform, constant_equal, is_shape_of, keep_operand
from graphwright.tensor.creation import Alloc
from graphwright.tensor.indexing import IncSubtensor
from graphwright.tensor.join import Join
from graphwright.tensor.shape import DimShuffle, Reshape
from graphwright.tensor.type import DTYPES

__all__ = ["RULES"]

x = P.var("x")
one, zero = constant_equal("one", 1.0), constant_equal("zero", 0.0)


@function_rule("reshape_identity", roots=(Reshape,), identity="reshape(x, shape(x)) = x")
def reshape_identity(var: Variable, ctx) -> Variable | None:
    """reshape(x, s) = x when s is x's own shape (its static shape, or shape_of(x) entries), and any
    reshape of a vector to a vector."""
    x_, shape = var.owner.inputs
    if x_.type.ndim != var.type.ndim:
        return None
    static_same = None not in x_.type.shape and var.type.shape == x_.type.shape
    vector_to_vector = var.type.ndim == 1 and var.type.shape[0] in (None, x_.type.shape[0])
    return x_ if static_same or vector_to_vector or is_shape_of(shape, x_) else None


@function_rule("dimshuffle_identity", roots=(DimShuffle,), identity="dimshuffle(x, (0, 1, ..)) = x")
def dimshuffle_identity(var: Variable, ctx) -> Variable | None:
    """A dimshuffle that keeps the order of the dimensions and the static shape is x itself (it may drop
    and insert length-1 axes at the same places)."""
    x_ = var.owner.inputs[0]
    kept = [d for d in var.owner.op.new_order if d != "x"]
    return x_ if kept == sorted(kept) and var.type == x_.type else None


@function_rule("cast_same", roots=tuple(f"cast_{d}" for d in DTYPES), identity="cast(x, x.dtype) = x")
def cast_same(var: Variable, ctx) -> Variable | None:
    """cast(x, dtype) = x when x already has that dtype."""
    x_ = var.owner.inputs[0]
    return x_ if x_.type.dtype == var.type.dtype else None


@function_rule("alloc_identity", roots=(Alloc,), identity="alloc(x, shape(x)) = x")
def alloc_identity(var: Variable, ctx) -> Variable | None:
    """alloc(x, s) = x when s is x's own shape (x is then already of that shape and dtype)."""
    value, shape = var.owner.inputs
    if value.type.ndim != var.type.ndim:
        return None
    static_same = None not in value.type.shape and value.type == var.type
    return value if static_same or is_shape_of(shape, value) else None


@function_rule("inc_subtensor_zero", roots=(IncSubtensor,), identity="inc_subtensor(x[idx], 0) = x")
def inc_subtensor_zero(var: Variable, ctx) -> Variable | None:
    """Adding zeros to a region of x leaves x, when x is never -0.0 (-0.0 + 0.0 is +0.0)."""
    op = var.owner.op
    x_, y = var.owner.inputs[:2]
    return x_ if op.mode == "inc" and has("zeros", y) and has("no_negative_zero", x_) else None


@function_rule("join_single", roots=(Join,), identity="concatenate([x]) = x")
def join_single(var: Variable, ctx) -> Variable | None:
    """Concatenating one tensor gives that tensor."""
    ins = var.owner.inputs
    return conform(ins[0], var.type, ins) if len(ins) == 1 else None


RULES = register("canonicalize", RuleSet("useless", [
    Rule("mul_one", x * one, keep_operand("mul", "x", "one"), identity="x * 1 = x"),
    Rule("add_zero", x + zero, keep_operand("add", "x", "zero"), identity="x + 0 = x"),
    Rule("sub_zero", x - zero, keep_operand("sub", "x", "zero"), identity="x - 0 = x"),
    Rule("div_one", x / one, keep_operand("true_div", "x", "one"), identity="x / 1 = x"),
    Rule("pow_one", x ** one, keep_operand("pow", "x", "one"), identity="x ** 1 = x"),
    Rule("double_neg", o.neg(o.neg(x)), x, identity="-(-x) = x"),
    Rule("max_same", o.maximum(x, x), x, identity="maximum(x, x) = x"),
    Rule("min_same", o.minimum(x, x), x, identity="minimum(x, x) = x"),
    reshape_identity, dimshuffle_identity, cast_same, alloc_identity, inc_subtensor_zero, join_single,
]))
