"""Value statistics of every node of a graph and its error against an mpmath reference: where precision is lost."""

from __future__ import annotations

import html as _html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.destroy import plain_op
from graphwright.graph.graph import Graph
from graphwright.workbench.bench import random_values, resolve_values
from graphwright.workbench.mp_reference import NoReference, evaluate_node, to_float, to_mp

__all__ = ["NodeNumerics", "NumericsReport", "numerics", "compare_numerics", "NumericsComparison", "OutputErrors"]


@dataclass
class NodeNumerics:
    """Statistics of one node output: range of its finite values, NaN/Inf counts, error against mpmath.

    ``reference`` is "mpmath" when the errors were measured, else "none: <why>" (errors None then).
    ``output`` is the output's index on a multi-output node; ``variable`` the graph variable.

    Examples
    --------
    >>> row = NodeNumerics("n0", "exp", (2,), "float64", 2.718, 2.718, 0, 1, 0.0, 0.0, "mpmath")
    >>> row.finite, row.summary()
    (False, 'float64[2] [2.718, 2.718]; nan 0, inf 1; err abs 0.00e+00 rel 0.00e+00')
    """

    node_id: str
    label: str
    shape: tuple[int, ...]
    dtype: str
    min: float | None
    max: float | None
    n_nan: int
    n_inf: int
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    reference: str = "none: not computed"
    output: int = 0
    variable: Variable | None = field(default=None, repr=False, compare=False)

    @property
    def finite(self) -> bool:
        """No NaN or Inf in the value."""
        return self.n_nan == 0 and self.n_inf == 0

    def summary(self) -> str:
        """One line: shape, dtype, range, NaN/Inf counts and errors (hover text of the node)."""
        rng = "no finite values" if self.min is None else f"[{self.min:.4g}, {self.max:.4g}]"
        err = (f"; err abs {self.max_abs_err:.2e} rel {self.max_rel_err:.2e}" if self.max_abs_err is not None
               else f"; reference {self.reference}")
        return f"{self.dtype}{list(self.shape)} {rng}; nan {self.n_nan}, inf {self.n_inf}{err}"

    def __str__(self) -> str:
        return f"{self.node_id} {self.label}: {self.summary()}"


MAX_DPS = 1600  # the reference doubles its digits up to this many while a value still changes

_HEAD = ("id", "op", "shape", "dtype", "range", "nan", "inf", "max abs err", "max rel err", "reference")


def _num(v: float | None, fmt: str = ".3g") -> str:
    return "-" if v is None else format(v, fmt)


@dataclass
class NumericsReport:
    """One :class:`NodeNumerics` per node output in topological order; ``first_nonfinite`` is the first row
    that has NaN or Inf although no input of its node had any (where the trouble starts).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> report = numerics(gw.Graph([x], [gw.sqrt(x - 1)]), [np.array([0.0, 2.0])])
    >>> [r.label for r in report.rows], report.first_nonfinite.label
    (['sub', 'sqrt'], 'sqrt')
    """

    rows: list[NodeNumerics]
    first_nonfinite: NodeNumerics | None = None
    dps: int = 50

    def row(self, node_id: str) -> NodeNumerics:
        """The (first) row of node ``node_id``."""
        for r in self.rows:
            if r.node_id == node_id:
                return r
        raise KeyError(f"no node {node_id!r} in this report")

    def stats(self) -> dict[Variable, str]:
        """Hover text per variable (``graphwright.viz.to_dot(stats=...)``)."""
        return {r.variable: r.summary() for r in self.rows if r.variable is not None}

    def _cells(self, r: NodeNumerics) -> list[str]:
        rng = "-" if r.min is None else f"[{r.min:.4g}, {r.max:.4g}]"
        return [r.node_id, r.label, "x".join(map(str, r.shape)) or "()", r.dtype, rng, str(r.n_nan), str(r.n_inf),
                _num(r.max_abs_err, ".2e"), _num(r.max_rel_err, ".2e"), r.reference]

    def text(self) -> str:
        """Aligned columns; the first non-finite row is marked ``<- first non-finite``.

        Examples
        --------
        >>> import numpy as np, graphwright as gw
        >>> x = gw.vector("x")
        >>> numerics(gw.Graph([x], [gw.exp(x)]), [np.array([1.0, 800.0])]).text().endswith("<- first non-finite")
        True
        >>> numerics(gw.Graph([x], [gw.exp(x)]), [np.array([1.0, 800.0])]).text().splitlines()[2].split()[:8]
        ['n0', 'exp', '2', 'float64', '[2.718,', '2.718]', '0', '1']
        """
        cells = [list(_HEAD)] + [self._cells(r) for r in self.rows]
        widths = [max(len(c[k]) for c in cells) for k in range(len(_HEAD))]
        lines = []
        for i, c in enumerate(cells):
            line = "  ".join(s.ljust(w) for s, w in zip(c, widths, strict=True)).rstrip()
            if i and self.rows[i - 1] is self.first_nonfinite:
                line += "  <- first non-finite"
            lines.append(line)
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def html(self) -> str:
        """A ``<table class="gw-numerics">``; the first non-finite row has class ``gw-first-nonfinite``, rows
        with NaN/Inf ``gw-nonfinite``, each ``<tr>`` a ``data-node`` attribute with the node id."""
        head = "".join(f"<th>{h}</th>" for h in _HEAD)
        body = []
        for r in self.rows:
            cls = "gw-first-nonfinite" if r is self.first_nonfinite else "" if r.finite else "gw-nonfinite"
            cells = "".join(f"<td>{_html.escape(c)}</td>" for c in self._cells(r))
            body.append(f'<tr data-node="{_html.escape(r.node_id)}"' + (f' class="{cls}"' if cls else "") +
                        f">{cells}</tr>")
        return (f'<table class="gw-numerics"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
                f"<caption>errors against mpmath at {self.dps} digits</caption></table>")

    def _repr_html_(self) -> str:
        return self.html()


