"""Stabilize: the error function, hyperbolic, inverse hyperbolic and trigonometric forms.

``1 - erf(x)`` loses every digit once ``erf(x)`` rounds to 1 (x > 6); ``(exp(x) + exp(-x)) / 2`` overflows
where ``cosh`` does not; ``log(x + sqrt(x**2 + 1))`` cancels to ``log(0)`` for large negative x. Each rule
replaces such a form by the library function that computes it directly, or by an equivalent expression that
is finite and accurate over the whole domain.

Examples
--------
>>> import graphwright as gw
>>> x = gw.vector("x")
>>> gw.rewrite(1 - gw.erf(x), phases="stabilize")[0].outputs[0]
erfc(x)
"""

from __future__ import annotations

import math
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.rewrite import P, Rule, RuleSet, function_rule, register
from graphwright.rewrite import ops as o
from graphwright.rewrite.pattern import constant_value
from graphwright.rules.stabilize import any_of, is_float, square_base
from graphwright.tensor import elemwise as ew
from graphwright.tensor.elemwise import is_elemwise

__all__ = ["RULES", "hypot_chain"]

x, y = P.var("x"), P.var("y")
LOG2 = math.log(2.0)


def _log_erfc(b: dict) -> Variable:
    """log(erfc(x)) for every x: log(erfcx(x)) - x**2 where erfc underflows (x > 0), log1p(erf(-x)) else."""
    v = b["x"]
    pos, neg = ew.maximum(v, 0), ew.minimum(v, 0)  # each branch sees a harmless value where it is not used
    return ew.switch(v > 0, ew.log(ew.erfcx(pos)) - pos * pos, ew.log1p(ew.erf(-neg)))


def _log_cosh(b: dict) -> Variable:
    """log(cosh(x)) without overflow: |x| + softplus(-2|x|) - log 2, and log1p(2 sinh(x/2)**2) for |x| < 1
    where the first form cancels."""
    ax = ew.abs(b["x"])
    small = ew.log1p(2 * ew.sqr(ew.sinh(0.5 * ew.minimum(ax, 1))))
    return ew.switch(ax < 1, small, ax + ew.softplus(-2 * ax) - LOG2)


def _squares(v: Variable) -> list[Any] | None:
    """The hypot arguments of a sum of squares (``x**2 + y**2 + 4`` -> [x, y, 2.0]), or None."""
    if not is_elemwise(v, "add"):
        return None
    args: list[Any] = []
    for term in v.owner.inputs:
        base = square_base(term)
        c = constant_value(term)
        if base is not None:
            args.append(base)
        elif c is not None and c >= 0 and term.type.ndim == 0:
            args.append(math.sqrt(c))
        else:
            return None
    if not any(isinstance(a, Variable) for a in args):
        return None
    args.sort(key=lambda a: not isinstance(a, Variable))  # a variable first: hypot needs one operand
    return args


def hypot_chain(v: Variable) -> Variable | None:
    """``hypot(hypot(x, y), z)`` for ``v = x**2 + y**2 + z**2`` (floats only), else None."""
    args = _squares(v) if is_float(v) else None
    if args is None:
        return None
    out = args[0]
    for arg in args[1:]:
        out = ew.hypot(out, arg)
    return out


@function_rule("hypot", roots=("sqrt",), identity="sqrt(x**2 + y**2) = hypot(x, y)")
def _hypot(var: Variable, ctx: Any) -> Variable | None:
    """sqrt of a sum of squares (and non-negative constants) -> nested hypot: no overflow or underflow in
    the squares."""
    return hypot_chain(var.owner.inputs[0])


@function_rule("log_sum_squares", roots=("log",), identity="log(x**2 + y**2) = 2 * log(hypot(x, y))")
def _log_sum_squares(var: Variable, ctx: Any) -> Variable | None:
    """log of a sum of squares -> twice the log of their hypot (the squares overflow at 1e155)."""
    h = hypot_chain(var.owner.inputs[0])
    return None if h is None else 2 * ew.log(h)


def _square_forms(pattern_of):
    """The same pattern with the square written ``x**2``, ``sqr(x)`` and ``x * x``."""
    return [pattern_of(x**2), pattern_of(o.sqr(x)), pattern_of(x * x)]


_ASINH = [o.log(x + o.hypot(x, 1))] + _square_forms(lambda sq: o.log(x + o.sqrt(sq + 1)))
_ACOSH = _square_forms(lambda sq: o.log(x + o.sqrt(sq - 1))) + _square_forms(lambda sq: o.log(x + o.sqrt(sq + -1)))
_ATANH = [0.5 * o.log((1 + x) / (1 - x)), o.log((1 + x) / (1 - x)) / 2]

