"""Gradients of the extreme-input formulas (tests/rules/stability_cases.py) against mpmath.

``gw.grad`` stabilizes the cost before differentiating, so the gradient of ``log(1 + exp(x))`` is taken of
``softplus(x)`` and stays right at x = 1000. Each case's gradient of ``sum(f)`` is compared with mpmath's
numerical derivative at 1500 digits, to a relative 1e-6 wherever the true derivative is a finite float64.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpmath", reason="the references need mpmath (a dev dependency)")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rules"))
from stability_cases import (  # noqa: E402
    CASES,
    gradient_reference,
    gradients_agree,
    run_graphwright_grad,
    run_pytensor_grad,
)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_gradient_matches_reference(case):
    ref = gradient_reference(case)
    assert any(np.isfinite(r).any() for r in ref), f"no finite reference for {case.name}"
    got = run_graphwright_grad(case)
    assert gradients_agree(got, ref), f"{case.name}: got {got}, reference {ref}"


def test_graphwright_gradients_beat_pytensor(capsys):
    """The same gradients through PyTensor's default mode (run with -s to see the counts)."""
    pytest.importorskip("pytensor")
    ours = theirs = 0
    for case in CASES:
        ref = gradient_reference(case)
        ours += gradients_agree(run_graphwright_grad(case), ref)
        theirs += gradients_agree(run_pytensor_grad(case), ref)
    with capsys.disabled():
        print(f"\nextreme-input gradients: graphwright {ours}/{len(CASES)}, PyTensor {theirs}/{len(CASES)}")
    assert ours > theirs
