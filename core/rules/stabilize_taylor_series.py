"""Taylor coefficients of the functions whose difference with their own leading terms cancels near 0.

``log1p(x) - x`` at x = 1e-20 is ``0`` in floating point (the true value is -5e-41): the function and the
first terms of its Taylor series agree to every digit, and the difference keeps none. The remainder
``f(v) - sum(c_k v**k, k <= m)`` is ``v**(m+1) * sum(c_(m+1+j) v**j)``, a series with no cancellation for
small ``|v|``. This module holds the coefficients ``c_k`` (exact, as fractions, computed once), the radius
below which the series is used and how many terms it needs there, and the term algebra the rule reads sums
with (:func:`signed_terms`, :func:`in_base`).

Examples
--------
>>> [str(c) for c in coefficients("log1p")[:4]]
['0', '1', '-1/2', '1/3']
>>> FUNCTIONS["tan"].radius
0.25
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from graphwright.graph.basic import Constant, Variable
from graphwright.rewrite.pattern import constant_value
from graphwright.rules.helpers import scalar_name
from graphwright.tensor import elemwise as ew

__all__ = ["FUNCTIONS", "SeriesFunction", "coefficients", "order", "tail_terms", "LENGTH", "signed_terms", "in_base",
           "power_of", "scalar_constant"]

LENGTH = 48  # coefficients kept per function: enough for the remainder of any matched degree below ~25
_TOLERANCE = 2.0**-56  # a truncated series is accurate to this, relative to its first term
MAX_TERMS = 8  # terms looked at per sum below its root: a long chain of additions costs O(1) per node
DEPTH = 6  # how deep the term algebra looks into products, quotients and powers


def _exp_like(parity: int | None, sign: int) -> tuple[Fraction, ...]:
    """Coefficients of exp (parity None), sinh/cosh (sign 1) or sin/cos (sign -1; parity 1 odd, 0 even)."""
    out = []
    for k in range(LENGTH):
        if parity is not None and k % 2 != parity:
            out.append(Fraction(0))
            continue
        s = sign ** (k // 2) if parity is not None else 1
        out.append(Fraction(s, math.factorial(k)))
    return tuple(out)


def _divide(num: tuple[Fraction, ...], den: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
    """The power series ``num / den`` (``den[0] != 0``)."""
    out: list[Fraction] = []
    for n in range(LENGTH):
        out.append((num[n] - sum(den[i] * out[n - i] for i in range(1, n + 1))) / den[0])
    return tuple(out)


def _odd(term: Callable[[int], Fraction]) -> tuple[Fraction, ...]:
    """An odd series whose coefficient of v**(2j+1) is ``term(j)``."""
    return tuple(term(k // 2) if k % 2 else Fraction(0) for k in range(LENGTH))


def _arcsin_term(j: int) -> Fraction:
    return Fraction(math.comb(2 * j, j), 4**j * (2 * j + 1))


def _squared_half_angle(cos_like: tuple[Fraction, ...], sign: int) -> tuple[Fraction, ...]:
    """sin(v)**2 = (1 - cos(2v)) / 2 (sign -1) and sinh(v)**2 = (cosh(2v) - 1) / 2 (sign 1)."""
    return (Fraction(0),) + tuple(sign * c * 2**k / 2 for k, c in enumerate(cos_like) if k > 0)


@cache
def coefficients(name: str) -> tuple[Fraction, ...]:
    """The Taylor coefficients at 0 of the function ``name`` (exact fractions, :data:`LENGTH` of them).

    Examples
    --------
    >>> [str(c) for c in coefficients("tan")[:6]]
    ['0', '1', '0', '1/3', '0', '2/15']
    """
    if name.startswith("inv_"):  # v**j / f(v), j the order of f's zero at 0: analytic
        base = coefficients(name[4:])
        j = order(name[4:])
        return _divide((Fraction(1),) + (Fraction(0),) * (LENGTH - 1), base[j:] + (Fraction(0),) * j)
    exp = _exp_like(None, 1)
    table: dict[str, Callable[[], tuple[Fraction, ...]]] = {
        "exp": lambda: exp,
        "expm1": lambda: (Fraction(0),) + exp[1:],
        "log1p": lambda: (Fraction(0),) + tuple(Fraction((-1) ** (k + 1), k) for k in range(1, LENGTH)),
        "sin": lambda: _exp_like(1, -1),
        "cos": lambda: _exp_like(0, -1),
        "sinh": lambda: _exp_like(1, 1),
        "cosh": lambda: _exp_like(0, 1),
        "tan": lambda: _divide(_exp_like(1, -1), _exp_like(0, -1)),
        "tanh": lambda: _divide(_exp_like(1, 1), _exp_like(0, 1)),
        "arctan": lambda: _odd(lambda j: Fraction((-1) ** j, 2 * j + 1)),
        "arctanh": lambda: _odd(lambda j: Fraction(1, 2 * j + 1)),
        "arcsin": lambda: _odd(_arcsin_term),
        "arcsinh": lambda: _odd(lambda j: (-1) ** j * _arcsin_term(j)),
        "sin_sq": lambda: _squared_half_angle(_exp_like(0, -1), -1),
        "sinh_sq": lambda: _squared_half_angle(_exp_like(0, 1), 1),
    }
    return table[name]()


@dataclass(frozen=True)
class SeriesFunction:
    """A function of the table: ``radius`` bounds ``|v|`` where its remainder series is used (outside it the
    difference is computed as written, no worse than the naive formula and as poor as it where that one
    cancels, e.g. for a deep remainder just above the radius); ``build`` makes ``f(v)`` as a graph."""

    name: str
    radius: float
    build: Callable[[Variable], Variable]


def order(name: str) -> int:
    """The order of the zero of ``name`` at 0 (0 when it does not vanish there)."""
    return next(k for k, c in enumerate(coefficients(name)) if c != 0)


def _unary(name: str) -> Callable[[Variable], Variable]:
    return lambda v: ew.elemwise(name, v)


def _inverse(f: SeriesFunction) -> SeriesFunction:
    """``v**j / f(v)`` (``1 / f(v)`` when f(0) != 0), whose series :func:`coefficients` gives as ``inv_f``."""
    j = order(f.name)
    return SeriesFunction("inv_" + f.name, f.radius,
                          lambda v: (ew.pow(v, float(j)) if j > 1 else v) / f.build(v) if j else 1.0 / f.build(v))


_ENTIRE, _HALF_PI, _UNIT = 0.5, 0.25, 0.1  # radii for entire functions, tan/tanh, radius-1 series
FUNCTIONS: dict[str, SeriesFunction] = {
    **{n: SeriesFunction(n, _ENTIRE, _unary(n)) for n in ("exp", "expm1", "sin", "cos", "sinh", "cosh")},
    **{n: SeriesFunction(n, _HALF_PI, _unary(n)) for n in ("tan", "tanh")},
    **{n: SeriesFunction(n, _UNIT, _unary(n)) for n in ("log1p", "arctan", "arctanh", "arcsin", "arcsinh")},
    "sin_sq": SeriesFunction("sin_sq", _ENTIRE, lambda v: ew.sqr(ew.sin(v))),
    "sinh_sq": SeriesFunction("sinh_sq", _ENTIRE, lambda v: ew.sqr(ew.sinh(v))),
}
FUNCTIONS.update({"inv_" + n: _inverse(f) for n, f in list(FUNCTIONS.items())})  # x / expm1(x) - 1 ...


def tail_terms(name: str, start: int) -> tuple[int, list[float]] | None:
    """``(lead, coefs)``: the remainder from degree ``start`` on is ``v**lead * sum(coefs[j] * v**j)``,
    truncated where the terms fall below 2**-56 of the first inside the radius (None if the table is too short).

    Examples
    --------
    >>> lead, coefs = tail_terms("sin", 2)  # sin(v) - v = v**3 * (-1/6 + v**2 / 120 - ...)
    >>> lead, coefs[:3]
    (3, [-0.16666666666666666, 0.0, 0.008333333333333333])
    """
    coefs = coefficients(name)[start:]
    first = next((j for j, c in enumerate(coefs) if c != 0), None)
    if first is None:
        return None
    coefs = coefs[first:]
    r = FUNCTIONS[name].radius
    scale = abs(float(coefs[0]))
    big = [j for j, c in enumerate(coefs) if abs(float(c)) * r**j > _TOLERANCE * scale]
    if big[-1] >= len(coefs) - 2:
        return None  # the series has not converged within the table
    return start + first, [float(c) for c in coefs[: big[-1] + 1]]


# ------------------------------------------------------------------- the term algebra of the rules
def signed_terms(var: Variable, limit: int | None = MAX_TERMS) -> list[tuple[int, Variable]]:
    """The terms of a tree of ``add``, ``sub`` and ``neg`` with their signs (``(a - b) + c`` ->
    ``[(1, a), (-1, b), (1, c)]``): every input of ``var`` itself (``limit=None``) or at most ``limit``
    terms; below ``var``, a subtree past :data:`MAX_TERMS` terms stays one term.

    Examples
    --------
    >>> import graphwright as gw
    >>> a, b = gw.vector("a"), gw.vector("b")
    >>> signed_terms((a - b) - gw.exp(a))
    [(1, a), (-1, b), (-1, exp(a))]
    """
    out: list[tuple[int, Variable]] = []
    stack = [(1, var)]
    while stack:
        sign, v = stack.pop()
        name = scalar_name(v)
        room = len(out) + len(stack) + 2 <= (limit or MAX_TERMS)
        if name in ("add", "sub") and ((v is var and limit is None) or (room and len(v.owner.inputs) == 2)):
            first, *rest = v.owner.inputs
            stack.extend((-sign if name == "sub" else sign, r) for r in reversed(rest))
            stack.append((sign, first))
        elif name == "neg" and v is not var:
            stack.append((-sign, v.owner.inputs[0]))
        else:
            out.append((sign, v))
    return out


def scalar_constant(v: Variable) -> float | None:
    """The value of a 0-d constant, else None."""
    return constant_value(v) if isinstance(v, Constant) and v.type.ndim == 0 else None


def power_of(v: Variable) -> tuple[Variable, int] | None:
    """``(u, k)`` for ``v = u**k`` with a constant integer ``k`` (also ``sqr(u)``, ``u * u``)."""
    name, ins = scalar_name(v), (v.owner.inputs if v.owner is not None else ())
    if name == "sqr" or (name == "mul" and len(ins) == 2 and ins[0] is ins[1]):
        return ins[0], 2
    k = scalar_constant(ins[1]) if name == "pow" else None
    if k is not None and k.is_integer() and abs(k) <= 64:
        return ins[0], int(k)
    return None


def in_base(t: Variable, base: Variable, depth: int = DEPTH) -> tuple[float, int] | None:
    """``(c, d)`` when ``t = c * base**d`` (``d`` an integer, possibly 0 or negative), else None.

    Examples
    --------
    >>> import graphwright as gw
    >>> v = gw.vector("v")
    >>> in_base(-(v**3) / 6, v), in_base(2.0 * v / v**2, v), in_base(gw.exp(v), v)
    ((-0.16666666666666666, 3), (2.0, -1), None)
    """
    if t is base:
        return 1.0, 1
    c = scalar_constant(t)
    if c is not None:
        return c, 0
    name = scalar_name(t)
    if depth == 0 or name is None:
        return None
    parts = [in_base(v, base, depth - 1) for v in t.owner.inputs] if name in ("neg", "mul", "true_div",
                                                                             "reciprocal") else None
    if parts is not None and all(p is not None for p in parts):
        if name == "neg":
            return -parts[0][0], parts[0][1]
        if name == "mul":
            return math.prod(p[0] for p in parts), sum(p[1] for p in parts)
        if parts[-1][0] == 0:
            return None
        num = parts[0] if name == "true_div" else (1.0, 0)
        return num[0] / parts[-1][0], num[1] - parts[-1][1]
    power = power_of(t)
    inner = None if power is None else in_base(power[0], base, depth - 1)
    if inner is None or (inner[0] == 0 and power[1] < 0):
        return None
    return inner[0] ** power[1], inner[1] * power[1]
