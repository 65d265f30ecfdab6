"""Stabilize: a function minus the leading terms of its own Taylor series (``log1p(x) - x``, ``sin(x) - x``).

Near 0 such a difference keeps no digit: ``log1p(1e-20) - 1e-20`` is 0, the truth -5e-41. One rule covers
the family: in a sum (or difference) of terms, a term ``a * f(v) * v**p`` with ``f`` in
:data:`~graphwright.rules.stabilize_taylor_series.FUNCTIONS` (exp, expm1, log1p, sin, cos, sinh, cosh, tan,
tanh, arctan, arctanh, arcsin, arcsinh, and sin**2, sinh**2) and other terms that are monomials in the same
variable (``x``, ``x**2 / 2``, constants, also written for ``v = 2x`` or ``v = -x``) whose coefficients are
the first Taylor coefficients of ``f``, times ``-a``. The matched terms become the remainder: its series
(``v**(m+1) * (c_(m+1) + c_(m+2) v + ...)``, Horner form) for ``|v|`` below the function's radius, the
difference as written above it (the user's terms, a stable op such as softplus kept, on the clamped
argument): no worse than the naive formula, and as poor as it where that one cancels (a deep remainder
just above the radius). Coefficients within 1e-12 of the Taylor ones match; what they differ by stays a
term of its own. Also written as ``f(v) / v - 1`` (``expm1(x) / x - 1``), and through the forms other rules
make (``softplus(z) = log1p(exp(z))``, ``2 * sin(x/2)**2 = 1 - cos(x)``).

Examples
--------
>>> import numpy as np
>>> import graphwright as gw
>>> x = gw.vector("x")
>>> f = gw.function([x], gw.log1p(x) - x)
>>> f(np.array([1e-20, 1e-5]))  # -x**2 / 2 + x**3 / 3 ...
array([-5.00000000e-41, -4.99996667e-11])
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, replace
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.rewrite import ops as o
from graphwright.rewrite.pattern import P
from graphwright.rules.helpers import conform, scalar_name
from graphwright.rules.stabilize import any_of, is_float
from graphwright.rules.stabilize_taylor_remainder import alias_argument, power, remainder, times
from graphwright.rules.stabilize_taylor_series import (
    DEPTH,
    FUNCTIONS,
    MAX_TERMS,
    coefficients,
    in_base,
    order,
    power_of,
    scalar_constant,
    signed_terms,
)
from graphwright.tensor import elemwise as ew

__all__ = ["RULES", "signed_terms", "in_base"]

x = P.var("x")


def _monomial_base(v: Variable, depth: int = DEPTH) -> tuple[float, Variable, int]:
    """``(s, b, q)`` with ``v = s * b**q`` (``2 * x`` -> ``(2, x, 1)``, ``-x**2`` -> ``(-1, x, 2)``)."""
    name = scalar_name(v)
    if depth == 0 or name is None:
        return 1.0, v, 1
    ins = v.owner.inputs
    consts = [scalar_constant(i) for i in ins]
    if name == "neg":
        s, b, q = _monomial_base(ins[0], depth - 1)
        return -s, b, q
    if name in ("mul", "true_div") and len(ins) == 2 and consts.count(None) == 1:
        inner = ins[consts.index(None)]
        c = consts[1 - consts.index(None)]
        if name == "mul" or (consts[1] is not None and c != 0):
            s, b, q = _monomial_base(inner, depth - 1)
            return (s * c if name == "mul" else s / c), b, q
    power = power_of(v)
    if power is not None and power[1] >= 1:
        s, b, q = _monomial_base(power[0], depth - 1)
        return s ** power[1], b, q * power[1]
    return 1.0, v, 1


def _alias(t: Variable) -> tuple[str, Variable, str | None] | None:
    """Forms other rules make, seen as a table function: softplus(z) = log1p(exp(z)),
    log1mexp(z) = log1p(-exp(z)), sin(v)**2, sinh(v)**2. The third item names the stable op written (kept
    for the direct branch, see :func:`remainder`)."""
    name = scalar_name(t)
    if name == "softplus":
        return "log1p", ew.exp(t.owner.inputs[0]), name
    if name == "log1mexp":
        return "log1p", ew.neg(ew.exp(t.owner.inputs[0])), name
    power = power_of(t)
    if power is not None and power[1] == 2 and scalar_name(power[0]) in ("sin", "sinh"):
        return scalar_name(power[0]) + "_sq", power[0].owner.inputs[0], None
    return None


@dataclass(frozen=True)
class _Core:
    """``sign * v**power * (f(v) - sum(c_k v**k, k <= done)) * prod(g**e for g, e in factors)``."""

    sign: float
    name: str
    v: Variable
    factors: tuple[tuple[Variable, int], ...] = ()
    power: int = 0
    done: int = -1
    alias: str | None = None


def _function_term(t: Variable, depth: int = 4) -> _Core | None:
    """The table function in the term ``t`` (a product or quotient with it as one factor), or a remainder
    this rule made before (an outer sum may cancel more of its Taylor terms)."""
    name = scalar_name(t)
    if name in FUNCTIONS:
        return _Core(1.0, name, t.owner.inputs[0])
    alias = _alias(t)
    if alias is not None:
        return _Core(1.0, alias[0], alias[1], alias=alias[2])
    made = _remainder_parts(t)
    if made is not None:
        return made
    if depth == 0 or name not in ("neg", "mul", "true_div"):
        return _inverse_term(t) if name == "reciprocal" else None
    ins = t.owner.inputs
    for i, v in enumerate(ins if name == "mul" else ins[:1]):
        core = _function_term(v, depth - 1)
        if core is None:
            continue
        if name == "neg":
            return replace(core, sign=-core.sign)
        extra = [(ins[1], -1)] if name == "true_div" else [(g, 1) for j, g in enumerate(ins) if j != i]
        return replace(core, factors=core.factors + tuple(extra))
    return _inverse_term(t)


def _inverse_term(t: Variable) -> _Core | None:
    """``g / f(v)`` or ``reciprocal(f(v))`` -> the table's ``inv_f`` (``v**j / f(v)``) times ``g * v**-j``."""
    name = scalar_name(t)
    den = t.owner.inputs[-1] if name in ("true_div", "reciprocal") else None
    inner = None if den is None else (scalar_name(den), den.owner.inputs[0], None) \
        if scalar_name(den) in FUNCTIONS else _alias(den)
    if inner is None or "inv_" + inner[0] not in FUNCTIONS:
        return None
    extra = ((t.owner.inputs[0], 1),) if name == "true_div" else ()
    return _Core(1.0, "inv_" + inner[0], inner[1], extra, power=-order(inner[0]), alias=inner[2])


