"""Stabilize: normalised exponentials wherever they hide, behind an index or inside a gradient graph.

A log-softmax written by hand and indexed, ``log(exp(x) / sum(exp(x)))[i]``, loses its stabilize rules to
the canonical forms: the index moves down to ``exp(x)[i]`` (``exp(x)`` has another client, so it stops
there), and ``log(exp(x)[i])`` is not ``log(exp(.))``; its gradient is NaN at inputs 1000 apart. Two rules
close the family:

- ``under_index``: an elementwise op on indexed values, ``f(g[i])``, when a stabilize rule rewrites the
  un-indexed ``f(g)``, becomes that rewrite, indexed (``log(softmax(x)[i]) -> log_softmax(x)[i]``,
  ``log(exp(x)[i]) -> x[i]``, ``exp(x)[i] / sum(exp(x)) -> softmax(x)[i]``). ``g`` is computed whole
  already, so the cost stays of the same order.
- ``normalised_exp``: ``exp(a) / sum(exp(x))`` and the products a gradient graph makes of it,
  ``exp(a) * (g / sum(exp(x)))``, become ``softmax(x)`` or ``exp(a - logsumexp(x))``: no inf / inf.
  (``gw.grad`` stabilizes the cost first; this is for gradients taken with ``stabilize=False``, or
  built by hand.)
- ``log_reciprocal``: ``log(1 / sum(exp(x - x[i])))``, the same entry written as a reciprocal.

``under_index`` tries the rules of the running pass, as the phase and a ``rewrite(..., include=,
exclude=)`` call selected them; only the op classes themselves are matched (exact classes, as everywhere).

Examples
--------
>>> import graphwright as gw
>>> x = gw.vector("x")
>>> gw.rewrite(gw.log(gw.softmax(x)[1]), phases="stabilize")[0].outputs[0]
log_softmax(x, axis=0)[1]
"""

from __future__ import annotations

from functools import cache
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.rewrite.engine import type_problem
from graphwright.rewrite.rule import GuardRefused, Rule
from graphwright.rules.helpers import conform, scalar_name
from graphwright.rules.lifting import _BASIC, _index_operand
from graphwright.rules.stabilize import is_float
from graphwright.rules.stabilize_algebra import log_has_rule
from graphwright.tensor import elemwise as ew
from graphwright.tensor.elemwise import Elemwise, is_elemwise
from graphwright.tensor.indexing import Subtensor
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.reduce_special import LogSumExp
from graphwright.tensor.scalar_ops import SCALAR_OPS
from graphwright.tensor.shape import DimShuffle

__all__ = ["RULES", "sum_of_exp", "over_sum_of_exp"]

UNDER_INDEX = "under_index"
_MAX_OPERANDS = 3  # under_index looks at elementwise ops of at most this many operands


# ------------------------------------------------------------------------------------------- under_index
def _indexed(v: Variable) -> tuple[Subtensor, Variable, tuple[Variable, ...]] | None:
    """``(op, g, parts)`` for ``v = g[...]`` with ``g`` computed (not a graph input)."""
    node = v.owner
    if node is None or type(node.op) is not Subtensor or node.inputs[0].owner is None:
        return None
    return node.op, node.inputs[0], tuple(node.inputs[1:])


def _same_index(found: tuple | None, key: tuple) -> bool:
    """Indexed the same way as ``key`` and with a value of provably the same shape."""
    if found is None or found[0] != key[0] or len(found[2]) != len(key[2]):
        return False
    if not all(a is b for a, b in zip(found[2], key[2], strict=True)):
        return False
    g, h = found[1].type.shape, key[1].type.shape
    return found[1] is key[1] or (g == h and None not in g)


def _elemwise_of(var: Variable, args: list[Variable]) -> Variable | None:
    try:
        return ew.elemwise(var.owner.op.scalar_op.name, *args)
    except Exception:  # noqa: BLE001 - operands that do not broadcast together: no candidate
        return None


def _unindexed(var: Variable, key: tuple) -> Variable | None:
    """``var``'s elementwise op applied to the values before the index ``key``: ``f(g[i], c) -> f(g, c)``
    (``c`` 0-d). With a basic index, operands indexed as broadcasting requires (``sum(e, 1, keepdims)[0, 0]``
    next to ``e[0, 1]``) are taken before their index too."""
    ins = var.owner.inputs
    if all(e[0] in _BASIC for e in key[0].spec):
        args = [v.owner.inputs[0] if _indexed(v) is not None else v for v in ins]
        candidate = _elemwise_of(var, args)
        if candidate is not None and candidate.type.ndim == key[1].type.ndim and all(
                _index_operand(a, candidate, key[0].spec, list(key[2])) is v for a, v in zip(args, ins, strict=True)):
            return candidate
    args = []
    for v in ins:
        found = _indexed(v)
        if _same_index(found, key):
            args.append(found[1])
        elif v.type.ndim == 0:
            args.append(v)
        else:
            return None
    return _elemwise_of(var, args)


