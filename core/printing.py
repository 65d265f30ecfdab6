"""Text forms of graphs: the short one-line ``str`` form and the ``dprint`` tree (with rich colours on a tty)."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from graphwright.graph.basic import Constant, Variable

__all__ = ["short_str", "dprint", "dprint_lines", "unwrap_parens", "inner_graph_text"]

_MAX_STR_DEPTH = 12
_ELIDED_RUN = re.compile(r"\.\.\.(?:(?:, | \S{1,3} )\.\.\.)+")  # '..., ..., ...' or '... + ... + ...'
_MAX_STR_CHARS = 1000  # about this many characters per node's text; longer argument lists end in ...


def _constant_text(c: Constant) -> str:
    data = np.asarray(c.data)
    if data.ndim == 0:
        text = repr(data.item())
        return text[:-2] if text.endswith(".0") else text
    if data.size <= 6:
        return np.array2string(data, separator=", ").replace("\n", "")
    return f"constant{{{c.type.short()}}}"


def _input_text(v: Variable) -> str:
    if v.name:
        return v.name
    return f"<{v.type.short()}>" if hasattr(v.type, "short") else "<input>"


def unwrap_parens(text: str) -> str:
    """Drop one pair of parentheses that encloses the whole text: ``(x + y)`` -> ``x + y``."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(text) - 1:
            return text
    return text[1:-1]


def short_str(var: Variable, max_depth: int = _MAX_STR_DEPTH, max_chars: int = _MAX_STR_CHARS) -> str:
    """One-line expression text, ``log1p(x)``; deep graphs are cut with ``...`` past ``max_depth``.

    Linear in the size of the graph within ``max_depth`` levels: a subexpression shared by several users is
    printed once (memoised per variable and remaining depth, without recursion), and the text of any one
    node is kept to about ``max_chars`` characters (arguments past that show as ``...``), so wide or
    heavily shared graphs (gradients) cannot blow up exponentially.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> short_str(gw.log1p(x) * 2)
    'log1p(x) * 2'
    >>> short_str(gw.exp(gw.exp(gw.exp(x))), max_depth=2)
    'exp(exp(...))'
    """
    return unwrap_parens(_ExprPrinter(max_depth, max_chars).text(var))


class _ExprPrinter:
    """Memoised text of ``(variable, remaining depth)`` pairs, computed with an explicit stack."""

    def __init__(self, max_depth: int, max_chars: int):
        self.max_depth = max_depth
        self.max_chars = max_chars
        self.memo: dict[tuple[int, int], str] = {}
        self.calls = 0  # how many node texts were built (tests check that this stays linear)

    def _leaf(self, var: Variable, depth: int) -> str | None:
        if isinstance(var, Constant):
            return _constant_text(var)
        if var.owner is None:
            return _input_text(var)
        return "..." if depth <= 0 else None

    def text(self, var: Variable) -> str:
        leaf = self._leaf(var, self.max_depth)
        if leaf is not None:
            return leaf
        memo = self.memo
        # frames: [variable, remaining depth, next argument position, argument texts, their total length]
        stack: list[list] = [[var, self.max_depth, 0, [], 0]]
        while stack:
            frame = stack[-1]
            v, depth, pos, args, length = frame
            inputs = v.owner.inputs
            while pos < len(inputs):
                if length > self.max_chars:  # keep the arity (str_form may index its arguments), not the text
                    args.extend(["..."] * (len(inputs) - pos))
                    pos = len(inputs)
                    break
                child = inputs[pos]
                child_text = self._leaf(child, depth - 1)
                if child_text is None:
                    child_text = memo.get((id(child), depth - 1))
                if child_text is None:
                    stack.append([child, depth - 1, 0, [], 0])
                    break
                args.append(child_text)
                length += len(child_text)
                pos += 1
            frame[2], frame[4] = pos, length
            if pos < len(inputs):
                continue  # a child frame was pushed
            stack.pop()
            memo[(id(v), depth)] = self._node_text(v, args)
        return memo[(id(var), self.max_depth)]

    def _node_text(self, var: Variable, args: list[str]) -> str:
        self.calls += 1
        node = var.owner
        text = node.op.str_form(args)
        if len(node.outputs) > 1:
            text += f"[{var.index}]"
        if len(text) > self.max_chars:  # a run of elided arguments shows as one
            text = _ELIDED_RUN.sub("...", text)
            if len(text) > 2 * self.max_chars:
                text = text[: self.max_chars] + " ..."
        return text


