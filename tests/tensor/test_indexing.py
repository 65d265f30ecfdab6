"""Tests of x[...] (Subtensor) and set_subtensor / inc_subtensor (IncSubtensor) against NumPy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph.basic import GraphError
from graphwright.tensor.indexing import IncSubtensor, IndexingError, Subtensor, getitem
from graphwright.tensor.shape import make_vector, shape_tuple, static_value
from graphwright.tensor.type import TensorType

E = Ellipsis
MASK_34 = np.arange(12).reshape(3, 4) % 3 == 0

# (shape of x, index): every index here is made of constants, so NumPy gives the expected value and shape.
CASES = [
    ((5,), 1), ((5,), -1), ((5,), slice(1, 3)), ((5,), slice(None, None, -1)), ((5,), slice(-2, None)),
    ((5,), slice(None, None, 2)), ((5,), slice(4, 0, -2)), ((5,), slice(10, -10, -1)), ((5,), slice(7, 9)),
    ((5,), slice(-9, 2)), ((5,), slice(None, -1, -1)), ((5,), None), ((5,), (None, slice(1, None))), ((5,), E),
    ((0,), slice(None, None, -1)), ((3, 4), 1), ((3, 4), (slice(None), 2)), ((3, 4), (E, -1)),
    ((3, 4), (None, E, None)), ((3, 4), (1, None, slice(None, None, -2))), ((3, 4), (slice(-1, None, -1), slice(1, 3))),
    ((3, 4), (slice(None), slice(None))), ((2, 3, 4), (E, 1, slice(None, None, -1))), ((2, 3, 4), (0, E)),
    ((2, 3, 4), (slice(None), None, 1, E)), ((2, 3, 4), (1, 2, 3)), ((), E), ((), None), ((), ()),
    # integer arrays
    ((5,), [0, 2, 2, -1]), ((5,), np.array([[0, 1], [3, 4]])), ((5,), []), ((5,), np.array([4, 0], dtype="int32")),
    ((3, 4), ([0, 2],)), ((3, 4), ([0, 2], [1, 3])), ((3, 4), (np.array([[0], [2]]), np.array([1, 3]))),
    ((3, 4), (slice(None), [3, 0])), ((3, 4), (1, [0, 3])), ((3, 4), ([2, 0], slice(1, 3))), ((3, 4), ([1], -1)),
    ((2, 3, 4, 5), (slice(None), [0, 1, 1], slice(None), [0, 2, 4])),  # separated by a slice: moved to the front
    ((2, 3, 4, 5), (slice(None), [0, 1, 1], [0, 2, 3])),  # adjacent: stay in place
    ((2, 3, 4, 5), ([1, 0], slice(None), 2)),  # an int counts as an advanced index: front
    ((2, 3, 4, 5), (slice(None), 2, [1, 0])),  # adjacent int and array: in place
    ((2, 3, 4, 5), (slice(None), [0, 2], E, [1, 4])),
    ((3, 4, 5), (slice(None), [0, 2], E, [1, 4])),  # an Ellipsis covering nothing still separates: front
    ((3, 4, 5), (slice(None), [0, 2], [1, 3], E)),
    ((2, 3, 4, 5), ([0, 1], None, [1, 2])),  # None separates: front
    ((2, 3, 4, 5), (None, [0, 1], [1, 2])), ((2, 3, 4, 5), (slice(1, None), np.array([[0, 1]]), np.array([[1], [2]]))),
    ((2, 3, 4), (slice(None, None, -1), [[0, 2]], slice(None, 2))),
    # boolean masks
    ((5,), np.array([True, False, True, True, False])), ((3, 4), MASK_34), ((3, 4), (slice(None), MASK_34[0])),
    ((2, 3, 4), (np.array([True, False]), slice(None), [0, 3])), ((2, 3, 4), (1, np.ones((3, 4), bool))),
    ((2, 3, 4), (np.ones((2, 3), bool), None)), ((2, 3, 4), (slice(None), MASK_34)), ((3, 4), True),
    ((3, 4), (E, False)), ((3, 4), [True, False, True]), ((3, 4), ([True, False, True], [0, 3])),
    ((5,), np.zeros(5, bool)),
]


def _ids(cases):
    return [f"{shape}-{idx!r}".replace("\n", "").replace(" ", "")[:60] for shape, idx in cases]


def _data(shape):
    return np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape)


def _infer_shape(out: gw.TensorVariable) -> tuple:
    """The op's symbolic shape of ``out``, checked to be ints or int64 0-d variables."""
    node = out.owner
    shape = node.op.infer_shape(node, [shape_tuple(v) for v in node.inputs])[0]
    assert len(shape) == out.ndim
    for s in shape:
        assert isinstance(s, int) or s.type == TensorType("int64", ()), s
    return shape


