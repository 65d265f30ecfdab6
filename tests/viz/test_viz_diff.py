"""graph_diff exact (from a real Trace step) and structural; diff_dot styles and the rewired node's id."""

import re

from viz_parse import classes, dot_edges, dot_nodes

import graphwright as gw
from graphwright.viz import GraphDiff, NodeIds, diff_dot, graph_diff


def _softplus_step():
    x, y = gw.vector("x"), gw.vector("y")
    g = gw.Graph([x, y], [gw.log(1 + gw.exp(x)) * 3 + y])
    _, trace = gw.rewrite(g, phases="stabilize")
    (k,) = [s.index for s in trace.steps_of("softplus")]
    return x, y, trace.graph_before(k), trace.graph_after(k), trace.changes(k)


def _ops(nodes):
    return sorted(n.op.short_name() for n in nodes)


def test_exact_diff_from_a_trace_step():
    x, _, before, after, changes = _softplus_step()
    d = graph_diff(before, after, changes)
    assert _ops(d.added) == ["softplus"] and d.added[0] is gw.softplus(x).owner
    assert _ops(d.removed) == ["add", "exp", "log"]
    assert sorted(old.op.short_name() for old in d.rewired) == ["add", "mul"]
    for old, new in d.rewired.items():
        assert old in before.toposort and new in after.toposort and old.op == new.op and old is not new
    assert not d.is_empty


def test_structural_diff_finds_the_same_changes():
    _, _, before, after, changes = _softplus_step()
    exact, structural = graph_diff(before, after, changes), graph_diff(before, after)
    assert set(structural.added) == set(exact.added)
    assert set(structural.removed) == set(exact.removed)
    assert structural.rewired == exact.rewired


def test_structural_diff_pairs_nodes_over_paired_inputs_only():
    x, y = gw.vector("x"), gw.vector("y")
    before = gw.Graph([x, y], [gw.exp(gw.sin(x) + y)])
    after = gw.Graph([x, y], [gw.exp(gw.cos(x) + y)])
    d = graph_diff(before, after)
    assert _ops(d.added) == ["cos"] and _ops(d.removed) == ["sin"]
    assert {o.op.short_name(): n for o, n in d.rewired.items()} == {
        "add": (gw.cos(x) + y).owner, "exp": after.outputs[0].owner}
    # an add on other inputs is not the old add rewired; the exp above it is (its input was replaced)
    other = gw.Graph([x, y], [gw.exp(gw.cos(y) + x)])
    d = graph_diff(before, other)
    assert d.rewired == {before.outputs[0].owner: other.outputs[0].owner}
    assert _ops(d.added) == ["add", "cos"] and _ops(d.removed) == ["add", "sin"]


def test_same_graph_is_empty():
    x = gw.vector("x")
    g = gw.Graph([x], [gw.exp(x) + 1])
    d = graph_diff(g, gw.Graph([x], [gw.exp(x) + 1]))
    assert d.is_empty and d.text() == "no changes"
    assert GraphDiff().is_empty


def test_text_lists_added_removed_rewired():
    _, _, before, after, changes = _softplus_step()
    lines = graph_diff(before, after, changes).text().splitlines()
    assert lines[0] == "+ softplus: softplus(x)"
    assert sorted(lines[1:4]) == ["- add: 1 + exp(x)", "- exp: exp(x)", "- log: log(1 + exp(x))"]
    assert "~ mul: softplus(x) * 3  (was log(1 + exp(x)) * 3)" in lines
    assert "~ add: (softplus(x) * 3) + y  (was (log(1 + exp(x)) * 3) + y)" in lines


def test_diff_dot_draws_the_union_with_styles_and_aliased_ids():
    x, y, before, after, changes = _softplus_step()
    d = graph_diff(before, after, changes)
    ids = NodeIds()
    dot = diff_dot(before, after, changes=changes, ids=ids, styles={ids.of(x): "selected"})
    nodes = dot_nodes(dot)
    by_class = {s: {n for n, a in nodes.items() if f"gw-{s}" in classes(a)} for s in ("added", "removed", "rewired")}
    assert by_class["added"] == {ids.of(n) for n in d.added}
    assert by_class["removed"] == {ids.of(n) for n in d.removed}
    assert by_class["rewired"] == {ids.of(o) for o in d.rewired} == {ids.of(n) for n in d.rewired.values()}
    assert "gw-selected" in classes(nodes[ids.of(x)])
    # every node of both graphs appears once: the rewired ones under their old ids
    all_ids = {ids.of(n) for n in before.toposort} | {ids.of(n) for n in after.toposort}
    assert all_ids <= set(nodes)
    assert len(nodes) == len(all_ids) + 4  # x, y and the constants 1 and 3
    mul_old = next(o for o in d.rewired if o.op.short_name() == "mul")
    mul_id, log_id = ids.of(mul_old), ids.of(mul_old.inputs[0])
    edges = {(s, t): a for s, t, a in dot_edges(dot)}
    assert "gw-removed" in edges[(log_id, mul_id)]["class"]  # the old input edge, dashed
    assert "gw-removed" not in edges[(ids.of(gw.softplus(x)), mul_id)]["class"]


