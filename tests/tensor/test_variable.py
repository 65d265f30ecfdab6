"""NumPy-like variables: operators, methods, dtype promotion, static shapes and construction errors."""

import operator

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import GraphError

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 2.0, (3, 4))
B = RNG.uniform(0.5, 2.0, (3, 4))


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
                                operator.mod, operator.pow, operator.lt, operator.le, operator.gt, operator.ge])
def test_binary_operators_match_numpy(op):
    x, y = gw.matrix("x"), gw.matrix("y")
    f = gw.function([x, y], [op(x, y), op(x, 2.0), op(3.0, y), op(x, B)])
    got = f(A, B)
    for value, expected in zip(got, [op(A, B), op(A, 2.0), op(3.0, B), op(A, B)], strict=True):
        np.testing.assert_allclose(value, expected)


def test_unary_operators_and_matmul():
    x = gw.matrix("x")
    v = gw.vector("v")
    f = gw.function([x, v], [-x, abs(-x), +x, x @ v, x.T, ~(x > 1)])
    vec = np.arange(4.0)
    got = f(A, vec)
    expected = [-A, A, A, A @ vec, A.T, ~(A > 1)]
    for value, exp in zip(got, expected, strict=True):
        np.testing.assert_allclose(value, exp)


def test_bitwise_operators_on_bools_and_ints():
    p, q = gw.vector("p", "bool"), gw.vector("q", "bool")
    i = gw.vector("i", "int64")
    f = gw.function([p, q, i], [p & q, p | q, p ^ q, ~p, i & 6, ~i])
    pv, qv, iv = np.array([True, False]), np.array([True, True]), np.array([3, 12])
    for value, exp in zip(f(pv, qv, iv), [pv & qv, pv | qv, pv ^ qv, ~pv, iv & 6, ~iv], strict=True):
        np.testing.assert_array_equal(value, exp)
    with pytest.raises(TypeError, match="and does not accept inputs of dtype float64"):
        gw.vector("f") & p


def test_numpy_array_on_the_left_defers_to_the_graph():
    x = gw.vector("x")
    out = np.ones(3) + x
    assert isinstance(out, gw.TensorVariable)
    np.testing.assert_allclose(out.eval({x: np.arange(3.0)}), [1, 2, 3])


@pytest.mark.parametrize(
    "dtype, scalar, expected",
    [("int8", 1, "int8"), ("int8", 1.5, "float64"), ("float32", 1.5, "float32"), ("float32", 2, "float32"),
     ("bool", 1, "int64"), ("uint8", 3, "uint8"), ("int32", True, "int32")],
)
def test_python_scalars_are_weak_like_numpy2(dtype, scalar, expected):
    x = gw.vector("x", dtype)
    assert (x + scalar).dtype == expected
    assert (np.ones(2, dtype) + scalar).dtype == expected  # the reference


@pytest.mark.parametrize("left, right", [("int8", "uint8"), ("int32", "float32"), ("int64", "float32"),
                                         ("float32", "float64"), ("bool", "int8"), ("uint8", "int16")])
def test_dtype_promotion_follows_numpy(left, right):
    x, y = gw.vector("x", left), gw.vector("y", right)
    expected = (np.ones(1, left) * np.ones(1, right)).dtype
    assert (x * y).dtype == expected.name
    assert gw.function([x, y], x * y)(np.ones(2, left), np.ones(2, right)).dtype == expected


def test_python_int_overflow_is_reported():
    with pytest.raises(OverflowError, match="add: the Python value 1000 does not fit the dtype int8"):
        gw.vector("x", "int8") + 1000


def test_static_shapes_and_broadcasting():
    col = gw.tensor("c", shape=(3, 1))
    row = gw.tensor("r", shape=(1, 4))
    assert (col + row).type.shape == (3, 4)
    assert (gw.matrix("m") + row).type.shape == (None, 4)
    assert (gw.matrix("m") * gw.matrix("n")).type.shape == (None, None)
    assert (gw.scalar("s") + col).type.shape == (3, 1)
    with pytest.raises(GraphError, match=r"add: shapes \(3, 1\), \(4, 1\) cannot be broadcast together \(dimension 0 "
                                         r"has lengths \[3, 4\]\)"):
        gw.tensor("a", shape=(3, 1)) + gw.tensor("b", shape=(4,)).dimshuffle("x", 0).T


