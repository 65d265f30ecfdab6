"""Direct vectorize rules of dot, matmul, tensordot, softmax, log_softmax, logsumexp, argmax/argmin and
cumsum/cumprod: the vectorized graph has no Blockwise and equals a loop of the unbatched function over the
(broadcast) batch."""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import toposort
from graphwright.tensor.blockwise import Blockwise

RNG = np.random.default_rng(1)

# (id, function of two operands, core shape of a, core shape of b)
BINARY = [
    ("dot-mv", gw.dot, (3, 4), (4,)),
    ("dot-vm", gw.dot, (4,), (4, 5)),
    ("dot-vv", gw.dot, (4,), (4,)),
    ("dot-mm", gw.dot, (3, 4), (4, 2)),
    ("matmul-mv", gw.matmul, (3, 4), (4,)),
    ("matmul-vm", gw.matmul, (4,), (4, 5)),
    ("matmul-vv", gw.matmul, (4,), (4,)),
    ("matmul-mm", gw.matmul, (3, 4), (4, 2)),
    ("matmul-3d-v", gw.matmul, (2, 3, 4), (4,)),
    ("matmul-v-3d", gw.matmul, (4,), (2, 4, 5)),
    ("matmul-3d-m", gw.matmul, (2, 3, 4), (4, 5)),
    ("matmul-bcast", gw.matmul, (2, 1, 3, 4), (5, 4, 2)),
    ("tensordot-1", lambda a, b: gw.tensordot(a, b, axes=1), (3, 4), (4, 5)),
    ("tensordot-2", lambda a, b: gw.tensordot(a, b, axes=2), (2, 3, 4), (3, 4, 5)),
    ("tensordot-lists", lambda a, b: gw.tensordot(a, b, axes=([1, 0], [0, 2])), (3, 4, 5), (4, 2, 3)),
    ("tensordot-0", lambda a, b: gw.tensordot(a, b, axes=0), (2, 3), (4,)),
    ("tensordot-vv", lambda a, b: gw.tensordot(a, b, axes=1), (4,), (4,)),
]
# (batch shape of a, batch shape of b): first, second, both; several and different ranks; a batch of 1
BATCHES = [((6,), ()), ((), (6,)), ((6,), (6,)), ((2, 3), ()), ((), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)),
           ((1,), (6,)), ((6,), (1,)), ((2, 1), (1, 3))]


def _no_blockwise(outputs) -> None:
    outs = outputs if isinstance(outputs, list) else [outputs]
    assert not [n.op for n in toposort(outs) if isinstance(n.op, Blockwise)]


def _loop(f, batch: tuple, values: list, batch_ndims: list) -> np.ndarray:
    """``f`` on each slice of the broadcast batch, stacked."""
    full = [np.broadcast_to(v, batch + v.shape[nb:]) for v, nb in zip(values, batch_ndims, strict=True)]
    rows = [np.asarray(f(*[v[idx] for v in full])) for idx in np.ndindex(*batch)]
    if not rows:  # an empty batch: the shape and dtype of one slice
        one = np.asarray(f(*[np.ones(v.shape[len(batch):]) for v in full]))
        return np.empty(batch + one.shape, one.dtype)
    return np.stack(rows).reshape(batch + rows[0].shape)


@pytest.mark.parametrize("static", [True, False], ids=["static", "dynamic"])
@pytest.mark.parametrize(("ba", "bb"), BATCHES, ids=[f"{a}x{b}" for a, b in BATCHES])
@pytest.mark.parametrize(("name", "fn", "sa", "sb"), BINARY, ids=[c[0] for c in BINARY])
def test_binary(name, fn, sa, sb, ba, bb, static) -> None:
    core = (lambda s: s) if static else (lambda s: (None,) * len(s))
    a, b = gw.tensor("a", shape=core(sa)), gw.tensor("b", shape=core(sb))
    out = fn(a, b)
    replace, values, nbs, inputs = {}, [], [], []
    for v, s, batch in ((a, sa, ba), (b, sb, bb)):
        values.append(RNG.normal(size=batch + s))
        nbs.append(len(batch))
        if batch:
            replace[v] = gw.tensor(f"{v.name}s", shape=batch + core(s))
        inputs.append(replace.get(v, v))
    vout = gw.vectorize_graph(out, replace)
    _no_blockwise(vout)
    got = gw.function(inputs, vout)(*values)
    once = gw.function([a, b], out)
    want = _loop(once, np.broadcast_shapes(ba, bb), values, nbs)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_matrix_times_batch_of_vectors_is_one_matmul() -> None:
    A, x, xs = gw.matrix("A", shape=(3, 4)), gw.vector("x", shape=(4,)), gw.matrix("xs", shape=(5, 4))
    for out in (gw.dot(A, x), A @ x):
        vout = gw.vectorize_graph(out, {x: xs})
        ops = [type(n.op).__name__ for n in toposort([vout])]
        assert ops.count("MatMul") == 1 and "Dot" not in ops and "Blockwise" not in ops
        assert vout.type.shape == (5, 3)


# (id, function, core shape, axes to try)
UNARY = [
    ("softmax", gw.softmax, [-1, 0, 1, None]),
    ("log_softmax", gw.log_softmax, [-1, 0, 1, None]),
    ("logsumexp", gw.logsumexp, [0, 1, (0, 1), None]),
    ("argmax", gw.argmax, [0, 1, None]),
    ("argmin", gw.argmin, [0, 1, None]),
    ("cumsum", gw.cumsum, [0, 1, None]),
    ("cumprod", gw.cumprod, [0, 1, None]),
]
UNARY_CASES = [(name, fn, axis, keep, shape) for name, fn, axes in UNARY for axis in axes
               for keep in ((False, True) if name in ("logsumexp", "argmax", "argmin") else (None,))
               for shape in ((3, 4), (2, 3, 4), (5,), ())
               if axis is None or -len(shape) <= min(np.atleast_1d(axis)) <= max(np.atleast_1d(axis)) < len(shape)]


@pytest.mark.parametrize("batch", [(6,), (2, 3), (1,), (0,)], ids=str)
@pytest.mark.parametrize(("name", "fn", "axis", "keep", "shape"), UNARY_CASES,
                         ids=[f"{c[0]}-axis{c[2]}-keep{c[3]}-{c[4]}" for c in UNARY_CASES])
def test_unary(name, fn, axis, keep, shape, batch) -> None:
    x = gw.tensor("x", shape=(None,) * len(shape))
    out = fn(x, axis=axis) if keep is None else fn(x, axis=axis, keepdims=keep)
    xs = gw.tensor("xs", shape=batch + (None,) * len(shape))
    vout = gw.vectorize_graph(out, {x: xs})
    _no_blockwise(vout)
    value = RNG.uniform(0.5, 1.5, size=batch + shape)
    got = gw.function([xs], vout)(value)
    want = _loop(gw.function([x], out), batch, [value], [len(batch)])
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_jacobian_of_a_layer_has_no_blockwise() -> None:
    W, x, b = gw.matrix("W", shape=(4, 4)), gw.vector("x", shape=(4,)), gw.vector("b", shape=(4,))
    J = gw.jacobian(gw.tanh(W @ x + b) * x, x)
    _no_blockwise(J)
    wv, xv, bv = RNG.normal(size=(4, 4)), RNG.normal(size=4), RNG.normal(size=4)
    got = gw.function([W, x, b], J)(wv, xv, bv)

    def f(v):
        return np.tanh(wv @ v + bv) * v

    eps = 1e-6
    fd = np.stack([(f(xv + eps * e) - f(xv - eps * e)) / (2 * eps) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)
