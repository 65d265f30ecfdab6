"""uint16/32/64 and complex64/128: promotion as NumPy 2, input conversion, refusals by name, gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph.basic import InputError
from graphwright.tensor.grad_util import NotDifferentiableError
from graphwright.tensor.type import DTYPES, TensorType, promote_dtypes

NEW = ("uint16", "uint32", "uint64", "complex64", "complex128")


@pytest.mark.parametrize("left", NEW)
def test_promotion_is_numpy_2(left: str) -> None:
    for right in DTYPES:
        want = np.result_type(left, right).name
        assert promote_dtypes(left, right) == want, (left, right)
        got = (gw.vector("a", left) + gw.vector("b", right)).dtype
        assert got == want, f"{left} + {right}: {got}, NumPy gives {want}"


def test_every_new_dtype_round_trips_through_a_function() -> None:
    for dtype in NEW:
        x = gw.vector("x", dtype)
        value = np.array([1, 2, 250], dtype=dtype)
        got = gw.function([x], x * 2, backend="numpy")(value)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, value * np.array(2, dtype))


def test_python_values_convert_when_they_fit() -> None:
    np.testing.assert_array_equal(TensorType("uint64", (2,)).filter([1, 2]), [1, 2])
    assert TensorType("uint64", ()).filter(2**64 - 1) == 2**64 - 1
    assert TensorType("complex64", (2,)).filter([1.5, 2]).dtype == np.complex64
    with pytest.raises(InputError, match="expects dtype uint32"):
        TensorType("uint32", (1,)).filter([-1])
    with pytest.raises(InputError, match="expects dtype float64"):
        TensorType("float64", (1,)).filter(np.array([1j]))


def test_sums_of_small_unsigned_integers_are_uint64_as_in_numpy() -> None:
    for dtype in ("uint8", "uint16", "uint32"):
        x = gw.vector("x", dtype)
        value = np.array([np.iinfo(dtype).max] * 3, dtype=dtype)
        got = gw.function([x], [gw.sum(x), gw.prod(x)], backend="numpy")(value)
        assert [g.dtype for g in got] == [np.sum(value).dtype, np.prod(value).dtype] == [np.uint64] * 2
        np.testing.assert_array_equal(got[0], np.sum(value))


@pytest.mark.parametrize("build, message", [
    (lambda z: z < z, "lt does not accept complex inputs"),
    (lambda z: gw.maximum(z, z), "maximum does not accept complex inputs"),
    (lambda z: gw.cast(z, "float64"), "would drop the imaginary part"),
    (lambda z: gw.max(z), "max does not accept complex inputs"),
    (lambda z: gw.argmax(z), "argmax does not accept complex inputs"),
    (lambda z: gw.softmax(z), "softmax does not accept complex inputs"),
    (lambda z: gw.logsumexp(z), "logsumexp does not accept complex inputs"),
    (lambda z: gw.sin(z), "sin does not accept complex inputs"),
])
def test_complex_refusals_name_the_op_and_dtype(build, message) -> None:
    z = gw.vector("z", "complex64")
    with pytest.raises(TypeError, match=message) as info:
        build(z)
    assert "complex64" in str(info.value)


def test_abs_of_complex_is_real_and_var_is_the_mean_squared_modulus() -> None:
    z = gw.vector("z", "complex128")
    value = np.array([1 + 2j, -3j, 0.5])
    f = gw.function([z], [gw.abs(z), gw.var(z), gw.mean(z)], backend="numpy")
    got = f(value)
    assert [g.dtype.name for g in got] == ["float64", "float64", "complex128"]
    np.testing.assert_allclose(got[0], np.abs(value))
    np.testing.assert_allclose(got[1], np.var(value))
    np.testing.assert_allclose(got[2], np.mean(value))


def test_an_imaginary_constant_is_not_zero_to_the_rewrites() -> None:
    x = gw.vector("x")
    got = gw.function([x], [x * 1j, x * 1j + 0j, (x + 1j) * 0], backend="numpy")(np.array([2.0]))
    np.testing.assert_array_equal(got[0], [2j])
    np.testing.assert_array_equal(got[1], [2j])
    np.testing.assert_array_equal(got[2], [0j])


def test_gradients_refuse_complex_values_on_the_path() -> None:
    y = gw.scalar("y")
    path = gw.abs(gw.exp(gw.cast(y, "complex128") * 1j))
    with pytest.raises(NotDifferentiableError, match="abs takes .* of dtype complex128"):
        gw.grad(path, y)
    with pytest.raises(TypeError, match="complex costs are not supported"):
        gw.grad(gw.sum(gw.cast(y, "complex64")), y)
    # a complex value that does not depend on y does not stop the gradient
    c = gw.abs(gw.exp(gw.vector("w", "complex64")))
    assert gw.grad(gw.sum(c) * y, y).dtype == "float64"


def test_unsigned_integers_carry_no_gradient() -> None:
    with pytest.raises(TypeError, match="only float variables have gradients"):
        gw.grad(gw.sum(gw.cast(gw.vector("u", "uint32"), "float64")), gw.vector("u", "uint32"))


def test_torch_refuses_wide_unsigned_nodes_by_name() -> None:
    pytest.importorskip("torch")
    for dtype, build in itertools.product(("uint16", "uint32", "uint64"), (lambda u: u + u, lambda u: u // 3)):
        u = gw.vector("u", dtype)
        with pytest.raises(gw.UnsupportedOpError, match=f"torch has no kernels for dtype {dtype}"):
            gw.function([u], build(u), backend="torch")
