"""The workbench magics: ``%%graph NAME`` builds a session from a cell; the ``%gw_*`` line magics show, compile,
evaluate, edit and question sessions (or graphs and variables) of the notebook."""

from __future__ import annotations

import html
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from graphwright.kernel_ext.graph_cell import CellError, error_bundle, run_graph_cell

__all__ = ["GraphMagics", "CellError", "run_graph_cell", "error_bundle"]


def _show_error(error: CellError, title: str) -> None:
    display(error_bundle(error, title), raw=True)


def _error(exc: BaseException, title: str) -> None:
    single = len(exc.args) == 1 and isinstance(exc.args[0], str)  # KeyError's str() adds quotes
    _show_error(CellError(type(exc).__name__, exc.args[0] if single else str(exc)), title)


def _notice(title: str, message: str, text: str) -> None:
    """A readable note that drawing failed, followed by the text form (what the drawing would have shown)."""
    display({"text/html": f"<div class='gw-error gw-draw-failed' style='border-left:4px solid #e67e22;"
                          f"padding:4px 8px;background:#fef5e7'><b>{html.escape(title)}</b>: "
                          f"{html.escape(message)}</div><pre>{html.escape(text)}</pre>",
             "text/plain": f"{title}: {message}\n{text}"}, raw=True)


def _display_session(session: Any, title: str) -> None:
    """Show the session's widget; when drawing fails, a readable message and the text form (never a traceback)."""
    from graphwright.workbench.widgets import SessionWidget

    try:
        widget = SessionWidget(session)
    except Exception as exc:  # noqa: BLE001 - the session is fine, only its display failed
        _notice(title, f"the session is bound to {session.name}, but its widget failed: {type(exc).__name__}: "
                       f"{exc}", session.text())
        return
    if widget.graph_view.error:
        _notice(title, f"the session is bound to {session.name}, but {widget.graph_view.error}", session.text())
    display(widget)


