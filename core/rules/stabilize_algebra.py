"""Stabilize: products, powers, norms and differences that overflow or cancel.

``log(prod(x))`` overflows long before the sum of the logs does; ``sqrt(sum(x**2))`` overflows at 1e155;
``mean(x**2) - mean(x)**2`` cancels to noise when the mean is large; ``sqrt(x + 1) - sqrt(x)`` cancels to 0.
Splitting a logarithm is only exact where the factors cannot be negative, so the rules that split ask
:func:`graphwright.facts.has` for the fact "nonnegative" (or keep the sign separately).

Examples
--------
>>> import graphwright as gw
>>> x = gw.vector("x")
>>> gw.rewrite(gw.log(gw.prod(gw.exp(x))), phases="stabilize")[0].outputs[0]
sum(x, axis=0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphwright.facts import has
from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite import P, Rule, RuleSet, function_rule, register
from graphwright.rewrite import ops as o
from graphwright.rewrite.pattern import constant_value
from graphwright.rules.stabilize import any_of, is_float, square_base
from graphwright.tensor import elemwise as ew
from graphwright.tensor import reduce as red
from graphwright.tensor.elemwise import is_elemwise
from graphwright.tensor.linalg import Dot
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.shape import shape_of, squeeze

__all__ = ["RULES", "log_has_rule"]

x, y = P.var("x"), P.var("y")
xf = P.var("x", "float")
c = P.var("c", "constant", lambda v: constant_value(v) not in (None, 0.0))


def _reduce_of(var: Variable, kind: str) -> tuple[Variable, tuple[int, ...], bool] | None:
    """(input, axes, keepdims) when ``var`` is a ``kind`` reduction."""
    node = var.owner
    if node is None or not isinstance(node.op, Reduce) or node.op.kind != kind:
        return None
    return node.inputs[0], node.op.axis, node.op.keepdims


def _log_term(v: Variable) -> Variable:
    """log(v), with log(exp(z)) written z."""
    return v.owner.inputs[0] if is_elemwise(v, "exp") else ew.log(v)


@function_rule("log_prod", roots=("log",),
               identity="log(prod(x)) = sum(log(x)) for x >= 0, else sum(log|x|) + log(prod(sign(x)))")
def _log_prod(var: Variable, ctx: Any) -> Variable | None:
    """The log of a product is the sum of the logs (the product overflows or underflows first). Where x
    may be negative the sign is kept apart, so the result is NaN exactly where the naive one is."""
    found = _reduce_of(var.owner.inputs[0], "prod")
    if found is None or not is_float(var):
        return None
    v, axes, keep = found
    if is_elemwise(v, "exp") or has("nonnegative", v):
        return Reduce("sum", axes, keep)(_log_term(v))
    if is_elemwise(v, "sign"):
        return None
    magnitude = Reduce("sum", axes, keep)(ew.log(ew.abs(v)))
    return magnitude + ew.log(Reduce("prod", axes, keep)(ew.sign(v)))


@function_rule("log_pow", roots=("log",), identity="log(x**c) = c * log(x) (c * log|x| for an even c)")
def _log_pow(var: Variable, ctx: Any) -> Variable | None:
    """log of a power with a constant exponent (x**2, sqr(x), x * x included): the power overflows or
    underflows first. An even exponent makes x**c >= 0 for every x, so the log takes |x|."""
    arg = var.owner.inputs[0]
    base = square_base(arg)
    power = 2.0 if base is not None else None
    if base is None and is_elemwise(arg, "pow"):
        base, power = arg.owner.inputs[0], constant_value(arg.owner.inputs[1])
    if base is None or power is None or power == 0 or not is_float(var):
        return None
    even = power % 2 == 0
    inner = ew.log(ew.abs(base) if even and not has("nonnegative", base) else base)
    return (int(power) if power.is_integer() else power) * inner


def _split_ok(operands: list[Variable]) -> bool:
    """Splitting log(a * b) is exact when at most one operand may be negative (except that a product of
    -0.0 gives NaN instead of -inf); it is worth it when two operands are not constants (their product can
    overflow) or one is an exponential."""
    unknown = sum(not has("nonnegative", v) for v in operands)
    varying = sum(not isinstance(v, Constant) for v in operands)
    return unknown <= 1 and (varying >= 2 or any(is_elemwise(v, "exp") for v in operands))


# ops whose log has a stabilize rule: log(c * erfc(x)) is worth splitting into log(c) + log(erfc(x))
_LOG_FRIENDLY = frozenset(("erfc", "sigmoid", "cosh", "sinh", "expm1", "pow", "sqr"))


def _positive_scalar(v: Variable) -> float | None:
    """The value of a positive 0-d constant, else None."""
    return constant_value(v) if v.type.ndim == 0 and has("positive", v) else None


def log_has_rule(v: Variable) -> bool:
    """True when ``log(v)`` has a stabilize rule: a log-friendly elementwise op, or a sum of exponentials
    (logsumexp).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> log_has_rule(gw.sum(gw.exp(x))), log_has_rule(gw.sum(x))
    (True, False)
    """
    if v.owner is None:
        return False
    if any(is_elemwise(v, n) for n in _LOG_FRIENDLY):
        return True
    found = _reduce_of(v, "sum")
    return found is not None and is_elemwise(found[0], "exp")


def _constant_split(operands: list[Variable]) -> tuple[Variable, list[float]] | None:
    """(f, [log c...]) when the operands are one log-friendly factor f and positive scalar constants c."""
    consts = [_positive_scalar(v) for v in operands]
    rest = [v for v, k in zip(operands, consts, strict=True) if k is None]
    if len(rest) != 1 or not log_has_rule(rest[0]):
        return None
    return rest[0], [math.log(k) for k in consts if k is not None]


@function_rule("log_mul", roots=("log",), identity="log(x * y) = log(x) + log(y) for x, y >= 0 (one may be any)")
def _log_mul(var: Variable, ctx: Any) -> Variable | None:
    """log of a product -> sum of logs, when no sign can be lost (see :func:`_split_ok`); a positive constant
    factor is split off when the log of the other factor has a rule (log(0.5 * erfc(x)), the normal log-CDF)."""
    arg = var.owner.inputs[0]
    if not is_elemwise(arg, "mul") or not is_float(var):
        return None
    split = _constant_split(list(arg.owner.inputs))
    if split is not None:
        return ew.log(split[0]) + sum(split[1])
    if not _split_ok(list(arg.owner.inputs)):
        return None
    return ew.add(*(_log_term(f) for f in arg.owner.inputs))


@function_rule("log_div", roots=("log",), identity="log(x / y) = log(x) - log(y) for x, y >= 0 (one may be any)")
def _log_div(var: Variable, ctx: Any) -> Variable | None:
    """log of a quotient -> difference of logs (x / y overflows at 1e300 / 1e-300), when no sign is lost;
    also log(f / c) and log(c / f) for a positive constant c and an f whose log has a rule."""
    arg = var.owner.inputs[0]
    if not is_elemwise(arg, "true_div") or not is_float(var):
        return None
    num, den = arg.owner.inputs
    if _positive_scalar(den) is not None and _constant_split([num, den]) is not None:
        return ew.log(num) - math.log(_positive_scalar(den))
    if _positive_scalar(num) is not None and _constant_split([num, den]) is not None:
        return math.log(_positive_scalar(num)) - ew.log(den)
    if not _split_ok([num, den]):
        return None
    return _log_term(num) - _log_term(den)


def _count(v: Variable, axes: tuple[int, ...]) -> Any:
    """How many elements of ``v`` a reduction over ``axes`` combines, at least 1 (an int, or a float 0-d
    variable)."""
    lengths = [v.type.shape[a] for a in axes]
    if None not in lengths:
        return max(math.prod(lengths), 1)
    shape = shape_of(v)
    count = ew.mul(*[shape[a] for a in axes]) if len(axes) > 1 else shape[axes[0]]
    return ew.cast(ew.maximum(count, 1), v.type.dtype)


def scaled_norm(v: Variable, axes: tuple[int, ...], keep: bool) -> Variable:
    """``sqrt(sum(v**2, axes))`` computed as ``s * sqrt(sum((v / s)**2))`` with ``s`` the power of 2 nearest
    below the mean of ``|v|`` (1 where that is 0 or inf): no overflow at 1e200, no underflow at 1e-200, the
    naive result to the last bit where that one is finite, and an empty input still gives 0.

    Examples
    --------
    >>> import graphwright as gw
    >>> v = gw.vector("v")
    >>> float(scaled_norm(v, (0,), False).eval({v: [3e200, 4e200]}))  # correctly rounded (np.hypot agrees)
    4.9999999999999995e+200
    """
    m = Reduce("sum", axes, True)(ew.abs(v) / _count(v, axes))
    m = ew.switch(ew.and_(ew.gt(m, 0), ew.lt(m, np.inf)), m, 1)  # 1 for 0 (all zeros, empty), inf and NaN
    s = ew.exp2(ew.floor(ew.log2(m)))  # a power of 2: the divisions by s are exact
    total = Reduce("sum", axes, keep)(ew.sqr(v / s))
    # total ** 0.5, not sqrt(total): the result must not match the norm pattern again
    return ew.pow(total, 0.5) * (s if keep else squeeze(s, axes))


@function_rule("norm", roots=("sqrt",), identity="sqrt(sum(x**2)) = s * sqrt(sum((x / s)**2)), s = mean(|x|)")
def _norm(var: Variable, ctx: Any) -> Variable | None:
    """The Euclidean norm (also ``sqrt(dot(x, x))``) without overflow or underflow in the squares."""
    arg = var.owner.inputs[0]
    if not is_float(var) or arg.owner is None:
        return None
    found = _reduce_of(arg, "sum")
    if found is not None:
        v, axes, keep = found
        v = square_base(v)
    elif isinstance(arg.owner.op, Dot) and arg.owner.inputs[0] is arg.owner.inputs[1] and arg.type.ndim == 0:
        v, axes, keep = arg.owner.inputs[0], (0,), False
    else:
        return None
    return None if v is None or not is_float(v) else scaled_norm(v, axes, keep)


def _mean_parts(v: Variable) -> tuple[Variable, tuple[int, ...], bool, Variable] | None:
    """(x, axes, keepdims, n) for ``v = sum(x, axes, keepdims) / n``."""
    if not is_elemwise(v, "true_div"):
        return None
    total, n = v.owner.inputs
    found = _reduce_of(total, "sum")
    return None if found is None else (*found, n)


@function_rule("variance", roots=("sub",), identity="mean(x**2) - mean(x)**2 = mean((x - mean(x))**2)")
def _variance(var: Variable, ctx: Any) -> Variable | None:
    """The one-pass variance formula cancels catastrophically when |mean| >> std; the two-pass form does
    not. The two means must reduce the same axes and divide by the same count."""
    lhs, rhs = var.owner.inputs
    m = square_base(rhs)
    right = None if m is None else _mean_parts(m)
    left = _mean_parts(lhs)
    if right is None or left is None or not is_float(var):
        return None
    v, axes, keep, n = right
    sq, axes2, keep2, n2 = left
    if (axes2, keep2) != (axes, keep) or square_base(sq) is not v:
        return None
    same_count = n2 is n or (lhs is red.mean(sq, axes, keep) and m is red.mean(v, axes, keep))
    if not same_count:
        return None
    centred = v - Reduce("sum", axes, True)(v) / n
    return Reduce("sum", axes, keep)(ew.sqr(centred)) / n


def _sqrt_diff(b: dict) -> Variable:
    d = ew.sqrt(b["x"] + b["y"]) + ew.sqrt(b["x"])
    return ew.switch(ew.eq(d, 0), b["y"], b["y"] / d)  # d = 0 only where x = y = 0 (then so is the result)


def _exp_args(v: Variable) -> list[Variable]:
    return [f.owner.inputs[0] for f in v.owner.inputs if is_elemwise(f, "exp")]


@function_rule("exp_mul_exp", roots=("mul",), identity="exp(x) * exp(y) = exp(x + y)")
def _exp_mul_exp(var: Variable, ctx: Any) -> Variable | None:
    """Exponentials multiplied together become one exponential (exp(800) * exp(-800) is inf * 0)."""
    args = _exp_args(var)
    if len(args) < 2 or not is_float(var):
        return None
    rest = [f for f in var.owner.inputs if not is_elemwise(f, "exp")]
    merged = ew.exp(ew.add(*args))
    return ew.mul(merged, *rest) if rest else merged


RULES = register("stabilize", RuleSet("stabilize_algebra", [
    # logarithms of products, quotients and powers (log_pow before log_mul: x * x is a square)
    Rule("log_of_exp", o.log(o.exp(xf)), xf, identity="log(exp(x)) = x (for the forms other stabilize rules make)"),
    _log_prod, _log_pow, _log_mul, _log_div,
    # square roots
    Rule("sqrt_pow_square", o.sqrt(xf**2), abs(xf), identity="sqrt(x**2) = |x|"),
    _norm,
    Rule("sqrt_exp", o.sqrt(o.exp(x)), o.exp(0.5 * x), identity="sqrt(exp(x)) = exp(x / 2)"),
    # cancelling differences
    _variance,
    any_of("sqrt1pm1", [(o.sqrt(1 + x) - 1, x / (o.sqrt(1 + x) + 1)),
                        (o.sqrt(1 + x) + -1, x / (o.sqrt(1 + x) + 1))], "sqrt(1 + x) - 1 = x / (sqrt(1 + x) + 1)"),
    Rule("sqrt_diff", o.sqrt(x + y) - o.sqrt(x), _sqrt_diff,
         identity="sqrt(x + y) - sqrt(x) = y / (sqrt(x + y) + sqrt(x))"),
    # products of exponentials
    _exp_mul_exp,
    Rule("exp_div_exp", o.exp(x) / o.exp(y), o.exp(x - y), identity="exp(x) / exp(y) = exp(x - y)"),
    Rule("pow_exp", o.exp(x) ** c, o.exp(c * x), identity="exp(x)**c = exp(c * x) for a constant c"),
], tags=["stability"]))
