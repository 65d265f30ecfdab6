"""The backends that compile a whole graph into one function (Numba, torch) fail with the NumPy backend's
message (the op, its input dtypes and shapes, NumPy's reason), labelled with their name; JAX's index checks
read the same (issue 14, items 3 and 14)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.codegen import GraphRuntimeError


def _needs(backend: str):
    return pytest.mark.skipif(importlib.util.find_spec(backend) is None, reason=f"needs {backend}")


x, y = gw.vector("x"), gw.vector("y")
m = gw.matrix("m")
i = gw.scalar("i", dtype="int64")
idx = gw.vector("idx", dtype="int64")
ERRORS = [  # (id, inputs, output, values)
    ("shapes-mismatch", [x, y], lambda: x + y, (np.ones(3), np.ones(4))),
    ("fused-shapes-mismatch", [x, y], lambda: gw.exp(x) * 2.0 + y, (np.ones(3), np.ones(4))),
    ("undeclared-broadcast", [x, y], lambda: x * y, (np.ones(3), np.ones(1))),
    ("reshape-size", [x], lambda: x.reshape((2, 3)), (np.ones(5),)),
    ("reshape-to-a-shape", [m, x], lambda: x.reshape(m.shape) + m, (np.ones((2, 3)), np.ones(5))),
    ("matmul-inner", [m, x], lambda: m @ x, (np.ones((2, 3)), np.ones(5))),
    ("index-out-of-range", [x, i], lambda: x[i] * 2.0, (np.ones(3), np.int64(3))),
    ("index-array-out-of-range", [x, idx], lambda: gw.exp(x)[idx], (np.ones(3), np.array([0, -4]))),
    ("set-out-of-range", [x, idx], lambda: gw.set_subtensor(x[idx], gw.constant(1.0)),
     (np.ones(3), np.array([3]))),
]
INDEX_ERRORS = [c for c in ERRORS if "range" in c[0]]
BACKENDS = [pytest.param(b, c, marks=_needs(b), id=f"{b}-{c[0]}")
            for b in ("numba", "torch") for c in ERRORS]
BACKENDS += [pytest.param("jax", c, marks=_needs("jax"), id=f"jax-{c[0]}") for c in INDEX_ERRORS]


@pytest.mark.parametrize(("backend", "case"), BACKENDS)
def test_runtime_errors_read_as_the_numpy_backends(backend: str, case) -> None:
    _, inputs, build, values = case
    out = build()
    with pytest.raises(GraphRuntimeError) as expected:
        gw.function(inputs, out, backend="numpy")(*values)
    with pytest.raises(GraphRuntimeError) as got:
        gw.function(inputs, out, backend=backend)(*values)
    want = str(expected.value).replace("on the numpy backend", f"on the {backend} backend")
    assert _same_message(str(got.value), want), f"{got.value}\n  vs the numpy backend's\n{want}"
    assert got.value.__cause__ is not None


def _same_message(got: str, want: str) -> bool:
    """Equal, except that an input the NumPy backend describes as ``?`` (a constant) may be described."""
    (got_head, got_rest), (want_head, want_rest) = (m.split(" (static types ", 1) for m in (got, want))
    got_inputs, want_inputs = got_head.split(", "), want_head.split(", ")
    if got_rest != want_rest or len(got_inputs) != len(want_inputs):
        return False
    pairs = zip(got_inputs, want_inputs, strict=True)
    return all(w in ("?", g) or w.endswith(" ?") and g.startswith(w[:-1]) for g, w in pairs)


@_needs("numba")
def test_an_input_the_body_may_overwrite_is_not_touched_by_the_explanation() -> None:
    f = gw.function([x, y], gw.exp(x) + y, backend="numba", mutable=[x])
    data = np.ones(3)
    with pytest.raises(GraphRuntimeError, match=r"inputs float64\[3\], float64\[4\]"):
        f(data, np.ones(4))
    np.testing.assert_array_equal(data, np.ones(3))


@_needs("numba")
def test_an_error_only_the_backend_finds_keeps_its_own_message() -> None:
    from graphwright.backends.explain import explained

    def body(a):
        raise ValueError("a failure of this backend only")

    with pytest.raises(ValueError, match="this backend only"):
        explained(body, gw.Graph([x], [x * 2.0]), "numba")(np.ones(2))
