"""Rules that read facts: ``when=has(...)`` guards (their refusals name the missing fact, their steps the
facts that allowed them), and the library rules that moved onto the registry."""

from __future__ import annotations

import math

import numpy as np

import graphwright as gw
from graphwright.facts import has
from graphwright.rewrite import P, Rule, RuleSet, rewrite
from graphwright.rewrite.testing import assert_rewrites, rewritten, symbols

x_, y_ = P.var("x"), P.var("y")
NAMES = symbols()


def test_a_refused_guard_names_the_missing_fact():
    x = gw.vector("x")
    _, trace = rewrite(gw.abs(x) * 2, phases="specialize")
    refusal, = [r for r in trace.refusals if r.rule_name == "abs_nonnegative"]
    assert refusal.kind == "guard"
    assert refusal.reason.endswith("x = x is not known to be nonnegative; x = x is not known to be no_negative_zero")


def test_a_step_records_the_facts_that_allowed_it():
    x = gw.vector("x")
    _, trace = rewrite(gw.abs(gw.exp(x)) + 1, phases="specialize")
    step, = trace.steps_of("abs_nonnegative")
    assert step.facts == ("nonnegative(x = exp(x))", "no_negative_zero(x = exp(x))")
    assert all(s.facts == () for s in trace.steps if s.rule_name != "abs_nonnegative")


def test_combined_guards_need_every_fact():
    rule = Rule("demo", x_ * y_, x_, when=has("nonnegative", "x") & has("zeros", "y"))
    rules = RuleSet("demo", [rule])
    x = gw.vector("x")
    assert rule.apply(gw.exp(x) * gw.zeros_like(x), None) is not None
    refused = rule.apply(gw.exp(x) * x, None)
    assert refused.reason.endswith("y = x is not known to be zeros")
    assert "not known to be nonnegative" in rule.explain(x * gw.zeros_like(x))
    assert len(rules) == 1 and rule.allowed_by(gw.exp(x) * gw.zeros_like(x)) == (
        "nonnegative(x = exp(x))", "zeros(y = alloc(0, [shape(x)[0]]))")


def test_an_assumed_fact_lets_a_guarded_rule_fire_and_the_assume_survives_until_fusion():
    x = gw.vector("x")
    out, trace = rewrite(gw.abs(gw.assume(x, "positive")), phases=["canonicalize", "stabilize", "specialize"])
    assert out.outputs[0] is gw.assume(x, "positive")
    assert trace.steps_of("abs_nonnegative")[0].facts == ("nonnegative(x = assume[positive](x))",
                                                          "no_negative_zero(x = assume[positive](x))")


def test_abs_stays_where_its_argument_may_be_negative_zero():
    """abs(-0.0) is +0.0: abs(x) = x would turn 1 / abs(x) = +inf into -inf (sqrt(-0.0) is -0.0)."""
    x = gw.vector("x")
    data = np.array([-0.0, 4.0])
    for arg in (gw.sqrt(x), gw.assume(x, "nonnegative"), gw.sqrt(gw.exp(x)) * gw.sqrt(x), x * 0.0 + gw.sqrt(x)):
        expr = 1.0 / gw.abs(arg)
        with np.errstate(divide="ignore"):
            want = gw.function([x], expr, rewrites=None, backend="numpy")(data)
            got = gw.function([x], expr, backend="numpy")
            assert np.array_equal(got(data), want) and want[0] == np.inf
        assert not got.trace.steps_of("abs_nonnegative"), arg


def test_inc_subtensor_of_zeros_reads_the_zeros_fact():
    x = gw.exp(gw.vector("v"))
    zeros = gw.zeros((2,)).T  # zeros under a reshaping op: the old helper saw only alloc and constants
    assert_rewrites(gw.inc_subtensor(x[:2], zeros), x, phases="canonicalize", rule="inc_subtensor_zero",
                    names={"x": x})


def test_inc_subtensor_of_zeros_stays_where_x_may_be_negative_zero():
    """-0.0 + 0.0 is +0.0, so inc_subtensor(x[:1], 0) = x would turn 1 / +0.0 = +inf into -inf."""
    x = gw.vector("x")
    expr = 1.0 / gw.inc_subtensor(x[:1], gw.zeros((1,)))
    with np.errstate(divide="ignore"):
        got = gw.function([x], expr, backend="numpy")
        assert got(np.array([-0.0, 4.0])).tolist() == [np.inf, 0.25]
    assert not got.trace.steps_of("inc_subtensor_zero")


def test_dot_with_the_identity_reads_the_identity_fact():
    m = gw.matrix("m")
    assert_rewrites(gw.dot(m, gw.eye(gw.shape_of(m)[1])), m, phases="canonicalize", rule="dot_diag",
                    names={"m": m}, values={"m": np.arange(6.0).reshape(2, 3)})
    assume_eye = gw.assume(gw.matrix("i"), "identity")
    out, _ = rewrite(gw.dot(m, assume_eye), phases="canonicalize")
    assert out.outputs[0] is not None and "dot" not in str(out.outputs[0])


def test_log_pow_reads_nonnegative_for_even_powers():
    x = gw.vector("x")
    assert_rewrites(gw.log(gw.assume(x, "nonnegative") ** 4), 4 * gw.log(gw.assume(x, "nonnegative")),
                    phases="stabilize", names={"x": x}, rule="log_pow", check=False)
    assert_rewrites(gw.log(x ** 4), 4 * gw.log(gw.abs(x)), phases="stabilize", names={"x": x}, rule="log_pow")


def test_log_of_a_ratio_splits_only_with_a_positive_scalar_constant():
    s = NAMES["s"]
    _, trace = rewritten("log(erfc(s) / 2.0)", "stabilize", NAMES)
    step, = trace.steps_of("log_div")
    assert step.replacement is gw.log(gw.erfc(s)) - math.log(2.0)
    _, trace = rewritten("log(erfc(s) / -2.0)", "stabilize", NAMES)
    assert not trace.steps_of("log_div")
