"""Stabilize rules that negate or subtract their operand must not fire on unsigned integers, where ``-x``
wraps around (found by the every-op random graphs of tests/tensor/test_random_graphs.py)."""

import numpy as np
import pytest

import graphwright as gw


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
def test_log_expm1_of_integers_keeps_its_value(dtype):
    x = gw.tensor("x", dtype, ())
    expr = gw.log(gw.expm1(x))
    _, trace = gw.rewrite(expr, check=True)
    value = np.asarray(3, dtype=dtype)
    np.testing.assert_allclose(gw.function([x], expr)(value), np.log(np.expm1(3.0)), rtol=1e-6)
    assert not trace.steps_of("log_expm1") or dtype != "uint8"


@pytest.mark.parametrize("dtype", ["uint8", "int16"])
def test_logdiffexp_of_integers_keeps_its_value(dtype):
    a, b = gw.tensor("a", dtype, ()), gw.tensor("b", dtype, ())
    expr = gw.log(gw.exp(a) - gw.exp(b))
    gw.rewrite(expr, check=True)
    got = gw.function([a, b], expr)(np.asarray(3, dtype=dtype), np.asarray(1, dtype=dtype))
    np.testing.assert_allclose(got, np.log(np.exp(3.0) - np.exp(1.0)), rtol=1e-6)


def test_the_float_forms_still_rewrite():
    x = gw.scalar("x")
    _, trace = gw.rewrite(gw.log(gw.expm1(x)), phases="stabilize")
    assert trace.steps_of("log_expm1")


@pytest.mark.parametrize(("build", "reference"), [
    (lambda x: gw.log(gw.sigmoid(x)), lambda v: -np.logaddexp(0.0, -v)),
    (lambda x: 1 - gw.sigmoid(x), lambda v: 1 / (1 + np.exp(v))),
    (lambda x: gw.softplus(x) - x, lambda v: np.logaddexp(0.0, v) - v),
])
@pytest.mark.parametrize("dtype", ["uint8", "int8"])
def test_rules_never_negate_an_integer_operand(build, reference, dtype):
    """The general guard (graphwright.rewrite.rule.integer_negation) refuses any pattern replacement that
    negates an integer operand the matched expression only used in float operations."""
    x = gw.tensor("x", dtype, (None,))
    expr = build(x)
    gw.rewrite(expr, check=True)
    values = np.array([0, 1, 3], dtype=dtype)
    np.testing.assert_allclose(gw.function([x], expr)(values), reference(values.astype("float64")), rtol=1e-5)