@cache
def _stabilize_table() -> dict[Any, tuple[Rule, ...]]:
    """The stabilize phase's node rules by root key (read once, after every rule module registered)."""
    from graphwright.rewrite.phases import phase_rules

    table: dict[Any, list[Rule]] = {}
    for rule in phase_rules("stabilize"):
        if not rule.is_graph_rule and rule.name != UNDER_INDEX:
            for key in rule.keys:
                table.setdefault(key, []).append(rule)
    return {k: tuple(v) for k, v in table.items()}


def _rewrite_once(var: Variable, ctx: Any) -> Variable | None:
    """The first rewrite of ``var`` by a rule of the running pass (the rules its phase and the call's
    include/exclude selected; all stabilize rules when the context does not say), or None."""
    from graphwright.rewrite.pattern import var_root_key

    table = getattr(ctx, "rule_table", None) or _stabilize_table()
    for rule in [*table.get(var_root_key(var), ()), *table.get(None, ())]:
        if rule.name == UNDER_INDEX:
            continue
        try:
            new = rule.apply(var, ctx)
        except Exception:  # noqa: BLE001 - a broken rule is the engine's to report, not this one's
            continue
        if isinstance(new, Variable) and new is not var and type_problem(var, new) is None:
            return new
        if isinstance(new, GuardRefused):
            continue
    return None


@function_rule(UNDER_INDEX, roots=tuple(n for n in SCALAR_OPS),
               identity="f(g[i]) = f(g)[i] when a stabilize rule rewrites f(g) (log(softmax(x)[i]) = "
                        "log_softmax(x)[i], log(exp(x)[i]) = x[i])")
def _under_index(var: Variable, ctx: Any) -> Variable | None:
    """An elementwise op on indexed values whose un-indexed form a stabilize rule rewrites -> that rewrite,
    indexed the same way."""
    if var.owner is None or type(var.owner.op) is not Elemwise or not is_float(var):
        return None
    if len(var.owner.inputs) > _MAX_OPERANDS:  # a long flattened sum: the patterns are small, the cost not
        return None
    for v in var.owner.inputs:
        key = _indexed(v)
        candidate = None if key is None else _unindexed(var, key)
        new = None if candidate is None else _rewrite_once(candidate, ctx)
        if new is not None:
            return conform(key[0](new, *key[2]), var.type)
    return None


# ---------------------------------------------------------------------------------------- normalised_exp
def _shuffled(v: Variable) -> tuple[DimShuffle | None, Variable]:
    if v.owner is not None and type(v.owner.op) is DimShuffle:
        return v.owner.op, v.owner.inputs[0]
    return None, v


def sum_of_exp(v: Variable) -> tuple[Variable, Variable] | None:
    """``(x, lse)`` when ``v`` is ``sum(exp(x), axes)`` (or a dimshuffle of one); ``lse`` is the matching
    ``logsumexp(x, axes)``, dimshuffled the same way.

    Examples
    --------
    >>> import graphwright as gw
    >>> m = gw.matrix("m")
    >>> sum_of_exp(gw.sum(gw.exp(m), axis=1, keepdims=True))[1]
    logsumexp(m, axis=1, keepdims=True)
    """
    shuffle, v = _shuffled(v)
    node = v.owner
    if node is None or type(node.op) is not Reduce or node.op.kind != "sum" or scalar_name(node.inputs[0]) != "exp":
        return None
    x = node.inputs[0].owner.inputs[0]
    lse = LogSumExp(node.op.axis, node.op.keepdims)(x)
    return x, (lse if shuffle is None else shuffle(lse))


