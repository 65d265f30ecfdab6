"""Pullbacks of the math ops (linalg, cumulative, logsumexp, softmax): finite differences and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps

import graphwright as gw


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


ZEROS_VEC = np.array([1.5, 0.0, -2.0, 0.0, 0.7, 1.2])
ZEROS_MAT = np.array([[1.5, 0.0, 0.7], [0.0, 2.0, -1.1], [-0.8, 0.0, 0.0], [0.0, 1.3, 0.9]])

CASES = {
    # matmul: batch broadcasting both ways, static-1 batch, vector operands
    "matmul-batch": (gw.matmul, [_r(2, 3, 4), _r(2, 4, 5)]),
    "matmul-bcast-b": (gw.matmul, [_r(2, 3, 4), _r(4, 5)]),
    "matmul-bcast-a": (gw.matmul, [_r(3, 4), _r(2, 4, 5)]),
    "matmul-static1": (gw.matmul, [_r(2, 1, 3, 4), _r(5, 4, 2)]),
    "matmul-static1-b": (gw.matmul, [_r(5, 3, 4), _r(1, 4, 2)]),
    "matmul-vm": (gw.matmul, [_r(4), _r(4, 5)]),
    "matmul-v-batch": (gw.matmul, [_r(4), _r(2, 4, 5)]),
    "matmul-batch-v": (gw.matmul, [_r(2, 3, 4), _r(4)]),
    "matmul-vv": (gw.matmul, [_r(4), _r(4, seed=1)]),
    "matmul-self-vv": (lambda v: v @ v, [_r(4)]),
    "matmul-self-mm": (lambda m: m @ m, [_r(3, 3)]),
    # dot
    "dot-vv": (gw.dot, [_r(4), _r(4, seed=1)]),
    "dot-mv": (gw.dot, [_r(3, 4), _r(4)]),
    "dot-vm": (gw.dot, [_r(4), _r(4, 5)]),
    "dot-mm": (gw.dot, [_r(3, 4), _r(4, 5)]),
    # tensordot
    "tensordot-0": (lambda a, b: gw.tensordot(a, b, 0), [_r(2, 3), _r(4)]),
    "tensordot-1": (lambda a, b: gw.tensordot(a, b, 1), [_r(3, 4), _r(4, 5)]),
    "tensordot-2": (lambda a, b: gw.tensordot(a, b, 2), [_r(2, 3, 4), _r(3, 4, 5)]),
    "tensordot-crossed": (lambda a, b: gw.tensordot(a, b, ([1, 0], [0, 1])), [_r(3, 4, 5), _r(4, 3, 2)]),
    "tensordot-scattered": (lambda a, b: gw.tensordot(a, b, ([2, 0], [0, 2])), [_r(3, 4, 5), _r(5, 2, 3)]),
    "tensordot-all": (lambda a, b: gw.tensordot(a, b, ([0, 1], [1, 0])), [_r(3, 4), _r(4, 3)]),
    # cumulative ops along each axis and flattened
    **{f"cumsum-axis{a}": (lambda x, _a=a: gw.cumsum(x, axis=_a), [_r(2, 3, 4)]) for a in (None, 0, 1, 2, -1)},
    **{f"cumprod-axis{a}": (lambda x, _a=a: gw.cumprod(x, axis=_a), [_r(2, 3, 4)]) for a in (None, 0, 1, 2, -1)},
    "cumsum-0d": (gw.cumsum, [np.array(0.7)]),
    "cumprod-0d": (gw.cumprod, [np.array(0.7)]),
    "cumprod-zeros": (gw.cumprod, [ZEROS_VEC]),
    "cumprod-zeros-axis0": (lambda x: gw.cumprod(x, axis=0), [ZEROS_MAT]),
    "cumprod-zeros-axis1": (lambda x: gw.cumprod(x, axis=1), [ZEROS_MAT]),
    "cumprod-zeros-flat": (gw.cumprod, [ZEROS_MAT]),
    # softmax / log_softmax along each axis and over everything
    **{f"{f.__name__}-axis{a}": (lambda x, _f=f, _a=a: _f(x, axis=_a), [_r(2, 3, 4)])
       for f in (gw.softmax, gw.log_softmax) for a in (None, 0, 1, 2, -1)},
    # logsumexp with and without keepdims
    **{f"logsumexp-axis{a}-keep{k}": (lambda x, _a=a, _k=k: gw.logsumexp(x, axis=_a, keepdims=_k), [_r(2, 3, 4)])
       for a in (None, 0, (0, 2), -1) for k in (False, True)},
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_finite_differences(name: str) -> None:
    fn, values = CASES[name]
    gw.verify_grad(fn, values)


def test_argmax_argmin_pass_no_gradient() -> None:
    x = gw.matrix("x")
    for f in (gw.argmax, gw.argmin):
        node = f(x, axis=1).owner
        assert node.op.pullback(node, [gw.vector("g", dtype="int64")]) == [None]
    # the index is a constant factor: d/dx sum(argmax(x, 0) * sum(x, 0)) = argmax(x, 0) in every row
    cost = gw.sum(gw.cast(gw.argmax(x, axis=0), "float64") * gw.sum(x, axis=0))
    value = np.array([[0.0, 5.0, 1.0], [2.0, 1.0, 0.0]])
    got = gw.function([x], gw.grad(cost, x))(value)
    np.testing.assert_array_equal(got, [[1.0, 0.0, 0.0]] * 2)


def _grad_fn(cost_of, x: gw.TensorVariable) -> gw.Function:
    return gw.function([x], gw.grad(cost_of(x), x))


@pytest.mark.parametrize("scale", [1.0, 800.0])
def test_logsumexp_gradient_is_softmax(scale: float) -> None:
    x = gw.vector("x")
    value = scale * np.array([1.0, -1.0, 0.5, -0.25, 1.0])
    got = _grad_fn(gw.logsumexp, x)(value)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sps.softmax(value), rtol=1e-12, atol=1e-300)


def test_log_softmax_gradient_at_large_logits() -> None:
    x = gw.vector("x")
    value = np.array([900.0, -900.0, 0.0, 899.0])
    got = _grad_fn(lambda v: gw.sum(gw.log_softmax(v) * np.eye(4)[0]), x)(value)
    want = np.eye(4)[0] - sps.softmax(value)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_softmax_gradient_with_minus_inf_entries() -> None:
    x = gw.vector("x")
    value = np.array([0.5, -np.inf, 1.5, -np.inf])
    weights = np.array([1.0, 2.0, -3.0, 4.0])
    got = _grad_fn(lambda v: gw.sum(gw.softmax(v) * weights), x)(value)
    sm = sps.softmax(value)
    np.testing.assert_allclose(got, sm * (weights - weights @ sm), rtol=1e-12, atol=1e-300)


def test_matmul_gradient_wrt_weights_is_outer() -> None:
    x, W = gw.vector("x"), gw.matrix("W")
    xv, Wv = np.array([1.0, -2.0, 3.0]), _r(3, 4)
    got = gw.function([x, W], gw.grad(gw.sum(x @ W), W))(xv, Wv)
    np.testing.assert_allclose(got, np.outer(xv, np.ones(4)))


def test_cumprod_gradient_with_zeros_is_exact() -> None:
    x = gw.vector("x")
    got = _grad_fn(lambda v: gw.sum(gw.cumprod(v)), x)(ZEROS_VEC)
    # d/dx_k sum_i prod_{j<=i} x_j: terms without the first zero (index 1) vanish past it
    want = [1 + 0.0, 1.5 * (1 + -2.0), 0.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(got, want)


def test_mixed_precision_gradients_keep_each_input_dtype() -> None:
    a, b = gw.tensor3("a", dtype="float32"), gw.matrix("b")
    ga, gb = gw.grad(gw.sum(a @ b), [a, b])
    assert (ga.type.dtype, gb.type.dtype) == ("float32", "float64")
    i, x = gw.matrix("i", dtype="int64"), gw.vector("x")
    assert gw.grad(gw.sum(gw.dot(i, x)), x).type.dtype == "float64"