_READ_BACK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # switch -> its _Core or None (immutable IR)


def _remainder_parts(t: Variable) -> _Core | None:
    """The remainder ``t = switch(|v| < r, series, direct)`` that :func:`remainder` made, read back from its
    direct branch; only if rebuilding it gives ``t`` itself (hash-consing makes that an identity check), so a
    user's switch with another small branch, condition or clamp is never taken for one."""
    if scalar_name(t) != "switch":
        return None
    if t not in _READ_BACK:
        _READ_BACK[t] = _read_back(t)
    return _READ_BACK[t]


def _read_back(t: Variable) -> _Core | None:
    cond, _, direct = t.owner.inputs
    if scalar_name(cond) != "lt" or scalar_name(cond.owner.inputs[0]) != "abs":
        return None
    found = _match(signed_terms(direct), 0, inner=True)
    if found is None or found.rest or found.leftover:
        return None
    v = cond.owner.inputs[0].owner.inputs[0]
    if remainder(found.name, v, found.a, found.p, found.m, found.alias) is not t:
        return None
    return _Core(found.a, found.name, v, power=found.p, done=found.m, alias=found.alias)


def _is_clamped(v: Variable | None) -> bool:
    """True for ``switch(abs(u) < r, r, u)`` (or ``switch(abs(exp(u)) < r, log(r), u)``, the same for
    ``-exp(u)``): the argument of a remainder's direct branch, where |v| >= r."""
    if v is None or scalar_name(v) != "switch":
        return False
    cond, low, u = v.owner.inputs
    if scalar_name(cond) != "lt" or scalar_name(cond.owner.inputs[0]) != "abs":
        return False
    bound, low_value = scalar_constant(cond.owner.inputs[1]), scalar_constant(low)
    w = cond.owner.inputs[0].owner.inputs[0]
    if bound is None or low_value is None or bound <= 0:
        return False
    if w is u:
        return low_value == bound
    return alias_argument(w) is u and math.isclose(low_value, math.log(bound), rel_tol=1e-6)


