"""``verify_grad``: symbolic gradients against central finite differences along random directions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from graphwright.graph.basic import GraphError

__all__ = ["verify_grad", "GradientCheck", "GradientCheckError"]


class GradientCheckError(AssertionError):
    """A symbolic gradient disagrees with finite differences; the message is the full report."""


@dataclass
class GradientCheck:
    """The outcome of :func:`verify_grad`: one row per float input, and whether all agree."""

    rows: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r["ok"] for r in self.rows)

    def __str__(self) -> str:
        lines = [f"{'input':10s} {'shape':>12s} {'symbolic':>14s} {'numeric':>14s} {'abs err':>10s} "
                 f"{'rel err':>10s}  ok"]
        for r in self.rows:
            lines.append(f"{r['input']:10s} {str(r['shape']):>12s} {r['symbolic']:14.7g} {r['numeric']:14.7g} "
                         f"{r['abs_err']:10.2e} {r['rel_err']:10.2e}  {'yes' if r['ok'] else 'NO'}")
        return "\n".join(lines)


def verify_grad(fn: Callable, inputs: Sequence, *, seed: int = 0, eps: float | None = None,
                rtol: float | None = None, atol: float | None = None, stabilize: bool = True,
                raise_error: bool = True, symbols: Sequence | None = None) -> GradientCheck:
    """Check ``gw.grad`` of ``fn`` at ``inputs`` against central finite differences.

    ``fn`` maps symbolic inputs (one per array in ``inputs``, same dtypes, static length-1 dimensions kept) to a
    variable; a non-scalar result is projected onto fixed random weights, so every output element counts.
    For each float input, the directional derivative along a random unit direction ``u`` is compared:
    ``sum(grad * u)`` against ``(f(x + h u) - f(x - h u)) / 2h``. Integer inputs are held fixed.

    Parameters
    ----------
    fn : symbolic function of the inputs.
    inputs : the point (NumPy arrays or numbers).
    seed : seeds the projection weights and directions.
    eps : the step ``h`` (default: 1e-6 for float64, 1e-3 for float32, scaled by the input's magnitude).
    rtol, atol : tolerances on the directional derivatives (defaults depend on the dtype).
    stabilize : passed to ``gw.grad``.
    raise_error : raise GradientCheckError with the report when an input disagrees (else just return it).
    symbols : the symbolic inputs to call ``fn`` with (default: fresh ones of the inputs' dtypes, with only the
        length-1 dimensions static).

    Examples
    --------
    >>> import numpy as np
    >>> import graphwright as gw
    >>> report = gw.verify_grad(lambda x: gw.sum(gw.tanh(x) ** 2), [np.array([0.1, -0.7, 2.0])])
    >>> report.ok
    True
    """
    import graphwright as gw

    rng = np.random.default_rng(seed)
    values = [np.asarray(v) for v in inputs]
    if symbols is None:
        symbols = [gw.tensor(f"x{i}", dtype=v.dtype.name, shape=tuple(1 if n == 1 else None for n in v.shape))
                   for i, v in enumerate(values)]
    symbols = list(symbols)
    out = gw.as_tensor(fn(*symbols))
    if out.type.ndim:
        with np.errstate(all="ignore"):
            out_shape = np.shape(gw.function(symbols, out, rewrites=None)(*values))
        weights = gw.constant(rng.standard_normal(out_shape).astype(out.type.dtype))
        cost = gw.sum(out * weights)
    else:
        cost = out
    floats = [k for k, v in enumerate(values) if v.dtype.kind == "f"]
    if not floats:
        raise GraphError("verify_grad: no float input to differentiate with respect to")
    grads = gw.grad(cost, [symbols[k] for k in floats], disconnected="ignore", stabilize=stabilize)
    f_cost = gw.function(symbols, cost)
    f_grads = gw.function(symbols, grads)
    analytic = f_grads(*values)
    report = GradientCheck()
    for k, g in zip(floats, analytic, strict=True):
        report.rows.append(_check_one(f_cost, values, k, np.asarray(g), rng, eps, rtol, atol, symbols[k]))
    if raise_error and not report.ok:
        raise GradientCheckError(f"gradient check failed for {cost}:\n{report}")
    return report


def _check_one(f_cost, values, k, g, rng, eps, rtol, atol, symbol) -> dict:
    x = values[k]
    single = x.dtype == np.float32
    u = rng.standard_normal(x.shape)
    u /= max(np.linalg.norm(u), 1e-300)
    h = (eps or (1e-3 if single else 1e-6)) * max(1.0, float(np.max(np.abs(x), initial=0.0)))
    plus = [v if j != k else (x + h * u).astype(x.dtype) for j, v in enumerate(values)]
    minus = [v if j != k else (x - h * u).astype(x.dtype) for j, v in enumerate(values)]
    with np.errstate(all="ignore"):
        numeric = (float(f_cost(*plus)) - float(f_cost(*minus))) / (2 * h)
    symbolic = float(np.sum(g * u))
    err = abs(symbolic - numeric)
    rel = err / max(abs(numeric), abs(symbolic), 1e-300)
    rtol = rtol if rtol is not None else (1e-2 if single else 1e-5)
    atol = atol if atol is not None else (1e-3 if single else 1e-7)
    ok = bool(np.isfinite(symbolic) and err <= atol + rtol * max(abs(numeric), abs(symbolic)))
    return dict(input=symbol.name, shape=x.shape, symbolic=symbolic, numeric=numeric, abs_err=err, rel_err=rel,
                ok=ok)
