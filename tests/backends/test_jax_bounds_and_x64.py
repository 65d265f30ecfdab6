"""The JAX backend checks integer indices as NumPy does (no clamped reads, no dropped writes) and keeps JAX's
x64 mode to its own calls (issue 14, items 3 and 5)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax", reason="the jax backend needs the jax package (pip install jax)")

import graphwright as gw  # noqa: E402
from graphwright.backends.codegen import GraphRuntimeError  # noqa: E402
from graphwright.transforms.vectorize import vectorize_graph  # noqa: E402

x, y = gw.vector("x"), gw.vector("y")
m = gw.matrix("m")
i = gw.scalar("i", dtype="int64")
idx = gw.vector("idx", dtype="int64")
small = gw.vector("small", dtype="int8")

# (id, inputs, output, good values (negative indices in range), bad values, the op and index the error names)
CASES = [
    ("read-array", [x, idx], lambda: x[idx], (np.arange(3.0), np.array([0, -3, 2])),
     (np.arange(3.0), np.array([0, 5])), "subtensor{idx}", "index 5 is out of bounds for axis 0 with size 3"),
    ("read-array-negative", [x, idx], lambda: x[idx], (np.arange(3.0), np.array([-1])),
     (np.arange(3.0), np.array([1, -4])), "subtensor{idx}", "index -4 is out of bounds for axis 0 with size 3"),
    ("read-scalar", [x, i], lambda: x[i], (np.arange(3.0), np.int64(-3)),
     (np.arange(3.0), np.int64(3)), "subtensor{i}", "index 3 is out of bounds for axis 0 with size 3"),
    ("read-matrix-axis1", [m, i], lambda: m[:, i], (np.ones((2, 4)), np.int64(-4)),
     (np.ones((2, 4)), np.int64(9)), "subtensor", "index 9 is out of bounds for axis 1 with size 4"),
    ("read-int8-index", [x, small], lambda: x[small], (np.arange(3.0), np.array([-3, 2], "int8")),
     (np.arange(3.0), np.array([-100], "int8")), "subtensor", "index -100 is out of bounds for axis 0"),
    ("set-array", [x, idx, y], lambda: gw.set_subtensor(x[idx], y),
     (np.zeros(3), np.array([-1, 0]), np.ones(2)), (np.zeros(3), np.array([0, 3]), np.ones(2)),
     "set_subtensor{idx}", "index 3 is out of bounds for axis 0 with size 3"),
    ("inc-array", [x, idx, y], lambda: gw.inc_subtensor(x[idx], y),
     (np.zeros(3), np.array([-1, -1]), np.ones(2)), (np.zeros(3), np.array([-5, 0]), np.ones(2)),
     "inc_subtensor{idx}", "index -5 is out of bounds for axis 0 with size 3"),
    ("set-scalar", [x, i], lambda: gw.set_subtensor(x[i], gw.constant(7.0)), (np.zeros(3), np.int64(-1)),
     (np.zeros(3), np.int64(3)), "set_subtensor{i}", "index 3 is out of bounds for axis 0 with size 3"),
    ("inc-scalar-computed", [x, i], lambda: gw.inc_subtensor(x[i + 1], gw.constant(7.0)),
     (np.zeros(3), np.int64(1)), (np.zeros(3), np.int64(2)), "inc_subtensor", "index 3 is out of bounds"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_indices_are_checked_like_numpy(case) -> None:
    _, inputs, build, good, bad, op, message = case
    out = build()
    f = gw.function(inputs, out, backend="jax")
    np.testing.assert_array_equal(f(*good), gw.function(inputs, out, backend="numpy")(*good))
    with pytest.raises(GraphRuntimeError, match=r"\(numpy\)|numpy") as reference:
        gw.function(inputs, out, backend="numpy")(*bad)
    assert message in str(reference.value)  # the message the test expects is NumPy's
    with pytest.raises(GraphRuntimeError) as error:
        f(*bad)
    text = str(error.value)
    assert text.startswith(op) and "on the jax backend" in text and message in text, text
    assert isinstance(error.value.__cause__, IndexError)
    np.testing.assert_array_equal(f(*good), gw.function(inputs, out, backend="numpy")(*good))  # still usable


def test_the_first_failing_index_in_graph_order_is_reported() -> None:
    f = gw.function([x, idx, i], [x[idx] * 2.0, x[i]], backend="jax")
    np.testing.assert_array_equal(f(np.arange(3.0), np.array([2]), np.int64(0))[0], [4.0])
    with pytest.raises(GraphRuntimeError, match="index 4 is out of bounds"):
        f(np.arange(3.0), np.array([0, 4, 9]), np.int64(0))
    with pytest.raises(GraphRuntimeError, match=r"subtensor\{i\}.*index -7 is out of bounds"):
        f(np.arange(3.0), np.array([0]), np.int64(-7))


def test_indices_inside_a_blockwise_are_checked() -> None:
    batched = gw.vector("batched", dtype="int64")
    out = vectorize_graph(gw.set_subtensor(x[i], gw.constant(1.0)), {i: batched})
    f = gw.function([x, batched], out, backend="jax", rewrites=None)
    assert "blockwise" in str(f.graph.toposort[0].op.short_name())
    np.testing.assert_array_equal(f(np.zeros(3), np.array([0, -1])), [[1.0, 0, 0], [0, 0, 1.0]])
    with pytest.raises(GraphRuntimeError, match="index 3 is out of bounds for axis 0 with size 3"):
        f(np.zeros(3), np.array([0, 3]))


def test_empty_index_arrays_need_no_check() -> None:
    f = gw.function([x, idx], x[idx], backend="jax")
    assert f(np.arange(3.0), np.zeros(0, "int64")).shape == (0,)


_USER_CODE = """
import os
import numpy as np
import jax
import jax.numpy as jnp
before = (jnp.ones(1).dtype, jax.config.jax_enable_x64, dict(os.environ))
import graphwright as gw
x = gw.vector("x")
i = gw.scalar("i", dtype="int64")
f = gw.function([x, i], gw.exp(x)[i] * 2.0, backend="jax")
assert f(np.zeros(3), 1).dtype == np.float64
g = gw.function([x], gw.arange(x.shape[0]), backend="jax")
assert g(np.zeros(3)).dtype == np.int64
after = (jnp.ones(1).dtype, jax.config.jax_enable_x64, dict(os.environ))
assert before == after, (before[:2], after[:2], set(before[2].items()) ^ set(after[2].items()))
assert str(jnp.arange(3).dtype) == "int32" and str(jax.jit(lambda v: v * 2.0)(np.ones(2)).dtype) == "float32"
print("unchanged")
"""


def test_compiling_and_calling_leaves_the_users_jax_and_environment_alone() -> None:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_USER_CODE)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0 and "unchanged" in done.stdout, done.stderr[-3000:]


def test_x64_scope_is_only_ours() -> None:
    import jax
    import jax.numpy as jnp

    from graphwright.backends.jax_backend.bounds import x64_scope

    if jax.config.jax_enable_x64:
        pytest.skip("something in this process enabled x64 for the whole process")
    f = gw.function([x], x * 2.0, backend="jax")
    assert f(np.ones(2)).dtype == np.float64
    assert jnp.ones(1).dtype == np.float32  # the process default (this test process never enables x64)
    with x64_scope():
        assert jnp.ones(1).dtype == np.float64
    assert jnp.ones(1).dtype == np.float32
