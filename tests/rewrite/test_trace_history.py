"""Trace.deltas and the id-space history: exactly the changes of the whole graphs, in linear total work."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import graph as graph_module
from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import toposort
from graphwright.rewrite.id_history import IdWalk, walk_ids
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
    # node steps: split_of_join replaces both outputs of a split in one step
    "split-of-join": lambda: split_of_join_graph(),
}


def split_of_join_graph() -> list:
    a, b = gw.vector("a"), gw.vector("b", shape=(3,))
    p, q = gw.split(gw.concatenate([gw.exp(a), b]), [a.shape[0], 3])
    return [(p * 1).sum() + q.sum(), q * 2, gw.log(1 + gw.exp(p))]


@pytest.mark.parametrize("name", sorted(CASES))
def test_replaying_the_id_deltas_gives_every_graph(name):
    """A reader that keeps only the id deltas (as a JSON reader would) has every step's graph: replayed on a
    plain copy they give the walk's id graph, and that graph, rebuilt as objects, is graph_after(k)."""
    _, trace = gw.rewrite(CASES[name]())
    replica: dict = {}
    outputs: list = []
    for delta in walk_ids(trace):
        for i in delta.removed:
            del replica[i]
        for node in delta.created:
            replica[node.id] = (node.obj, list(node.inputs))
        for i, pos, ref in delta.rewired:
            replica[i][1][pos] = ref
        outputs = [ref for _, ref in delta.outputs] if delta.index < 0 else outputs
        for slot, ref in delta.outputs:
            outputs[slot] = ref
        graph = trace.initial if delta.index < 0 else trace.graph_after(delta.index)
        assert rebuild(replica, outputs) == list(graph.outputs)


def rebuild(replica: dict, outputs: list) -> list:
    """The output variables of an id graph ``{id: (object, input refs)}``, rebuilt from ops and refs."""
    made: dict = {}

    def var(ref):
        i, out = ref
        if i not in made:
            obj, ins = replica[i]
            made[i] = obj if isinstance(obj, Variable) else obj.op.make_node(*map(var, ins))
        return made[i] if isinstance(made[i], Variable) else made[i].outputs[out]

    return [var(ref) for ref in outputs]


@pytest.mark.parametrize("name", ["gradient", "split-of-join", "hash-consed"])
def test_deltas_keep_the_object_fields_for_the_steps_asked_about(name):
    _, trace = gw.rewrite(CASES[name]())
    for delta in trace.deltas():
        k = delta.index
        before, after = trace.graph_before(k), trace.graph_after(k)
        assert tuple(delta.state.outputs) == after.outputs and len(delta.state) == after.node_count
        assert [n for n in delta.entered if n in set(before.toposort)] == []
        assert delta.changes is trace.changes(k) and delta.entered is delta.entered  # made once
        assert delta.slots == [(i, b, a) for i, (b, a) in enumerate(zip(before.outputs, after.outputs, strict=True))
                               if b is not a]
    _, fresh = gw.rewrite(CASES[name]())
    assert list(fresh.deltas()) and fresh.graph_after(len(fresh) - 1) is fresh.final  # no rebuild at the end


def materialize(walk) -> tuple[list, dict]:
    """The outputs of the id graph of ``walk``, rebuilt as objects from the ids' ops and input refs."""
    objs: dict = {}
    for i in walk.node_ids():
        ins = [objs[j].outputs[out] if walk.op[j] is not None else objs[j] for j, out in walk.ins[i]]
        objs[i] = walk.form[i] if walk.op[i] is None else walk.op[i].make_node(*ins)
    return [objs[j].outputs[out] if walk.op[j] is not None else objs[j] for j, out in walk.outputs], objs


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_id_graph_is_the_graph_after_every_step(name):
    """Rebuilt from ids alone, every step's id graph is exactly graph_after(k); ids are one per object, and
    every object the walk knows for an id is that id's object then."""
    _, trace = gw.rewrite(CASES[name]())
    walk = IdWalk(trace)
    assert tuple(materialize(walk)[0]) == trace.initial.outputs
    for k in range(len(trace)):
        before = set(walk.op)
        delta = walk.step(k)
        outputs, objs = materialize(walk)
        after = trace.graph_after(k)
        assert tuple(outputs) == after.outputs
        assert len(set(map(id, objs.values()))) == len(objs) == len(walk)
        assert all(objs[i] is obj for i, obj in walk.form.items())
        assert {n.id for n in delta.created} == set(walk.op) - before
        assert set(delta.removed) == before - set(walk.op)


def deep_chain(n: int):
    v = gw.vector("v")
    y = v
    for _ in range(n):
        y = gw.exp(y) * 1.0
    return y


def test_the_history_of_a_deep_chain_is_linear(monkeypatch, count_graph_calls):
    """Each step deep in a chain rebuilds every node above it as objects; the walk makes no object, walks
    the whole graph once per pass, and visits a bounded number of ids per step (no timing: counts)."""
    _, trace = gw.rewrite(deep_chain(300))
    toposorts = count_graph_calls(monkeypatch, "toposort")
    made = [0]
    create = Apply.create
    monkeypatch.setattr(Apply, "create", staticmethod(
        lambda *a, **kw: (made.__setitem__(0, made[0] + 1), create(*a, **kw))[1]))
    deltas = list(trace.deltas())
    assert len(deltas) == len(trace) == 301
    assert made[0] == 0 and toposorts[0] <= len(trace.passes) + 2
    walk = deltas[-1].walk
    assert walk.resyncs == 0 and walk.work <= 20 * (len(trace) + trace.initial.node_count)
    assert sum(len(d.ids) for d in deltas) <= 6 * len(trace)
    step = deltas[len(deltas) // 2]  # the object-level fields, for one step, on demand
    assert len(step.changes.rebuilt) > 100 and step.changes is trace.changes(step.index)


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
