"""Node rules: a rule returns ``{output: new}`` for outputs of one node, applied as one step or not at all."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.rewrite import Costed, RewriteError, RuleSet, function_rule, graph_rule
from graphwright.tensor.join import Split
from graphwright.workbench import Session


def run(outs, *rules, **kw):
    return gw.rewrite(gw.Graph(None, list(outs)), rules=RuleSet("custom", rules), **kw)


def joined_split(a, b, sizes):
    return gw.split(gw.concatenate([a, b]), sizes)


def evaluate(graph: gw.Graph, values):
    return gw.function(list(graph.inputs), list(graph.outputs), rewrites=None)(*values)


def test_split_of_join_gives_back_the_parts_in_one_step():
    a, b = gw.vector("a"), gw.vector("b", shape=(3,))
    p, q = joined_split(a, b, [a.shape[0], 3])
    g, trace = gw.rewrite(gw.Graph([a, b], [p * 2, q + 1]), phases="canonicalize", check=True)
    assert g.outputs == (a * 2, b + 1)  # the equation: split(concatenate([a, b]), [len a, len b]) = (a, b)
    (step,) = trace.steps_of("split_of_join")
    assert step.replacements == ((p, a), (q, b)) and step.origin_replacements == ((p, a), (q, b))
    assert (step.replaced, step.replacement) == (p, a)  # the single-pair view is the first pair
    assert "-> a;" in str(step) and "-> b" in str(step)
    values = [np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])]
    before = evaluate(trace.initial, values)
    for got, want in zip(evaluate(g, values), before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_split_of_join_with_static_sizes_and_through_elementwise_shapes():
    a, b = gw.vector("a", shape=(2,)), gw.vector("b")
    p, q = joined_split(gw.exp(a), gw.tanh(b), [2, gw.tanh(b).shape[0]])  # shape(tanh(b)) becomes shape(b)
    g, trace = gw.rewrite(gw.Graph([a, b], [p.sum() + q.sum()]), phases="canonicalize")
    assert trace.steps_of("split_of_join") and g.outputs[0] is gw.exp(a).sum() + gw.tanh(b).sum()


@pytest.mark.parametrize("case", ["other lengths", "other axis", "fewer pieces"])
def test_split_of_join_needs_the_parts_lengths_on_the_join_axis(case):
    a, b = gw.matrix("a", shape=(2, 4)), gw.matrix("b", shape=(2, 4))
    joined = gw.concatenate([a, b], axis=1)
    outs = {"other lengths": lambda: gw.split(joined, [3, 5], axis=1),
            "other axis": lambda: gw.split(gw.concatenate([a, b], axis=0), [2, 2], axis=1),
            "fewer pieces": lambda: gw.split(joined, [8], axis=1)}[case]()
    _, trace = gw.rewrite(gw.Graph([a, b], [o.sum() for o in outs]), phases="canonicalize")
    assert not trace.steps_of("split_of_join")


def test_split_of_join_on_a_negative_axis_value_by_value():
    a, b = gw.matrix("a", shape=(2, 1)), gw.matrix("b", shape=(2, 2))
    p, q = gw.split(gw.concatenate([a, b], axis=-1), [1, 2], axis=-1)
    g, trace = gw.rewrite(gw.Graph([a, b], [p, q]), check=True)
    assert g.outputs == (a, b) and len(trace.steps_of("split_of_join")) == 1


@function_rule("t_swap_pieces", roots=(Split,))
def swap_pieces(var, ctx):
    """split(x)[0], split(x)[1] -> split(x)[1], split(x)[0] (wrong, for the checks)"""
    first, second = var.owner.outputs
    return {first: second, second: first}


@function_rule("t_second_piece_wrong", roots=(Split,))
def second_piece_wrong(var, ctx):
    """split(concatenate([a, b])) -> (a, a): only the second pair is wrong"""
    first, second = var.owner.outputs
    parts = var.owner.inputs[0].owner.inputs
    return {first: parts[0], second: parts[0]}


def test_a_refused_pair_refuses_the_whole_node_step():
    a, b = gw.vector("a", shape=(2,)), gw.vector("b", shape=(3,))
    p, q = joined_split(a, b, [2, 3])
    g, trace = run([p, q], swap_pieces)  # float64[2] <-> float64[3]: both pairs change the static shape
    assert g.outputs == (p, q) and len(trace) == 0
    (refusal,) = {r.reason: r for r in trace.refusals}.values()
    assert refusal.kind == "type" and refusal.rule_name == "t_swap_pieces"
    assert "float64[2] to float64[3]" in refusal.reason and "not applied" in refusal.reason


def test_check_verifies_every_replaced_output():
    a, b = gw.vector("a", shape=(2,)), gw.vector("b", shape=(2,))
    p, q = joined_split(a, b, [2, 2])
    with pytest.raises(RewriteError, match=r"t_second_piece_wrong changed values .*\[1\] -> a;"):
        run([p, q], second_piece_wrong, check=True)
    g, trace = run([p, q], second_piece_wrong)  # unchecked it applies, as one step of two pairs
    assert len(trace) == 1 and len(trace[0].replacements) == 2


def test_a_node_rule_may_replace_some_outputs_only():
    a, b = gw.vector("a", shape=(2,)), gw.vector("b", shape=(3,))
    p, q = joined_split(a, b, [2, 3])

    @function_rule("t_second_only", roots=(Split,))
    def second_only(var, ctx):
        """split(concatenate([a, b]))[1] = b"""
        return {var.owner.outputs[1]: var.owner.inputs[0].owner.inputs[1]}

    g, trace = run([p * 2, q * 2], second_only, check=True)
    assert g.outputs == (p * 2, b * 2) and len(trace) == 1
    assert trace[0].replacements == ((q, b),) and trace[0].origin is q


def test_a_key_that_is_not_an_output_of_the_node_is_refused():
    a, b = gw.vector("a", shape=(2,)), gw.vector("b", shape=(3,))
    p, q = joined_split(a, b, [2, 3])

    @function_rule("t_stranger", roots=(Split,))
    def stranger(var, ctx):
        """replaces a variable of another node"""
        return {var.owner.outputs[0]: a, b: b + 0.0}

    g, trace = run([p, q], stranger)
    assert g.outputs == (p, q) and len(trace) == 0
    assert {r.kind for r in trace.refusals} == {"node"} and "is not an output of" in trace.refusals[0].reason


def test_graph_rule_groups_are_one_step_each():
    a, b = gw.vector("a", shape=(2,)), gw.vector("b", shape=(3,))
    p, q = joined_split(a, b, [2, 3])

    @graph_rule("t_group")
    def group(outputs, ctx):
        """split(concatenate([a, b])) = (a, b), as one group"""
        return [{p: a, q: b}] if outputs == (p, q) else []

    g, trace = run([p, q], group)
    assert g.outputs == (a, b) and len(trace) == 1 and trace[0].replacements == ((p, a), (q, b))

    @graph_rule("t_bad_group")
    def bad_group(outputs, ctx):
        """(a, b) in the wrong places"""
        return [{p: b, q: a}] if outputs == (p, q) else []

    g, trace = run([p, q], bad_group)
    assert g.outputs == (p, q) and len(trace) == 0 and "not applied" in trace.refusals[0].reason


def test_costed_replacements_record_both_costs():
    a = gw.vector("a")

    @function_rule("t_costed", roots=("mul",))
    def costed(var, ctx):
        """x * 2 = x + x (cheaper, says the model)"""
        x, _ = var.owner.inputs
        return Costed(x + x, 3.0, 1.0)

    g, trace = run([a * 2.0], costed)
    assert g.outputs[0] is a + a and trace[0].costs == (3.0, 1.0) and "(cost 3 -> 1)" in str(trace[0])


def test_workbench_session_shows_a_node_step():
    a, b = gw.vector("a"), gw.vector("b", shape=(3,))
    p, q = joined_split(gw.exp(a), b, [a.shape[0], 3])
    s = Session([p * 2, q + 1])
    steps = [v for v in s.steps if v.rule == "split_of_join"]
    assert len(steps) == 1
    k = s.steps.index(steps[0])
    ids = s.ids_at(k + 1)
    assert ids.of(gw.exp(a)) == s.ids_at(k).of(gw.exp(a))  # a part keeps its id when the split is removed


def test_a_pattern_rule_replacement_may_return_a_node_replacement():
    """The pattern matches output 0 of the split; the replacement replaces both outputs."""
    from graphwright.rewrite import P, Rule
    from graphwright.tensor.join import Join

    u, v, sizes = P.var("u"), P.var("v"), P.var("sizes")
    a, b = gw.vector("a", shape=(2,)), gw.vector("b", shape=(3,))
    p, q = joined_split(a, b, [2, 3])
    node_rule = Rule("t_split_join_pattern", P.op(Split, P.op(Join, u, v, axis=0), sizes, axis=0),
                     lambda bs: {p: bs["u"], q: bs["v"]})
    assert node_rule.keys == (Split,)
    g, trace = run([p * 2, q * 2], node_rule, check=True)
    assert g.outputs == (a * 2, b * 2) and len(trace) == 1 and trace[0].replacements == ((p, a), (q, b))
