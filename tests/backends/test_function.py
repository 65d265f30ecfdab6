"""gw.function on the NumPy reference backend: calls, outputs, input validation and runtime errors."""

import numpy as np
import pytest

import graphwright as gw
from graphwright import GraphRuntimeError, InputError


def test_issue_example():
    x = gw.vector("x")
    A = gw.matrix("A", shape=(3, None))
    y = gw.log(1 + gw.exp(A @ x)).sum()
    f = gw.function([A, x], y)
    a, v = np.ones((3, 4)), np.ones(4)
    expected = np.log(1 + np.exp(a @ v)).sum()
    np.testing.assert_allclose(f(a, v), expected)
    np.testing.assert_allclose(y.eval({A: a, x: v}), expected)
    assert isinstance(f(a, v), np.ndarray) and f(a, v).shape == ()


def test_multiple_outputs_inputs_and_constants_as_outputs():
    x = gw.vector("x")
    c = gw.constant([1.0, 2.0])
    f = gw.function([x], [x * 2, x, c])
    data = np.array([1.0, 3.0])
    doubled, same, const = f(data)
    np.testing.assert_array_equal(doubled, [2.0, 6.0])
    np.testing.assert_array_equal(same, data)
    assert same is not data  # outputs never alias the caller's input
    np.testing.assert_array_equal(const, [1.0, 2.0])
    const[0] = 9  # a writable copy, the constant is untouched
    assert c.data[0] == 1.0
    assert isinstance(gw.function([x], [x * 2]).__call__(data), list)


def test_keywords():
    x, y = gw.scalar("x"), gw.scalar("y")
    f = gw.function([x, y], x - y)
    assert f(y=1.0, x=3.0) == 2.0
    assert f(3.0, y=1.0) == 2.0
    with pytest.raises(TypeError, match="unknown keyword argument 'z'; the named inputs are: x, y"):
        f(x=1.0, z=2.0)
    with pytest.raises(TypeError, match=r"missing value\(s\) for input\(s\): y"):
        f(x=1.0)
    with pytest.raises(TypeError, match="given twice"):
        f(1.0, x=2.0)
    with pytest.raises(TypeError, match=r"takes 2 input\(s\) \(x, y\), got 1"):
        f(1.0)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.ones(3, dtype="float32"), None),  # float32 casts safely to float64
        (np.ones((3, 1)), r"expects 1 dimension\(s\) \(float64\[\?\]\), got an array of shape \(3, 1\)"),
        ([1, 2, 3], None),  # Python lists convert
        ("abc", "expects dtype float64, got str"),
    ],
)
def test_input_validation_messages(value, message):
    x = gw.vector("x")
    f = gw.function([x], x + 1)
    if message is None:
        np.testing.assert_allclose(f(value), np.asarray(value, dtype=float) + 1)
    else:
        with pytest.raises(InputError, match=r"input 0 \(x\)"):
            f(value)
        with pytest.raises(InputError, match=message):
            f(value)


def test_unsafe_cast_is_refused():
    n = gw.vector("n", dtype="int64")
    with pytest.raises(InputError, match=r"input 0 \(n\) expects dtype int64, got an array of dtype float64 that "
                                         "does not cast safely"):
        gw.function([n], n + 1)(np.array([1.5]))


def test_static_shape_is_checked():
    A = gw.matrix("A", shape=(3, None))
    f = gw.function([A], A * 2)
    with pytest.raises(InputError, match=r"expects shape float64\[3,\?\], got an array of shape \(2, 2\) "
                                         r"\(dimension 0 must have length 3\)"):
        f(np.ones((2, 2)))


def test_float32_input_refuses_float64_arrays_but_takes_python_floats():
    x = gw.vector("x", dtype="float32")
    f = gw.function([x], x * 2)
    assert f([1.5]).dtype == np.float32
    with pytest.raises(InputError, match="float32, got an array of dtype float64"):
        f(np.ones(2))


