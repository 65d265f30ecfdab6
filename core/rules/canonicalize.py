"""Canonicalize: algebraic normal forms (flattened add/mul, combined constants, cancellations, casts).

Canonical forms make later patterns match: ``add(add(a, 1), b)`` is flattened to ``add(a, 1, b)`` (when
the inner sum has no other client) so that the stabilize pattern ``log(1 + x)`` matches it. Rules that
only remove an operation are in :mod:`graphwright.rules.useless`, constant folding is in
:mod:`graphwright.rules.folding`, and structural rewrites (transposes, indexing, reductions, dot) are in
:mod:`graphwright.rules.lifting`.
"""

from __future__ import annotations

import math

import numpy as np

from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite import P, Rule, RuleSet, function_rule, register
from graphwright.rewrite import ops as o
from graphwright.rules.helpers import MAX_FOLD_SIZE, conform, scalar_name, single_client
from graphwright.tensor import elemwise as ew
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.tensor.type import DTYPES
from graphwright.tensor.variable import constant

__all__ = ["RULES", "exact_cast"]

x, y = P.var("x"), P.var("y")
xf = P.var("x", "float")


# --- flattening and constants in variadic add / mul ------------------------------------------------------
def _same_dtype_node(v: Variable, name: str, dtype: str) -> bool:
    """``v`` is computed by the elementwise ``name`` on operands of ``dtype`` alone (and is of ``dtype``)."""
    return scalar_name(v) == name and v.type.dtype == dtype and all(u.type.dtype == dtype for u in v.owner.inputs)


def _splice(var: Variable, name: str, ctx) -> list[Variable] | None:
    """Operands of ``var`` with every same-op, same-dtype, single-client input spliced in, recursively (a
    whole chain ``((a + b) + c) + d`` at once), or None if no input is spliceable.

    A spliceable operand in position 0 or 1 is put first, which keeps the pairwise evaluation order of the
    original exactly (``c * (a * b)`` and ``(a * b) * c`` are the same float). Linear in the size of the
    chain (an explicit stack: chains of any depth).
    """
    dtype = var.type.dtype
    if not _same_dtype_node(var, name, dtype):
        return None

    def spliceable(v: Variable) -> bool:
        return _same_dtype_node(v, name, dtype) and single_client(ctx, v)

    def operands(v: Variable) -> list[tuple[Variable, bool]]:
        ins = [(u, spliceable(u)) for u in v.owner.inputs]
        if ins[1][1] and not ins[0][1]:
            ins[0], ins[1] = ins[1], ins[0]
        return ins

    top = operands(var)
    if not any(flag for _, flag in top):
        return None
    out: list[Variable] = []
    stack = [top[::-1]]  # each entry: the operands still to emit of one spliced node, last one first
    while stack:
        pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        v, flag = pending.pop()
        if flag:
            stack.append(operands(v)[::-1])
        else:
            out.append(v)
    return out


def _spliced_by_client(var: Variable, name: str, ctx) -> bool:
    """Whether ``var``'s only client is a ``name`` node that will splice it: then that client flattens the
    whole chain in one step, and flattening ``var`` first (once per link of the chain, each step copying
    the growing operand list) would make a chain of n links cost n steps and n**2 time."""
    sole = getattr(ctx, "sole_client", None)
    client = sole(var) if sole is not None else None
    if client is None or len(client.outputs) != 1:
        return False
    dtype = var.type.dtype
    return _same_dtype_node(client.outputs[0], name, dtype) and _same_dtype_node(var, name, dtype)


def _flatten_rule(name: str, sym: str) -> Rule:
    @function_rule(f"{name}_flatten", roots=(name,),
                   identity=f"(a {sym} b) {sym} c = {name}(a, b, c) (the inner {name} has no other client)")
    def flatten(var: Variable, ctx) -> Variable | None:
        if _spliced_by_client(var, name, ctx):
            return None
        ins = _splice(var, name, ctx)
        return None if ins is None else ew.elemwise(name, *ins)

    return flatten