class _Evaluation:
    """Float values (``perform``) and mp values (or why there are none) of every variable of a graph."""

    def __init__(self, graph: Graph, values: Any, dps: int, max_elements: int):
        args = random_values(graph.inputs, length=10) if values is None else resolve_values(graph, values)
        self.graph = graph
        self.value: dict[Variable, np.ndarray] = dict(zip(graph.inputs, args, strict=True))
        with np.errstate(all="ignore"):
            for node in graph.toposort:
                self._float(node)
        self.total = sum(int(np.size(v)) for v in self.value.values())
        self.mp: dict[Variable, np.ndarray] = {}
        self.why: dict[Variable, str] = {}
        if self.total > max_elements:
            self.too_large = f"none: too large ({self.total} elements; max_elements={max_elements})"
            return
        self.too_large = None
        self.dps = self._resolve(args, dps)

    def _resolve(self, args: list, dps: int) -> int:
        """Evaluate at ``dps`` digits, then at twice as many, doubling until every value rounds to the same
        float (a cancellation deeper than the precision shows up as a change); values still changing at
        :data:`MAX_DPS` digits get no reference. Returns the digits used."""
        self._mp_pass(args, dps)
        while True:
            previous, dps = self.mp, min(2 * dps, MAX_DPS)
            self._mp_pass(args, dps)
            unsettled = [v for v, a in self.mp.items() if v in previous and not _same_floats(a, previous[v])]
            if not unsettled and not any(self._cancelled(node) for node in self.graph.toposort):
                return dps
            if dps >= MAX_DPS:  # a sum still exactly 0 here is taken as exact (x - x); a changing value is not
                for v in unsettled:
                    del self.mp[v]
                    self.why[v] = f"none: not resolved at {MAX_DPS} digits"
                return dps

    def _cancelled(self, node: Apply) -> bool:
        """Did an add or sub give exactly 0 from non-zero operands? At this precision the operands may only
        look equal (1 - sigmoid(800) needs about 350 digits), so the reference takes more digits."""
        op = plain_op(node)
        name = getattr(getattr(op, "scalar_op", None), "name", None)
        if name not in ("add", "sub") or node.outputs[0] not in self.mp:
            return False
        out = np.asarray(self.mp[node.outputs[0]])
        if any(v not in self.mp and not isinstance(v, Constant) for v in node.inputs) or out.dtype != object:
            return False
        operands = [np.asarray(to_mp(v.data) if isinstance(v, Constant) else self.mp[v]) for v in node.inputs]
        nonzero = np.zeros(out.shape, dtype=bool)
        for o in operands:
            nonzero |= np.broadcast_to(o != 0, out.shape)
        return bool(np.any((out == 0) & nonzero))

    def _mp_pass(self, args: list, dps: int) -> None:
        self.mp, self.why = {}, {}
        with mpmath.workdps(dps), np.errstate(all="ignore"):
            self.mp.update({v: to_mp(a) for v, a in zip(self.graph.inputs, args, strict=True)})
            for node in self.graph.toposort:
                self._reference(node)

    def get(self, var: Variable) -> np.ndarray:
        return np.asarray(var.data) if isinstance(var, Constant) else self.value[var]

    def _float(self, node: Apply) -> None:
        out = plain_op(node).perform(*(self.get(v) for v in node.inputs))
        outs = out if len(node.outputs) > 1 else (out,)
        self.value.update((v, np.asarray(o)) for v, o in zip(node.outputs, outs, strict=True))

    def _reference(self, node: Apply) -> None:
        blocked = next((v for v in node.inputs if v in self.why), None)
        if blocked is not None:
            why = self.why[blocked]
            reason = why if why.startswith("none: input") else f"none: input {blocked.owner.op.short_name()} " \
                                                                 "has no high-precision evaluation"
            self.why.update((v, reason) for v in node.outputs)
            return
        args = [to_mp(v.data) if isinstance(v, Constant) else self.mp[v] for v in node.inputs]
        try:
            outs = evaluate_node(node, args)
        except NoReference as exc:
            self.why.update((v, f"none: {exc}") for v in node.outputs)
            return
        self.mp.update(zip(node.outputs, outs, strict=True))

    def errors(self, var: Variable) -> tuple[float | None, float | None, str]:
        """(max abs error, max rel error, reference) of ``var``'s float value against its mp value."""
        if self.too_large:
            return None, None, self.too_large
        if isinstance(var, Constant):
            return 0.0, 0.0, "mpmath"
        if var not in self.mp:
            return None, None, self.why.get(var, "none: not computed")
        return (*_errors(self.value[var], self.mp[var]), "mpmath")


