"""NumPy fast path for Elemwise: call the table's function directly, casting only where NumPy's dtype differs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.graph.basic import Apply
from graphwright.tensor.elemwise import check_runtime_broadcast


def natural_dtype(fn: Callable, dtypes: list[str]) -> np.dtype | None:
    """The dtype ``fn`` returns for inputs of ``dtypes`` (probed on one-element arrays), or None if it fails."""
    probes = [np.ones(1, dtype=d) for d in dtypes]
    try:
        with np.errstate(all="ignore"):
            return np.asarray(fn(*probes)).dtype
    except Exception:
        return None


def elemwise_impl(node: Apply) -> Callable:
    row = node.op.scalar_op
    fn = row.numpy
    out_dtype = np.dtype(node.outputs[0].type.dtype)
    needs_cast = natural_dtype(fn, [v.type.dtype for v in node.inputs]) != out_dtype
    shapes = [v.type.shape for v in node.inputs]
    static_equal = all(None not in s for s in shapes) and len(set(shapes)) == 1
    needs_check = len(node.inputs) > 1 and not static_equal
    name = row.name
    if not needs_cast and not needs_check:
        return fn
    if not needs_check:
        return lambda *xs: fn(*xs).astype(out_dtype)

    def checked(*xs):
        check_runtime_broadcast(name, xs)
        out = fn(*xs)
        return out.astype(out_dtype) if needs_cast else out

    return checked
