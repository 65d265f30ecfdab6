"""Reductions, argmax/argmin, logsumexp and cumulative ops against NumPy/SciPy."""

import doctest

import numpy as np
import pytest
import scipy.special as sps
from infer_shape_check import check_infer_shape

import graphwright as gw
from graphwright.backends.codegen import GraphRuntimeError
from graphwright.tensor import cumulative
from graphwright.tensor import reduce as red
from graphwright.tensor import reduce_special as red_special
from graphwright.tensor.shape import static_value

RNG = np.random.default_rng(0)


def make_value(shape, dtype):
    if dtype == "bool":
        return RNG.random(shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        low = 0 if dtype == "uint8" else -4
        return RNG.integers(low, 5, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def make_input(shape, dtype, static=True):
    return gw.tensor("x", dtype, shape=shape if static else (None,) * len(shape))




def expected_static(shape, axis, keepdims):
    axes = range(len(shape)) if axis is None else [a % len(shape) for a in np.atleast_1d(axis)]
    if keepdims:
        return tuple(1 if d in axes else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in axes)


SHAPE_AXES = [
    ((3,), None), ((3,), 0), ((3,), -1), ((2, 3), None), ((2, 3), 1), ((2, 3), -2), ((2, 3), (0, 1)),
    ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)), ((2, 3, 4), ()), ((), None), ((2, 0), 0), ((0, 3), 1),
]
KINDS = ["sum", "prod", "max", "min", "all", "any"]
DTYPES = ["float32", "float64", "int64", "int8", "uint8", "bool"]


def numpy_reduce(kind, value, axis, keepdims):
    return np.asarray(getattr(np, kind)(value, axis=axis, keepdims=keepdims))  # uint8 sums: uint64, as NumPy


# max/min of an empty array raise (tested separately), so they skip the empty shapes.
REDUCE_CASES = [(kind, shape, axis) for kind in KINDS for shape, axis in SHAPE_AXES
                if kind not in ("max", "min") or 0 not in shape]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,shape,axis", REDUCE_CASES)
def test_reduce_matches_numpy(kind, shape, axis, dtype, keepdims):
    value = make_value(shape, dtype)
    expected = numpy_reduce(kind, value, axis, keepdims)
    for static in (True, False):
        x = make_input(shape, dtype, static)
        out = getattr(gw, kind)(x, axis=axis, keepdims=keepdims)
        got = gw.function([x], out)(value)
        assert got.dtype == expected.dtype and out.dtype == expected.dtype.name
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == "float32" else 1e-12)
        assert out.type.shape == (expected.shape if static else
                                  expected_static((None,) * len(shape), axis, keepdims))
        if out.owner is not None and isinstance(out.owner.op, red.Reduce):
            check_infer_shape(out, [x], [value])


@pytest.mark.parametrize("method", ["sum", "prod", "max", "min", "all", "any", "mean"])
def test_reduce_methods(method):
    x = gw.matrix("x")
    value = make_value((2, 3), "float64")
    out = getattr(x, method)(axis=0)
    np.testing.assert_allclose(out.eval({x: value}), getattr(value, method)(axis=0))


@pytest.mark.parametrize("dtype,acc", [("float64", "float32"), ("int8", "int8"), ("float64", "int64"),
                                       ("int64", "float64"), ("bool", "bool")])
@pytest.mark.parametrize("kind", ["sum", "prod"])
def test_sum_prod_dtype_argument(kind, dtype, acc):
    x = gw.matrix("x", dtype)
    value = (make_value((3, 4), dtype) * 3).astype(dtype)
    out = getattr(gw, kind)(x, axis=1, dtype=acc)
    expected = getattr(np, kind)(value, axis=1, dtype=acc)
    got = out.eval({x: value})
    assert out.dtype == acc and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_reduce_over_no_axes_returns_input_or_cast():
    x = gw.matrix("x")
    assert gw.sum(x, axis=()) is x and gw.max(x, axis=()) is x
    assert gw.sum(x, axis=(), dtype="float32").dtype == "float32"
    b = gw.vector("b", "bool")
    assert gw.sum(b, axis=()).dtype == "int64" and gw.all(x, axis=()).dtype == "bool"
    s = gw.scalar("s")
    assert gw.sum(s) is s


MOMENT_CASES = [((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), (0, 2)),
                ((2, 3, 4), ()), ((2, 3, 4), (-1,))]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ddof=1 over one element: nan, as in NumPy
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape,axis", MOMENT_CASES)
@pytest.mark.parametrize("fn,kwargs", [("mean", {}), ("var", {}), ("var", {"ddof": 1}), ("std", {}),
                                       ("std", {"ddof": 1})])
def test_moments_match_numpy(fn, kwargs, shape, axis, dtype, keepdims):
    value = make_value(shape, dtype)
    expected = np.asarray(getattr(np, fn)(value, axis=axis, keepdims=keepdims, **kwargs))
    for static in (True, False):
        x = make_input(shape, dtype, static)
        out = getattr(gw, fn)(x, axis=axis, keepdims=keepdims, **kwargs)
        got = gw.function([x], out)(value)
        assert got.dtype == expected.dtype and out.dtype == expected.dtype.name
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == "float32" else 1e-12)
        assert got.shape == expected.shape
        if static:
            assert out.type.shape == expected.shape


