"""max_errors: the one error metric of the bench, the numerics report and the substitution check."""

from __future__ import annotations

import numpy as np
import pytest

from graphwright.workbench.metrics import max_errors

nan, inf = np.nan, np.inf


def test_equal_values_count_as_zero_including_inf_and_nan():
    assert max_errors([1.0, nan, inf, -inf, 0.0], [1.0, nan, inf, -inf, -0.0]) == (0.0, 0.0)


def test_a_nan_reference_element_is_left_out():
    assert max_errors([5.0, 1.0 + 1e-12], [nan, 1.0]) == pytest.approx((1e-12, 1e-12), rel=1e-3)
    assert max_errors([5.0, -inf], [nan, nan]) == (0.0, 0.0)


@pytest.mark.parametrize("got, ref", [(nan, 1.0), (inf, 1.0), (-inf, 0.0), (1.0, inf), (-inf, inf)])
def test_nonfinite_against_finite_and_finite_against_infinite_is_an_infinite_error(got, ref):
    assert max_errors([2.0, got], [2.0, ref]) == (inf, inf)


def test_skip_infinite_reference_leaves_out_an_overflowed_reference():
    assert max_errors([1.0, 3.0], [inf, 3.5], skip_infinite_reference=True) == (0.5, pytest.approx(0.5 / 3.5))
    assert max_errors([nan], [1.0], skip_infinite_reference=True) == (inf, inf)  # a finite reference still counts
    assert max_errors([1.0], [-inf], skip_infinite_reference=True) == (0.0, 0.0)


def test_relative_error_has_a_tiny_floor():
    abs_err, rel_err = max_errors([1e-300, 0.0], [0.0, 0.0])
    assert abs_err == 1e-300 and rel_err == pytest.approx(1e-300 / np.finfo("float64").tiny)
    assert max_errors([3.0, -2.0], [2.0, -4.0]) == (2.0, 0.5)


def test_broadcasting_dtypes_and_empty_arrays():
    assert max_errors(np.array([[1, 2], [1, 3]]), np.array([1.0, 2.5])) == (0.5, 0.2)
    assert max_errors(np.array([True, False]), np.array([1.0, 0.0])) == (0.0, 0.0)
    assert max_errors(np.zeros((0, 3)), np.zeros(3)) == (0.0, 0.0)
    with pytest.raises(ValueError, match="broadcast"):
        max_errors(np.zeros(2), np.zeros(3))
