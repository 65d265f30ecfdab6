"""Pullbacks of the structural ops (shape, join, creation, indexing) on their tricky cases.

Each row of CASES is checked against finite differences with ``gw.verify_grad``; STATIC_CASES check that the
gradient graphs keep the static types of the variables they differentiate.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphwright as gw

rng = np.random.default_rng(42)


def A(*shape):
    return rng.standard_normal(shape)


MASK = np.array([True, False, True, True])
REPEATED = np.array([0, 2, 0, -4])  # -4 is position 0 again for a length-4 axis

# (id, fn, inputs, static shapes of the symbols or None for verify_grad's default: only length-1 dims static)
CASES = [
    ("dimshuffle-transpose", lambda x: gw.transpose(x, (2, 0, 1)), [A(2, 3, 4)], None),
    ("dimshuffle-x-and-drop", lambda x: gw.dimshuffle(x, ("x", 2, "x", 0)), [A(2, 1, 3)], None),
    ("dimshuffle-x-unknown-grad", lambda x: gw.expand_dims(x, 0) * gw.ones((5, 1)), [A(3)], None),
    ("reshape-minus-1", lambda x: gw.reshape(x, (-1, 2)), [A(3, 4)], None),
    ("reshape-to-0d", lambda x: gw.reshape(x, ()), [A(1, 1)], None),
    ("flatten", lambda x: gw.flatten(x, 2), [A(2, 3, 4)], None),
    ("make-vector", lambda a, b: gw.stack([a, b * a]), [A(), A()], None),
    ("join-axis1-unknown", lambda a, b, c: gw.concatenate([a, b, c], axis=1), [A(2, 3), A(2, 1), A(2, 4)], None),
    ("join-mixed-static", lambda a, b: gw.concatenate([a, b]), [A(2, 3), A(4, 3)], [(2, 3), (None, 3)]),
    ("stack-axis1", lambda a, b: gw.stack([a, b], axis=1), [A(3), A(3)], None),
    ("split-some-unused", lambda x: gw.split(x, [1, 3, 2], axis=1)[1], [A(2, 6)], None),
    ("split-reordered", lambda x: gw.concatenate(gw.split(x, [2, 2])[::-1]), [A(4, 3)], None),
    ("alloc-1n", lambda v: gw.alloc(v, (4, 3)), [A(1, 3)], None),
    ("alloc-lower-ndim", lambda v: gw.broadcast_to(v, (2, 4, 3)), [A(3)], [(3,)]),
    ("alloc-0d-symbolic-shape", lambda v, n: gw.alloc(v, (n, 2)), [A(), np.int64(3)], None),
    ("eye-times", lambda x, n: gw.eye(n) * x, [A(3, 3), np.int64(3)], None),
    ("shape-as-factor", lambda x: x * gw.cast(gw.shape_of(x)[0], "float64"), [A(3)], None),
    ("slice-negative-step", lambda x: x[3:0:-2, ::-1], [A(5, 3)], None),
    ("slice-symbolic-bounds", lambda x, i, j: x[i:j:-1], [A(6), np.int64(-1), np.int64(1)], None),
    ("int-newaxis-ellipsis", lambda x: x[1, None, ..., -1], [A(3, 4, 5)], None),
    ("repeated-indices", lambda x: x[REPEATED], [A(4, 3)], None),
    ("repeated-symbolic", lambda x, i: x[:, i], [A(3, 4), np.array([[1, 1], [3, 1]])], None),
    ("two-arrays-repeated", lambda x: x[[0, 0, 1], :, [2, 2, 0]], [A(2, 3, 4)], None),
    ("arrays-split-by-slice", lambda x: x[[1, 0], 1:, [0, 0]], [A(3, 3, 2)], None),
    ("bool-mask-constant", lambda x: x[MASK], [A(4, 3)], None),
    ("bool-mask-symbolic", lambda x, m: x[m, 1:], [A(4, 3), MASK], None),
    ("set-basic", lambda x, y: gw.set_subtensor(x[1:3], y), [A(4, 3), A(3)], None),
    ("inc-basic-broadcast-y", lambda x, y: gw.inc_subtensor(x[::-1, 1], y), [A(4, 3), A(1)], None),
    ("inc-0d-y", lambda x, y: gw.inc_subtensor(x[1:, :2], y), [A(4, 3), A()], None),
    ("set-repeated", lambda x, y: gw.set_subtensor(x[REPEATED], y), [A(4, 3), A(4, 3)], None),
    ("set-repeated-broadcast-y", lambda x, y: gw.set_subtensor(x[REPEATED], y), [A(4, 3), A(4, 1)], None),
    ("set-repeated-symbolic", lambda x, y, i: gw.set_subtensor(x[i], y), [A(4), A(5), REPEATED[[0, 1, 2, 3, 2]]],
     None),
    ("inc-repeated", lambda x, y: gw.inc_subtensor(x[REPEATED], y), [A(4, 3), A(4, 3)], None),
    ("inc-repeated-broadcast-y", lambda x, y: gw.inc_subtensor(x[REPEATED, 1:], y), [A(4, 3), A(2)], None),
    ("set-mask", lambda x, y, m: gw.set_subtensor(x[m], y), [A(4, 2), A(1, 2), MASK], None),
    ("inc-mask", lambda x, y: gw.inc_subtensor(x[MASK], y), [A(4, 2), A(3, 2)], None),
    ("read-after-set", lambda x, y: gw.set_subtensor(x[[1, 1]], y)[1:] * x[:3], [A(4), A(2)], None),
]


def _symbols(inputs, shapes):
    if shapes is None:
        return None
    return [gw.tensor(f"x{k}", dtype=np.asarray(v).dtype.name, shape=s)
            for k, (v, s) in enumerate(zip(inputs, shapes, strict=True))]


@pytest.mark.parametrize(("fn", "inputs", "shapes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pullback_matches_finite_differences(fn, inputs, shapes):
    gw.verify_grad(fn, inputs, symbols=_symbols(inputs, shapes), rtol=1e-5, atol=1e-7)


# (id, cost builder, static shapes of the float inputs): each gradient must have its input's exact type
STATIC_CASES = [
    ("dimshuffle", lambda x: gw.sum(gw.dimshuffle(x, (1, "x", 0)) ** 2), [(2, 3)]),
    ("dimshuffle-drop", lambda x: gw.sum(gw.squeeze(x) ** 2), [(2, 1, None)]),
    ("reshape", lambda x: gw.sum(gw.reshape(x, (-1,)) ** 2), [(None, 3)]),
    ("join", lambda a, b: gw.sum(gw.concatenate([a, b], axis=1) ** 2), [(2, 3), (2, None)]),
    ("split", lambda x: gw.sum(gw.split(x, [1, 2])[0] ** 2), [(3, None)]),
    ("alloc", lambda v: gw.sum(gw.alloc(v, (4, 3)) ** 2), [(1, 3)]),
    ("make-vector", lambda a, b: gw.sum(gw.stack([a, b]) ** 2), [(), ()]),
    ("subtensor-advanced", lambda x: gw.sum(x[[0, 0], 1:] ** 2), [(4, None)]),
    ("set-subtensor", lambda x, y: gw.sum(gw.set_subtensor(x[[0, 0]], y) ** 2), [(4, 3), (1, 3)]),
    ("inc-subtensor", lambda x, y: gw.sum(gw.inc_subtensor(x[1:], y) ** 2), [(4, None), ()]),
]


@pytest.mark.parametrize(("build", "shapes"), [c[1:] for c in STATIC_CASES], ids=[c[0] for c in STATIC_CASES])
def test_gradients_keep_the_static_types(build, shapes):
    xs = [gw.tensor(f"x{k}", shape=s) for k, s in enumerate(shapes)]
    for x, g in zip(xs, gw.grad(build(*xs), xs), strict=True):
        assert g.type == x.type, (x, g)


def test_unused_split_outputs_get_zero_gradient():
    x = gw.matrix("x")
    g = gw.grad(gw.sum(gw.split(x, [1, 3, 2], axis=1)[1]), x)
    np.testing.assert_array_equal(gw.function([x], g)(np.ones((2, 6))), [[0, 1, 1, 1, 0, 0]] * 2)


def test_repeated_writes_differentiate_only_the_last():
    x, y = gw.vector("x"), gw.vector("y")
    z = gw.set_subtensor(x[[1, 1, 0]], y)
    gx, gy = gw.function([x, y], gw.grad(gw.sum(z * [1.0, 2.0, 3.0]), [x, y]))(np.zeros(3), np.zeros(3))
    np.testing.assert_array_equal(gx, [0, 0, 3])
    np.testing.assert_array_equal(gy, [0, 2, 1])
    gx, gy = gw.function([x, y], gw.grad(gw.sum(gw.inc_subtensor(x[[1, 1, 0]], y) * [1.0, 2.0, 3.0]), [x, y]))(
        np.zeros(3), np.zeros(3))
    np.testing.assert_array_equal(gx, [1, 2, 3])
    np.testing.assert_array_equal(gy, [2, 2, 1])


def test_no_gradient_through_integers_and_float_arange():
    x, n = gw.vector("x"), gw.scalar("n", "int64")
    ints = gw.cast(gw.arange(n) + gw.sum(gw.eye(n, n, 1)), "float64")
    assert gw.grad(gw.sum(ints * x[:1]), x).type == x.type
    s, t, h = gw.scalar("s"), gw.scalar("t"), gw.scalar("h")
    w = gw.constant(np.array([1.0, 2.0, 3.0, 4.0]))
    gs, gt, gh = gw.grad(gw.sum(gw.arange(s, t, h) * w), [s, t, h])
    got = gw.function([s, t, h], [gs, gt, gh])(0.5, 4.2, 1.0)  # 0.5, 1.5, 2.5, 3.5
    np.testing.assert_allclose(got, [10.0, 0.0, 0 * 1 + 1 * 2 + 2 * 3 + 3 * 4])


def test_second_order_through_indexing():
    x = gw.vector("x")
    gx = gw.grad(gw.sum(gw.set_subtensor(x[[0, 0]], x[1:3] ** 2) ** 2), x)
    gw.verify_grad(lambda v: gw.grad(gw.sum(gw.set_subtensor(v[[0, 0]], v[1:3] ** 2) ** 2), v), [A(4)])
    assert gx.type == x.type
