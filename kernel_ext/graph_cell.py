"""Running the cell of a ``%%graph`` magic: its outputs, or a readable error naming the offending line."""

from __future__ import annotations

import ast
import html
import traceback
from dataclasses import dataclass
from typing import Any

__all__ = ["CellError", "run_graph_cell", "error_bundle"]


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
    graphwright.kernel_ext.graph_cell.CellError: SyntaxError: invalid syntax
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
