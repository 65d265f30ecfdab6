"""Trace: the record of a rewrite run, step by step, with the graph after every step (rebuilt on demand)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph, replace, toposort

if TYPE_CHECKING:
    from graphwright.rewrite.trace_history import StepDelta

__all__ = ["Step", "Refusal", "StepChanges", "Trace"]


@dataclass(frozen=True, eq=False)
class Step:
    """One applied rule: ``replaced`` (a variable of the graph before) became ``replacement``."""

    index: int
    phase: str
    rule: Any  # Rule
    replaced: Variable
    replacement: Variable
    origin: Variable  # the variable of the pass-start graph that ``replaced`` stands for
    pass_id: int

    @property
    def rule_name(self) -> str:
        return self.rule.name

    @property
    def identity(self) -> str:
        return self.rule.identity

    def __str__(self) -> str:
        return f"{self.index + 1}. [{self.phase}] {self.rule.name}: {self.replaced} -> {self.replacement}"


@dataclass(frozen=True, eq=False)
class Refusal:
    """A rule that matched but was not applied: ``kind`` is guard, type, error, check or loop."""

    phase: str
    rule_name: str
    var: Variable | None
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.phase}] {self.rule_name} refused ({self.kind}) at {self.var}: {self.reason}"


@dataclass
class StepChanges:
    """What one step did to the graph: nodes the rule created, nodes rebuilt only because an input changed
    (old -> new, the same node rewired), and nodes that left the graph."""

    created: list[Apply]
    rebuilt: dict[Apply, Apply]
    removed: list[Apply]


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
                    mapping[s.origin] = s.replacement
            self._graphs[k] = Graph(self.initial.inputs, replace(list(start), mapping))
        return self._graphs[k]

    def graph_before(self, k: int) -> Graph:
        """The whole graph right before step ``k``."""
        return self.graph_after(k - 1)

    def changes(self, k: int) -> StepChanges:
        """Created, rebuilt (old -> new) and removed nodes of step ``k`` (those :meth:`deltas` found, when it
        walked this far; otherwise computed from the whole graphs before and after the step)."""
        if k < 0 or k >= len(self.steps):
            raise IndexError(f"the trace has {len(self.steps)} steps, there is no step {k}")
        found = self._changes.get(k)
        return found if found is not None else self._changes_from_graphs(k)

    def deltas(self) -> Iterator[StepDelta]:
        """Every step's changes in order, found incrementally: the walk keeps one graph up to date, so each
        step costs time proportional to what it changed, not to the size of the graph. Each
        :class:`~graphwright.rewrite.trace_history.StepDelta` also names the output positions the step changed
        and the nodes that entered and left the graph; its ``state`` is the graph after the step (valid until
        the walk goes on). Afterwards :meth:`changes` answers from what the walk found.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 1)
        >>> [[n.op.short_name() for n in d.entered] for d in trace.deltas()]
        [[], ['softplus']]
        >>> trace.changes(1).created == list(trace.graph_after(1).toposort)
        True
        """
        from graphwright.rewrite.trace_history import walk_trace

        last = None
        for delta in walk_trace(self):
            self._changes[delta.index] = delta.changes
            last = delta
            yield delta
        if last is not None and self.final is not None and last.index not in self._graphs and all(
                a is b for a, b in zip(last.state.outputs, self.final.outputs, strict=True)):
            self._graphs[last.index] = self.final  # the graph after the last step is the result

    def _changes_from_graphs(self, k: int) -> StepChanges:
        """:meth:`changes` from the whole graphs before and after step ``k`` (the reference of :meth:`deltas`)."""
        before, after = self.graph_before(k), self.graph_after(k)
        step = self.steps[k]
        node_map: dict[Apply, Apply] = {}
        replace(list(before.outputs), {step.replaced: step.replacement}, node_map)
        old_nodes, new_nodes = set(before.toposort), set(after.toposort)
        rebuilt = {old: new for old, new in node_map.items() if new in new_nodes and old in old_nodes}
        rebuilt_new = set(rebuilt.values())
        created = [n for n in toposort([step.replacement]) if n not in old_nodes and n not in rebuilt_new]
        removed = [n for n in before.toposort if n not in new_nodes and n not in rebuilt]
        return StepChanges(created, rebuilt, removed)

    def steps_of(self, rule_name: str) -> list[Step]:
        """The steps where ``rule_name`` fired."""
        return [s for s in self.steps if s.rule.name == rule_name]

    def explain(self, rule_name: str, where: Variable | Apply) -> str:
        """Why ``rule_name`` did (or did not) fire at a variable or node: its steps and refusals there, and
        otherwise the first mismatch of its pattern."""
        var = where.outputs[0] if isinstance(where, Apply) else where
        fired = [s for s in self.steps if s.rule.name == rule_name and s.replaced is var]
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

    def __repr__(self) -> str:
        return f"Trace({len(self.steps)} steps, {len(self.refusals)} refusals)"
