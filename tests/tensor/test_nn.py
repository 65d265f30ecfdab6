"""softmax and log_softmax against scipy.special."""

import doctest

import numpy as np
import pytest
import scipy.special as sps
from infer_shape_check import check_infer_shape

import graphwright as gw
from graphwright.tensor import nn

RNG = np.random.default_rng(2)
INF = np.inf


def make_value(shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-5, 6, size=shape).astype(dtype)
    return (RNG.standard_normal(shape) * 10).astype(dtype)


CASES = [((5,), -1), ((5,), 0), ((5,), None), ((3, 4), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), None),
         ((2, 3, 4), 1), ((2, 3, 4), -3), ((2, 3, 4), None), ((1, 1), -1), ((0, 3), 1)]
FUNCS = [("softmax", sps.softmax), ("log_softmax", sps.log_softmax)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shape,axis", CASES)
@pytest.mark.parametrize("name,reference", FUNCS)
def test_matches_scipy(name, reference, shape, axis, dtype):
    value = make_value(shape, dtype)
    expected = reference(value.astype("float64"), axis=axis)
    out_dtype = "float32" if dtype == "float32" else "float64"
    for static in (True, False):
        x = gw.tensor("x", dtype, shape=shape if static else (None,) * len(shape))
        out = getattr(gw, name)(x, axis=axis)
        got = gw.function([x], out)(value)
        assert out.dtype == out_dtype and got.dtype == np.dtype(out_dtype)
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
        assert out.type.shape == x.type.shape and got.shape == shape
        check_infer_shape(out, [x], [value])


@pytest.mark.parametrize("name,reference", FUNCS)
def test_default_axis_is_last(name, reference):
    x = gw.tensor3("x")
    value = make_value((2, 3, 4), "float64")
    assert getattr(gw, name)(x) is getattr(gw, name)(x, axis=2)
    np.testing.assert_allclose(getattr(gw, name)(x).eval({x: value}), reference(value, axis=-1))


@pytest.mark.parametrize("row", [
    [1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1002.0], [-INF, 0.0, 1.0], [INF, 0.0, 1.0],
    [-INF, -INF, -INF], [np.nan, 0.0, 1.0], [1e308, -1e308, 0.0],
])
@pytest.mark.parametrize("name,reference", FUNCS)
def test_special_values_match_scipy(name, reference, row):
    x = gw.matrix("x")
    value = np.array([row, [0.0, 1.0, 2.0]])
    with np.errstate(all="ignore"):
        expected = reference(value, axis=1)
        got = getattr(gw, name)(x).eval({x: value})
    if name == "softmax" and INF in row:
        # SciPy gives nan everywhere; graphwright gives what exp(x) / sum(exp(x)) gives (nan at the +inf
        # entry, 0 elsewhere), so that rewriting the naive form into softmax never changes values
        expected[0] = np.where(value[0] == INF, np.nan, 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_log_softmax_is_stable_where_naive_overflows():
    x = gw.vector("x")
    got = gw.log_softmax(x).eval({x: np.array([1000.0, 0.0])})
    np.testing.assert_allclose(got, [0.0, -1000.0])


def test_softmax_rows_sum_to_one():
    x = gw.matrix("x", "float32")
    value = make_value((4, 7), "float32")
    np.testing.assert_allclose(gw.softmax(x, axis=1).eval({x: value}).sum(axis=1), 1.0, rtol=1e-6)


def test_hash_consing_and_names():
    x = gw.matrix("x")
    assert gw.softmax(x, -1) is gw.softmax(x, 1)
    assert gw.log_softmax(x, 0) is gw.log_softmax(x, -2)
    assert gw.softmax(x, 0) is not gw.log_softmax(x, 0)
    assert nn.Softmax(0) != nn.LogSoftmax(0)
    assert gw.softmax(x).owner.op.short_name() == "softmax{axis=1}"
    assert str(gw.softmax(x, None)) == "softmax(x, axis=None)"
    assert str(gw.log_softmax(x, 0)) == "log_softmax(x, axis=0)"


@pytest.mark.parametrize("call,match", [
    (lambda x: gw.softmax(x, axis=2), r"softmax: axis 2 is out of range for x of type float64\[\?,3\] \(2 dim"),
    (lambda x: gw.log_softmax(x, axis=-3), r"log_softmax: axis -3 is out of range for x"),
    (lambda x: gw.softmax(gw.scalar("s")), r"softmax: axis -1 is out of range for s of type float64\[\]"),
    (lambda x: gw.softmax(x, axis=(0, 1)), r"softmax: axis \(0, 1\) is out of range"),
    (lambda x: nn.LogSoftmax(5)(x), r"log_softmax: axis 5 is out of range for x"),
])
def test_graph_errors(call, match):
    x = gw.matrix("x", shape=(None, 3))
    with pytest.raises(gw.GraphError, match=match):
        call(x)


def test_scalar_with_axis_none():
    s = gw.scalar("s")
    np.testing.assert_allclose(gw.softmax(s, axis=None).eval({s: 3.0}), 1.0)
    np.testing.assert_allclose(gw.log_softmax(s, axis=None).eval({s: 3.0}), 0.0)


def test_doctests():
    result = doctest.testmod(nn, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 2
