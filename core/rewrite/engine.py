"""The rewrite driver: phases in order, each to a fixed point, bottom-up passes, every step recorded.

A pass walks the graph once in topological order, rebuilding each node on its (possibly replaced) inputs and
trying the phase's rules at it; a node whose rule fired is tried again at once (local fixed point). Passes
repeat until one changes nothing. Because nodes are hash-consed, a graph is identified by its output
variables, which makes loop detection exact: a pass that returns to an earlier graph is a loop.

A rule normally replaces the variable it was tried at; a node rule returns ``{output: new}`` for outputs of
that variable's node, and the whole mapping is one step (every pair type-checked; one refused pair refuses
the step, which is then reported and not applied).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.graph.graph import Graph, replace, toposort
from graphwright.rewrite.context import RewriteContext, type_problem
from graphwright.rewrite.gc_pause import no_full_collections
from graphwright.rewrite.inner_steps import INNER_RULE, InnerRewrites
from graphwright.rewrite.pattern import var_root_key
from graphwright.rewrite.phases import phase_rules, resolve_phases
from graphwright.rewrite.refresh import StaleRefresher, rebuild
from graphwright.rewrite.rule import Costed, GuardRefused, Rule, RuleSet
from graphwright.rewrite.trace import Refusal, Step, Trace

__all__ = ["rewrite", "RewriteError", "RewriteContext", "MAX_PASSES", "STEPS_PER_NODE", "type_problem"]

# A phase normally settles in a handful of passes; one that has not settled after this many is growing the
# graph with a rule that rebuilds its own pattern (a loop that never revisits a graph), so it is stopped.
MAX_PASSES = 50
# The default step limit of ``rewrite``: this many steps per node of the input graph, and never fewer than
# MIN_MAX_STEPS. Every rule set of the library makes a bounded number of steps per node.
STEPS_PER_NODE = 20
MIN_MAX_STEPS = 100_000


class RewriteError(RuntimeError):
    """The rewrite could not finish: too many steps, or a numeric check failed in strict mode."""


def _dispatch(rules: RuleSet) -> dict[Any, list[Rule]]:
    table: dict[Any, list[Rule]] = {}
    for rule in rules:
        for key in rule.keys:
            table.setdefault(key, []).append(rule)
    return table


class _NodeAt:
    """The outputs of one node during a pass: their pass-start variables and their current forms."""

    def __init__(self, origins: Sequence[Variable], current: Sequence[Variable]):
        self.origins = tuple(origins)
        self.current = list(current)


class _Run:
    """State of one rewrite call."""

    def __init__(self, graph: Graph, max_steps: int, check: Callable | None, mutable: frozenset[Variable],
                 backend: str | None = None):
        self.trace = Trace(initial=graph, backend=backend)
        self.inputs = graph.inputs
        self.mutable = mutable
        self.max_steps = max_steps
        self.check = check
        self.backend = backend
        self.inner = InnerRewrites(backend)

    def context(self, phase: str, outputs: tuple[Variable, ...], **more: Any) -> RewriteContext:
        return RewriteContext(phase, self.inputs, outputs, self.mutable, backend=self.backend, **more)

    def run_phase(self, phase: str, rules: RuleSet, outputs: tuple[Variable, ...]) -> tuple[Variable, ...]:
        graph_rules = [r for r in rules if r.is_graph_rule]
        table = _dispatch(RuleSet(phase, [r for r in rules if not r.is_graph_rule]))
        for r in rules:
            self.trace.rules[r.name] = r
        # Variables every rule of this phase was tried on without effect. Nodes are hash-consed, so the same
        # variable means the same subgraph, and the rules would decline again (unless they asked for client
        # counts, which change between passes: such variables are not settled).
        self.settled: set[Variable] = set()
        self.rules = rules
        seen = {outputs}
        for _ in range(MAX_PASSES):
            new = self.run_pass(phase, table, outputs) if table else outputs
            for rule in graph_rules:
                new = self.run_graph_rule(phase, rule, new)
            if new == outputs:
                return outputs
            if new in seen:
                self.trace.refusals.append(Refusal(phase, "(driver)", None, "loop",
                                                   "a pass returned to an earlier graph; the phase stopped"))
                return new
            seen.add(new)
            outputs = new
        self.trace.refusals.append(Refusal(
            phase, "(driver)", None, "loop", f"no fixed point after {MAX_PASSES} passes (a rule keeps rebuilding "
            f"its own pattern?); the phase stopped. Most frequent rules: {self.trace.counts.most_common(3)}"))
        return outputs

    def run_pass(self, phase: str, table: dict, outputs: tuple[Variable, ...]) -> tuple[Variable, ...]:
        trace = self.trace
        pass_id = len(trace.passes)
        trace.passes.append((phase, outputs))
        nodes = toposort(outputs)
        ctx = self.context(phase, outputs, nodes=nodes, rule_table=table)
        any_rules = table.get(None, [])
        new: dict[int, Variable] = {}
        self.stale = StaleRefresher(nodes, new, ctx)
        settled = self.settled
        for node in nodes:
            if new and any(id(v) in new for v in node.inputs):
                rebuilt = rebuild(node, [new.get(id(v), v) for v in node.inputs])
            elif all(o in settled for o in node.outputs):
                continue  # unchanged, and every rule already declined it
            else:
                rebuilt = node
            at = _NodeAt(node.outputs, rebuilt.outputs)
            for origin, var in zip(node.outputs, rebuilt.outputs, strict=True):
                ctx._origin[var] = origin
            if rebuilt.op.inner_rewrite_phases:
                self.rewrite_inner(phase, at, pass_id, ctx)
            for i in range(len(at.current)):
                self.rewrite_var(phase, table, any_rules, at, i, pass_id, ctx)
            for origin, var in zip(at.origins, at.current, strict=True):
                if var is not origin:
                    new[id(origin)] = var
        result = tuple(new.get(id(v), v) for v in outputs)
        if not trace.steps or trace.steps[-1].pass_id != pass_id:
            trace.passes.pop()  # nothing happened in this pass: do not keep it
        return result

    def run_graph_rule(self, phase: str, rule: Rule, outputs: tuple[Variable, ...]) -> tuple[Variable, ...]:
        """One call of a whole-graph rule, in a pass of its own; each ``(old, new)`` pair it returns is a step,
        and so is each ``{old: new, ...}`` (the outputs of one node: all applied, or none when one is refused)."""
        trace = self.trace
        pass_id = len(trace.passes)
        ctx = self.context(phase, outputs)
        start = time.perf_counter()
        try:
            items = rule.graph_fn(outputs, ctx)
        except Exception as exc:  # a broken rule is skipped and reported, never applied half-way
            trace.refusals.append(Refusal(phase, rule.name, None, "error", f"{type(exc).__name__}: {exc}"))
            return outputs
        finally:
            trace.times[rule.name] += time.perf_counter() - start
        if not items:
            return outputs
        trace.passes.append((phase, outputs))
        mapping: dict[Variable, Variable] = {}
        for item in items:
            group = dict(item) if isinstance(item, dict) else dict([item])
            problems = [f"{old} -> {new}: {why}" if len(group) > 1 else why for old, new in group.items()
                        if (why := type_problem(old, new)) is not None]
            if problems:
                whole = "; ".join(problems) + (f" (the {len(group)} replacements were not applied)"
                                               if len(group) > 1 else "")
                trace.refusals.append(Refusal(phase, rule.name, next(iter(group)), "type", whole))
                continue
            mapping.update(group)
            (old, new), *rest = group.items()
            self.record(Step(len(trace.steps), phase, rule, old, new, old, pass_id,
                             tuple((o, n, o) for o, n in rest)))
        if not mapping:
            trace.passes.pop()
            return outputs
        return tuple(replace(list(outputs), mapping))

    def record(self, step: Step) -> None:
        """Append a step, check it when asked, and stop past max_steps."""
        self.trace.steps.append(step)
        self.trace.counts[step.rule.name] += 1
        if self.check is not None:
            self.check(self.trace, step)
        if len(self.trace.steps) >= self.max_steps:
            raise RewriteError(
                f"rewriting did not finish within max_steps={self.max_steps}; the last steps were:\n"
                + "\n".join(str(s) for s in self.trace.steps[-5:]))

    def rewrite_var(self, phase: str, table: dict, any_rules: list[Rule], at: _NodeAt, i: int, pass_id: int,
                    ctx: RewriteContext) -> None:
        """Rules at output ``i`` of a node to a local fixed point; ``at.current`` follows every step."""
        var = at.current[i]
        fired = True
        seen = {var}
        settled = self.settled
        while fired and var.owner is not None and var not in settled:
            fired = False
            ctx.asked_clients = False
            for rule in table.get(var_root_key(var), []) + any_rules:
                found = self.try_rule(phase, rule, var, ctx, at.current, i)
                if found is None:
                    continue
                pairs, costs = found
                pairs = {j: self.stale.refresh(v) for j, v in pairs.items()}
                new = pairs.get(i)
                if new in seen:  # the rules at this node go round in a circle: stop before repeating
                    self.trace.refusals.append(Refusal(phase, rule.name, var, "loop",
                                                       f"would return to the earlier form {new}"))
                    return
                self.record_node_step(phase, rule, pairs, at, pass_id, costs)
                for j, v in pairs.items():
                    at.current[j] = v
                    ctx._origin[v] = at.origins[j]
                if new is None:
                    return  # it replaced other outputs of the node only: this one is tried again next pass
                seen.add(new)
                var = new
                fired = True
                break
        if not fired and not ctx.asked_clients:
            settled.add(var)

    def record_node_step(self, phase: str, rule: Rule, pairs: dict[int, Variable], at: _NodeAt, pass_id: int,
                         costs: tuple[float, float] | None, nested: tuple[Step, ...] = ()) -> None:
        """One step for all ``pairs`` (output position -> replacement), the first position first."""
        first, *rest = sorted(pairs)
        others = tuple((at.current[j], pairs[j], at.origins[j]) for j in rest)
        self.record(Step(len(self.trace.steps), phase, rule, at.current[first], pairs[first], at.origins[first],
                         pass_id, others, costs, nested))

    def rewrite_inner(self, phase: str, at: _NodeAt, pass_id: int, ctx: RewriteContext) -> None:
        """The phase's rules inside the inner graphs of the node at ``at`` (see :mod:`.inner_steps`): one
        step, with the inner steps nested, when they changed something."""
        node = at.current[0].owner
        rebuilt, nested, refused = self.inner.node(node, phase, self.rules)
        if rebuilt is node and not refused:
            return
        problems = [p for old, new in zip(node.outputs, rebuilt.outputs, strict=True)
                    if (p := type_problem(old, new)) is not None]
        if refused or problems:
            self.trace.refusals.append(Refusal(phase, INNER_RULE.name, at.current[0], "inner",
                                               refused or "; ".join(problems)))
            return
        self.trace.rules[INNER_RULE.name] = INNER_RULE
        self.record_node_step(phase, INNER_RULE, dict(enumerate(rebuilt.outputs)), at, pass_id, None, nested)
        for j, v in enumerate(rebuilt.outputs):
            at.current[j] = v
            ctx._origin[v] = at.origins[j]

    def try_rule(self, phase: str, rule: Rule, var: Variable, ctx: RewriteContext, current: Sequence[Variable],
                 i: int) -> tuple[dict[int, Variable], tuple[float, float] | None] | None:
        """What ``rule`` replaces at ``var`` (``current[i]``): output position -> replacement, and its costs;
        None when nothing (it declined, or it was refused: then the refusal is in the trace)."""
        start = time.perf_counter()
        try:
            new = rule.apply(var, ctx)
        except Exception as exc:  # a broken rule is skipped and reported, never applied half-way
            self.trace.refusals.append(Refusal(phase, rule.name, var, "error", f"{type(exc).__name__}: {exc}"))
            return None
        finally:
            self.trace.times[rule.name] += time.perf_counter() - start
        costs = None
        if isinstance(new, Costed):
            new, costs = new.replacement, new.costs
        if new is None or new is var:
            return None
        if isinstance(new, GuardRefused):
            self.trace.refusals.append(Refusal(phase, rule.name, var, "guard", lambda: new.reason))
            return None
        if not isinstance(new, dict):
            pairs = self.node_pairs(phase, rule, var, {var: new}, {id(var): i})
        elif pairs := self.node_pairs(phase, rule, var, new, {id(v): j for j, v in enumerate(current)}):
            # an output nothing uses (any more) is left alone by a node rule: replacing it changes nothing
            pairs = {j: v for j, v in pairs.items() if ctx.n_clients(current[j])}
        return None if not pairs else (pairs, costs)

    def node_pairs(self, phase: str, rule: Rule, var: Variable, mapping: dict, position: dict[int, int]
                   ) -> dict[int, Variable] | None:
        """``mapping`` (variable -> replacement) as output positions of ``var``'s node -> replacements, or None
        (reported) when a key is not a current output of the node (``position``: id -> output position) or a
        pair fails the type check."""
        pairs: dict[int, Variable] = {}
        problems = []
        for old, new in mapping.items():
            j = position.get(id(old))
            if j is None:
                problems.append(("node", f"{old} is not an output of {var.owner} as the graph has it now"))
                continue
            if new is old:
                continue
            problem = type_problem(old, new)
            if problem is not None:
                problems.append(("type", f"{old} -> {new}: {problem}" if len(mapping) > 1 else problem))
            pairs[j] = new
        if problems:
            kind = problems[0][0]
            whole = "; ".join(p for _, p in problems)
            if len(mapping) > 1:
                whole += f" (the node replacement of {len(mapping)} outputs was not applied)"
            self.trace.refusals.append(Refusal(phase, rule.name, var, kind, whole))
            return None
        return pairs



def rewrite(graph: Graph | Variable | Sequence[Variable], phases: str | Sequence[str] = "fast_run",
            include: Iterable[str] = (), exclude: Iterable[str] = (), max_steps: int | None = None,
            check: bool = False, rules: RuleSet | None = None,
            mutable: Iterable[Variable] = (), backend: str | None = None) -> tuple[Graph, Trace]:
    """Rewrite a graph; returns the new Graph and the Trace of every step.

    Parameters
    ----------
    graph : a Graph, a variable or a list of variables (the inputs are then the free variables).
    phases : a query ("fast_run", "stabilize", ...) or phase names; they run in the canonical order.
    include : only rules with these names or tags (all when empty).
    exclude : never rules with these names or tags.
    max_steps : raise RewriteError past this many steps (a safety net against rule cycles). By default
        ``max(100_000, STEPS_PER_NODE * node_count)``: a rule set makes a bounded number of steps per node
        (flattening a chain of n adds is one step), so the limit grows with the graph and only a rule cycle
        or a rule that keeps growing the graph reaches it.
    check : verify each step numerically on random and edge-case inputs; the first rule that changes values
        raises RewriteError naming it.
    rules : run exactly this rule set (one phase called "custom") instead of the registered phases.
    mutable : graph inputs whose buffers the in-place phase may overwrite (by default it never does).
    backend : the backend the graph is for ("numpy", "numba", "jax", "torch"; ``gw.function`` passes its
        own). Rules tagged ``backends=`` run only for those backends; None (the default) is backend-neutral:
        only untagged rules (and those tagged for every backend) run. Rules see it as ``ctx.backend`` and the
        trace records it.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> g, trace = gw.rewrite(gw.log(1 + gw.exp(x)), phases="stabilize")
    >>> g.outputs[0]
    softplus(x)
    >>> [s.rule_name for s in trace]
    ['softplus']
    >>> gw.rewrite(x, backend="numba")[1].backend
    'numba'
    """
    if isinstance(graph, Variable):
        graph = Graph(None, [graph])
    elif not isinstance(graph, Graph):
        graph = Graph(None, list(graph))
    checker = None
    if check:
        from graphwright.rewrite.check import check_step

        checker = check_step
    if backend is not None:
        from graphwright.backends.registry import BACKENDS

        if backend not in BACKENDS:
            raise ValueError(f"rewrite: unknown backend {backend!r}; the backends are {', '.join(BACKENDS)}")
    mutable = frozenset(mutable)
    unknown = [v for v in mutable if v not in graph.inputs]
    if unknown:
        raise ValueError(f"mutable inputs must be inputs of the graph: {', '.join(map(str, unknown))} are not")
    if max_steps is None:
        max_steps = max(MIN_MAX_STEPS, STEPS_PER_NODE * graph.node_count)
    run = _Run(graph, max_steps, checker, mutable, backend)
    outputs = graph.outputs
    if rules is not None:
        plan = [("custom", rules.select(include, exclude).for_backend(backend))]
    else:
        plan = [(p, phase_rules(p).select(include, exclude).for_backend(backend)) for p in resolve_phases(phases)]
    with no_full_collections():  # full collections would traverse the whole heap again and again
        for phase, rs in plan:
            if len(rs):
                outputs = run.run_phase(phase, rs, outputs)
    run.trace.final = Graph(graph.inputs, list(outputs))
    return run.trace.final, run.trace