def _infer_shape_value(out, inputs, values) -> tuple:
    shape = _infer_shape(out)
    if not shape:
        return ()
    f = gw.function(inputs, [gw.as_tensor(s) for s in shape])
    return tuple(int(v) for v in f(*values))


@pytest.mark.parametrize(("shape", "index"), CASES, ids=_ids(CASES))
def test_constant_index_matches_numpy_with_static_shape(shape, index):
    x = gw.tensor("x", shape=shape)
    value = _data(shape)
    out = x[index]
    expected = value[index]
    np.testing.assert_array_equal(out.eval({x: value}), expected)
    assert out.type.shape == expected.shape  # static x and constant index: every length is known
    assert out.dtype == "float64"
    assert _infer_shape(out) == expected.shape


@pytest.mark.parametrize(("shape", "index"), CASES, ids=_ids(CASES))
def test_constant_index_matches_numpy_with_unknown_shape(shape, index):
    x = gw.tensor("x", shape=(None,) * len(shape))
    value = _data(shape)
    out = x[index]
    expected = value[index]
    result = gw.function([x], out)(value)
    np.testing.assert_array_equal(result, expected)
    assert out.ndim == expected.ndim
    assert all(s is None or s == e for s, e in zip(out.type.shape, expected.shape, strict=True))
    assert _infer_shape_value(out, [x], [value]) == expected.shape


@pytest.mark.parametrize("present", list(itertools.product([False, True], repeat=3)))
def test_symbolic_slice_bounds_grid(present):
    x = gw.vector("x")
    a, b, c = (gw.scalar(n, "int64") for n in "abc")
    sl = slice(*(v if p else None for v, p in zip((a, b, c), present, strict=True)))
    out = x[sl]
    inputs = [x] + [v for v, p in zip((a, b, c), present, strict=True) if p]
    f = gw.function(inputs, out)
    g = gw.function(inputs, [gw.as_tensor(s) for s in _infer_shape(out)])
    bounds = [-9, -3, -1, 0, 2, 5, 9]
    for n in (0, 1, 4, 7):
        value = np.arange(float(n))
        for start, stop, step in itertools.product(bounds, bounds, (-3, -1, 1, 2)):
            args = [v for v, p in zip((start, stop, step), present, strict=True) if p]
            expected = value[slice(*(v if p else None for v, p in zip((start, stop, step), present, strict=True)))]
            np.testing.assert_array_equal(f(value, *args), expected)
            assert int(g(value, *args)[0]) == len(expected)


def test_symbolic_bounds_on_static_length():
    x = gw.vector("x", shape=(6,))
    i = gw.scalar("i", "int32")
    assert x[i:].type.shape == (None,)
    assert x[::i].type.shape == (None,)
    assert x[:: -1].type.shape == (6,)
    value = np.arange(6.0)
    for iv in (-8, -2, 0, 3, 7):
        np.testing.assert_array_equal(x[iv:].eval({x: value}), value[iv:])
        np.testing.assert_array_equal(x[i:].eval({x: value, i: np.int32(iv)}), value[iv:])
        assert _infer_shape_value(x[i:-1], [x, i], [value, np.int32(iv)]) == value[iv:-1].shape


