"""Every fact rule, by value: where the analysis says a fact holds, random and extreme inputs satisfy it (also
one op further on: a divisor, a power, a square root of every case); every registered (fact, op class) rule has
a case here; and abs(x) = x keeps every value bit for bit, the sign of a zero included."""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw
from graphwright.facts import facts_of, has, registry
from graphwright.graph import toposort
from graphwright.graph.basic import Constant
from graphwright.rewrite import RuleSet, rewrite
from graphwright.rules.assume import FACT_RULES
from graphwright.tensor.assume import Assume

x, y = gw.vector("x"), gw.vector("y")
x32 = gw.vector("x32", "float32")
m = gw.matrix("m")
n = gw.scalar("n", "int64")

HOLDS: dict[str, callable] = {
    "nonnegative": lambda v: np.all((v >= 0) | np.isnan(v)),
    "positive": lambda v: np.all((v > 0) | np.isnan(v)),
    "integer_valued": lambda v: np.all(~np.isfinite(v) | (v == np.round(v))),
    "zeros": lambda v: np.all(v == 0),
    "no_negative_zero": lambda v: not np.any((v == 0) & np.signbit(v)),
    "identity": lambda v: np.array_equal(v, np.broadcast_to(np.eye(v.shape[-1]), v.shape)),
}

# (expression, fact, does the analysis know it)
CASES = [
    (gw.exp(x), "nonnegative", True),
    (x**2, "nonnegative", True),
    (x * x, "nonnegative", True),
    (x**4, "nonnegative", True),
    (x**3, "nonnegative", False),
    (gw.abs(x) / gw.sigmoid(y), "nonnegative", True),
    (gw.sum(x * x), "nonnegative", True),
    (gw.maximum(x, 0), "nonnegative", True),
    (gw.minimum(gw.exp(x), gw.sqrt(y)), "nonnegative", True),
    (gw.sqrt(gw.exp(x)) ** y, "nonnegative", True),
    (gw.sqrt(x) ** gw.exp(y), "nonnegative", True),  # (-0.0) ** c >= 0 for c >= 0
    (gw.exp(x) / gw.exp(y), "nonnegative", True),
    (gw.reciprocal(gw.cosh(x)), "nonnegative", True),
    (x ** -2.0, "nonnegative", True),
    (1.0 / gw.sqrt(x), "nonnegative", False),  # sqrt(-0.0) = -0.0 and 1 / -0.0 = -inf
    (gw.reciprocal(gw.sqrt(x)), "nonnegative", False),
    (gw.sqrt(x) ** -1.0, "nonnegative", False),
    (gw.exp(x) / gw.sqrt(y), "nonnegative", False),
    (gw.reciprocal(gw.sqrt(x32)), "nonnegative", False),
    (gw.exp(x32) / gw.abs(x32), "nonnegative", True),
    (gw.switch(x > 0, gw.exp(y), gw.cosh(x)), "nonnegative", True),
    (gw.clip(x, 0.0, 1.0), "nonnegative", True),
    (gw.clip(x, -1.0, 1.0), "nonnegative", False),
    (gw.softmax(m), "nonnegative", True),
    (gw.log_softmax(m), "nonnegative", False),
    (gw.max(gw.exp(m), axis=0), "nonnegative", True),
    (gw.exp(m).T.reshape((-1,)), "nonnegative", True),
    (gw.exp(m)[0], "nonnegative", True),
    (gw.exp(m).T, "nonnegative", True),
    (gw.full((2, 3), 3.0), "nonnegative", True),
    (gw.concatenate([gw.exp(x), x * x]), "nonnegative", True),
    (gw.concatenate([gw.exp(x), x]), "nonnegative", False),
    (gw.zero_grad(gw.exp(x)), "nonnegative", True),
    (gw.vector("u", "uint8"), "nonnegative", True),
    (gw.vector("i", "int8") * gw.vector("i", "int8"), "nonnegative", False),  # wraps around in int8
    (gw.constant([0.0, 2.0]), "nonnegative", True),
    (gw.constant([-1.0, 2.0]), "nonnegative", False),
    (x, "nonnegative", False),
    (x - 1, "nonnegative", False),
    (gw.constant([0.5, 2.0]), "positive", True),
    (gw.constant([0.0, 2.0]), "positive", False),
    (gw.exp(x), "positive", False),  # exp underflows to 0
    (gw.floor(x) * gw.round(y) - gw.ceil(x), "integer_valued", True),
    (gw.sum(gw.vector("i", "int16")), "integer_valued", True),
    (gw.floor(x) ** gw.constant(3.0), "integer_valued", True),
    (gw.floor(x) ** gw.constant(-1.0), "integer_valued", False),
    (gw.switch(x > 0, gw.floor(x), gw.sign(y)), "integer_valued", True),
    (gw.constant([1.0, -3.0, np.inf]), "integer_valued", True),
    (gw.constant([0.5]), "integer_valued", False),
    (x + 1, "integer_valued", False),
    (gw.zeros((3, 2)), "zeros", True),
    (gw.zeros_like(x), "zeros", True),
    (gw.constant([0.0, -0.0]), "zeros", True),
    (gw.constant([0.0, 1.0]), "zeros", False),
    (gw.exp(x), "no_negative_zero", True),
    (gw.sqrt(x), "no_negative_zero", False),
    (gw.sqrt(gw.exp(x)), "no_negative_zero", True),
    (gw.abs(x) + x, "no_negative_zero", True),  # a sum is -0.0 only when every term is
    (gw.exp(x) - y, "no_negative_zero", True),
    (x - gw.exp(y), "no_negative_zero", False),
    (gw.exp(x) * gw.sigmoid(y), "no_negative_zero", True),
    (gw.exp(x) * x, "no_negative_zero", False),
    (gw.sqr(x) / gw.softplus(y), "no_negative_zero", True),
    (gw.reciprocal(gw.sqrt(x)), "no_negative_zero", True),  # 1 / x is -0.0 only at x = -inf
    (gw.exp(x) ** y, "no_negative_zero", True),
    (gw.sqrt(x) ** 3.0, "no_negative_zero", False),
    (x ** -4.0, "no_negative_zero", True),
    (gw.maximum(x, 1e-12), "no_negative_zero", True),
    (gw.maximum(x, 0.0), "no_negative_zero", False),  # maximum(-0.0, 0.0) may be either zero
    (gw.clip(x, 0.5, 2.0), "no_negative_zero", True),
    (gw.clip(x, 0.0, 1.0), "no_negative_zero", False),  # clip(-0.0, 0.0, 1.0) is -0.0
    (gw.minimum(gw.exp(x), gw.abs(y)), "no_negative_zero", True),
    (gw.switch(x > 0, gw.exp(x), gw.hypot(x, y)), "no_negative_zero", True),
    (gw.sum(gw.abs(m), axis=0), "no_negative_zero", True),
    (gw.prod(gw.exp(m), axis=1), "no_negative_zero", True),
    (gw.prod(gw.sqrt(m) + 1.0, axis=1), "no_negative_zero", True),
    (gw.prod(gw.sqrt(m), axis=1), "no_negative_zero", False),
    (gw.softmax(m), "no_negative_zero", True),
    (gw.vector("i", "int8") - 1, "no_negative_zero", True),
    (gw.constant([0.0, 1.0]), "no_negative_zero", True),
    (gw.constant([-0.0, 1.0]), "no_negative_zero", False),
    (gw.exp(x32) * gw.exp(x32), "no_negative_zero", True),
    (gw.eye(3), "identity", True),
    (gw.eye(n), "identity", True),
    (gw.eye(3, 4), "identity", False),
    (gw.eye(3, k=1), "identity", False),
    (gw.constant(np.eye(2)), "identity", True),
    (gw.constant(np.ones((2, 2))), "identity", False),
    (gw.assume(x, "positive"), "positive", True),
    (gw.assume(m, "symmetric"), "symmetric", True),
    (gw.assume(m, "symmetric"), "positive_definite", False),
]


