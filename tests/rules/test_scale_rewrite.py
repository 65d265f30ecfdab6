"""Long sums and products rewrite in a bounded number of steps and end as one fused node (issue 14, item 8).

Counts, not times: how many steps, how many nodes, how many child matches and groupings a rule makes.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw
from graphwright.rewrite import P, Rule, RuleSet, engine, match
from graphwright.rewrite import ops as o
from graphwright.rewrite import pattern as pattern_module
from graphwright.tensor.composite import Composite
from graphwright.tensor.elemwise import Elemwise


def chain(n: int, shape: str):
    """``acc = acc + log(1 + exp(term_i))`` in three shapes: one vector times constants, n scalar weights,
    n vector inputs (each more than the former cap of 256 composite inputs when n > 256)."""
    x = gw.vector("x")
    if shape == "constants":
        inputs, terms = [x], [x * float(i + 1) for i in range(n)]
    elif shape == "weights":
        ws = [gw.scalar(f"w{i}") for i in range(n)]
        inputs, terms = [x, *ws], [x * w for w in ws]
    else:
        xs = [gw.vector(f"x{i}") for i in range(n)]
        inputs, terms = xs, xs
    acc = gw.log(1 + gw.exp(terms[0]))
    for t in terms[1:]:
        acc = acc + gw.log(1 + gw.exp(t))
    return inputs, acc


def scalar_data(inputs, rng):
    return [rng.uniform(-1, 1, size=5) if v.type.ndim else np.float64(rng.uniform(-1, 1)) for v in inputs]


@pytest.mark.parametrize("shape", ["constants", "weights", "vectors"])
def test_a_chain_of_softplus_terms_ends_as_one_composite(shape):
    n = 300
    inputs, out = chain(n, shape)
    g, trace = gw.rewrite(gw.Graph(inputs, [out]))
    assert g.node_count == 1
    (node,) = g.toposort
    assert isinstance(node.op, Composite)
    assert trace.counts["add_flatten"] == 1, "the whole chain is flattened in one step"
    assert len(trace) <= n + 5  # one softplus step per term, and a bounded number of others
    data = scalar_data(inputs, np.random.default_rng(0))
    want = gw.function(inputs, [out], backend="numpy", rewrites=None)(*data)[0]
    np.testing.assert_allclose(gw.function(inputs, [out], backend="numpy")(*data)[0], want, rtol=1e-12)


def test_a_long_chain_of_constant_additions_takes_two_steps():
    z = gw.vector("z")
    acc = z
    for _ in range(20_000):  # the default step limit used to be reached at 50,000 links
        acc = acc + 1.0
    g, trace = gw.rewrite(acc, phases="canonicalize")
    assert [s.rule_name for s in trace] == ["add_flatten", "add_constants"]
    np.testing.assert_array_equal(gw.function([z], [g.outputs[0]], backend="numpy")(np.zeros(2))[0],
                                  [20_000.0, 20_000.0])


@pytest.mark.parametrize("op", ["add", "mul"])
def test_flattening_a_whole_chain_keeps_the_pairwise_order(op):
    xs = [gw.vector(f"x{i}") for i in range(6)]
    fn = gw.add if op == "add" else gw.mul
    left = xs[0]
    for v in xs[1:]:
        left = fn(left, v)  # ((x0 . x1) . x2) ...
    right = xs[0]
    for v in xs[1:]:
        right = fn(v, right)  # x5 . (x4 . (... x0))
    # the same pairwise order as written: ((x0 . x1) . x2) ... and ((x1 . x0) . x2) ...
    for out, order in ((left, xs), (right, [xs[1], xs[0], *xs[2:]])):
        g, trace = gw.rewrite(out, phases="canonicalize", check=True)
        (node,) = g.toposort
        assert node.op.scalar_op.name == op and list(node.inputs) == order
        assert trace.counts[f"{op}_flatten"] == 1


def test_a_shared_link_stays_a_value_of_its_own():
    a, b, c, d, e = (gw.vector(n) for n in "abcde")
    s1 = a + b + c
    outs = [s1 * 2.0, s1 + d + e]
    g, trace = gw.rewrite(outs, phases="canonicalize", check=True)
    sums = [n for n in g.toposort if isinstance(n.op, Elemwise) and n.op.scalar_op.name == "add"]
    assert sorted(len(n.inputs) for n in sums) == [3, 3]  # add(a, b, c) and add(s1, d, e)


def test_the_default_step_limit_grows_with_the_graph(monkeypatch):
    monkeypatch.setattr(engine, "MIN_MAX_STEPS", 10)
    a = gw.vector("a")
    out = a
    for _ in range(40):
        out = gw.exp(out)
    wrap = RuleSet("custom", [Rule("t_wrap", o.exp(P.var("x", test=lambda v: v.owner is None or
                                                             v.owner.op.scalar_op.name != "abs")),
                                   lambda bd: gw.exp(abs(bd.x)))])
    g, trace = gw.rewrite(out, rules=wrap)  # 40 steps: under 20 per node, over MIN_MAX_STEPS
    assert len(trace) == 40
    with pytest.raises(gw.RewriteError, match="max_steps=30"):
        gw.rewrite(out, rules=wrap, max_steps=30)


def count_calls(monkeypatch, module, name):
    calls = [0]
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_commutative_matching_of_a_long_sum_is_linear(monkeypatch):
    x = P.var("x")
    n = 400
    vs = [gw.vector(f"v{i}") for i in range(n)]
    big = gw.add(*vs, 1.0)
    matches = count_calls(monkeypatch, pattern_module, "_match")
    builds = count_calls(monkeypatch, pattern_module._ew, "elemwise")
    res = match(1 + x, big)
    assert not isinstance(res, pattern_module.Mismatch) and len(res["x"].owner.inputs) == n
    assert matches[0] <= 3 * n and builds[0] == 1
    # three children: a child that fails on an input cuts the branch (not n * (n - 1) orderings tried)
    matches[0] = 0
    res = match(P.op("add", 2, 1, x), gw.add(*vs, 1.0, 2.0))
    assert not isinstance(res, pattern_module.Mismatch) and len(res["x"].owner.inputs) == n
    assert matches[0] <= 6 * n


def test_a_bound_absorber_is_compared_without_building_groupings(monkeypatch):
    x, y = P.var("x"), P.var("y")
    n = 300
    vs = [gw.vector(f"v{i}") for i in range(n)]
    big = gw.add(*[v * 2.0 for v in vs])
    builds = count_calls(monkeypatch, pattern_module._ew, "elemwise")
    res = match(x * y + x, big)  # every term matches x * y; x is then bound and never equals the rest
    assert isinstance(res, pattern_module.Mismatch)
    assert builds[0] == 0
