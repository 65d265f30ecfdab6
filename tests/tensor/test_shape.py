"""Shape and creation ops: static shapes, infer_shape consistency and construction errors."""

import numpy as np
import pytest
from infer_shape_check import check_infer_shape

import graphwright as gw
from graphwright.graph import GraphError
from graphwright.tensor.shape import static_value

M = np.arange(12.0).reshape(3, 4)


m = gw.matrix("m")
n = gw.scalar("n", "int64")
v = gw.vector("v")
t3 = gw.tensor3("t")
CASES = [
    ("dimshuffle", m.dimshuffle(1, "x", 0), [m], [M]),
    ("reshape", gw.reshape(m, (2, -1)), [m], [M]),
    ("reshape_symbolic", gw.reshape(m, (n, -1)), [m, n], [M, 6]),
    ("flatten", gw.flatten(t3, 2), [t3], [np.ones((2, 3, 4))]),
    ("alloc", gw.alloc(v, (n, 4)), [v, n], [np.ones(4), 3]),
    ("zeros_like", gw.zeros_like(m), [m], [M]),
    ("arange", gw.arange(n), [n], [5]),
    ("arange_step", gw.arange(1, n, 3), [n], [11]),
    ("eye", gw.eye(n, 2), [n], [3]),
    ("concatenate", gw.concatenate([m, m * 2], axis=1), [m], [M]),
    ("stack", gw.stack([m, m], axis=2), [m], [M]),
    ("shape_of", gw.shape_of(m), [m], [M]),
]


@pytest.mark.parametrize("name, out, inputs, values", CASES, ids=[c[0] for c in CASES])
def test_infer_shape(name, out, inputs, values):
    check_infer_shape(out, inputs, values, graph_shapes=True)


def test_split_infer_shape_and_values():
    sizes = gw.vector("s", "int64", shape=(2,))
    a, b = gw.split(v, sizes)
    f = gw.function([v, sizes], [a, b])
    first, second = f(np.arange(5.0), np.array([2, 3]))
    np.testing.assert_array_equal(first, [0, 1]) and np.testing.assert_array_equal(second, [2, 3, 4])
    with pytest.raises(gw.GraphRuntimeError, match=r"split: sizes \[2, 2\] do not add up to 5"):
        f(np.arange(5.0), np.array([2, 2]))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: gw.reshape(gw.matrix("a", shape=(2, 3)), (4, 2)), r"cannot reshape a of shape \(2, 3\) into \(4, 2\)"),
        (lambda: gw.reshape(gw.matrix("a"), (-1, -1)), "at most one -1"),
        (lambda: gw.squeeze(gw.matrix("a"), 0), r"drops dimension 0 of a \(type float64\[\?,\?\]\), which is not "
                                                  "statically of length 1"),
        (lambda: gw.concatenate([gw.matrix("a", shape=(2, 3)), gw.matrix("b", shape=(2, 4))]),
         r"concatenate: shapes \(2, 3\), \(2, 4\) differ in dimension 1 \(only axis 0 may differ\)"),
        (lambda: gw.concatenate([gw.matrix("a"), gw.vector("b")]), "same number of dimensions"),
        (lambda: gw.split(gw.vector("v", shape=(5,)), [2, 2]), r"sizes \(2, 2\) do not add up to length 5"),
        (lambda: gw.transpose(gw.matrix("a"), (0, 0)), "not a permutation"),
        (lambda: gw.expand_dims(gw.vector("a"), 5), "axis 5 is out of range"),
        (lambda: gw.alloc(gw.vector("v", shape=(3,)), (2, 4)), r"cannot broadcast v of shape \(3,\) to \(2, 4\)"),
        (lambda: gw.arange(0, 5, 0), "step must not be zero"),
        (lambda: gw.eye(2.5), "n, m and k must be integers"),
    ],
)
def test_construction_errors(build, message):
    with pytest.raises(GraphError, match=message):
        build()


def test_static_shapes_are_inferred():
    assert gw.reshape(gw.matrix("a", shape=(2, 6)), (3, -1)).type.shape == (3, 4)
    assert gw.zeros((2, n)).type.shape == (2, None)
    assert gw.concatenate([gw.vector("a", shape=(2,)), gw.vector("b", shape=(3,))]).type.shape == (5,)
    assert gw.arange(2, 11, 3).type.shape == (3,)
    assert gw.stack([gw.scalar("a"), gw.scalar("b")]).type.shape == (2,)
    a = gw.matrix("a", shape=(2, 3))
    np.testing.assert_array_equal(static_value(gw.shape_of(a)), [2, 3])
    assert static_value(gw.shape_of(gw.matrix("b"))) is None
    assert gw.zeros(gw.shape_of(a)).type.shape == (2, 3)


def test_creation_values():
    f = gw.function([n], [gw.zeros((n, 2)), gw.ones(n, "int32"), gw.full((2,), 7.5), gw.eye(n, k=1)])
    z, o, full, e = f(3)
    np.testing.assert_array_equal(z, np.zeros((3, 2)))
    assert o.dtype == np.int32 and o.shape == (3,)
    np.testing.assert_array_equal(full, [7.5, 7.5])
    np.testing.assert_array_equal(e, np.eye(3, k=1))
