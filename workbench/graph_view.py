"""GraphView: an anywidget showing a graph's SVG with ctrl+wheel zoom, drag pan, hover tooltips, click-to-select
and double-click to expand a fused node."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from graphwright import viz
from graphwright.workbench.widget_util import try_svg

__all__ = ["GraphView", "merge_mimebundle", "graph_text"]

_STATIC = Path(__file__).parent / "static"


def merge_mimebundle(base: Any, extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Add static representations to a widget's mimebundle (``dict`` or ``(data, metadata)`` from ipywidgets);
    empty values are left out.

    Examples
    --------
    >>> data, meta = merge_mimebundle({"text/plain": "W()"}, {"image/svg+xml": "<svg/>", "text/plain": "graph"})
    >>> sorted(data), data["text/plain"], meta
    (['image/svg+xml', 'text/plain'], 'graph', {})
    """
    if isinstance(base, tuple):
        data, meta = dict(base[0]), dict(base[1] or {})
    else:
        data, meta = dict(base or {}), {}
    data.update({k: v for k, v in extra.items() if v})
    return data, meta


class GraphView(anywidget.AnyWidget):
    """An interactive SVG graph: ctrl+wheel (or cmd+wheel) zoom, drag pan, a Fit button, hover tooltips, click
    selects a node, double-click expands or collapses a fused node.

    Parameters
    ----------
    svg : the SVG text (``graphwright.viz.to_svg`` output); nodes are ``<g class="gw-node" id="...">`` elements.
    text : plain-text form shown where widgets cannot render (the ``text/plain`` of the mimebundle).
    **kwargs : ``selected`` (a node id, synced both ways), ``status`` (a line shown over the view), ``height``,
        ``expanded`` (ids of fused nodes drawn expanded, synced both ways).

    Notes
    -----
    ``selected`` is set by clicking a node in the browser (its ``<g>`` element's ``id``) and highlights the node
    (CSS class ``gw-picked``) when set from Python; clicking the background clears it. The wheel alone scrolls
    the page; with ctrl (or cmd) held it zooms. When graphviz is missing or fails, ``svg`` is empty and
    ``fallback`` (the message and the text form) is shown instead. Outside a live kernel the mimebundle still
    carries ``image/svg+xml`` and ``text/plain``.

    Examples
    --------
    >>> view = GraphView(svg="<svg xmlns='http://www.w3.org/2000/svg'></svg>", text="empty graph")
    >>> view.selected = "n3"
    >>> data, _ = view._repr_mimebundle_()
    >>> sorted(data)
    ['application/vnd.jupyter.widget-view+json', 'image/svg+xml', 'text/plain']
    >>> data["text/plain"]
    'empty graph'
    """

    # the text, not the Path: anywidget watches a Path for live reloading and keeps every instance alive
    _esm = (_STATIC / "graph_view.js").read_text(encoding="utf-8")
    _css = (_STATIC / "graph_view.css").read_text(encoding="utf-8")

    svg = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Unicode("480px").tag(sync=True)
    fallback = traitlets.Unicode("").tag(sync=True)
    expanded = traitlets.List(traitlets.Unicode()).tag(sync=True)
    expandable = traitlets.Bool(False).tag(sync=True)
    text = traitlets.Unicode("")
    error = traitlets.Unicode("")

    def __init__(self, svg: str = "", *, text: str = "", **kwargs: Any) -> None:
        super().__init__(svg=svg, text=text, **kwargs)
        self._source: tuple[Any, dict[str, Any]] | None = None
        self.observe(lambda _: self._redraw(), names="expanded")

    @classmethod
    def from_graph(cls, graph: Any, *, ids: viz.NodeIds | None = None, height: str = "480px",
                   **to_dot_kwargs: Any) -> GraphView:
        """A view of ``graph`` (a Graph, a Variable or a list of them) drawn with ``viz.to_dot`` options.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> view = GraphView.from_graph(gw.exp(x) + 1)
        >>> "<svg" in view.svg, view.status
        (True, '2 nodes')
        """
        view = cls(height=height)
        view.show(graph, ids=ids, **to_dot_kwargs)
        return view

    def show(self, graph: Any, *, ids: viz.NodeIds | None = None, status: str | None = None,
             **to_dot_kwargs: Any) -> None:
        """Draw ``graph`` (``viz.to_dot`` keyword arguments pass through; ``expand`` defaults to ``expanded``,
        which double-clicks in the browser change, redrawing with the same options); keeps the selection.

        Examples
        --------
        >>> import graphwright as gw
        >>> view = GraphView()
        >>> view.show(gw.log(gw.scalar("a")), status="one log")
        >>> view.text.splitlines()[0], view.status, view.expandable
        ('log [id A] float64[]', 'one log', True)
        """
        ids = viz.NodeIds() if ids is None else ids
        self._source = (graph, dict(to_dot_kwargs, ids=ids, status=status))
        kwargs = dict(to_dot_kwargs)
        kwargs.setdefault("expand", list(self.expanded))
        self.expandable = True
        self.draw(lambda: viz.graph_svg(graph, ids=ids, **kwargs), text=graph_text(graph),
                  status=f"{_node_count(graph)} nodes" if status is None else status)

    def draw(self, render: Callable[[], str], *, text: str, status: str) -> None:
        """Show ``render()`` (an SVG); when graphviz fails, show its message and ``text`` instead.

        Examples
        --------
        >>> from graphwright import viz
        >>> view = GraphView()
        >>> view.draw(lambda: viz.to_svg("digraph { a -> }"), text="a -> ?", status="broken")
        >>> view.svg, view.status[:15], view.fallback.splitlines()[-1]
        ('', 'drawing failed:', 'a -> ?')
        """
        svg, error = try_svg(render)
        with self.hold_sync():
            self.svg, self.text, self.error = svg, text, error
            self.fallback = f"{error}\n\n{text}" if error else ""
            self.status = f"{error.splitlines()[0]}" if error else status

    def _redraw(self) -> None:
        if self._source is not None:
            graph, kwargs = self._source
            self.show(graph, **kwargs)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        text = self.text or self.status or "GraphView"
        if self.error:
            text = f"{self.error}\n\n{text}"
        extra = {"image/svg+xml": self.svg, "text/plain": text}
        return merge_mimebundle(super()._repr_mimebundle_(**kwargs), extra)


def graph_text(graph: Any) -> str:
    """The plain-text tree of a graph or variables (``viz.tree_text`` without colour).

    Examples
    --------
    >>> import graphwright as gw
    >>> graph_text(gw.exp(gw.scalar("a"))).splitlines()
    ['exp [id A] float64[]', '└── a [id B] float64[]']
    """
    return viz.tree_text(graph, color=False)


def _node_count(graph: Any) -> int:
    return viz.as_graph(graph).node_count
