"""The Substitute and Compile tabs of the session widget: hand edits with check/apply/undo, and the backend bench."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

import graphwright as gw
from graphwright import viz
from graphwright.graph.basic import Apply
from graphwright.printing import short_str
from graphwright.workbench.graph_view import merge_mimebundle
from graphwright.workbench.widget_util import BenchProgress, button, html_box, pre, try_svg

__all__ = ["SubstitutePanel", "CompilePanel", "bench_html"]


def bench_html(table: Any) -> str:
    """The bench table's HTML followed by its bar chart, inside ``<div class="gw-bench-result">``.

    Examples
    --------
    >>> from graphwright.workbench.bench import BenchRow, BenchTable
    >>> out = bench_html(BenchTable([BenchRow("numpy", 0.0, 1e-5, 9e-6, 2e-5, 0.0, 0.0, 1.0)]))
    >>> 'class="gw-bench"' in out, "<svg" in out
    (True, True)
    """
    table_html = table.html()
    if "gw-bench" not in table_html:
        table_html = f"<div class='gw-bench'>{table_html}</div>"
    return f"<div class='gw-bench-result'>{table_html}<div class='gw-bench-chart-box'>{table.bar_svg()}</div></div>"


class SubstitutePanel(w.VBox):
    """Replace the selected node by an expression: "Check" shows the verdict, "Apply" edits the session (and
    calls ``on_change``), "Undo" takes the last edit back.

    Parameters
    ----------
    session : the :class:`~graphwright.workbench.session.Session` to edit.
    on_change : called after an edit or undo (the session widget redraws every tab).

    Notes
    -----
    CSS classes: ``gw-sub-target``, ``gw-sub-expr`` (the text box), ``gw-sub-check``, ``gw-sub-apply``,
    ``gw-sub-undo``, ``gw-sub-report`` (with ``gw-sub-ok`` or ``gw-sub-refused`` inside), ``gw-sub-history``.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> x = gw.vector("x")
    >>> s = Session(gw.log(1 + x) * 2, phases="canonicalize")
    >>> panel = SubstitutePanel(s)
    >>> panel.select(s.ids.of(gw.log(1 + x)))
    >>> panel.expr.value = "gw.log1p(x)"
    >>> panel.apply().ok, s.graph.outputs[0]
    (True, log1p(x) * 2)
    """

    def __init__(self, session: Any, *, on_change: Callable[[], None] | None = None) -> None:
        self.session = session
        self.on_change = on_change
        self.node_id = ""
        self.last_report: Any = None
        self.last_message = ""
        self.target = html_box("gw-sub-target")
        self.expr = w.Text(placeholder="replacement, e.g. gw.log1p(i0)", layout=w.Layout(width="60%"))
        self.expr.add_class("gw-sub-expr")
        self.check_button = button("Check", "gw-sub-check", "check the replacement without applying it")
        self.apply_button = button("Apply", "gw-sub-apply", "replace the node and rewrite again", "primary")
        self.undo_button = button("Undo", "gw-sub-undo", "undo the last substitution")
        self.report = html_box("gw-sub-report")
        self.history = html_box("gw-sub-history")
        help_text = ("Names in scope: <code>gw</code>, <code>np</code>, the graph's named variables, the node's inputs "
                     "as <code>i0, i1, ...</code>, <code>old</code> (the node itself) and <code>node('n7')</code> "
                     "(any node, by id).")
        self.check_button.on_click(lambda _: self.check())
        self.apply_button.on_click(lambda _: self.apply())
        self.undo_button.on_click(lambda _: self.undo())
        super().__init__([self.target, w.HTML(help_text), self.expr,
                          w.HBox([self.check_button, self.apply_button, self.undo_button]), self.report,
                          self.history])
        self.add_class("gw-substitute")
        self.refresh()

    def select(self, node_id: str) -> None:
        """Make ``node_id`` (a node of the current graph) the target."""
        self.node_id = node_id or ""
        self._show_target()

    def _target_var(self) -> Any:
        obj = self.session.node(self.node_id)
        return obj.outputs[0] if isinstance(obj, Apply) else obj

    def _show_target(self) -> None:
        if not self.node_id:
            self.target.value = "<i>select a node in the Graph tab (click it) to replace it</i>"
            return
        try:
            var = self._target_var()
        except KeyError as exc:
            self.target.value = f"<span class='gw-sub-refused'>{html.escape(str(exc.args[0]))}</span>"
            return
        inputs = ", ".join(f"i{k} = {short_str(v)}" for k, v in enumerate(var.owner.inputs)) if var.owner else ""
        self.target.value = (f"<b>target</b> <code>{html.escape(self.node_id)}</code>: "
                             f"<code>{html.escape(short_str(var))}</code> ({html.escape(var.type.short())})"
                             + (f"<br><small>{html.escape(inputs)}</small>" if inputs else ""))

    def _show(self, report: Any) -> None:
        css = "gw-sub-ok" if report.ok else "gw-sub-refused"
        self.last_report, self.last_message = report, report.text()
        self.report.value = f"<div class='{css}'>{pre(report.text())}</div>"

    def _fail(self, message: str) -> None:
        self.last_report, self.last_message = None, message
        self.report.value = f"<div class='gw-sub-refused'>{pre(message)}</div>"

    def check(self) -> Any:
        """Check the replacement in the text box against the target; show and return the SubstitutionReport
        (None, with a message, when there is no target or expression or it does not parse).

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> x = gw.vector("x")
        >>> s = Session(gw.log(1 + x) * 2, phases="canonicalize")
        >>> panel = SubstitutePanel(s)
        >>> panel.select(s.ids.of(gw.log(1 + x)))
        >>> panel.expr.value = "gw.log(x)"
        >>> panel.check().ok, "gw-sub-refused" in panel.report.value, len(s.steps)
        (False, True, 0)
        """
        from graphwright.workbench.substitute import SubstitutionError, check_substitution

        if not self._ready():
            return None
        try:
            report = check_substitution(self.session.graph, self._target_var(), self.expr.value,
                                        ids=self.session.ids)
        except (SubstitutionError, KeyError) as exc:
            self._fail(f"refused: {exc.args[0] if exc.args else exc}")
            return None
        self._show(report)
        return report

    def apply(self) -> Any:
        """Substitute the replacement in the session (refused: nothing changes); returns the report.

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> x = gw.vector("x")
        >>> s = Session(gw.exp(x) + gw.exp(x), phases="canonicalize")
        >>> panel = SubstitutePanel(s)
        >>> panel.select(s.ids.of(s.graph.outputs[0]))
        >>> panel.expr.value = "2 * i0"
        >>> panel.apply().ok, s.graph.outputs[0]
        (True, 2 * exp(x))
        >>> "exp(x) + exp(x) -&gt; 2 * exp(x)" in panel.history.value
        True
        """
        from graphwright.workbench.substitute import SubstitutionError

        if not self._ready():
            return None
        try:
            report = self.session.substitute(self.node_id, self.expr.value)
        except (SubstitutionError, KeyError, IndexError) as exc:
            self._fail(f"refused: {exc.args[0] if exc.args else exc}")
            return None
        self._show(report)
        if report.ok:
            self._changed()
        return report

    def undo(self) -> bool:
        """Undo the last substitution; False (with a message) when there is none.

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> x = gw.vector("x")
        >>> s = Session(gw.exp(x) + gw.exp(x), phases="canonicalize")
        >>> panel = SubstitutePanel(s)
        >>> panel.undo(), "nothing to undo" in panel.report.value
        (False, True)
        >>> s.substitute(s.graph.outputs[0], "2 * gw.exp(x)").ok, panel.undo(), s.graph.outputs[0]
        (True, True, exp(x) + exp(x))
        """
        if not self.session.can_undo:
            self._fail("nothing to undo: no substitution has been made")
            return False
        self.session.undo()
        self.report.value = "<div class='gw-sub-ok'>undone: the graph is back as it was before the last edit</div>"
        self._changed()
        return True

    def _ready(self) -> bool:
        if not self.node_id:
            self._fail("select a node first (click it in the Graph tab)")
            return False
        if not self.expr.value.strip():
            self._fail("type a replacement expression first")
            return False
        return True

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
        else:
            self.refresh()

    def refresh(self) -> None:
        """Redraw the target and the history of edits (after the session changed)."""
        self._show_target()
        edits = [s for s in self.session.steps if s.kind == "edit"]
        self.undo_button.disabled = not self.session.can_undo
        if not edits:
            self.history.value = "<i>no substitutions yet</i>"
            return
        items = "".join(f"<li>step {s.index}: <code>{html.escape(s.identity)}</code></li>" for s in edits)
        self.history.value = f"<b>substitutions</b><ol class='gw-sub-history-list'>{items}</ol>"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        session, node_id = self.session, self.node_id
        styles = {node_id: "selected"} if node_id else None
        svg, _ = try_svg(lambda: viz.graph_svg(session.graph, ids=session.ids, styles=styles))
        edits = [f"  step {s.index}: {s.identity}" for s in session.steps if s.kind == "edit"]
        text = "\n".join([f"Substitute in session {session.name!r}: target {node_id or '(none selected)'}",
                           *([self.last_message] if self.last_message else []),
                           "substitutions:" if edits else "no substitutions yet", *edits])
        page = f"<div class='gw-substitute-static'>{self.target.value}{self.report.value}{self.history.value}</div>"
        extra = {"image/svg+xml": svg, "text/plain": text, "text/html": page}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)


class CompilePanel(w.VBox):
    """Compile the session's current graph on the ticked backends and time it: progress bars and a status line
    ("compiling <backend>…" while a backend compiles), then the table (``<table class="gw-bench">``) and a bar
    chart of the median call times.

    Notes
    -----
    CSS classes: ``gw-compile-backend`` (each checkbox), ``gw-compile-repeat``, ``gw-compile-run``,
    ``gw-compile-progress`` (overall), ``gw-compile-count`` (backends done), ``gw-compile-status`` (with
    ``gw-compile-phase`` inside while running), ``gw-compile-result`` (holds the table and the chart).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> panel = CompilePanel(Session(gw.exp(gw.vector("x")), backends=["numpy"]))
    >>> table = panel.run(repeat=3)
    >>> [row.backend for row in table.rows], panel.overall.value
    (['numpy'], 1.0)
    """

    def __init__(self, session: Any) -> None:
        self.session = session
        self.table: Any = None
        self.progress_history: list[str] = []
        available = list(gw.available_backends())
        self.checkboxes = {b: w.Checkbox(value=b in session.backends, description=b, indent=False,
                                         layout=w.Layout(width="auto")) for b in available}
        for box in self.checkboxes.values():
            box.add_class("gw-compile-backend")
        self.repeat = w.BoundedIntText(value=20, min=1, max=100000, description="repeat",
                                       layout=w.Layout(width="160px"))
        self.repeat.add_class("gw-compile-repeat")
        self.run_button = button("Compile and time", "gw-compile-run", "compile the current graph and time it",
                                  "primary")
        self.overall = w.FloatProgress(value=0.0, min=0.0, max=1.0, description="overall")
        self.overall.add_class("gw-compile-progress")
        self.count = w.IntProgress(value=0, min=0, max=max(len(available), 1), description="backends")
        self.count.add_class("gw-compile-count")
        self.status = html_box("gw-compile-status")
        self.result = html_box("gw-compile-result")
        self.run_button.on_click(lambda _: self.run())
        super().__init__([w.HBox(list(self.checkboxes.values())), w.HBox([self.repeat, self.run_button]),
                          w.HBox([self.overall, self.count]), self.status, self.result])
        self.add_class("gw-compile")

    @property
    def selected_backends(self) -> list[str]:
        """The ticked backends, in the order of ``gw.available_backends()``."""
        return [b for b, box in self.checkboxes.items() if box.value]

    def _show_progress(self, text: str, fraction: float, done: int) -> None:
        self.overall.value = fraction
        self.count.value = min(done, self.count.max)
        self.status.value = f"<span class='gw-compile-phase'>{html.escape(text)}</span> ({100 * fraction:.0f}%)"

    def run(self, backends: list[str] | None = None, repeat: int | None = None) -> Any:
        """Compile and time ``backends`` (default: the ticked ones), ``repeat`` calls each; show and return the
        BenchTable. While it runs, the status says which backend is compiling ("compiling numba…") or timed.

        Examples
        --------
        >>> import graphwright as gw
        >>> from graphwright.workbench.session import Session
        >>> panel = CompilePanel(Session(gw.exp(gw.vector("x")) * 2, backends=["numpy"]))
        >>> table = panel.run(["numpy"], repeat=2)
        >>> table.rows[0].backend, panel.progress_history[0], panel.status.value
        ('numpy', 'compiling numpy…', 'done: 1 backend(s), 2 timed calls each')
        """
        backends = self.selected_backends if backends is None else list(backends)
        if not backends:
            self.status.value = "<span class='gw-sub-refused'>tick at least one backend</span>"
            return None
        repeat = self.repeat.value if repeat is None else int(repeat)
        self.overall.value, self.count.value, self.count.max = 0.0, 0, len(backends)
        self.run_button.disabled = True
        progress = BenchProgress(backends, self._show_progress)
        self.progress_history = progress.history
        try:
            table = self.session.compile(backends, repeat=repeat, progress=progress)
        except Exception as exc:  # noqa: BLE001 - shown in the panel; per-backend errors are rows of the table
            self.status.value = f"<span class='gw-sub-refused'>{html.escape(f'{type(exc).__name__}: {exc}')}</span>"
            return None
        finally:
            self.run_button.disabled = False
        self.table = table
        self.overall.value, self.count.value = 1.0, len(backends)
        self.status.value = f"done: {len(backends)} backend(s), {repeat} timed calls each"
        self.result.value = bench_html(table)
        return table

    def mark_stale(self) -> None:
        """Say that the graph changed since the table was made."""
        if self.table is not None:
            self.status.value = "<i>the graph changed since this table was made: run again</i>"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        table = self.table
        if table is None:
            text = f"Compile: session {self.session.name!r}, backends {', '.join(self.selected_backends)}; not run yet"
            extra = {"text/plain": text, "text/html": f"<p class='gw-compile-static'>{html.escape(text)}</p>"}
        else:
            extra = {"image/svg+xml": table.bar_svg(), "text/plain": table.text(), "text/html": bench_html(table)}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)
