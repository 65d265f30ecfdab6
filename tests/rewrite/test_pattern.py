"""The pattern DSL: variables, literals, repeated variables, commutative and variadic matching, params."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.rewrite import Mismatch, P, build, match
from graphwright.rewrite import ops as o
from graphwright.tensor.reduce import Reduce

x, y = P.var("x"), P.var("y")
a, b, c = gw.vector("a"), gw.vector("b"), gw.vector("c")


def test_variable_and_literal():
    got = match(o.log(1 + x), gw.log(1 + a))
    assert got["x"] is a and got.x is a
    assert match(o.log(1 + x), gw.log(a + 1))["x"] is a  # commutative
    assert isinstance(match(o.log(1 + x), gw.log(a + 2)), Mismatch)


def test_literal_matches_any_shape_and_dtype():
    ones = gw.constant(np.ones(3, dtype="float32"))
    v = gw.vector("v", "float32", shape=(3,))
    assert match(o.log(1 + x), gw.log(ones + v))["x"] is v
    mixed = gw.constant(np.array([1.0, 2.0]))
    assert isinstance(match(o.log(1 + x), gw.log(mixed + a)), Mismatch)


def test_repeated_variable_must_match_the_same_expression():
    pat = x * x
    assert match(pat, a * a)["x"] is a
    miss = match(pat, a * b)
    assert isinstance(miss, Mismatch) and "already bound" in miss.reason


def test_variadic_grouping():
    got = match(o.log(1 + x), gw.log(gw.add(a, 1, b)))
    assert str(got["x"]) == "a + b"
    assert got["x"] is gw.add(a, b)  # hash-consed: the same node a graph would use
    got3 = match(o.log(1 + x), gw.log(gw.add(a, b, 1, c)))
    assert got3["x"] is gw.add(a, b, c)


def test_kinds_and_tests():
    s = gw.scalar("s")
    assert match(P.scalar("k") * y, s * a)["k"] is s
    assert isinstance(match(P.scalar("k") * P.var("z", "nonconstant"), a * b), Mismatch)
    assert match(P.constant("k") * y, a * 2.0)["k"] is gw.constant(2.0)
    i = gw.vector("i", "int64")
    assert isinstance(match(P.integer("n") + y, a + b), Mismatch)
    assert match(P.integer("n") + y, i + i)["n"] is i
    positive = P.var("p", test=lambda v: isinstance(v, gw.Constant) and np.all(v.data > 0))
    assert isinstance(match(o.log(positive), gw.log(a)), Mismatch)
    with pytest.raises(ValueError, match="kind must be one of"):
        P.var("z", "weird")


def test_op_class_params_bind_and_constrain():
    pat = o.log(o.sum_(o.exp(x), axis=P.param("ax")))
    m = gw.matrix("m")
    got = match(pat, gw.log(gw.sum(gw.exp(m), axis=1)))
    assert got["ax"] == (1,) and got["x"] is m
    assert isinstance(match(o.sum_(x, axis=(0,)), gw.sum(m, axis=1)), Mismatch)
    assert isinstance(match(o.prod_(x), gw.sum(m)), Mismatch)
    assert match(P.op(Reduce, x, kind="sum"), gw.sum(m))["x"] is m


def test_build_instantiates_replacements():
    got = match(o.log(1 + o.exp(x)), gw.log(1 + gw.exp(a)))
    assert build(o.softplus(x), got) is gw.softplus(a)
    assert build(-x * 2, got) is (-a) * 2
    pat_axis = P.param("ax")
    bound = match(o.sum_(x, axis=pat_axis, keepdims=False), gw.sum(gw.matrix("m"), axis=0))
    assert build(P.op(Reduce, x, kind="prod", axis=pat_axis, keepdims=False), bound).owner.op == \
        Reduce("prod", (0,), False)


def test_mismatch_names_the_failing_subpattern():
    miss = match(o.log(1 + o.exp(x)), gw.log(1 + gw.sin(a)))
    assert isinstance(miss, Mismatch)
    assert "exp" in str(miss) and "sin" in str(miss)
    assert "graph input" in match(o.exp(x), a).reason


def test_pattern_text():
    assert repr(o.log(1 + x)) == "log(1 + x)"
    assert repr(-x * 2.5) == "(-x * 2.5)"
    assert repr(o.sum_(x, axis=P.param("ax"))) == "reduce(x, kind='sum', axis=ax)"


def test_op_classes_match_exactly_never_a_subclass():
    """A pattern naming Softmax (Argmax) matches no LogSoftmax (Argmin), at the root or in a child (rule
    dispatch is by exact class, so matching must agree)."""
    assert match(o.softmax(x), gw.softmax(a))["x"] is a
    assert isinstance(match(o.softmax(x), gw.log_softmax(a)), Mismatch)
    assert isinstance(match(o.log(o.softmax(x)), gw.log(gw.log_softmax(a))), Mismatch)
    assert match(o.log_softmax(x), gw.log_softmax(a))["x"] is a
    assert isinstance(match(o.argmax(x), gw.argmin(a)), Mismatch)
    assert isinstance(match(o.exp(o.argmax(x)), gw.exp(gw.argmin(a))), Mismatch)
    assert "not Softmax" in match(o.log(o.softmax(x)), gw.log(gw.log_softmax(a))).reason


def test_log_of_log_softmax_is_not_rewritten_to_log_softmax():
    """Issue 14, item 1: log(log_softmax(x)) is NaN as written; the log_softmax rule must not fire on it."""
    v = gw.vector("v")
    expr = gw.log(gw.log_softmax(v))
    graph, trace = gw.rewrite(expr, check=True)
    assert not trace.steps_of("log_softmax")
    values = np.array([1.0, 1.4, 3.0])
    got = gw.function([v], graph.outputs[0], rewrites=None)(values)
    assert np.all(np.isnan(got))
    assert np.all(np.isnan(gw.function([v], expr)(values)))
    stable, _ = gw.rewrite(gw.log(gw.softmax(v)))  # the rule still fires where it should
    assert stable.outputs[0] is gw.log_softmax(v)
