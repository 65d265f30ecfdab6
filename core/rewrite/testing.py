"""Helpers for testing rules as equations: ``assert_rewrites("log(1 + x)", "log1p(x)")``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphwright.graph.basic import Variable
from graphwright.printing import short_str

__all__ = ["symbols", "assert_rewrites", "rewritten"]


def symbols(**specs: Any) -> dict[str, Variable]:
    """The default names for equation strings: x, y, z, a, b, c (float64 vectors), s, t (0-d), m, n
    (matrices), i, j (int64 vectors), p, q (bool vectors); keyword arguments override or add
    (``x=gw.matrix("x")``)."""
    import graphwright as gw

    names: dict[str, Variable] = {v: gw.vector(v) for v in "xyzabc"}
    names.update({v: gw.scalar(v) for v in "st"})
    names.update({v: gw.matrix(v) for v in "mn"})
    names.update({v: gw.vector(v, "int64") for v in "ij"})
    names.update({v: gw.vector(v, "bool") for v in "pq"})
    names.update(specs)
    return names


def _namespace(names: dict[str, Variable]) -> dict[str, Any]:
    import graphwright as gw

    ns = {k: getattr(gw, k) for k in gw.__all__}
    ns.update({"gw": gw, "np": np, "inf": np.inf})
    ns.update(names)
    return ns


def _build(expr: str | Variable, ns: dict[str, Any]) -> Variable:
    return eval(expr, {"__builtins__": {}}, ns) if isinstance(expr, str) else expr  # noqa: S307


def rewritten(expr: str | Variable, phases: str | Sequence[str] = "fast_run", names: dict | None = None,
              **kwargs: Any) -> tuple[Variable, Any]:
    """Rewrite one expression; returns ``(output, trace)``."""
    from graphwright.rewrite.engine import rewrite

    ns = _namespace(names or symbols())
    graph, trace = rewrite(_build(expr, ns), phases=phases, **kwargs)
    return graph.outputs[0], trace


def assert_rewrites(before: str | Variable, after: str | Variable, phases: str | Sequence[str] = "fast_run",
                    names: dict | None = None, rule: str | None = None, values: dict | None = None,
                    check: bool = True, **kwargs: Any) -> Any:
    """Assert that rewriting ``before`` gives exactly ``after`` (the same hash-consed graph).

    Parameters
    ----------
    before, after : expressions (strings evaluated with :func:`symbols` and the ``gw`` functions) or variables.
    rule : if given, this rule must appear among the steps.
    values : ``{name: array}``: also compare the values of ``before`` (reference: rewrites off) and the
        rewritten graph where ``before`` is finite, and return both.
    check : run the rewrite with the numeric step check.

    Returns the trace (or ``(trace, before_value, after_value)`` when ``values`` is given).

    Examples
    --------
    >>> _ = assert_rewrites("log(1 + exp(x))", "softplus(x)", phases="stabilize")
    """
    names = names or symbols()
    ns = _namespace(names)
    b, a = _build(before, ns), _build(after, ns)
    out, trace = rewritten(b, phases, names, check=check, **kwargs)
    if out is not a:
        raise AssertionError(f"{short_str(b)} rewrote to\n  {short_str(out)}\nnot\n  {short_str(a)}\nsteps:\n"
                             f"{trace.text() or '  (none)'}\nrefusals:\n"
                             + "\n".join(str(r) for r in trace.refusals))
    if rule is not None and not trace.steps_of(rule):
        raise AssertionError(f"rule {rule!r} did not fire; steps were:\n{trace.text()}")
    if values is None:
        return trace
    import graphwright as gw

    inputs = [names[k] for k in values]
    ref = gw.function(inputs, b, rewrites=None)(*values.values())
    got = gw.function(inputs, out, rewrites=None)(*values.values())
    return trace, ref, got
