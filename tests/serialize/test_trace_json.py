"""The JSON form of rewrite traces: steps, diffs, passes and refusals come back as they were (the same
hash-consed nodes on the same inputs), the document follows the schema, and writing it is linear."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import graphwright as gw
from graphwright.graph.basic import Variable
from graphwright.graph.graph import Graph
from graphwright.rewrite import Costed, RuleSet, function_rule
from graphwright.rewrite.id_history import IdDelta, IdNode
from graphwright.rewrite.trace import Trace
from graphwright.serialize import SerializeError, trace_from_json, validate
from graphwright.serialize.tables import NodeDecoder, NodeTable
from graphwright.serialize.trace_history import HistoryWriter
from graphwright.serialize.trace_json import HistoryReplay, RuleRecord

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workbench"))
from history_graphs import gradient_of_cost, softplus_chain  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rewrite"))
from test_trace_history import CASES  # noqa: E402


def _graphs() -> dict[str, Graph]:
    x, m = gw.vector("x"), gw.matrix("m")
    a, b = gw.vector("a"), gw.vector("b", shape=(3,))
    p, q = gw.split(gw.concatenate([gw.exp(a), b]), [a.shape[0], 3])  # split_of_join: a node step (two pairs)
    return {"softplus_chain": Graph(None, softplus_chain(6)), "gradient": Graph(None, gradient_of_cost(4)),
            "fused": Graph([x, m], [gw.sum(gw.exp(m) * x + 1, axis=0), gw.softmax(m @ x) * 2]),
            "node_step": Graph([a, b], [p * 2, q + 1])}


def _text(doc: dict) -> dict:
    return json.loads(json.dumps(doc, allow_nan=False))


@pytest.mark.parametrize("name", sorted(_graphs()))
def test_a_trace_comes_back_on_the_same_nodes(name: str) -> None:
    graph = _graphs()[name]
    _, trace = gw.rewrite(graph)
    doc = _text(trace.to_json())
    validate(doc)
    again = Trace.from_json(doc, inputs=list(graph.inputs))
    assert again.text() == trace.text() and len(again) == len(trace) >= 2
    assert again.final.outputs == trace.final.outputs
    for k, (a, b) in enumerate(zip(again.steps, trace.steps, strict=True)):
        assert (a.index, a.phase, a.rule_name, a.identity, a.pass_id) == (b.index, b.phase, b.rule_name, b.identity,
                                                                          b.pass_id)
        assert a.replaced is b.replaced and a.replacement is b.replacement and a.origin is b.origin
        assert a.others == b.others and a.costs == b.costs
        assert type(a.rule) is type(b.rule)  # the registered rule, found by name and identity
        ours, theirs = again.changes(k), trace.changes(k)
        assert ours.created == theirs.created and ours.rebuilt == theirs.rebuilt and ours.removed == theirs.removed
        assert again.graph_after(k).outputs == trace.graph_after(k).outputs
    assert [(p, list(s)) for p, s in again.passes] == [(p, list(s)) for p, s in trace.passes]
    assert [(r.rule_name, r.var, r.kind, r.reason) for r in again.refusals] == \
        [(r.rule_name, r.var, r.kind, r.reason) for r in trace.refusals]
    assert again.counts == trace.counts and set(again.times) == set(trace.times)
    assert again.backend == trace.backend
    if name == "node_step":
        assert any(step.others for step in again.steps)


def test_costed_steps_keep_both_costs():
    a = gw.vector("a")

    @function_rule("t_costed_json", roots=("mul",))
    def costed(var, ctx):
        """x * 2 = x + x (cheaper, says the model)"""
        x, _ = var.owner.inputs
        return Costed(x + x, 3.0, 1.0)

    _, trace = gw.rewrite(Graph([a], [a * 2.0]), rules=RuleSet("custom", [costed]))
    again = trace_from_json(_text(trace.to_json()), inputs=[a])
    assert again[0].costs == (3.0, 1.0) and str(again[0]) == str(trace[0])
    assert isinstance(again[0].rule, RuleRecord)  # a rule of no registered rule set


def test_step_diffs_name_nodes_of_the_table():
    """A rebuilt node is the same node, rewired: the mul above the softplus keeps its key."""
    x = gw.vector("x")
    _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 2, phases="stabilize")
    doc = trace.to_json()
    ids = {e["id"]: e for e in doc["nodes"]}
    (step,) = doc["steps"]
    assert [ids[n]["label"] for n in step["created"]] == ["softplus"]
    assert sorted(ids[n]["label"] for n in step["removed"]) == ["1", "add", "exp", "log"]
    (mul,) = doc["initial"]["outputs"]
    assert step["rewired"] == [[mul, 0, step["created"][0]]] and step["changed_outputs"] == []
    assert "rebuilt" not in step


def _replayed_graphs(doc: dict, inputs: list) -> list[list]:
    """The outputs after the initial graph and after every step, rebuilt from the document's history alone:
    the replayed keys and edges, each key's op from its entry (through the decoder), hash-consed."""
    decoder = NodeDecoder(doc["nodes"], inputs=dict(zip(doc["initial"]["inputs"], inputs, strict=True)))
    replay, graphs = HistoryReplay(doc["nodes"]), []
    for k, delta in enumerate([doc["initial"], *doc["steps"]]):
        replay.apply(delta, "test", first=k == 0)
        made: dict = {}

        def var(ref, made=made):
            key, _, out = ref.partition(":")
            if key not in made:
                obj = decoder.objects[key]
                made[key] = obj if isinstance(obj, Variable) else obj.op.make_node(*map(var, replay.inputs[key]))
            return made[key] if isinstance(made[key], Variable) else made[key].outputs[int(out or 0)]

        graphs.append([var(ref) for ref in replay.outputs])
    return graphs


