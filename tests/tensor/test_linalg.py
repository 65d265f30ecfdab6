"""dot, matmul (@), tensordot and outer against NumPy."""

import doctest

import numpy as np
import pytest
from infer_shape_check import check_infer_shape

import graphwright as gw
from graphwright.tensor import linalg

RNG = np.random.default_rng(1)


def make_value(shape, dtype):
    if dtype == "bool":
        return RNG.random(shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-3, 4, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def inputs_for(shape_a, shape_b, dtypes, static):
    a = gw.tensor("a", dtypes[0], shape=shape_a if static else (None,) * len(shape_a))
    b = gw.tensor("b", dtypes[1], shape=shape_b if static else (None,) * len(shape_b))
    return a, b, make_value(shape_a, dtypes[0]), make_value(shape_b, dtypes[1])




def check(fn, expected_fn, shape_a, shape_b, dtypes, infer=True):
    for static in (True, False):
        a, b, va, vb = inputs_for(shape_a, shape_b, dtypes, static)
        expected = np.asarray(expected_fn(va, vb))
        out = fn(a, b)
        got = gw.function([a, b], out)(va, vb)
        assert got.dtype == expected.dtype and out.dtype == expected.dtype.name
        np.testing.assert_allclose(got, expected, rtol=1e-5 if "float32" in dtypes else 1e-12)
        assert got.shape == expected.shape
        if static:
            assert out.type.shape == expected.shape
        if infer:
            check_infer_shape(out, [a, b], [va, vb])


DTYPE_PAIRS = [("float64", "float64"), ("float32", "float32"), ("float32", "float64"), ("int64", "int64"),
               ("int8", "int8"), ("bool", "bool"), ("int64", "float32"), ("bool", "int32")]

DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((0,), (0,)), ((2, 0), (0, 3)),
              ((1, 3), (3, 1))]


@pytest.mark.parametrize("dtypes", DTYPE_PAIRS)
@pytest.mark.parametrize("shape_a,shape_b", DOT_SHAPES)
def test_dot_matches_numpy(shape_a, shape_b, dtypes):
    check(gw.dot, np.dot, shape_a, shape_b, dtypes)


@pytest.mark.parametrize("shape_a,shape_b", [((2, 3, 4), (4,)), ((2, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
                                             ((), (3,)), ((2, 3), ()), ((2, 3), (4, 3, 5))])
def test_dot_other_ranks_match_numpy(shape_a, shape_b):
    check(gw.dot, np.dot, shape_a, shape_b, ("float64", "float64"))


def test_dot_method_and_node():
    a, b = gw.matrix("a"), gw.matrix("b")
    assert isinstance(a.dot(b).owner.op, linalg.Dot)
    assert gw.dot(a, b) is a.dot(b)


MATMUL_SHAPES = [((2, 3), (3, 4)), ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (3, 4)),
                 ((1, 2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 2)),
                 ((5, 2, 3), (3,)), ((0, 2, 3), (3, 4)), ((2, 0), (0, 2))]


@pytest.mark.parametrize("dtypes", DTYPE_PAIRS)
@pytest.mark.parametrize("shape_a,shape_b", MATMUL_SHAPES)
def test_matmul_matches_numpy(shape_a, shape_b, dtypes):
    check(gw.matmul, np.matmul, shape_a, shape_b, dtypes)
    check(lambda a, b: a @ b, np.matmul, shape_a, shape_b, dtypes, infer=False)


def test_rmatmul_with_constant():
    x = gw.matrix("x", shape=(3, 2))
    m = np.arange(6.0).reshape(2, 3)
    out = m @ x
    assert out.type.shape == (2, 2)
    np.testing.assert_allclose(out.eval({x: np.ones((3, 2))}), m @ np.ones((3, 2)))


def test_matmul_partially_static_batch():
    a = gw.tensor("a", shape=(None, 1, 2, 3))
    b = gw.tensor("b", shape=(4, None, 3, 5))
    out = a @ b
    assert out.type.shape == (4, None, 2, 5)
    va, vb = make_value((4, 1, 2, 3), "float64"), make_value((4, 6, 3, 5), "float64")
    np.testing.assert_allclose(out.eval({a: va, b: vb}), va @ vb)
    check_infer_shape(out, [a, b], [va, vb])


TENSORDOT_CASES = [((2, 3, 4), (3, 4, 5), 2), ((2, 3, 4), (4, 5), 1), ((2, 3), (4, 5), 0),
                   ((2, 3, 4), (4, 3), ([1, 2], [1, 0])), ((2, 3, 4), (4, 2), ([-1, 0], [0, -1])),
                   ((3,), (3,), 1), ((2, 3), (3, 2), ((0, 1), (1, 0))), ((2, 3), (2,), (0, 0))]


@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "int64"), ("int64", "int64"),
                                    ("bool", "bool")])
@pytest.mark.parametrize("shape_a,shape_b,axes", TENSORDOT_CASES)
def test_tensordot_matches_numpy(shape_a, shape_b, axes, dtypes):
    check(lambda a, b: gw.tensordot(a, b, axes), lambda a, b: np.tensordot(a, b, axes), shape_a, shape_b, dtypes)


