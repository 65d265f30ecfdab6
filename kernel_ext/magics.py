"""The workbench magics: ``%%graph NAME`` builds a session from a cell; ``%gw_show``, ``%gw_compile``, ``%gw_steps``
and ``%gw_numerics`` work on sessions already bound in the notebook."""

from __future__ import annotations

import ast
import html
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

import graphwright

__all__ = ["GraphMagics", "CellError", "run_graph_cell", "error_bundle"]


@dataclass
class CellError(Exception):
    """A ``%%graph`` cell that could not become a session: the exception, and the cell line it came from.

    Examples
    --------
    >>> err = CellError("ValueError", "bad shape", 2, "y = x + z")
    >>> print(err.text())
    ValueError: bad shape
      line 2: y = x + z
    """

    kind: str
    message: str
    lineno: int | None = None
    line: str | None = None

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        """The message as plain text: ``Type: message`` and the offending line."""
        out = f"{self.kind}: {self.message}"
        if self.lineno is not None:
            out += f"\n  line {self.lineno}: {(self.line or '').strip()}"
        return out


def error_bundle(error: CellError, title: str = "%%graph") -> dict[str, str]:
    """A ``text/html`` + ``text/plain`` bundle showing ``error`` readably (no traceback).

    Examples
    --------
    >>> sorted(error_bundle(CellError("NameError", "name 'q' is not defined", 1, "q + 1")))
    ['text/html', 'text/plain']
    """
    where = ""
    if error.lineno is not None:
        where = (f"<div>line {error.lineno}: <code class='gw-error-line'>"
                 f"{html.escape((error.line or '').strip())}</code></div>")
    body = (f"<div class='gw-error' style='border-left:4px solid #c0392b;padding:4px 8px;background:#fdf0ef'>"
            f"<div><b>{html.escape(title)} failed</b> &mdash; <b class='gw-error-kind'>{html.escape(error.kind)}</b>: "
            f"<span class='gw-error-message'>{html.escape(error.message)}</span></div>{where}</div>")
    return {"text/html": body, "text/plain": f"{title} failed: {error.text()}"}


def _cell_error(exc: BaseException, filename: str, source: str) -> CellError:
    """The readable form of an exception raised while running a cell compiled under ``filename``."""
    lines = source.splitlines()
    if isinstance(exc, SyntaxError):
        lineno = exc.lineno if exc.filename == filename else None
        line = exc.text if exc.text is not None else (lines[lineno - 1] if lineno and lineno <= len(lines) else None)
        return CellError(type(exc).__name__, exc.msg or str(exc), lineno, (line or "").rstrip("\n"))
    lineno = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            lineno = frame.lineno
    line = lines[lineno - 1] if lineno and 0 < lineno <= len(lines) else None
    return CellError(type(exc).__name__, str(exc), lineno, line)


