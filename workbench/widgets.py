"""SessionWidget: the workbench of one session, as tabs Graph | Rewrites | Substitute | Compile | Numerics."""

from __future__ import annotations

import html
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
import numpy as np

from graphwright.graph.basic import Constant, Variable
from graphwright.printing import short_str
from graphwright.workbench.graph_view import GraphView, merge_mimebundle
from graphwright.workbench.numerics_panel import NumericsPanel
from graphwright.workbench.panels import CompilePanel, SubstitutePanel
from graphwright.workbench.stepper_widget import RewriteStepper
from graphwright.workbench.steps import graph_index
from graphwright.workbench.widget_util import close_tree, html_box

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
    for graph in obj.op.inner_graphs():
        rows.append("fused: " + ", ".join(f"<code>{html.escape(short_str(v))}</code>" for v in graph.outputs))
    return "<div class='gw-details'>" + "<br>".join(rows) + "</div>"


def _fused_ids(session: Any) -> list[str]:
    from graphwright.viz.composite_dot import is_fused

    return [session.ids.of(n) for n in session.graph.toposort if is_fused(n)]


class SessionWidget(w.VBox):
    """The workbench of a :class:`~graphwright.workbench.session.Session`: a header and five tabs.

    Graph: the current graph (ctrl+wheel zoom, pan, hover with value statistics once Numerics ran, click to
    select, double-click a fused node to expand it), the selected node's details, "expand fused nodes" and
    "focus on selection" toggles. Rewrites: the :class:`RewriteStepper`. Substitute: replace the selected node.
    Compile: time the backends. Numerics: per-node values and errors, before and after rewriting.

    Parameters
    ----------
    session : the session to show.
    height : the height of the Graph tab's view.

    Notes
    -----
    The widget follows the session: an edit or undo made in Python (``session.substitute``, ``session.undo``)
    redraws it (``Session.on_change``; the session holds only a weak reference to the widget, and
    :meth:`close` unsubscribes). When graphviz is missing, the views show the message and the text form.
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
        self.header = html_box("gw-session-header")
        self.graph_view = GraphView(height=height)
        self.graph_view.add_class("gw-session-graph")
        self.details = html_box("gw-node-details")
        self.expand = _toggle("expand fused nodes", "gw-expand", "draw every fused node as its inner graph")
        self.focus = _toggle("focus on selection", "gw-focus", "draw only the selected node's neighbourhood")
        self.radius = w.BoundedIntText(value=2, min=1, max=20, description="radius", layout=w.Layout(width="140px"))
        self.radius.add_class("gw-focus-radius")
        self.stepper = RewriteStepper(session)
        self.substitute = SubstitutePanel(session)
        self.compile = CompilePanel(session)
        self.numerics = NumericsPanel(session, on_select=self.select, on_report=self.draw_graph)
        graph_tab = w.VBox([w.HBox([self.expand, self.focus, self.radius]), self.graph_view, self.details])
        self.tabs = w.Tab(children=[graph_tab, self.stepper, self.substitute, self.compile, self.numerics],
                          titles=TAB_TITLES)
        self.tabs.add_class("gw-session-tabs")
        super().__init__([self.header, self.tabs])
        self.add_class("gw-session")
        self.graph_view.observe(lambda ch: self._selected(ch["new"]), names="selected")
        self.expand.observe(lambda ch: self._expand_all(ch["new"]), names="value")
        for toggle in (self.focus, self.radius):
            toggle.observe(lambda _: self.draw_graph(), names="value")
        self._listener = _subscribe(session, self)
        self.refresh()

    def select(self, node_id: str) -> None:
        """Select ``node_id`` in the Graph tab (details and Substitute follow)."""
        self.graph_view.selected = node_id or ""

    def _selected(self, node_id: str) -> None:
        self.details.value = node_details(self.session, node_id)
        self.substitute.select(node_id)
        if self.focus.value:
            self.draw_graph()

    def _expand_all(self, on: bool) -> None:
        self.graph_view.expanded = _fused_ids(self.session) if on else []  # redraws the view

    def draw_graph(self) -> None:
        """Redraw the Graph tab with the toggles' options (expand, focus, radius) and, once the session has a
        numerics report (``last_numerics``), the value statistics in the hover text.

        Examples
        --------
        >>> import numpy as np, graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> s = Session(gw.exp(gw.vector("x")) * 2, phases="canonicalize")
        >>> widget = SessionWidget(s)
        >>> _ = s.numerics([np.array([1.0, 2.0])])
        >>> widget.draw_graph()
        >>> "[2.718, 7.389]" in widget.graph_view.svg, widget.graph_view.status
        (True, '2 nodes; hover shows value statistics')
        """
        session, selected = self.session, self.graph_view.selected
        if selected and selected not in graph_index(session.ids, session.graph):
            selected = ""  # a node of an earlier graph, or an unknown id: nothing to focus on
        focus = selected if self.focus.value and selected else None
        report = getattr(session, "last_numerics", None)
        hidden = f", focus on {focus} (radius {self.radius.value})" if focus else ""
        stats = report.stats() if report is not None else None
        self.graph_view.show(session.graph, ids=session.ids, focus=focus, radius=self.radius.value, stats=stats,
                             status=f"{session.graph.node_count} nodes{hidden}"
                             + ("; hover shows value statistics" if stats else ""))
        self.graph_view.text = session.text()

    def refresh(self) -> None:
        """Redraw every tab from the session (after an edit, an undo or a change made in Python; edits made
        through ``session.substitute`` and ``session.undo`` call it by themselves).

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> x = gw.vector("x")
        >>> s = Session(gw.exp(x) + gw.exp(x), name="f", phases="canonicalize")
        >>> widget = SessionWidget(s)
        >>> s.substitute(s.graph.outputs[0], "2 * gw.exp(x)").ok  # calls widget.refresh through on_change
        True
        >>> "1 step" in widget.header.value, len(widget.stepper.step_list.options)
        (True, 1)
        """
        session = self.session
        try:
            session.node(self.graph_view.selected)
        except KeyError:
            self.graph_view.selected = ""
        self.header.value = (f"<b>{html.escape(session.name)}</b>: {len(session.inputs)} input(s), "
                             f"{session.original.node_count} &rarr; {session.graph.node_count} nodes, "
                             f"{len(session.steps)} step(s)")
        if self.expand.value:
            self._expand_all(True)
        self.draw_graph()
        self.details.value = node_details(session, self.graph_view.selected)
        self.stepper.refresh()
        self.substitute.refresh()
        self.compile.mark_stale()
        self.numerics.mark_stale()

    def close(self) -> None:
        """Stop following the session and close the widget and every widget inside it (ipywidgets keeps a widget
        alive until it is closed)."""
        _unsubscribe(self.session, self._listener)
        close_tree(self.tabs)
        super().close()

    def to_html(self, path: str | Path) -> Path:
        """Write the standalone HTML page of the session, with this widget's last compile and numerics tables.

        Examples
        --------
        >>> import tempfile, graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> widget = SessionWidget(Session(gw.log(1 + gw.vector("x")), phases="stabilize", backends=["numpy"]))
        >>> _ = widget.compile.run(repeat=2)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     page = widget.to_html(Path(folder) / "f.html").read_text()
        >>> "gw-bench" in page, "log1p" in page
        (True, True)
        """
        from graphwright.workbench.html_export import session_to_html

        return session_to_html(self.session, path, bench=self.compile.table, numerics=self.numerics.report)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        svg, text = self.graph_view.svg, self.session.text()
        note = f"<p class='gw-note'>{html.escape(self.graph_view.error)}</p>" if self.graph_view.error else ""
        page = f"<div class='gw-session-static'><pre>{html.escape(text)}</pre>{note}{svg}</div>"
        plain = f"{text}\n({self.graph_view.error})" if self.graph_view.error else text
        extra = {"image/svg+xml": svg, "text/plain": plain, "text/html": page}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)


def _toggle(label: str, css: str, tooltip: str) -> w.ToggleButton:
    toggle = w.ToggleButton(description=label, tooltip=tooltip, layout=w.Layout(width="auto"))
    toggle.add_class(css)
    return toggle


def _subscribe(session: Any, widget: SessionWidget) -> Callable[..., None] | None:
    """Refresh ``widget`` on every change of ``session``; the callback holds the widget weakly and removes
    itself once the widget is gone."""
    if not hasattr(session, "on_change"):
        return None
    ref = weakref.ref(widget)

    def changed(*_: Any) -> None:
        target = ref()
        if target is None:
            _unsubscribe(session, changed)
        else:
            target.refresh()

    session.on_change(changed)
    return changed


def _unsubscribe(session: Any, callback: Callable[..., None] | None) -> None:
    if callback is not None and hasattr(session, "remove_on_change"):
        try:
            session.remove_on_change(callback)
        except ValueError:
            pass  # already removed