def inner_graph_text(graph: Any, max_outputs: int = 8, max_chars: int = 400) -> str:
    """The outputs of an :class:`~graphwright.graph.inner.InnerGraph` as one line (``exp(i0) + i1, ...``).

    A shallow print (depth 6 per output): inner graphs share subexpressions, and a deep tree print of a DAG
    explodes. At most ``max_outputs`` outputs and about ``max_chars`` characters are shown.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> inner_graph_text(composite_of([gw.exp(x) + y, x * y], [x, y]).inner_graphs()[0])
    'exp(i0) + i1, i0 * i1'
    """
    outputs = graph.outputs
    body = ", ".join(unwrap_parens(short_str(v, max_depth=6)) for v in outputs[:max_outputs])
    if len(outputs) > max_outputs:
        body += f", ... ({len(outputs)} outputs)"
    return body[:max_chars] + " ..." if len(body) > max_chars else body


def _ident(k: int) -> str:
    letters = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def dprint_lines(outputs: Variable | Sequence[Variable], max_depth: int = 40,
                 max_lines: int = 400) -> list[tuple[str, str, str, str, str]]:
    """The rows of the ``dprint`` tree as ``(prefix, op, id, type, name)`` tuples (no recursion).

    Each node is shown once; later uses show only its id. Deeper than ``max_depth`` levels, or past
    ``max_lines`` rows, the rest is summarised as an elision row.
    """
    outs = [outputs] if isinstance(outputs, Variable) else list(outputs)
    ids: dict[int, str] = {}
    rows: list[tuple[str, str, str, str, str]] = []
    stack: list[tuple[Variable, str, str, int]] = [(v, "", "", 0) for v in reversed(outs)]
    hidden = 0
    while stack:
        var, prefix, child_prefix, depth = stack.pop()
        if len(rows) >= max_lines:
            hidden += 1 + len(stack)
            break
        node = var.owner
        key = id(node) if node is not None else id(var)
        seen = key in ids
        if not seen:
            ids[key] = _ident(len(ids))
        type_text = var.type.short() if hasattr(var.type, "short") else str(var.type)
        name = f"'{var.name}'" if var.name and node is not None else ""
        if isinstance(var, Constant):
            op_text = _constant_text(var)
        elif node is None:
            op_text = _input_text(var)
        else:
            op_text = node.op.short_name() + (f".{var.index}" if len(node.outputs) > 1 else "")
        rows.append((prefix, op_text, f"[id {ids[key]}]", type_text, name))
        if node is None or seen:
            continue
        if depth >= max_depth:
            rows.append((child_prefix + " └─ ", "...", "", "", f"{_count_below(node)} more node(s) elided"))
            continue
        n = len(node.inputs)
        for i in reversed(range(n)):
            last = i == n - 1
            stack.append((node.inputs[i], child_prefix + (" └─ " if last else " ├─ "),
                          child_prefix + ("    " if last else " │  "), depth + 1))
    if hidden:
        rows.append(("", "...", "", "", f"{hidden} more row(s) not shown (max_lines={max_lines})"))
    return rows


def _count_below(node) -> int:
    from graphwright.graph.graph import toposort

    return len(toposort(node.inputs))


def dprint(outputs: Variable | Sequence[Variable], file: IO | str | None = None, *, max_depth: int = 40,
           max_lines: int = 400, color: bool | None = None) -> str | None:
    """Print the graph as a tree: op, ``[id X]``, dtype and static shape, and the name.

    Parameters
    ----------
    file : a stream (default stdout), or ``"str"`` to return the text instead of printing.
    color : use rich colours; by default only when printing to a terminal and rich is installed.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> gw.dprint(gw.exp(x) + 1)
    add [id A] float64[?]
     ├─ exp [id B] float64[?]
     │   └─ x [id C] float64[?]
     └─ 1 [id D] float64[]
    """
    rows = dprint_lines(outputs, max_depth, max_lines)
    text = "\n".join(" ".join(p for p in (pre + op, ident, ty, name) if p).rstrip()
                     for pre, op, ident, ty, name in rows)
    if file == "str":
        return text
    stream = sys.stdout if file is None else file
    use_color = color if color is not None else bool(getattr(stream, "isatty", lambda: False)())
    if use_color and _print_rich(rows, stream):
        return None
    print(text, file=stream)
    return None


def _print_rich(rows: list[tuple[str, str, str, str, str]], stream: IO[Any]) -> bool:
    try:
        from rich.console import Console
        from rich.text import Text
    except ImportError:
        return False
    console = Console(file=stream, highlight=False, soft_wrap=True, force_terminal=True)
    for pre, op, ident, ty, name in rows:
        line = Text(pre, style="grey50")
        line.append(op, style="bold cyan")
        for part, style in ((ident, "magenta"), (ty, "green"), (name, "yellow")):
            if part:
                line.append(" " + part, style=style)
        console.print(line)
    return True
