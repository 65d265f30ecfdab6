"""Per-graph node ids of a session's history (workbench.step_ids): unique in every graph, kept by rebuilt and
by unchanged nodes, fresh for created nodes, independent of the order the steps are looked at in, and made
lazily (a step's ids cost nothing until the step is looked at)."""

import random

import pytest
from history_graphs import gradient_of_cost, softplus_chain  # this folder is on sys.path (pytest)

import graphwright as gw
from graphwright.viz.ids import drawable
from graphwright.workbench.session import Session
from graphwright.workbench.step_ids import HistoryIds


def random_graph(n_nodes: int, seed: int = 0, n_inputs: int = 4, width: int = 8) -> tuple[list, list]:
    """A random elementwise graph of about ``n_nodes`` nodes, about ``width`` wide (the idea of
    tests/benchmarks/bench_rewrite.random_plan, without its value checks)."""
    rng = random.Random(seed)
    inputs = [gw.vector(f"v{i}") for i in range(n_inputs)]
    unary = [gw.exp, gw.tanh, gw.sigmoid, gw.sqr, lambda v: gw.log(abs(v) + 1)]
    binary = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b]
    values, unused = list(inputs), list(inputs)
    for _ in range(n_nodes):
        full = len(unused) > width
        pool = unused if full or rng.random() < 0.3 else values[-4 * width:]
        a = rng.choice(pool)
        if full or rng.random() < 0.5:
            b = rng.choice(unused if full else values[-4 * width:])
            out = rng.choice(binary)(a, b)
            used = (a, b)
        else:
            out = rng.choice(unary)(a)
            used = (a,)
        unused = [v for v in unused if all(v is not u for u in used)] + [out]
        values.append(out)
    return inputs, unused


def random_cost_gradient(n_nodes: int, seed: int = 0) -> list:
    """The cost (sum of a random graph's outputs) and its gradient, as tests/benchmarks/bench_scale's "grad"."""
    inputs, outputs = random_graph(n_nodes, seed)
    cost = outputs[0].sum()
    for out in outputs[1:]:
        cost = cost + out.sum()
    return [cost, *gw.grad(cost, inputs)]


