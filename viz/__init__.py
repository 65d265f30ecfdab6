"""Graph drawing: stable node ids, DOT and SVG (graphviz), graph diffs, rich tree text and the JSON form."""

from graphwright.viz.diff import GraphDiff, diff_dot, graph_diff
from graphwright.viz.dot import HIDDEN_ID, STYLES, as_graph, to_dot
from graphwright.viz.graph_json import graph_from_json, graph_json
from graphwright.viz.ids import NodeIds
from graphwright.viz.svg import GraphvizError, clear_svg_cache, graph_svg, to_svg
from graphwright.viz.tree import rich_tree, tree_text

__all__ = [
    "NodeIds", "to_dot", "to_svg", "graph_svg", "GraphvizError", "GraphDiff", "graph_diff", "diff_dot",
    "tree_text", "rich_tree", "as_graph", "clear_svg_cache", "STYLES", "HIDDEN_ID", "graph_json", "graph_from_json",
]