def test_trust_input_skips_checks():
    x = gw.vector("x")
    f = gw.function([x], gw.exp(x), trust_input=True)
    assert "_coerce" not in f.source
    np.testing.assert_allclose(f(np.zeros(2)), [1.0, 1.0])
    assert "_coerce" in gw.function([x], gw.exp(x)).source


def test_runtime_errors_name_the_op_and_shapes():
    x, y = gw.vector("x"), gw.vector("y")
    f = gw.function([x, y], x + y)
    with pytest.raises(GraphRuntimeError, match=r"add failed on the numpy backend with inputs "
                                                r"float64\[3\], float64\[4\]"):
        f(np.ones(3), np.ones(4))


def test_undeclared_broadcast_is_refused_at_runtime():
    x, y = gw.vector("x"), gw.vector("y")
    f = gw.function([x, y], x * y)
    with pytest.raises(GraphRuntimeError, match="would broadcast dimension 0"):
        f(np.ones(3), np.ones(1))
    row = gw.vector("r", shape=(1,))
    np.testing.assert_allclose(gw.function([x, row], x * row)(np.ones(3), [2.0]), [2.0, 2.0, 2.0])


def test_bad_inputs_to_function():
    x = gw.vector("x")
    with pytest.raises(gw.GraphError, match="must be a free variable"):
        gw.function([x + 1], x)
    with pytest.raises(gw.GraphError, match=r"depend on input\(s\) y"):
        gw.function([x], x + gw.vector("y"))
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        gw.function([x], x, backend="cuda")


def test_source_is_shown_and_frees_intermediates():
    x = gw.vector("x")
    f = gw.function([x], gw.exp(gw.sin(x) + 1), rewrites=None)
    assert f.source.startswith("def graphwright_fn(i0):")
    assert "del v0_0" in f.source
    assert "3 nodes" in repr(f)


def test_eval_caches_and_validates():
    x = gw.vector("x")
    y = x * 3
    assert y.eval({x: [1.0]})[0] == 3.0
    assert y.eval({x: [2.0]})[0] == 6.0
    with pytest.raises(TypeError, match="eval\\(\\) keys must be input variables"):
        y.eval({"x": [1.0]})
    with pytest.raises(gw.GraphError, match="cannot evaluate"):
        y.eval({})
    assert gw.constant(2.0).eval() == 2.0


def test_exp_of_int8_gives_float32_like_the_static_type():
    i = gw.vector("i", dtype="int8")
    out = gw.function([i], gw.exp(i))(np.array([1, 2], dtype="int8"))
    assert out.dtype == np.float32


def test_alloc_broadcasts_only_static_length_one():
    v = gw.vector("v")
    f = gw.function([v], gw.alloc(v, (3, 4)), rewrites=None)
    assert f(np.ones(4)).shape == (3, 4)
    with pytest.raises(gw.GraphRuntimeError, match="does not declare that dimension of length 1"):
        f(np.ones(1))
    w = gw.tensor("w", shape=(1,))  # a declared length 1 broadcasts
    assert gw.function([w], gw.alloc(w, (3, 4)), rewrites=None)(np.ones(1)).shape == (3, 4)


def test_inc_subtensor_broadcasts_only_static_length_one():
    x, y = gw.vector("x"), gw.vector("y")
    f = gw.function([x, y], gw.inc_subtensor(x[1:4], y), rewrites=None)
    np.testing.assert_array_equal(f(np.zeros(5), np.ones(3)), [0, 1, 1, 1, 0])
    with pytest.raises(gw.GraphRuntimeError, match="does not declare that dimension of length 1"):
        f(np.zeros(5), np.ones(1))
    m, r = gw.matrix("m"), gw.tensor("r", shape=(1, None))
    got = gw.function([m, r], gw.set_subtensor(m[:2], r), rewrites=None)(np.zeros((3, 2)), np.ones((1, 2)))
    np.testing.assert_array_equal(got, [[1, 1], [1, 1], [0, 0]])
