"""Every backend returns arrays of their own: an output listed twice, an output that is an input or a
constant, and views of inputs or of other outputs are copies, so writing into one output changes no other
output and no input (issue 14, item 4)."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

import graphwright as gw
from graphwright.backends.output_copies import output_copies

BACKENDS = [
    pytest.param("numpy", None, id="numpy"),
    pytest.param("numba", None, id="numba"),
    pytest.param("numba", {"one_function": False}, id="numba-per-kernel"),
    pytest.param("jax", None, id="jax"),
    pytest.param("torch", None, id="torch"),
]


def _outputs(x):
    y = gw.exp(x)
    total = y.sum()
    c = gw.constant(np.array([1.0, 2.0]))
    return [y, y, x, x, x.T, y.T, y[1:], y.reshape((-1,)), total, total, c, c, x[0], gw.zero_grad(y)]


def _check_independent(results: list, inputs: list) -> None:
    for (i, a), (j, b) in itertools.combinations(enumerate(results), 2):
        assert not np.shares_memory(a, b), f"outputs {i} and {j} share memory"
    for (i, a), v in itertools.product(enumerate(results), inputs):
        assert not np.shares_memory(a, v), f"output {i} shares memory with an input"
    for k, out in enumerate(results):
        assert isinstance(out, np.ndarray) and out.flags.writeable, f"output {k} is not a writeable array"
    before = [r.copy() for r in results]
    inputs_before = [v.copy() for v in inputs]
    for k, out in enumerate(results):
        out[...] = -7.0  # write into one output ...
        for j, (other, old) in enumerate(zip(results, before, strict=True)):
            if j != k:  # ... and no other output changes
                np.testing.assert_array_equal(other, old, err_msg=f"writing output {k} changed output {j}")
        before[k] = out.copy()
    for v, old in zip(inputs, inputs_before, strict=True):
        np.testing.assert_array_equal(v, old, err_msg="writing an output changed an input")


@pytest.mark.parametrize("rewrites", ["fast_run", None])
@pytest.mark.parametrize(("backend", "options"), BACKENDS)
def test_outputs_are_independent_arrays(backend: str, options, rewrites) -> None:
    if importlib.util.find_spec(backend) is None and backend != "numpy":
        pytest.skip(f"{backend} is not installed")
    x = gw.matrix("x")
    f = gw.function([x], _outputs(x), backend=backend, backend_options=options, rewrites=rewrites)
    data = np.arange(6.0).reshape(2, 3) / 10
    results = f(data)
    expected = gw.function([x], _outputs(x), backend="numpy")(data)
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    _check_independent(results, [data])
    single = gw.function([x], x, backend=backend, backend_options=options, rewrites=rewrites)
    alone = single(data)
    _check_independent([alone], [data])


def test_which_outputs_are_copied() -> None:
    x = gw.vector("x")
    y = gw.exp(x)
    z = y * 2.0
    flags = output_copies(gw.Graph([x], [y, z, y, x, y[::2], gw.constant(1.0), z]))
    assert flags == [False, False, True, True, True, True, True]


def test_deciding_the_copies_is_linear() -> None:
    """Many outputs, many repeats, many inputs: one pass (a quadratic version would take minutes here)."""
    inputs = [gw.scalar(f"s{k}") for k in range(20_000)]
    outs = inputs[::2] + [inputs[0] * 2.0] * 20_000
    flags = output_copies(gw.Graph(inputs, outs))
    assert flags.count(True) == 10_000 + 19_999