# every sign of zero, both infinities, NaN, subnormals, and values where exp, squares and products overflow
EDGE = (0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 0.5, -2.0, 3.0, 700.0, -700.0, 1e300, -1e300, np.inf, -np.inf,
        np.nan)


def _values(expr, rng: np.random.Generator, kind: str) -> list[np.ndarray]:
    """Random values, or ("edge") every combination of the EDGE values over the float inputs, element by
    element (all 16**k of them for k float inputs)."""
    inputs = _inputs(expr)
    floats = [v for v in inputs if v.type.dtype.startswith("float") and v.type.ndim]
    count = len(EDGE) ** len(floats)
    out = []
    for v in inputs:
        if not v.type.ndim:
            out.append(np.asarray(3, dtype=v.type.dtype))
            continue
        shape = (count,) if v.type.ndim == 1 else (count // 2, 2)
        if v in floats and kind == "edge":
            digit = (np.arange(count) // len(EDGE) ** floats.index(v)) % len(EDGE)
            data = np.asarray(EDGE)[digit].reshape(shape)
        elif v in floats:
            data = rng.normal(0, 3, shape)
        else:
            info = np.iinfo(v.type.dtype) if v.type.dtype != "bool" else None
            data = rng.integers(0, 2, shape) if info is None else rng.integers(max(info.min, -100), 100, shape)
            if info is not None and kind == "edge":
                data.reshape(-1)[:4] = [info.min, info.max, 0, 1][:data.size]
        with np.errstate(over="ignore", under="ignore"):
            out.append(np.asarray(data, dtype=v.type.dtype))
    return out


def _evaluations(expr, rewritten=None):
    """The values of ``expr`` (unrewritten) and of ``rewritten`` (its rewritten graph, when given) on random and
    edge inputs."""
    inputs = _inputs(expr)
    fn = gw.function(inputs, expr, rewrites=None, backend="numpy")
    other = None if rewritten is None else gw.function(inputs, rewritten, rewrites=None, backend="numpy")
    rng = np.random.default_rng(0)
    for kind in ("random", "edge"):
        values = _values(expr, rng, kind)
        with np.errstate(all="ignore"):
            yield np.asarray(fn(*values)), None if other is None else np.asarray(other(*values))


def _inputs(expr) -> list:
    from graphwright.graph import toposort

    seen = {}
    for node in toposort([expr]):
        for v in node.inputs:
            if v.owner is None and not isinstance(v, Constant):
                seen.setdefault(v, None)
    return list(seen) or ([expr] if expr.owner is None and not isinstance(expr, Constant) else [])


@pytest.mark.parametrize(("expr", "fact", "known"), CASES, ids=[f"{f}: {e}" for e, f, _ in CASES])
def test_fact_analysis(expr, fact, known):
    assert has(fact, expr) is known
    if not known or fact not in HOLDS or isinstance(getattr(expr.owner, "op", None), Assume):
        return  # a stated fact is the user's promise, not a derived one
    for value, _ in _evaluations(expr):
        assert HOLDS[fact](value), (expr, fact, value)


# one op further: a quotient, a power, a root of each case (1 / sqrt(x) was once called nonnegative)
FURTHER = {
    "1/e": lambda e: 1.0 / e,
    "reciprocal": gw.reciprocal,
    "e**-1": lambda e: e ** -1.0,
    "e**-3": lambda e: e ** -3.0,
    "e**3": lambda e: e ** 3.0,
    "e**0.5": lambda e: e ** 0.5,
    "sqrt": gw.sqrt,
    "exp(e)/e": lambda e: gw.exp(e) / e,
    "e*e": lambda e: e * e,
    "e-0": lambda e: e - 0.0,
    "e+e": lambda e: e + e,
    "max(e,0)": lambda e: gw.maximum(e, 0.0),
    "sum": gw.sum,
}
FLOAT_CASES = [e for e, _, _ in CASES if str(e.type.dtype).startswith("float") and e.type.ndim
               and not any(isinstance(n.op, Assume) for n in toposort([e]))]
FURTHER_CASES = [(e, name) for e in dict.fromkeys(FLOAT_CASES) for name in FURTHER]


@pytest.mark.parametrize(("expr", "further"), FURTHER_CASES, ids=[f"{n}: {e}" for e, n in FURTHER_CASES])
def test_every_derived_fact_holds_one_op_further(expr, further):
    out = FURTHER[further](expr)
    claimed = sorted(facts_of(out) & set(HOLDS))
    for value, _ in _evaluations(out):
        assert [f for f in claimed if not HOLDS[f](value)] == [], (out, value)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN where NaN, and the same sign of every zero."""
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True) and np.array_equal(
        np.signbit(a) | np.isnan(a), np.signbit(b) | np.isnan(b))


@pytest.mark.parametrize("expr", dict.fromkeys(FLOAT_CASES), ids=str)
def test_abs_of_a_known_nonnegative_is_kept_bit_for_bit(expr):
    """abs(x) = x where it fires: also through 1 / abs(x), which tells -0.0 (-inf) from +0.0 (+inf)."""
    for out in (gw.abs(expr), 1.0 / gw.abs(expr)):
        graph, _ = rewrite(out, rules=RuleSet("t_abs", [FACT_RULES["abs_nonnegative"]]))
        for before, after in _evaluations(out, graph.outputs[0]):
            assert _same_bits(before, after), (out, before, after)


def test_every_fact_rule_has_a_case():
    """A (fact, op class) rule that no case exercises with a True answer is an untested rule."""
    covered = set()
    for expr, fact, known in CASES:
        if known:
            key = Constant if isinstance(expr, Constant) else (type(expr.owner.op) if expr.owner else None)
            covered |= {(fact, key), (registry.ANY_FACT, key), (fact, gw.Variable)}
    rules = set(registry._RULES)
    moved = {k for k in rules if k[0] in ("integer_valued", "positive", "zeros", "no_negative_zero")
             and k[1].__name__ in ("DimShuffle", "Reshape", "Alloc", "Subtensor", "Join")}  # one rule for all facts
    assert rules - covered - moved == set()


def test_facts_of_lists_every_fact_that_holds():
    assert facts_of(gw.constant(2.0)) == {"nonnegative", "positive", "integer_valued", "no_negative_zero"}
    assert {"identity", "diagonal", "symmetric", "positive_definite", "orthogonal", "lower_triangular",
            "upper_triangular", "nonnegative", "integer_valued"} == facts_of(gw.eye(3))
    assert facts_of(x) == frozenset()
