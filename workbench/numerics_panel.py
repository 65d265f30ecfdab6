"""The Numerics tab of the session widget: per-node value ranges, NaN/Inf and errors, and errors before vs after."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from graphwright import viz
from graphwright.workbench.graph_view import GraphView
from graphwright.workbench.panels import pre

__all__ = ["NumericsPanel"]


def _user_namespace() -> dict[str, Any]:
    """``gw``, ``np`` and the notebook's variables (when running under IPython)."""
    import numpy as np

    import graphwright as gw

    names: dict[str, Any] = {"gw": gw, "np": np}
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return names
    shell = get_ipython()
    if shell is not None:
        names.update(shell.user_ns)
    return names


class NumericsPanel(w.VBox):
    """Evaluate the session's graph node by node (on random inputs, or values given in Python) against an
    mpmath reference: the per-node table, the graph with the statistics as hover text and the first non-finite
    node selected, and each output's error before vs after rewriting.

    Parameters
    ----------
    session : the :class:`~graphwright.workbench.session.Session`.
    on_select : called with the node id of the first non-finite node (the session widget selects it in the
        Graph tab).

    Notes
    -----
    CSS classes: ``gw-num-values`` (text box: a Python expression in the notebook namespace), ``gw-num-seed``,
    ``gw-num-run``, ``gw-num-status``, ``gw-num-result`` (``<table class="gw-numerics">``), ``gw-num-view`` (the
    GraphView), ``gw-num-compare`` (``<table class="gw-numerics-compare">``).

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
                 height: str = "360px") -> None:
        self.session = session
        self.on_select = on_select
        self.report: Any = None
        self.comparison: Any = None
        self.values_expr = w.Text(placeholder="values: a Python expression (dict or list of arrays); empty: random",
                                  layout=w.Layout(width="60%"))
        self.values_expr.add_class("gw-num-values")
        self.seed = w.IntText(value=0, description="seed", layout=w.Layout(width="140px"))
        self.seed.add_class("gw-num-seed")
        self.run_button = w.Button(description="Evaluate", button_style="primary", layout=w.Layout(width="auto"))
        self.run_button.add_class("gw-num-run")
        self.status = w.HTML()
        self.status.add_class("gw-num-status")
        self.result = w.HTML()
        self.result.add_class("gw-num-result")
        self.view = GraphView(height=height)
        self.view.add_class("gw-num-view")
        self.compare = w.HTML()
        self.compare.add_class("gw-num-compare")
        self.run_button.on_click(lambda _: self.run())
        super().__init__([w.HBox([self.values_expr, self.seed, self.run_button]), self.status, self.result,
                          self.view, w.HTML("<b>outputs before vs after rewriting</b>"), self.compare])
        self.add_class("gw-numerics-panel")

    def _values(self, values: Any) -> Any:
        """The values to use: ``values``, else the text box evaluated in the notebook namespace, else random."""
        if values is not None:
            return values
        text = self.values_expr.value.strip()
        if text:
            return eval(text, _user_namespace())  # noqa: S307 - an expression the user typed
        from graphwright.workbench.bench import random_values

        return random_values(self.session.inputs, seed=self.seed.value, length=10)

    def run(self, values: Any = None) -> Any:
        """Evaluate on ``values`` (dict from input variables or list in input order; default: the text box, else
        random inputs); show and return the NumericsReport."""
        from graphwright.workbench.numerics import compare_numerics

        try:
            values = self._values(values)
            report = self.session.numerics(values)
            comparison = compare_numerics(self.session.original, self.session.graph, values)
        except Exception as exc:  # noqa: BLE001 - bad values or an evaluation error are shown in the panel
            self.status.value = f"<div class='gw-sub-refused'>{pre(f'{type(exc).__name__}: {exc}')}</div>"
            return None
        self.report, self.comparison = report, comparison
        self.result.value = report.html()
        self.compare.value = comparison.html()
        first = report.first_nonfinite
        styles = {first.node_id: "selected"} if first is not None else None
        self.view.svg = viz.graph_svg(self.session.graph, ids=self.session.ids, stats=report.stats(), styles=styles)
        self.view.text = report.text()
        self.view.status = f"{self.session.graph.node_count} nodes: hover a node for its value statistics"
        if first is None:
            self.status.value = "all values finite"
            self.view.selected = ""
            return report
        self.status.value = (f"<span class='gw-num-first'>first non-finite value at <code>{html.escape(first.node_id)}"
                             f"</code> ({html.escape(first.label)}): {html.escape(first.summary())}</span>")
        self.view.selected = first.node_id
        if self.on_select is not None:
            self.on_select(first.node_id)
        return report

    def mark_stale(self) -> None:
        """Say that the graph changed since the report was made."""
        if self.report is not None:
            self.status.value = "<i>the graph changed since this report was made: evaluate again</i>"
