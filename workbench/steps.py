"""The stepper's data: one StepView per rewrite step or user edit, built from a Trace, with stable node ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph, replace, toposort
from graphwright.printing import short_str
from graphwright.rewrite.phases import PHASES, phase_rules
from graphwright.rewrite.trace import StepChanges, Trace
from graphwright.viz.ids import NodeIds, drawable
from graphwright.workbench.history import TraceGraphs

__all__ = ["StepView", "steps_from_trace", "edit_step", "track_ids", "filter_steps", "graph_index", "describe",
           "why_not_text"]


class StepView:
    """One entry of the stepper: a rewrite step (``kind="rule"``) or a user edit (``kind="edit"``).

    ``index`` is the position in the session's history: ``before`` is the graph after step ``index - 1`` and
    ``after`` the graph after this step. ``trace`` and ``trace_index`` point back at the rewrite Trace the step
    came from (None for an edit). For a rule step, ``before``, ``after`` and ``changes`` may be left out: they
    are then taken from the trace when first asked for (a whole graph is built only for the steps looked at).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.log(1 + x), phases="stabilize")
    >>> print(steps_from_trace(trace)[0])
    0. [stabilize] log1p: log(1 + x) -> log1p(x)
    """

    def __init__(self, index: int, phase: str, rule: str, identity: str, kind: str, *,
                 replaced: Variable, replacement: Variable, before: Graph | None = None,
                 after: Graph | None = None, changes: StepChanges | None = None, trace: Trace | None = None,
                 trace_index: int | None = None, graphs: TraceGraphs | None = None):
        if trace is None and (before is None or after is None or changes is None):
            raise ValueError("a StepView without a trace needs before, after and changes")
        self.index, self.phase, self.rule, self.identity, self.kind = index, phase, rule, identity, kind
        self.replaced, self.replacement = replaced, replacement
        self.trace, self.trace_index, self.graphs = trace, trace_index, graphs
        self._before, self._after, self._changes = before, after, changes

    @property
    def before(self) -> Graph:
        """The graph before this step."""
        if self._before is None:
            k = self.trace_index - 1
            self._before = self.graphs.after(k) if self.graphs else self.trace.graph_after(k)
        return self._before

    @property
    def after(self) -> Graph:
        """The graph after this step."""
        if self._after is None:
            k = self.trace_index
            self._after = self.graphs.after(k) if self.graphs else self.trace.graph_after(k)
        return self._after

    @property
    def built(self) -> Graph | None:
        """The graph after this step if it was made already (else None: it is made when first asked for)."""
        if self._after is None and self.graphs is not None:
            return self.graphs.built(self.trace_index)
        return self._after

    @property
    def changes(self) -> StepChanges:
        """The nodes this step created, rebuilt (old -> new) and removed."""
        if self._changes is None:
            self._changes = self.trace.changes(self.trace_index)
        return self._changes

    def __str__(self) -> str:
        return f"{self.index}. [{self.phase}] {self.rule}: {short_str(self.replaced)} -> {short_str(self.replacement)}"

    def __repr__(self) -> str:
        return f"StepView({self.index}, {self.kind} {self.phase}/{self.rule})"


def steps_from_trace(trace: Trace, start: int = 0) -> list[StepView]:
    """A StepView per step of ``trace``, numbered from ``start``, sharing one
    :class:`~graphwright.workbench.history.TraceGraphs` (node ids: :class:`~graphwright.workbench.step_ids.HistoryIds`).

    Nothing here walks a whole graph per step: a step's graphs and changes are made when first asked for.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 1)
    >>> [(s.index, s.phase, s.rule) for s in steps_from_trace(trace, start=5)]
    [(5, 'canonicalize', 'mul_one'), (6, 'stabilize', 'softplus')]
    """
    graphs = TraceGraphs(trace)
    return [StepView(start + k, step.phase, step.rule_name, step.identity, "rule", replaced=step.replaced,
                     replacement=step.replacement, trace=trace, trace_index=k, graphs=graphs)
            for k, step in enumerate(trace.steps)]


def edit_step(before: Graph, target: Variable, replacement: Variable, index: int,
              rule: str = "substitute") -> StepView:
    """The StepView of a user edit: ``target`` replaced by ``replacement`` in ``before`` (inputs kept as they are).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> e = gw.exp(x)
    >>> step = edit_step(Graph([x], [e * e]), e * e, gw.exp(2 * x), index=0)
    >>> step.identity, step.kind, step.after.outputs[0]
    ('exp(x) * exp(x) -> exp(2 * x)', 'edit', exp(2 * x))
    """
    node_map: dict[Apply, Apply] = {}
    outputs = replace(list(before.outputs), {target: replacement}, node_map)
    after = Graph(before.inputs, outputs)
    old_nodes, new_nodes = set(before.toposort), set(after.toposort)
    rebuilt = {old: new for old, new in node_map.items() if old in old_nodes and new in new_nodes}
    rebuilt_new = set(rebuilt.values())
    created = [n for n in toposort([replacement]) if n not in old_nodes and n not in rebuilt_new]
    removed = [n for n in before.toposort if n not in new_nodes and n not in rebuilt]
    identity = f"{short_str(target)} -> {short_str(replacement)}"
    return StepView(index=index, phase="edit", rule=rule, identity=identity, kind="edit", before=before,
                    after=after, changes=StepChanges(created, rebuilt, removed), replaced=target,
                    replacement=replacement)


def track_ids(ids: NodeIds, steps: Sequence[StepView]) -> None:
    """Follow nodes through ``steps`` with one id per object: a rebuilt node keeps its old node's id, created
    nodes get new ids, and a rebuilt node that already has an id keeps its own.

    One table for every graph cannot keep ids unique in all of them (a hash-consed object may be a rebuilt
    node in one graph and a node of its own in another): a session uses per-graph ids
    (:class:`~graphwright.workbench.step_ids.HistoryIds`); this serves a few graphs drawn with one NodeIds.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.viz.ids import NodeIds
    >>> x = gw.vector("x")
    >>> g = Graph([x], [gw.exp(gw.log(1 + x)) * 2])
    >>> _, trace = gw.rewrite(g, phases="stabilize")
    >>> ids = NodeIds()
    >>> ids.assign(g)
    >>> steps = steps_from_trace(trace)
    >>> track_ids(ids, steps)
    >>> ids.of(g.outputs[0]) == ids.of(steps[-1].after.outputs[0])  # the mul node, rebuilt, keeps its id
    True
    """
    for step in steps:
        ids.follow(step.changes.rebuilt, step.after)
        ids.assign(step.after)


def graph_index(ids: NodeIds, graph: Graph) -> dict[str, Apply | Variable]:
    """Node id -> node (an Apply, or an input/constant Variable) for every node of ``graph``.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.viz.ids import NodeIds
    >>> x = gw.vector("x")
    >>> sorted(graph_index(NodeIds(), Graph([x], [gw.exp(x)])).items())
    [('n0', x), ('n1', Apply(exp, 1 inputs))]
    """
    return {ids.of(obj): obj for obj in drawable(graph)}


def filter_steps(steps: Sequence[StepView], phase: str | None = None, rule: str | None = None,
                 kind: str | None = None) -> list[StepView]:
    """The steps of ``phase`` (a phase name or "edit"), of ``rule`` and of ``kind``; None means any.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 1)
    >>> [s.rule for s in filter_steps(steps_from_trace(trace), phase="stabilize")]
    ['softplus']
    """
    return [s for s in steps if (phase is None or s.phase == phase) and (rule is None or s.rule == rule)
            and (kind is None or s.kind == kind)]


def describe(obj: Any) -> str:
    """A short label for a node or variable: ``exp(x)`` for an Apply, the expression text for a Variable.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> describe(gw.exp(x).owner), describe(x)
    ('exp(x)', 'x')
    """
    if isinstance(obj, Apply):
        return short_str(obj.outputs[0])
    return short_str(obj)


def _rule_phase(rule_name: str) -> str | None:
    for phase in PHASES:
        if any(r.name == rule_name for r in phase_rules(phase)):
            return phase
    return None


def why_not_text(steps: Sequence[StepView], rule_name: str, var: Variable, same: set[Apply], pos: int,
                 graph: Graph, phases: Sequence[str]) -> str:
    """Why ``rule_name`` did or did not fire at ``var`` (in ``graph``, the graph after step ``pos`` of ``steps``).

    ``same`` holds every node of the history that is ``var``'s node or a rebuilt form of it. The answer is the
    step where the rule fired on one of them, else a refusal recorded by a rewrite, else the rule's explanation
    of ``var`` (with the step that replaced the node, and a note when the rule's phase is not in ``phases``).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.log(1 + x), phases="stabilize")
    >>> steps = steps_from_trace(trace)
    >>> print(why_not_text(steps, "log1p", gw.log(1 + x), {gw.log(1 + x).owner}, -1, trace.initial, ["stabilize"]))
    log1p fired at log(1 + x) in step 0 (stabilize): log(1 + x) -> log1p(x) [log(1 + x) = log1p(x)]
    """
    for step in steps:
        if step.kind == "rule" and step.rule == rule_name and step.replaced.owner in same:
            return (f"{rule_name} fired at {short_str(step.replaced)} in step {step.index} ({step.phase}): "
                    f"{short_str(step.replaced)} -> {short_str(step.replacement)} [{step.identity}]")
    traces = {id(s.trace): s.trace for s in steps if s.trace is not None}
    for trace in traces.values():
        for refusal in trace.refusals:
            if refusal.rule_name == rule_name and refusal.var is not None and (
                    refusal.var is var or refusal.var.owner in same):
                return str(refusal)
    replaced_by = next((s for s in steps if s.replaced.owner in same), None)
    trace = next((s.trace for s in list(steps[pos + 1:]) + list(steps[:pos + 1])[::-1] if s.trace), None)
    try:
        answer = (trace or Trace(graph)).explain(rule_name, var)
    except KeyError:
        raise
    except Exception as exc:  # a function rule asked outside a rewrite (no context)
        answer = f"{rule_name} cannot be asked about {short_str(var)} outside a rewrite: {exc}"
    if replaced_by is not None:
        answer += f"; this node was replaced by {replaced_by.rule} in step {replaced_by.index} ({replaced_by.phase})"
    phase = _rule_phase(rule_name)
    if phase is not None and phase not in phases:
        answer += f" (and its phase, {phase}, is not among this session's phases: {', '.join(phases)})"
    return answer
