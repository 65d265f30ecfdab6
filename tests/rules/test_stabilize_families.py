"""The stabilize families of issue 14 item 6: Taylor remainders and normalised exponentials behind an index.

``stabilize_taylor`` rewrites a function minus the leading terms of its own Taylor series (``log1p(x) - x``,
``sin(x) - x`` ...); ``stabilize_softmax`` finds softmax and logsumexp forms behind an index and in gradient
graphs. Each rule is an equation here (every step checked numerically); the held-out-like value and gradient
tables are ``FAMILY_CASES`` in ``stability_cases.py`` (run by ``test_extreme_inputs.py`` and
``tests/transforms/test_grad_extreme.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw
from graphwright.rewrite.testing import assert_rewrites, rewritten, symbols
from graphwright.rules import stabilize_softmax, stabilize_taylor
from graphwright.rules.stabilize_taylor import remainder
from graphwright.rules.stabilize_taylor_series import FUNCTIONS, coefficients, tail_terms


def _rem(name, a, p, m, arg=lambda n: n["x"]):
    return lambda names: remainder(name, arg(names), a, p, m)


# (rule, before, after): ``after`` may be a function of the names giving the expected variable
EQUATIONS = [
    ("taylor_remainder", "log1p(x) - x", _rem("log1p", 1.0, 0, 1)),
    ("taylor_remainder", "x - log1p(x)", _rem("log1p", -1.0, 0, 1)),
    ("taylor_remainder", "-x + log1p(x)", _rem("log1p", 1.0, 0, 1)),
    ("taylor_remainder", "log1p(-x) + x", _rem("log1p", 1.0, 0, 1, lambda n: -n["x"])),
    ("taylor_remainder", "log1p(2 * x) - 2 * x", _rem("log1p", 1.0, 0, 1, lambda n: 2 * n["x"])),
    ("taylor_remainder", "exp(x) - (1 + x)", _rem("exp", 1.0, 0, 1)),
    ("taylor_remainder", "(exp(x) - x) - 1", _rem("exp", 1.0, 0, 1)),
    ("taylor_remainder", "exp(x) - 1 - x", _rem("expm1", 1.0, 0, 1)),  # expm1 first, then the remainder
    ("taylor_remainder", "sin(x) - x", _rem("sin", 1.0, 0, 2)),
    ("taylor_remainder", "tanh(x) - x", _rem("tanh", 1.0, 0, 2)),
    ("taylor_remainder", "3 * arctan(x) - 3 * x", _rem("arctan", 3.0, 0, 2)),
    ("taylor_remainder", "log1p(x) - x + x**2 / 2", _rem("log1p", 1.0, 0, 2)),
    ("taylor_remainder", "expm1(x) / x - 1", _rem("expm1", 1.0, -1, 1)),
    ("taylor_remainder", "sqr(sin(x)) - x**2", _rem("sin_sq", 1.0, 0, 3)),
    ("taylor_remainder", "x / expm1(x) - 1", _rem("inv_expm1", 1.0, 0, 0)),
    ("taylor_remainder", "1 - x / sin(x)", _rem("inv_sin", -1.0, 0, 1)),
    ("taylor_remainder", "reciprocal(cos(x)) - 1", _rem("inv_cos", 1.0, 0, 1)),
    ("taylor_remainder", "softplus(x) - exp(x)",
     lambda n: remainder("log1p", gw.exp(n["x"]), 1.0, 0, 1, alias="softplus")),
    ("taylor_remainder", "(y + log1p(x)) - x", lambda n: remainder("log1p", n["x"], 1.0, 0, 1) + n["y"]),
    ("cosh_minus_one", "cosh(x) - 1", "2 * sqr(sinh(0.5 * x))"),
    ("one_minus_cosh", "1 - cosh(x)", "-(2 * sqr(sinh(0.5 * x)))"),
    ("log_reciprocal", "log(reciprocal(sum(exp(x))))", "-logsumexp(x, axis=0)"),
    ("normalised_exp", "exp(x[0]) / sum(exp(x))", "exp(x[0] - logsumexp(x, axis=0))"),
    ("normalised_exp", "exp(x) * (s / sum(exp(x)))", "softmax(x, axis=0) * s"),
    ("normalised_exp", "(s * exp(m)) / sum(exp(m), axis=1, keepdims=True)", "softmax(m, axis=1) * s"),
    ("normalised_exp", "exp(y) * reciprocal(sum(exp(x)))", "exp(y - logsumexp(x, axis=0))"),
    ("under_index", "log(softmax(x)[1])", "log_softmax(x, axis=0)[1]"),
    ("under_index", "log(exp(x) / sum(exp(x)))[1]", "log_softmax(x, axis=0)[1]"),
    ("under_index", "log(exp(m) / sum(exp(m), axis=1, keepdims=True))[0, 1]", "log_softmax(m, axis=1)[0, 1]"),
    ("under_index", "log(softmax(x)[i])", "log_softmax(x, axis=0)[i]"),
]
RULE_SETS = (stabilize_taylor.RULES, stabilize_softmax.RULES)


def _eq_id(case) -> str:
    return f"{case[0]}: {case[1]}"


@pytest.mark.parametrize("case", EQUATIONS, ids=[_eq_id(c) for c in EQUATIONS])
def test_equation(case):
    rule, before, after = case
    names = symbols()
    expected = after(names) if callable(after) else after
    assert_rewrites(before, expected, phases="stabilize", rule=rule, names=names)


def test_every_rule_has_an_equation_and_is_documented():
    registered = {r.name for rs in RULE_SETS for r in rs}
    assert {case[0] for case in EQUATIONS} == registered
    for rs in RULE_SETS:
        for rule in rs:
            assert "stability" in rule.tags and "=" in rule.identity, rule.name


@pytest.mark.parametrize("expr", [
    "log1p(x) - y",  # another variable
    "sin(x) - 2 * x",  # not the Taylor coefficient
    "exp(x) - x",  # only the constant term would cancel, and it is not there
    "log1p(x) - x**2",
    "exp(x) - 1",  # expm1 takes it, not the remainder
    "cos(x) - 1",  # a dedicated rule
    "log(exp(x)[1] + y)",  # an index, but no rule for the un-indexed form
    "exp(x) * (y / sum(z))",  # not a sum of exponentials
])
def test_left_alone(expr):
    out, trace = rewritten(expr, "stabilize")
    mine = {r.name for rs in RULE_SETS for r in rs} - {"cosh_minus_one", "one_minus_cosh"}
    assert not [s for s in trace.steps if s.rule.name in mine], trace.text()


def test_remainder_is_not_rewritten_again():
    """Rewriting a rewritten graph again (gw.grad stabilizes the cost, gw.function rewrites once more) keeps
    it as it is: the direct branch is not matched again, and the node count does not grow."""
    x = gw.vector("x")
    once = gw.rewrite(gw.log1p(x) - x, phases="stabilize")[0]
    twice, trace = gw.rewrite(once, phases="stabilize")
    assert not trace.steps and twice.outputs[0] is once.outputs[0]
    f = gw.function([x], gw.grad(gw.sum(gw.sin(x) - x), x))
    assert np.isclose(f(np.array([1e-8]))[0], -0.5e-16, rtol=1e-12)


def test_float32_keeps_its_dtype_and_precision():
    x = gw.vector("x", "float32")
    f = gw.function([x], gw.log1p(x) - x)
    got = f(np.array([1e-10, 1e-3, 0.5], dtype="float32"))
    assert got.dtype == np.float32
    ref = np.log1p(np.array([1e-10, 1e-3, 0.5])) - np.array([1e-10, 1e-3, 0.5])
    ref[0] = -5e-21  # np.log1p(x) - x cancels there too
    assert np.allclose(got, ref, rtol=2e-6, atol=0)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_series_tables(name):
    """The coefficients agree with the function (the series at a small point, against NumPy) and the tails
    converge inside the radius."""
    f = FUNCTIONS[name].build
    v = gw.scalar("v")
    point = 0.5 * FUNCTIONS[name].radius
    value = float(f(v).eval({v: np.float64(point)}))
    series = sum(float(c) * point**k for k, c in enumerate(coefficients(name)))
    assert np.isclose(value, series, rtol=1e-14)
    for start in range(1, 6):
        assert tail_terms(name, start) is not None


def test_cost_per_node_is_bounded_on_long_sums():
    """A chain of n additions: the rule looks at a bounded number of terms per node, so the number of term
    inspections grows linearly (counted, not timed)."""
    calls = {"n": 0}
    original = stabilize_taylor.in_base

    def counting(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    x = gw.vector("x")
    counts = []
    for n in (40, 400):
        calls["n"] = 0
        z = gw.log1p(x) - x
        for k in range(n):
            z = z + gw.sin(x * float(k + 1)) + x * float(k + 2)  # function terms and monomials of x
        stabilize_taylor.in_base = counting
        try:
            gw.rewrite(z, phases="stabilize")
        finally:
            stabilize_taylor.in_base = original
        counts.append(calls["n"])
    assert 0 < counts[1] <= 12 * counts[0], counts


def test_many_indexed_entries_cost_linearly():
    """Every entry of a hand-written log-softmax, summed: each entry is one under_index step (the long sum
    itself is not searched), and the candidates built grow linearly with the entries (counted)."""
    built = {"n": 0}
    original = stabilize_softmax._unindexed

    def counting(*args):
        built["n"] += 1
        return original(*args)

    counts = []
    for n in (30, 300):
        x = gw.vector("x", shape=(n,))
        e, den = gw.exp(x), gw.sum(gw.exp(x))
        cost = gw.add(*[gw.log(e[i] / den) for i in range(n)])
        built["n"] = 0
        stabilize_softmax._unindexed = counting
        try:
            _, trace = gw.rewrite(cost, phases="stabilize")
        finally:
            stabilize_softmax._unindexed = original
        assert trace.counts["under_index"] == 2 * n  # true_div -> softmax(x)[i], then log -> log_softmax(x)[i]
        counts.append(built["n"])
    assert 0 < counts[1] <= 12 * counts[0], counts


def _values(expr, xs):
    x = gw.vector("x")
    return gw.function([x], expr(x), backend="numpy")(np.array(xs))


def test_coefficient_near_the_taylor_one_keeps_the_difference():
    """``log1p(x) - (1 + 1e-13) * x`` is not ``log1p(x) - x``: near 0 the leftover ``-1e-13 * x`` dominates."""
    k = 1.0000000000001
    xs = [1e-14, 1e-10, 1e-3]
    expected = [np.log1p(v) - v - (k - 1.0) * v if v > 1e-8 else -(v**2) / 2 - (k - 1.0) * v for v in xs]
    got = _values(lambda x: gw.log1p(x) - k * x, xs)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize("expr, xs, expected", [
    # log1mexp(x) + exp(x) = log(-expm1(x)) + exp(x), computed with mpmath
    (lambda x: gw.log1mexp(x) + gw.exp(x), [-1e-20, -1e-8], [-45.051701859880914, -17.420680758952365]),
    (lambda x: gw.log(1 - gw.exp(x)) + gw.exp(x), [-1e-20], [-45.051701859880914]),
    (lambda x: gw.softplus(x) - gw.exp(x), [1000.0], [-np.inf]),
])
def test_direct_branch_keeps_the_stable_op(expr, xs, expected):
    """Above the radius the remainder is the term as written: softplus and log1mexp stay themselves, never
    their naive forms ``log1p(exp(z))``, ``log1p(-exp(z))`` (which lose everything near z = 0 or overflow)."""
    with np.errstate(all="ignore"):
        got = _values(expr, xs)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_a_users_switch_is_not_read_as_a_remainder():
    """A switch with the rule's condition and clamp but another small branch is the user's, not a remainder
    the rule made: ``x**2 / 2`` must not be folded into it."""
    def expr(x):
        small = gw.lt(gw.abs(x), 0.1)
        clamped = gw.switch(small, 0.1, x)
        return gw.switch(small, 42.0 * x, gw.log1p(clamped) - clamped) + x**2 / 2
    np.testing.assert_allclose(_values(expr, [0.01, 0.05]), [0.42005, 2.10125], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda x: x - gw.log1p(x), lambda x: gw.softplus(x) - gw.exp(x), lambda x: gw.log1mexp(x) + gw.exp(x),
    lambda x: -gw.log1mexp(x) - gw.exp(x),
])
def test_remainder_with_a_stable_op_or_a_sign_is_a_fixed_point(make):
    """The direct branch is written as canonicalize leaves it (no ``a - (-b)``), so a second rewrite changes
    nothing and an outer sum still reads the remainder back (the identity check of ``_remainder_parts``)."""
    x = gw.vector("x")
    once = gw.rewrite(make(x), phases="stabilize")[0]
    twice, trace = gw.rewrite(once, phases="stabilize")
    assert not trace.steps and twice.outputs[0] is once.outputs[0], trace.text()
    assert stabilize_taylor._remainder_parts(once.outputs[0]) is not None
