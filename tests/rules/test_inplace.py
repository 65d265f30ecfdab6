"""The in-place phase and the memory plan: which buffers may be overwritten, and proof that nothing still
needed (the caller's inputs, graph outputs, values read later, views) ever is."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import graphwright as gw
from graphwright.graph.destroy import InPlace, destroy_problems
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.scalar_ops import SCALAR_OPS

NO_INPLACE = ["canonicalize", "stabilize", "specialize", "linalg", "fusion"]


def inplace_nodes(f) -> list:
    return [n for n in f.graph.toposort if isinstance(n.op, InPlace)]


def test_an_intermediate_buffer_is_reused_and_the_input_untouched():
    x = gw.vector("x")
    f = gw.function([x], gw.exp(gw.cumsum(x)))
    assert [n.op.short_name() for n in inplace_nodes(f)] == ["exp[inplace i0]"]
    assert f.memory_plan.in_place == [("v1_0", "v0_0")]
    value = np.array([0.0, 1.0, -2.0])
    original = value.copy()
    np.testing.assert_allclose(f(value), np.exp(np.cumsum(original)))
    np.testing.assert_array_equal(value, original)


def test_the_callers_input_is_overwritten_only_when_marked_mutable():
    x = gw.vector("x")
    kept = gw.function([x], gw.exp(x) * 2)
    assert not inplace_nodes(kept)
    f = gw.function([x], gw.exp(x) * 2, mutable=[x])
    value = np.array([0.0, 1.0])
    out = f(value)
    np.testing.assert_allclose(out, 2 * np.exp([0.0, 1.0]))
    assert np.shares_memory(out, value)  # the caller allowed it: no new buffer
    readonly = np.array([0.0, 1.0])
    readonly.flags.writeable = False
    np.testing.assert_allclose(f(readonly), 2 * np.exp([0.0, 1.0]))  # a read-only array is left alone
    np.testing.assert_array_equal(readonly, [0.0, 1.0])
    with pytest.raises(ValueError, match="not inputs of the function"):
        gw.function([x], gw.exp(x), mutable=[gw.vector("z")])


def test_a_buffer_read_later_or_returned_is_not_overwritten():
    x = gw.vector("x")
    a = gw.cumsum(x)
    f = gw.function([x], [gw.exp(a), a])  # a is an output: exp must not write into it
    assert not inplace_nodes(f)
    got = f(np.array([1.0, 2.0]))
    np.testing.assert_allclose(got[1], [1.0, 3.0])
    g = gw.function([x], gw.exp(a) + gw.sum(a))  # sum(a) may run after exp: a stays
    value = np.array([1.0, 2.0])
    np.testing.assert_allclose(g(value), np.exp([1.0, 3.0]) + 4.0)


def test_views_count_as_readers_and_are_never_overwritten():
    x = gw.vector("x")
    a = gw.cumsum(x)
    f = gw.function([x], gw.exp(a) * a[::-1])  # a[::-1] is a view of a, read together with exp(a)
    value = np.array([1.0, 2.0, 3.0])
    c = np.cumsum(value)
    np.testing.assert_allclose(f(value), np.exp(c) * c[::-1])
    m = gw.matrix("m")
    b = gw.cumsum(m, axis=0)
    g = gw.function([m], gw.exp(b) + b.T)  # reading the transpose of the buffer being written: refused
    mv = np.arange(9.0).reshape(3, 3) / 9
    cb = np.cumsum(mv, axis=0)
    np.testing.assert_allclose(g(mv), np.exp(cb) + cb.T)


def test_inc_subtensor_writes_into_a_fresh_x():
    x = gw.vector("x")
    f = gw.function([x], gw.grad(gw.sum(gw.exp(x[1:3])), x))
    ops = [n.op.op for n in inplace_nodes(f)]
    assert any(type(op).__name__ == "IncSubtensor" for op in ops), f.graph.toposort
    value = np.array([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(f(value), [0.0, np.e, np.e**2, 0.0])
    step = next(s for s in f.memory_plan.steps if s.op.startswith("inc_subtensor") or s.op.startswith("set_"))
    assert step.reuses and not step.allocates


def test_a_compiled_graph_reused_in_a_bigger_graph_is_planned_again():
    x = gw.vector("x")
    f = gw.function([x], gw.exp(gw.cumsum(x)))
    (out,) = f.graph.outputs
    inner = out.owner.inputs[0]  # the cumsum that exp overwrites in f
    g = gw.function([x], [out, inner])  # now cumsum is also an output: the permission must go
    value = np.array([1.0, 2.0])
    got = g(value)
    np.testing.assert_allclose(got[1], [1.0, 3.0])
    np.testing.assert_allclose(got[0], np.exp([1.0, 3.0]))
    h = gw.function([x], [out, inner], rewrites=None)  # as written: the compiler drops what is unsafe
    assert h.memory_plan.dropped and not inplace_nodes(h)
    np.testing.assert_allclose(h(value)[1], [1.0, 3.0])
    assert "dropped" in str(h.memory_plan)


def test_destroy_problems_name_the_op_and_the_reason():
    x = gw.vector("x")
    mul = Elemwise(SCALAR_OPS["mul"])
    a = gw.cumsum(x)
    bad = InPlace(mul, ((0, 0),))(a, a[::-1])
    (problem,) = destroy_problems(gw.Graph([x], [bad]))
    assert "mul[inplace i0]" in problem and "same buffer" in problem
    with pytest.raises(ValueError, match="each output and each input at most once"):
        InPlace(mul, ((0, 0), (0, 1)))
    with pytest.raises(TypeError, match="plain op"):
        InPlace(InPlace(mul, ((0, 0),)), ((0, 0),))


def test_inplace_steps_are_in_the_trace_and_gradients_see_through_them():
    x = gw.vector("x")
    f = gw.function([x], gw.exp(gw.cumsum(x)))
    assert "inplace_buffers" in [s.rule_name for s in f.trace]
    g = gw.grad(gw.sum(f.graph.outputs[0]), x)  # the pullback of the wrapped op
    np.testing.assert_allclose(gw.function([x], g)(np.zeros(3)), [3.0, 2.0, 1.0])


def test_the_phase_is_idempotent():
    x, y = gw.vector("x"), gw.vector("y")
    g, _ = gw.rewrite(gw.Graph([x, y], [gw.exp(gw.cumsum(x)) * gw.cumsum(y)]))
    again, trace = gw.rewrite(g, phases=["inplace"])
    assert not list(trace) and again.outputs == g.outputs


# ---------------------------------------------------------------------------------------------------------
# Property: random graphs with views, shared values, several outputs, producers that cannot be fused
# ---------------------------------------------------------------------------------------------------------


@st.composite
def graphs_with_aliasing(draw):
    x, y = gw.vector("x"), gw.vector("y")
    m = gw.matrix("m")
    pool = [x, y, gw.cumsum(x), m @ y]
    mats = [m, gw.cumsum(m, axis=1)]
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["unary", "binary", "view", "cumsum", "reduce", "inc", "matrix"]))
        a = pool[draw(st.integers(0, len(pool) - 1))]
        b = pool[draw(st.integers(0, len(pool) - 1))]
        if kind == "unary":
            pool.append(draw(st.sampled_from([gw.exp, gw.tanh, gw.sin, gw.neg]))(a))
        elif kind == "binary":
            pool.append(draw(st.sampled_from([gw.add, gw.mul, gw.sub]))(a, b))
        elif kind == "view":
            pool.append(draw(st.sampled_from([lambda v: v[::-1], lambda v: gw.concatenate([v[2:], v[:2]]),
                                              lambda v: gw.reshape(v, (2, 2)).T.flatten()]))(a))
        elif kind == "cumsum":
            pool.append(gw.cumsum(a))
        elif kind == "reduce":
            pool.append(a + gw.sum(a))
        elif kind == "inc":
            pool.append(gw.inc_subtensor(a[1:3], b[:2]) if draw(st.booleans()) else gw.set_subtensor(a[0], b[3]))
        else:
            mat = mats[draw(st.integers(0, len(mats) - 1))]
            step = draw(st.sampled_from(["transpose", "exp", "cumsum", "outer"]))
            mats.append({"transpose": mat.T, "exp": gw.exp(mat), "cumsum": mat * gw.cumsum(mat, axis=0),
                         "outer": mat + gw.outer(a, b)}[step])
            pool.append(mats[-1] @ a)
    k = draw(st.integers(1, 3))
    outputs = [pool[-1]] + [pool[draw(st.integers(0, len(pool) - 1))] for _ in range(k - 1)]
    outputs += [mats[-1]] if draw(st.booleans()) else []
    return [x, y, m], outputs


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs_with_aliasing(), st.booleans())
def test_in_place_plans_never_change_values_or_inputs(case, mutable):
    inputs, outputs = case
    rng = np.random.default_rng(1)
    values = [rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4), rng.uniform(-0.5, 0.5, (4, 4))]
    originals = [v.copy() for v in values]
    want = gw.function(inputs, outputs, rewrites=NO_INPLACE)(*values)
    f = gw.function(inputs, outputs, mutable=inputs if mutable else ())
    note(str(f.memory_plan))
    assert not destroy_problems(f.graph, f.mutable)
    got = f(*[v.copy() for v in values] if mutable else values)
    for v, o in zip(values, originals, strict=True):
        np.testing.assert_array_equal(v, o, err_msg="an input not marked mutable was modified")
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for i, a in enumerate(got):  # outputs never share a buffer with each other (unless they are one value)
        for j in range(i):
            if f.graph.outputs[i] is not f.graph.outputs[j]:
                assert not np.shares_memory(a, got[j]), f"outputs {j} and {i} share memory"


def test_outputs_of_one_composite_that_are_one_array_count_as_one_buffer():
    """Found by Hypothesis (test_grad_random): a fused gradient composite whose outputs repeat an inner value
    returns one array for them; overwriting one of them must count the readers of the others."""
    x = gw.vector("x")
    t = gw.tanh(x)
    cost = gw.sum(t + gw.logsumexp(t, axis=0), axis=0) + 0.1 * gw.sum(t, axis=0)
    (g,) = gw.grad(cost, [x])
    fused = gw.function([x], g).graph.outputs[0]
    second = gw.grad(gw.sum(fused * fused), x)
    plain = gw.grad(gw.sum(g * g), x)
    value = np.random.default_rng(0).uniform(-1, 1, 4)
    want = gw.function([x], [second, plain], rewrites=NO_INPLACE)(value)
    got = gw.function([x], [second, plain])(value)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
