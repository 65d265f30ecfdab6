"""Each output's error against mpmath in two graphs side by side (a graph and its rewrite)."""

from __future__ import annotations

import html as _html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwright.graph.basic import Variable
from graphwright.graph.graph import Graph
from graphwright.workbench.mp_evaluation import Evaluation
from graphwright.workbench.tables import number_cell, text_table

__all__ = ["compare_numerics", "NumericsComparison", "OutputErrors"]


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

    _HEAD = ("output", "expression", "before abs err", "before rel err", "before nan/inf", "after abs err",
             "after rel err", "after nan/inf", "reference")

    def _cells(self, r: OutputErrors) -> list[str]:
        return [str(r.index), r.label, number_cell(r.before_abs), number_cell(r.before_rel), str(r.before_nonfinite),
                number_cell(r.after_abs), number_cell(r.after_rel), str(r.after_nonfinite), r.reference]

    def text(self) -> str:
        """Aligned columns, one line per output."""
        return text_table(self._HEAD, [self._cells(r) for r in self.rows])

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

    Parameters are those of :func:`graphwright.workbench.numerics.numerics`; both graphs get the same values.

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
    evs = [Evaluation(g, values, dps, max_elements) for g in (before, after)]
    rows = []
    for k, (b, a) in enumerate(zip(before.outputs, after.outputs, strict=True)):
        (b_abs, b_rel, b_ref), (a_abs, a_rel, a_ref) = evs[0].errors(b), evs[1].errors(a)
        ref = b_ref if b_ref == a_ref else f"before {b_ref}; after {a_ref}"
        nonfinite = [int((~np.isfinite(np.asarray(ev.get(v), dtype="float64"))).sum()) for ev, v in
                     zip(evs, (b, a), strict=True)]
        rows.append(OutputErrors(k, _label(b), b_abs, b_rel, a_abs, a_rel, *nonfinite, ref))
    return NumericsComparison(rows)
