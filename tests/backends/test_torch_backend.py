"""The PyTorch backend: every case of the op table (tests/tensor/test_op_table.py) gives on backend="torch"
what it gives on the NumPy reference backend (values within the dtype's tolerance, dtypes and shapes
exactly), or is refused at compile time, and only the cases listed in REFUSED are. Then the function-level
behaviour: input checks, outputs, in-place safety, the source, fused graphs, torch.compile and devices."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import graphwright as gw  # noqa: E402
from graphwright import GraphRuntimeError, InputError  # noqa: E402
from graphwright.backends.registry import UnsupportedOpError  # noqa: E402
from graphwright.graph import toposort  # noqa: E402
from graphwright.tensor.composite import Composite  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tensor"))
from test_op_table import ALL_CASES, PARAMS, TOLERANCES, Case, _as_list, _build_inputs, _missing  # noqa: E402

# Cases the torch backend refuses at compile time: case id -> why. Exactly these raise UnsupportedOpError.
REFUSED: dict[str, str] = {}
# torch 2.13 has uint16/32/64 tensors but no kernels for most ops on them (add, floor_divide, maximum ...)
_WIDE_UNSIGNED = ("uint16", "uint32", "uint64")


def _has_wide_unsigned(case: Case) -> bool:
    """Whether the case's graph reads or writes uint16/32/64 (uint8 sums give uint64)."""
    if any(spec.dtype in _WIDE_UNSIGNED for spec in case.inputs):
        return True
    if _missing(case, "static"):
        return False
    try:
        outs = _as_list(case.build(*_build_inputs(case, "static")[0]))
    except (TypeError, ValueError, OverflowError):
        return False
    return any(v.type.dtype in _WIDE_UNSIGNED for node in toposort(outs) for v in (*node.inputs, *node.outputs)
               if v.type.is_tensor)


# these are refused by name when a node of the compiled graph reads or writes such a dtype, else must match
WIDE_UNSIGNED_CASES = frozenset(c.id for c in ALL_CASES if _has_wide_unsigned(c))

# the table's own xfail marks concern the core against NumPy, not this backend against the core
CASES = [pytest.param(*p.values, id=p.id) for p in PARAMS]


def _compare(got: list, want: list, case: Case) -> None:
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        where = f"{case.id} output {k}"
        assert isinstance(g, np.ndarray), f"{where}: got {type(g).__name__}"
        assert g.dtype == w.dtype, f"{where}: dtype {g.dtype}, the NumPy backend gives {w.dtype}"
        assert g.shape == w.shape, f"{where}: shape {g.shape}, the NumPy backend gives {w.shape}"
        if g.dtype.kind in "fc":
            rtol, atol = TOLERANCES[g.dtype.name]
            np.testing.assert_allclose(g, w, rtol=case.rtol or rtol, atol=case.atol or atol, equal_nan=True,
                                       err_msg=where)
        else:
            np.testing.assert_array_equal(g, w, err_msg=where)


@pytest.mark.parametrize(("case", "mode"), CASES)
def test_case_matches_numpy_backend(case: Case, mode: str) -> None:
    if _missing(case, mode):
        pytest.skip("op not available")
    symbols, values = _build_inputs(case, mode)
    try:
        outs = _as_list(case.build(*symbols))
    except (TypeError, ValueError, OverflowError):
        pytest.skip("building the graph raises (no backend involved)")
    if case.id in REFUSED:
        with pytest.raises(UnsupportedOpError, match="torch backend"):
            gw.function(symbols, outs, backend="torch")
        return
    try:
        f = gw.function(symbols, outs, backend="torch")
    except UnsupportedOpError as exc:
        if case.id not in WIDE_UNSIGNED_CASES or "torch has no kernels for dtype uint" not in str(exc):
            raise
        return
    # the same rewritten graph on the NumPy backend (rewriting once saves half the time)
    reference = gw.function(list(f.inputs), list(f.outputs), backend="numpy", rewrites=None)
    originals = [v.copy() for v in values]
    with np.errstate(all="ignore"):
        try:
            want = reference(*values)
        except Exception:  # noqa: BLE001 - the reference raises: so must torch
            with pytest.raises((GraphRuntimeError, InputError)):
                f(*values)
            return
    got = f(*values)
    for v, o in zip(values, originals, strict=True):
        np.testing.assert_array_equal(v, o, err_msg="the torch function modified its input")
    _compare(got, want, case)