def run_graph_cell(source: str, namespace: dict[str, Any], outputs: list[str] | None = None,
                   filename: str = "<%%graph cell>") -> Any:
    """Run ``source`` in ``namespace``; return the value of its last expression, or of the names in ``outputs``.

    Raises :class:`CellError` (with the offending line) for any error in the cell.

    Examples
    --------
    >>> ns = {}
    >>> run_graph_cell("a = 2\\na * 3", ns), ns["a"]
    (6, 2)
    >>> run_graph_cell("b = 1\\nc = 2", ns, outputs=["b", "c"])
    [1, 2]
    >>> run_graph_cell("x = 1\\ny = x +", ns)
    Traceback (most recent call last):
    ...
    graphwright.kernel_ext.magics.CellError: SyntaxError: invalid syntax
      line 2: y = x +
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise _cell_error(exc, filename, source) from None
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) and not outputs else None
    try:
        exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - running the user's cell is the point
        if outputs:
            missing = [name for name in outputs if name not in namespace]
            if missing:
                raise NameError(f"-o names {', '.join(missing)}, which the cell did not define")
            return [namespace[name] for name in outputs]
        if last is None:
            raise ValueError("the cell must end with an expression giving the outputs, or name them with -o")
        return eval(compile(ast.Expression(last.value), filename, "eval"), namespace)  # noqa: S307
    except CellError:
        raise
    except Exception as exc:  # noqa: BLE001 - every error in a user cell becomes a readable message
        raise _cell_error(exc, filename, source) from None


def _show_error(error: CellError, title: str) -> None:
    display(error_bundle(error, title), raw=True)


@magics_class
class GraphMagics(Magics):
    """``%%graph``, ``%gw_show``, ``%gw_compile``, ``%gw_steps`` and ``%gw_numerics`` (``%load_ext graphwright``)."""

    def _namespace(self) -> dict[str, Any]:
        ns = self.shell.user_ns
        ns.setdefault("gw", graphwright)
        ns.setdefault("np", np)
        return ns

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
        type, message and offending line, and binds nothing.
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
        display(_session_widget(session))
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

        try:
            display(_session_widget(obj) if isinstance(obj, Session) else GraphView.from_graph(obj))
        except Exception as exc:  # noqa: BLE001
            _show_error(CellError(type(exc).__name__, str(exc)), "%gw_show")
        return None

    @magic_arguments()
    @argument("name", help="a session bound in the notebook")
    @argument("--backend", "-b", dest="backends", action="extend", nargs="+", default=None)
    @argument("--repeat", "-r", type=int, default=20, help="timed calls per backend")
    @line_magic
    def gw_compile(self, line: str) -> None:
        """``%gw_compile NAME [--backend B ...] [--repeat N]``: compile and time the session's graph; show the table."""
        args = parse_argstring(self.gw_compile, line)
        session = self._session(args.name, "%gw_compile")
        if session is None:
            return None
        try:
            table = session.compile(args.backends, repeat=args.repeat)
        except Exception as exc:  # noqa: BLE001
            _show_error(CellError(type(exc).__name__, str(exc)), "%gw_compile")
            return None
        display({"text/html": _bench_html(table), "text/plain": table.text()}, raw=True)
        return None

    @magic_arguments()
    @argument("name", help="a session bound in the notebook")
    @argument("--phase", default=None, help="only the steps of this phase")
    @argument("--rule", default=None, help="only the steps of this rule")
    @line_magic
    def gw_steps(self, line: str) -> None:
        """``%gw_steps NAME [--phase P] [--rule R]``: print the session's rewrite steps, one per line."""
        args = parse_argstring(self.gw_steps, line)
        session = self._session(args.name, "%gw_steps")
        if session is None:
            return None
        steps = session.rewrite_steps(phase=args.phase, rule=args.rule)
        print(steps_text(steps) if steps else "no steps")
        return None

    @magic_arguments()
    @argument("name", help="a session bound in the notebook")
    @argument("--values", nargs="+", default=None,
              help="a Python expression giving the input values (default: random)")
    @line_magic
    def gw_numerics(self, line: str) -> None:
        """``%gw_numerics NAME [--values EXPR]``: value ranges, NaN/Inf counts and errors of every node."""
        args = parse_argstring(self.gw_numerics, line)
        session = self._session(args.name, "%gw_numerics")
        if session is None:
            return None
        try:
            values = eval(" ".join(args.values), self._namespace()) if args.values else None  # noqa: S307
            report = session.numerics(values)
        except Exception as exc:  # noqa: BLE001
            _show_error(CellError(type(exc).__name__, str(exc)), "%gw_numerics")
            return None
        display({"text/html": report.html(), "text/plain": report.text()}, raw=True)
        return None

    def _lookup(self, expr: str, title: str) -> Any:
        try:
            return eval(expr, self._namespace())  # noqa: S307 - a name or expression typed by the user
        except Exception as exc:  # noqa: BLE001
            _show_error(CellError(type(exc).__name__, str(exc)), title)
            return None

    def _session(self, name: str, title: str) -> Any:
        from graphwright.workbench.session import Session

        obj = self._lookup(name, title)
        if obj is not None and not isinstance(obj, Session):
            _show_error(CellError("TypeError", f"{name} is a {type(obj).__name__}, not a workbench Session "
                                               f"(make one with %%graph {name})"), title)
            return None
        return obj


def steps_text(steps: list[Any]) -> str:
    """One line per step (rule or edit): number, phase, rule, and what was replaced by what.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> print(steps_text(Session(gw.log(1 + gw.vector("x")), phases="stabilize").steps))
    0. [stabilize] log1p: log(1 + x) -> log1p(x)
    """
    return "\n".join(str(s) for s in steps)


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


def _session_widget(session: Any) -> Any:
    from graphwright.workbench.widgets import SessionWidget

    return SessionWidget(session)


def _bench_html(table: Any) -> str:
    from graphwright.workbench.panels import bench_html

    return bench_html(table)
