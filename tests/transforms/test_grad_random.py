"""Hypothesis: gradients of random smooth graphs (elementwise ops, reductions, products, indexing) agree with
finite differences, with and without the pre-gradient stabilization, and through fused compiled graphs."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphwright as gw

UNARY = [gw.tanh, gw.sin, gw.sigmoid, gw.softplus, lambda v: v * v, lambda v: gw.exp(gw.tanh(v)),
         lambda v: gw.log1p(gw.sqr(v))]
BINARY = [gw.add, gw.sub, gw.mul, lambda a, b: a / (1 + gw.sqr(b))]


@st.composite
def smooth_graphs(draw):
    x, y = gw.vector("x"), gw.vector("y")
    m = gw.matrix("m")
    pool = [x, y]
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce", "matvec", "index"]))
        a = pool[draw(st.integers(0, len(pool) - 1))]
        if kind == "unary":
            pool.append(draw(st.sampled_from(UNARY))(a))
        elif kind == "binary":
            pool.append(draw(st.sampled_from(BINARY))(a, pool[draw(st.integers(0, len(pool) - 1))]))
        elif kind == "reduce":
            pool.append(a + draw(st.sampled_from([gw.sum, gw.max, gw.logsumexp, gw.mean]))(a))
        elif kind == "matvec":
            pool.append(m @ a)
        else:
            pool.append(gw.concatenate([a[1:], a[:1]]) * 0.5 + a)
    return [x, y, m], gw.sum(pool[-1]) + 0.1 * gw.sum(pool[len(pool) // 2])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(smooth_graphs(), st.booleans())
def test_random_gradients_match_finite_differences(case, stabilize):
    (x, y, m), cost = case
    rng = np.random.default_rng(0)
    values = [rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4), rng.uniform(-0.5, 0.5, (4, 4))]
    gw.verify_grad(lambda *s: cost, values, symbols=[x, y, m], stabilize=stabilize, rtol=1e-4, atol=1e-6)
    # the compiled (rewritten, fused) gradient graph, differentiated again through its composites
    grads = gw.grad(cost, [x, y, m], disconnected="ignore")
    fused = gw.function([x, y, m], grads).graph.outputs
    second = gw.grad(gw.sum(fused[0] * fused[0]), x, disconnected="ignore")
    plain = gw.grad(gw.sum(grads[0] * grads[0]), x, disconnected="ignore")
    got, want = gw.function([x, y, m], [second, plain])(*values)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
