"""The rewrite driver: phases in order, each to a fixed point, bottom-up passes, every step recorded.

A pass walks the graph once in topological order, rebuilding each node on its (possibly replaced) inputs and
trying the phase's rules at it; a node whose rule fired is tried again at once (local fixed point). Passes
repeat until one changes nothing. Because nodes are hash-consed, a graph is identified by its output
variables, which makes loop detection exact: a pass that returns to an earlier graph is a loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph, replace, toposort
from graphwright.rewrite.pattern import var_root_key
from graphwright.rewrite.phases import phase_rules, resolve_phases
from graphwright.rewrite.rule import GuardRefused, Rule, RuleSet
from graphwright.rewrite.trace import Refusal, Step, Trace
from graphwright.tensor.type import TensorType

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


@dataclass
class RewriteContext:
    """What a function rule may ask about: the phase, the graph inputs and client counts of the pass."""

    phase: str
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...] = ()  # the graph at the start of the pass
    mutable: frozenset[Variable] = frozenset()  # inputs the caller lets the graph overwrite
    nodes: Sequence[Apply] | None = None  # its toposort, when known
    _clients: dict[Variable, int] | None = None  # counted on the first question
    _origin: dict[Variable, Variable] = field(default_factory=dict)
    asked_clients: bool = False  # set when a rule asked n_clients (its answer may differ in the next pass)

    _sole: dict[Variable, Apply] | None = None  # variable -> its only client node, found on the first question
    # the node rules of this pass by root key: what the phase and the call's include/exclude selected, for a
    # rule that tries the others on a subexpression of its own making (stabilize's under_index)
    rule_table: dict[Any, list[Rule]] | None = None

    def n_clients(self, var: Variable) -> int:
        """How many nodes (plus graph outputs) use ``var`` in the graph as it was at the start of this pass."""
        self.asked_clients = True
        if self._clients is None:
            self._clients, self._sole = _client_counts(self.outputs, self.nodes)
        return self._clients.get(self._origin.get(var, var), 0)

    def sole_client(self, var: Variable) -> Apply | None:
        """The one node that uses ``var`` (as it was at the start of this pass), or None when ``var`` has no
        client, several, or is a graph output. The node is the pass's original: its inputs may since have
        been rebuilt, but its op has not changed.

        Examples
        --------
        >>> import graphwright as gw
        >>> a, b = gw.vector("a"), gw.vector("b")
        >>> inner = a + b
        >>> out = gw.exp(inner)
        >>> ctx = RewriteContext("canonicalize", (a, b), (out,))
        >>> ctx.sole_client(inner) is out.owner, ctx.sole_client(out)
        (True, None)
        """
        if self.n_clients(var) != 1:
            return None
        return self._sole.get(self._origin.get(var, var))


def _dispatch(rules: RuleSet) -> dict[Any, list[Rule]]:
    table: dict[Any, list[Rule]] = {}
    for rule in rules:
        for key in rule.keys:
            table.setdefault(key, []).append(rule)
    return table


def type_problem(var: Variable, new: Any) -> str | None:
    """Why ``new`` may not replace ``var`` in a graph, or None when it may.

    The check every rewrite step (and every hand edit of the workbench) passes: the dtype must stay the same and
    the static shape may only get more specific, never drop or add a dimension, and an unknown length may not
    become a static 1 (which would broadcast where the old value did not).

    Parameters
    ----------
    var : the variable to be replaced.
    new : the proposed replacement (anything; a non-Variable is a problem too).

    Returns
    -------
    str or None
        The problem in words (naming the old and new dtype or static shape), or None.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> type_problem(x, gw.exp(x)) is None
    True
    >>> type_problem(x, x.sum())
    'static shape changes from float64[?] to float64[]'
    >>> type_problem(x, gw.cast(x, "float32"))
    'dtype changes from float64 to float32'
    """
    if not isinstance(new, Variable):
        return f"the replacement is a {type(new).__name__}, not a variable"
    old_t, new_t = var.type, new.type
    if not isinstance(new_t, TensorType) or old_t.dtype != new_t.dtype:
        return f"dtype changes from {old_t.dtype} to {getattr(new_t, 'dtype', new_t)}"
    if old_t.ndim != new_t.ndim or not new_t.is_refinement_of(old_t):
        return f"static shape changes from {old_t.short()} to {new_t.short()}"
    if any(o is None and n == 1 for o, n in zip(old_t.shape, new_t.shape, strict=True)):
        # a static 1 broadcasts where an unknown length does not: the runtime shape could change
        return f"static shape changes from {old_t.short()} to {new_t.short()} (a length 1 would broadcast)"
    return None


class _Run:
    """State of one rewrite call."""

    def __init__(self, graph: Graph, max_steps: int, check: Callable | None, mutable: frozenset[Variable]):
        self.trace = Trace(initial=graph)
        self.inputs = graph.inputs
        self.mutable = mutable
        self.max_steps = max_steps
        self.check = check

    def run_phase(self, phase: str, rules: RuleSet, outputs: tuple[Variable, ...]) -> tuple[Variable, ...]:
        graph_rules = [r for r in rules if r.is_graph_rule]
        table = _dispatch(RuleSet(phase, [r for r in rules if not r.is_graph_rule]))
        for r in rules:
            self.trace.rules[r.name] = r
        # Variables every rule of this phase was tried on without effect. Nodes are hash-consed, so the same
        # variable means the same subgraph, and the rules would decline again (unless they asked for client
        # counts, which change between passes: such variables are not settled).
        self.settled: set[Variable] = set()
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
        ctx = RewriteContext(phase, self.inputs, outputs, self.mutable, nodes, rule_table=table)
        any_rules = table.get(None, [])
        new: dict[int, Variable] = {}
        settled = self.settled
        for node in nodes:
            if new and any(id(v) in new for v in node.inputs):
                rebuilt = rebuild(node, [new.get(id(v), v) for v in node.inputs])
            elif all(o in settled for o in node.outputs):
                continue  # unchanged, and every rule already declined it
            else:
                rebuilt = node
            for origin, var in zip(node.outputs, rebuilt.outputs, strict=True):
                ctx._origin[var] = origin
                var = self.rewrite_var(phase, table, any_rules, var, origin, pass_id, ctx)
                if var is not origin:
                    new[id(origin)] = var
        result = tuple(new.get(id(v), v) for v in outputs)
        if not trace.steps or trace.steps[-1].pass_id != pass_id:
            trace.passes.pop()  # nothing happened in this pass: do not keep it
        return result

    def run_graph_rule(self, phase: str, rule: Rule, outputs: tuple[Variable, ...]) -> tuple[Variable, ...]:
        """One call of a whole-graph rule, in a pass of its own; each (old, new) pair it returns is a step."""
        trace = self.trace
        pass_id = len(trace.passes)
        ctx = RewriteContext(phase, self.inputs, outputs, self.mutable)
        start = time.perf_counter()
        try:
            pairs = rule.graph_fn(outputs, ctx)
        except Exception as exc:  # a broken rule is skipped and reported, never applied half-way
            trace.refusals.append(Refusal(phase, rule.name, None, "error", f"{type(exc).__name__}: {exc}"))
            return outputs
        finally:
            trace.times[rule.name] += time.perf_counter() - start
        if not pairs:
            return outputs
        trace.passes.append((phase, outputs))
        mapping: dict[Variable, Variable] = {}
        for old, new in pairs:
            problem = type_problem(old, new)
            if problem is not None:
                trace.refusals.append(Refusal(phase, rule.name, old, "type", problem))
                continue
            mapping[old] = new
            self.record(Step(len(trace.steps), phase, rule, old, new, old, pass_id))
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

    def rewrite_var(self, phase, table, any_rules, var, origin, pass_id, ctx) -> Variable:
        fired = True
        seen = {var}
        settled = self.settled
        while fired and var.owner is not None and var not in settled:
            fired = False
            ctx.asked_clients = False
            for rule in table.get(var_root_key(var), []) + any_rules:
                new = self.try_rule(phase, rule, var, ctx)
                if new is None:
                    continue
                if new in seen:  # the rules at this node go round in a circle: stop before repeating
                    self.trace.refusals.append(Refusal(phase, rule.name, var, "loop",
                                                       f"would return to the earlier form {new}"))
                    return var
                seen.add(new)
                self.record(Step(len(self.trace.steps), phase, rule, var, new, origin, pass_id))
                var = new
                ctx._origin[var] = origin
                fired = True
                break
        if not fired and not ctx.asked_clients:
            settled.add(var)
        return var

    def try_rule(self, phase: str, rule: Rule, var: Variable, ctx: RewriteContext) -> Variable | None:
        start = time.perf_counter()
        try:
            new = rule.apply(var, ctx)
        except Exception as exc:  # a broken rule is skipped and reported, never applied half-way
            self.trace.refusals.append(Refusal(phase, rule.name, var, "error", f"{type(exc).__name__}: {exc}"))
            return None
        finally:
            self.trace.times[rule.name] += time.perf_counter() - start
        if new is None or new is var:
            return None
        if isinstance(new, GuardRefused):
            self.trace.refusals.append(Refusal(phase, rule.name, var, "guard", new.reason))
            return None
        problem = type_problem(var, new)
        if problem is not None:
            self.trace.refusals.append(Refusal(phase, rule.name, var, "type", problem))
            return None
        return new


def rebuild(node: Apply, inputs: list[Variable]) -> Apply:
    """``node``'s op applied to new inputs; when the op's output types depend only on the input types and those
    are unchanged, the old output types are reused instead of inferred and checked again."""
    op = node.op
    if op.types_follow_input_types and all(a.type == b.type for a, b in zip(inputs, node.inputs, strict=True)):
        return Apply.create(op, inputs, [o.type for o in node.outputs])
    return op.make_node(*inputs)


def _client_counts(outputs: Sequence[Variable], nodes: Sequence[Apply] | None = None
                   ) -> tuple[dict[Variable, int], dict[Variable, Apply]]:
    """How many uses each variable has (nodes and graph outputs), and the last node using each one."""
    counts: dict[Variable, int] = {}
    last: dict[Variable, Apply] = {}
    for node in toposort(outputs) if nodes is None else nodes:
        for v in node.inputs:
            counts[v] = counts.get(v, 0) + 1
            last[v] = node
    for v in outputs:
        counts[v] = counts.get(v, 0) + 1
    return counts, last


def rewrite(graph: Graph | Variable | Sequence[Variable], phases: str | Sequence[str] = "fast_run",
            include: Iterable[str] = (), exclude: Iterable[str] = (), max_steps: int | None = None,
            check: bool = False, rules: RuleSet | None = None,
            mutable: Iterable[Variable] = ()) -> tuple[Graph, Trace]:
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

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> g, trace = gw.rewrite(gw.log(1 + gw.exp(x)), phases="stabilize")
    >>> g.outputs[0]
    softplus(x)
    >>> [s.rule_name for s in trace]
    ['softplus']
    """
    if isinstance(graph, Variable):
        graph = Graph(None, [graph])
    elif not isinstance(graph, Graph):
        graph = Graph(None, list(graph))
    checker = None
    if check:
        from graphwright.rewrite.check import check_step

        checker = check_step
    mutable = frozenset(mutable)
    unknown = [v for v in mutable if v not in graph.inputs]
    if unknown:
        raise ValueError(f"mutable inputs must be inputs of the graph: {', '.join(map(str, unknown))} are not")
    if max_steps is None:
        max_steps = max(MIN_MAX_STEPS, STEPS_PER_NODE * graph.node_count)
    run = _Run(graph, max_steps, checker, mutable)
    outputs = graph.outputs
    if rules is not None:
        plan = [("custom", rules.select(include, exclude))]
    else:
        plan = [(p, phase_rules(p).select(include, exclude)) for p in resolve_phases(phases)]
    for phase, rs in plan:
        if len(rs):
            outputs = run.run_phase(phase, rs, outputs)
    run.trace.final = Graph(graph.inputs, list(outputs))
    return run.trace.final, run.trace
