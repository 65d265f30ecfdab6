"""The Numba backend: every case of the op table against the NumPy reference, the whole-graph njit function,
in-place kernels, refusals and the on-disk kernel cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

import graphwright as gw  # noqa: E402
from graphwright.backends.numba_backend import impl_for  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tensor"))
from test_op_table import ALL_CASES, TOLERANCES, Case, _as_list, _build_inputs, _missing  # noqa: E402

# Cases the Numba backend refuses at compile time (UnsupportedOpError), with the reason. Keep it short.
REFUSED: dict[str, str] = {}

PER_KERNEL = {"one_function": False}  # the table compiles node kernels only (cached on disk, shared)


def _reference(case: Case):
    symbols, values = _build_inputs(case, "static")
    outs = _as_list(case.build(*symbols))
    with np.errstate(all="ignore"):
        want = _as_list(gw.function(symbols, outs, backend="numpy")(*values))
    return symbols, values, outs, want


_WIDE = ("uint16", "uint32", "uint64", "complex64", "complex128")


def _cases(per_stem: int = 4) -> list:
    """Every case with GW_FULL_BACKEND_TABLES=1; by default a spread of up to four cases per op stem (the id
    before the first '-': every op, every scalar row, several dtypes and shapes each), because cold Numba
    compiles cost about half a second per distinct kernel."""
    usable = [c for c in ALL_CASES if "static" in c.modes and not _missing(c, "static")]
    if not os.environ.get("GW_FULL_BACKEND_TABLES"):
        stems: dict[str, list[Case]] = {}
        for c in usable:
            stems.setdefault(c.id.split("-")[0], []).append(c)
        sample = [group[i] for group in stems.values()
                  for i in sorted({0, len(group) // 3, 2 * len(group) // 3, len(group) - 1})[:per_stem]]
        # and a spread of the wide unsigned and complex cases (each is one kernel to compile)
        wide = [c for c in usable if c not in sample and any(s.dtype in _WIDE for s in c.inputs)]
        usable = sample + wide[::max(1, len(wide) // (6 * per_stem))]
    return [pytest.param(c, id=c.id) for c in usable]


def assert_matches(got: list, want: list, where: str) -> None:
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        g, w = np.asarray(g), np.asarray(w)
        assert isinstance(g, np.ndarray)
        assert (g.dtype, g.shape) == (w.dtype, w.shape), f"{where} output {k}: {g.dtype}{g.shape} vs {w.dtype}{w.shape}"
        if g.dtype.kind in "fc":
            rtol, atol = TOLERANCES[g.dtype.name]
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(g, w, err_msg=where)


@pytest.mark.parametrize("case", _cases())
def test_op_table_case_on_numba(case: Case) -> None:
    try:
        symbols, values, outs, want = _reference(case)
    except Exception:  # noqa: BLE001 - a case the reference refuses (an error case): not the backend's business
        pytest.skip("the reference raises")
    originals = [v.copy() for v in values]
    if case.id in REFUSED:
        with pytest.raises(gw.UnsupportedOpError):
            gw.function(symbols, outs, backend="numba", backend_options=PER_KERNEL)
        return
    f = gw.function(symbols, outs, backend="numba", backend_options=PER_KERNEL)
    with np.errstate(all="ignore"):
        got = _as_list(f(*values))
    assert_matches(got, want, case.id)
    for v, o in zip(values, originals, strict=True):
        np.testing.assert_array_equal(v, o, err_msg="the numba function modified its input")


@pytest.mark.parametrize("case", _cases(per_stem=1))
def test_op_table_case_as_one_inlined_function(case: Case) -> None:
    """The default mode: the node's kernel source inlined into one whole-graph njit function."""
    try:
        symbols, values, outs, want = _reference(case)
    except Exception:  # noqa: BLE001 - a case the reference refuses (an error case): not the backend's business
        pytest.skip("the reference raises")
    if case.id in REFUSED:
        pytest.skip("refused")
    f = gw.function(symbols, outs, backend="numba")
    with np.errstate(all="ignore"):
        got = _as_list(f(*values))
    assert_matches(got, want, case.id)


def test_refusals_are_real() -> None:
    assert set(REFUSED) <= {c.id for c in ALL_CASES}, "REFUSED names cases that no longer exist"


# ---------------------------------------------------------------------------------------------------------
# The whole graph as one njit function
# ---------------------------------------------------------------------------------------------------------


def _mlp():
    X, W1, W2 = gw.matrix("X"), gw.matrix("W1"), gw.matrix("W2")
    y = gw.vector("y", dtype="int64")
    h = gw.maximum(X @ W1, 0)
    logp = gw.log_softmax(h @ W2, axis=-1)
    loss = -gw.mean(logp[gw.arange(y.shape[0]), y])
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(8, 5)), rng.normal(size=(5, 6)) * 0.3, rng.normal(size=(6, 3)) * 0.3,
            rng.integers(0, 3, 8)]
    return [X, W1, W2, y], [loss, *gw.grad(loss, [W1, W2])], data