@pytest.mark.parametrize(
    ("build", "np_index"),
    [
        (lambda x, i, j: x[i], lambda i, j: i),
        (lambda x, i, j: x[i, j], lambda i, j: (i, j)),
        (lambda x, i, j: x[:, i], lambda i, j: (slice(None), i)),
        (lambda x, i, j: x[i, ::-1], lambda i, j: (i, slice(None, None, -1))),
        (lambda x, i, j: x[None, j, i:], lambda i, j: (None, j, slice(i, None))),
        (lambda x, i, j: x[[i, j]], lambda i, j: [i, j]),
        (lambda x, i, j: x[[0, 2], i], lambda i, j: ([0, 2], i)),
    ],
)
def test_symbolic_int_indices(build, np_index):
    x = gw.matrix("x")
    i, j = gw.scalar("i", "int64"), gw.scalar("j", "int16")
    out = build(x, i, j)
    f = gw.function([x, i, j], out)
    value = _data((3, 4))
    for iv, jv in [(0, 0), (2, -1), (-3, 1), (1, 2)]:
        expected = value[np_index(iv, jv)]
        np.testing.assert_array_equal(f(value, iv, np.int16(jv)), expected)
        assert _infer_shape_value(out, [x, i, j], [value, iv, np.int16(jv)]) == expected.shape


@pytest.mark.parametrize(
    ("build", "np_index", "static"),
    [
        (lambda x, v, m: x[v], lambda v, m: v, (None, 4)),
        (lambda x, v, m: x[:, v], lambda v, m: (slice(None), v), (3, None)),
        (lambda x, v, m: x[m], lambda v, m: m, (None, None, 4)),
        (lambda x, v, m: x[m, v], lambda v, m: (m, v), (None, None)),
        (lambda x, v, m: x[v[:, None], v[None, :]], lambda v, m: (v[:, None], v[None, :]), (None, None)),
        (lambda x, v, m: x[1:, m[:1]], lambda v, m: (slice(1, None), m[:1]), (2, None, None)),
        (lambda x, v, m: x[1:, v], lambda v, m: (slice(1, None), v), (2, None)),
        (lambda x, v, m: x[v, -1], lambda v, m: (v, -1), (None,)),
    ],
)
def test_symbolic_index_arrays(build, np_index, static):
    x = gw.matrix("x", shape=(3, 4))
    v = gw.vector("v", "int64")
    m = gw.matrix("m", "int32")
    out = build(x, v, m)
    assert out.type.shape == static
    value = _data((3, 4))
    f = gw.function([x, v, m], out)
    for vv, mv in [(np.array([0, 2, -1]), np.array([[0, 1, 2]], "int32")), (np.array([1]), np.zeros((2, 2), "int32"))]:
        expected = value[np_index(vv, mv)]
        np.testing.assert_array_equal(f(value, vv, mv), expected)
        assert _infer_shape_value(out, [x, v, m], [value, vv, mv]) == expected.shape


def test_index_arrays_of_unknown_length_broadcast_at_run_time():
    x = gw.matrix("x")
    i, j = gw.vector("i", "int64"), gw.vector("j", "int64")
    out = x[i, j]
    assert out.type.shape == (None,)
    value = _data((3, 4))
    for iv, jv in [([1], [0, 1, 3]), ([0, 2, 1], [3]), ([2, 0], [1, 1]), ([], [])]:
        iv, jv = np.array(iv, dtype="int64"), np.array(jv, dtype="int64")
        np.testing.assert_array_equal(out.eval({x: value, i: iv, j: jv}), value[iv, jv])
        assert _infer_shape_value(out, [x, i, j], [value, iv, jv]) == value[iv, jv].shape