def _storage(t) -> int | None:
    return t.untyped_storage().data_ptr() if t.numel() else None


# one elementwise node per elementwise case: test_case_matches_numpy_backend covers those already
NODE_CASES = [p for p in CASES if p.values[1] == "static" and p.values[0].family != "elemwise"]


@pytest.mark.parametrize(("case", "mode"), NODE_CASES)
def test_kernels_node_by_node(case: Case, mode: str) -> None:
    """Each node of the graph as written (no rewrites: every op kind of the table, Blockwise and GradControl
    included) against the NumPy backend's implementation on the same input values: dtype and shape exactly,
    values within tolerance, and a new buffer for every op that is not marked ``returns_view`` (the in-place
    planner may overwrite those)."""
    from graphwright.backends.numpy_ref import impl_for as numpy_impl
    from graphwright.backends.torch_backend import impl_for as torch_impl

    if _missing(case, mode) or case.id in REFUSED or case.id in WIDE_UNSIGNED_CASES:
        pytest.skip("op not available or refused")
    symbols, values = _build_inputs(case, mode)
    try:
        outs = _as_list(case.build(*symbols))
    except (TypeError, ValueError, OverflowError):
        pytest.skip("building the graph raises (no backend involved)")
    env = {id(s): v for s, v in zip(symbols, values, strict=True)}
    for node in toposort(outs):
        args = [env[id(v)] if id(v) in env else v.data for v in node.inputs]
        with np.errstate(all="ignore"):
            expected = numpy_impl(node)(*args)
        expected = list(expected) if len(node.outputs) > 1 else [expected]
        tensors = [torch.from_numpy(np.array(a)) for a in args]
        got = torch_impl(node)(*tensors)
        got = list(got) if len(node.outputs) > 1 else [got]
        for out, g, e in zip(node.outputs, got, expected, strict=True):
            env[id(out)] = e
            where = f"{node.op.short_name()} in {case.id}"
            assert str(g.dtype) == f"torch.{out.type.dtype}", f"{where}: dtype {g.dtype}, static {out.type.dtype}"
            _compare([g.numpy()], [np.asarray(e)], case)
            if not node.op.returns_view and _storage(g) is not None:
                assert all(_storage(g) != _storage(t) for t in tensors), f"{where} returns a view of an input"


def test_refusals_name_table_cases() -> None:
    ids = {c.id for c in ALL_CASES}
    assert not set(REFUSED) - ids, f"REFUSED lists cases the table no longer has: {set(REFUSED) - ids}"


# ---------------------------------------------------------------------------------------------------------
# Function-level behaviour
# ---------------------------------------------------------------------------------------------------------


def test_input_checks() -> None:
    x = gw.vector("x", dtype="int32")
    m = gw.matrix("m", shape=(2, None))
    f = gw.function([x, m], gw.sum(x) + gw.sum(m), backend="torch")
    assert float(f(np.arange(3, dtype="int32"), np.ones((2, 5)))) == 13.0
    with pytest.raises(InputError, match="input 0"):
        f(np.ones(3), np.ones((2, 5)))  # float64 does not cast safely to int32
    with pytest.raises(InputError, match="1 dimension"):
        f(np.ones((3, 1), dtype="int32"), np.ones((2, 5)))
    with pytest.raises(InputError, match="dimension 0 must have length 2"):
        f(np.ones(3, dtype="int32"), np.ones((3, 5)))