def test_diff_dot_without_changes_matches():
    _, _, before, after, changes = _softplus_step()
    exact = diff_dot(before, after, changes=changes)
    assert diff_dot(before, after) == exact


def test_structural_diff_pairs_a_long_rebuilt_chain_node_by_node():
    x = gw.vector("x")

    def chain(v):
        out = [v]
        for _ in range(5000):
            out.append(gw.exp(out[-1]))
        return out

    old, new = chain(x), chain(gw.sin(x))
    d = graph_diff(gw.Graph([x], [old[-1]]), gw.Graph([x], [new[-1]]))
    # the bottom exp changed its input from x to sin(x): a new node; every exp above it was rebuilt
    assert _ops(d.added) == ["exp", "sin"] and d.removed == [old[1].owner]
    assert len(d.rewired) == 4999
    assert all(d.rewired[old[k].owner] is new[k].owner for k in range(2, 5001))


def test_structural_diff_pairs_from_inputs_below_a_replaced_output():
    x = gw.vector("x")
    before = gw.Graph([x], [gw.log(gw.exp(gw.sin(x)) * 2)])
    after = gw.Graph([x], [gw.log1p(gw.exp(gw.cos(x)) * 2)])
    d = graph_diff(before, after)
    # mul keeps its constant input and its other input changed on both sides; exp has nothing unchanged
    assert [(o.op.short_name(), n) for o, n in d.rewired.items()] == [("mul", (gw.exp(gw.cos(x)) * 2).owner)]
    assert _ops(d.added) == ["cos", "exp", "log1p"] and _ops(d.removed) == ["exp", "log", "sin"]


def test_every_step_of_a_fast_run_trace_structural_equals_exact_and_draws():
    from viz_parse import svg_groups

    from graphwright.viz import to_svg

    x, m = gw.vector("x"), gw.matrix("m")
    out = gw.log(1 + gw.exp(x)) * 3 + gw.sum(gw.exp(m) * gw.sin(m), axis=1) - gw.log(gw.sum(gw.exp(x)))
    _, trace = gw.rewrite(gw.Graph([x, m], [out]), phases="fast_run")
    assert len(trace) >= 5
    ids = NodeIds()
    for k in range(len(trace)):
        before, after, changes = trace.graph_before(k), trace.graph_after(k), trace.changes(k)
        exact, structural = graph_diff(before, after, changes), graph_diff(before, after)
        assert (set(structural.added), set(structural.removed)) == (set(exact.added), set(exact.removed)), k
        assert structural.rewired == exact.rewired, k
        groups = svg_groups(to_svg(diff_dot(before, after, changes=changes, ids=ids)))
        for node in exact.added:
            assert "gw-added" in groups[ids.of(node)]
        for node in exact.removed:
            assert "gw-removed" in groups[ids.of(node)]
        for old, new in exact.rewired.items():
            assert ids.of(old) == ids.of(new) and "gw-rewired" in groups[ids.of(new)]


def test_diff_dot_keeps_ids_unique_when_a_rebuilt_node_already_exists():
    # the rebuilt sum(log(1 + exp(x))) is hash-consed to the sum(softplus(x)) that was already in the graph
    x = gw.vector("x")
    g = gw.Graph([x], [gw.log(1 + gw.exp(x)).sum(), gw.softplus(x).sum()])
    _, trace = gw.rewrite(g, phases="stabilize")
    (k,) = [s.index for s in trace.steps_of("softplus")]
    before, after, changes = trace.graph_before(k), trace.graph_after(k), trace.changes(k)
    old_sum, kept_sum = before.outputs[0].owner, before.outputs[1].owner
    assert changes.rebuilt == {old_sum: kept_sum}
    ids = NodeIds()
    dot = diff_dot(before, after, changes=changes, ids=ids)
    drawn = re.findall(r'^\s*"([^"]+)" \[', dot, re.M)  # node statements
    assert len(drawn) == len(set(drawn))  # one drawn node per id
    assert ids.of(old_sum) != ids.of(kept_sum)
    nodes = dot_nodes(dot)
    assert "gw-removed" in classes(nodes[ids.of(old_sum)])  # gone: drawn as removed under its own id


def test_diff_dot_with_ids_that_already_follow_the_step_draws_the_same():
    # a session's ids have aliased the rebuilt nodes already (track_ids) before the stepper draws the diff
    _, _, before, after, changes = _softplus_step()
    ids = NodeIds()
    first = dot_nodes(diff_dot(before, after, changes=changes, ids=ids))
    again = dot_nodes(diff_dot(before, after, changes=changes, ids=ids))
    assert {k: classes(v) for k, v in again.items()} == {k: classes(v) for k, v in first.items()}
    assert sum("gw-rewired" in classes(v) for v in again.values()) == 2
