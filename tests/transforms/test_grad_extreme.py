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

import graphwright as gw

pytest.importorskip("mpmath", reason="the references need mpmath (a dev dependency)")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rules"))
from stability_cases import (  # noqa: E402
    CASES,
    FAMILY_CASES,
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


@pytest.mark.parametrize("case", FAMILY_CASES, ids=[c.name for c in FAMILY_CASES])
def test_family_gradient_matches_reference(case):
    """The held-out-like families (issue 14, item 6): gradients of Taylor remainders near 0 and of one entry
    of a hand-written log-softmax at inputs 1000 apart (NaN before the fix)."""
    ref = gradient_reference(case)
    assert any(np.isfinite(r).any() for r in ref), f"no finite reference for {case.name}"
    got = run_graphwright_grad(case)
    assert gradients_agree(got, ref), f"{case.name}: got {got}, reference {ref}"


def _softmax(v, axis):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


APART = np.array([[1000.0, 0.0, -1000.0], [5.0, 1005.0, -995.0]])


def _onehot(index) -> np.ndarray:
    out = np.zeros_like(APART)
    out[index] = 1.0
    return out


def _lse(m, **kw):
    return gw.log(gw.sum(gw.exp(m), **kw))


# form -> (cost of m, its gradient at APART): d/dm of an entry of m - logsumexp(m) is onehot - softmax(m)
LOG_SOFTMAX_FORMS = {
    "entry": (lambda m: (m - _lse(m, axis=1, keepdims=True))[0, 1],
              _onehot((0, 1)) - np.array([[1.0], [0.0]]) * _softmax(APART, 1)),
    "row": (lambda m: gw.sum(m[:, 2] - _lse(m, axis=1)), _onehot((slice(None), 2)) - _softmax(APART, 1)),
    "column": (lambda m: gw.sum((m - _lse(m, axis=0, keepdims=True))[1]), _onehot(1) - _softmax(APART, 0)),
    "all": (lambda m: m[1, 1] - _lse(m), _onehot((1, 1)) - _softmax(APART.ravel(), 0).reshape(2, 3)),
    "mean": (lambda m: gw.mean(m[:, 0] - _lse(m, axis=1)), 0.5 * (_onehot((slice(None), 0)) - _softmax(APART, 1))),
}


@pytest.mark.parametrize("form", sorted(LOG_SOFTMAX_FORMS))
def test_log_softmax_gradient_differentiated_as_written(form):
    """``gw.grad(..., stabilize=False)`` differentiates ``log(sum(exp(x)))`` as written, so the gradient graph
    holds ``exp(x) * (g / sum(exp(x)))`` (inf / inf at inputs 1000 apart); the compiled function's stabilize
    rules (``normalised_exp``) must still make it a softmax."""
    cost, expected = LOG_SOFTMAX_FORMS[form]
    m = gw.matrix("m")
    got = gw.function([m], gw.grad(cost(m), m, stabilize=False))(APART)
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-300), (form, got, expected)
