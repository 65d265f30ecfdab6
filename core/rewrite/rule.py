"""Rule and RuleSet: a named pattern -> replacement (or a function of a node), with a guard, identity and tags."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.rewrite.pattern import Bindings, Mismatch, Pattern, PNode, PVar, build, match, root_key

__all__ = ["Rule", "RuleSet", "GuardRefused", "Costed", "function_rule", "graph_rule", "integer_negation",
           "runs_on", "guard_refusal", "backend_set"]

# What a local rule may return: a replacement of the variable it was tried at, a node replacement (each output
# of that variable's node it replaces -> its new variable, applied as one step), None, a GuardRefused, or a
# Costed wrapping one of the first two.
Replacement = Any


class GuardRefused:
    """A rule whose pattern matched but whose guard said no. ``reason`` may be given as a function of no
    arguments: it is formatted only when read (refusals are many, and printing their bindings is not free)."""

    __slots__ = ("_reason",)

    def __init__(self, reason: str | Callable[[], str]):
        self._reason = reason

    @property
    def reason(self) -> str:
        if not isinstance(self._reason, str):
            self._reason = self._reason()
        return self._reason

    def __repr__(self) -> str:
        return f"GuardRefused({self.reason!r})"


@dataclass(frozen=True)
class Costed:
    """A cost-model rule's replacement (a variable, or a node's ``{output: new}``) with the cost it estimated
    before and after; the engine records both in the step (``Step.costs``).

    Examples
    --------
    >>> import graphwright as gw
    >>> Costed(gw.vector("x"), 10.0, 4.0).costs
    (10.0, 4.0)
    """

    replacement: Any
    before: float
    after: float

    @property
    def costs(self) -> tuple[float, float]:
        return (float(self.before), float(self.after))


@dataclass(frozen=True, eq=False)
class Rule:
    """A rewrite rule.

    Parameters
    ----------
    name : unique name, used by include/exclude and shown by the trace.
    pattern : what to look for (a :class:`Pattern`); None for function rules.
    replacement : a pattern instantiated with the bindings, or ``f(bindings) -> Variable | None``.
    when : guard ``f(bindings) -> bool``, evaluated after a match.
    identity : the equation the rule implements, e.g. ``"log(1 + x) = log1p(x)"`` (default: from the patterns).
    tags : extra names for include/exclude (``"useless"``, ``"stability"`` ...).
    fn : for function rules, ``f(var, ctx) -> Variable | None`` called on every candidate variable. A function
        (or a replacement function) may instead return ``{output: new, ...}`` for outputs of ``var``'s node
        (all of them, or those it replaces): a node rule, applied as one step or not at all.
    roots : for function rules, the op keys (scalar names or Op classes) it applies to; empty means every node.
    graph_fn : for graph rules (fusion), ``f(outputs, ctx) -> [(old, new), ...]`` called once per pass on the
        whole graph; each pair becomes one step, and so does each ``{old: new, ...}`` in the list (the outputs
        of one node, applied together or not at all). Replacements must be built in dependency order (a later
        replacement may use an earlier one, never the variable it replaces).
    backends : the backends the rule pays off on (``("numba", "jax")``); empty: backend-neutral, it runs on
        every backend and in a rewrite without one (see :func:`runs_on`).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.rewrite import ops, P
    >>> x = P.var("x")
    >>> rule = Rule("log1p", ops.log(1 + x), ops.log1p(x))
    >>> rule.identity
    'log(1 + x) -> log1p(x)'
    >>> rule.apply(gw.log(1 + gw.vector("v")), None)
    log1p(v)
    """

    name: str
    pattern: Pattern | None = None
    replacement: Pattern | Callable[[Bindings], Variable | None] | None = None
    when: Callable[[Bindings], bool] | None = None
    identity: str = ""
    tags: frozenset[str] = frozenset()
    fn: Callable[[Variable, Any], Variable | None] | None = None
    roots: tuple = ()
    graph_fn: Callable[[tuple[Variable, ...], Any], list[tuple[Variable, Variable]]] | None = None
    backends: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.pattern, self.fn, self.graph_fn)) != 1:
            raise ValueError(f"rule {self.name!r}: give exactly one of a pattern (with a replacement), a function "
                             "or a graph function")
        if self.pattern is not None and self.replacement is None:
            raise ValueError(f"rule {self.name!r}: a pattern rule needs a replacement")
        if not self.identity:
            text = (f"{self.pattern!r} -> {self.replacement!r}" if self.pattern is not None and isinstance(
                self.replacement, Pattern) else (self.fn or self.graph_fn or self.replacement).__doc__ or self.name)
            object.__setattr__(self, "identity", " ".join(text.split()))
        object.__setattr__(self, "tags", frozenset(self.tags))
        object.__setattr__(self, "backends", backend_set(self.backends))
        _check_backends(self.name, self.backends)

    @property
    def is_graph_rule(self) -> bool:
        return self.graph_fn is not None

    @property
    def keys(self) -> tuple:
        """Dispatch keys: the root op of the pattern, or the declared roots of a function rule."""
        if self.graph_fn is not None:
            return ()
        if self.pattern is not None:
            return (root_key(self.pattern),)
        return tuple(self.roots) or (None,)

    def apply(self, var: Variable, ctx: Any) -> Replacement:
        """The replacement for ``var`` (or for outputs of its node), None when the rule does not apply, or
        GuardRefused."""
        if self.fn is not None:
            return self.fn(var, ctx)
        bindings = match(self.pattern, var)
        if isinstance(bindings, Mismatch):
            return None
        if self.when is not None and not self.when(bindings):
            return guard_refusal(self.name, self.when, bindings)
        if isinstance(self.replacement, Pattern):
            why = integer_negation(self.pattern, self.replacement, bindings, var)
            return GuardRefused(f"{self.name}: {why}") if why else build(self.replacement, bindings)
        return self.replacement(bindings)

    def allowed_by(self, var: Variable) -> tuple[str, ...]:
        """The facts the guard required (and found) at ``var``, as ``"fact(name = variable)"``; empty for a
        guard that states none (see :mod:`graphwright.facts`)."""
        allowed = getattr(self.when, "allowed_by", None)
        bindings = match(self.pattern, var) if allowed is not None and self.pattern is not None else None
        return () if bindings is None or isinstance(bindings, Mismatch) else allowed(bindings)

    def explain(self, var: Variable) -> str:
        """Why this rule does or does not apply at ``var`` (the first mismatch of its pattern)."""
        if self.graph_fn is not None:
            return f"{self.name} is a graph rule: it looks at the whole graph, not at {var} alone"
        if self.pattern is None:
            return f"{self.name} is a function rule; it returned {'a replacement' if self.fn(var, None) else 'None'}"
        bindings = match(self.pattern, var)
        if isinstance(bindings, Mismatch):
            return f"{self.name} does not match {var}: {bindings}"
        if self.when is not None and not self.when(bindings):
            why = guard_refusal(self.name, self.when, bindings).reason
            return f"{self.name} matches {var} but its guard refuses it ({why})"
        return f"{self.name} applies at {var}"

    def __repr__(self) -> str:
        return f"Rule({self.name}: {self.identity})"


def guard_refusal(name: str, when: Callable[[Bindings], bool], bindings: Bindings) -> GuardRefused:
    """The GuardRefused of rule ``name`` whose guard ``when`` said no to ``bindings``, with the guard's own
    reason where it gives one (a fact guard names the missing facts).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.facts import has
    >>> guard_refusal("abs_nonnegative", has("nonnegative", "x"), Bindings(x=gw.vector("v"))).reason
    'guard of abs_nonnegative refused x=v: x = v is not known to be nonnegative'
    """
    reason = getattr(when, "refusal", None)

    def text() -> str:
        shown = ", ".join(f"{k}={v}" for k, v in bindings.items())
        return f"guard of {name} refused {shown}" + (f": {reason(bindings)}" if reason else "")

    return GuardRefused(text)


def _integer_negations(pattern: Any, bindings: Bindings, out: set) -> set:
    """The ``-x`` and ``a - b`` of ``pattern`` whose operands are all bound to integers (computed in integers)."""
    if isinstance(pattern, PNode):
        names = tuple(c.name for c in pattern.children if isinstance(c, PVar))
        if pattern.op in ("neg", "sub") and len(names) == len(pattern.children) and all(
                str(getattr(getattr(bindings.get(n), "type", None), "dtype", "float"))[0] in "iub" for n in names):
            out.add((pattern.op, names))
        for child in pattern.children:
            _integer_negations(child, bindings, out)
    return out


def integer_negation(pattern: Pattern, replacement: Any, bindings: Bindings, var: Variable) -> str | None:
    """Why instantiating ``replacement`` for the float ``var`` would negate or subtract integer operands in
    integer arithmetic where ``pattern`` does not (``log(sigmoid(x)) -> -softplus(-x)``: ``-x`` of a uint8 wraps
    around, where the original computed in floats), or None when it would not.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.rewrite import ops, P
    >>> x = P.var("x")
    >>> u = gw.vector("u", "uint8")
    >>> integer_negation(ops.log(ops.sigmoid(x)), -ops.softplus(-x), Bindings(x=u), gw.log(gw.sigmoid(u)))
    'the replacement computes neg(x) in integers (x = u of uint8), which wraps around'
    """
    if not str(getattr(var.type, "dtype", "")).startswith("float") or not isinstance(replacement, Pattern):
        return None
    new = _integer_negations(replacement, bindings, set()) - _integer_negations(pattern, bindings, set())
    for op, names in sorted(new):
        shown = ", ".join(f"{n} = {bindings[n]} of {bindings[n].type.dtype}" for n in names)
        return f"the replacement computes {op}({', '.join(names)}) in integers ({shown}), which wraps around"
    return None


def backend_set(backends: str | Iterable[str]) -> frozenset[str]:
    """The backend names of a ``backends=`` argument: one name (a str) or an iterable of names.

    Examples
    --------
    >>> sorted(backend_set("numba")), sorted(backend_set(("jax", "numba")))
    (['numba'], ['jax', 'numba'])
    """
    return frozenset((backends,) if isinstance(backends, str) else backends)


def _check_backends(name: str, backends: frozenset[str]) -> None:
    """Raise ValueError naming the rule when a backend tag is not a backend graphwright knows."""
    from graphwright.backends.registry import BACKENDS

    unknown = sorted(backends - set(BACKENDS))
    if unknown:
        raise ValueError(f"rule {name!r}: unknown backend(s) {', '.join(map(repr, unknown))} in backends=; "
                         f"the backends are {', '.join(BACKENDS)}")


def runs_on(rule: Rule, backend: str | None) -> bool:
    """Whether ``rule`` runs in a rewrite for ``backend``: a backend-neutral rule (no ``backends``) always; a
    tagged one where the backend is among its tags; with no backend (None), only when tagged for all of them.

    Examples
    --------
    >>> from graphwright.backends.registry import BACKENDS
    >>> rule = Rule("r", fn=lambda var, ctx: None, backends=("numba",))
    >>> runs_on(rule, "numba"), runs_on(rule, "jax"), runs_on(rule, None)
    (True, False, False)
    >>> runs_on(Rule("everywhere", fn=lambda var, ctx: None, backends=BACKENDS), None)
    True
    """
    if not rule.backends:
        return True
    if backend is None:
        from graphwright.backends.registry import BACKENDS

        return rule.backends >= set(BACKENDS)
    return backend in rule.backends


def function_rule(name: str, roots: Sequence = (), tags: Iterable[str] = (), identity: str = "",
                  backends: str | Iterable[str] = ()):
    """Decorator turning ``f(var, ctx) -> Variable | None`` (or ``-> {output: new}``, a node rule) into a
    :class:`Rule`; ``backends`` names the backends it is for (empty: all).

    Examples
    --------
    >>> @function_rule("noop", roots=("exp",))
    ... def noop(var, ctx):
    ...     '''exp(x) is left alone'''
    ...     return None
    >>> noop.identity
    'exp(x) is left alone'
    """

    def wrap(fn: Callable[[Variable, Any], Variable | None]) -> Rule:
        return Rule(name, fn=fn, roots=tuple(roots), tags=frozenset(tags), identity=identity,
                    backends=backend_set(backends))

    return wrap


def graph_rule(name: str, tags: Iterable[str] = (), identity: str = "", backends: str | Iterable[str] = ()):
    """Decorator turning ``f(outputs, ctx) -> [(old, new), ...]`` into a whole-graph :class:`Rule`
    (``backends``: as for :func:`function_rule`).

    Examples
    --------
    >>> @graph_rule("nothing")
    ... def nothing(outputs, ctx):
    ...     "leaves every graph alone"
    ...     return []
    >>> nothing.is_graph_rule, nothing.identity
    (True, 'leaves every graph alone')
    """

    def wrap(fn: Callable[[tuple[Variable, ...], Any], list[tuple[Variable, Variable]]]) -> Rule:
        return Rule(name, graph_fn=fn, tags=frozenset(tags), identity=identity, backends=backend_set(backends))

    return wrap


class RuleSet:
    """A named, ordered collection of rules; ``a + b`` concatenates, and names must stay unique.

    ``backends`` tags every rule of the set that has no backend tags of its own, and narrows those that do
    (to the backends in both; a rule left with none is an error).
    """

    def __init__(self, name: str, rules: Iterable[Rule] = (), tags: Iterable[str] = (),
                 backends: str | Iterable[str] = ()):
        self.name = name
        extra = frozenset(tags) | {name}
        only = backend_set(backends)
        self.rules: tuple[Rule, ...] = tuple(
            dataclasses.replace(r, tags=r.tags | extra) if not extra <= r.tags else r for r in rules)
        if only:
            self.rules = tuple(_narrowed(r, only, name) for r in self.rules)
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule set {name!r} has duplicate rule names: {', '.join(dupes)}")

    def __add__(self, other: RuleSet) -> RuleSet:
        return RuleSet(f"{self.name}+{other.name}", self.rules + other.rules)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"no rule called {name!r} in {self.name}")

    def select(self, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> RuleSet:
        """Only rules whose name or a tag is in ``include`` (all when empty), minus those in ``exclude``."""
        inc, exc = set(include), set(exclude)
        kept = [r for r in self.rules
                if (not inc or r.name in inc or r.tags & inc) and not (r.name in exc or r.tags & exc)]
        return RuleSet(self.name, kept)

    def for_backend(self, backend: str | None) -> RuleSet:
        """Only the rules that run in a rewrite for ``backend`` (see :func:`runs_on`)."""
        return RuleSet(self.name, [r for r in self.rules if runs_on(r, backend)])

    def __repr__(self) -> str:
        return f"RuleSet({self.name}, {len(self.rules)} rules)"


def _narrowed(rule: Rule, only: frozenset[str], set_name: str) -> Rule:
    """``rule`` tagged with the backends ``only`` (its own tags, when it has them, intersected with them)."""
    backends = rule.backends & only if rule.backends else only
    if not backends:
        raise ValueError(f"rule {rule.name!r} is for backends {', '.join(sorted(rule.backends))}, none of which "
                         f"rule set {set_name!r} (for {', '.join(sorted(only))}) runs on")
    return rule if backends == rule.backends else dataclasses.replace(rule, backends=backends)
