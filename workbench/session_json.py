"""The versioned JSON form of a workbench Session: its original graph, the rewrite traces its history came
from, and every step (rule steps point into a trace, edits hold their target and replacement), all sharing one
node table (:mod:`graphwright.serialize.tables`). The undo stack and the latest tables are not part of it."""

from __future__ import annotations

from typing import Any

from graphwright.graph.graph import Graph
from graphwright.rewrite.trace import Trace
from graphwright.serialize.graph_json import VERSION, check_header, read_graph, read_refs, write_graph
from graphwright.serialize.tables import NodeDecoder, NodeTable
from graphwright.serialize.trace_json import read_trace, write_trace
from graphwright.serialize.values import SerializeError
from graphwright.workbench.history import TraceGraphs
from graphwright.workbench.session import Session
from graphwright.workbench.steps import StepView, edit_step

__all__ = ["session_to_json", "session_from_json"]


def _write_step(step: StepView, table: NodeTable, traces: dict[int, int]) -> dict[str, Any]:
    data: dict[str, Any] = {"index": step.index, "kind": step.kind, "phase": step.phase, "rule": step.rule,
                            "identity": step.identity, "replaced": table.ref(step.replaced),
                            "replacement": table.ref(step.replacement)}
    if step.kind == "rule":
        data["trace"], data["trace_index"] = traces[id(step.trace)], step.trace_index
    else:
        data["outputs"] = [table.ref(v) for v in step.after.outputs]
    return data  # a rule step's changes are its trace's history; an edit's follow from its graphs


def session_to_json(session: Session) -> dict[str, Any]:
    """The JSON form of ``session`` (a dict of JSON values): time and size proportional to its history.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> s = Session(gw.log(1 + gw.exp(x)) * 1, name="demo", phases="stabilize")
    >>> doc = session_to_json(s)
    >>> doc["format"], [(step["rule"], step["trace"]) for step in doc["steps"]]
    ('graphwright-session', [('mul_one', 0), ('softplus', 0)])
    """
    table = NodeTable()
    original = write_graph(session.original, table)
    traces: dict[int, int] = {}
    bodies = []
    for step in session.steps:
        if step.kind == "rule" and id(step.trace) not in traces:
            traces[id(step.trace)] = len(bodies)
            bodies.append(write_trace(step.trace, table))
    steps = [_write_step(step, table, traces) for step in session.steps]
    return {"format": "graphwright-session", "version": VERSION, "nodes": table.entries, "name": session.name,
            "phases": list(session.phases), "backends": list(session.backends), "original": original,
            "traces": bodies, "steps": steps}


def _index_in(k: Any, size: int) -> bool:
    """Whether ``k`` is an int (not a bool) in ``range(size)``: a stored index never counts from the end."""
    return type(k) is int and 0 <= k < size


def _read_steps(doc: dict, decoder: NodeDecoder, original: Graph, traces: list[Trace]) -> list[StepView]:
    graphs = [TraceGraphs(trace) for trace in traces]
    steps: list[StepView] = []
    for data in doc["steps"]:
        var = decoder.var
        replaced, replacement = var(data["replaced"]), var(data["replacement"])
        if data["kind"] == "rule":
            t, j = data["trace"], data["trace_index"]
            if not _index_in(t, len(traces)) or not _index_in(j, len(traces[t].steps)):
                raise SerializeError(f"step {data['index']}: trace {t!r} step {j!r} is not in the document "
                                     f"({len(traces)} traces)")
            steps.append(StepView(data["index"], data["phase"], data["rule"], data["identity"], "rule",
                                  replaced=replaced, replacement=replacement, trace=traces[t], trace_index=j,
                                  graphs=graphs[t]))
            continue
        before = steps[-1].after if steps else original
        step = edit_step(before, replaced, replacement, index=data["index"], rule=data["rule"])
        if any(a is not b for a, b in zip(step.after.outputs, read_refs(data["outputs"], decoder, "outputs"),
                                          strict=True)):
            raise SerializeError(f"edit step {data['index']} does not give the graph the JSON records")
        steps.append(step)
    return steps


def session_from_json(doc: Any) -> Session:
    """Rebuild the Session that :func:`session_to_json` wrote (fresh graph inputs of the stored types), without
    running any rewrite: its steps, node ids and graphs are those of the session that was written.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> s = Session(gw.exp(x) * gw.exp(x), name="demo", phases="stabilize")
    >>> _ = s.substitute(s.graph.outputs[0], "gw.exp(2 * x)")
    >>> again = session_from_json(session_to_json(s))
    >>> print(again.text())
    Session('demo': 1 input, 2 -> 2 nodes, 2 steps, 1 edit)
      0. [stabilize] exp_mul_exp: exp(x) * exp(x) -> exp(x + x)
      1. [edit] substitute: exp(x + x) -> exp(2 * x)
    """
    check_header(doc, "session")
    decoder = NodeDecoder(doc.get("nodes"))
    try:
        original = read_graph(doc["original"], decoder, "original graph")
        traces = [read_trace(body, decoder, doc["nodes"]) for body in doc["traces"]]
        steps = _read_steps(doc, decoder, original, traces)
        session = Session.__new__(Session)
        session._set_up(doc["name"], original, tuple(doc["phases"]), doc["backends"], steps)
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        if isinstance(exc, SerializeError):
            raise
        raise SerializeError(f"not a session in graphwright's JSON form: {type(exc).__name__}: {exc}") from exc
    return session