def test_tensordot_default_axes():
    check(gw.tensordot, np.tensordot, (2, 3, 4), (3, 4, 2), ("float64", "float64"))


OUTER_CASES = [((3,), (4,)), ((2, 2), (3,)), ((), (3,)), ((0,), (2,))]


@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("int64", "float32"), ("bool", "bool")])
@pytest.mark.parametrize("shape_a,shape_b", OUTER_CASES)
def test_outer_matches_numpy(shape_a, shape_b, dtypes):
    one_d = len(shape_a) == len(shape_b) == 1  # flatten's own infer_shape is tested with the shape ops
    check(gw.outer, np.outer, shape_a, shape_b, dtypes, infer=one_d)


@pytest.mark.parametrize("build", [
    lambda a, b: (gw.dot(a, b), a.dot(b)),
    lambda a, b: (gw.matmul(a, b), a @ b),
    lambda a, b: (gw.tensordot(a, b, 1), gw.tensordot(a, b, ([1], [0]))),
    lambda a, b: (gw.tensordot(a, b, ([-1], [-2])), gw.tensordot(a, b, ((1,), (0,)))),
    lambda a, b: (gw.outer(a, b), gw.outer(a, b)),
])
def test_hash_consing(build):
    a, b = gw.matrix("a"), gw.matrix("b")
    first, second = build(a, b)
    assert first is second


def test_names_and_printing():
    a, b = gw.matrix("a"), gw.matrix("b")
    assert str(a @ b) == "a @ b"
    assert str(gw.dot(a, b)) == "dot(a, b)"
    assert gw.matmul(a, b).owner.op.short_name() == "matmul"
    assert gw.tensordot(a, b, 1).owner.op.short_name() == "tensordot{axes=((1,), (0,))}"


@pytest.mark.parametrize("call,match", [
    (lambda: gw.dot(gw.matrix("a", shape=(2, 3)), gw.vector("b", shape=(4,))),
     r"dot: shapes \(2, 3\) and \(4,\) .*a of type float64\[2,3\].*b of type float64\[4\].*\(3 != 4\)"),
    (lambda: gw.dot(gw.matrix("a", shape=(2, 3)), gw.matrix("b", shape=(2, 3))),
     r"dot: shapes \(2, 3\) and \(2, 3\) .*not aligned.*first dimension of b"),
    (lambda: linalg.Dot()(gw.tensor3("a"), gw.vector("b")), r"dot: input a \(a of type float64\[\?,\?,\?\]\)"),
    (lambda: gw.matmul(gw.matrix("a", shape=(2, 3)), gw.matrix("b", shape=(4, 5))),
     r"matmul: shapes \(2, 3\) and \(4, 5\) .*not aligned.*\(3 != 4\)"),
    (lambda: gw.matmul(gw.tensor3("a", shape=(2, 2, 3)), gw.tensor3("b", shape=(3, 3, 4))),
     r"matmul: shapes \(2, 2, 3\) and \(3, 3, 4\) .*batch dimensions \(2,\) and \(3,\)"),
    (lambda: gw.matmul(gw.scalar("a"), gw.vector("b")), r"matmul: input a \(a of type float64\[\]\) is 0-d"),
    (lambda: gw.vector("a", shape=(3,)) @ gw.vector("b", shape=(2,)), r"matmul: shapes \(3,\) and \(2,\)"),
    (lambda: gw.tensordot(gw.matrix("a", shape=(2, 3)), gw.matrix("b", shape=(2, 3)), 1),
     r"tensordot: shapes \(2, 3\) and \(2, 3\) .*axis 1 of a must have the length of axis 0 of b \(3 != 2\)"),
    (lambda: gw.tensordot(gw.matrix("a"), gw.matrix("b"), 3), r"tensordot: axes=3 is invalid for inputs a"),
    (lambda: gw.tensordot(gw.matrix("a"), gw.matrix("b"), ([0, 1], [0])),
     r"tensordot: axes .* name 2 axes of a but 1 of b"),
    (lambda: gw.tensordot(gw.matrix("a"), gw.matrix("b"), ([2], [0])),
     r"tensordot: axis 2 is out of range for input a"),
    (lambda: gw.tensordot(gw.matrix("a"), gw.matrix("b"), ([0, 0], [0, 1])),
     r"tensordot: axes \(0, 0\) are invalid .* input a"),
    (lambda: gw.tensordot(gw.matrix("a"), gw.matrix("b"), "x"), r"tensordot: axes must be an int or a pair"),
])
def test_graph_errors(call, match):
    with pytest.raises(gw.GraphError, match=match):
        call()


def test_runtime_mismatch_names_shapes():
    a, b = gw.matrix("a"), gw.matrix("b")
    with pytest.raises(gw.GraphRuntimeError, match=r"dot failed .*float64\[2, 3\], float64\[4, 2\]"):
        gw.dot(a, b).eval({a: np.ones((2, 3)), b: np.ones((4, 2))})


def test_doctests():
    result = doctest.testmod(linalg, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 5
