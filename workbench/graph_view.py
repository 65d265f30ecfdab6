"""GraphView: an anywidget showing a graph's SVG with wheel zoom, drag pan, hover tooltips and click-to-select."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

from graphwright import viz

__all__ = ["GraphView", "strip_svg_prolog", "merge_mimebundle", "graph_text"]

_STATIC = Path(__file__).parent / "static"


def strip_svg_prolog(svg: str) -> str:
    """The ``<svg>`` element of a ``dot -Tsvg`` output, without the XML prolog and DOCTYPE (for inline HTML).

    Examples
    --------
    >>> strip_svg_prolog('<?xml version="1.0"?>\\n<!DOCTYPE svg>\\n<svg width="1pt"></svg>\\n')
    '<svg width="1pt"></svg>'
    """
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else svg).strip()


def merge_mimebundle(base: Any, extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Add static representations to a widget's mimebundle (``dict`` or ``(data, metadata)`` from ipywidgets).

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
    """An interactive SVG graph: wheel zoom, drag pan, a Fit button, hover tooltips, click selects a node.

    Parameters
    ----------
    svg : the SVG text (``graphwright.viz.to_svg`` output); nodes are ``<g class="gw-node" id="...">`` elements.
    text : plain-text form shown where widgets cannot render (the ``text/plain`` of the mimebundle).
    **kwargs : ``selected`` (a node id, synced both ways), ``status`` (a line shown over the view), ``height``.

    Notes
    -----
    ``selected`` is set by clicking a node in the browser (its ``<g>`` element's ``id``) and highlights the node
    (CSS class ``gw-picked``) when set from Python; clicking the background clears it. Outside a live kernel the
    mimebundle still carries ``image/svg+xml`` and ``text/plain``.

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

    _esm = _STATIC / "graph_view.js"
    _css = _STATIC / "graph_view.css"

    svg = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Unicode("480px").tag(sync=True)
    text = traitlets.Unicode("")

    def __init__(self, svg: str = "", *, text: str = "", **kwargs: Any) -> None:
        super().__init__(svg=svg, text=text, **kwargs)

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

    def show(self, graph: Any, *, ids: viz.NodeIds | None = None, **to_dot_kwargs: Any) -> None:
        """Draw ``graph`` (``viz.to_dot`` keyword arguments pass through); keeps the selection.

        Examples
        --------
        >>> import graphwright as gw
        >>> view = GraphView()
        >>> view.show(gw.log(gw.scalar("a")))
        >>> view.text.splitlines()[0]
        'log [id A] float64[]'
        """
        self.svg = viz.to_svg(viz.to_dot(graph, ids=ids, **to_dot_kwargs))
        self.text = graph_text(graph)
        self.status = f"{_node_count(graph)} nodes"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        extra = {"image/svg+xml": strip_svg_prolog(self.svg), "text/plain": self.text or self.status or "GraphView"}
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
    from graphwright.graph import Graph

    if not isinstance(graph, Graph):
        graph = Graph(None, graph)
    return graph.node_count