def test_trust_input_and_read_only_or_reversed_inputs() -> None:
    x = gw.vector("x")
    f = gw.function([x], gw.exp(x) * 2, backend="torch", trust_input=True)
    data = np.linspace(0, 1, 5)
    np.testing.assert_allclose(f(data), np.exp(data) * 2)
    frozen = np.broadcast_to(np.float64(1.5), (4,))  # read-only: copied, not wrapped
    np.testing.assert_allclose(f(frozen), np.exp(frozen) * 2)
    np.testing.assert_allclose(f(data[::-1]), np.exp(data[::-1]) * 2)  # negative strides


def test_several_outputs_and_an_output_that_is_an_input() -> None:
    x = gw.matrix("x")
    c = gw.constant(np.array([1.0, 2.0]))
    f = gw.function([x], [x, x.T, gw.sum(x, axis=0), c], backend="torch")
    data = np.arange(6.0).reshape(3, 2)
    same, transposed, total, const = f(data)
    np.testing.assert_array_equal(same, data)
    assert not np.shares_memory(same, data) and not np.shares_memory(transposed, data)
    np.testing.assert_array_equal(transposed, data.T)
    np.testing.assert_array_equal(total, [6.0, 9.0])
    const[0] = 9.0
    assert c.data[0] == 1.0 and f(data)[3][0] == 1.0


def test_in_place_kernels_touch_only_intermediates() -> None:
    x, i = gw.vector("x"), gw.vector("i", dtype="int64")
    c = gw.cumsum(x)
    outs = [gw.exp(c) + gw.sin(c) + c * c * c,  # a composite written into the cumsum's buffer
            gw.cumsum(x + 1) * gw.cumsum(x + 2) * gw.cumsum(x + 3),  # a variadic mul, folded into a buffer
            gw.inc_subtensor(gw.set_subtensor(x[1:3], 0.0)[i], 1.0)]  # into the set_subtensor's result
    f = gw.function([x, i], outs, backend="torch")
    assert len(f.memory_plan.in_place) == 3, str(f.memory_plan)
    data, idx = np.linspace(-1, 1, 5), np.array([0, 0, 4])
    kept = data.copy()
    got = f(data, idx)
    np.testing.assert_array_equal(data, kept)
    want = gw.function([x, i], outs, backend="numpy")(data, idx)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def _index_exprs():
    x, i, j = gw.tensor("x", shape=(None, None, None)), gw.vector("i", dtype="int64"), gw.vector("j", dtype="int8")
    exprs = [x[1, :, i[:2]], x[::-1, i], x[3:0:-2, ::-1, 1], x[j, j],
             gw.set_subtensor(x[i], 7.0), gw.set_subtensor(x[::-2, 1:], x[:2, 1:] * 10),
             gw.set_subtensor(x[x[:, 0, 0] > 10, i[:1]], -1.0), gw.inc_subtensor(x[::-1, i], 1.0),
             gw.inc_subtensor(x[1:, j], 2.0), gw.inc_subtensor(x[i, 1:, j], 3.0), gw.inc_subtensor(x[2, i], 1.0),
             gw.inc_subtensor(x[None, i], 1.0), gw.inc_subtensor(x[::-1, :, ::-2], x[:, :, :2])]
    data = [np.arange(60.0).reshape(4, 5, 3), np.array([0, 2, 0, -1]), np.array([1, 1, 0, 2], dtype="int8")]
    return [x, i, j], exprs, data


@pytest.mark.parametrize("rewrites", ["fast_run", None])
def test_indexing_beyond_the_table(rewrites) -> None:
    """Negative steps (torch has none), an int and an index array separated by a slice (NumPy moves the
    indexed dimensions to the front), int8 index arrays, repeated positions (set: the last write; inc:
    accumulated) and mixed indices in set/inc_subtensor."""
    inputs, exprs, data = _index_exprs()
    got = gw.function(inputs, exprs, backend="torch", rewrites=rewrites)(*data)
    want = gw.function(inputs, exprs, backend="numpy", rewrites=rewrites)(*data)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.shape == w.shape, f"expression {k}"
        np.testing.assert_array_equal(g, w, err_msg=f"expression {k}")