@pytest.mark.parametrize("name", sorted(CASES))
def test_replaying_the_history_gives_every_step_graph(name: str) -> None:
    _, trace = gw.rewrite(CASES[name]())
    doc = _text(trace.to_json())
    graphs = _replayed_graphs(doc, list(trace.initial.inputs))
    assert graphs == [list(trace.graph_after(k).outputs) for k in range(-1, len(trace))]
    again = trace_from_json(doc)  # fresh inputs: the changes are made from the rebuilt graphs when asked for
    for k in range(len(again)):
        mine, theirs = again.changes(k), trace.changes(k)
        assert [n.op for n in mine.created] == [n.op for n in theirs.created]
        assert len(mine.rebuilt) == len(theirs.rebuilt) and len(mine.removed) == len(theirs.removed)


def test_a_node_given_back_its_old_form_gets_a_second_key():
    """Two nodes alive at once never share a key, even when one is created as the object the other was."""
    x = gw.vector("x")
    exp_x, log_x = gw.exp(x).owner, gw.log(x).owner
    table = NodeTable()
    writer, replay = HistoryWriter(table), HistoryReplay(table.entries)
    deltas = [IdDelta(-1, created=[IdNode(0, x, ()), IdNode(1, exp_x, ((0, 0),))], outputs=[(0, (1, 0)), (1, (0, 0))]),
              IdDelta(0, created=[IdNode(2, log_x, ((0, 0),))], rewired=[(1, 0, (2, 0))]),  # id 1 is exp(log(x))
              IdDelta(1, created=[IdNode(3, exp_x, ((0, 0),))], outputs=[(1, (3, 0))])]  # a new exp(x)
    written = [writer.write(delta) for delta in deltas]
    replay.entries = {e["id"]: e for e in table.entries}
    replay.apply({**written[0], "outputs": [ref for _, ref in written[0]["changed_outputs"]]}, "initial", first=True)
    for k, delta in enumerate(written[1:]):
        replay.apply(delta, f"step {k}")
    first, again = written[0]["created"][1], written[2]["created"][0]
    assert first != again and replay.inputs[first] == [written[1]["created"][0]] and replay.inputs[again] == ["n0"]
    decoder = NodeDecoder(table.entries, inputs={"n0": x})
    assert decoder.objects[first] is decoder.objects[again] is exp_x