def over_sum_of_exp(v: Variable) -> tuple[Variable | None, Variable, Variable, Variable] | None:
    """``(g, x, lse, den)`` when ``v`` is ``g / den`` or ``reciprocal(den)`` (``g`` None) with ``den`` a sum of
    exponentials (:func:`sum_of_exp`), also dimshuffled: ``g``, ``lse`` and ``den`` then come dimshuffled
    the same way.

    Examples
    --------
    >>> import graphwright as gw
    >>> x, s = gw.vector("x"), gw.scalar("s")
    >>> over_sum_of_exp(s / gw.sum(gw.exp(x)))[::2]
    (s, logsumexp(x, axis=0))
    """
    shuffle, v = _shuffled(v)
    name = scalar_name(v)
    if name not in ("true_div", "reciprocal"):
        return None
    num, den = (v.owner.inputs[0] if name == "true_div" else None), v.owner.inputs[-1]
    found = sum_of_exp(den)
    if found is None or (num is not None and num.type.ndim not in (0, v.type.ndim)):
        return None
    x, lse = found
    if shuffle is not None:
        lse, den = shuffle(lse), shuffle(den)
        num = shuffle(num) if num is not None and num.type.ndim else num
    return num, x, lse, den


def _normalised(a: Variable, x: Variable, lse: Variable, den: Variable, ctx: Any) -> Variable:
    """``exp(a) / den`` for ``den = exp(lse)``: ``softmax(x)`` when ``a`` is ``x`` and the softmax rule takes
    the form, else ``exp(a - lse)``."""
    if a is x:
        from graphwright.rules.stabilize import RULES as EXP_LOG

        soft = EXP_LOG["softmax"].apply(ew.exp(x) / den, ctx)
        if isinstance(soft, Variable):
            return soft
    return ew.exp(a - lse)


def _factors(v: Variable) -> list[Variable]:
    return list(v.owner.inputs) if scalar_name(v) == "mul" else [v]


def _exp_factor(factors: list[Variable], x: Variable) -> int | None:
    """The position of an ``exp`` among ``factors``, ``exp(x)`` first."""
    exps = [i for i, f in enumerate(factors) if scalar_name(f) == "exp"]
    same = [i for i in exps if factors[i].owner.inputs[0] is x]
    return (same or exps or [None])[0]


def _product(var: Variable, factors: list[Variable], ctx: Any) -> Variable | None:
    """``var = prod(factors)``: an ``exp(a)`` and a ``g / sum(exp(x))`` among them -> ``g * exp(a - lse)``."""
    for j, f in enumerate(factors):
        found = over_sum_of_exp(f)
        if found is None:
            continue
        g, x, lse, den = found
        rest = [h for k, h in enumerate(factors) if k != j]
        i = _exp_factor(rest, x)
        if i is None:
            continue
        stable = _normalised(rest[i].owner.inputs[0], x, lse, den, ctx)
        others = rest[:i] + rest[i + 1:] + ([g] if g is not None else [])
        out = ew.mul(stable, *others) if others else stable
        return conform(out, var.type, factors)
    return None


@function_rule("normalised_exp", roots=("true_div", "mul"),
               identity="exp(a) / sum(exp(x)) = exp(a - logsumexp(x)) (softmax(x) for a = x); also "
                        "exp(a) * (g / sum(exp(x))), the form of a gradient")
def _normalised_exp(var: Variable, ctx: Any) -> Variable | None:
    """A normalised exponential in a quotient or in a product (the gradient of log(sum(exp(x)))) -> a
    softmax or a shifted exponential (no inf / inf)."""
    if not is_float(var):
        return None
    if scalar_name(var) == "mul":
        return _product(var, list(var.owner.inputs), ctx)
    num, den = var.owner.inputs
    found = sum_of_exp(den)
    if found is None:
        return None
    factors = _factors(num)
    i = _exp_factor(factors, found[0])
    if i is None:
        return None
    stable = _normalised(factors[i].owner.inputs[0], found[0], found[1], den, ctx)
    others = factors[:i] + factors[i + 1:]
    return conform(ew.mul(stable, *others) if others else stable, var.type, [num, den])


@function_rule("log_reciprocal", roots=("log",), identity="log(1 / x) = -log(x) where log(x) has a rule")
def _log_reciprocal(var: Variable, ctx: Any) -> Variable | None:
    """log of a reciprocal -> minus the log, when that log has a stabilize rule (``log(1 / sum(exp(x)))``
    underflows to log(0) where ``-logsumexp(x)`` is finite)."""
    arg = var.owner.inputs[0]
    if not is_elemwise(arg, "reciprocal") or not is_float(var) or not log_has_rule(arg.owner.inputs[0]):
        return None
    return -ew.log(arg.owner.inputs[0])


RULES = register("stabilize", RuleSet("stabilize_softmax", [_log_reciprocal, _normalised_exp, _under_index],
                                      tags=["stability"]))