@pytest.mark.parametrize(
    ("build", "np_index", "static"),
    [
        (lambda x, b1, b2: x[b2], lambda b1, b2: b2, (None, 5)),
        (lambda x, b1, b2: x[:, :, b1], lambda b1, b2: (slice(None), slice(None), b1), (3, 4, None)),
        (lambda x, b1, b2: x[1, b2[0]], lambda b1, b2: (1, b2[0]), (None, 5)),
        (lambda x, b1, b2: x[b2, [4]], lambda b1, b2: (b2, [4]), (None,)),
        (lambda x, b1, b2: x[..., b1][::-1], lambda b1, b2: (E, b1), (3, 4, None)),
    ],
)
def test_symbolic_masks(build, np_index, static):
    x = gw.tensor3("x", shape=(3, 4, 5))
    b1 = gw.vector("b1", "bool")
    b2 = gw.matrix("b2", "bool")
    out = build(x, b1, b2)
    assert out.type.shape == static
    value = _data((3, 4, 5))
    rng = np.random.default_rng(0)
    f = gw.function([x, b1, b2], out)
    for _ in range(3):
        bv1, bv2 = rng.random(5) < 0.5, rng.random((3, 4)) < 0.5
        expected = value[np_index(bv1, bv2)]
        if out.owner.inputs[0].owner is not None:  # x[..., b1][::-1]
            expected = expected[::-1]
        np.testing.assert_array_equal(f(value, bv1, bv2), expected)
        assert _infer_shape_value(out, [x, b1, b2], [value, bv1, bv2]) == expected.shape


@pytest.mark.parametrize(
    ("shape", "index", "static"),
    [
        ((5,), slice(1, 3), (2,)),
        ((5,), slice(None, None, -1), (5,)),
        ((None,), slice(None, None, -1), (None,)),
        ((None,), slice(None), (None,)),
        ((None,), slice(1, 3), (None,)),
        ((None,), slice(None, None, 2), (None,)),
        ((4,), slice(None, None, 2), (2,)),
        ((5, None), (slice(1, 3), 0), (2,)),
        ((5, None), (E, None), (5, None, 1)),
        ((None, 4), (None, E, 1), (1, None)),
        ((5,), [0, 1, 1], (3,)),
        ((None,), [0, 1, 1], (3,)),
        ((None, 3), (np.zeros((2, 1), int), [0, 1, 2]), (2, 3)),
        ((None, 3), (slice(None), [[1]], None), (None, 1, 1, 1)),
        ((5, 3), np.ones((5, 3), bool), (15,)),
        ((None, 3), np.array([[True, False, True]] * 2), (4,)),
    ],
)
def test_static_shapes(shape, index, static):
    assert gw.tensor("x", shape=shape)[index].type.shape == static


def test_static_shapes_of_symbolic_indices():
    x = gw.matrix("x", shape=(5, 6))
    assert x[gw.vector("i", "int64", shape=(3,))].type.shape == (3, 6)
    assert x[gw.matrix("i", "int64", shape=(3, 1)), gw.vector("j", "int64", shape=(4,))].type.shape == (3, 4)
    assert x[gw.vector("i", "int64")].type.shape == (None, 6)
    assert x[gw.matrix("b", "bool")].type.shape == (None,)
    assert x[gw.scalar("i", "int64")].type.shape == (6,)
    m = gw.matrix("m", shape=(2, None))
    n0 = gw.shape_of(m)[0]  # not a constant, but its value is known statically
    assert int(static_value(n0)) == 2
    assert static_value(gw.shape_of(m)[1]) is None
    assert x[:n0, n0:].type.shape == (2, 4)
    assert x[n0].type.shape == (6,)


