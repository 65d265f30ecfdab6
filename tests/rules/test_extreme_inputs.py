"""Extreme-input suite: naive formulas at inputs where they overflow, underflow or cancel.

The table is in ``stability_cases.py``: every case is a formula as a user writes it and inputs where the
naive evaluation fails, with a reference from mpmath. Compiled with ``gw.function(..., rewrites="fast_run")``
every case must agree with the reference to a relative tolerance of 1e-6. The same table runs through
PyTensor's default mode for comparison (``tests/benchmarks/bench_stability.py`` prints the table); at the time
of writing graphwright passes every case and PyTensor 3.0.7 about half.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mpmath", reason="the references need mpmath (a dev dependency)")

from stability_cases import (  # noqa: E402
    CASES,
    FAMILY_CASES,
    SOFTMAX_ENTRY_CASES,
    TAYLOR_CASES,
    agrees,
    reference,
    run_graphwright,
    run_pytensor,
)


@pytest.mark.parametrize("case", CASES + FAMILY_CASES, ids=[c.name for c in CASES + FAMILY_CASES])
def test_graphwright_matches_reference(case):
    ref = reference(case)
    assert np.all(np.isfinite(ref)), f"the reference of {case.name} is not finite: {ref}"
    got = run_graphwright(case)
    assert agrees(got, ref), f"{case.name}: got {got}, reference {ref}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_naive_graph_fails_or_the_case_is_a_guard(case):
    """Without rewrites most cases fail: that is what makes them extreme (a few guard forms that are
    already accurate, such as ``1 / (1 + exp(-x))`` in the normal range, are listed as such)."""
    ref = reference(case)
    naive = run_graphwright(case, rewrites=None)
    assert agrees(naive, ref) == (case.name in ACCURATE_WHEN_NAIVE), f"{case.name}: naive {naive}, ref {ref}"


ACCURATE_WHEN_NAIVE = {"1 / (1 + exp(-x))"}


def test_the_table_is_large_and_named_uniquely():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


def test_graphwright_passes_more_cases_than_pytensor(capsys):
    """The same table through PyTensor's default mode; prints both counts (run with -s to see them)."""
    pytest.importorskip("pytensor")
    refs = [reference(c) for c in CASES]
    ours = sum(agrees(run_graphwright(c), r) for c, r in zip(CASES, refs, strict=True))
    theirs = []
    for c, r in zip(CASES, refs, strict=True):
        try:
            theirs.append(agrees(run_pytensor(c), r))
        except Exception:  # a formula PyTensor cannot compile counts as a failure
            theirs.append(False)
    with capsys.disabled():
        print(f"\nextreme-input cases passed: graphwright {ours}/{len(CASES)}, PyTensor {sum(theirs)}/{len(CASES)}")
    assert ours == len(CASES)
    assert ours > sum(theirs)


# --- held-out-like families (issue 14, item 6): the Taylor-remainder and the softmax-entry families -----------
@pytest.mark.parametrize("case", FAMILY_CASES, ids=[c.name for c in FAMILY_CASES])
def test_family_case_is_extreme(case):
    """Every family case fails without rewrites: its inputs are where the naive formula cancels or
    overflows."""
    assert not agrees(run_graphwright(case, rewrites=None), reference(case)), case.name


def test_families_are_several_variants_each():
    assert len(TAYLOR_CASES) >= 10 and len(SOFTMAX_ENTRY_CASES) >= 10
    assert len({c.name for c in CASES + FAMILY_CASES}) == len(CASES) + len(FAMILY_CASES)
