"""Session ids come from the core's id-space history (one scheme) and are looked up lazily: Session() plus
``ids_at(k)`` for every step costs what the steps changed plus the nodes looked up, never a table per step."""

import pytest
from history_graphs import gradient_of_cost  # this folder is on sys.path (pytest)

import graphwright as gw
from graphwright.rewrite.id_history import walk_ids
from graphwright.viz.ids import drawable
from graphwright.workbench.session import Session


def exp_chain(n: int) -> list:
    """``y = exp(y) * 1.0`` repeated ``n`` times: each mul_one step rebuilds the rest of the chain."""
    y = gw.vector("x")
    for _ in range(n):
        y = gw.exp(y) * 1.0
    return [y]


def _sweep(monkeypatch, count_graph_calls, outputs) -> dict[str, int]:
    """Session(outputs), then ids_at(k) for every k with a lookup of what step k replaced and its replacement:
    the steps, passes, whole-graph walks, graphs built and nodes whose id was worked out."""
    with monkeypatch.context() as patch:
        toposorts, replaces = count_graph_calls(patch, "toposort"), count_graph_calls(patch, "replace")
        s = Session(outputs)
        for k in range(-1, len(s.steps)):
            ids = s.ids_at(k)
            if k >= 0:
                ids.of(s.steps[k].replacement)
                ids.of(s.steps[k].replaced)
    stores = [seg._walk["store"] for seg in s._history._segments if "store" in seg._walk]
    return {"steps": len(s.steps), "passes": len(s.steps[0].trace.passes), "toposorts": toposorts[0],
            "replaces": replaces[0], "built": sum(step.built is not None for step in s.steps),
            "work": sum(store.work for store in stores)}


@pytest.mark.parametrize("build, small", [(exp_chain, 40), (gradient_of_cost, 6)])
def test_ids_at_every_step_costs_the_changes_not_the_graph_per_step(monkeypatch, count_graph_calls, build, small):
    low = _sweep(monkeypatch, count_graph_calls, build(small))
    high = _sweep(monkeypatch, count_graph_calls, build(10 * small))
    assert high["steps"] >= 5 * low["steps"]  # many more steps, each rebuilding much more of the graph ...
    for counts in (low, high):
        assert counts["built"] == 0, counts  # ... no step's graph is built for its ids
        assert counts["toposorts"] <= 6 * counts["passes"] + 8 and counts["replaces"] <= counts["passes"] + 2, counts
        assert 0 < counts["work"] <= 8 * counts["steps"] + 40, counts  # nodes worked out: a few per step looked at
    assert high["toposorts"] - low["toposorts"] <= 6 * (high["passes"] - low["passes"]) + 2, (low, high)
    assert high["work"] <= 14 * low["work"], (low, high)


def test_the_first_traces_ids_are_the_walk_ids_of_the_core():
    s = Session(gradient_of_cost(4))
    trace = s.steps[0].trace
    checked = 0
    for delta in walk_ids(trace):
        ids = s.ids_at(delta.index)
        for node in delta.created:
            assert ids.of(node.obj) == f"n{node.id}", (delta.index, node)
            checked += 1
    assert checked > len(s.steps)


def test_a_lookup_works_out_only_the_nodes_it_needs():
    s = Session(exp_chain(200))
    store_work = []
    last = s.ids_at(len(s.steps) - 1)
    last.of(s.graph.outputs[0])  # the walk of the whole trace, then the few nodes of the final graph
    store = s._history._segments[0]._walk["store"]
    store_work.append(store.work)
    middle = len(s.steps) // 2
    target = s.steps[middle].replacement
    s.ids_at(middle).of(target)  # a first lookup there: the node and its ancestors, once each
    store_work.append(store.work)
    s.ids_at(middle + 1).of(s.steps[middle + 1].replacement)  # the next step: what that step changed
    store_work.append(store.work)
    ancestors = len(gw.Graph(None, [target]).toposort)
    assert store_work[0] <= 4 and store_work[1] - store_work[0] <= ancestors, (store_work, ancestors)
    assert store_work[2] - store_work[1] <= 4, store_work
    shown = [s.ids_at(middle).of(obj) for obj in drawable(s.graph_at(middle))]  # a whole graph: its nodes, once
    assert len(shown) == len(set(shown)) and store.work - store_work[2] <= len(shown) + 2
