"""Trace: the record of a rewrite run, step by step, with the graph after every step (rebuilt on demand)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph, replace, toposort

if TYPE_CHECKING:
    from graphwright.rewrite.trace_history import StepDelta

__all__ = ["Step", "Refusal", "StepChanges", "Trace"]


@dataclass(frozen=True, eq=False)
class Step:
    """One applied rule: ``replaced`` (a variable of the graph before) became ``replacement``.

    A node rule replaces several outputs of one node at once, in one step: ``replaced``, ``replacement`` and
    ``origin`` are its first pair, ``others`` holds the rest as ``(replaced, replacement, origin)``, and
    :attr:`replacements` lists every pair. ``costs`` is ``(before, after)`` for a cost-model rule. A step
    that rewrote an op's inner graphs holds the inner steps in ``nested`` (indexed within their inner graph).
    """

    index: int
    phase: str
    rule: Any  # Rule
    replaced: Variable
    replacement: Variable
    origin: Variable  # the variable of the pass-start graph that ``replaced`` stands for
    pass_id: int
    others: tuple[tuple[Variable, Variable, Variable], ...] = ()
    costs: tuple[float, float] | None = None
    nested: tuple[Step, ...] = ()  # the steps inside an op's inner graphs (rule ``rewrite_inner_graphs``)

    @property
    def replacements(self) -> tuple[tuple[Variable, Variable], ...]:
        """Every ``(replaced, replacement)`` pair of the step, the first one first."""
        return ((self.replaced, self.replacement), *((old, new) for old, new, _ in self.others))

    @property
    def origin_replacements(self) -> tuple[tuple[Variable, Variable], ...]:
        """Every ``(origin, replacement)`` pair: what the step does to the graph its pass started from."""
        return ((self.origin, self.replacement), *((origin, new) for _, new, origin in self.others))

    @property
    def facts(self) -> tuple[str, ...]:
        """The facts that allowed the step: what the rule's guard required (and found) at ``replaced``, as
        ``"fact(name = variable)"``; empty for rules whose guard states no facts."""
        allowed = getattr(self.rule, "allowed_by", None)
        return allowed(self.replaced) if allowed is not None else ()

    @property
    def rule_name(self) -> str:
        return self.rule.name

    @property
    def identity(self) -> str:
        return self.rule.identity

    def __str__(self) -> str:
        pairs = "; ".join(f"{old} -> {new}" for old, new in self.replacements)
        cost = "" if self.costs is None else f" (cost {self.costs[0]:g} -> {self.costs[1]:g})"
        return f"{self.index + 1}. [{self.phase}] {self.rule.name}: {pairs}{cost}"


class Refusal:
    """A rule that matched but was not applied: ``kind`` is guard, type, error, check, loop or inner (an op
    refused its rewritten inner graph). ``reason`` may
    be given as a function of no arguments (a :class:`~graphwright.rewrite.rule.GuardRefused`'s reason, say):
    it is formatted when first read."""

    __slots__ = ("phase", "rule_name", "var", "kind", "_reason")

    def __init__(self, phase: str, rule_name: str, var: Variable | None, kind: str, reason: str | Callable[[], str]):
        self.phase, self.rule_name, self.var, self.kind, self._reason = phase, rule_name, var, kind, reason

    @property
    def reason(self) -> str:
        if not isinstance(self._reason, str):
            self._reason = self._reason()
        return self._reason

    def __repr__(self) -> str:
        return f"Refusal({self.phase!r}, {self.rule_name!r}, {self.var}, {self.kind!r}, {self.reason!r})"

    def __str__(self) -> str:
        return f"[{self.phase}] {self.rule_name} refused ({self.kind}) at {self.var}: {self.reason}"


@dataclass
class StepChanges:
    """What one step did to the graph: nodes the rule created, nodes rebuilt only because an input changed
    (old -> new, the same node rewired), and nodes that left the graph."""

    created: list[Apply]
    rebuilt: dict[Apply, Apply]
    removed: list[Apply]


class LazyStepChanges(StepChanges):
    """The StepChanges of step ``index`` of ``trace``, made when a field is first read: by the walk of
    ``delta`` (a StepDelta) when the steps are read in order, else from the step's whole graphs."""

    def __init__(self, trace: Trace, index: int, delta: StepDelta | None = None):  # noqa: D107 - fields are properties
        self._trace, self._index, self._delta, self._found = trace, index, delta, None

    def _get(self) -> StepChanges:
        if self._found is None:
            walked = self._delta._objects()[0] if self._delta is not None else None  # in step order: walked
            self._found = walked if walked is not None else self._trace._changes_from_graphs(self._index)
            self._delta = None
        return self._found

    created = property(lambda self: self._get().created)  # type: ignore[assignment]
    rebuilt = property(lambda self: self._get().rebuilt)  # type: ignore[assignment]
    removed = property(lambda self: self._get().removed)  # type: ignore[assignment]


@dataclass
class Trace:
    """Every step of a rewrite run; ``trace[k].replaced``, ``trace.graph_after(k)``, ``trace.explain(...)``."""

    initial: Graph
    final: Graph | None = None
    steps: list[Step] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    times: Counter = field(default_factory=Counter)
    passes: list[tuple[str, tuple[Variable, ...]]] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)
    backend: str | None = None  # the backend the rewrite was for (None: backend-neutral)
    _graphs: dict[int, Graph] = field(default_factory=dict, repr=False)
    _changes: dict[int, StepChanges] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, k: int) -> Step:
        return self.steps[k]

    def graph_after(self, k: int) -> Graph:
        """The whole graph right after step ``k`` (``-1``: the initial graph)."""
        if k < 0:
            return self.initial
        if k >= len(self.steps):
            raise IndexError(f"the trace has {len(self.steps)} steps")
        if k not in self._graphs:
            step = self.steps[k]
            _, start = self.passes[step.pass_id]
            mapping: dict[Variable, Variable] = {}
            for s in self.steps[: k + 1]:
                if s.pass_id == step.pass_id:
                    mapping.update(s.origin_replacements)
            self._graphs[k] = Graph(self.initial.inputs, replace(list(start), mapping))
        return self._graphs[k]

    def graph_before(self, k: int) -> Graph:
        """The whole graph right before step ``k``."""
        return self.graph_after(k - 1)

    def changes(self, k: int) -> StepChanges:
        """Created, rebuilt (old -> new) and removed nodes of step ``k``, computed from the whole graphs before
        and after the step (once: after :meth:`deltas` walked this far, when first read)."""
        if k < 0 or k >= len(self.steps):
            raise IndexError(f"the trace has {len(self.steps)} steps, there is no step {k}")
        found = self._changes.get(k)
        if found is None:
            found = self._changes[k] = LazyStepChanges(self, k)
        return found

    def deltas(self) -> Iterator[StepDelta]:
        """Every step's changes in order, in total time proportional to what the steps really changed: the walk
        keeps one graph of node ids up to date, in which a rebuilt node is the same node, rewired. Each
        :class:`~graphwright.rewrite.trace_history.StepDelta` holds that id-space delta as ``ids`` (removed ids,
        created nodes, rewired edges, changed outputs); its object-level fields (``changes``, ``slots``,
        ``entered``, ``left``, ``state``) are made from the whole graphs of that one step when first read (a
        step deep in a chain rebuilds every node above it as new objects). For a whole history that stays
        linear in size, read ``ids`` (or :func:`graphwright.rewrite.id_history.walk_ids`).

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 1)
        >>> [[n.obj.op.short_name() for n in d.ids.created] for d in trace.deltas()]
        [[], ['softplus']]
        >>> [[n.op.short_name() for n in d.entered] for d in trace.deltas()]
        [[], ['softplus']]
        >>> trace.changes(1).created == list(trace.graph_after(1).toposort)
        True
        """
        from graphwright.rewrite.trace_history import walk_trace

        last = None
        for delta in walk_trace(self):
            self._changes.setdefault(delta.index, LazyStepChanges(self, delta.index, delta))
            last = delta
            yield delta
        if last is not None and self.final is not None and last.index not in self._graphs and last.walk is not None:
            from graphwright.rewrite.id_history import is_graph_of

            if is_graph_of(last.walk, self.final.outputs):  # the graph after the last step is the result
                self._graphs[last.index] = self.final

    def _changes_from_graphs(self, k: int) -> StepChanges:
        """:meth:`changes` from the whole graphs before and after step ``k`` (the reference of :meth:`deltas`)."""
        before, after = self.graph_before(k), self.graph_after(k)
        step = self.steps[k]
        node_map: dict[Apply, Apply] = {}
        replace(list(before.outputs), dict(step.replacements), node_map)
        old_nodes, new_nodes = set(before.toposort), set(after.toposort)
        rebuilt = {old: new for old, new in node_map.items() if new in new_nodes and old in old_nodes}
        rebuilt_new = set(rebuilt.values())
        created = [n for n in toposort([new for _, new in step.replacements])
                   if n not in old_nodes and n not in rebuilt_new]
        removed = [n for n in before.toposort if n not in new_nodes and n not in rebuilt]
        return StepChanges(created, rebuilt, removed)

    def steps_of(self, rule_name: str) -> list[Step]:
        """The steps where ``rule_name`` fired."""
        return [s for s in self.steps if s.rule.name == rule_name]

    def explain(self, rule_name: str, where: Variable | Apply) -> str:
        """Why ``rule_name`` did (or did not) fire at a variable or node: its steps and refusals there, and
        otherwise the first mismatch of its pattern."""
        var = where.outputs[0] if isinstance(where, Apply) else where
        fired = [s for s in self.steps if s.rule.name == rule_name and any(old is var for old, _ in s.replacements)]
        if fired:
            return f"{rule_name} fired at {var} in step {fired[0].index + 1}: {fired[0].identity}"
        refused = [r for r in self.refusals if r.rule_name == rule_name and r.var is var]
        if refused:
            return str(refused[0])
        rule = self.rules.get(rule_name)
        if rule is None:
            from graphwright.rewrite.phases import all_rules

            rule = all_rules().get(rule_name)
        if rule is None:
            raise KeyError(f"no rule called {rule_name!r}")
        if var.owner is None:
            return f"{rule_name} does not apply at {var}: it is a graph input or constant"
        return rule.explain(var)

    def summary(self) -> str:
        """Per-rule counts and time, most frequent first."""
        lines = [f"{len(self.steps)} steps, {len(self.refusals)} refusals, {len(self.passes)} passes"]
        for name, n in self.counts.most_common():
            lines.append(f"  {name:32s} {n:6d}  {1e3 * self.times[name]:8.2f} ms")
        return "\n".join(lines)

    def text(self) -> str:
        """One line per step."""
        return "\n".join(str(s) for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        """The versioned JSON form (a dict of JSON values): :func:`graphwright.serialize.trace_to_json`."""
        from graphwright.serialize.trace_json import trace_to_json

        return trace_to_json(self)

    @staticmethod
    def from_json(doc: Any, inputs: Sequence[Variable] | None = None) -> Trace:
        """The Trace of a JSON form that :meth:`to_json` wrote, on ``inputs`` (by default fresh ones):
        :func:`graphwright.serialize.trace_from_json`.

        Examples
        --------
        >>> import graphwright as gw
        >>> _, trace = gw.rewrite(gw.log(1 + gw.vector("x")), phases="stabilize")
        >>> Trace.from_json(trace.to_json()).text()
        '1. [stabilize] log1p: log(1 + x) -> log1p(x)'
        """
        from graphwright.serialize.trace_json import trace_from_json

        return trace_from_json(doc, inputs)

    def __repr__(self) -> str:
        return f"Trace({len(self.steps)} steps, {len(self.refusals)} refusals)"