@magics_class
class GraphMagics(Magics):
    """``%%graph``, ``%gw_show``, ``%gw_compile``, ``%gw_steps``, ``%gw_numerics``, ``%gw_substitute``, ``%gw_undo``
    and ``%gw_why`` (``%load_ext graphwright``). Every error is shown as a readable message, never a traceback.

    Examples
    --------
    >>> from IPython.core.interactiveshell import InteractiveShell
    >>> shell = InteractiveShell.instance()
    >>> from graphwright.kernel_ext import load_ipython_extension
    >>> load_ipython_extension(shell)  # what %load_ext does (which says so when another test loaded it first)
    >>> _ = shell.run_cell("%%graph doc_f --phases stabilize\\nx = gw.vector('x')\\ngw.log(1 + x) * 2")
    Session('doc_f': 1 input, 3 -> 2 nodes, 1 step)
      0. [stabilize] log1p: log(1 + x) -> log1p(x)
    >>> _ = shell.run_cell("%gw_substitute doc_f n5 gw.log1p(x) + gw.log1p(x)")  # doctest: +ELLIPSIS
    accepted: log1p(x) * 2 -> log1p(x) + log1p(x): same type, and the values agree on 5 input sets
    ...
      1. [edit] substitute: log1p(x) * 2 -> log1p(x) + log1p(x)
    >>> _ = shell.run_cell("%gw_undo doc_f")
    undone: Session('doc_f': 1 input, 3 -> 2 nodes, 1 step)
    >>> _ = shell.run_cell("%gw_why doc_f log1p n3")
    log1p fired at log(1 + x) in step 0 (stabilize): log(1 + x) -> log1p(x) [log(1 + x) = log1p(x)]
    >>> _ = shell.run_cell("%gw_steps doc_f.original")  # a Graph: a temporary session (fast_run)
    0. [stabilize] log1p: log(1 + x) -> log1p(x)
    1. [fusion] elemwise_fusion: log1p(x) * 2 -> composite{log1p(i0) * 2}(x)
    """
    def _namespace(self) -> dict[str, Any]:
        from graphwright.workbench.widget_util import user_namespace

        return user_namespace(self.shell)

    @magic_arguments()
    @argument("name", help="the variable the session is bound to (and the session's name)")
    @argument("--backend", "-b", dest="backends", action="extend", nargs="+", default=None,
              help="backends to compile and time (default: every available one)")
    @argument("--phases", "-p", action="extend", nargs="+", default=None,
              help="rewrite phases, e.g. fast_run or canonicalize stabilize (default: fast_run)")
    @argument("-o", "--output", dest="outputs", action="extend", nargs="+", default=None,
              help="names of the cell's variables that are the outputs (default: the last expression)")
    @cell_magic
    def graph(self, line: str, cell: str) -> None:
        """Run the cell (``gw`` and ``np`` in scope); its outputs become a Session bound to NAME, shown as a widget.

        ``%%graph NAME [--backend B ...] [--phases P ...] [-o VAR ...]``. An error in the cell shows the exception
        type, message and offending line, and binds nothing. When only drawing fails (graphviz missing), the
        session is bound and a message and the session's text are shown.
        """
        args = parse_argstring(self.graph, line)
        if not args.name.isidentifier():
            _show_error(CellError("UsageError", f"{args.name!r} is not a valid Python name"), "%%graph")
            return None
        ns = self._namespace()
        filename = f"<%%graph {args.name}>"
        source = self.shell.transform_cell(cell)
        try:
            outputs = run_graph_cell(source, ns, args.outputs, filename)
            session = _make_session(outputs, args)
        except CellError as error:
            _show_error(error, f"%%graph {args.name}")
            return None
        ns[args.name] = session
        _display_session(session, f"%%graph {args.name}")
        return None

    @magic_arguments()
    @argument("target", nargs="+", help="a session, a graph or a variable (any Python expression)")
    @line_magic
    def gw_show(self, line: str) -> None:
        """``%gw_show X``: the workbench widget of a session, or a GraphView of a graph or variables."""
        args = parse_argstring(self.gw_show, line)
        obj = self._lookup(" ".join(args.target), "%gw_show")
        if obj is None:
            return None
        from graphwright.workbench.graph_view import GraphView
        from graphwright.workbench.session import Session

        if isinstance(obj, Session):
            _display_session(obj, "%gw_show")
            return None
        try:
            view = GraphView.from_graph(obj)
        except Exception as exc:  # noqa: BLE001 - not a graph
            _error(exc, "%gw_show")
            return None
        if view.error:
            _notice("%gw_show", view.error, view.text)
        display(view)
        return None

    @magic_arguments()
    @argument("target", nargs="+", help="a session, a Graph or variable(s): a name or Python expression")
    @argument("--backend", "-b", dest="backends", action="extend", nargs="+", default=None)
    @argument("--repeat", "-r", type=int, default=20, help="timed calls per backend")
    @line_magic
    def gw_compile(self, line: str) -> None:
        """``%gw_compile X [--backend B ...] [--repeat N]``: compile and time a session's graph (or a Graph's or
        variable's, rewritten in a temporary session) with a progress line; show the table."""
        from graphwright.workbench.panels import bench_html
        from graphwright.workbench.widget_util import BenchProgress, ProgressLine

        args = parse_argstring(self.gw_compile, line)
        session = self._session(" ".join(args.target), "%gw_compile", temporary=True)
        if session is None:
            return None
        backends = list(session.backends if args.backends is None else args.backends)
        line_widget = ProgressLine("compile")
        display(line_widget)
        try:
            table = session.compile(backends, repeat=args.repeat, progress=BenchProgress(backends, line_widget.update))
        except Exception as exc:  # noqa: BLE001
            line_widget.update(f"failed: {type(exc).__name__}", 1.0)
            _error(exc, "%gw_compile")
            return None
        display({"text/html": bench_html(table), "text/plain": table.text()}, raw=True)
        return None

    @magic_arguments()
    @argument("target", nargs="+", help="a session, a Graph or variable(s): a name or Python expression")
    @argument("--phase", default=None, help="only the steps of this phase")
    @argument("--rule", default=None, help="only the steps of this rule")
    @line_magic
    def gw_steps(self, line: str) -> None:
        """``%gw_steps X [--phase P] [--rule R]``: print the rewrite steps, one per line."""
        args = parse_argstring(self.gw_steps, line)
        session = self._session(" ".join(args.target), "%gw_steps", temporary=True)
        if session is None:
            return None
        steps = session.rewrite_steps(phase=args.phase, rule=args.rule)
        print("\n".join(str(s) for s in steps) if steps else "no steps")
        return None

    @magic_arguments()
    @argument("target", help="a session, a Graph or a variable: a name or Python expression without spaces")
    @argument("--values", nargs="+", default=None,
              help="a Python expression giving the input values (default: random)")
    @line_magic
    def gw_numerics(self, line: str) -> None:
        """``%gw_numerics X [--values EXPR]``: value ranges, NaN/Inf counts and errors of every node, of the
        rewritten graph and of the original one, and the outputs' errors before vs after rewriting."""
        from graphwright.workbench.numerics_panel import numerics_before_after

        args = parse_argstring(self.gw_numerics, line)
        session = self._session(args.target, "%gw_numerics", temporary=True)
        if session is None:
            return None
        try:
            values = eval(" ".join(args.values), self._namespace()) if args.values else None  # noqa: S307
            result = numerics_before_after(session, values)
        except Exception as exc:  # noqa: BLE001
            _error(exc, "%gw_numerics")
            return None
        display({"text/html": result.html(), "text/plain": result.text()}, raw=True)
        return None

    @line_magic
    def gw_substitute(self, line: str) -> None:
        """``%gw_substitute NAME NODE_ID EXPR...``: replace node NODE_ID of session NAME's current graph by the
        expression (checked on random and edge-case inputs; refused: nothing changes); widgets follow."""
        parts = line.split(None, 2)
        if len(parts) < 3:
            _show_error(CellError("UsageError", "usage: %gw_substitute NAME NODE_ID EXPR"), "%gw_substitute")
            return None
        name, node_id, expr = parts
        session = self._session(name, "%gw_substitute")
        if session is None:
            return None
        try:
            report = session.substitute(node_id, expr)
        except Exception as exc:  # noqa: BLE001 - an unknown id or a bad expression
            _error(exc, "%gw_substitute")
            return None
        if not report.ok:
            _show_error(CellError("refused", report.text().removeprefix("refused: ")), "%gw_substitute")
            return None
        text = f"{report.text()}\n{session.text()}"
        display({"text/plain": text, "text/html": f"<pre class='gw-sub-ok'>{html.escape(text)}</pre>"}, raw=True)
        return None

    @magic_arguments()
    @argument("name", help="a session bound in the notebook")
    @line_magic
    def gw_undo(self, line: str) -> None:
        """``%gw_undo NAME``: undo the last substitution of session NAME; widgets follow."""
        args = parse_argstring(self.gw_undo, line)
        session = self._session(args.name, "%gw_undo")
        if session is None:
            return None
        try:
            session.undo()
        except RuntimeError as exc:
            _error(exc, "%gw_undo")
            return None
        print(f"undone: {session!r}")
        return None

    @magic_arguments()
    @argument("name", help="a session bound in the notebook")
    @argument("rule", help="a rewrite rule name")
    @argument("node_id", help="a node id, e.g. n7 (shown on hover and in the Graph tab)")
    @line_magic
    def gw_why(self, line: str) -> None:
        """``%gw_why NAME RULE NODE_ID``: why rule RULE did (or did not) fire at node NODE_ID."""
        args = parse_argstring(self.gw_why, line)
        session = self._session(args.name, "%gw_why")
        if session is None:
            return None
        try:
            print(session.why_not(args.rule, args.node_id))
        except Exception as exc:  # noqa: BLE001 - an unknown rule or node id
            _error(exc, "%gw_why")
        return None

    def _lookup(self, expr: str, title: str) -> Any:
        try:
            return eval(expr, self._namespace())  # noqa: S307 - a name or expression typed by the user
        except Exception as exc:  # noqa: BLE001
            _error(exc, title)
            return None

    def _session(self, expr: str, title: str, temporary: bool = False) -> Any:
        """The Session that ``expr`` names; with ``temporary``, a Graph or variable(s) wrapped in a new one."""
        from graphwright.workbench.session import Session

        obj = self._lookup(expr, title)
        if obj is None or isinstance(obj, Session):
            return obj
        if temporary and _graph_like(obj):
            try:
                return Session(obj, name=expr)
            except Exception as exc:  # noqa: BLE001
                _error(exc, title)
                return None
        what = "a workbench Session, a Graph or variables" if temporary else "a workbench Session"
        _show_error(CellError("TypeError", f"{expr} is a {type(obj).__name__}, not {what} (make a session with "
                                           f"%%graph NAME)"), title)
        return None


def _graph_like(obj: Any) -> bool:
    from graphwright.graph.basic import Variable
    from graphwright.graph.graph import Graph

    if isinstance(obj, Graph | Variable):
        return True
    return isinstance(obj, list | tuple) and bool(obj) and all(isinstance(v, Variable) for v in obj)


def _make_session(outputs: Any, args: Any) -> Any:
    from graphwright.workbench.session import Session

    kwargs: dict[str, Any] = {"name": args.name}
    if args.phases:
        kwargs["phases"] = args.phases[0] if len(args.phases) == 1 else tuple(args.phases)
    if args.backends:
        kwargs["backends"] = list(args.backends)
    try:
        return Session(outputs, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a bad output or phase name is reported like a cell error
        raise CellError(type(exc).__name__, str(exc)) from None
