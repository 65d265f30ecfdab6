"""Stabilize: rewrite naive formulas that overflow, underflow or cancel into numerically stable forms.

This module holds the exp/log family (log1p, expm1, softplus, log1mexp, sigmoid, logaddexp, logsumexp, softmax)
and the helpers the other ``stabilize_*`` modules share. Rules run bottom-up, so an outer pattern sees its
inputs already rewritten: ``log(1 - exp(x))`` first becomes ``log(-expm1(x))``, which ``log1mexp`` matches.
Within a root op, more specific patterns come first (the first rule that matches wins).

Examples
--------
>>> import graphwright as gw
>>> x = gw.vector("x")
>>> gw.rewrite(gw.log(1 - gw.exp(x)), phases="stabilize")[0].outputs[0]
log1mexp(x)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from graphwright.facts.forms import is_float, square_base  # shared with the facts; re-exported here
from graphwright.graph.basic import Variable
from graphwright.rewrite import P, Rule, RuleSet, function_rule, register
from graphwright.rewrite import ops as o
from graphwright.rewrite.pattern import Mismatch, Pattern, build, constant_value, match, root_key, var_root_key
from graphwright.rewrite.rule import GuardRefused, guard_refusal, integer_negation
from graphwright.tensor import elemwise as ew
from graphwright.tensor import nn
from graphwright.tensor.elemwise import is_elemwise
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.reduce_special import LogSumExp
from graphwright.tensor.shape import DimShuffle

__all__ = ["RULES", "any_of", "square_base", "is_float"]

x, y, a, b, n = P.var("x"), P.var("y"), P.var("a"), P.var("b"), P.var("n")
AXIS, KEEP = P.param("axis"), P.param("keepdims")


# ---------------------------------------------------------------------------------------------- helpers
def any_of(name: str, pairs: Sequence[tuple[Pattern, Any]], identity: str,
           when: Callable[[dict], bool] | None = None) -> Rule:
    """A rule trying several ``(pattern, replacement)`` forms of one identity in order; the first match wins.

    A replacement is a pattern or a function of the bindings (returning None to decline).

    Examples
    --------
    >>> import graphwright as gw
    >>> rule = any_of("demo", [(o.exp(x) - 1, o.expm1(x)), (o.exp(x) + -1, o.expm1(x))], "exp(x) - 1 = expm1(x)")
    >>> rule.apply(gw.exp(gw.vector("v")) + -1, None)
    expm1(v)
    """
    keyed = [(root_key(p), p, r) for p, r in pairs]
    roots = tuple(dict.fromkeys(k for k, _, _ in keyed))

    def fn(var: Variable, ctx: Any) -> Variable | GuardRefused | None:
        key = var_root_key(var)
        for root, pattern, replacement in keyed:
            if root is not None and root != key:
                continue
            bindings = match(pattern, var)
            if isinstance(bindings, Mismatch):
                continue
            if when is not None and not when(bindings):
                return guard_refusal(name, when, bindings)
            why = integer_negation(pattern, replacement, bindings, var)
            if why:
                return GuardRefused(f"{name}: {why}")
            return build(replacement, bindings) if isinstance(replacement, Pattern) else replacement(bindings)
        return None

    return Rule(name, fn=fn, roots=roots, identity=identity)


# ------------------------------------------------------------------------------------- function rules
@function_rule("logaddexp", roots=("log",),
               identity="log(exp(a) + exp(b) + ...) = logaddexp(logaddexp(a, b), ...)")
def _logaddexp(var: Variable, ctx: Any) -> Variable | None:
    """log of a sum of exponentials -> nested logaddexp (max-shifted, no overflow)."""
    arg = var.owner.inputs[0]
    if not is_elemwise(arg, "add") or not all(is_elemwise(t, "exp") for t in arg.owner.inputs):
        return None
    exponents = [t.owner.inputs[0] for t in arg.owner.inputs]
    out = exponents[0]
    for e in exponents[1:]:
        out = ew.logaddexp(out, e)
    return out


def _sum_axes(den: Variable, num: Variable) -> tuple[tuple[int, ...], bool] | None:
    """(axes, keepdims) when ``den`` is ``sum(num, axes, keepdims)`` (also a keepdims=False sum whose axes
    an expand_dims puts back)."""
    owner = den.owner
    if owner is not None and isinstance(owner.op, DimShuffle):
        inner = owner.inputs[0].owner
        if inner is None or not isinstance(inner.op, Reduce) or inner.op.keepdims:
            return None
        order, axes = owner.op.new_order, inner.op.axis
        kept = iter(range(num.type.ndim - len(axes)))
        expected = tuple("x" if d in axes else next(kept) for d in range(num.type.ndim))
        if order != expected:
            return None
        owner, keep = inner, True
    elif owner is not None and isinstance(owner.op, Reduce):
        keep = owner.op.keepdims
    else:
        return None
    if owner.op.kind != "sum" or owner.inputs[0] is not num:
        return None
    return owner.op.axis, keep


@function_rule("softmax", roots=("true_div",),
               identity="exp(x) / sum(exp(x), axis=k, keepdims=True) = softmax(x, axis=k)")
def _softmax(var: Variable, ctx: Any) -> Variable | None:
    """exp(x) / sum(exp(x)) along one axis (keepdims=True or an expand_dims), or over all axes -> softmax."""
    num, den = var.owner.inputs
    if not is_elemwise(num, "exp"):
        return None
    found = _sum_axes(den, num)
    if found is None:
        return None
    axes, keep = found
    ndim = num.type.ndim
    if len(axes) == ndim:
        return nn.softmax(num.owner.inputs[0], 0 if ndim == 1 else None)
    if keep and len(axes) == 1:
        return nn.softmax(num.owner.inputs[0], axes[0])
    return None


def _log_mean_exp(bd: dict) -> Variable:
    lse = LogSumExp(bd["axis"], bd["keepdims"])(bd["x"])
    count = constant_value(bd["n"])
    constant_log = count is not None and count > 0 and bd["n"].type.ndim == 0
    return lse - (math.log(count) if constant_log else ew.log(bd["n"]))


# ---------------------------------------------------------------------------------------------- the rules
RULES = register("stabilize", RuleSet("stabilize", [
    # log(...) roots, most specific first
    Rule("softplus", o.log(1 + o.exp(x)), o.softplus(x), identity="log(1 + exp(x)) = softplus(x)"),
    Rule("logsumexp", o.log(o.sum_(o.exp(x), axis=AXIS, keepdims=KEEP)),
         o.logsumexp(x, axis=AXIS, keepdims=KEEP), identity="log(sum(exp(x), axis)) = logsumexp(x, axis)"),
    Rule("log_mean_exp", o.log(o.sum_(o.exp(x), axis=AXIS, keepdims=KEEP) / n), _log_mean_exp,
         identity="log(sum(exp(x), axis) / n) = logsumexp(x, axis) - log(n)"),
    Rule("log_softmax", o.log(o.softmax(x, axis=AXIS)), o.log_softmax(x, axis=AXIS),
         identity="log(softmax(x)) = log_softmax(x)"),
    any_of("log_sigmoid", [(o.log(o.sigmoid(-x)), -o.softplus(x)), (o.log(o.sigmoid(x)), -o.softplus(-x))],
           "log(sigmoid(x)) = -softplus(-x)"),
    Rule("logit_sigmoid", o.log(o.sigmoid(x) / o.sigmoid(-x)), x, identity="log(sigmoid(x) / sigmoid(-x)) = x"),
    any_of("log1mexp", [(o.log(-o.expm1(x)), o.log1mexp(x)), (o.log1p(-o.exp(x)), o.log1mexp(x)),
                        (o.log(1 - o.exp(x)), o.log1mexp(x))],
           "log(1 - exp(x)) = log(-expm1(x)) = log1p(-exp(x)) = log1mexp(x)"),
    Rule("log_expm1", o.log(o.expm1(x)), x + o.log1mexp(-x), identity="log(expm1(x)) = x + log1mexp(-x)",
         when=lambda b: is_float(b["x"])),  # -x of an unsigned integer wraps around
    Rule("logdiffexp", o.log(o.exp(a) - o.exp(b)), a + o.log1mexp(b - a),
         identity="log(exp(a) - exp(b)) = a + log1mexp(b - a)", when=lambda b: is_float(b["a"]) and is_float(b["b"])),
    _logaddexp,
    Rule("log1p", o.log(1 + x), o.log1p(x), identity="log(1 + x) = log1p(x)"),
    Rule("log1p_neg", o.log(1 - x), o.log1p(-x), identity="log(1 - x) = log1p(-x)"),
    # log1p(...) roots
    Rule("softplus_log1p", o.log1p(o.exp(x)), o.softplus(x), identity="log1p(exp(x)) = softplus(x)"),
    Rule("log1p_neg_sigmoid", o.log1p(-o.sigmoid(x)), -o.softplus(x), identity="log1p(-sigmoid(x)) = -softplus(x)"),
    Rule("log1p_expm1", o.log1p(o.expm1(x)), x, identity="log1p(expm1(x)) = x"),
    # exp(x) - 1 and 1 - exp(x)
    any_of("expm1", [(o.exp(x) - 1, o.expm1(x)), (o.exp(x) + -1, o.expm1(x))], "exp(x) - 1 = expm1(x)"),
    any_of("expm1_neg", [(1 - o.exp(x), -o.expm1(x)), (1 + -o.exp(x), -o.expm1(x))], "1 - exp(x) = -expm1(x)"),
    # sigmoid family
    Rule("sigmoid_diff", o.exp(x) / (o.exp(x) + o.exp(y)), o.sigmoid(x - y),
         identity="exp(x) / (exp(x) + exp(y)) = sigmoid(x - y)"),
    any_of("sigmoid", [(o.exp(x) / (1 + o.exp(x)), o.sigmoid(x)), (1 / (1 + o.exp(-x)), o.sigmoid(x)),
                       (1 / (1 + o.exp(x)), o.sigmoid(-x)), (o.reciprocal(1 + o.exp(-x)), o.sigmoid(x)),
                       (o.reciprocal(1 + o.exp(x)), o.sigmoid(-x))],
           "exp(x) / (1 + exp(x)) = 1 / (1 + exp(-x)) = sigmoid(x)"),
    any_of("sigmoid_complement", [(1 - o.sigmoid(-x), o.sigmoid(x)), (1 - o.sigmoid(x), o.sigmoid(-x)),
                                  (1 + -o.sigmoid(x), o.sigmoid(-x))], "1 - sigmoid(x) = sigmoid(-x)"),
    any_of("sigmoid_pdf", [(o.exp(x) / (1 + o.exp(x)) ** 2, o.sigmoid(x) * o.sigmoid(-x)),
                           (o.exp(x) / o.sqr(1 + o.exp(x)), o.sigmoid(x) * o.sigmoid(-x))],
           "exp(x) / (1 + exp(x))**2 = sigmoid(x) * sigmoid(-x)"),
    any_of("sigmoid_times_exp", [(o.exp(x) * o.sigmoid(-x), o.sigmoid(x)), (o.exp(-x) * o.sigmoid(x), o.sigmoid(-x))],
           "exp(x) * sigmoid(-x) = sigmoid(x)"),
    any_of("softplus_minus_x", [(o.softplus(x) - x, o.softplus(-x)), (x - o.softplus(x), -o.softplus(-x))],
           "softplus(x) - x = softplus(-x)"),
    # normalised exponentials
    _softmax,
], tags=["stability"]))
