"""Error metrics: the largest absolute and relative error of computed values against reference values."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["max_errors"]

_TINY = np.finfo("float64").tiny


def max_errors(got: Any, reference: Any, *, skip_infinite_reference: bool = False) -> tuple[float, float]:
    """``(max abs error, max rel error)`` of ``got`` against ``reference`` (broadcast together, as float64).

    The rules, element by element:

    - equal values count as 0, and so do inf with inf (same sign) and NaN with NaN;
    - where the reference is NaN the element is left out (there is no value to compare with);
    - a NaN or infinite value against a finite reference, or a finite value against an infinite one, is an
      infinite error (absolute and relative);
    - the relative error is ``|got - reference| / max(|reference|, tiny)`` with ``tiny`` the smallest normal
      float64, so a non-zero value against a zero reference has a huge but finite relative error;
    - ``skip_infinite_reference``: elements with a ±inf reference are left out too (a rewritten form may be
      finite where the original overflowed).

    No element left (empty arrays, or every reference element left out) gives ``(0.0, 0.0)``.

    Parameters
    ----------
    got : the computed values (anything ``np.asarray`` takes; integers and booleans become float64).
    reference : the values taken as right; ``got`` and ``reference`` must broadcast together.
    skip_infinite_reference : leave out the elements with an infinite reference (see above).

    Examples
    --------
    >>> nan, inf = float("nan"), float("inf")
    >>> max_errors([1.0, 2.0 + 2e-9], [1.0, 2.0])
    (2.000000165480742e-09, 1.000000082740371e-09)
    >>> max_errors([inf, nan, 5.0], [inf, nan, nan])
    (0.0, 0.0)
    >>> max_errors([nan], [1.0]), max_errors([1.0], [inf]), max_errors([1.0], [inf], skip_infinite_reference=True)
    ((inf, inf), (inf, inf), (0.0, 0.0))
    >>> max_errors([1e-300], [0.0])[1] > 1e7
    True
    """
    g, r = np.broadcast_arrays(np.asarray(got).astype("float64"), np.asarray(reference).astype("float64"))
    with np.errstate(all="ignore"):
        same = (g == r) | (np.isnan(g) & np.isnan(r))
        use = same | ~np.isnan(r)
        if skip_infinite_reference:
            use &= ~np.isinf(r)
        diff = np.where(same, 0.0, np.abs(g - r))[use]
        diff = np.where(np.isnan(diff), np.inf, diff)  # NaN against a number
        rel = np.where(diff == 0, 0.0, np.where(np.isinf(diff), np.inf, diff / np.maximum(np.abs(r[use]), _TINY)))
    if diff.size == 0:
        return 0.0, 0.0
    return float(diff.max()), float(rel.max())
