"""Elementwise fusion: groups, multi-output composites, no duplicated work, no cycles, values kept."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphwright as gw
from graphwright.graph import toposort
from graphwright.rules import fusion
from graphwright.rules.fusion import fusion_groups
from graphwright.tensor.composite import Composite, composite_of
from graphwright.tensor.composite_reduce import CompositeReduce, composite_reduce
from graphwright.tensor.elemwise import Elemwise


def fused(outputs):
    g, trace = gw.rewrite(gw.Graph(None, list(outputs)), phases=["fusion"], check=True)
    assert not [r for r in trace.refusals if r.kind in ("error", "type", "loop")], trace.refusals
    return g, trace


def scalar_op_count(outputs) -> dict:
    """How often each scalar op is applied, counting inside composites (each composite once)."""
    counts: dict[str, int] = {}
    for node in toposort(outputs):
        inner = node.op.composite if isinstance(node.op, CompositeReduce) else node.op
        if isinstance(inner, Composite):
            for name, n in scalar_op_count(inner.inner_outputs).items():
                counts[name] = counts.get(name, 0) + n
        elif isinstance(node.op, Elemwise):
            counts[node.op.scalar_op.name] = counts.get(node.op.scalar_op.name, 0) + 1
    return counts


def values(inputs, outputs, data, rewrites=None):
    return gw.function(inputs, outputs, rewrites=rewrites)(*data)


def test_a_chain_becomes_one_composite():
    x, y = gw.vector("x"), gw.vector("y")
    out = gw.tanh(gw.exp(x) * 2 + y) - x
    g, trace = fused([out])
    assert g.node_count == 1
    (node,) = g.toposort
    assert isinstance(node.op, Composite) and node.op.size == 5
    assert str(g.outputs[0]) == "composite{tanh((exp(i0) * 2) + i1) - i0}(x, y)"
    assert [s.rule_name for s in trace] == ["elemwise_fusion"]
    data = [np.linspace(-2, 2, 7), np.arange(7.0)]
    np.testing.assert_allclose(values([x, y], g.outputs, data)[0], values([x, y], [out], data)[0])


def test_a_shared_intermediate_is_computed_once():
    x = gw.vector("x")
    e = gw.exp(gw.sin(x))
    outs = [e + 1, e * 2, gw.log1p(e)]
    g, trace = fused(outs)
    assert g.node_count == 1, "one composite with three outputs"
    assert len(g.toposort[0].outputs) == 3
    assert scalar_op_count(g.outputs) == scalar_op_count(outs)
    assert len(trace) == 3  # one step per replaced output


def test_a_value_used_outside_the_group_becomes_an_extra_output():
    x = gw.vector("x")
    e = gw.exp(x)
    out = gw.sum(e) + gw.sin(e) * 3  # e feeds a reduction and the elementwise tail
    g, _ = fused([out])
    assert scalar_op_count(g.outputs)["exp"] == 1
    data = [np.linspace(-1, 1, 5)]
    np.testing.assert_allclose(values([x], g.outputs, data), values([x], [out], data))


def test_a_path_leaving_and_reentering_is_not_fused():
    x = gw.vector("x")
    e = gw.exp(x)
    out = e + gw.sum(e)  # e -> sum -> out: fusing e with out would need sum's result inside its own input
    g, _ = fused([out])
    assert g.node_count == 3  # exp, sum, add: nothing fusible without a cycle
    assert fusion_groups([out]) == []


def test_no_cycle_through_an_earlier_group():
    # Group A (from the later output) holds a1 and a2; b1 uses a1, b2 feeds a2 only through a sum.
    # Fusing b1 and b2 into one composite B would make A need B and B need A.
    x, y = gw.vector("x"), gw.vector("y")
    a1 = gw.exp(x)
    b2 = gw.sin(y)
    w = gw.sum(b2)
    a2 = gw.log1p(gw.abs(a1 * w))
    b1 = gw.cos(a1)
    outs = [b1 + b2, a2 + a1]
    g, _ = fused(outs)
    data = [np.linspace(-1, 1, 4), np.linspace(0, 2, 4)]
    np.testing.assert_allclose(values([x, y], g.outputs, data), values([x, y], outs, data))
    assert scalar_op_count(g.outputs) == scalar_op_count(outs)


def test_broadcast_producers_stay_outside():
    v, m = gw.vector("v"), gw.matrix("m")
    out = gw.exp(m) + gw.exp(v)  # exp(v) is computed once per column, not per element of the matrix
    g, _ = fused([out])
    small = [n for n in g.toposort if n.outputs[0].type.ndim == 1]
    assert len(small) == 1 and small[0].op.short_name() == "exp"
    big = [n for n in g.toposort if n.outputs[0].type.ndim == 2]
    assert len(big) == 1 and isinstance(big[0].op, Composite)


def test_independent_groups_reading_one_full_shape_input_merge():
    x, y = gw.vector("x"), gw.vector("y")
    outs = [gw.tanh(gw.log1p(gw.abs(x))), gw.exp(x) * y - 1]
    g, _ = fused(outs)
    assert g.node_count == 1 and len(g.toposort[0].outputs) == 2
    data = [np.linspace(-2, 2, 5), np.arange(5.0)]
    for got, ref in zip(values([x, y], g.outputs, data), values([x, y], outs, data), strict=True):
        np.testing.assert_allclose(got, ref)


def test_independent_groups_without_a_common_full_shape_input_stay_apart():
    x, y = gw.vector("x"), gw.vector("y")  # lengths may differ: one loop cannot serve both
    g, _ = fused([gw.exp(x) + 1, gw.sin(y) * 2])
    assert g.node_count == 2
    m, r = gw.matrix("m"), gw.tensor("r", shape=(1, None))
    g, _ = fused([gw.exp(m) * 2, gw.sin(r) * 3 + gw.cos(r)])  # another loop pattern
    assert g.node_count == 2


def test_groups_linked_through_a_reduction_do_not_merge():
    x = gw.vector("x")
    a = gw.exp(x) * 2
    outs = [a, gw.sin(x) + gw.sum(a)]  # the second group needs sum(a), which needs the first
    g, _ = fused(outs)
    assert g.node_count == 3
    data = [np.linspace(-1, 1, 4)]
    for got, ref in zip(values([x], g.outputs, data), values([x], outs, data), strict=True):
        np.testing.assert_allclose(got, ref)


def test_static_length_one_patterns_do_not_mix():
    r = gw.tensor("r", shape=(1, None))
    m = gw.matrix("m")
    out = gw.exp(r) * 2 + m
    g, _ = fused([out])
    assert [n.op.short_name() for n in g.toposort] == ["composite{exp(i0) * 2}", "add"]


def test_inputs_per_composite_are_capped(monkeypatch):
    monkeypatch.setattr(fusion, "MAX_FUSED_INPUTS", 3)
    xs = [gw.vector(f"x{k}") for k in range(6)]
    out = xs[0]
    for x in xs[1:]:
        out = gw.tanh(out) + x
    g, _ = fused([out])
    assert g.node_count >= 2
    assert all(len(n.inputs) <= 3 for n in g.toposort)
    data = [np.full(3, 0.1 * k) for k in range(6)]
    np.testing.assert_allclose(values(xs, g.outputs, data), values(xs, [out], data))


def test_fusion_is_idempotent_and_keeps_composites():
    x = gw.vector("x")
    g, _ = fused([gw.exp(x) * 2 + 1])
    again, trace = fused(g.outputs)
    assert again.outputs == g.outputs and len(trace) == 0


def test_trace_steps_show_the_fused_graph():
    x = gw.vector("x")
    outs = [gw.exp(x) + 1, gw.exp(x) * 2]
    _, trace = fused(outs)
    assert len(trace) == 2
    first = trace.graph_after(0)
    assert isinstance(first.outputs[0].owner.op, Composite)
    assert not isinstance(first.outputs[1].owner.op, Composite)  # replaced in the second step
    changes = trace.changes(0)
    assert any(isinstance(n.op, Composite) for n in changes.created)
    assert "elemwise_fusion fired at exp(x) + 1 in step 1" in trace.explain("elemwise_fusion", outs[0])
    assert "graph rule" in trace.explain("elemwise_fusion", gw.sum(x))


def test_fast_run_fuses_and_compiles():
    x = gw.vector("x")
    f = gw.function([x], gw.log(1 + gw.exp(x)) * 2 - x)
    assert f.graph.node_count == 1
    assert "softplus" in str(f.graph.outputs[0])
    np.testing.assert_allclose(f(np.array([-800.0, 0.0, 800.0])), [800.0, 2 * np.log(2), 800.0])


@st.composite
def elementwise_graphs(draw):
    names = ["exp", "sin", "tanh", "sigmoid", "neg"]
    x, y = gw.vector("x"), gw.vector("y")
    pool = [x, y]
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["unary", "binary", "sum", "reduce"]))
        a = pool[draw(st.integers(0, len(pool) - 1))]
        if kind == "unary":
            pool.append(getattr(gw, draw(st.sampled_from(names)))(a))
        elif kind == "binary":
            b = pool[draw(st.integers(0, len(pool) - 1))]
            pool.append(draw(st.sampled_from([gw.add, gw.mul, gw.sub]))(a, b))
        elif kind == "sum":
            pool.append(a + gw.sum(a) * 0.5)
        else:  # a reduction of an elementwise result nothing else uses (unless drawn again): reduce_fusion
            pool.append(a * gw.max(gw.sin(a) * 2, keepdims=True))
    k = draw(st.integers(1, 3))
    return [x, y], [pool[-i - 1] for i in range(min(k, len(pool) - 2))]


@settings(max_examples=60, deadline=None)
@given(elementwise_graphs())
def test_random_graphs_keep_values_and_work(case):
    inputs, outputs = case
    g, _ = fused(outputs)
    assert scalar_op_count(g.outputs) == scalar_op_count(outputs), "fusion must not duplicate work"
    assert g.node_count <= gw.Graph(inputs, outputs).node_count
    data = [np.linspace(-1, 1, 5), np.linspace(0.5, -0.5, 5)]
    want = values(inputs, outputs, data)
    got = values(inputs, g.outputs, data)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_composite_rejects_bad_construction():
    x = gw.vector("x")
    with pytest.raises(TypeError, match="only elementwise ops"):
        Composite((), (gw.sum(x),))
    with pytest.raises(ValueError, match="must be placeholder"):
        Composite((x,), (gw.exp(x),))
    op = composite_of([gw.exp(x)], [x])
    with pytest.raises(TypeError, match=r"input 0 \(i\) has dtype int64, the composite expects float64"):
        op(gw.vector("i", "int64"))
    with pytest.raises(TypeError, match="takes 1 inputs, got 2"):
        op(x, x)
    with pytest.raises(ValueError, match="neither one of the inputs"):
        composite_of([gw.exp(x) + gw.vector("other")], [x])


def test_a_group_of_constants_alone_is_left_to_folding():
    c, x = gw.constant(np.float64(0.5)), gw.vector("x")
    g, trace = fused([gw.exp(c) * 2 + x, gw.tanh(gw.exp(x) * 3 + 1)])
    assert not trace.refusals
    assert sum(isinstance(n.op, Composite) for n in g.toposort) == 1  # the tanh chain


def test_the_input_cap_counts_the_joining_node(monkeypatch):
    monkeypatch.setattr(fusion, "MAX_FUSED_INPUTS", 3)
    a, b, c, d = (gw.vector(n) for n in "abcd")
    g, _ = fused([gw.switch(gw.sin(c) > 0, a * b, d)])
    assert all(len(n.inputs) <= 3 for n in g.toposort)


def test_composite_outputs_that_miss_inputs_are_broadcast_and_fresh():
    p0, p1 = gw.vector("p0"), gw.vector("p1")
    op = composite_of([gw.exp(p0) + p1, gw.tanh(p1), p0], [p0, p1])
    m, x = gw.matrix("m"), gw.vector("x")
    data = np.zeros((3, 4))
    outs = gw.function([m, x], list(op(m, x)), rewrites=None)(data, np.arange(4.0))
    assert [o.shape for o in outs] == [(3, 4)] * 3
    assert not np.shares_memory(outs[2], data)
    assert [o.shape for o in op.perform(data, np.arange(4.0))] == [(3, 4)] * 3


def test_printing_a_shared_inner_graph_stays_cheap():
    x = gw.vector("x")
    y = x
    for _ in range(10):
        y = gw.add(*[y] * 6)  # an inner DAG whose tree form has 6**10 leaves
    g, _ = fused([y])
    assert len(g.toposort[0].op.short_name()) < 600
    gw.function([x], list(g.outputs), rewrites=None)


# ---------------------------------------------------------------------------------------------------------
# Elementwise ops fused into the reduction they feed (reduce_fusion, CompositeReduce)
# ---------------------------------------------------------------------------------------------------------

_REDUCERS = {"sum": gw.sum, "prod": gw.prod, "max": gw.max, "min": gw.min, "all": gw.all, "any": gw.any}


def _body(kind: str, m, v):
    """An elementwise graph over a matrix and a broadcast row; comparisons for all/any."""
    if kind in ("all", "any"):
        return gw.sin(m) * v > -0.5 if kind == "all" else gw.sin(m) * v > 0.5
    if kind == "prod":
        return gw.exp(gw.sin(m) * 0.1) * v
    return gw.tanh(gw.exp(m) * 2 + v) - m


def _fused_reductions(outputs) -> list:
    return [n for n in toposort(outputs) if isinstance(n.op, CompositeReduce)]


@pytest.mark.parametrize("kind", list(_REDUCERS))
@pytest.mark.parametrize(("axis", "keepdims"), [(None, False), (0, False), (1, True), ((0, 1), True)])
def test_a_reduction_absorbs_the_elementwise_graph_it_reduces(kind, axis, keepdims):
    m, v = gw.matrix("m"), gw.tensor("v", shape=(1, None))
    out = _REDUCERS[kind](_body(kind, m, v), axis=axis, keepdims=keepdims)
    g, trace = fused([out])
    (node,) = g.toposort  # one composite loop + one reduction -> one node
    assert isinstance(node.op, CompositeReduce) and node.op.kind == kind
    assert [s.rule_name for s in trace] == ["elemwise_fusion", "reduce_fusion"]
    assert g.outputs[0].type == out.type
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(3, 4)), rng.normal(size=(1, 4))]
    for backend in ("numpy", "numba"):
        got = gw.function([m, v], g.outputs[0], rewrites=None, backend=backend)(*data)
        want = values([m, v], out, data)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_the_fused_graph_has_one_node_fewer_and_prints_as_one_op():
    x = gw.vector("x")
    out = gw.sum(gw.exp(x), axis=0)  # a lone Elemwise is absorbed too
    g, trace = fused([out])
    assert g.node_count == gw.Graph([x], [out]).node_count - 1 == 1
    assert str(g.outputs[0]) == "sum{axis=(0,)}\u2218composite{exp(i0)}(x)"
    assert "reduce_fusion fired at sum(exp(x), axis=0) in step 1" in trace.explain("reduce_fusion", out)
    step = trace.text()
    assert "reduce_fusion: sum(exp(x), axis=0) -> sum{axis=(0,)}\u2218composite{exp(i0)}(x)" in step


def test_an_elementwise_value_with_another_client_is_not_absorbed():
    x = gw.vector("x")
    e = gw.exp(gw.sin(x))
    for outs in ([gw.sum(e), e * 2], [gw.sum(e), gw.max(e)], [e, gw.sum(e)]):
        g, trace = fused(outs)
        assert not _fused_reductions(g.outputs), outs
        assert "reduce_fusion" not in [s.rule_name for s in trace]
        assert scalar_op_count(g.outputs) == scalar_op_count(outs)


def test_a_multi_output_composite_is_absorbed_only_if_its_other_outputs_are_unused():
    x = gw.vector("x")
    a, b = composite_of([gw.exp(x) * 2, gw.sin(x)], [x])(x)
    g, _ = fused([gw.sum(a)])
    (node,) = g.toposort
    assert isinstance(node.op, CompositeReduce) and "sin" not in str(node.op)
    g, _ = fused([gw.sum(a), b])  # b is needed: the composite stays whole and the sum separate
    assert not _fused_reductions(g.outputs)
    data = [np.linspace(-1, 1, 5)]
    np.testing.assert_allclose(values([x], g.outputs, data)[0], np.sum(np.exp(data[0]) * 2))


def test_chained_reductions_are_each_fused_once():
    m = gw.matrix("m")
    rows = gw.sum(gw.exp(m) * 0.5, axis=1)
    out = gw.max(gw.log1p(rows[::-1]) * 2)  # a subtensor between the two reductions
    g, _ = fused([out])
    assert len(_fused_reductions(g.outputs)) == 2
    assert not any(type(n.op).__name__ == "Reduce" for n in g.toposort)
    assert scalar_op_count(g.outputs) == scalar_op_count([out])
    data = [np.random.default_rng(1).normal(size=(4, 3))]
    np.testing.assert_allclose(values([m], g.outputs, data), values([m], [out], data), rtol=1e-12)
    again, trace = fused(g.outputs)
    assert again.outputs == g.outputs and len(trace) == 0


def test_fast_run_fuses_reductions_and_the_memory_plan_gives_them_a_new_buffer():
    m = gw.matrix("m")
    out = gw.exp(gw.sum(gw.exp(m) * 2, axis=1))
    f = gw.function([m], out, backend="numpy")
    kinds = [type(n.op).__name__ for n in f.graph.toposort]
    assert kinds[0] == "CompositeReduce" and len(kinds) == 2
    plan = f.memory_plan
    assert plan.steps[0].reuses == () and plan.in_place == [("v1_0", "v0_0")]  # exp writes into its result
    data = np.random.default_rng(2).normal(size=(3, 4))
    np.testing.assert_allclose(f(data), np.exp(np.sum(np.exp(data) * 2, axis=1)))


def test_composite_reduce_rejects_bad_construction():
    x = gw.vector("x")
    two = composite_of([gw.exp(x), gw.sin(x)], [x])
    with pytest.raises(gw.GraphError, match="exactly one output"):
        CompositeReduce(two, "sum", (0,))
    one = composite_of([gw.exp(x)], [x])
    with pytest.raises(gw.GraphError, match="unknown kind"):
        CompositeReduce(one, "mean", (0,))
    with pytest.raises(gw.GraphError, match=r"axis \(1,\) is out of range for the broadcast shape"):
        CompositeReduce(one, "sum", (1,))(x)
    with pytest.raises(TypeError, match="takes 1 inputs, got 2"):
        CompositeReduce(one, "sum", (0,))(x, x)


def _backends() -> list[str]:
    return ["numpy"] + [b for b in ("numba", "jax", "torch") if b in gw.available_backends()]


@pytest.mark.parametrize("backend", _backends())
def test_fused_reductions_on_every_backend_with_unknown_shapes(backend):
    m, r, v = gw.matrix("m"), gw.tensor("r", shape=(None, 1)), gw.vector("v")

    def body(c):  # broadcast over (n, k) from (n, k), (n, 1), (k,); a distinct graph per reduction
        return gw.exp(m * c) * r - v

    cases = {"sum0": gw.sum(body(1), axis=0), "prod1": gw.prod(gw.cos(m) * r, axis=1, keepdims=True),
             "max": gw.max(body(2)), "min0": gw.min(body(3), axis=0, keepdims=True),
             "any": gw.any(body(4) > 1, axis=1), "all": gw.all(gw.isnan(m) | (body(5) < 5)),
             "count": gw.sum(m > v, axis=0), "int": gw.sum(gw.cast(m * 10, "int8") * 3, axis=1)}
    outs = list(cases.values())
    f = gw.function([m, r, v], outs, backend=backend)
    assert len(_fused_reductions(list(f.graph.outputs))) == len(outs)
    rng = np.random.default_rng(3)
    for n, k in ((3, 4), (1, 5), (0, 2)):
        data = [rng.normal(size=(n, k)), rng.normal(size=(n, 1)), rng.normal(size=k)]
        if n > 1:
            data[0][1, 2] = np.nan  # max/min/any/all see a NaN
        with np.errstate(all="ignore"):
            want = gw.function([m, r, v], outs, rewrites=None, backend="numpy")(*data) if n else None
            if not n:  # max of an empty axis raises; the others give identities
                outs_ok = [o for name, o in cases.items() if name not in ("max", "min0")]
                want = gw.function([m, r, v], outs_ok, rewrites=None, backend="numpy")(*data)
                got = gw.function([m, r, v], outs_ok, backend=backend)(*data)
            else:
                got = f(*data)
        for name, g, w in zip(cases if n else [c for c in cases if c not in ("max", "min0")], got, want,
                              strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape, (name, g, w)
            np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("backend", _backends())
def test_max_over_an_empty_axis_raises_like_numpy(backend):
    m = gw.matrix("m")
    f = gw.function([m], gw.max(gw.exp(m) * 2, axis=1), backend=backend)
    assert _fused_reductions(list(f.graph.outputs))
    with pytest.raises((ValueError, gw.GraphRuntimeError)) as info:
        f(np.zeros((3, 0)))
    if backend != "torch":
        assert "zero-size array to reduction operation max" in str(info.value)
    np.testing.assert_array_equal(f(np.zeros((0, 3))), np.zeros(0))  # an empty result is fine


def test_bool_and_integer_sums_widen_like_numpy():
    x = gw.matrix("x", dtype="int8")
    for out, ref in ((gw.sum(x > 0, axis=0), lambda a: np.sum(a > 0, axis=0)),
                     (gw.sum(x * 100), lambda a: np.sum(a * np.int8(100))),
                     (gw.prod(x + 1, axis=1), lambda a: np.prod(a + np.int8(1), axis=1))):
        g, _ = fused([out])
        assert _fused_reductions(g.outputs) and g.outputs[0].type.dtype == "int64"
        data = np.arange(-6, 6, dtype="int8").reshape(3, 4)
        for backend in _backends():
            got = gw.function([x], g.outputs[0], rewrites=None, backend=backend)(data)
            np.testing.assert_array_equal(got, ref(data), strict=True)


def test_float32_sums_stay_float32_and_accurate():
    x = gw.vector("x", dtype="float32")
    out = gw.sum(gw.sin(x) * 2)
    data = np.random.default_rng(4).normal(size=100_000).astype("float32")
    exact = np.sum(np.sin(data.astype("float64")) * 2)
    for backend in _backends():
        f = gw.function([x], out, backend=backend)
        assert _fused_reductions(list(f.graph.outputs))
        got = f(data)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, exact, rtol=1e-4)


def test_gradients_and_shapes_of_a_fused_reduction():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tensor"))
    from infer_shape_check import check_infer_shape

    m, v = gw.matrix("m"), gw.tensor("v", shape=(1, None))
    rng = np.random.default_rng(5)
    data = [rng.normal(size=(3, 4)), rng.normal(size=(1, 4))]
    for kind, axis, keep in (("sum", (0,), False), ("max", (1,), True), ("prod", (0, 1), False)):
        out = composite_reduce(composite_of([gw.tanh(m) * v + 1], [m, v]), kind, axis, [m, v], keep)
        check_infer_shape(out, [m, v], data, graph_shapes=True)
        gw.verify_grad(lambda a, b, _o=out: gw.sum(_o * 1.5), data, symbols=[m, v], rtol=1e-5, atol=1e-7)
    f = gw.function([m, v], gw.sum(gw.exp(m) * v, axis=1))  # differentiate the compiled (fused) graph
    (fused_out,) = f.graph.outputs
    assert isinstance(fused_out.owner.op, CompositeReduce)
    grads = gw.function([m, v], gw.grad(gw.sum(fused_out), [m, v]))(*data)
    np.testing.assert_allclose(grads[0], np.exp(data[0]) * data[1])
    np.testing.assert_allclose(grads[1], np.sum(np.exp(data[0]), axis=0, keepdims=True))


def test_vectorizing_a_fused_reduction_shifts_its_axes():
    m, v = gw.matrix("m"), gw.vector("v")
    out = composite_reduce(composite_of([gw.exp(m) - v], [m, v]), "min", (1,), [m, v])
    mb = gw.tensor3("mb")
    (batched,) = gw.vectorize_graph([out], {m: mb})
    assert isinstance(batched.owner.op, CompositeReduce) and batched.owner.op.axis == (2,)
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=4)
    got = gw.function([mb, v], batched, rewrites=None)(a, b)
    np.testing.assert_allclose(got, np.min(np.exp(a) - b, axis=2))


@pytest.mark.parametrize("backend", _backends())
def test_long_axes_every_loop_form_and_strided_inputs(backend):
    """Reductions over axes longer than the Numba kernel's block (256), with the reduced axes innermost (scalar
    accumulators), outside a kept axis (an accumulator array) or all of them; a NaN late in a block; a
    transposed (non-contiguous) input."""
    t = gw.tensor3("t")
    rng = np.random.default_rng(7)
    data = rng.normal(size=(2, 3, 600))
    data[1, 2, 517] = np.nan
    for kind in _REDUCERS:
        body = gw.sin(t) * 3 > 0.5 if kind in ("all", "any") else gw.sin(t) * 0.01 + 1
        for axis in (2, (1, 2), (0, 2), 0, None):
            out = _REDUCERS[kind](body, axis=axis)
            f = gw.function([t], out, backend=backend)
            assert _fused_reductions(list(f.graph.outputs))
            want = gw.function([t], out, rewrites=None, backend="numpy")
            for value in (data, np.ascontiguousarray(data.transpose(2, 1, 0)).transpose(2, 1, 0)[:, :, ::-1]):
                with np.errstate(all="ignore"):
                    np.testing.assert_allclose(f(value), want(value), rtol=1e-12, equal_nan=True,
                                               err_msg=f"{kind} axis={axis}")