def _combine_rule(name: str, sym: str) -> Rule:
    @function_rule(f"{name}_constants", roots=(name,),
                   identity=f"{name}(c1, x, c2) = {name}(x, c1 {sym} c2) for constants c1, c2")
    def combine(var: Variable, ctx) -> Variable | None:
        ins = var.owner.inputs
        consts = [v for v in ins if isinstance(v, Constant)]
        others = [v for v in ins if not isinstance(v, Constant)]
        dtype = var.type.dtype
        if len(consts) < 2 or not others or any(v.type.dtype != dtype for v in ins):
            return None
        shape = np.broadcast_shapes(*(c.type.shape for c in consts))
        if math.prod(shape) > MAX_FOLD_SIZE:
            return None
        with np.errstate(all="ignore"):
            value = Elemwise(SCALAR_OPS[name]).perform(*(c.data for c in consts))
        return conform(ew.elemwise(name, *others, constant(value)), var.type, others)

    return combine


# --- cancellations -------------------------------------------------------------------------------------
def _factors(v: Variable) -> list[Variable]:
    return list(v.owner.inputs) if scalar_name(v) == "mul" else [v]


def _product(factors: list[Variable]) -> Variable | None:
    if not factors:
        return None
    return factors[0] if len(factors) == 1 else ew.mul(*factors)


def _cancel_common(top: list[Variable], bottom: list[Variable]) -> tuple[list[Variable], list[Variable]]:
    """``top`` and ``bottom`` less their common factors (each factor of ``top`` cancels the first unused
    occurrence of the same variable in ``bottom``); linear in their lengths, order kept."""
    available: dict[int, int] = {}
    for g in bottom:
        available[id(g)] = available.get(id(g), 0) + 1
    kept, cancelled = [], {}
    for f in top:
        if available.get(id(f), 0):
            available[id(f)] -= 1
            cancelled[id(f)] = cancelled.get(id(f), 0) + 1
        else:
            kept.append(f)
    rest = []
    for g in bottom:
        if cancelled.get(id(g), 0):
            cancelled[id(g)] -= 1
        else:
            rest.append(g)
    return kept, rest


@function_rule("mul_div_cancel", roots=("true_div",), identity="(x * y) / (x * z) = y / z  (x * y / x = y)")
def mul_div_cancel(var: Variable, ctx) -> Variable | None:
    """Factors common to the numerator and the denominator cancel (float operands only)."""
    num, den = var.owner.inputs
    top, bottom = _factors(num), _factors(den)
    if any(f.type.dtype != var.type.dtype for f in top + bottom):
        return None
    kept, rest = _cancel_common(top, bottom)
    if len(rest) == len(bottom) or not (kept or rest):
        return None
    upper, lower = _product(kept), _product(rest)
    new = upper if lower is None else ew.true_div(1 if upper is None else upper, lower)
    return conform(new, var.type, top + bottom)


def _negates_alike(operand: Variable, result: Variable) -> bool:
    """Whether a negation may move between ``operand`` and ``result``: integer negation wraps around (``-(-128)``
    is -128 in int8), so in integers it may move only within one dtype; a float negation is exact anywhere."""
    dtype = operand.type.dtype
    return dtype == result.type.dtype or np.dtype(dtype).kind == "f"


@function_rule("neg_mul_const", roots=("neg",), identity="-(c * x) = (-c) * x for a constant c")
def neg_mul_const(var: Variable, ctx) -> Variable | None:
    """The negation of a product with a constant factor goes into the constant."""
    inner = var.owner.inputs[0]
    if scalar_name(inner) != "mul":
        return None
    ins = list(inner.owner.inputs)
    k = next((k for k, v in enumerate(ins) if isinstance(v, Constant) and _negates_alike(v, var)), None)
    if k is None:
        return None
    ins[k] = constant(np.negative(ins[k].data))
    return ew.mul(*ins)


@function_rule("mul_neg_const", roots=("mul",), identity="(-x) * c = x * (-c) for a constant c")
def mul_neg_const(var: Variable, ctx) -> Variable | None:
    """A negated factor next to a constant factor: the negation goes into the constant."""
    ins = list(var.owner.inputs)
    k = next((k for k, v in enumerate(ins) if isinstance(v, Constant) and v.type.dtype != "bool"
              and _negates_alike(v, var)), None)
    j = next((j for j, v in enumerate(ins) if scalar_name(v) == "neg" and _negates_alike(v, var)), None)
    if k is None or j is None:
        return None
    ins[k] = constant(np.negative(ins[k].data))
    ins[j] = ins[j].owner.inputs[0]
    return ew.mul(*ins)


