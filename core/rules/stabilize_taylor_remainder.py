"""The remainder graph of ``taylor_remainder`` (stabilize_taylor.py): ``a * v**p * (f(v) - sum(c_k v**k))``
built without cancellation, as its series inside the function's radius and as the difference written out
(keeping a stable op the user wrote) on the clamped argument outside it."""

from __future__ import annotations

import math
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.rules.helpers import scalar_name
from graphwright.rules.stabilize_taylor_series import FUNCTIONS, coefficients, order, tail_terms
from graphwright.tensor import elemwise as ew

__all__ = ["remainder", "alias_argument", "times", "power"]


def alias_argument(v: Variable) -> Variable | None:
    """``z`` for ``v = exp(z)`` or ``v = -exp(z)`` (the argument of an aliased softplus or log1mexp)."""
    if scalar_name(v) == "neg":
        v = v.owner.inputs[0]
    return v.owner.inputs[0] if scalar_name(v) == "exp" else None


def _horner(coefs: list[float], v: Variable) -> Variable | float:
    """``sum(coefs[j] * v**j)``, in ``v**2`` when every odd coefficient is 0."""
    if len(coefs) > 1 and not any(coefs[1::2]):
        coefs, v = coefs[0::2], ew.sqr(v)
    acc: Variable | float = coefs[-1]
    for c in reversed(coefs[:-1]):
        acc = c + v * acc
    return acc


def times(a: float, v: Any) -> Any:
    """``a * v``, with no product node for ``a = 1`` or ``a = -1``."""
    if not isinstance(v, Variable):
        return a * v
    return v if a == 1 else (-v if a == -1 else a * v)


def power(v: Variable, k: int) -> Variable | float:
    """``v**k``, with no node for ``k = 0`` or ``k = 1``."""
    return 1.0 if k == 0 else (v if k == 1 else ew.pow(v, float(k)))


def _direct_value(name: str, v: Variable, small: Variable, alias: str | None) -> tuple[Variable, float, Variable]:
    """``(base, sign, value)``: the argument clamped to the radius where ``small`` is ``sign * base``, and
    ``f`` there is ``sign**j * value`` (``j`` the power of ``v`` in an ``inv_`` function, else 0). ``value``
    goes through the stable op the user wrote (``softplus(z)``, ``log1mexp(z)`` for ``v = exp(z)``,
    ``-exp(z)``, on ``z`` clamped to ``log(r)``), never a less stable rebuilt form such as ``log1p(exp(z))``."""
    radius = FUNCTIONS[name].radius
    z = None if alias is None else alias_argument(v)
    if z is None:
        outside = ew.switch(small, radius, v)
        return outside, 1.0, FUNCTIONS[name].build(outside)
    z_outside = ew.switch(small, math.log(radius), z)
    base, sign = ew.exp(z_outside), (1.0 if scalar_name(v) == "exp" else -1.0)
    stable = ew.elemwise(alias, z_outside)
    j = order(name[4:]) if name.startswith("inv_") else 0  # v**j / f(v), as FUNCTIONS builds it
    return base, sign, stable if j == 0 else power(base, j) / stable


def _minus(acc: Variable, coef: float, term: Any) -> Variable:
    """``acc - coef * term``, written with the sign in the operator (as canonicalize leaves it)."""
    return acc + times(-coef, term) if coef < 0 else acc - times(coef, term)


def remainder(name: str, v: Variable, a: float, p: int, m: int, alias: str | None = None) -> Variable | None:
    """``a * v**p * (f(v) - sum(c_k v**k, k <= m))`` without cancellation: the remainder series inside the
    function's radius, the difference as written (on the clamped argument) outside it. ``alias`` names the
    stable op ``f`` was written as (``"softplus"`` for ``log1p`` of ``v = exp(z)``, ``"log1mexp"`` for
    ``v = -exp(z)``), which the direct branch then keeps.

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> v = gw.vector("v")
    >>> r = remainder("sin", v, -1.0, 0, 1)  # v - sin(v)
    >>> r.eval({v: np.array([1e-8, 2.0])})
    array([1.66666667e-25, 1.09070257e+00])
    """
    if name == "exp" and m >= 0:
        name = "expm1"  # the same remainder, and exp(v) - 1 would become expm1(v) anyway
    tail = tail_terms(name, m + 1)
    if tail is None:
        return None
    lead, coefs = tail
    small = ew.lt(ew.abs(v), FUNCTIONS[name].radius)
    inside = ew.switch(small, v, 0.0)  # each branch sees safe values
    base, sign, value = _direct_value(name, v, small, alias)
    series = _horner(coefs, inside)
    if lead + p:
        series = series * power(inside, lead + p)
    j = order(name[4:]) if name.startswith("inv_") else 0
    direct = times(a * sign ** (j + p), value)
    if p:
        direct = direct * power(base, p)
    for k, c in enumerate(coefficients(name)[: m + 1]):
        if c:  # written term by term, so that an outer sum can read the remainder back (_remainder_parts)
            direct = _minus(direct, a * float(c) * sign ** (k + p), power(base, k + p))
    return ew.switch(small, times(a, series), direct)
