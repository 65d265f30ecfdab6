"""gw.assume: an identity op stating facts; its errors, its op rules, its removal before the backends."""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw
from graphwright.facts import facts_of, has
from graphwright.graph import toposort
from graphwright.tensor.assume import Assume


def test_assume_states_facts_and_their_implications():
    x = gw.vector("x")
    y = gw.assume(x, "positive", "integer_valued", "positive")
    assert y.owner.op == Assume(("integer_valued", "positive"))
    assert facts_of(y) == {"positive", "nonnegative", "integer_valued", "no_negative_zero"}
    assert gw.assume(x, "positive") is gw.assume(x, "positive")  # hash-consed: one node
    assert has("nonnegative", gw.exp(x) * gw.assume(x, "nonnegative"))
    assert facts_of(gw.assume(gw.exp(x), "integer_valued")) >= {"nonnegative", "integer_valued"}


@pytest.mark.parametrize(("build", "error", "message"), [
    (lambda: gw.assume(gw.vector("x"), "happy"), ValueError, r"assume: unknown fact\(s\) 'happy'; the known facts are"
     r" .*nonnegative.*positive_definite"),
    (lambda: gw.assume(gw.vector("x")), ValueError, "give at least one fact"),
    (lambda: gw.assume(gw.vector("x"), "symmetric"), ValueError, r"'symmetric' is a fact about matrices; got a 1-d"),
    (lambda: gw.assume(gw.matrix("m", shape=(3, 4)), "positive_definite"), ValueError,
     r"assume\(m, positive_definite\): 'positive_definite' needs square matrices, got static shape \(3, 4\)"),
    (lambda: Assume(("positive", "nonnegative")), ValueError, "sorted and distinct"),
    (lambda: gw.assume(gw.vector("x"), 3), ValueError, "unknown fact"),
])
def test_assume_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_assume_is_the_identity_for_values_shapes_gradients_and_batches():
    x = gw.vector("x")
    y = gw.assume(x, "positive")
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(y.eval({x: a}), a)
    np.testing.assert_array_equal(gw.shape_of(y).eval({x: a}), [3])
    np.testing.assert_allclose(gw.grad(gw.sum(y ** 2), x).eval({x: a}), 2 * a)
    m, ms = gw.matrix("m"), gw.tensor3("ms")
    batched = gw.vectorize_graph(gw.assume(m, "symmetric"), {m: ms})
    assert batched.type.ndim == 3 and has("symmetric", batched)  # a fact of every matrix of the batch
    xs = gw.matrix("xs")
    b = gw.vectorize_graph(y * 2, {x: xs})
    assert any(isinstance(n.op, Assume) for n in toposort([b]))
    np.testing.assert_array_equal(b.eval({xs: np.ones((2, 3))}), np.full((2, 3), 2.0))


def test_assume_is_gone_after_rewriting_and_its_facts_are_used_before():
    x = gw.vector("x")
    f = gw.function([x], gw.abs(gw.assume(x, "nonnegative", "no_negative_zero")) * 2, rewrites="fast_run")
    assert not any(isinstance(n.op, Assume) for n in toposort(list(f.graph.outputs)))
    rules = [s.rule_name for s in f.trace.steps]
    assert "abs_nonnegative" in rules and "assume_identity" in rules
    assert rules.index("abs_nonnegative") < rules.index("assume_identity")


@pytest.mark.parametrize("backend", gw.available_backends())
def test_a_graph_with_assume_runs_unrewritten_on_every_backend(backend):
    x = gw.vector("x")
    f = gw.function([x], gw.abs(gw.assume(x, "nonnegative")) * 2, rewrites=None, backend=backend)
    assert any(isinstance(n.op, Assume) for n in toposort(list(f.graph.outputs)))
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [2.0, 4.0])