@function_rule("mul_neg_neg", roots=("mul",), identity="(-x) * (-y) = x * y")
def mul_neg_neg(var: Variable, ctx) -> Variable | None:
    """Negated factors cancel in pairs."""
    ins = list(var.owner.inputs)
    negs = [k for k, v in enumerate(ins) if scalar_name(v) == "neg" and _negates_alike(v, var)]
    if len(negs) < 2:
        return None
    for k in negs[: len(negs) // 2 * 2]:
        ins[k] = ins[k].owner.inputs[0]
    return ew.mul(*ins)


@function_rule("switch_const_cond", roots=("switch",), identity="switch(True, a, b) = a; switch(False, a, b) = b")
def switch_const_cond(var: Variable, ctx) -> Variable | None:
    """A switch on a constant condition that is all true (all false) is its first (second) branch."""
    cond, a, b = var.owner.inputs
    if not isinstance(cond, Constant) or cond.data.size == 0:
        return None
    chosen = a if np.all(cond.data) else b if not np.any(cond.data) else None
    return None if chosen is None else conform(chosen, var.type, (cond, a, b))


# --- casts ---------------------------------------------------------------------------------------------
_MANTISSA = {"float32": 24, "float64": 53}
_INT_BITS = {"int8": 8, "uint8": 8, "int16": 16, "int32": 32, "int64": 64}


def exact_cast(src: str, dst: str) -> bool:
    """True when every value of dtype ``src`` is represented exactly in ``dst``.

    Examples
    --------
    >>> exact_cast("int8", "int32"), exact_cast("int32", "float64"), exact_cast("float64", "float32")
    (True, True, False)
    """
    if src == dst or src == "bool":
        return True
    s, d = np.dtype(src), np.dtype(dst)
    if d.kind == "b":
        return False
    if s.kind in "iu" and d.kind in "iu":
        return bool(np.can_cast(s, d, "safe"))
    if s.kind in "iu":
        return _INT_BITS[src] <= _MANTISSA[dst]
    return d.kind == "f" and s.itemsize <= d.itemsize


def _family(dtype: str) -> str:
    return "f" if np.dtype(dtype).kind == "f" else "i"


@function_rule("cast_cast", roots=tuple(f"cast_{d}" for d in DTYPES),
               identity="cast(cast(x, d1), d2) = cast(x, d2) when the first cast is exact")
def cast_cast(var: Variable, ctx) -> Variable | None:
    """Two casts collapse when the first keeps every value of x and converting to the second dtype does
    not depend on the source type (int8 -> int32 -> float64 = int8 -> float64; float64 -> float32 ->
    float64 is not exact and stays)."""
    inner = var.owner.inputs[0]
    name = scalar_name(inner)
    if name is None or not name.startswith("cast_"):
        return None
    src, mid, dst = inner.owner.inputs[0].type.dtype, inner.type.dtype, var.type.dtype
    if not exact_cast(src, mid) or not (exact_cast(src, dst) or _family(src) == _family(mid)):
        return None
    return ew.cast(inner.owner.inputs[0], dst)


def _log_exp(b) -> Variable:
    dtype = SCALAR_OPS["log"].output_dtype(SCALAR_OPS["exp"].output_dtype(b.x.type.dtype))
    return ew.cast(b.x, dtype)


RULES = register("canonicalize", RuleSet("canonicalize", [
    _flatten_rule("add", "+"), _flatten_rule("mul", "*"), _combine_rule("add", "+"), _combine_rule("mul", "*"),
    mul_div_cancel,
    Rule("sub_neg", x - (-y), x + y, identity="x - (-y) = x + y"),
    neg_mul_const, mul_neg_const, mul_neg_neg, switch_const_cond,
    Rule("log_exp", o.log(o.exp(x)), _log_exp, identity="log(exp(x)) = x"),
    Rule("sqrt_sqr", o.sqrt(o.sqr(xf)), abs(xf), identity="sqrt(sqr(x)) = abs(x) for float x"),
    Rule("sqrt_mul_self", o.sqrt(xf * xf), abs(xf), identity="sqrt(x * x) = abs(x) for float x"),
    cast_cast,
]))
