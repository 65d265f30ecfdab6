"""The Numerics tab of the session widget: per-node value ranges, NaN/Inf and errors of the rewritten graph and of
the original one, and each output's error before vs after rewriting."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from graphwright import viz
from graphwright.workbench.graph_view import GraphView, merge_mimebundle
from graphwright.workbench.widget_util import html_box, pre, user_namespace

__all__ = ["NumericsPanel", "BeforeAfter", "numerics_before_after", "first_line"]


@dataclass
class BeforeAfter:
    """The numerics of a session on one set of values: the per-node report of the current (rewritten) graph,
    of the original graph (None when no step changed it), and the outputs' errors before vs after.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> result = numerics_before_after(Session(gw.log(1 + gw.exp(gw.vector("x")))), [np.array([800.0])])
    >>> print(result.text().splitlines()[0])
    rewritten graph: all values finite
    """

    report: Any
    original: Any
    comparison: Any

    def text(self) -> str:
        """The first-non-finite lines, the two reports and the comparison, as plain text."""
        parts = [f"rewritten graph: {first_line(self.report)}"]
        if self.original is not None:
            parts.append(f"original graph: {first_line(self.original)}")
        parts += ["", "rewritten graph, per node:", self.report.text()]
        if self.original is not None:
            parts += ["", "original graph (before rewriting), per node:", self.original.text()]
        return "\n".join(parts + ["", "outputs before vs after rewriting:", self.comparison.text()])

    def html(self) -> str:
        """The two reports side by side (``gw-num-result`` and ``gw-num-original``), then the comparison."""
        cells = [f"<div class='gw-num-result'><b>rewritten graph</b>: {html.escape(first_line(self.report))}"
                 f"{self.report.html()}</div>"]
        if self.original is not None:
            cells.append(f"<div class='gw-num-original'><b>original graph</b>: "
                         f"{html.escape(first_line(self.original))}{self.original.html()}</div>")
        return (f"<div style='display:flex;flex-wrap:wrap;gap:1em'>{''.join(cells)}</div>"
                f"<b>outputs before vs after rewriting</b>{self.comparison.html()}")


def first_line(report: Any) -> str:
    """"all values finite", or where the first NaN/Inf appears.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.workbench.numerics import numerics
    >>> x = gw.vector("x")
    >>> first_line(numerics(gw.Graph([x], [gw.sqrt(x - 1)]), [np.array([0.0, 2.0])])).split(":")[0]
    'first non-finite value at n1 (sqrt)'
    """
    first = report.first_nonfinite
    if first is None:
        return "all values finite"
    return f"first non-finite value at {first.node_id} ({first.label}): {first.summary()}"


def numerics_before_after(session: Any, values: Any) -> BeforeAfter:
    """Evaluate the session's current graph (``session.numerics``, kept as ``last_numerics``) and its original
    graph node by node on ``values``, and compare the outputs (``compare_numerics``).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> s = Session(gw.log(1 + gw.exp(gw.vector("x"))))
    >>> result = numerics_before_after(s, [np.array([1.0, 800.0])])
    >>> result.report.first_nonfinite, result.original.first_nonfinite.label, s.last_numerics is result.report
    (None, 'exp', True)
    """
    from graphwright.workbench.numerics import compare_numerics, numerics

    report = session.numerics(values)
    original = None
    if session.steps:
        original = numerics(session.original, values, ids=session.ids_at(-1))
    comparison = compare_numerics(session.original, session.graph, values)
    return BeforeAfter(report, original, comparison)


class NumericsPanel(w.VBox):
    """Evaluate the session's graph node by node (on random inputs, or values given in Python) against an
    mpmath reference: the per-node tables of the rewritten graph and of the original graph (where an overflow
    usually starts) side by side, the rewritten graph with the statistics as hover text and the first
    non-finite node selected, and each output's error before vs after rewriting.

    Parameters
    ----------
    session : the :class:`~graphwright.workbench.session.Session`.
    on_select : called with the node id of the first non-finite node of the current graph (the session widget
        selects it in the Graph tab).
    on_report : called after each evaluation (the session widget redraws the Graph tab with the statistics).

    Notes
    -----
    CSS classes: ``gw-num-values`` (text box: a Python expression in the notebook namespace), ``gw-num-seed``,
    ``gw-num-run``, ``gw-num-status``, ``gw-num-result`` (``<table class="gw-numerics">`` of the rewritten
    graph), ``gw-num-original`` (the original graph's table), ``gw-num-view`` (the GraphView),
    ``gw-num-compare`` (``<table class="gw-numerics-compare">``).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> x = gw.vector("x")
    >>> panel = NumericsPanel(Session(gw.log(1 + gw.exp(x)), phases="stabilize"))
    >>> report = panel.run([np.array([1.0, 800.0])])
    >>> report.first_nonfinite is None, "gw-numerics-compare" in panel.compare.value
    (True, True)
    """

    def __init__(self, session: Any, *, on_select: Callable[[str], None] | None = None,
                 on_report: Callable[[], None] | None = None, height: str = "360px") -> None:
        self.session = session
        self.on_select, self.on_report = on_select, on_report
        self.report: Any = None
        self.original_report: Any = None
        self.comparison: Any = None
        self.values_expr = w.Text(placeholder="values: a Python expression (dict or list of arrays); empty: random",
                                  layout=w.Layout(width="60%"))
        self.values_expr.add_class("gw-num-values")
        self.seed = w.IntText(value=0, description="seed", layout=w.Layout(width="140px"))
        self.seed.add_class("gw-num-seed")
        self.run_button = w.Button(description="Evaluate", button_style="primary", layout=w.Layout(width="auto"))
        self.run_button.add_class("gw-num-run")
        self.status, self.compare = html_box("gw-num-status"), html_box("gw-num-compare")
        self.result, self.original = html_box("gw-num-result"), html_box("gw-num-original")
        self.view = GraphView(height=height)
        self.view.add_class("gw-num-view")
        self.run_button.on_click(lambda _: self.run())
        tables = w.HBox([self.result, self.original], layout=w.Layout(flex_flow="row wrap", grid_gap="16px"))
        super().__init__([w.HBox([self.values_expr, self.seed, self.run_button]), self.status, tables,
                          self.view, w.HTML("<b>outputs before vs after rewriting</b>"), self.compare])
        self.add_class("gw-numerics-panel")

    def _values(self, values: Any) -> Any:
        """The values to use: ``values``, else the text box evaluated in the notebook namespace, else random."""
        if values is not None:
            return values
        text = self.values_expr.value.strip()
        if text:
            return eval(text, user_namespace())  # noqa: S307 - an expression the user typed
        from graphwright.workbench.bench import random_values

        return random_values(self.session.inputs, seed=self.seed.value, length=10)

    def run(self, values: Any = None) -> Any:
        """Evaluate on ``values`` (dict from input variables or list in input order; default: the text box, else
        random inputs); show both reports and the comparison; return the current graph's NumericsReport.

        Examples
        --------
        >>> import numpy as np, graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> panel = NumericsPanel(Session(gw.log(1 + gw.exp(gw.vector("x")))))
        >>> panel.run([np.array([800.0])]).first_nonfinite, panel.original_report.first_nonfinite.label
        (None, 'exp')
        >>> "original graph: first non-finite value at" in panel.status.value
        True
        """
        try:
            result = numerics_before_after(self.session, self._values(values))
        except Exception as exc:  # noqa: BLE001 - bad values or an evaluation error are shown in the panel
            self.status.value = f"<div class='gw-sub-refused'>{pre(f'{type(exc).__name__}: {exc}')}</div>"
            return None
        self.report, self.original_report, self.comparison = result.report, result.original, result.comparison
        self._show(result)
        first = result.report.first_nonfinite
        self.view.selected = first.node_id if first is not None else ""
        if first is not None and self.on_select is not None:
            self.on_select(first.node_id)
        if self.on_report is not None:
            self.on_report()
        return result.report

    def _show(self, result: BeforeAfter) -> None:
        report, original = result.report, result.original
        lines = [f"rewritten graph: {first_line(report)}"]
        if original is not None:
            lines.append(f"original graph: {first_line(original)}")
        self.status.value = "<br>".join(f"<span class='gw-num-first'>{html.escape(line)}</span>" for line in lines)
        self.result.value = f"<b>rewritten graph</b>{report.html()}"
        self.original.value = ("<i>no rewrite step: the original graph is the same</i>" if original is None else
                               f"<b>original graph (before rewriting)</b>{original.html()}")
        self.compare.value = result.comparison.html()
        first = report.first_nonfinite
        styles = {first.node_id: "selected"} if first is not None else None
        graph, ids = self.session.graph, self.session.ids
        self.view.draw(lambda: viz.graph_svg(graph, ids=ids, stats=report.stats(), styles=styles), text=report.text(),
                       status=f"{graph.node_count} nodes: hover a node for its value statistics")

    def mark_stale(self) -> None:
        """Say that the graph changed since the report was made."""
        if self.report is not None:
            self.status.value = "<i>the graph changed since this report was made: evaluate again</i>"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.report is None:
            text = f"Numerics: session {self.session.name!r}; not evaluated yet"
            extra = {"text/plain": text, "text/html": f"<p>{html.escape(text)}</p>"}
        else:
            result = BeforeAfter(self.report, self.original_report, self.comparison)
            extra = {"image/svg+xml": self.view.svg, "text/plain": result.text(), "text/html": result.html()}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)