def test_integer_arithmetic_as_numpy() -> None:
    k = gw.vector("k", dtype="int64")
    outs = [k // (k - 2), k % (k - 2), gw.cast(k, "int8") + gw.cast(k, "int8") + k]
    data = np.array([2, 5, -3, 127])
    with np.errstate(all="ignore"):
        want = gw.function([k], outs, backend="numpy")(data)
    for g, w in zip(gw.function([k], outs, backend="torch")(data), want, strict=True):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(GraphRuntimeError, match="negative integer powers"):
        gw.function([k], k**k, backend="torch")(np.array([2, -1]))


def test_mutable_input_may_be_overwritten() -> None:
    x = gw.vector("x")
    f = gw.function([x], gw.exp(x), backend="torch", mutable=[x])
    data = np.zeros(3)
    out = f(data)
    np.testing.assert_array_equal(out, np.ones(3))


def test_source_shows_the_body() -> None:
    x = gw.vector("x")
    f = gw.function([x], gw.cumsum(x), backend="torch")
    assert "def graphwright_body(i0):" in f.source and "_f0(i0)" in f.source
    assert f.backend == "torch"


def test_fused_graph_matches() -> None:
    x, y = gw.matrix("x"), gw.vector("y")
    out = gw.log1p(gw.exp(x) * 2 + gw.abs(y)) - gw.sigmoid(x) * y
    f = gw.function([x, y], [out, gw.tanh(out)], backend="torch")
    assert any(isinstance(n.op, Composite) for n in toposort(f.outputs))
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    want = gw.function([x, y], [out, gw.tanh(out)], backend="numpy")(a, b)
    for g, w in zip(f(a, b), want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_runtime_errors_name_the_backend() -> None:
    x = gw.vector("x")
    f = gw.function([x], gw.reshape(x, (2, -1)), backend="torch")
    with pytest.raises(GraphRuntimeError, match="torch backend"):
        f(np.ones(3))
    y = gw.vector("y")
    g = gw.function([x, y], x + y, backend="torch")  # only static length 1 broadcasts
    with pytest.raises(GraphRuntimeError, match="broadcast"):
        g(np.ones(3), np.ones(1))


def test_an_op_without_kernel_is_refused_at_compile_time() -> None:
    from dataclasses import dataclass

    from graphwright.graph.basic import Apply, Op

    @dataclass(frozen=True)
    class Twice(Op):  # an op only the NumPy reference can run (its perform)
        def make_node(self, x):
            return Apply.create(self, [x], [x.type])

        def perform(self, x):
            return 2 * x

    x = gw.vector("x")
    with pytest.raises(UnsupportedOpError, match="torch backend cannot run .*Twice"):
        gw.function([x], Twice()(x), backend="torch", rewrites=None)


def test_options() -> None:
    x = gw.vector("x")
    f = gw.function([x], x * 2, backend="torch", backend_options={"device": "cpu"})
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    with pytest.raises(TypeError, match="unknown option"):
        gw.function([x], x * 2, backend="torch", backend_options={"devise": "cpu"})
    with pytest.raises(ValueError, match="cannot use device"):
        gw.function([x], x * 2, backend="torch", backend_options={"device": "no-such-device"})


def test_integer_products_off_the_cpu() -> None:
    """torch multiplies integer matrices only on the CPU; the kernels built for another device multiply and
    sum instead. Built here for a stand-in non-CPU device, run on CPU tensors."""
    from types import SimpleNamespace

    from graphwright.backends.torch_backend.kernels import impl_for

    a3, m, v = gw.tensor3("a3", dtype="int8"), gw.matrix("m", dtype="int64"), gw.vector("v", dtype="int64")
    exprs = [gw.dot(m, m.T), gw.dot(m, v), gw.dot(v, m.T), gw.dot(v, v), gw.matmul(a3, gw.cast(m.T[:4, :3], "int8")),
             gw.tensordot(a3, a3, axes=([1, 2], [1, 2])), gw.tensordot(a3, m, axes=([0], [0])),
             gw.tensordot(v, v, axes=0), gw.dot(gw.cast(m, "bool"), gw.cast(m.T, "bool"))]
    values = {a3: (np.arange(24) % 7 * 40 - 100).astype("int8").reshape(2, 3, 4),
              m: np.arange(8).reshape(2, 4) - 3, v: np.arange(4) - 1}
    fake = SimpleNamespace(type="cuda")
    for expr in exprs:
        node = expr.owner
        args = [values[x] if x in values else gw.function(list(values), x, backend="numpy")(*values.values())
                for x in node.inputs]
        want = node.op.perform(*args)
        got = impl_for(node, fake)(*(torch.from_numpy(np.asarray(a)) for a in args))
        np.testing.assert_array_equal(got.numpy(), want, err_msg=node.op.short_name())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_device() -> None:  # pragma: no cover - runs where a GPU is present
    x, i = gw.matrix("x"), gw.vector("i", dtype="int64")
    outs = [gw.softmax(x) @ x.T, gw.inc_subtensor(x[i], 1.0), gw.arange(x.shape[0]) * gw.eye(x.shape[0])]
    f = gw.function([x, i], outs, backend="torch", backend_options={"device": "cuda"})
    data, idx = np.arange(12.0).reshape(3, 4), np.array([0, 0, 2])
    want = gw.function([x, i], outs, backend="numpy")(data, idx)
    for g, w in zip(f(data, idx), want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# torch.compile
# ---------------------------------------------------------------------------------------------------------


def _compile_graphs():
    x, m, i = gw.vector("x"), gw.matrix("m"), gw.vector("i", dtype="int64")
    return [
        ([x], [gw.logsumexp(gw.exp(x) * 2 + 1), gw.cumsum(gw.sin(x))],
         [np.linspace(-1, 1, 5), np.linspace(0, 2, 7)]),
        ([m, i], [gw.inc_subtensor(gw.exp(m)[i], 1.0), gw.softmax(m @ m.T)[::-1]],
         [np.arange(6.0).reshape(3, 2) / 6, np.array([0, 2, 0])]),
        ([m], [gw.reshape(m, (m.shape[1], -1)), gw.argmax(m, axis=0), gw.max(m) > 0],
         [np.arange(12.0).reshape(3, 4) - 4]),
    ]


@pytest.mark.parametrize("compiler", ["eager", "aot_eager"])
def test_torch_compile_traces_the_generated_function(compiler: str) -> None:
    """torch.compile's tracer (TorchDynamo) on the generated body, with the compiler backends that need no C++
    toolchain; shapes read with tolist() (reshape) break the traced graph there, which torch.compile allows."""
    options = {"compile": True, "compile_options": {"backend": compiler}}
    for inputs, outs, data in _compile_graphs():
        f = gw.function(inputs, outs, backend="torch", backend_options=options)
        reference = gw.function(inputs, outs, backend="numpy")
        args = data if len(inputs) > 1 else [data[0]]
        calls = [args] if len(inputs) > 1 else [[d] for d in data]  # new shapes: a retrace
        for call in calls:
            for g, w in zip(f(*call), reference(*call), strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-12)


def test_compile_options_need_compile() -> None:
    x = gw.vector("x")
    with pytest.raises(TypeError, match="compile=True"):
        gw.function([x], x + 1, backend="torch", backend_options={"compile_options": {"backend": "eager"}})


@pytest.mark.skipif(not __import__("os").environ.get("GRAPHWRIGHT_TEST_INDUCTOR"),
                    reason="inductor (the default torch.compile backend) compiles C++ for 10-60 s per graph; "
                           "set GRAPHWRIGHT_TEST_INDUCTOR=1 to run it")
def test_torch_compile_inductor() -> None:  # pragma: no cover - opt-in, slow
    inputs, outs, data = _compile_graphs()[0]
    f = gw.function(inputs, outs, backend="torch", backend_options={"compile": True})
    reference = gw.function(inputs, outs, backend="numpy")
    for d in data:
        for g, w in zip(f(d), reference(d), strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12)
