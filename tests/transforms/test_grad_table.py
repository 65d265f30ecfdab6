"""Every pullback against central finite differences, driven by the op table of tests/tensor/test_op_table.py.

Each float64 case of the table becomes a scalar cost (its float outputs projected on fixed random weights);
``gw.verify_grad`` compares the gradient with respect to every float input with finite differences along a
random direction. Ops whose pullback is not written yet must raise NotDifferentiableError naming the op
(NO_PULLBACK_YET, kept short and shrinking); cases where finite differences are meaningless are skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import graphwright as gw
from graphwright.graph import toposort
from graphwright.transforms import PRE_GRAD_PHASES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tensor"))
from test_op_table import ALL_CASES, Case, _as_list, _build_inputs, _missing  # noqa: E402

# Op classes without a pullback yet: a case using one must raise NotDifferentiableError.
NO_PULLBACK_YET: set[str] = set()  # every op of the library has one today
# Scalar rows with no derivative in the table (the error names them).
NO_DERIVATIVE = {"digamma"}


def _differentiable_cases() -> list[tuple[Case, str]]:
    out = []
    for case in ALL_CASES:
        mode = case.modes[0]
        if case.xfail or any(spec.special for spec in case.inputs) or case.family == "grad":
            continue  # (gradient-control ops change the gradient on purpose: tests/transforms/test_grad.py)
        if not any(spec.dtype == "float64" for spec in case.inputs):
            continue
        if any(spec.dtype == "float32" for spec in case.inputs):
            continue
        out.append((case, mode))
    return out


CASES = _differentiable_cases()


def _projected_cost(case: Case, symbols, values):
    """The case's float outputs, each summed against fixed random weights; None when nothing is float."""
    try:
        outs = _as_list(case.build(*symbols))
    except (TypeError, ValueError, OverflowError):
        return None, []
    floats = [o for o in outs if o.type.dtype.startswith("float")]
    if not floats or any(o.type.dtype != "float64" for o in floats):
        return None, []  # float32 results are too coarse for finite differences
    with np.errstate(all="ignore"):
        shapes = [np.shape(v) for v in gw.function(symbols, floats, rewrites=None)(*values)]
    rng = np.random.default_rng(1)
    cost = gw.add(*[gw.sum(o * gw.constant(rng.standard_normal(s))) for o, s in zip(floats, shapes, strict=True)]) \
        if len(floats) > 1 else gw.sum(floats[0] * gw.constant(rng.standard_normal(shapes[0])))
    return cost, outs


def _blockers(outs) -> set[str]:
    names = set()
    for node in toposort(outs):
        op = node.op.core_op if type(node.op).__name__ == "Blockwise" else node.op
        cls = type(op).__name__
        if cls in NO_PULLBACK_YET:
            names.add(cls)
        if cls == "Elemwise" and op.scalar_op.name in NO_DERIVATIVE:
            names.add(node.op.scalar_op.name)
    return names


@pytest.mark.parametrize(("case", "mode"), CASES, ids=[f"{c.id}-{m}" for c, m in CASES])
def test_pullback_matches_finite_differences(case: Case, mode: str) -> None:
    if _missing(case, mode):
        pytest.skip("op not available")
    symbols, values = _build_inputs(case, mode)
    cost, outs = _projected_cost(case, symbols, values)
    if cost is None:
        pytest.skip("no float64 output")
    stabilized, _ = gw.rewrite([cost], phases=PRE_GRAD_PHASES)
    blockers = _blockers(list(stabilized.outputs))  # what the gradient is taken of
    floats = [s for s in symbols if s.type.dtype == "float64"]
    if blockers:
        try:
            gw.grad(cost, floats, disconnected="ignore")
        except gw.NotDifferentiableError as exc:
            assert any(b in str(exc) for b in blockers | {"has no gradient"}), exc
            return
        pytest.fail(f"{sorted(blockers)} are listed without a pullback but the gradient was built: update "
                    "NO_PULLBACK_YET / NO_DERIVATIVE")
    with np.errstate(all="ignore"):
        at_point = gw.function(symbols, cost, rewrites=None)(*values)
    if not np.isfinite(at_point):
        pytest.skip("the cost is not finite at this point (e.g. logsumexp of an empty axis)")
    gw.verify_grad(lambda *xs: cost, values, symbols=symbols, rtol=1e-4, atol=1e-6)


def test_the_table_covers_many_cases():
    assert len(CASES) > 300