def test_bad_histories_are_refused():
    x = gw.vector("x")
    _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 2, phases="stabilize")
    doc = _text(trace.to_json())
    for key, value, message in [("removed", ["n8"], "removes 'n8', which is not a node"),
                                ("created", ["n6"], "creates 'n6', which is no entry or is in the graph"),
                                ("rewired", [["n6", 5, "n7"]], "rewires input 5 of 'n6'"),
                                ("rewired", [["n6", 0, "n3"]], "'n3' does not name a node of the graph after"),
                                ("changed_outputs", [[3, "n7"]], "changes output 3; the graph has 1")]:
        broken = json.loads(json.dumps(doc))
        broken["steps"][0][key] = value
        with pytest.raises(SerializeError, match=message):
            trace_from_json(broken)


def test_refusals_and_unknown_rules():
    u, x = gw.vector("u", dtype="uint8"), gw.vector("x")
    graph = Graph(None, [gw.log(gw.sigmoid(u)), gw.sqrt(x**2) * 1])
    _, trace = gw.rewrite(graph)
    doc = _text(trace.to_json())
    assert doc["steps"] and len(trace.refusals) >= 2
    kept = trace_from_json(doc, inputs=list(graph.inputs))
    assert [(r.rule_name, r.kind, r.reason, r.var) for r in kept.refusals] == \
        [(r.rule_name, r.kind, r.reason, r.var) for r in trace.refusals]
    doc["steps"][0]["rule"] = "a_rule_of_another_process"
    again = trace_from_json(doc)
    assert isinstance(again.steps[0].rule, RuleRecord) and again.steps[0].rule_name == "a_rule_of_another_process"
    assert "is not a registered rule" in again.steps[0].rule.explain(None)


def test_bad_trace_documents_are_refused():
    _, trace = gw.rewrite(gw.log(1 + gw.vector("x")), phases="stabilize")
    doc = _text(trace.to_json())
    with pytest.raises(SerializeError, match="expected a graphwright-trace document"):
        trace_from_json({**doc, "format": "graphwright-graph"})
    with pytest.raises(SerializeError, match="not a trace in graphwright's JSON form: KeyError"):
        trace_from_json({**doc, "steps": [{"index": 0}]})
    with pytest.raises(SerializeError, match="1 graph inputs, 2 were given"):
        trace_from_json(doc, inputs=[gw.vector("a"), gw.vector("b")])


def test_writing_a_trace_walks_no_whole_graph_per_step(count_graph_calls, monkeypatch):
    """The document and its writing grow with the history: whole-graph walks do not grow with the steps."""
    for terms in (10, 100, 1000):
        x = gw.vector("x")
        _, trace = gw.rewrite(Graph([x], [gw.log(1 + gw.exp(x * k)) * 1 for k in range(terms)]),
                              phases="stabilize")
        with monkeypatch.context() as patcher:
            walks, rebuilds = count_graph_calls(patcher, "toposort"), count_graph_calls(patcher, "replace")
            doc = trace.to_json()
        assert walks[0] <= 2 and rebuilds[0] == 0, (terms, walks, rebuilds)
        assert len(doc["nodes"]) < 8 * terms


def test_a_deep_chain_trace_grows_linearly_with_its_steps():
    """A chain rewrite's history is a few keys and edges per step however deep the chain (no rebuilt pairs)."""
    per_step = []
    for depth in (100, 1000):
        x = gw.vector("x")
        y = x
        for _ in range(depth):
            y = gw.exp(y) * 1.0
        _, trace = gw.rewrite(Graph([x], [y]))
        doc = _text(trace.to_json())
        per_step.append(len(json.dumps(doc)) / len(trace))
        assert sum(len(s["created"]) + len(s["removed"]) + len(s["rewired"]) for s in doc["steps"]) <= 8 * depth
        assert len(doc["nodes"]) <= 5 * depth
    assert per_step[1] < 1.2 * per_step[0]
