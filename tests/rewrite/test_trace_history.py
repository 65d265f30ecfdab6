"""Trace.deltas: each step's changes found incrementally, exactly those found from the whole graphs."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import graph as graph_module
from graphwright.graph.graph import toposort
from graphwright.rewrite.trace_history import GraphState


def random_elementwise(n_nodes: int, seed: int = 0) -> list:
    """A seeded random elementwise graph over three vectors: every op of a small table, shared subgraphs."""
    rng = np.random.default_rng(seed)
    xs = [gw.vector(f"x{i}") for i in range(3)]
    pool = list(xs)
    unary = [gw.exp, gw.log, gw.tanh, lambda v: v * 1, lambda v: v + 0, lambda v: gw.log(1 + gw.exp(v)),
             lambda v: 0 - (0 - v), lambda v: gw.exp(v) * gw.exp(v)]
    binary = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / (b * b + 1)]
    for _ in range(n_nodes):
        if rng.random() < 0.5:
            pool.append(unary[rng.integers(len(unary))](pool[rng.integers(len(pool))]))
        else:
            a, b = (pool[i] for i in rng.integers(len(pool), size=2))
            pool.append(binary[rng.integers(len(binary))](a, b))
    outs = pool[-3:]
    return [sum(o.sum() for o in outs), *outs]


def gradient_graph(n_nodes: int) -> list:
    cost = random_elementwise(n_nodes, seed=1)[0]
    inputs = gw.Graph(None, [cost]).inputs
    return [cost, *gw.grad(cost, list(inputs))]


CASES = {
    "random": lambda: random_elementwise(60),
    "random-seed-7": lambda: random_elementwise(40, seed=7),
    "gradient": lambda: gradient_graph(25),
    "softplus-chain": lambda: [sum(gw.log(1 + gw.exp(gw.vector("x") * float(i))) for i in range(1, 12))],
    # the rebuilt sum(log(1 + exp(x))) is hash-consed to the sum(softplus(x)) already in the graph
    "hash-consed": lambda: [gw.log(1 + gw.exp(gw.vector("x"))).sum(), gw.softplus(gw.vector("x")).sum()],
    "one-output-twice": lambda: [gw.exp(gw.vector("x")) * 1] * 2,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_deltas_are_the_changes_of_the_whole_graphs(name):
    _, trace = gw.rewrite(CASES[name]())
    assert len(trace) > 0
    walked = 0
    for delta in trace.deltas():
        k = delta.index
        before, after = trace.graph_before(k), trace.graph_after(k)
        assert tuple(delta.state.outputs) == after.outputs
        assert set(after.toposort) == {n for n in after.toposort if n in delta.state} and len(delta.state) == \
            after.node_count
        old_nodes, new_nodes = set(before.toposort), set(after.toposort)
        assert delta.entered == [n for n in after.toposort if n not in old_nodes]
        assert delta.left == [n for n in before.toposort if n not in new_nodes]
        reference = trace._changes_from_graphs(k)
        assert delta.changes.created == reference.created
        assert list(delta.changes.rebuilt.items()) == list(reference.rebuilt.items())
        assert delta.changes.removed == reference.removed
        assert delta.changes is trace.changes(k)  # kept: changes() answers from the walk now
        walked += 1
    assert walked == len(trace)
    _, fresh = gw.rewrite(CASES[name]())
    assert list(fresh.deltas()) and fresh.graph_after(len(fresh) - 1) is fresh.final  # no rebuild at the end


def test_the_walk_never_visits_a_whole_graph(monkeypatch, count_graph_calls):
    """Per step the walk touches only what the step changed: no toposort, no replace, no Graph built, and
    node makes bounded by the rebuilt and created nodes it reports."""
    _, trace = gw.rewrite(CASES["softplus-chain"]())
    toposorts, replaces = count_graph_calls(monkeypatch, "toposort"), count_graph_calls(monkeypatch, "replace")
    graphs = [0]
    init = gw.Graph.__init__
    monkeypatch.setattr(gw.Graph, "__init__", lambda self, *a, **kw: (graphs.__setitem__(0, graphs[0] + 1),
                                                                      init(self, *a, **kw))[1])
    makes = [0]
    from graphwright.rewrite import trace_history

    make = trace_history._Walk.make
    monkeypatch.setattr(trace_history._Walk, "make",
                        lambda self, node, ins: (makes.__setitem__(0, makes[0] + 1), make(self, node, ins))[1])
    deltas = list(trace.deltas())
    assert (toposorts[0], replaces[0], graphs[0]) == (0, 0, 0)
    changed = sum(len(d.changes.rebuilt) + len(d.entered) for d in deltas)
    assert 0 < makes[0] <= 2 * changed


def test_graph_state_counts_references():
    x = gw.vector("x")
    e = gw.exp(x)
    state = GraphState([e + e, e])
    assert len(state) == 2 and state.slots_of(e) == [1]
    entered, left = state.set_outputs([(0, gw.log(e))])
    assert [n.op.short_name() for n in entered] == ["log"] and [n.op.short_name() for n in left] == ["add"]
    assert e.owner in state  # still used by the log and by output 1
    state.mark()
    _, left = state.set_outputs([(0, x), (1, x)])
    assert {n.op.short_name() for n in left} == {"log", "exp"} and len(state) == 0
    assert [n.op.short_name() for n in state.users_at_mark(e.owner)] == ["log"]  # as it was at mark()
    assert list(state.node_users(e.owner)) == []


def test_toposort_inside_keeps_the_order_of_the_whole_toposort():
    outs = random_elementwise(80, seed=3)
    order = graph_module.toposort(outs)
    cut = set(order[len(order) // 2:])
    closed = {n for n in order if n in cut or any(v.owner in cut for v in n.inputs)}
    for node in order:  # close the set under users
        if any(v.owner in closed for v in node.inputs):
            closed.add(node)
    assert toposort(outs, inside=closed.__contains__) == [n for n in order if n in closed]
