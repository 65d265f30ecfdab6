"""The numeric step check (``check=True``): NaNs a rewritten node makes itself are kept, and a naive form's own
rounding error is not held against a stabilised one (issue 14, item 1)."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.rewrite import P, Rule, RuleSet
from graphwright.rewrite import ops as o
from graphwright.rewrite.check import domain_nans, rounding_spread
from graphwright.rewrite.engine import RewriteError

x = P.var("x")


def test_a_rule_that_turns_a_domain_nan_into_a_number_is_caught():
    """The check alone (whatever the matcher) refuses what the log_softmax rule did to log(log_softmax(x))."""
    v = gw.vector("v")
    wrong = RuleSet("wrong", [Rule("drop_log", o.log(o.log_softmax(x)), o.log_softmax(x))])
    with pytest.raises(RewriteError, match="drop_log changed values.*before=nan"):
        gw.rewrite(gw.log(gw.log_softmax(v)), rules=wrong, check=True)


def test_nans_from_the_operands_or_from_zero_over_zero_do_not_count():
    v = gw.vector("v")
    values = [np.array([0.0, -1.0, 4.0])]
    for expr in (gw.sqrt(v) - gw.sqrt(v), (gw.expm1(v) / v)):
        before = gw.function([v], expr, rewrites=None)(*values)
        assert not np.any(domain_nans([v], expr, values, before))
    sqrt = gw.sqrt(v)
    got = domain_nans([v], sqrt, values, gw.function([v], sqrt, rewrites=None)(*values))
    np.testing.assert_array_equal(got, [False, True, False])


@pytest.mark.parametrize("x_var", [gw.vector("x"), gw.matrix("x"), gw.tensor("x", "float64", (2, 3, 4))])
def test_stabilised_forms_are_not_held_to_the_naive_rounding_error(x_var):
    """log1p(-sigmoid(30)) loses three digits as written; -softplus(30) is right, and the check accepts it."""
    graph, trace = gw.rewrite(gw.log1p(-gw.sigmoid(x_var)), check=True)
    assert trace.steps_of("log1p_neg_sigmoid")


def test_a_wrong_rule_is_still_caught_where_the_naive_form_is_accurate():
    v = gw.vector("v")
    wrong = RuleSet("wrong", [Rule("bad_sign", o.log1p(-o.sigmoid(x)), -o.softplus(-x))])
    with pytest.raises(RewriteError, match="bad_sign changed values"):
        gw.rewrite(gw.log1p(-gw.sigmoid(v)), rules=wrong, check=True)


def test_rounding_spread_is_small_where_the_naive_form_is_stable():
    v = gw.vector("v")
    spread, = rounding_spread([v], [gw.exp(v) * 2.0], [np.array([0.5, 3.0])], np.random.default_rng(1))
    assert np.all(spread < 1e-13)
