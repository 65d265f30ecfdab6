"""Every op vectorized: each case of the op table (tests/tensor/test_op_table.py) with one input batched must
equal a Python loop over the batch slices. Ops with a direct vectorize rule use it; the others go through
Blockwise; the test records which (DIRECT_RULES must keep working without Blockwise)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import toposort
from graphwright.tensor.blockwise import Blockwise

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tensor"))
from test_op_table import ALL_CASES, Case, _as_list, _build_inputs, _missing  # noqa: E402

# Op classes whose vectorize rule must not fall back to Blockwise.
DIRECT_RULES_CORE = {"Elemwise", "Composite", "CompositeReduce", "Reduce", "DimShuffle", "Shape"}
DIRECT_RULES_MATH = {"Dot", "MatMul", "TensorDot", "Softmax", "LogSoftmax", "Argmax", "Argmin", "LogSumExp", "CumOp"}
DIRECT_RULES_STRUCTURE = {"Join", "Split", "MakeVector", "Subtensor", "IncSubtensor"}  # join, indexing, MakeVector
DIRECT_RULES = DIRECT_RULES_CORE | DIRECT_RULES_MATH | DIRECT_RULES_STRUCTURE
BATCH = 3


def _cases() -> list[tuple[Case, str, int]]:
    out = []
    for case in ALL_CASES:
        if case.xfail or not case.inputs:
            continue
        for k, spec in enumerate(case.inputs):
            if spec.special != "nonfinite":
                out.append((case, case.modes[0], k))
                break
    return out


CASES = _cases()


@pytest.mark.parametrize(("case", "mode", "k"), CASES, ids=[f"{c.id}-{m}-in{k}" for c, m, k in CASES])
def test_vectorized_equals_loop(case: Case, mode: str, k: int) -> None:
    if _missing(case, mode):
        pytest.skip("op not available")
    symbols, values = _build_inputs(case, mode)
    try:
        outs = _as_list(case.build(*symbols))
    except (TypeError, ValueError, OverflowError):
        pytest.skip("the case is an error case")
    x = symbols[k]
    batched = gw.tensor("xb", dtype=x.type.dtype, shape=(BATCH, *x.type.shape))
    vouts = gw.vectorize_graph(outs, {x: batched})
    rng = np.random.default_rng(0)
    slices = []
    for b in range(BATCH):
        v = np.array(values[k], copy=True)
        if v.dtype.kind == "f" and b:
            v = v + rng.uniform(-0.01, 0.01, v.shape).astype(v.dtype) * (np.abs(v) + 1)
        slices.append(v)
    stacked = np.stack(slices)
    f_once = gw.function(symbols, outs, rewrites=None)
    with np.errstate(all="ignore"):
        want = [f_once(*[slices[b] if j == k else values[j] for j in range(len(values))]) for b in range(BATCH)]
        got = gw.function([batched] + [s for j, s in enumerate(symbols) if j != k], vouts, rewrites=None)(
            stacked, *[v for j, v in enumerate(values) if j != k])
    for i, (o, g) in enumerate(zip(outs, got, strict=True)):
        g = np.asarray(g)
        rows = [np.asarray(w[i]) for w in want]
        if vouts[i].type.ndim > o.type.ndim:
            expected = np.stack(rows)
        else:  # not batched (independent of the input, or a shape): the same for every slice
            for r in rows[1:]:
                np.testing.assert_array_equal(r, rows[0])
            expected = rows[0]
        assert g.shape == expected.shape, f"output {i}: shape {g.shape}, loop {expected.shape}"
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-12, equal_nan=True)
    for node in toposort(vouts):
        if isinstance(node.op, Blockwise):
            assert type(node.op.core_op).__name__ not in DIRECT_RULES, f"{node.op} should have a direct rule"
