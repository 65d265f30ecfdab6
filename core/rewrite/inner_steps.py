"""Rewriting inside inner graphs: the phase's rules run on each inner graph of an op that allows it.

An op says which phases may rewrite its inner graphs (``Op.inner_rewrite_phases``; none by default). When
the engine reaches such a node it rewrites each inner graph with the same phase and rule set, rebuilds the
op with :meth:`~graphwright.graph.basic.Op.with_inner_graphs`, and records one outer step (rule
:data:`INNER_RULE`) whose ``nested`` steps are the inner ones. Results are memoised per
``(inner graph, phase, rule set, backend)``: hash-consing makes equal inner graphs equal values, so each
distinct inner graph is rewritten once per rewrite call, and the cost stays linear in the total size.
"""

from __future__ import annotations

from typing import Any

from graphwright.graph.basic import Apply, GraphError
from graphwright.graph.graph import Graph
from graphwright.graph.inner import InnerGraph
from graphwright.rewrite.rule import Rule, RuleSet
from graphwright.rewrite.trace import Step

__all__ = ["INNER_RULE", "InnerRewrites"]

INNER_RULE = Rule("rewrite_inner_graphs", fn=lambda var, ctx: None, tags=frozenset({"inner"}),
                  identity="the op's inner graphs, rewritten by the same phase (the nested steps)")


class InnerRewrites:
    """The inner rewrites of one rewrite call: ``(phase, rules, backend)`` fixed per phase, memo per graph."""

    def __init__(self, backend: str | None):
        self.backend = backend
        self.memo: dict[tuple[InnerGraph, str, int], tuple[InnerGraph, tuple[Step, ...]]] = {}

    def graph(self, graph: InnerGraph, phase: str, rules: RuleSet) -> tuple[InnerGraph, tuple[Step, ...]]:
        """``graph`` rewritten by ``rules`` (one phase) and the steps that did it; memoised."""
        key = (graph, phase, id(rules))
        found = self.memo.get(key)
        if found is None:
            from graphwright.rewrite.engine import _Run

            run = _Run(Graph(list(graph.placeholders), list(graph.outputs)), _max_steps(graph), None,
                       frozenset(), self.backend)
            outputs = run.run_phase(phase, rules, graph.outputs)
            new = graph if outputs == graph.outputs else InnerGraph(graph.placeholders, outputs)
            found = self.memo[key] = (new, tuple(run.trace.steps))
        return found

    def node(self, node: Apply, phase: str, rules: RuleSet) -> tuple[Apply, tuple[Step, ...], str | None]:
        """``node`` with its inner graphs rewritten (itself when nothing changed or the phase may not), the
        inner steps, and why the rewritten op was refused (None: it was not)."""
        op: Any = node.op
        graphs = op.inner_graphs()
        if not graphs or phase not in op.inner_rewrite_phases:
            return node, (), None
        done = [self.graph(g, phase, rules) for g in graphs]
        if all(new is old for (new, _), old in zip(done, graphs, strict=True)):
            return node, (), None
        steps = tuple(s for _, inner in done for s in inner)
        try:
            rebuilt = op.with_inner_graphs([new for new, _ in done]).make_node(*node.inputs)
        except (GraphError, TypeError, ValueError) as exc:  # a rule left a form the op does not hold
            return node, (), f"{type(exc).__name__}: {exc}"
        return rebuilt, steps, None


def _max_steps(graph: InnerGraph) -> int:
    from graphwright.rewrite.engine import MIN_MAX_STEPS, STEPS_PER_NODE

    return max(MIN_MAX_STEPS, STEPS_PER_NODE * graph.size)
