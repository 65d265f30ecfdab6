"""SessionWidget: the workbench of one session, as tabs Graph | Rewrites | Substitute | Compile | Numerics."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w
import numpy as np

from graphwright import viz
from graphwright.graph.basic import Constant, Variable
from graphwright.printing import short_str
from graphwright.workbench.graph_view import GraphView, merge_mimebundle, strip_svg_prolog
from graphwright.workbench.numerics_panel import NumericsPanel
from graphwright.workbench.panels import CompilePanel, SubstitutePanel
from graphwright.workbench.stepper_widget import RewriteStepper
from graphwright.workbench.steps import graph_index

__all__ = ["SessionWidget", "node_details", "TAB_TITLES"]

TAB_TITLES = ("Graph", "Rewrites", "Substitute", "Compile", "Numerics")


def _var_line(var: Variable) -> str:
    return f"<code>{html.escape(short_str(var))}</code> <small>{html.escape(var.type.short())}</small>"


def node_details(session: Any, node_id: str) -> str:
    """HTML describing node ``node_id`` of the session's current graph: op, inputs, outputs, users.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> x = gw.vector("x")
    >>> s = Session(gw.exp(x) + 1, phases="canonicalize")
    >>> "exp" in node_details(s, s.ids.of(gw.exp(x))), "input" in node_details(s, s.ids.of(x))
    (True, True)
    """
    if not node_id:
        return "<i>click a node to see its details</i>"
    try:
        obj = session.node(node_id)
    except KeyError as exc:
        return f"<i>{html.escape(str(exc.args[0]))}</i>"
    head = f"<b>{html.escape(node_id)}</b>"
    if isinstance(obj, Variable):
        kind = "constant" if isinstance(obj, Constant) else "input"
        value = ""
        if isinstance(obj, Constant):
            value = f"<br>value: <code>{html.escape(np.array2string(np.asarray(obj.data), threshold=12))}</code>"
        return f"<div class='gw-details'>{head} {kind} {_var_line(obj)}{value}</div>"
    users = session.graph.clients.get(obj.outputs[0], []) if obj.outputs else []
    rows = [f"{head} <code>{html.escape(obj.op.short_name())}</code>",
            "inputs: " + (", ".join(_var_line(v) for v in obj.inputs) or "none"),
            "outputs: " + ", ".join(_var_line(v) for v in obj.outputs),
            f"used by {len({node for node, _ in users})} node(s)"]
    inner = getattr(obj.op, "inner_outputs", None)
    if inner is not None:
        rows.append("fused: " + ", ".join(f"<code>{html.escape(short_str(v))}</code>" for v in inner))
    return "<div class='gw-details'>" + "<br>".join(rows) + "</div>"


def _fused_ids(session: Any) -> list[str]:
    from graphwright.viz.composite_dot import is_fused

    return [session.ids.of(n) for n in session.graph.toposort if is_fused(n)]


class SessionWidget(w.VBox):
    """The workbench of a :class:`~graphwright.workbench.session.Session`: a header and five tabs.

    Graph: the current graph (zoom, pan, hover, click to select), the selected node's details, "expand fused
    nodes" and "focus on selection" toggles. Rewrites: the :class:`RewriteStepper`. Substitute: replace the
    selected node. Compile: time the backends. Numerics: per-node values and errors.

    Parameters
    ----------
    session : the session to show.
    height : the height of the Graph tab's view.

    Notes
    -----
    CSS classes: ``gw-session`` (this box), ``gw-session-header``, ``gw-session-tabs``, ``gw-session-graph`` (the
    Graph tab's GraphView), ``gw-node-details``, ``gw-expand``, ``gw-focus``, ``gw-focus-radius``; the panels'
    classes are listed on :class:`RewriteStepper`, :class:`SubstitutePanel`, :class:`CompilePanel` and
    :class:`NumericsPanel`. Outside a live kernel the mimebundle holds the graph's SVG, the session text and HTML.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> x = gw.vector("x")
    >>> widget = SessionWidget(Session(gw.log(1 + x), name="f", phases="stabilize"))
    >>> [widget.tabs.get_title(k) for k in range(5)]
    ['Graph', 'Rewrites', 'Substitute', 'Compile', 'Numerics']
    >>> data, _ = widget._repr_mimebundle_()
    >>> sorted(data)
    ['application/vnd.jupyter.widget-view+json', 'image/svg+xml', 'text/html', 'text/plain']
    """

    def __init__(self, session: Any, *, height: str = "520px") -> None:
        self.session = session
        self.header = w.HTML()
        self.header.add_class("gw-session-header")
        self.graph_view = GraphView(height=height)
        self.graph_view.add_class("gw-session-graph")
        self.details = w.HTML()
        self.details.add_class("gw-node-details")
        self.expand = w.ToggleButton(description="expand fused nodes", layout=w.Layout(width="auto"))
        self.expand.add_class("gw-expand")
        self.focus = w.ToggleButton(description="focus on selection", layout=w.Layout(width="auto"))
        self.focus.add_class("gw-focus")
        self.radius = w.BoundedIntText(value=2, min=1, max=20, description="radius", layout=w.Layout(width="140px"))
        self.radius.add_class("gw-focus-radius")
        self.stepper = RewriteStepper(session)
        self.substitute = SubstitutePanel(session, on_change=self.refresh)
        self.compile = CompilePanel(session)
        self.numerics = NumericsPanel(session, on_select=self.select)
        graph_tab = w.VBox([w.HBox([self.expand, self.focus, self.radius]), self.graph_view, self.details])
        self.tabs = w.Tab(children=[graph_tab, self.stepper, self.substitute, self.compile, self.numerics],
                          titles=TAB_TITLES)
        self.tabs.add_class("gw-session-tabs")
        super().__init__([self.header, self.tabs])
        self.add_class("gw-session")
        self.graph_view.observe(lambda ch: self._selected(ch["new"]), names="selected")
        for toggle in (self.expand, self.focus, self.radius):
            toggle.observe(lambda _: self.draw_graph(), names="value")
        self.refresh()

    def select(self, node_id: str) -> None:
        """Select ``node_id`` in the Graph tab (details and Substitute follow)."""
        self.graph_view.selected = node_id or ""

    def _selected(self, node_id: str) -> None:
        self.details.value = node_details(self.session, node_id)
        self.substitute.select(node_id)
        if self.focus.value:
            self.draw_graph()

    def draw_graph(self) -> None:
        """Redraw the Graph tab with the toggles' options (expand, focus, radius)."""
        session, selected = self.session, self.graph_view.selected
        if selected and selected not in graph_index(session.ids, session.graph):
            selected = ""  # a node of an earlier graph, or an unknown id: nothing to focus on
        focus = selected if self.focus.value and selected else None
        expand = _fused_ids(session) if self.expand.value else ()
        self.graph_view.svg = viz.graph_svg(session.graph, ids=session.ids, expand=expand, focus=focus,
                                            radius=self.radius.value)
        self.graph_view.text = session.text()
        hidden = f", focus on {focus} (radius {self.radius.value})" if focus else ""
        self.graph_view.status = f"{session.graph.node_count} nodes{hidden}"

    def refresh(self) -> None:
        """Redraw every tab from the session (after an edit, an undo or a change made in Python)."""
        session = self.session
        try:
            session.node(self.graph_view.selected)
        except KeyError:
            self.graph_view.selected = ""
        self.header.value = (f"<b>{html.escape(session.name)}</b>: {len(session.inputs)} input(s), "
                             f"{session.original.node_count} &rarr; {session.graph.node_count} nodes, "
                             f"{len(session.steps)} step(s)")
        self.draw_graph()
        self.details.value = node_details(session, self.graph_view.selected)
        self.stepper.refresh()
        self.substitute.refresh()
        self.compile.mark_stale()
        self.numerics.mark_stale()

    def to_html(self, path: str | Path) -> Path:
        """Write the standalone HTML page of the session, with this widget's last compile and numerics tables."""
        from graphwright.workbench.html_export import session_to_html

        return session_to_html(self.session, path, bench=self.compile.table, numerics=self.numerics.report)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        svg = strip_svg_prolog(self.graph_view.svg)
        text = self.session.text()
        page = (f"<div class='gw-session-static'><pre>{html.escape(text)}</pre>{svg}</div>")
        extra = {"image/svg+xml": svg, "text/plain": text, "text/html": page}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)
