"""Numeric checks of rewrite steps: evaluate before and after on random and edge-case inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphwright.graph.basic import Variable

__all__ = ["sample_inputs", "values_agree", "check_step", "EDGE_FLOATS"]

# Values where naive formulas overflow, underflow or cancel.
EDGE_FLOATS = (0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-300, -1e-300, 1e-8, -1e-8, 30.0, -30.0, 700.0, -700.0,
               1e300, -1e300, 2.0, 1e5, -1e5)
EDGE_INTS = (0, 1, -1, 2, -2, 3, 7)
_LENGTHS = (3, 4, 1)


def sample_inputs(inputs: Sequence[Variable], rng: np.random.Generator, kind: str, length: int = 3) -> list:
    """Values for ``inputs``: ``kind`` is "random" (moderate values) or "edge" (extremes, zeros, tiny values).

    Unknown lengths become ``length``.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> [v.shape for v in sample_inputs([gw.matrix("m", shape=(2, None))], np.random.default_rng(0), "edge")]
    [(2, 3)]
    """
    values = []
    for var in inputs:
        t = var.type
        shape = tuple(length if s is None else s for s in t.shape)
        size = int(np.prod(shape))
        if t.dtype == "bool":
            data = rng.integers(0, 2, size).astype(bool)
        elif t.dtype.startswith("float"):
            data = (rng.normal(0, 1.5, size) if kind == "random"
                    else rng.choice(np.array(EDGE_FLOATS), size))
        else:
            low = 0 if t.dtype == "uint8" else -3
            data = rng.integers(low, 4, size) if kind == "random" else rng.choice(np.array(EDGE_INTS), size)
            if t.dtype == "uint8":
                data = np.abs(data)
        with np.errstate(over="ignore"):
            values.append(np.asarray(data, dtype=t.dtype).reshape(shape))
    return values


def values_agree(before: np.ndarray, after: np.ndarray, dtype: str) -> np.ndarray:
    """Elementwise: does ``after`` agree with ``before``? Where ``before`` is not finite anything goes (a
    stabilised form may well be finite where the naive one overflowed)."""
    before, after = np.broadcast_arrays(np.asarray(before), np.asarray(after))
    if not dtype.startswith("float"):
        return before == after
    rtol, atol = (1e-5, 1e-8) if dtype == "float64" else (2e-3, 1e-4)
    with np.errstate(all="ignore"):
        close = np.abs(after - before) <= atol + rtol * np.abs(before)
    return ~np.isfinite(before) | (np.isfinite(after) & close)


def check_step(trace, step) -> None:
    """Raise RewriteError if ``step`` changed the values of the graph (on random and edge-case inputs)."""
    from graphwright.backends.compile import function
    from graphwright.rewrite.engine import RewriteError

    inputs = list(trace.initial.inputs)
    try:
        fn = function(inputs, [step.replaced, step.replacement], rewrites=None)
    except Exception as exc:  # pragma: no cover - replacements are type-checked before this
        raise RewriteError(f"step {step.index + 1} ({step.rule.name}) cannot be compiled: {exc}") from exc
    rng = np.random.default_rng(step.index)
    for kind in ("random", "edge", "edge"):
        for length in _LENGTHS:
            values = sample_inputs(inputs, rng, kind, length)
            try:
                with np.errstate(all="ignore"):
                    before, after = fn(*values)
            except Exception:
                continue  # these sizes do not fit the graph (a reshape, a static length): try others
            if np.shape(before) != np.shape(after):
                raise RewriteError(
                    f"rule {step.rule.name} changed the shape in step {step.index + 1} ({step.phase}): "
                    f"{step.replaced} -> {step.replacement} gives {np.shape(after)} instead of {np.shape(before)}")
            ok = values_agree(before, after, step.replaced.type.dtype)
            if not np.all(ok):
                bad = np.argwhere(~np.broadcast_to(ok, np.shape(ok)))[0]
                shown = ", ".join(f"{v.name or 'input'}={np.asarray(x).ravel()[:4]}" for v, x in zip(
                    inputs, values, strict=True))
                raise RewriteError(
                    f"rule {step.rule.name} changed values in step {step.index + 1} ({step.phase}): "
                    f"{step.replaced} -> {step.replacement}; at index {tuple(bad)} before="
                    f"{np.asarray(before)[tuple(bad)] if np.ndim(before) else before}, after="
                    f"{np.asarray(after)[tuple(bad)] if np.ndim(after) else after} (inputs {shown})")
            break