def _close(have: float, target: float) -> bool:
    """Near enough to match; what ``have`` differs by is kept as a term of its own (:func:`_leftover`)."""
    return have == target if target == 0 else abs(have - target) <= 1e-12 * abs(target)


def _in_v(t: Variable, b: Variable, s: float, q: int) -> tuple[float, int] | None:
    """``(c, k)`` when ``t = c * v**k`` for ``v = s * b**q`` (a polynomial term in the function's argument)."""
    found = in_base(t, b)
    if found is None or found[1] % q:
        return None
    k = found[1] // q
    return found[0] / s**k, k


def _prefix(name: str, a: float, p: int, poly: dict[int, float]) -> int:
    """The highest ``m`` such that ``poly`` holds ``-a * c_k v**(k+p)`` for every k <= m (-1 if none)."""
    coefs = coefficients(name)
    m = -1
    for k, c in enumerate(coefs):
        if not _close(poly.get(k + p, 0.0), -a * float(c)):
            break
        m = k
    return m


@dataclass(frozen=True)
class _Found:
    """``a * v**p * (f(v) - sum(c_k v**k, k <= m))`` is in the sum; ``rest`` are its other terms."""

    name: str
    v: Variable
    a: float
    p: int
    m: int
    rest: tuple
    alias: str | None = None
    leftover: tuple[tuple[int, float], ...] = ()  # (degree in v, coefficient) the sum has beyond the series