def test_mean_counts_dynamic_lengths():
    x = gw.tensor("x", shape=(None, 3, None))
    out = gw.mean(x, axis=(0, 2))
    value = make_value((4, 3, 5), "float64")
    np.testing.assert_allclose(out.eval({x: value}), value.mean(axis=(0, 2)))
    assert out.type.shape == (3,)


def test_var_is_two_pass_and_accurate():
    x = gw.vector("x")
    value = 1e8 + np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(gw.var(x).eval({x: value}), 1.25, rtol=1e-9)


def test_var_ddof_larger_than_count_gives_inf():
    x = gw.vector("x", shape=(2,))
    with np.errstate(divide="ignore"):
        assert np.isinf(gw.var(x, ddof=2).eval({x: [1.0, 3.0]}))


ARG_CASES = [((5,), None), ((5,), 0), ((5,), -1), ((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1),
             ((), None)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape,axis", ARG_CASES)
@pytest.mark.parametrize("fn", ["argmax", "argmin"])
def test_argmax_argmin_match_numpy(fn, shape, axis, dtype, keepdims):
    value = make_value(shape, dtype)
    expected = np.asarray(getattr(np, fn)(value, axis=axis, keepdims=keepdims))
    for static in (True, False):
        x = make_input(shape, dtype, static)
        out = getattr(gw, fn)(x, axis=axis, keepdims=keepdims)
        got = gw.function([x], out)(value)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == np.int64 and out.dtype == "int64" and got.shape == expected.shape
        if static:
            assert out.type.shape == expected.shape
        check_infer_shape(out, [x], [value])


def test_argmax_of_empty_raises():
    x = gw.vector("x")
    with pytest.raises(GraphRuntimeError, match="argmax.*empty"):
        gw.argmax(x).eval({x: np.zeros(0)})


LSE_CASES = [((5,), None), ((3, 4), 1), ((3, 4), -2), ((3, 4), None), ((2, 3, 4), (0, 2)), ((2, 3, 4), ())]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shape,axis", LSE_CASES)
def test_logsumexp_matches_scipy(shape, axis, dtype, keepdims):
    value = make_value(shape, dtype) * (50 if dtype != "int64" else 1)
    expected = sps.logsumexp(value.astype("float64"), axis=axis, keepdims=keepdims)
    for static in (True, False):
        x = make_input(shape, dtype, static)
        out = gw.logsumexp(x, axis=axis, keepdims=keepdims)
        got = gw.function([x], out)(value)
        assert got.dtype == np.dtype("float32" if dtype == "float32" else "float64") == np.dtype(out.dtype)
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == "float32" else 1e-12)
        assert got.shape == np.shape(expected)
        check_infer_shape(out, [x], [value])


INF = np.inf


@pytest.mark.parametrize("row,expected", [
    ([-INF, -INF, -INF], -INF), ([INF, 0.0, 1.0], INF), ([INF, -INF], INF), ([-INF, 0.0], 0.0),
    ([np.nan, 1.0], np.nan), ([1000.0, 1000.0], 1000.0 + np.log(2.0)),
    ([-1000.0, -1000.0], -1000 + np.log(2)),
])
def test_logsumexp_special_values(row, expected):
    x = gw.vector("x")
    got = gw.logsumexp(x).eval({x: np.array(row)})
    np.testing.assert_allclose(got, expected)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(got, sps.logsumexp(row))


def test_logsumexp_of_empty_is_minus_inf():
    x = gw.matrix("x")
    np.testing.assert_array_equal(gw.logsumexp(x, axis=1).eval({x: np.zeros((2, 0))}), [-INF, -INF])


CUM_CASES = [((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 2), ((), None),
             ((0, 3), 0)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool"])
@pytest.mark.parametrize("shape,axis", CUM_CASES)
@pytest.mark.parametrize("fn", ["cumsum", "cumprod"])
def test_cumulative_matches_numpy(fn, shape, axis, dtype):
    value = make_value(shape, dtype)
    expected = getattr(np, fn)(value, axis=axis)
    for static in (True, False):
        x = make_input(shape, dtype, static)
        out = getattr(gw, fn)(x, axis=axis)
        got = gw.function([x], out)(value)
        assert got.dtype == expected.dtype and out.dtype == expected.dtype.name
        np.testing.assert_allclose(got, expected, rtol=1e-5)
        if static:
            assert out.type.shape == expected.shape
        check_infer_shape(out, [x], [value])
    x = make_input(shape, dtype)
    np.testing.assert_allclose(getattr(x, fn)(axis=axis).eval({x: value}), expected, rtol=1e-5)


@pytest.mark.parametrize("build", [
    lambda x: (gw.sum(x, 0), gw.sum(x, axis=(-2,))),
    lambda x: (gw.max(x, None), x.max(axis=(1, 0))),
    lambda x: (gw.argmax(x, -1), gw.argmax(x, 1)),
    lambda x: (gw.logsumexp(x, (0, 1)), gw.logsumexp(x)),
    lambda x: (gw.cumsum(x, 1), x.cumsum(-1)),
    lambda x: (gw.any(x, 1, keepdims=True), gw.any(x, -1, True)),
])
def test_hash_consing(build):
    x = gw.matrix("x")
    a, b = build(x)
    assert a is b


def test_distinct_parameters_give_distinct_nodes():
    x = gw.matrix("x")
    assert gw.sum(x, 0) is not gw.sum(x, 1)
    assert gw.sum(x, 0) is not gw.sum(x, 0, keepdims=True)
    assert gw.argmax(x, 0) is not gw.argmin(x, 0)
    assert red_special.Argmax(0) != red_special.Argmin(0)


def test_names_and_printing():
    x = gw.matrix("x")
    assert gw.sum(x, axis=0).owner.op.short_name() == "sum{axis=(0,)}"
    assert str(gw.sum(x, axis=0)) == "sum(x, axis=0)"
    assert str(gw.max(x, axis=(0, 1), keepdims=True)) == "max(x, axis=(0, 1), keepdims=True)"
    assert gw.max(x, keepdims=True).owner.op.short_name() == "max{axis=(0, 1), keepdims}"
    assert str(gw.argmax(x)) == "argmax(x)"
    assert str(gw.argmin(x, 1)) == "argmin(x, axis=1)"
    assert gw.argmax(x, 1).owner.op.short_name() == "argmax{axis=1}"
    assert str(gw.logsumexp(x, 1)) == "logsumexp(x, axis=1)"
    assert str(gw.cumsum(x)) == "cumsum(x)" and str(gw.cumprod(x, 0)) == "cumprod(x, axis=0)"
    assert gw.cumsum(x, 0).owner.op.short_name() == "cumsum{axis=0}"


def test_static_value_folds_sizes():
    m = gw.matrix("m", shape=(2, 3))
    assert int(static_value(m.size)) == 6
    assert static_value(gw.matrix("d").size) is None


@pytest.mark.parametrize("call,error,match", [
    (lambda x: gw.sum(x, axis=2), gw.GraphError,
     r"sum: axis 2 is out of range for x of type float64\[\?,3\] \(2 dimension"),
    (lambda x: gw.mean(x, axis=-3), gw.GraphError, r"mean: axis -3 is out of range for x"),
    (lambda x: gw.prod(x, axis=(0, -2)), gw.GraphError, r"prod: duplicate axis in \(0, -2\) for x"),
    (lambda x: gw.argmax(x, axis=(0, 1)), gw.GraphError, r"argmax: axis \(0, 1\) must be an int \(reducing"),
    (lambda x: gw.cumsum(x, axis=5), gw.GraphError, r"cumsum: axis 5 is out of range for x"),
    (lambda x: gw.logsumexp(x, axis=(1, 1)), gw.GraphError, r"logsumexp: duplicate axis"),
    (lambda x: red.Reduce("mean", (0,)), gw.GraphError, r"Reduce: unknown kind 'mean'"),
    (lambda x: red.Reduce("sum", (1, 0)), gw.GraphError, r"Reduce: axis must be a sorted tuple"),
    (lambda x: red.Reduce("sum", (-1,)), gw.GraphError, r"Reduce: axis must be a sorted tuple"),
    (lambda x: red.Reduce("sum", (0, 3))(x), gw.GraphError, r"sum: axis \(0, 3\) is out of range for x"),
    (lambda x: red_special.Argmax(4)(x), gw.GraphError, r"argmax: axis 4 is out of range for x"),
    (lambda x: cumulative.CumOp("cummax", 0), gw.GraphError, r"CumOp: kind must be"),
    (lambda x: gw.sum(x, axis=1.0), gw.GraphError, r"sum: axis 1.0 must be an int"),
    (lambda x: gw.sum(gw.scalar("s"), axis=0), gw.GraphError, r"sum: axis 0 is out of range for s"),
])
def test_graph_errors(call, error, match):
    x = gw.matrix("x", shape=(None, 3))
    with pytest.raises(error, match=match):
        call(x)


@pytest.mark.parametrize("kind", ["max", "min"])
def test_empty_max_min_raise_at_runtime(kind):
    x = gw.matrix("x")
    out = getattr(gw, kind)(x, axis=1)
    with pytest.raises(GraphRuntimeError, match=rf"{kind}{{axis=\(1,\)}} failed.*float64\[2, 0\].*zero-size"):
        out.eval({x: np.zeros((2, 0))})
    np.testing.assert_array_equal(getattr(gw, kind)(x, axis=0).eval({x: np.zeros((2, 0))}), np.zeros(0))


def test_doctests():
    results = [doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE) for module in (red, red_special)]
    assert all(result.failed == 0 for result in results) and sum(result.attempted for result in results) > 10
