"""The JSON form of a graph for display: :func:`graphwright.serialize.graph_to_json` with the drawing's labels
and node ids, the form the JupyterLab renderer reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph
from graphwright.serialize import graph_from_json as _graph_from_json
from graphwright.serialize import graph_to_json
from graphwright.viz.dot import as_graph
from graphwright.viz.ids import NodeIds
from graphwright.viz.labels import op_label, var_label

__all__ = ["graph_json", "graph_from_json", "display_label"]


def display_label(obj: Apply | Variable) -> str:
    """The label a drawing gives a node (``fused: exp∘mul`` ...) or an input/constant (``x\\nfloat64[?]``).

    Examples
    --------
    >>> import graphwright as gw
    >>> display_label(gw.vector("x")), display_label(gw.exp(gw.vector("x")).owner)
    ('x\\nfloat64[?]', 'exp')
    """
    return op_label(obj) if isinstance(obj, Apply) else var_label(obj)


def graph_json(graph: Graph | Variable | Sequence[Variable], ids: NodeIds | None = None) -> dict[str, Any]:
    """The versioned JSON form of a graph (a dict of JSON values), labelled as the drawings label it.

    ``ids``: a node-id table (a workbench session's ``ids_at(k)``) whose ids the nodes take; by default
    ``n0``, ``n1``, ... in drawing order, the ids a fresh :class:`NodeIds` gives. The format is described in
    :mod:`graphwright.serialize.tables`; :func:`graph_from_json` reads it back.

    Examples
    --------
    >>> import graphwright as gw
    >>> doc = graph_json(gw.exp(gw.vector("x")) + 1)
    >>> [(n["id"], n["kind"], n["label"]) for n in doc["nodes"]]
    [('n0', 'input', 'x\\nfloat64[?]'), ('n1', 'apply', 'exp'), ('n2', 'constant', '1'), ('n3', 'apply', 'add')]
    """
    return graph_to_json(as_graph(graph), node_id=None if ids is None else ids.of, label=display_label)


def graph_from_json(doc: Any, inputs: Sequence[Variable] | Mapping[str, Variable] | None = None) -> Graph:
    """The Graph of a document that :func:`graph_json` wrote (see :func:`graphwright.serialize.graph_from_json`).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> graph_from_json(graph_json(gw.exp(x)), inputs=[x]).outputs[0] is gw.exp(x)
    True
    """
    return _graph_from_json(doc, inputs)
