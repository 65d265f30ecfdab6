"""The versioned JSON form of a rewrite Trace: one node table, the steps, and the history in id space.

Nodes are immutable and hash-consed, so a step deep in a chain rebuilds every node above it as new objects;
listing those (old, new) pairs per step is quadratic in the depth. The history is written instead as the
id-space deltas of :func:`graphwright.rewrite.id_history.walk_ids`, where a rebuilt node is the same node,
rewired. Each node of the history is keyed by the node-table entry of the object it stood for when it was
created (written once, then); ``initial`` lists the keys of the initial graph (``created``) and every step its
``created`` keys, ``removed`` keys, ``rewired`` edges ``[key, input position, ref]`` and ``changed_outputs``
``[position, ref]``. Replaying them (:class:`HistoryReplay`: removed, then created with their entry's inputs,
then rewired, then the outputs) gives the graph after every step. A created node whose input had been
rebuilt before reads, in its entry, that input's object then; a ``rewired`` edge of the same step points it
at the input's key. The steps' own variables (``replaced``, ``replacement``, ``origin``, ...), the passes, the
final graph and the refusals are plain references to the objects of the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.graph.graph import Graph
from graphwright.rewrite.id_history import walk_ids
from graphwright.rewrite.trace import Refusal, Step, Trace
from graphwright.serialize.graph_json import VERSION, check_header, given_inputs, read_graph, read_refs, write_graph
from graphwright.serialize.tables import NodeDecoder, NodeTable
from graphwright.serialize.trace_history import HistoryReplay, HistoryWriter
from graphwright.serialize.values import SerializeError

__all__ = ["RuleRecord", "trace_to_json", "trace_from_json", "write_trace", "read_trace", "find_rule",
           "HistoryReplay"]


@dataclass(frozen=True)
class RuleRecord:
    """What a JSON document says of a rule no rule set of this process has: its name and identity."""

    name: str
    identity: str

    def explain(self, var: Any) -> str:
        return f"{self.name} is not a registered rule (read from JSON); its identity is {self.identity}"


def find_rule(name: str, identity: str, known: dict[str, Any]) -> Any:
    """The registered rule called ``name`` with this ``identity``, else a :class:`RuleRecord`."""
    rule = known.get(name)
    return rule if rule is not None and rule.identity == identity else RuleRecord(name, identity)


def _write_step(step: Step, table: NodeTable, delta: dict[str, Any]) -> dict[str, Any]:
    return {"index": step.index, "phase": step.phase, "rule": step.rule_name, "identity": step.identity,
            "pass": step.pass_id, "replaced": table.ref(step.replaced),
            "replacement": table.ref(step.replacement), "origin": table.ref(step.origin),
            "others": [[table.ref(v) for v in triple] for triple in step.others],
            "costs": None if step.costs is None else [float(c) for c in step.costs], **delta}


def write_trace(trace: Trace, table: NodeTable) -> dict[str, Any]:
    """The body of a trace document, its nodes written into ``table`` (which a session document shares)."""
    history = HistoryWriter(table)
    initial = write_graph(trace.initial, table)
    steps = []
    for delta in walk_ids(trace):
        written = history.write(delta)
        if delta.index < 0:
            initial["created"] = written["created"]
        else:
            steps.append(_write_step(trace.steps[delta.index], table, written))
    body: dict[str, Any] = {"initial": initial, "steps": steps}
    body["final"] = None if trace.final is None else [table.ref(v) for v in trace.final.outputs]
    body["passes"] = [{"phase": phase, "start": [table.ref(v) for v in start]} for phase, start in trace.passes]
    body["refusals"] = [{"phase": r.phase, "rule": r.rule_name, "var": None if r.var is None else table.ref(r.var),
                         "kind": r.kind, "reason": r.reason} for r in trace.refusals]
    body["backend"] = trace.backend
    body["counts"] = dict(trace.counts)
    body["times"] = {name: float(t) for name, t in trace.times.items()}
    return body


def trace_to_json(trace: Trace) -> dict[str, Any]:
    """The JSON form of ``trace`` (a dict of JSON values), in time and size proportional to its history.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(x)), phases="stabilize")
    >>> doc = trace_to_json(trace)
    >>> labels = {e["id"]: e["label"] for e in doc["nodes"]}
    >>> doc["format"], [(s["rule"], [labels[n] for n in s["created"]], len(s["removed"])) for s in doc["steps"]]
    ('graphwright-trace', [('softplus', ['softplus'], 4)])
    """
    table = NodeTable()
    body = write_trace(trace, table)
    return {"format": "graphwright-trace", "version": VERSION, "nodes": table.entries, **body}


def _read_step(data: Any, decoder: NodeDecoder, known: dict[str, Any]) -> Step:
    if not isinstance(data, dict):
        raise SerializeError(f"a trace step must be an object, got {data!r:.100}")
    var = decoder.var
    others = tuple(tuple(read_refs(triple, decoder, "others")) for triple in data.get("others") or ())
    if any(len(triple) != 3 for triple in others):
        raise SerializeError(f"step {data['index']}: others must be [replaced, replacement, origin] triples")
    costs = data.get("costs")
    if costs is not None and (not isinstance(costs, list) or len(costs) != 2
                              or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in costs)):
        raise SerializeError(f"step {data['index']}: costs {costs!r:.100} are not [before, after] numbers")
    return Step(data["index"], data["phase"], find_rule(data["rule"], data["identity"], known),
                var(data["replaced"]), var(data["replacement"]), var(data["origin"]), data["pass"], others,
                None if costs is None else (float(costs[0]), float(costs[1])))


def read_trace(body: Any, decoder: NodeDecoder, entries: Sequence[dict]) -> Trace:
    """The Trace of a body that :func:`write_trace` wrote, its nodes taken from ``decoder``; its history is
    replayed on ``entries`` (the node table) and checked. ``Trace.changes`` is made when first asked for."""
    from graphwright.rewrite.phases import all_rules

    if not isinstance(body, dict):
        raise SerializeError(f"a trace must be an object, got {type(body).__name__}")
    try:
        trace = Trace(read_graph(body["initial"], decoder, "initial graph"), backend=body.get("backend"))
        replay = HistoryReplay(entries)
        replay.apply(body["initial"], "the initial graph", first=True)
        known = all_rules()
        for data in body["steps"]:
            trace.steps.append(_read_step(data, decoder, known))
            replay.apply(data, f"step {data['index']}")
        if body["final"] is not None:
            trace.final = Graph(trace.initial.inputs, read_refs(body["final"], decoder, "final"))
        trace.passes = [(p["phase"], tuple(read_refs(p["start"], decoder, "start"))) for p in body["passes"]]
        trace.refusals = [Refusal(r["phase"], r["rule"], None if r["var"] is None else decoder.var(r["var"]),
                                  r["kind"], r["reason"]) for r in body["refusals"]]
        trace.counts, trace.times = Counter(body["counts"]), Counter(body["times"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, SerializeError):
            raise
        raise SerializeError(f"not a trace in graphwright's JSON form: {type(exc).__name__}: {exc}") from exc
    if [s.index for s in trace.steps] != list(range(len(trace.steps))):
        raise SerializeError("the steps of the trace are not numbered 0, 1, 2, ... in order")
    trace.rules = {s.rule.name: s.rule for s in trace.steps}
    return trace


def trace_from_json(doc: Any, inputs: Sequence[Variable] | None = None) -> Trace:
    """Rebuild the Trace that :func:`trace_to_json` wrote, on ``inputs`` (the initial graph's inputs, in order;
    by default fresh variables of the stored types and names).

    Rules are the registered ones with the stored name and identity, else :class:`RuleRecord` stand-ins.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 1)
    >>> again = trace_from_json(trace_to_json(trace))
    >>> again.text() == trace.text(), again.final.outputs[0]
    (True, softplus(x))
    """
    check_header(doc, "trace")
    decoder = NodeDecoder(doc.get("nodes"), given_inputs(doc.get("initial"), inputs))
    return read_trace(doc, decoder, doc["nodes"])

