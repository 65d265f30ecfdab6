"""NumPy fast path for Elemwise: call the table's function directly, casting only where NumPy's dtype differs."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from graphwright.graph.basic import Apply
from graphwright.graph.destroy import InPlace, plain_node


def check_runtime_broadcast(name: str, arrays: tuple, static_shapes: list[tuple]) -> None:
    """Raise when NumPy would broadcast a runtime length 1 in a dimension the graph did not declare length 1.

    The static types say which dimensions broadcast (gradients rely on it), so data that disagrees with the
    graph is an error rather than a silent broadcast.
    """
    shapes = [np.shape(a) for a in arrays]
    first = shapes[0]
    if all(s == first for s in shapes):
        return
    ndim = len(static_shapes[0]) if static_shapes else 0
    padded = [(1,) * (ndim - len(s)) + s for s in shapes]
    statics = [(1,) * (ndim - len(s)) + s for s in static_shapes]
    for dim in range(ndim):
        lengths = {s[dim] for s in padded}
        if len(lengths) == 1:
            continue
        if len(lengths) > 2 or 1 not in lengths:
            raise ValueError(f"{name}: input shapes {shapes} do not match in dimension {dim}")
        for runtime, static in zip(padded, statics, strict=True):
            if runtime[dim] == 1 and static[dim] != 1:
                raise ValueError(
                    f"{name}: input shapes {shapes} would broadcast dimension {dim}, but that input's static "
                    f"shape {static} does not declare it of length 1 (declare shape=(..., 1, ...) to broadcast)")


def shapes_to_check(node: Apply) -> list[tuple] | None:
    """The inputs' static shapes, left-padded to the output's rank, when broadcasting must be checked at run
    time; None when the static shapes already settle it (one input, or all static and equal)."""
    out_ndim = node.outputs[0].type.ndim
    shapes = [(1,) * (out_ndim - len(v.type.shape)) + v.type.shape for v in node.inputs]
    static_equal = all(None not in s for s in shapes) and len(set(shapes)) == 1
    return None if len(node.inputs) < 2 or static_equal else shapes


@functools.lru_cache(maxsize=4096)
def natural_dtype(fn: Callable, dtypes: tuple[str, ...]) -> np.dtype | None:
    """The dtype ``fn`` returns for inputs of ``dtypes`` (probed on one-element arrays), or None if it fails."""
    probes = [np.ones(1, dtype=d) for d in dtypes]
    try:
        with np.errstate(all="ignore"):
            return np.asarray(fn(*probes)).dtype
    except Exception:
        return None


def elemwise_impl(node: Apply) -> Callable:
    """The callable computing an Elemwise node (or an ``InPlace`` one, written into its input's buffer)."""
    target = node.op.destroy_map.get(0) if isinstance(node.op, InPlace) else None
    node = plain_node(node)
    row = node.op.scalar_op
    fn = row.numpy
    out_dtype = np.dtype(node.outputs[0].type.dtype)
    needs_cast = natural_dtype(fn, tuple(v.type.dtype for v in node.inputs)) != out_dtype
    shapes = shapes_to_check(node)
    needs_check = shapes is not None
    name = row.name
    if row.dtype_rule == "float" and any(v.type.dtype not in ("float32", "float64") for v in node.inputs):
        fn = _computing_in(fn, out_dtype)  # int8 -> float32 before exp, not float16 overflow then cast
        needs_cast = False
    elif target is not None and not needs_cast:
        into = _written_into(fn, len(node.inputs), target)
        if into is not None:
            if not needs_check:
                into.writes_in_place = True
                return into

            def checked_into(*xs):
                check_runtime_broadcast(name, xs, shapes)
                return into(*xs)

            checked_into.writes_in_place = True
            return checked_into
    if not needs_cast and not needs_check:
        return fn
    if not needs_check:
        return lambda *xs: fn(*xs).astype(out_dtype)

    def checked(*xs):
        check_runtime_broadcast(name, xs, shapes)
        out = fn(*xs)
        return out.astype(out_dtype) if needs_cast else out

    return checked


def written_into_buffer(fn: Callable) -> Callable | None:
    """``fn`` as a NumPy ufunc that takes ``out=`` (variadic rows: their binary ufunc), or None."""
    if isinstance(fn, np.ufunc):
        return fn
    binary = getattr(fn, "binary", None)
    return binary if isinstance(binary, np.ufunc) else None


def _written_into(fn: Callable, nin: int, target: int) -> Callable | None:
    """``fn(*xs)`` computed into the buffer of ``xs[target]`` when it is a writeable array; None when ``fn`` is
    not a ufunc. Variadic rows fold pairwise as their reference does, writing into the buffer from the step
    that reads it on (an earlier step would overwrite it before it is read)."""
    ufunc = written_into_buffer(fn)
    if ufunc is None:
        return None
    ndarray = np.ndarray
    if ufunc.nin == nin:
        def into(*xs):
            buf = xs[target]
            if buf.__class__ is ndarray and buf.flags.writeable:
                return ufunc(*xs, out=buf)
            return ufunc(*xs)

        return into
    first = max(target, 1)

    def fold_into(*xs):
        buf = xs[target]
        out = buf if buf.__class__ is ndarray and buf.flags.writeable else None
        acc = xs[0]
        for j in range(1, len(xs)):
            acc = ufunc(acc, xs[j], out=out) if j >= first and out is not None else ufunc(acc, xs[j])
        return acc

    return fold_into


def _computing_in(fn: Callable, dtype: np.dtype) -> Callable:
    """Wrap ``fn`` so its inputs are converted to ``dtype`` first."""

    def compute(*xs):
        return fn(*(np.asarray(x, dtype=dtype) for x in xs))

    return compute