def _same_floats(a: np.ndarray, b: np.ndarray) -> bool:
    """Do two mp arrays round to the same floats (NaN equal to NaN)?"""
    fa, fb = to_float(a), to_float(b)
    return fa.shape == fb.shape and bool(np.all((fa == fb) | (np.isnan(fa) & np.isnan(fb))))


def _errors(got: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    """Max abs and rel error of ``got`` against the exact values (rounded to float64 once); elements without
    a reference (NaN there while ``got`` is a number) are left out; equal values, NaN with NaN, count as 0."""
    ref = to_float(exact)
    got = np.asarray(got).astype("float64")
    got, ref = np.broadcast_arrays(got, ref)
    with np.errstate(all="ignore"):
        same = (got == ref) | (np.isnan(got) & np.isnan(ref))
        use = same | ~np.isnan(ref)
        diff = np.where(same, 0.0, np.abs(got - ref))
        diff = np.where(np.isnan(diff), np.inf, diff)[use]
        rel = (diff / np.maximum(np.abs(ref[use]), np.finfo("float64").tiny))
    if diff.size == 0:
        return 0.0, 0.0
    return float(diff.max()), float(np.where(diff == 0, 0.0, rel).max())


def _stats(value: np.ndarray) -> tuple[float | None, float | None, int, int]:
    v = np.asarray(value)
    if v.dtype.kind not in "biuf":
        return None, None, 0, 0
    v = v.astype("float64") if v.dtype.kind != "f" else v
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (None, None)
    return lo, hi, int(np.isnan(v).sum()), int(np.isinf(v).sum())


def _node_id(ids: Any, node: Apply, k: int) -> str:
    return ids.of(node) if ids is not None else f"n{k}"


def numerics(graph: Graph, values: Mapping[Variable, Any] | Sequence[Any] | None, *, ids: Any = None,
             dps: int = 50, max_elements: int = 20000) -> NumericsReport:
    """Evaluate every node of ``graph`` in floating point and against an mpmath reference at ``dps`` digits.

    Parameters
    ----------
    graph : the graph (as written: it is not rewritten).
    values : a dict from input variables or a list in input order; None: small random inputs.
    ids : a ``graphwright.viz.NodeIds`` for the node ids (default: ``n<k>`` by topological position).
    dps : decimal digits the reference starts with; it doubles them until every value rounds to the same
        float twice in a row (up to ``MAX_DPS``; a value still changing there gets no reference). Each float
        input converts exactly, so the errors are those of the float evaluation (an op without a high-precision form
        gets reference "none: ..." and so do the nodes that depend on it; never an approximate reference).
    max_elements : no reference when the graph's values hold more elements than this (mpmath is slow).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> report = numerics(gw.Graph([x], [gw.log(1 + gw.exp(x))]), [np.array([1.0, 800.0])])
    >>> report.first_nonfinite.label, report.rows[-1].max_rel_err
    ('exp', inf)
    """
    ev = _Evaluation(graph, values, dps, max_elements)
    rows: list[NodeNumerics] = []
    first = None
    for k, node in enumerate(graph.toposort):
        node_id = _node_id(ids, node, k)
        label = plain_op(node).short_name()
        inputs_finite = all(_stats(ev.get(v))[2:] == (0, 0) for v in node.inputs)
        for j, var in enumerate(node.outputs):
            value = ev.value[var]
            lo, hi, n_nan, n_inf = _stats(value)
            abs_err, rel_err, ref = ev.errors(var)
            row = NodeNumerics(node_id, label + (f" [output {j}]" if len(node.outputs) > 1 else ""),
                               tuple(value.shape), value.dtype.name, lo, hi, n_nan, n_inf, abs_err, rel_err, ref,
                               j, var)
            rows.append(row)
            if first is None and inputs_finite and (n_nan or n_inf):
                first = row
    return NumericsReport(rows, first, ev.dps if ev.too_large is None else dps)


@dataclass
class OutputErrors:
    """One output's error against mpmath before and after rewriting (None: no reference, see ``reference``).

    Examples
    --------
    >>> OutputErrors(0, "exp(x)", 0.0, 0.0, 0.0, 0.0, 0, 0, "mpmath").reference
    'mpmath'
    """

    index: int
    label: str
    before_abs: float | None
    before_rel: float | None
    after_abs: float | None
    after_rel: float | None
    before_nonfinite: int
    after_nonfinite: int
    reference: str


@dataclass
class NumericsComparison:
    """The table of :func:`compare_numerics`, with ``text()`` and ``html()``.

    Examples
    --------
    >>> table = NumericsComparison([OutputErrors(0, "exp(x)", 0.0, 0.0, 0.0, 0.0, 0, 0, "mpmath")])
    >>> table.text().splitlines()[2].split()[:3]
    ['0', 'exp(x)', '0.00e+00']
    """

    rows: list[OutputErrors]

    def _cells(self, r: OutputErrors) -> list[str]:
        return [str(r.index), r.label, _num(r.before_abs, ".2e"), _num(r.before_rel, ".2e"), str(r.before_nonfinite),
                _num(r.after_abs, ".2e"), _num(r.after_rel, ".2e"), str(r.after_nonfinite), r.reference]

    _HEAD = ("output", "expression", "before abs err", "before rel err", "before nan/inf", "after abs err",
             "after rel err", "after nan/inf", "reference")

    def text(self) -> str:
        """Aligned columns, one line per output."""
        cells = [list(self._HEAD)] + [self._cells(r) for r in self.rows]
        widths = [max(len(c[k]) for c in cells) for k in range(len(self._HEAD))]
        lines = ["  ".join(s.ljust(w) for s, w in zip(c, widths, strict=True)).rstrip() for c in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def html(self) -> str:
        """A ``<table class="gw-numerics-compare">``."""
        head = "".join(f"<th>{h}</th>" for h in self._HEAD)
        body = "".join("<tr>" + "".join(f"<td>{_html.escape(c)}</td>" for c in self._cells(r)) + "</tr>"
                       for r in self.rows)
        return f'<table class="gw-numerics-compare"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        return self.text()


def _label(var: Variable) -> str:
    from graphwright.printing import short_str

    text = short_str(var)
    return text if len(text) <= 60 else text[:57] + "..."


def compare_numerics(before: Graph, after: Graph, values: Mapping[Variable, Any] | Sequence[Any] | None, *,
                     dps: int = 50, max_elements: int = 20000) -> NumericsComparison:
    """Each output's error against mpmath in ``before`` and in ``after`` (e.g. a graph and its rewrite).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> naive = gw.Graph([x], [gw.log(1 + gw.exp(x))])
    >>> stable, _ = gw.rewrite(naive)
    >>> r = compare_numerics(naive, stable, [np.array([800.0])]).rows[0]
    >>> r.before_rel, r.after_rel
    (inf, 0.0)
    """
    if len(before.outputs) != len(after.outputs):
        raise ValueError(f"compare_numerics: before has {len(before.outputs)} outputs, after "
                         f"{len(after.outputs)}")
    evs = [_Evaluation(g, values, dps, max_elements) for g in (before, after)]
    rows = []
    for k, (b, a) in enumerate(zip(before.outputs, after.outputs, strict=True)):
        (b_abs, b_rel, b_ref), (a_abs, a_rel, a_ref) = evs[0].errors(b), evs[1].errors(a)
        ref = b_ref if b_ref == a_ref else f"before {b_ref}; after {a_ref}"
        nonfinite = [int((~np.isfinite(np.asarray(ev.get(v), dtype="float64"))).sum()) for ev, v in
                     zip(evs, (b, a), strict=True)]
        rows.append(OutputErrors(k, _label(b), b_abs, b_rel, a_abs, a_rel, *nonfinite, ref))
    return NumericsComparison(rows)
