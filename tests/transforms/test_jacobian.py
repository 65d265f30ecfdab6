"""Jacobians, Hessians and vector products against closed forms; vectorize_graph and gw.vectorize."""

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import toposort

A_VAL = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
X_VAL = np.array([0.3, -1.2, 2.0])


def run(inputs, outputs, *data):
    return gw.function(inputs, outputs)(*data)


def test_jacobian_closed_forms():
    x, A = gw.vector("x"), gw.matrix("A")
    np.testing.assert_allclose(run([x], gw.jacobian(x ** 2, x), X_VAL), np.diag(2 * X_VAL))
    np.testing.assert_allclose(run([A, x], gw.jacobian(A @ x, x), A_VAL, X_VAL), A_VAL)
    jA = run([A, x], gw.jacobian(gw.tanh(A @ x), A), A_VAL, X_VAL)
    t = 1 - np.tanh(A_VAL @ X_VAL) ** 2
    assert jA.shape == (2, 2, 3)
    np.testing.assert_allclose(jA, np.einsum("i,ij,k->ijk", t, np.eye(2), X_VAL))


def test_jacobian_of_a_matrix_and_of_a_scalar():
    x = gw.vector("x")
    J = run([x], gw.jacobian(gw.outer(x, x), x), X_VAL)
    eye = np.eye(3)
    np.testing.assert_allclose(J, np.einsum("ik,j->ijk", eye, X_VAL) + np.einsum("i,jk->ijk", X_VAL, eye))
    g = run([x], gw.jacobian(gw.sum(gw.sin(x)), x), X_VAL)
    np.testing.assert_allclose(g, np.cos(X_VAL))


def test_jacobian_with_several_wrt_and_a_disconnected_one():
    x, y, z = gw.vector("x"), gw.vector("y"), gw.vector("z")
    jx, jy, jz = gw.jacobian(x * y, [x, y, z])
    yv, zv = np.array([2.0, 5.0, -1.0]), np.ones(4)
    got = gw.function([x, y, z], [jx, jy, jz])(X_VAL, yv, zv)
    np.testing.assert_allclose(got[0], np.diag(yv))
    np.testing.assert_allclose(got[1], np.diag(X_VAL))
    np.testing.assert_allclose(got[2], np.zeros((3, 4)))


def test_jacobian_has_no_loop():
    x = gw.vector("x")
    J = gw.jacobian(gw.exp(x) * gw.sum(x), x)
    names = {type(n.op).__name__ for n in toposort([J])}
    assert "Blockwise" not in names


def test_hessians_and_products():
    x, A, v = gw.vector("x"), gw.matrix("A"), gw.vector("v")
    M = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, -1.0, 1.0]])
    quad = 0.5 * gw.sum(x * (A @ x))
    H = run([A, x], gw.hessian(quad, x), M, X_VAL)
    np.testing.assert_allclose(H, (M + M.T) / 2)
    np.testing.assert_allclose(run([x], gw.hessian(gw.sum(x ** 3), x), X_VAL), np.diag(6 * X_VAL))
    vv = np.array([1.0, -2.0, 0.5])
    hv = run([A, x, v], gw.hessian_vector_product(quad, x, v), M, X_VAL, vv)
    np.testing.assert_allclose(hv, (M + M.T) / 2 @ vv)


def test_vjp_and_jvp_match_the_jacobian():
    x, A, v, t = gw.vector("x"), gw.matrix("A"), gw.vector("v"), gw.vector("t")
    y = gw.tanh(A @ x)
    J = run([A, x], gw.jacobian(y, x), A_VAL, X_VAL)
    vv, tv = np.array([1.0, -3.0]), np.array([0.5, 0.25, -1.0])
    np.testing.assert_allclose(run([A, x, v], gw.vjp(y, x, v), A_VAL, X_VAL, vv), vv @ J)
    np.testing.assert_allclose(run([A, x, t], gw.jvp(y, x, t), A_VAL, X_VAL, tv), J @ tv)
    with pytest.raises(ValueError, match="must have the shape"):
        gw.vjp(y, x, gw.matrix("w"))


def test_vectorize_graph_batches_and_checks():
    x, A = gw.vector("x"), gw.matrix("A")
    xs = gw.matrix("xs")
    out = gw.vectorize_graph(gw.sum(gw.exp(A @ x)), {x: xs})
    batch = np.stack([X_VAL, 2 * X_VAL])
    want = [np.exp(A_VAL @ row).sum() for row in batch]
    np.testing.assert_allclose(run([A, xs], out, A_VAL, batch), want)
    unrelated = gw.vectorize_graph(gw.sum(A), {x: xs})
    assert unrelated is gw.sum(A)
    with pytest.raises(ValueError, match="fewer dimensions"):
        gw.vectorize_graph(x * 2, {A: x})
    with pytest.raises(TypeError, match="another dtype"):
        gw.vectorize_graph(x * 2, {x: gw.matrix("i", "int64")})
    a3, b4 = gw.tensor("a3", shape=(3, None)), gw.tensor("b4", shape=(4, None))
    y = gw.vector("y")
    with pytest.raises(ValueError, match="batch sizes 3 and 4 do not match"):
        gw.vectorize_graph(x + y, {x: a3, y: b4})


def test_vectorize_like_numpy():
    matvec = gw.vectorize(lambda M, v: M @ v, signature="(m,n),(n)->(m)")
    As, xs = gw.tensor3("As"), gw.matrix("xs")
    a = np.random.default_rng(0).normal(size=(4, 2, 3))
    b = np.random.default_rng(1).normal(size=(4, 3))
    np.testing.assert_allclose(run([As, xs], matvec(As, xs), a, b), np.einsum("bmn,bn->bm", a, b))
    x1 = gw.vector("x1")  # an unbatched argument broadcasts over the batch
    np.testing.assert_allclose(run([As, x1], matvec(As, x1), a, X_VAL), a @ X_VAL)
    with pytest.raises(ValueError, match="not a gufunc signature"):
        gw.vectorize(lambda v: v, signature="n->n")
    with pytest.raises(ValueError, match="fewer than 2 core"):
        matvec(gw.vector("bad"), xs)


def test_vectorized_shapes_keep_their_static_lengths():
    v, vs = gw.vector("v"), gw.matrix("vs")
    assert gw.vectorize_graph(gw.squeeze(gw.alloc(v, (2, 1, 3)), 1), {v: vs}).type.shape == (None, 2, 3)
    assert gw.vectorize_graph(gw.squeeze(gw.reshape(v, (1, 3)), 0), {v: vs}).type.shape == (None, 3)
    x = gw.vector("x")
    W3 = gw.constant(np.random.default_rng(0).normal(size=(2, 4, 3)))
    H = run([x], gw.hessian(gw.sum(gw.matmul(x, W3) ** 2), x), np.ones(4))
    w = W3.data
    np.testing.assert_allclose(H, 2 * np.einsum("bik,bjk->ij", w, w))


def test_outputs_that_ignore_the_batch_are_broadcast():
    X, x = gw.matrix("X"), gw.vector("x")
    ones = gw.vectorize(lambda a: gw.ones_like(a), "(n)->(n)")
    assert run([X], ones(X), np.zeros((4, 3))).shape == (4, 3)
    out = gw.vectorize_graph(gw.zero_grad(x) * x, {x: X})
    np.testing.assert_allclose(run([X], gw.grad(gw.sum(out), X), np.full((2, 3), 5.0)), np.full((2, 3), 5.0))
