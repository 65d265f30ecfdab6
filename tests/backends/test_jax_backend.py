"""The JAX backend against the NumPy reference backend: every case of the op table (tests/tensor/test_op_table.py),
in both modes, must give the same dtypes, shapes and values (within the table's tolerances), or be one of the
few refusals listed in REFUSED (which must raise UnsupportedOpError at compile time, and only they).

A jax.jit compilation costs tens of milliseconds, so the cases are checked in groups: one graph holding the
inputs and outputs of GROUP_SIZE cases, compiled once per backend, with XLA options that compile about four
times faster (FAST_COMPILE: less LLVM optimization, same arithmetic). When a group fails as a whole, its cases
are checked one by one, so the report names the failing cases.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax", reason="the jax backend needs the jax package (pip install jax)")

import graphwright as gw  # noqa: E402
from graphwright import InputError  # noqa: E402
from graphwright.backends.registry import UnsupportedOpError  # noqa: E402
from graphwright.graph import toposort  # noqa: E402
from graphwright.tensor.composite import Composite  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tensor"))
from test_op_table import ALL_CASES, PARAMS, TOLERANCES, Case, _as_list, _build_inputs, _missing  # noqa: E402

# Case id -> why the jax backend refuses it (in every mode). Keep this short.
REFUSED: dict[str, str] = {
    "getitem-mask-expr": "x[x > 0]: the output's length depends on the values of the float input x, which "
                         "jax.jit cannot trace",
}
GROUP_SIZE = 60
_FAST = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True,
         "xla_cpu_use_fusion_emitters": False}


def _fast_compile_options() -> dict:
    """_FAST where this XLA knows those options, else the defaults."""
    x = gw.scalar("x")
    try:
        gw.function([x], x + 1, backend="jax", backend_options={"compiler_options": _FAST})(1.0)
    except Exception:  # noqa: BLE001 - an XLA without these options
        return {}
    return _FAST


FAST_COMPILE = _fast_compile_options()


def _prepare(case: Case, mode: str):
    """(symbols, values, outputs) of a case, or None when the case cannot be built (an error case)."""
    if _missing(case, mode):
        return None
    symbols, values = _build_inputs(case, mode)
    try:
        outs = _as_list(case.build(*symbols))
    except Exception:  # noqa: BLE001 - cases that must fail to build are test_op_table's business
        return None
    return symbols, values, outs


def _compare(label: str, case: Case, got: list, expected: list) -> list[str]:
    problems = []
    for k, (g, e) in enumerate(zip(got, expected, strict=True)):
        where = f"{label} output {k}"
        if not isinstance(g, np.ndarray):
            problems.append(f"{where}: got {type(g).__name__}, not an ndarray")
        elif g.dtype != e.dtype or g.shape != e.shape:
            problems.append(f"{where}: {g.dtype}{list(g.shape)}, the numpy backend gives {e.dtype}{list(e.shape)}")
        elif g.dtype.kind in "fc":
            rtol, atol = TOLERANCES[g.dtype.name]
            if not np.allclose(g, e, rtol=case.rtol or rtol, atol=case.atol or atol, equal_nan=True):
                problems.append(f"{where}: values {g.ravel()[:6]} differ from {e.ravel()[:6]}")
        elif not np.array_equal(g, e):
            problems.append(f"{where}: values {g.ravel()[:6]} differ from {e.ravel()[:6]}")
    return problems


def _run(symbols, outs, values, backend: str) -> list:
    options = {"compiler_options": FAST_COMPILE} if backend == "jax" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the NumPy reference warns on nan/inf inputs
        return _as_list(gw.function(symbols, outs, backend=backend, backend_options=options)(*values))


def _check_one(case: Case, mode: str) -> list[str]:
    """Check one case alone; returns the problems found."""
    label = f"{case.id}-{mode}"
    prepared = _prepare(case, mode)
    if prepared is None:
        return []
    symbols, values, outs = prepared
    try:
        expected = _run(symbols, outs, values, "numpy")
    except Exception:  # noqa: BLE001 - the reference raises: jax must raise too (any error)
        try:
            _run(symbols, outs, values, "jax")
        except Exception:  # noqa: BLE001
            return []
        return [f"{label}: the numpy backend raises but the jax backend does not"]
    try:
        got = _run(symbols, outs, values, "jax")
    except UnsupportedOpError as exc:
        return [f"{label}: refused but not listed in REFUSED: {exc}"]
    except Exception as exc:  # noqa: BLE001
        return [f"{label}: the jax backend raises {type(exc).__name__}: {exc}"]
    return _compare(label, case, got, expected)


def _groups() -> list:
    params = [p for p in PARAMS if p.values[0].id not in REFUSED and not p.marks]
    chunks = [params[i:i + GROUP_SIZE] for i in range(0, len(params), GROUP_SIZE)]
    return [pytest.param([p.values for p in chunk], id=f"{chunk[0].id}..{chunk[-1].id}") for chunk in chunks]


@pytest.mark.parametrize("group", _groups())
def test_op_table_matches_numpy(group: list) -> None:
    """The cases of one group compiled together; on any failure each case is checked alone."""
    entries = [(case, mode, _prepare(case, mode)) for case, mode in group]
    entries = [e for e in entries if e[2] is not None]
    symbols = [s for _, _, (syms, _, _) in entries for s in syms]
    values = [v for _, _, (_, vals, _) in entries for v in vals]
    outs = [o for _, _, (_, _, os) in entries for o in os]
    originals = [v.copy() for v in values]
    problems = []
    try:
        expected = _run(symbols, outs, values, "numpy")
        got = _run(symbols, outs, values, "jax")
    except Exception:  # noqa: BLE001 - some case raises: find which, one by one
        got = None
    for v, o in zip(values, originals, strict=True):
        np.testing.assert_array_equal(v, o, err_msg="the compiled function modified its input")
    if got is not None:
        start = 0
        for case, mode, (_, _, case_outs) in entries:
            n = len(case_outs)
            problems += _compare(f"{case.id}-{mode}", case, got[start:start + n], expected[start:start + n])
            start += n
    if got is None or problems:
        problems = [p for case, mode, _ in entries for p in _check_one(case, mode)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case_id", sorted(REFUSED))
def test_refusals_raise_at_compile_time(case_id: str) -> None:
    cases = [p.values for p in PARAMS if p.values[0].id == case_id]
    assert cases, f"REFUSED names {case_id}, which is not a case of the op table"
    for case, mode in cases:
        symbols, _, outs = _prepare(case, mode)
        with pytest.raises(UnsupportedOpError, match="the jax backend cannot run"):
            gw.function(symbols, outs, backend="jax")


def test_every_case_is_covered() -> None:
    ids = {c.id for c in ALL_CASES}
    assert set(REFUSED) <= ids
    covered = sum(len(p.values[0]) for p in _groups())
    assert covered + sum(1 for p in PARAMS if p.values[0].id in REFUSED or p.marks) == len(PARAMS)


# ---------------------------------------------------------------------------------------------------------
# The compiled function
# ---------------------------------------------------------------------------------------------------------


def test_input_checks() -> None:
    x = gw.vector("x", shape=(3,))
    f = gw.function([x], x * 2, backend="jax")
    np.testing.assert_array_equal(f([1, 2, 3]), [2.0, 4.0, 6.0])  # lists and safe casts convert
    with pytest.raises(InputError, match=r"input 0 \(x\) expects dtype float64"):
        f(np.ones(3, dtype="complex128"))
    with pytest.raises(InputError, match="dimension 0 must have length 3"):
        f(np.ones(4))
    with pytest.raises(InputError, match=r"expects 1 dimension\(s\)"):
        f(np.ones((3, 1)))
    n = gw.vector("n", dtype="int64")
    with pytest.raises(InputError, match="does not cast safely"):
        gw.function([n], n + 1, backend="jax")(np.array([1.5]))


def test_trust_input_skips_the_checks() -> None:
    x = gw.vector("x")
    f = gw.function([x], gw.exp(x), backend="jax", trust_input=True)
    assert "_coerce" not in f.source.split("outs =")[0]
    np.testing.assert_allclose(f(np.zeros(2)), [1.0, 1.0])


def test_several_outputs_and_an_input_as_output() -> None:
    x, y = gw.vector("x"), gw.vector("y", dtype="int8")
    f = gw.function([x, y], [x + y, x, y.sum(), gw.constant([1.0, 2.0])], backend="jax")
    data = np.array([1.0, 2.0])
    total, same, s, const = f(data, np.array([3, 4], dtype="int8"))
    np.testing.assert_array_equal(total, [4.0, 6.0])
    assert same is not data and np.shares_memory(same, data) is False
    np.testing.assert_array_equal(same, data)
    same[0] = 7.0  # a writeable copy: the caller's array is untouched
    assert data[0] == 1.0 and s.dtype == "int64" and int(s) == 7
    np.testing.assert_array_equal(const, [1.0, 2.0])
    assert all(isinstance(v, np.ndarray) for v in (total, same, s, const))


def test_source_shows_the_generated_code() -> None:
    x = gw.matrix("x")
    f = gw.function([x], gw.softmax(x), backend="jax")
    assert f.backend == "jax"
    assert "def graphwright_fn(i0)" in f.source and "def graphwright_body(i0)" in f.source
    assert "_f0(i0" in f.source


def test_fused_graph_matches_numpy() -> None:
    x, y = gw.matrix("x"), gw.vector("y")
    out = [gw.exp(x) * 2 + gw.sigmoid(y) - gw.log1p(gw.abs(x)), gw.sum(gw.tanh(x) ** 2, axis=0)]
    f = gw.function([x, y], out, backend="jax")
    assert any(isinstance(n.op, Composite) for n in toposort(f.graph.outputs))
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    for g, e in zip(f(a, b), gw.function([x, y], out, backend="numpy")(a, b), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_shapes_from_input_values_are_static_arguments() -> None:
    n = gw.scalar("n", dtype="int64")
    x = gw.vector("x")
    f = gw.function([n, x], [gw.arange(n) * 2, gw.alloc(x[0], (n, 2))], backend="jax")
    for k in (2, 5, 2):
        r, a = f(k, np.arange(3.0) + 1)
        np.testing.assert_array_equal(r, np.arange(k) * 2)
        np.testing.assert_array_equal(a, np.ones((k, 2)))


def test_set_subtensor_keeps_the_last_of_repeated_writes() -> None:
    x, i, y = gw.vector("x"), gw.vector("i", dtype="int64"), gw.vector("y")
    out = [gw.set_subtensor(x[i], y), gw.inc_subtensor(x[i], y)]
    f, ref = (gw.function([x, i, y], out, backend=b) for b in ("jax", "numpy"))
    args = (np.zeros(4), np.array([1, -3, 2, 1, 3]), np.arange(5.0) + 1)
    for g, e in zip(f(*args), ref(*args), strict=True):
        np.testing.assert_array_equal(g, e)


def test_runtime_errors_name_the_op() -> None:
    x = gw.matrix("x")
    f = gw.function([x], gw.max(x, axis=0), backend="jax")
    with pytest.raises(gw.GraphRuntimeError, match="max"):
        f(np.zeros((0, 3)))


def test_broadcasting_rule_is_checked() -> None:
    """Only static length-1 dimensions broadcast, as on the NumPy backend (checked while tracing)."""
    x, y = gw.matrix("x"), gw.matrix("y")
    f = gw.function([x, y], gw.exp(x) + y, backend="jax")
    with pytest.raises(gw.GraphRuntimeError, match="broadcast"):
        f(np.ones((3, 1)), np.ones((3, 4)))
    np.testing.assert_allclose(f(np.zeros((3, 4)), np.ones((3, 4))), np.full((3, 4), 2.0))


def test_compiler_options_reach_xla() -> None:
    x = gw.vector("x")
    f = gw.function([x], x * 3, backend="jax", backend_options={"compiler_options": FAST_COMPILE})
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 3.0])
    with pytest.raises(TypeError):
        gw.function([x], x, backend="jax", backend_options={"no_such_option": 1})


def test_every_row_has_a_jax_version() -> None:
    from graphwright.backends.jax_backend.scalar import JAX_ROWS
    from graphwright.tensor.scalar_ops import SCALAR_OPS

    assert sorted(n for n in SCALAR_OPS if not n.startswith("cast_") and n not in JAX_ROWS) == []