def _scaled(core: _Core, sign: int) -> tuple[float, int, Variable, float, int] | None:
    """``(a, p, b, s, q)``: the term is ``a * v**p * (...)`` with ``v = s * b**q``."""
    s, b, q = _monomial_base(core.v)
    coef, deg = sign * core.sign, 0
    for g, e in core.factors:
        part = in_base(g, b)
        if part is None or part[0] == 0:
            return None
        coef, deg = coef * part[0] ** e, deg + part[1] * e
    if s == 0 or deg % q:
        return None
    return coef / s ** (deg // q), core.power + deg // q, b, s, q


def _match(terms: list[tuple[int, Variable]], i: int, inner: bool = False) -> _Found | None:
    """The Taylor terms of ``terms[i]``'s function that the other terms cancel, if they go further than what
    an earlier rewrite already took (``inner``: read a remainder's own direct branch)."""
    core = _function_term(terms[i][1])
    scaled = None if core is None or not is_float(core.v) else _scaled(core, terms[i][0])
    if scaled is None:
        return None
    a, p, b, s, q = scaled
    clamped = _is_clamped(core.v) or _is_clamped(b) or (core.alias is not None and _is_clamped(alias_argument(b)))
    if clamped != inner:  # a remainder's direct branch (where |v| >= r)
        return None
    coefs = coefficients(core.name)
    poly = {k + p: -a * float(c) for k, c in enumerate(coefs[: core.done + 1])}
    monomials = {j: _in_v(t, b, s, q) for j, (_, t) in enumerate(terms) if j != i}
    for j, mono in monomials.items():
        if mono is not None:
            poly[mono[1]] = poly.get(mono[1], 0.0) + terms[j][0] * mono[0]
    m = _prefix(core.name, a, p, poly)
    # the leading term must cancel (and something beyond what an earlier rewrite took)
    if m + 1 + p < 0 or m < order(core.name) or not any(coefs[k] != 0 for k in range(core.done + 1, m + 1)):
        return None
    rest = tuple(terms[j] for j, mono in monomials.items() if mono is None or not p <= mono[1] <= m + p)
    leftover = tuple((k + p, poly.get(k + p, 0.0) + a * float(c)) for k, c in enumerate(coefs[: m + 1])
                     if poly.get(k + p, 0.0) != -a * float(c))
    return _Found(core.name, core.v, a, p, m, rest, core.alias, leftover)


def _groups(terms: list[tuple[int, Variable]]) -> list[tuple[list[int], bool]]:
    """``(positions, try_each)``: the terms to match together. A short sum is one group (any term may be
    the function); in a long flattened sum each function term is grouped with the constants and the
    monomials of its own variable (at most :data:`MAX_TERMS` of each), so the cost stays linear."""
    if len(terms) <= MAX_TERMS:
        return [(list(range(len(terms))), True)]
    by_base: dict[int, list[int]] = {}
    consts: list[int] = []
    functions: list[tuple[int, Variable]] = []
    for j, (_, t) in enumerate(terms):
        core = None if scalar_constant(t) is not None else _function_term(t)
        if scalar_constant(t) is not None:
            consts.append(j)
        elif core is not None:
            functions.append((j, _monomial_base(core.v)[1]))
        else:
            by_base.setdefault(id(_monomial_base(t)[1]), []).append(j)
    return [([j] + by_base[id(b)][:MAX_TERMS] + consts[:MAX_TERMS], False)
            for j, b in functions if id(b) in by_base]


@function_rule("taylor_remainder", roots=("add", "sub"),
               identity="f(v) - (c_0 + c_1 v + ... + c_m v**m) = v**(m+1) * (c_(m+1) + c_(m+2) v + ...) "
                        "for small |v| (log1p(x) - x, exp(x) - 1 - x, sin(x) - x, tan(x) - x ...)")
def _taylor_remainder(var: Variable, ctx: Any) -> Variable | None:
    """A function meeting the leading terms of its own Taylor series -> the remainder, computed without
    cancellation (see the module docstring)."""
    terms = signed_terms(var, limit=None) if is_float(var) else []
    for positions, try_each in (_groups(terms) if len(terms) > 1 else []):
        group = [terms[k] for k in positions]
        for i in range(len(group) if try_each else 1):
            found = _match(group, i)
            out = None if found is None else remainder(found.name, found.v, found.a, found.p, found.m, found.alias)
            if out is None:
                continue
            for degree, coef in found.leftover:  # a coefficient off the Taylor one by a little: its own term
                out = out + times(coef, power(found.v, degree))
            chosen = set(positions)  # the terms outside the group, only once a match is found: a long sum
            rest = list(found.rest) + [t for k, t in enumerate(terms) if k not in chosen]  # stays linear
            for sign, t in rest:
                out = out + t if sign > 0 else out - t
            return conform(out, var.type, [found.v] + [t for _, t in rest])
    return None


_HALF_SINH_SQ = 2 * o.sqr(o.sinh(0.5 * x))

RULES = register("stabilize", RuleSet("stabilize_taylor", [
    any_of("cosh_minus_one", [(o.cosh(x) - 1, _HALF_SINH_SQ), (o.cosh(x) + -1, _HALF_SINH_SQ)],
           "cosh(x) - 1 = 2 * sinh(x / 2)**2"),
    any_of("one_minus_cosh", [(1 - o.cosh(x), -_HALF_SINH_SQ), (1 + -o.cosh(x), -_HALF_SINH_SQ)],
           "1 - cosh(x) = -2 * sinh(x / 2)**2"),
    _taylor_remainder,
], tags=["stability"]))