def test_static_value_folds_constants():
    c = gw.constant(np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(static_value(c[:, ::-1]), np.arange(6).reshape(2, 3)[:, ::-1])
    assert int(static_value(gw.shape_of(gw.matrix("m", shape=(4, 7)))[-1])) == 7
    assert static_value(c[gw.scalar("i", "int64")]) is None
    assert static_value(gw.vector("v")[0]) is None
    vec = make_vector([gw.scalar("n", "int64"), 3])
    assert int(static_value(vec[1])) == 3
    assert static_value(vec[0]) is None


def test_hash_consing():
    x = gw.matrix("x")
    i = gw.scalar("i", "int64")
    assert x[1:3] is x[1:3]
    assert x[i, ::-1] is x[i, ::-1]
    assert x[[0, 2]] is x[[0, 2]]
    assert x[1] is x[1, :] is x[1, ...] is getitem(x, (1,))
    assert x[None, 1] is not x[1, None]
    assert x[1:3] is not x[1:4]
    assert Subtensor((("int",),)) == Subtensor((("int",),))
    assert hash(Subtensor((("int",),))) == hash(Subtensor((("int",),)))
    assert x[1:3].owner.op == x[2:5].owner.op  # the values are inputs, the op holds only the structure
    y = gw.vector("y")
    assert gw.set_subtensor(x[0], y) is gw.set_subtensor(x[0], y)
    assert gw.inc_subtensor(x[0], y) is not gw.set_subtensor(x[0], y)


@pytest.mark.parametrize(
    ("build", "text", "short"),
    [
        (lambda x, i, y: x[1:3, ::-1], "x[1:3, ::-1]", "subtensor{start:stop, ::step}"),
        (lambda x, i, y: x[i], "x[i]", "subtensor{i}"),
        (lambda x, i, y: x[[0, 2]], "x[[0, 2]]", "subtensor{idx}"),
        (lambda x, i, y: x[:, i + 1], "x[:, i + 1]", "subtensor{:, i}"),
        (lambda x, i, y: x[..., None], "x[:, :, None]", "subtensor{:, :, None}"),
        (lambda x, i, y: x[:], "x[:]", "subtensor{:}"),
        (lambda x, i, y: (x + 1)[0], "(x + 1)[0]", "subtensor{i}"),
        (lambda x, i, y: x[i:][0], "x[i:][0]", "subtensor{i}"),
        (lambda x, i, y: gw.set_subtensor(x[1:3], y), "set_subtensor(x[1:3], y)", "set_subtensor{start:stop}"),
        (lambda x, i, y: gw.inc_subtensor(x[i, [0, 0]], 2.0), "inc_subtensor(x[i, [0, 0]], 2)",
         "inc_subtensor{i, idx}"),
    ],
)
def test_printing(build, text, short):
    x, i, y = gw.matrix("x"), gw.scalar("i", "int64"), gw.vector("y")
    out = build(x, i, y)
    assert str(out) == text
    assert out.owner.op.short_name() == short


def test_zero_d_printing():
    s = gw.scalar("s")
    assert str(s[...]) == "s[...]"
    assert str(s[None]) == "s[None]"


# --- set_subtensor / inc_subtensor ------------------------------------------------------------------------
UPDATE_CASES = [
    ((5,), slice(1, 3), 7.0),
    ((5,), slice(None, None, -1), np.arange(5.0)),
    ((5,), slice(None, None, 2), np.array([1.0, 2.0, 3.0])),
    ((3, 4), (slice(None), 1), np.array([1.0, 2.0, 3.0])),
    ((3, 4), 1, np.ones(4)),
    ((3, 4), -1, np.arange(4.0)),
    ((3, 4), (E, None, slice(1, 3)), np.array([[5.0, 6.0]])),
    ((5,), [0, 2, 0], np.array([1.0, 2.0, 3.0])),  # duplicates: set keeps the last write, inc accumulates
    ((3, 4), ([0, 0, 2], [1, 1, 3]), 1.0),
    ((3, 4), (slice(None), [3, 3]), np.array([1.0, 10.0])),
    ((3, 4), MASK_34, 5.0),
    ((3, 4), (slice(None), [True, False, True, False]), np.array([[1.0], [2.0], [3.0]])),
    ((2, 3, 4), (slice(None), [0, 2, 0], 1), np.ones((2, 3))),
    ((2, 3, 4), ([1, 1], slice(None), [0, 0]), np.arange(6.0).reshape(2, 3)),
    ((), (), 3.0),
]


@pytest.mark.parametrize("mode", ["set", "inc"])
@pytest.mark.parametrize(("shape", "index", "y"), UPDATE_CASES, ids=_ids([(s, i) for s, i, _ in UPDATE_CASES]))
def test_updates_match_numpy(mode, shape, index, y):
    for static in (shape, (None,) * len(shape)):
        x = gw.tensor("x", shape=static)
        fn = gw.set_subtensor if mode == "set" else gw.inc_subtensor
        out = fn(x[index], y)
        assert out.type == x.type
        value = _data(shape)
        original = value.copy()
        expected = value.copy()
        if mode == "set":
            expected[index] = y
        else:
            np.add.at(expected, index, y)
        np.testing.assert_array_equal(gw.function([x], out)(value), expected)
        np.testing.assert_array_equal(value, original)  # x's buffer is not touched
        node = out.owner
        assert node.op.infer_shape(node, [shape_tuple(v) for v in node.inputs])[0] == shape_tuple(x)


def test_duplicates_explicitly():
    x = gw.vector("x")
    idx = gw.vector("idx", "int64")
    y = gw.vector("y")
    inc = gw.function([x, idx, y], gw.inc_subtensor(x[idx], y))
    put = gw.function([x, idx, y], gw.set_subtensor(x[idx], y))
    value = np.zeros(4)
    np.testing.assert_array_equal(inc(value, np.array([1, 1, 1, 3]), np.array([1.0, 2.0, 3.0, 4.0])),
                                  [0.0, 6.0, 0.0, 4.0])
    np.testing.assert_array_equal(put(value, np.array([1, 1, 1, 3]), np.array([1.0, 2.0, 3.0, 4.0])),
                                  [0.0, 3.0, 0.0, 4.0])
    np.testing.assert_array_equal(value, np.zeros(4))


def test_updates_with_symbolic_values_and_chaining():
    x = gw.matrix("x")
    y = gw.vector("y")
    i = gw.scalar("i", "int64")
    z = gw.set_subtensor(x[i], y)
    z2 = gw.inc_subtensor(z[:, -1], 10.0)
    value = np.zeros((3, 2))
    result = gw.function([x, y, i], z2)(value, np.array([1.0, 2.0]), 1)
    np.testing.assert_array_equal(result, [[0.0, 10.0], [1.0, 12.0], [0.0, 10.0]])
    np.testing.assert_array_equal(value, np.zeros((3, 2)))


def test_constant_x_is_not_mutated():
    c = gw.constant(np.arange(4.0))
    out = gw.inc_subtensor(c[[0, 0]], 1.0)
    np.testing.assert_array_equal(out.eval(), [2.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out.eval(), [2.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(c.data, np.arange(4.0))


def test_update_dtypes():
    xf = gw.vector("xf", "float32")
    assert gw.set_subtensor(xf[0], 1.5).dtype == "float32"
    assert gw.set_subtensor(xf[0], 2).dtype == "float32"
    xd = gw.vector("xd")
    yi = gw.vector("yi", "int32")
    out = gw.inc_subtensor(xd[:2], yi)
    assert out.dtype == "float64"
    np.testing.assert_array_equal(out.eval({xd: np.zeros(3), yi: np.array([1, 2], "int32")}), [1.0, 2.0, 0.0])
    xi = gw.vector("xi", "int64")
    assert gw.set_subtensor(xi[0], np.int8(3)).dtype == "int64"
    with pytest.raises(TypeError, match=r"dtype float64 cannot be cast safely to the dtype int64"):
        gw.set_subtensor(xi[0], 1.5)
    with pytest.raises(TypeError, match=r"dtype float64 cannot be cast safely to the dtype float32"):
        gw.set_subtensor(xf[0], gw.scalar("s"))


# --- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "index", "match"),
    [
        ((5,), 5, r"index 5 is out of bounds for dimension 0 \(length 5\).*\(5,\)"),
        ((5,), -6, r"index -6 is out of bounds for dimension 0 \(length 5\)"),
        ((3, 4), (0, 4), r"index 4 is out of bounds for dimension 1 \(length 4\).*\(3, 4\)"),
        ((3, 4), (slice(None), [0, 7]), r"index 7 is out of bounds for dimension 1 \(length 4\)"),
        ((3, 4), ([0, 1], 9), r"index 9 is out of bounds for dimension 1"),
        ((3, 4), (0, 0, 0), r"too many indices .* ndim 2 but 3 dimension\(s\) were indexed"),
        ((3, 4), (E, 0, np.ones((4, 2), bool)), r"too many indices .* ndim 2"),
        ((), 0, r"too many indices .* ndim 0"),
        ((3, 4), (E, E), r"single ellipsis"),
        ((3, 4), 1.5, r"valid indices, got 1\.5"),
        ((3, 4), "a", r"valid indices"),
        ((3, 4), np.ones((3, 3), bool), r"boolean mask of static shape \(3, 3\) does not match dimension 1 "
                                        r"\(length 4\)"),
        ((3, 4), slice(None, None, 0), r"slice step cannot be zero"),
        ((3, 4), ([0, 1], [0, 1, 2]), r"cannot be broadcast"),
    ],
)
def test_construction_errors(shape, index, match):
    x = gw.tensor("x", shape=shape)
    with pytest.raises(IndexingError, match=match):
        x[index]


def test_errors_are_graph_and_index_errors():
    x = gw.vector("x", shape=(2,))
    with pytest.raises(GraphError):
        x[2]
    with pytest.raises(IndexError):
        x[2]
    x[-2]  # in range
    gw.vector("u")[100]  # unknown length: checked at run time


def test_symbolic_index_type_errors():
    x = gw.matrix("x")
    with pytest.raises(IndexingError, match=r"integer index must be a 0-d integer tensor, got f of type float64"):
        x[gw.scalar("f")]
    with pytest.raises(IndexingError, match=r"index array must be a 1-d integer tensor"):
        x[gw.vector("v")]
    with pytest.raises(IndexingError, match=r"slice bound must be a 0-d integer tensor"):
        x[: gw.vector("n", "int64")]
    with pytest.raises(IndexingError, match=r"the index covers 1 dimension\(s\) but .* has ndim 2"):
        Subtensor((("int",),))(x, 0)
    with pytest.raises(IndexingError, match=r"needs 1 input\(s\), got 0"):
        Subtensor((("int",), ("slice", False, False, False)))(x)


def test_runtime_out_of_range_comes_from_numpy():
    x = gw.vector("x")
    i = gw.scalar("i", "int64")
    f = gw.function([x, i], x[i])
    assert float(f(np.arange(3.0), -3)) == 0.0
    with pytest.raises(Exception, match=r"out of bounds"):
        f(np.arange(3.0), 3)


def test_update_errors():
    x = gw.vector("x", shape=(5,))
    with pytest.raises(GraphError, match=r"static shape \(3,\) cannot be broadcast to the indexed region of static "
                                         r"shape \(2,\)"):
        gw.set_subtensor(x[1:3], np.ones(3))
    with pytest.raises(GraphError, match=r"static shape \(2, 2\) cannot be broadcast .* \(2,\)"):
        gw.inc_subtensor(x[1:3], np.ones((2, 2)))
    gw.set_subtensor(x[1:3], np.ones((2,)))
    gw.set_subtensor(x[1:3], gw.vector("y"))  # unknown length: checked by NumPy at run time
    with pytest.raises(GraphError, match=r"must be an indexing expression such as x\[1:3\], got x"):
        gw.set_subtensor(x, 1.0)
    with pytest.raises(GraphError, match=r"inc_subtensor: the first argument must be an indexing expression"):
        gw.inc_subtensor(gw.exp(x), 1.0)
    with pytest.raises(ValueError, match=r"mode must be 'set' or 'inc'"):
        IncSubtensor((), "add")


def test_public_names():
    for name in ("getitem", "set_subtensor", "inc_subtensor", "IndexingError"):
        assert hasattr(gw, name)
    assert gw.getitem(gw.vector("v"), 0).owner.op == Subtensor((("int",),))
