"""Numba backend: products of operands in any memory layout (issue 14, item 14; its runtime errors:
test_runtime_error_messages.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("numba", reason="the numba backend needs the numba package (pip install numba)")

import graphwright as gw  # noqa: E402

LAYOUTS = ("step-columns", "reversed-both", "step-rows", "contiguous")  # the first three: neither C nor F


def _operand(shape: tuple, layout: str, dtype: str) -> np.ndarray:
    """An operand of ``shape``, a view of a twice larger array in the given layout."""
    big = [2 * s for s in shape]
    base = (np.arange(int(np.prod(big))) % 7 - 3).astype(dtype).reshape(big)
    corner = tuple(slice(0, s) for s in shape)
    if layout == "contiguous":
        return np.ascontiguousarray(base[corner])
    if len(shape) == 1:
        return (base[::-2] if layout == "reversed-both" else base[::2])[corner]
    views = {"step-columns": base[:, ::2], "reversed-both": base[::-1, ::-2], "step-rows": base[::2]}
    return views[layout][corner]


PRODUCTS = [  # (id, shape of a, shape of b, build)
    ("dot-mm", (4, 3), (3, 5), gw.dot),
    ("dot-mv", (4, 3), (3,), gw.dot),
    ("dot-vm", (3,), (3, 5), gw.dot),
    ("dot-vv", (3,), (3,), gw.dot),
    ("matmul-mv", (4, 3), (3,), lambda a, b: a @ b),
    ("tensordot", (4, 3), (3, 5), lambda a, b: gw.tensordot(a, b, axes=1)),
]


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("product", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_products_take_operands_of_any_layout(product, dtype) -> None:
    _, shape_a, shape_b, build = product
    a = gw.tensor("a", dtype=dtype, shape=(None,) * len(shape_a))
    b = gw.tensor("b", dtype=dtype, shape=(None,) * len(shape_b))
    out = build(a, b)
    f = gw.function([a, b], out, backend="numba")
    reference = gw.function([a, b], out, backend="numpy")
    for layout in LAYOUTS:
        va, vb = _operand(shape_a, layout, dtype), _operand(shape_b, layout, dtype)
        assert va.shape == shape_a and vb.shape == shape_b
        if layout != "contiguous" and va.ndim == 2:
            assert not va.flags.c_contiguous and not va.flags.f_contiguous
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(f(va, vb), reference(va, vb), rtol=1e-12, err_msg=layout)


def test_a_batched_matmul_of_strided_operands() -> None:
    a, b = gw.tensor("a", shape=(None, None, None)), gw.vector("b")
    f = gw.function([a, b], a @ b, backend="numba")
    stack = np.arange(60.0).reshape(3, 4, 5)[:, ::-1, ::2]
    vector = np.arange(8.0)[::-3]
    np.testing.assert_allclose(f(stack, vector), stack @ vector)


_x, _m, _i = gw.vector("x"), gw.matrix("m"), gw.scalar("i", dtype="int64")


@pytest.mark.parametrize("inputs, graph", [
    ([_x, _i], gw.inc_subtensor(_x[_i], 1.0)),
    ([_x, _i], gw.set_subtensor(_x[_i], 2.0)),
    ([_x], gw.inc_subtensor(_x[0], gw.sum(_x))),
    ([_m, _i], gw.inc_subtensor(_m[_i, 1], 3.0)),
    ([_m, _i], gw.inc_subtensor(_m[:, _i], gw.sum(_m))),
], ids=["inc-element", "set-element", "inc-element-by-a-sum", "inc-matrix-element", "inc-column-by-a-scalar"])
def test_updates_of_one_element_by_a_scalar_compile(inputs, graph) -> None:
    # the value added into one element is a 0-d array, which Numba does not add into a float
    values = [np.arange(4.0) if v.ndim == 1 else np.arange(12.0).reshape(3, 4) if v.ndim == 2 else np.int64(2)
              for v in inputs]
    want = gw.function(inputs, graph, backend="numpy")(*values)
    np.testing.assert_array_equal(gw.function(inputs, graph, backend="numba")(*values), want)
