"""Symbolic output shapes of indexing: ``x[index]`` as Python ints and int64 0-d variables.

The index specs and the output layout (:func:`graphwright.tensor.index_spec.plan`) are described in
:mod:`graphwright.tensor.index_spec`.
"""

from __future__ import annotations

import numpy as np

from graphwright.graph.basic import Variable
from graphwright.tensor import elemwise as _ew
from graphwright.tensor import shape as _shape
from graphwright.tensor.index_spec import _static_int, plan
from graphwright.tensor.variable import TensorVariable

__all__ = ["slice_length", "symbolic_out_shape"]


def _both_int(a, b) -> bool:
    return isinstance(a, int) and isinstance(b, int)


def _max(a, b):
    return max(a, b) if _both_int(a, b) else _ew.maximum(a, b)


def _min(a, b):
    return min(a, b) if _both_int(a, b) else _ew.minimum(a, b)


def _where(cond, a, b):
    if isinstance(cond, bool | np.bool_):
        return a if cond else b
    return _ew.switch(cond, a, b)


def _norm(v, n, default, lo, hi):
    """Python's normalisation of a slice bound against length ``n``, clamped to ``[lo, hi]``."""
    if v is None:
        return default
    if isinstance(v, int):
        return _min(v, hi) if v >= 0 else _max(v + n, lo)
    return _max(_min(_where(v < 0, v + n, v), hi), lo)


def _diff_over(a, b, step):
    """``max(ceil((a - b) / step), 0)`` for ``step > 0``, skipping the trivial parts."""
    diff = a if isinstance(b, int) and b == 0 else a - b
    if isinstance(step, int):
        diff = diff if step == 1 else (diff + (step - 1)) // step
    else:
        diff = (diff + step - 1) // step
    return _max(diff, 0)


def slice_length(n, start, stop, step):
    """Symbolic length of ``range(n)[start:stop:step]``; ints in, ints out, int64 0-d variables otherwise."""
    step = 1 if step is None else step
    if all(isinstance(v, int) or v is None for v in (n, start, stop, step)):
        return len(range(*slice(start, stop, step).indices(n)))
    if start is None and stop is None and isinstance(step, int) and step in (1, -1):
        return n
    positive = step > 0
    lengths = []
    if not isinstance(positive, bool) or positive:
        lengths.append(_diff_over(_norm(stop, n, n, 0, n), _norm(start, n, 0, 0, n), step))
    if not isinstance(positive, bool) or not positive:
        lengths.append(_diff_over(_norm(start, n, n - 1, -1, n - 1), _norm(stop, n, -1, -1, n - 1), -step))
    return lengths[0] if len(lengths) == 1 else _where(positive, lengths[0], lengths[1])


def _int_or_var(v: Variable):
    s = _static_int(v)
    return s if s is not None else _ew.cast(v, "int64")


def symbolic_out_shape(spec: tuple, out_var: TensorVariable, x_shape: tuple, parts: list, part_shapes: list):
    """The shape of ``x[index]`` as ints (static lengths) and int64 0-d variables."""
    out, adv = plan(spec)
    static = out_var.type.shape
    result: list = []
    for entry in out:
        if entry[0] == "newaxis":
            result.append(1)
        elif entry[0] == "slice":
            bounds = [None if i is None else _int_or_var(parts[i]) for i in entry[2]]
            n = x_shape[entry[1]]
            result.append(slice_length(n if isinstance(n, int) else _ew.cast(n, "int64"), *bounds))
        else:
            nd = max(_adv_ndim(kind, parts[p]) for kind, p, _ in adv)
            for j in range(nd):
                result.append(_adv_length(adv, parts, part_shapes, out_var, len(result), nd - j))
    return tuple(s if s is not None else (r if not isinstance(r, np.integer) else int(r))
                 for s, r in zip(static, result, strict=True))


def _adv_ndim(kind: str, part: TensorVariable) -> int:
    return {"int": 0, "bool": 1}.get(kind, part.type.ndim)


def _adv_length(adv, parts, part_shapes, out_var, out_dim, from_right):
    """Length of an advanced output dimension: NumPy's broadcast of the index arrays' lengths."""
    lengths = []
    for kind, p, _ in adv:
        nd = _adv_ndim(kind, parts[p])
        if from_right > nd:
            continue
        if kind == "bool":  # the number of True entries is only known from the result
            return _shape.shape_of(out_var)[out_dim]
        if parts[p].type.shape[nd - from_right] != 1:
            lengths.append(part_shapes[p][nd - from_right])
    result = lengths[0] if lengths else 1
    for n in lengths[1:]:
        result = _where(result == 1 if isinstance(result, int) else _ew.eq(result, 1), n, result)
    return result