def test_shape_mismatch_at_construction_names_op_and_shapes():
    with pytest.raises(GraphError, match=r"mul: shapes \(3,\), \(4,\) cannot be broadcast"):
        gw.vector("a", shape=(3,)) * gw.vector("b", shape=(4,))


def test_methods_match_numpy():
    x = gw.matrix("x")
    methods = {
        "sum": (x.sum(), A.sum()), "sum0": (x.sum(axis=0), A.sum(axis=0)), "mean": (x.mean(1), A.mean(1)),
        "max": (x.max(keepdims=True), A.max(keepdims=True)), "reshape": (x.reshape((4, 3)), A.reshape(4, 3)),
        "reshape_args": (x.reshape(2, -1), A.reshape(2, -1)), "astype": (x.astype("int32"), A.astype("int32")),
        "dimshuffle": (x.dimshuffle(1, "x", 0), A.T[:, None, :]), "flatten": (x.flatten(), A.flatten()),
        "transpose": (x.transpose(1, 0), A.T), "std": (x.std(), A.std()), "var": (x.var(0), A.var(0)),
        "min": (x.min(), A.min()), "prod": (x.prod(1), A.prod(1)),
    }
    f = gw.function([x], [v for v, _ in methods.values()])
    for (name, (_, expected)), value in zip(methods.items(), f(A), strict=True):
        np.testing.assert_allclose(value, expected, err_msg=name)
        assert value.dtype == expected.dtype, name


def test_static_attributes():
    x = gw.matrix("x", dtype="float32", shape=(3, None))
    assert (x.ndim, x.dtype, x.static_shape) == (2, "float32", (3, None))
    np.testing.assert_array_equal(x.shape.eval({x: np.ones((3, 5), "float32")}), [3, 5])
    assert len(x) == 3
    assert [str(r) for r in x] == ["x[0]", "x[1]", "x[2]"]
    with pytest.raises(TypeError, match="not known statically"):
        len(gw.vector("v"))


def test_symbolic_truth_value_is_an_error():
    x = gw.vector("x")
    with pytest.raises(TypeError, match="has no truth value"):
        if x > 0:
            pass


def test_equality_is_identity_and_variables_are_hashable():
    x = gw.vector("x")
    assert x == x and x != gw.vector("x")
    assert {x: 1}[x] == 1
    np.testing.assert_array_equal(gw.eq(x, 1.0).eval({x: [1.0, 2.0]}), [True, False])


@pytest.mark.parametrize("maker, ndim", [(gw.scalar, 0), (gw.vector, 1), (gw.matrix, 2), (gw.tensor3, 3),
                                         (gw.tensor4, 4)])
def test_constructors(maker, ndim):
    v = maker("v", "int32")
    assert v.ndim == ndim and v.dtype == "int32" and v.name == "v"


def test_constructor_errors():
    with pytest.raises(TypeError, match="dtype 'float16' is not supported"):
        gw.vector("x", "float16")
    with pytest.raises(TypeError, match="dtype 'datetime64' is not supported"):
        gw.vector("x", "datetime64")
    with pytest.raises(ValueError, match="shape .* has 2 entries but the variable has 1"):
        gw.vector("x", shape=(2, 3))
    with pytest.raises(GraphError, match="non-negative ints or None"):
        gw.tensor("t", shape=(-1,))
    with pytest.raises(TypeError, match="cannot make a constant of dtype <U3"):
        gw.constant("abc")


def test_as_tensor():
    assert gw.as_tensor(3).dtype == "int64"
    assert gw.as_tensor(3.0, dtype="float32").dtype == "float32"
    x = gw.scalar("x")
    assert gw.as_tensor(x) is x
    stacked = gw.as_tensor([x, 2.0])
    assert stacked.type.shape == (2,)
    np.testing.assert_array_equal(stacked.eval({x: 1.0}), [1.0, 2.0])