RULES = register("stabilize", RuleSet("stabilize_special", [
    # the error function
    Rule("erfc", 1 - o.erf(x), o.erfc(x), identity="1 - erf(x) = erfc(x)"),
    any_of("erfc_neg", [(1 + o.erf(-x), o.erfc(x)), (1 + o.erf(x), o.erfc(-x))], "1 + erf(x) = erfc(-x)"),
    any_of("erf_from_erfc", [(1 - o.erfc(x), o.erf(x)), (o.erfc(x) - 1, -o.erf(x)), (o.erfc(x) + -1, -o.erf(x))],
           "1 - erfc(x) = erf(x)"),
    any_of("erf_minus_one", [(o.erf(x) - 1, -o.erfc(x)), (o.erf(x) + -1, -o.erfc(x))], "erf(x) - 1 = -erfc(x)"),
    any_of("log_erfc", [(o.log(o.erfc(x)), _log_erfc), (o.log1p(-o.erf(x)), _log_erfc)],
           "log(erfc(x)) = log(erfcx(x)) - x**2 (x > 0), log1p(erf(-x)) (x <= 0)"),
    # hyperbolic functions from exponentials
    any_of("sinh", [((o.exp(x) - o.exp(-x)) / 2, o.sinh(x)), (0.5 * (o.exp(x) - o.exp(-x)), o.sinh(x))],
           "(exp(x) - exp(-x)) / 2 = sinh(x)"),
    any_of("cosh", [((o.exp(x) + o.exp(-x)) / 2, o.cosh(x)), (0.5 * (o.exp(x) + o.exp(-x)), o.cosh(x))],
           "(exp(x) + exp(-x)) / 2 = cosh(x)"),
    any_of("tanh", [(o.expm1(2 * x) / (o.exp(2 * x) + 1), o.tanh(x)),
                    (-o.expm1(-2 * x) / (1 + o.exp(-2 * x)), o.tanh(x)),
                    ((o.exp(x) - o.exp(-x)) / (o.exp(x) + o.exp(-x)), o.tanh(x)),
                    (o.expm1(x) / (o.exp(x) + 1), o.tanh(0.5 * x))],
           "(exp(2x) - 1) / (exp(2x) + 1) = tanh(x)"),
    any_of("tanh_complement", [(1 - o.tanh(x), 2 * o.sigmoid(-2 * x)), (1 + o.tanh(x), 2 * o.sigmoid(2 * x))],
           "1 - tanh(x) = 2 * sigmoid(-2x); 1 + tanh(x) = 2 * sigmoid(2x)"),
    any_of("sech_squared", [(1 - o.tanh(x) ** 2, 4 * o.sigmoid(2 * x) * o.sigmoid(-2 * x)),
                            (1 - o.sqr(o.tanh(x)), 4 * o.sigmoid(2 * x) * o.sigmoid(-2 * x))],
           "1 - tanh(x)**2 = 4 * sigmoid(2x) * sigmoid(-2x)"),
    # logarithms of hyperbolic functions
    Rule("log_cosh", o.log(o.cosh(x)), _log_cosh,
         identity="log(cosh(x)) = |x| + softplus(-2|x|) - log(2) (log1p(2 sinh(x/2)**2) for |x| < 1)"),
    Rule("log_sinh", o.log(o.sinh(x)), x + o.log1mexp(-2 * x) - LOG2,
         identity="log(sinh(x)) = x + log1mexp(-2x) - log(2)"),
    # inverse hyperbolic functions
    any_of("arcsinh", [(p, o.arcsinh(x)) for p in _ASINH], "log(x + sqrt(x**2 + 1)) = arcsinh(x)"),
    any_of("arccosh", [(p, o.arccosh(x)) for p in _ACOSH], "log(x + sqrt(x**2 - 1)) = arccosh(x)"),
    any_of("arctanh", [(p, o.arctanh(x)) for p in _ATANH], "0.5 * log((1 + x) / (1 - x)) = arctanh(x)"),
    # trigonometric cancellation
    any_of("one_minus_cos", [(1 - o.cos(x), 2 * o.sqr(o.sin(0.5 * x))), (1 + -o.cos(x), 2 * o.sqr(o.sin(0.5 * x)))],
           "1 - cos(x) = 2 * sin(x / 2)**2"),
    any_of("cos_minus_one", [(o.cos(x) - 1, -2 * o.sqr(o.sin(0.5 * x))), (o.cos(x) + -1, -2 * o.sqr(o.sin(0.5 * x)))],
           "cos(x) - 1 = -2 * sin(x / 2)**2"),
    # sums of squares
    _hypot,
    _log_sum_squares,
], tags=["stability"]))
