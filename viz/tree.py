"""The graph as a rich tree for terminals (the rows of ``graphwright.printing.dprint_lines``)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from graphwright.graph.basic import Variable
from graphwright.graph.graph import Graph
from graphwright.printing import dprint_lines

if TYPE_CHECKING:
    import rich.tree

__all__ = ["rich_tree", "tree_text"]

_WIDTH = 4000


def _outputs(graph_or_vars: Graph | Variable | Sequence[Variable]) -> list[Variable]:
    from graphwright.viz.dot import as_graph

    return list(as_graph(graph_or_vars).outputs)


def rich_tree(graph_or_vars: Graph | Variable | Sequence[Variable], *, max_depth: int = 40,
              max_lines: int = 400) -> rich.tree.Tree:
    """A ``rich.tree.Tree`` of the graph: one branch per output, each node once (later uses show its id).

    Parameters
    ----------
    graph_or_vars : a Graph, an output variable or a sequence of them.
    max_depth, max_lines : as for :func:`graphwright.dprint`; the rest is summarised in an elision row.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> tree = rich_tree(gw.exp(x) + 1)
    >>> [str(child.label) for child in tree.children]
    ['add [id A] float64[?]']
    """
    from rich.text import Text
    from rich.tree import Tree

    root = Tree("graph", hide_root=True, guide_style="grey50")
    stack: list[tuple[int, Tree]] = [(-1, root)]
    for prefix, op, ident, type_text, name in dprint_lines(_outputs(graph_or_vars), max_depth, max_lines):
        depth = len(prefix) // 4
        label = Text(op, style="bold cyan")
        for part, style in ((ident, "magenta"), (type_text, "green"), (name, "yellow")):
            if part:
                label.append(" " + part, style=style)
        while stack[-1][0] >= depth:
            stack.pop()
        branch = stack[-1][1].add(label)
        stack.append((depth, branch))
    return root


def tree_text(graph_or_vars: Graph | Variable | Sequence[Variable], *, color: bool = False, max_depth: int = 40,
              max_lines: int = 400) -> str:
    """The rich tree of the graph as text: plain with ``color=False``, with ANSI colours otherwise.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> print(tree_text(gw.exp(x) + 1))
    add [id A] float64[?]
    ├── exp [id B] float64[?]
    │   └── x [id C] float64[?]
    └── 1 [id D] float64[]
    """
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=_WIDTH, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False,
                      force_jupyter=False)  # in a notebook rich would display the tree instead of writing it
    console.print(rich_tree(graph_or_vars, max_depth=max_depth, max_lines=max_lines))
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())
