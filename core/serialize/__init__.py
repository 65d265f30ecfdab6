"""One versioned JSON form for graphs and rewrite traces (the workbench adds sessions), with a JSON Schema.

``graph_to_json`` / ``graph_from_json`` and ``trace_to_json`` / ``trace_from_json`` (also
``Trace.to_json`` / ``Trace.from_json``); :func:`schema` is the JSON Schema every document follows.
"""

from graphwright.serialize.graph_json import VERSION, graph_from_json, graph_to_json
from graphwright.serialize.schema import schema, validate
from graphwright.serialize.trace_json import trace_from_json, trace_to_json
from graphwright.serialize.values import SerializeError

__all__ = ["VERSION", "SerializeError", "graph_to_json", "graph_from_json", "trace_to_json", "trace_from_json",
           "schema", "validate"]
