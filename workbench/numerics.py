"""Value statistics of every node of a graph and its error against an mpmath reference: where precision is lost."""

from __future__ import annotations

import html as _html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.destroy import plain_op
from graphwright.graph.graph import Graph
from graphwright.workbench.mp_evaluation import MAX_DPS, Evaluation
from graphwright.workbench.numerics_compare import NumericsComparison, OutputErrors, compare_numerics
from graphwright.workbench.tables import number_cell, text_table

# compare_numerics and its tables live in numerics_compare; they are re-exported here
__all__ = ["NodeNumerics", "NumericsReport", "numerics", "compare_numerics", "NumericsComparison", "OutputErrors",
           "MAX_DPS"]


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


_HEAD = ("id", "op", "shape", "dtype", "range", "nan", "inf", "max abs err", "max rel err", "reference")


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
        """Hover text per variable (``graphwright.viz.to_dot(stats=...)``): :meth:`NodeNumerics.summary`.

        Examples
        --------
        >>> import numpy as np, graphwright as gw
        >>> x = gw.vector("x")
        >>> y = gw.exp(x)
        >>> numerics(gw.Graph([x], [y]), [np.array([0.0, 800.0])]).stats()[y]
        'float64[2] [1, 1]; nan 0, inf 1; err abs 0.00e+00 rel 0.00e+00'
        """
        return {r.variable: r.summary() for r in self.rows if r.variable is not None}

    def _cells(self, r: NodeNumerics) -> list[str]:
        rng = "-" if r.min is None else f"[{r.min:.4g}, {r.max:.4g}]"
        return [r.node_id, r.label, "x".join(map(str, r.shape)) or "()", r.dtype, rng, str(r.n_nan), str(r.n_inf),
                number_cell(r.max_abs_err), number_cell(r.max_rel_err), r.reference]

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
        notes = {i: "<- first non-finite" for i, r in enumerate(self.rows) if r is self.first_nonfinite}
        return text_table(_HEAD, [self._cells(r) for r in self.rows], notes=notes)

    def html(self) -> str:
        """A ``<table class="gw-numerics">``; the first non-finite row has class ``gw-first-nonfinite``, rows
        with NaN/Inf ``gw-nonfinite``, each ``<tr>`` a ``data-node`` attribute with the node id.

        Examples
        --------
        >>> import numpy as np, graphwright as gw
        >>> x = gw.vector("x")
        >>> html = numerics(gw.Graph([x], [gw.log(gw.exp(x))]), [np.array([1.0, 800.0])]).html()
        >>> html.startswith('<table class="gw-numerics">'), '<tr data-node="n0" class="gw-first-nonfinite">' in html
        (True, True)
        >>> '<tr data-node="n1" class="gw-nonfinite">' in html
        True
        """
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
        float twice in a row and no add/sub of inexact operands cancels to exactly 0 (up to ``MAX_DPS``; a value
        still changing there gets no reference; see :class:`~graphwright.workbench.mp_evaluation.Evaluation`).
        Each float input converts exactly, so the errors are those of the float evaluation (an op without a
        high-precision form gets reference "none: ..." and so do the nodes that depend on it; never an
        approximate reference). Errors are :func:`~graphwright.workbench.metrics.max_errors`.
    max_elements : no reference when the graph's values hold more elements than this (mpmath is slow).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> report = numerics(gw.Graph([x], [gw.log(1 + gw.exp(x))]), [np.array([1.0, 800.0])])
    >>> report.first_nonfinite.label, report.rows[-1].max_rel_err
    ('exp', inf)
    """
    ev = Evaluation(graph, values, dps, max_elements)
    return NumericsReport(*_rows(graph, ev, ids), ev.dps)


def _rows(graph: Graph, ev: Evaluation, ids: Any) -> tuple[list[NodeNumerics], NodeNumerics | None]:
    """One row per node output, and the first row with NaN/Inf whose node's inputs had none."""
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
    return rows, first
