"""The inner-graph protocol: closure, canonical placeholders, equality, the program, nested Trace steps."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph.basic import GraphError
from graphwright.graph.inner import InnerGraph, evaluate, placeholder, substitute
from graphwright.tensor.composite import Composite, composite_of
from graphwright.tensor.type import TensorType
from graphwright.transforms.inner_grad import inner_pullback

F0 = TensorType("float64", ())


def test_a_captured_outer_variable_is_refused_and_named():
    i0, outer = placeholder(0, F0), gw.scalar("outer")
    with pytest.raises(GraphError, match=r"add reads outer .*neither a placeholder nor a constant"):
        InnerGraph((i0,), (i0 + outer,))
    with pytest.raises(GraphError, match=r"output outer .*capture an outer variable"):
        InnerGraph((i0,), (outer,))


def test_placeholders_must_be_the_canonical_ones_of_their_position():
    i0 = placeholder(0, F0)
    with pytest.raises(GraphError, match=r"input 0 \(y\) must be placeholder\(0, float64\[\]\)"):
        InnerGraph((gw.scalar("y"),), (gw.exp(i0),))
    with pytest.raises(GraphError, match=r"input 1 \(i0\) must be placeholder\(1"):
        InnerGraph((i0, i0), (i0,))


def test_placeholders_are_keyed_by_position_and_full_type():
    t = TensorType("float32", (None, 3))
    assert placeholder(2, t) is placeholder(2, TensorType("float32", (None, 3)))
    assert placeholder(2, t) is not placeholder(2, TensorType("float32", (None, 4)))
    assert placeholder(2, t) is not placeholder(1, t)
    assert placeholder(2, t).type == t and placeholder(2, t).name == "i2"


def test_equal_inner_graphs_are_equal_ops_and_one_node():
    x, y, z = gw.vector("x"), gw.vector("y"), gw.vector("z")
    a, b = composite_of([gw.exp(x) + 1], [x]), composite_of([gw.exp(z) + 1], [z])
    assert a == b and hash(a) == hash(b) and a.inner_graphs() == b.inner_graphs()
    assert a(y).owner is b(y).owner  # hash-consing keeps working
    assert a != composite_of([gw.exp(x) + 2], [x])
    assert a.with_inner_graphs(b.inner_graphs()) == a


def test_ops_without_inner_graphs_have_none():
    x = gw.vector("x")
    op = gw.exp(x).owner.op
    assert op.inner_graphs() == () and op.with_inner_graphs([]) is op
    with pytest.raises(GraphError, match="holds no inner graph"):
        op.with_inner_graphs(composite_of([x], [x]).inner_graphs())


def test_the_program_lists_inputs_before_users_with_resolved_operands_and_last_reads():
    x, y = gw.vector("x"), gw.vector("y")
    e = gw.exp(x)
    (graph,) = composite_of([e * y + e, y, gw.constant(2.0) + 0 * x], [x, y]).inner_graphs()
    program = graph.program
    position = {step.node: step.position for step in program.instructions}
    for step in program.instructions:
        for operand, v in zip(step.operands, step.node.inputs, strict=True):
            if operand[0] == "value":
                assert operand[1] < step.position and program.instructions[operand[1]].node.outputs[operand[2]] is v
            elif operand[0] == "input":
                assert graph.placeholders[operand[1]] is v
            else:
                assert operand == ("constant", v) and isinstance(v, gw.Constant)
        for v in step.last_reads:  # nothing later reads it, and it is not returned
            assert all(v not in later.node.inputs for later in program.instructions[step.position + 1:])
            assert v not in graph.outputs
    assert program.results[1] == ("input", 1)  # an output that is an input
    assert program.last_use[graph.placeholders[1]] == len(program.instructions)  # returned: read at the end
    assert len(position) == len(program.instructions) == graph.size


def test_evaluate_and_substitute_agree_with_the_op():
    x, y = gw.vector("x"), gw.vector("y")
    op = composite_of([gw.exp(x) * y, x - 1], [x, y])
    (graph,) = op.inner_graphs()
    xs, ys = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    want = op.perform(xs, ys)
    for got, ref in zip(evaluate(graph, [xs, ys]), want, strict=True):
        np.testing.assert_allclose(got, ref)
    inlined = substitute(graph, [x, y])
    assert str(inlined[0]) == "exp(x) * y"
    with pytest.raises(GraphError, match="takes 2 inputs, got 1"):
        substitute(graph, [x])


def test_inner_steps_are_nested_in_one_outer_step_and_memoised():
    x, y = gw.vector("x"), gw.vector("y")
    op = composite_of([gw.log(1 + gw.exp(x))], [x])  # composite_of does not rewrite
    out = op(x) + op(y)
    graph, trace = gw.rewrite(out, phases="stabilize")
    outer = [s for s in trace if s.rule_name == "rewrite_inner_graphs"]
    assert len(outer) == 2 and all(s.nested for s in outer)
    assert [s.rule_name for s in outer[0].nested] == ["softplus"]
    assert outer[0].nested[0] is outer[1].nested[0]  # one inner graph, rewritten once
    (new,) = {n.op for n in graph.toposort if isinstance(n.op, Composite)}
    assert "softplus" in new.short_name()
    data = {x: np.array([-800.0, 0.0, 800.0]), y: np.array([1.0, 2.0, 3.0])}
    np.testing.assert_allclose(graph.outputs[0].eval(data), out.eval(data))


def test_inner_pullback_adds_the_gradients_of_repeated_outputs():
    x = gw.vector("x")
    (graph,) = composite_of([gw.exp(x), gw.exp(x)], [x]).inner_graphs()
    assert graph.outputs[0] is graph.outputs[1]
    g1, g2 = gw.vector("g1"), gw.vector("g2")
    (grad,) = inner_pullback(graph, [x], [g1, g2])
    data = {x: np.array([0.0, 1.0]), g1: np.array([1.0, 2.0]), g2: np.array([3.0, 5.0])}
    np.testing.assert_allclose(grad.eval(data), (data[g1] + data[g2]) * np.exp(data[x]))


def test_an_inner_rewrite_the_op_cannot_hold_is_a_refusal_not_a_step():
    from graphwright.rewrite.phases import register, unregister
    from graphwright.rewrite.rule import Rule, RuleSet

    def to_reduction(var, ctx):  # exp(i0) as sum(exp(i0)[None]): the same value, but not elementwise
        inner = var.owner.inputs[0]
        return gw.sum(gw.exp(inner)[None], axis=0) if var.type.ndim == 0 and inner.name == "i0" else None

    x = gw.vector("x")
    op = composite_of([gw.exp(x) * 2], [x])
    rules = register("specialize", RuleSet("test_inner_refusal", [Rule("test_exp_as_sum", fn=to_reduction,
                                                                       roots=("exp",))]))
    try:
        graph, trace = gw.rewrite(op(x), phases=["specialize"], include=["test_exp_as_sum"])
    finally:
        unregister("specialize", rules)
    assert graph.outputs[0].owner.op == op  # unchanged
    assert not [s for s in trace if s.rule_name == "rewrite_inner_graphs"]
    (refusal,) = [r for r in trace.refusals if r.rule_name == "rewrite_inner_graphs"]
    assert refusal.kind == "inner" and "only elementwise ops" in refusal.reason
