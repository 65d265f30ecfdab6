"""Numeric checks of rewrite steps: evaluate before and after on random and edge-case inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphwright.graph.basic import Variable

__all__ = ["sample_inputs", "values_agree", "rounding_spread", "domain_nans", "check_step", "EDGE_FLOATS"]

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
        if not t.is_tensor:  # another kind of value (a random generator) makes its own
            values.append(t.sample_value(rng))
            continue
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


def values_agree(before: np.ndarray, after: np.ndarray, dtype: str, spread: np.ndarray | None = None) -> np.ndarray:
    """Elementwise: does ``after`` agree with ``before``? Where ``before`` is not finite anything goes (a
    stabilised form may well be finite where the naive one overflowed). ``spread`` (see
    :func:`rounding_spread`) widens the tolerance where ``before`` itself is unreliable.

    Examples
    --------
    >>> values_agree(np.array([1.0, np.inf, 2.0]), np.array([1.0 + 1e-9, 5.0, 3.0]), "float64")
    array([ True,  True, False])
    """
    before, after = np.broadcast_arrays(np.asarray(before), np.asarray(after))
    if not dtype.startswith("float"):
        return before == after
    rtol, atol = (1e-5, 1e-8) if dtype == "float64" else (2e-3, 1e-4)
    with np.errstate(all="ignore"):
        slack = atol + rtol * np.abs(before) + (0 if spread is None else 8 * np.nan_to_num(spread, nan=0.0))
        close = np.abs(after - before) <= slack
    return ~np.isfinite(before) | (np.isfinite(after) & close)


def _perturbed(outputs: Sequence[Variable]) -> tuple[list[Variable], list[Variable]]:
    """A copy of the graph of ``outputs`` in which every float result is multiplied by ``1 + d`` (``d`` a new
    0-d input per result); returns the new outputs and the ``d`` inputs."""
    from graphwright.graph.graph import toposort
    from graphwright.tensor.variable import tensor

    mapping: dict[Variable, Variable] = {}
    noise: list[Variable] = []
    for node in toposort(list(outputs)):
        new = node.op.make_node(*(mapping.get(v, v) for v in node.inputs))
        for old, out in zip(node.outputs, new.outputs, strict=True):
            dtype = str(getattr(out.type, "dtype", ""))
            if dtype.startswith("float"):
                noise.append(tensor(f"d{len(noise)}", dtype, ()))
                out = out * (noise[-1] + 1.0)
            mapping[old] = out
    return [mapping.get(v, v) for v in outputs], noise


def rounding_spread(inputs: Sequence[Variable], outputs: Sequence[Variable], values: Sequence,
                    rng: np.random.Generator, samples: int = 4) -> list[np.ndarray]:
    """How far each output moves when every intermediate float result is perturbed by a couple of units in the
    last place (Monte Carlo arithmetic): an estimate of the rounding error of evaluating ``outputs`` as written.

    A stabilising rewrite differs from the naive form exactly where this is large (``log1p(-sigmoid(30))``
    loses three digits to ``1 - sigmoid(30)``), and agrees with it elsewhere.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> naive = gw.log1p(-gw.sigmoid(x))
    >>> spread, = rounding_spread([x], [naive], [np.array([0.0, 30.0])], np.random.default_rng(0))
    >>> bool(spread[0] < 1e-12), bool(spread[1] > 1e-5)
    (True, True)
    """
    from graphwright.backends.compile import function

    moved, noise = _perturbed(outputs)
    fn = function([*inputs, *noise], moved, rewrites=None, backend="numpy")
    with np.errstate(all="ignore"):
        base = [np.asarray(v, dtype=float) for v in function(list(inputs), list(outputs), rewrites=None,
                                                             backend="numpy")(*values)]
        spread = [np.zeros_like(b) for b in base]
        for _ in range(samples):
            ds = [np.asarray(rng.uniform(-2, 2) * np.finfo(d.type.dtype).eps, dtype=d.type.dtype) for d in noise]
            for k, got in enumerate(fn(*values, *ds)):
                spread[k] = np.fmax(spread[k], np.abs(np.asarray(got, dtype=float) - base[k]))
    return spread


def domain_nans(inputs: Sequence[Variable], var: Variable, values: Sequence, before: np.ndarray) -> np.ndarray:
    """Where ``var``'s own elementwise node turns finite, non-zero operands into NaN (``before`` holds its values).

    Such a NaN is a domain error of that very op (the log of a negative number): a rewrite of ``var`` must keep
    it, as ``log(log_softmax(x))`` must stay NaN. NaNs coming from the operands, and ``0 / 0`` or ``inf - inf``
    (which a stabilised form may rightly avoid), are not counted. False everywhere for other nodes.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> y = gw.log(gw.log_softmax(x))
    >>> values = [np.array([1.0, 2.0])]
    >>> domain_nans([x], y, values, gw.function([x], y, rewrites=None)(*values))
    array([ True,  True])
    """
    from graphwright.backends.compile import function
    from graphwright.tensor.composite import Composite
    from graphwright.tensor.elemwise import Elemwise

    before = np.asarray(before)
    node = var.owner
    if node is None or not isinstance(node.op, Elemwise | Composite) or before.dtype.kind != "f":
        return np.zeros(before.shape, dtype=bool)
    with np.errstate(all="ignore"):
        operands = function(list(inputs), list(node.inputs), rewrites=None, backend="numpy")(*values)
        clean = np.ones(before.shape, dtype=bool)
        for a in operands:
            a = np.asarray(a)
            clean &= np.broadcast_to((np.isfinite(a) & (a != 0)) if a.dtype.kind == "f" else True, before.shape)
    return np.isnan(before) & clean


def _agree(inputs: list, replaced: Variable, values: list, before, after, rng) -> np.ndarray:
    """Where the step keeps the values of ``replaced``: close (within the rounding error of the graph as
    written), and NaN where the replaced node itself makes a NaN out of valid operands."""
    dtype = replaced.type.dtype
    ok = values_agree(before, after, dtype)
    if not np.all(ok):  # is the graph as written accurate where they differ?
        ok = values_agree(before, after, dtype, rounding_spread(inputs, [replaced], values, rng)[0])
    if dtype.startswith("float") and np.any(np.isnan(before) & ~np.isnan(after)):
        ok = ok & ~(domain_nans(inputs, replaced, values, before) & ~np.isnan(after))
    return ok


def check_step(trace, step) -> None:
    """Raise RewriteError if ``step`` changed the values of the graph (on random and edge-case inputs); every
    output a node step replaced is checked, and the error names the pair that changed."""
    from graphwright.backends.compile import function
    from graphwright.rewrite.engine import RewriteError

    inputs = list(trace.initial.inputs)
    pairs = step.replacements
    try:
        fn = function(inputs, [v for pair in pairs for v in pair], rewrites=None)
    except Exception as exc:  # pragma: no cover - replacements are type-checked before this
        raise RewriteError(f"step {step.index + 1} ({step.rule.name}) cannot be compiled: {exc}") from exc
    rng = np.random.default_rng(step.index)
    for kind in ("random", "edge", "edge"):
        for length in _LENGTHS:
            values = sample_inputs(inputs, rng, kind, length)
            try:
                with np.errstate(all="ignore"):
                    results = fn(*values)
            except Exception:
                continue  # these sizes do not fit the graph (a reshape, a static length): try others
            for k, (replaced, replacement) in enumerate(pairs):
                _check_values(step, replaced, replacement, inputs, values, *results[2 * k:2 * k + 2], rng)
            break


def _check_values(step, replaced: Variable, replacement: Variable, inputs: list, values: list, before, after,
                  rng: np.random.Generator) -> None:
    """Raise RewriteError naming the rule and the pair when ``after`` differs from ``before`` in shape or value."""
    from graphwright.rewrite.engine import RewriteError

    if np.shape(before) != np.shape(after):
        raise RewriteError(
            f"rule {step.rule.name} changed the shape in step {step.index + 1} ({step.phase}): "
            f"{replaced} -> {replacement} gives {np.shape(after)} instead of {np.shape(before)}")
    ok = _agree(inputs, replaced, values, before, after, rng)
    if not np.all(ok):
        bad = np.argwhere(~np.broadcast_to(ok, np.shape(ok)))[0]
        shown = ", ".join(f"{v.name or 'input'}={np.asarray(x).ravel()[:4]}" for v, x in zip(
            inputs, values, strict=True))
        raise RewriteError(
            f"rule {step.rule.name} changed values in step {step.index + 1} ({step.phase}): "
            f"{replaced} -> {replacement}; at index {tuple(bad)} before="
            f"{np.asarray(before)[tuple(bad)] if np.ndim(before) else before}, after="
            f"{np.asarray(after)[tuple(bad)] if np.ndim(after) else after} (inputs {shown})")
