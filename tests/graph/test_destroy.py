"""The alias analysis of in-place execution: a buffer may be overwritten once every other reader has run in
the graph's execution order (its toposort), and a graph run in another order is checked again."""

from __future__ import annotations

import numpy as np

import graphwright as gw
from graphwright.graph.destroy import AliasTracker, InPlace, destroy_problems
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS

EXP = Elemwise(SCALAR_OPS["exp"])


def _verdicts(graph: gw.Graph) -> dict[str, str | None]:
    """why_not for input 0 of every exp node, asked in order (nothing is given away)."""
    tracker = AliasTracker(graph)
    found = {}
    for node in tracker.nodes:
        if node.op == EXP:
            found[str(node.outputs[0])] = tracker.why_not(node, 0, 0)
        tracker.add(node, {})
    return found


def test_a_reader_that_runs_before_allows_overwriting_and_one_that_runs_after_does_not():
    x = gw.vector("x")
    a = gw.cumsum(x)
    before = gw.Graph([x], [gw.sum(a) + gw.exp(a)])  # toposort: cumsum, sum, exp, add
    assert _verdicts(before) == {"exp(cumsum(x))": None}
    after = gw.Graph([x], [gw.exp(a) + gw.sum(a)])  # toposort: cumsum, exp, sum, add
    (why,) = _verdicts(after).values()
    assert why == "sum{axis=(0,)} also reads cumsum(x) and runs after"


def test_the_other_refusals_still_name_their_reason():
    x = gw.vector("x")
    a = gw.cumsum(x)
    assert _verdicts(gw.Graph([x], [gw.exp(x)])) == {"exp(x)": "x is an input of the function (mark it mutable to "
                                                               "allow overwriting)"}
    assert _verdicts(gw.Graph([x], [gw.exp(a), a])) == {"exp(cumsum(x))": "cumsum(x) (in the same buffer) is an "
                                                                          "output of the graph"}
    view = a[::-1]
    assert _verdicts(gw.Graph([x], [gw.exp(view)])) == {"exp(cumsum(x)[::-1])": "cumsum(x)[::-1] is a view of "
                                                                                "another buffer"}


def test_a_plan_made_for_one_order_is_checked_again_in_another():
    x = gw.vector("x")
    a = gw.cumsum(x)
    overwrite = InPlace(EXP, ((0, 0),))(a)
    good = gw.Graph([x], [gw.sum(a) + overwrite])
    assert destroy_problems(good) == []
    bad = gw.Graph([x], [overwrite + gw.sum(a)])  # sum(a) now runs after exp overwrote a
    (problem,) = destroy_problems(bad)
    assert problem.startswith("exp[inplace i0] may not overwrite input 0") and "runs after" in problem
    value = np.array([0.5, 1.0, 2.0])
    want = np.exp(np.cumsum(value)) + np.cumsum(value).sum()
    for graph in (good, bad):
        f = gw.function(list(graph.inputs), graph.outputs[0], rewrites=None)
        np.testing.assert_allclose(f(value), want)
    assert gw.function([x], bad.outputs[0], rewrites=None).memory_plan.dropped


def test_compiled_functions_reuse_a_buffer_whose_readers_ran_first():
    x = gw.vector("x")
    a = gw.cumsum(x)
    f = gw.function([x], [gw.sum(a) * gw.exp(a)])
    value = np.array([0.5, 1.0, 2.0])
    c = np.cumsum(value)
    np.testing.assert_allclose(f(value)[0], c.sum() * np.exp(c))
    assert f.memory_plan.in_place


def _softmax_and_decay(x):
    """The reported graph's fused node: composite{exp(-i0), exp(-i0) * i1}(x, softmax(2x))."""
    from graphwright.tensor.composite import composite_of

    soft = gw.softmax(2 * x)
    decay = gw.exp(-x)
    op = composite_of([decay, decay * soft], [x, soft])
    return op, soft


def test_a_composite_output_may_not_overwrite_an_input_that_only_another_output_reads():
    x = gw.vector("x")
    op, soft = _softmax_and_decay(x)
    bad = InPlace(op, ((0, 1),))(x, soft)  # exp(-x) into the softmax, which the product reads after
    problems = destroy_problems(gw.Graph([x], list(bad)))
    assert len(problems) == 1 and "output 0 does not read input 1" in problems[0]
    good = InPlace(op, ((1, 1),))(x, soft)
    assert not destroy_problems(gw.Graph([x], list(good)))


def test_a_hand_made_bad_composite_permission_is_dropped_and_the_values_kept():
    x = gw.vector("x")
    op, soft = _softmax_and_decay(x)
    bad = InPlace(op, ((0, 1),))(x, soft)
    value = np.random.default_rng(0).uniform(-1, 1, 5)
    want = [np.exp(-value), np.exp(-value) * np.exp(2 * value) / np.exp(2 * value).sum()]
    for backend in ("numpy", "numba"):
        f = gw.function([x], list(bad), rewrites=None, backend=backend)
        assert f.memory_plan.dropped and not f.memory_plan.in_place
        for got, expected in zip(f(value), want, strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_repeated_composite_output_is_one_array_with_the_first():
    from graphwright.tensor.composite import composite_of

    x = gw.vector("x")
    a = gw.cumsum(x)
    op = composite_of([gw.exp(a), gw.exp(a)], [a])
    assert op.writable_inputs == (1, 0)
    problems = destroy_problems(gw.Graph([x], list(InPlace(op, ((1, 0),))(a))))
    assert problems == ["composite{exp(i0), exp(i0)}[inplace o1:i0] may not overwrite input 0: output 1 is the "
                        "same array as output 0"]
    tracker = AliasTracker(gw.Graph([x], list(InPlace(op, ((1, 0),))(a))))
    for node in tracker.nodes:
        tracker.add(node, node.op.destroy_map if isinstance(node.op, InPlace) else {})
    first, second = tracker.nodes[-1].outputs
    assert tracker.roots[first] <= tracker.roots[second]  # tracked as the one array they are
