"""Session history at scale: graphs made on demand, node ids that follow nodes, costs that do not grow with
the number of steps."""


import pytest
from history_graphs import gradient_of_cost, softplus_chain  # this folder is on sys.path (pytest)

import graphwright as gw
from graphwright.viz.ids import drawable
from graphwright.workbench.session import Session


def _session_counts(monkeypatch, count_graph_calls, outputs) -> tuple[int, int, int, int]:
    """(steps, passes, toposorts, replaces) of Session(outputs), the rewrite's own calls included."""
    with monkeypatch.context() as patch:
        toposorts, replaces = count_graph_calls(patch, "toposort"), count_graph_calls(patch, "replace")
        s = Session(outputs)
    trace = s.steps[0].trace
    return len(s.steps), len(trace.passes), toposorts[0], replaces[0]


@pytest.mark.parametrize("build", [softplus_chain, gradient_of_cost])
def test_session_cost_does_not_grow_with_the_steps(monkeypatch, count_graph_calls, build):
    """Session() walks whole graphs a fixed number of times per rewrite pass, never once per step."""
    small = _session_counts(monkeypatch, count_graph_calls, build(8))
    large = _session_counts(monkeypatch, count_graph_calls, build(32))
    assert large[0] >= 3 * small[0]  # four times the steps ...
    for counts in (small, large):
        steps, passes, toposorts, replaces = counts
        assert toposorts <= 4 * passes + 8 and replaces <= passes + 2, counts  # ... never a walk per step
    assert large[2] - small[2] <= 4 * (large[1] - small[1]) + 8


def test_graphs_are_made_when_first_asked_for():
    s = Session(softplus_chain(10))
    trace = s.steps[0].trace
    pass_of = [st.pass_id for st in trace.steps]
    ends = {max(k for k, p in enumerate(pass_of) if p == q) for q in set(pass_of)}
    assert {k for k, step in enumerate(s.steps) if step.built is not None} == set()  # Session() makes none
    middle = next(k for k in range(1, len(s.steps)) if k not in ends and k - 1 not in ends)
    step = s.steps[middle]
    assert step.built is None
    ids = s.ids_at(middle)  # the ids of one step: looked up by structure when asked for, no graph is built
    assert {k for k, st in enumerate(s.steps) if st.built is not None} == set()
    graph = step.after
    assert step.built is graph and s.graph_at(middle) is graph and s.steps[middle + 1].before is graph
    assert all(obj in ids for obj in drawable(graph))
    assert s.graph is trace.final


@pytest.mark.parametrize("build", [softplus_chain, gradient_of_cost])
def test_created_nodes_get_new_ids_and_ids_are_unique_in_each_graph(build):
    s = Session(build(5))
    for step in s.steps:
        before_ids = {s.ids_at(step.index - 1).of(n) for n in step.before.toposort}
        assert all(s.ids_at(step.index).of(node) not in before_ids for node in step.changes.created)
        shown = [s.ids_at(step.index).of(obj) for obj in drawable(step.after)]
        assert len(shown) == len(set(shown))


def test_rebuilt_nodes_keep_their_ids():
    s = Session(softplus_chain(8))
    rebuilt = [(step.index, old, new) for step in s.steps for old, new in step.changes.rebuilt.items()]
    assert len(rebuilt) > len(s.steps)
    assert all(s.ids_at(k - 1).of(old) == s.ids_at(k).of(new) for k, old, new in rebuilt)


def test_why_not_finds_a_step_on_a_node_rebuilt_within_a_pass():
    x = gw.vector("x")
    outer = gw.exp(x * 1) * 1
    s = Session(gw.exp(outer), phases="canonicalize")
    assert [step.rule for step in s.steps] == ["mul_one", "mul_one"]
    second = s.steps[1]
    assert second.replaced is gw.exp(x) * 1 and second.replaced.owner not in s.graph.toposort
    answer = s.why_not("mul_one", s.ids.of(outer))  # the id of the node, rebuilt by step 0, replaced by step 1
    assert answer.startswith("mul_one fired at exp(x) * 1 in step 1"), answer
    assert s.ids_at(0).of(second.replaced) == s.ids_at(-1).of(outer)