FAMILIES = {
    "random_gradient": lambda: random_cost_gradient(60, seed=1),
    "random_gradient_2": lambda: random_cost_gradient(40, seed=7),
    "gradient": lambda: gradient_of_cost(6),
    "random": lambda: random_graph(80, seed=3)[1],
    "chain": lambda: softplus_chain(12),
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def session(request):
    return Session(FAMILIES[request.param]())


def _shown(s, k):
    ids = s.ids_at(k)
    return [ids.of(obj) for obj in drawable(s.graph_at(k))]


def test_ids_are_unique_in_every_graph(session):
    s = session
    assert len(s.steps) > 5
    for k in range(-1, len(s.steps)):
        shown = _shown(s, k)
        assert len(shown) == len(set(shown)), (k, sorted(shown))
        assert set(s._history.table(k)) == set(drawable(s.graph_at(k)))  # every object has its own entry


def _merged_or_start(step, new) -> bool:
    """Whether ``new`` is a node of its pass's start graph, or the form of two or more of its nodes (a step
    merged them): the documented cases where a node does not take the id of the node it was rebuilt from."""
    if step.trace is None:
        return False
    k, graphs = step.trace_index, step.graphs
    start = graphs.start(step.trace.steps[k].pass_id)
    return new in set(start.toposort) or sum(form is new for form in graphs.forms(k).values()) > 1


def test_rebuilt_nodes_keep_their_ids_and_created_nodes_get_new_ones(session):
    s, shared, exceptions = session, 0, 0
    for step in s.steps:
        before_ids, after_ids = s.ids_at(step.index - 1), s.ids_at(step.index)
        before, after = set(step.before.toposort), set(step.after.toposort)
        olds: dict = {}
        for old, new in step.changes.rebuilt.items():
            if old not in after and new not in before:  # old left, new came: new can take old's id
                olds.setdefault(new, []).append(old)
        for new, old_nodes in olds.items():
            if after_ids.of(new) in {before_ids.of(old) for old in old_nodes}:
                shared += 1
            else:
                assert _merged_or_start(step, new), (step, new)
                exceptions += 1
        taken = {before_ids.of(obj) for obj in drawable(step.before)}
        for node in step.changes.created:
            if node not in before:
                assert after_ids.of(node) not in taken, (step, node)
        for obj in drawable(step.after):  # an object in both graphs keeps its id (unless a step merged it)
            if obj in before and before_ids.of(obj) != after_ids.of(obj):
                assert _merged_or_start(step, obj), (step, obj)
                exceptions += 1
    assert shared > 0 and exceptions <= shared // 50


def test_the_before_and_after_of_a_step_share_one_id_space(session):
    """``ids_at(k)`` draws both graphs of step k: an id there is one object, or a rebuilt node and its old form."""
    s = session
    for step in s.steps:
        ids = s.ids_at(step.index)
        rebuilt = step.changes.rebuilt
        owner: dict = {}
        for graph in (step.before, step.after):
            for obj in drawable(graph):
                seen = owner.setdefault(ids.of(obj), obj)
                assert seen is obj or rebuilt.get(seen) is obj or _merged_or_start(step, obj), (step, obj)


def _all_ids(s, order):
    return {k: _shown(s, k) for k in order}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_ids_do_not_depend_on_the_order_steps_are_looked_at(family):
    outputs = FAMILIES[family]()
    n = len(Session(outputs).steps)
    forward = list(range(-1, n))
    shuffled = forward[:]
    random.Random(5).shuffle(shuffled)
    jump = [n - 1, n // 2, *forward[::-1]]  # the last step first, then one in the middle, then all backwards
    reference = _all_ids(Session(outputs), forward)
    for order in (shuffled, jump):
        assert _all_ids(Session(outputs), order) == reference, order[:3]


def test_substitution_keeps_the_ids_before_it_and_undo_restores_them():
    s = Session(random_cost_gradient(30, seed=2))
    pos = len(s.steps) // 2
    before = _all_ids(s, range(-1, len(s.steps)))
    graph = s.graph_at(pos)
    target = graph.outputs[0]
    report = s.substitute(target, target * 1.0, at=pos)
    assert report.ok
    after = _all_ids(s, range(-1, pos + 1))
    assert after == {k: before[k] for k in range(-1, pos + 1)}
    for k in range(pos + 1, len(s.steps)):
        shown = _shown(s, k)
        assert len(shown) == len(set(shown)), k
    kept = s.ids_at(pos + 1).of(s.graph_at(pos + 1).outputs[1])  # an output the edit did not touch
    assert kept == s.ids_at(pos).of(graph.outputs[1])
    s.undo()
    assert _all_ids(s, range(-1, len(s.steps))) == before


@pytest.mark.parametrize("build", [softplus_chain, gradient_of_cost])
def test_the_ids_of_one_step_cost_a_walk_per_pass_not_per_step(monkeypatch, count_graph_calls, build):
    s = Session(build(24))
    trace = s.steps[0].trace
    passes = len(trace.passes)
    assert len(s.steps) > 3 * passes
    built = [k for k, step in enumerate(s.steps) if step.built is not None]
    assert built == []  # Session() makes no graph of a step
    with monkeypatch.context() as patch:
        toposorts = count_graph_calls(patch, "toposort")
        s.ids_at(len(s.steps) - 1).of(s.graph.outputs[0])  # the last step first
    assert toposorts[0] <= 2 * passes + 4, (toposorts[0], passes, len(s.steps))
    ends = {max(k for k, st in enumerate(trace.steps) if st.pass_id == p) for p in {st.pass_id for st in trace}}
    assert {k for k, step in enumerate(s.steps) if step.built is not None} <= ends | {len(s.steps) - 2}


def test_history_ids_refuses_a_history_that_skips_steps_of_a_trace():
    s = Session(softplus_chain(4))
    with pytest.raises(ValueError, match="step 1 of its trace"):
        HistoryIds(s.original, s.steps[1:])


def _stale_reference_trace():
    """A hand-made trace whose second step's replacement holds a start node that the first step rebuilt: the
    start node and its rebuilt form are then both in the graph, and claim one id."""
    from types import SimpleNamespace

    from graphwright.rewrite.trace import Step, Trace

    x = gw.vector("x")
    a = x * 3.0
    u, v = gw.exp(a), gw.exp(a) * 2.0
    initial = gw.Graph([x], [u, v])
    rule = SimpleNamespace(name="by_hand", identity="by hand")
    trace = Trace(initial, passes=[("canonicalize", initial.outputs)])
    trace.steps = [Step(0, "canonicalize", rule, a, x * 4.0, a, 0), Step(1, "canonicalize", rule, v, u + 1.0, v, 0)]
    return trace, u


def test_a_node_and_its_rebuilt_form_in_one_graph_get_different_ids():
    from graphwright.workbench.steps import steps_from_trace

    trace, u = _stale_reference_trace()
    history = HistoryIds(trace.initial, steps_from_trace(trace))
    form = history.graph(0).outputs[0].owner  # exp(x * 4): u rebuilt by step 0
    assert form is not u.owner and form in history.graph(1).toposort and u.owner in history.graph(1).toposort
    start_id = history.at(-1).of(u)
    assert history.at(0).of(form) == start_id  # rebuilt: keeps u's id ...
    assert history.at(1).of(form) == start_id  # ... and keeps it while it stays
    assert history.at(1).of(u) not in {start_id} | set(history.table(0).values())  # u, back again: a new id
    for k in (-1, 0, 1):
        shown = [history.at(k).of(obj) for obj in drawable(history.graph(k))]
        assert len(shown) == len(set(shown)), (k, shown)