def test_one_njit_function_computes_an_mlp_loss_and_its_gradients():
    inputs, outputs, data = _mlp()
    want = gw.function(inputs, outputs, backend="numpy")(*data)
    f = gw.function(inputs, outputs, backend="numba")
    assert "def graphwright_body" in f.source and f.backend == "numba"
    assert_matches(f(*data), want, "mlp")
    fast = gw.function(inputs, outputs, backend="numba", trust_input=True)
    assert_matches(fast(*data), want, "mlp trust_input")


def test_the_default_backend_is_numba_and_falls_back_by_name():
    x = gw.vector("x")
    old = gw.config.backend
    gw.config.backend = None
    try:
        f = gw.function([x], gw.exp(x) + 1)
        assert f.backend == "numba"
    finally:
        gw.config.backend = old


def test_runtime_errors_name_the_backend():
    x, y = gw.vector("x"), gw.vector("y")
    f = gw.function([x, y], x * y, backend="numba")
    with pytest.raises(gw.GraphRuntimeError, match="numba"):
        f(np.ones(3), np.ones(4))
    with pytest.raises(gw.InputError):
        f(np.ones((2, 2)), np.ones(2))


def test_outputs_never_alias_inputs_and_in_place_kernels_write_intermediates():
    x = gw.vector("x")
    f = gw.function([x], [x, gw.exp(gw.cumsum(x))], backend="numba")
    value = np.array([0.0, 1.0])
    same, out = f(value)
    assert not np.shares_memory(same, value)
    np.testing.assert_allclose(out, np.exp(np.cumsum(value)))
    np.testing.assert_array_equal(value, [0.0, 1.0])
    assert f.memory_plan.in_place, str(f.memory_plan)


def test_an_op_without_kernel_is_refused_by_name(monkeypatch):
    from graphwright.backends import dispatch
    from graphwright.tensor.cumulative import CumOp

    dispatch.table("numba")  # the kernel modules are loaded: the entry is there to remove
    monkeypatch.delitem(dispatch._TABLE, ("numba", CumOp))
    x = gw.vector("x")
    with pytest.raises(gw.UnsupportedOpError, match="cumsum"):
        gw.function([x], gw.cumsum(x), backend="numba")
    old = gw.config.backend
    gw.config.backend = None
    try:
        with pytest.warns(gw.UnsupportedOpWarning, match="cumsum"):
            f = gw.function([x], gw.cumsum(x))
        assert f.backend == "numpy" and f.fallback is not None
    finally:
        gw.config.backend = old


def test_kernels_are_cached_on_disk_for_a_new_process(tmp_path):
    script = textwrap.dedent("""
        import numpy as np, graphwright as gw
        gw.config.cache_dir = {cache!r}
        gw.config.numba_aot = "off"  # this test is about the JIT disk cache; no background AOT build
        x = gw.matrix("x")
        f = gw.function([x], gw.softmax(gw.tanh(x) * 3.0, axis=-1), backend="numba")
        print(round(float(f(np.ones((2, 3))).sum()), 9))
    """).format(cache=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    files = sorted(p.name for p in (tmp_path / "numba").glob("gwk_*.py"))
    compiled = sorted(p.name for p in (tmp_path / "numba" / "__pycache__").glob("*.nbi"))
    assert files and compiled
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout == "2.0\n"
    assert sorted(p.name for p in (tmp_path / "numba").glob("gwk_*.py")) == files  # nothing new generated
    corrupt = tmp_path / "numba" / files[0]
    original = corrupt.read_text()
    corrupt.write_text("this is not python")
    third = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr  # the corrupt entry is discarded and rebuilt
    assert corrupt.read_text() == original
    gw.config.cache_dir, old = str(tmp_path), gw.config.cache_dir
    try:
        gw.clear_cache()
        assert not (tmp_path / "numba").exists()
    finally:
        gw.config.cache_dir = old


def test_impl_for_gives_one_kernel_per_distinct_node():
    x = gw.vector("x")
    a = impl_for((gw.exp(x)).owner)
    b = impl_for((gw.exp(gw.vector("z"))).owner)
    assert a is b  # same generated source: same compiled kernel


@pytest.mark.parametrize("index", ["rows_cols", "cols_rows_3d", "split_by_slice", "broadcast_one"])
def test_several_index_arrays_read_and_accumulate_natively(index):
    x = gw.tensor("x", shape=(None, None, None))
    i, j = gw.vector("i", dtype="int64"), gw.vector("j", dtype="int64")
    picks = {"rows_cols": lambda t: t[i, j], "cols_rows_3d": lambda t: t[:, i, j],
             "split_by_slice": lambda t: t[i, :, j], "broadcast_one": lambda t: t[i[:1], :, j]}[index]
    y = picks(x)
    g = gw.grad(gw.sum(gw.sin(y) * y), x)  # inc_subtensor with repeated positions
    s = gw.set_subtensor(picks(x), gw.zeros_like(y) + 7.0)
    values = [np.random.default_rng(2).normal(size=(3, 4, 5)), np.array([0, 2, 2, -1]), np.array([1, 1, 0, 3])]
    want = gw.function([x, i, j], [y, g, s], backend="numpy")(*values)
    f = gw.function([x, i, j], [y, g, s], backend="numba")
    kernels = [impl_for(node) for node in f.graph.toposort]
    assert kernels and not any(hasattr(k, "runs_in_python") for k in kernels), "expected native kernels"
    assert_matches(f(*values), want, index)
