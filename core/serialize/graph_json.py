"""The versioned JSON form of a Graph: ``{"format": "graphwright-graph", "version": 2, "nodes": [...],
"inputs": [...], "outputs": [...]}`` (the node table is described in :mod:`graphwright.serialize.tables`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.graph import Graph
from graphwright.printing import short_str
from graphwright.serialize.tables import Labeler, NodeDecoder, NodeTable
from graphwright.serialize.values import SerializeError

__all__ = ["VERSION", "graph_to_json", "graph_from_json", "check_header", "write_graph", "read_refs", "read_graph",
           "given_inputs"]

VERSION = 2  # one version for the graph, trace and session forms (1: never released)


def check_header(doc: Any, kind: str) -> None:
    """Raise unless ``doc`` is a JSON document of format ``graphwright-<kind>`` in a version this code reads."""
    if not isinstance(doc, dict):
        raise SerializeError(f"a graphwright-{kind} document must be a JSON object, got {type(doc).__name__}")
    if doc.get("format") != f"graphwright-{kind}":
        raise SerializeError(f"expected a graphwright-{kind} document, got format {doc.get('format')!r}")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:  # True == 1, but is no version
        raise SerializeError(f"graphwright-{kind} version {version!r} cannot be read (this graphwright "
                             f"reads version {VERSION})")


def write_graph(graph: Graph, table: NodeTable) -> dict[str, list[str]]:
    """Write ``graph`` into ``table`` in drawing order; its ``inputs`` and ``outputs`` as references."""
    inputs = [table.ref(v) for v in graph.inputs]
    for node in graph.toposort:
        table.ref(node.outputs[0])
    return {"inputs": inputs, "outputs": [table.ref(v) for v in graph.outputs]}


def given_inputs(refs: Any, inputs: Sequence[Variable] | None) -> dict[str, Variable]:
    """The id -> variable map that binds the stored graph inputs ``refs["inputs"]`` to ``inputs``."""
    if inputs is None:
        return {}
    ids = refs.get("inputs") if isinstance(refs, dict) else None
    if not isinstance(ids, list) or len(ids) != len(inputs):
        raise SerializeError(f"the document has {len(ids) if isinstance(ids, list) else 'no'} graph inputs, "
                             f"{len(inputs)} were given")
    return dict(zip(ids, inputs, strict=True))


def read_refs(refs: Any, decoder: NodeDecoder, what: str) -> list[Variable]:
    """The variables of a list of references."""
    if not isinstance(refs, list):
        raise SerializeError(f"{what} must be a list of variable references, got {refs!r:.100}")
    return [decoder.var(r) for r in refs]


def read_graph(refs: Any, decoder: NodeDecoder, what: str = "graph") -> Graph:
    """The Graph of ``{"inputs": [...], "outputs": [...]}``; every input must name an ``input`` entry."""
    if not isinstance(refs, dict):
        raise SerializeError(f"{what} must be an object with inputs and outputs, got {refs!r:.100}")
    inputs = read_refs(refs.get("inputs"), decoder, f"{what} inputs")
    for ref, var in zip(refs["inputs"], inputs, strict=True):
        if var.owner is not None or isinstance(var, Constant):
            raise SerializeError(f"{what} input {ref!r} names {short_str(var)}, not an input entry")
    return Graph(inputs, read_refs(refs.get("outputs"), decoder, f"{what} outputs"))


def graph_to_json(graph: Graph, node_id: Callable[[Apply | Variable], str] | None = None,
                  label: Labeler | None = None) -> dict[str, Any]:
    """The JSON form of ``graph`` (a dict of JSON values; ``json.dumps`` it as it is).

    ``node_id`` gives each node and input/constant its id (default ``n0``, ``n1``, ... in drawing order);
    ``label`` its display label (default: the op's short name, an input's name, a constant's value).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> doc = graph_to_json(gw.Graph([x], [gw.exp(x)]))
    >>> doc["format"], doc["version"], [n["label"] for n in doc["nodes"]], doc["outputs"]
    ('graphwright-graph', 2, ['x', 'exp'], ['n1'])
    """
    table = NodeTable(node_id, label)
    refs = write_graph(graph, table)
    return {"format": "graphwright-graph", "version": VERSION, "nodes": table.entries, **refs}


def graph_from_json(doc: Any, inputs: Sequence[Variable] | Mapping[str, Variable] | None = None) -> Graph:
    """Rebuild the Graph that :func:`graph_to_json` wrote: equal ops on equal inputs give the same nodes.

    ``inputs``: variables to use as the graph inputs (a list in input order, or id -> variable); by default
    fresh variables of the stored types and names.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> g = gw.Graph([x], [gw.log1p(gw.exp(x)) * 2])
    >>> graph_from_json(graph_to_json(g), inputs=[x]).outputs == g.outputs
    True
    """
    check_header(doc, "graph")
    if isinstance(inputs, Sequence):
        inputs = given_inputs(doc, inputs)
    decoder = NodeDecoder(doc.get("nodes"), inputs)
    return read_graph(doc, decoder)
