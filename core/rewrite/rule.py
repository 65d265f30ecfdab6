"""Rule and RuleSet: a named pattern -> replacement (or a function of a node), with a guard, identity and tags."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphwright.graph.basic import Variable
from graphwright.rewrite.pattern import Bindings, Mismatch, Pattern, PNode, PVar, build, match, root_key

__all__ = ["Rule", "RuleSet", "GuardRefused", "function_rule", "graph_rule", "integer_negation"]


@dataclass(frozen=True)
class GuardRefused:
    """A rule whose pattern matched but whose guard said no."""

    reason: str


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
    fn : for function rules, ``f(var, ctx) -> Variable | None`` called on every candidate variable.
    roots : for function rules, the op keys (scalar names or Op classes) it applies to; empty means every node.
    graph_fn : for graph rules (fusion), ``f(outputs, ctx) -> [(old, new), ...]`` called once per pass on the
        whole graph; each pair becomes one step. Replacements must be built in dependency order (a later
        replacement may use an earlier one, never the variable it replaces).

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

    def apply(self, var: Variable, ctx: Any) -> Variable | GuardRefused | None:
        """The replacement for ``var``, None when the rule does not apply, or GuardRefused."""
        if self.fn is not None:
            return self.fn(var, ctx)
        bindings = match(self.pattern, var)
        if isinstance(bindings, Mismatch):
            return None
        if self.when is not None and not self.when(bindings):
            return GuardRefused(f"guard of {self.name} refused {', '.join(f'{k}={v}' for k, v in bindings.items())}")
        if isinstance(self.replacement, Pattern):
            why = integer_negation(self.pattern, self.replacement, bindings, var)
            return GuardRefused(f"{self.name}: {why}") if why else build(self.replacement, bindings)
        return self.replacement(bindings)

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
            return f"{self.name} matches {var} but its guard refuses it"
        return f"{self.name} applies at {var}"

    def __repr__(self) -> str:
        return f"Rule({self.name}: {self.identity})"


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


def function_rule(name: str, roots: Sequence = (), tags: Iterable[str] = (), identity: str = ""):
    """Decorator turning ``f(var, ctx) -> Variable | None`` into a :class:`Rule`.

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
        return Rule(name, fn=fn, roots=tuple(roots), tags=frozenset(tags), identity=identity)

    return wrap


def graph_rule(name: str, tags: Iterable[str] = (), identity: str = ""):
    """Decorator turning ``f(outputs, ctx) -> [(old, new), ...]`` into a whole-graph :class:`Rule`.

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
        return Rule(name, graph_fn=fn, tags=frozenset(tags), identity=identity)

    return wrap


class RuleSet:
    """A named, ordered collection of rules; ``a + b`` concatenates, and names must stay unique."""

    def __init__(self, name: str, rules: Iterable[Rule] = (), tags: Iterable[str] = ()):
        self.name = name
        extra = frozenset(tags) | {name}
        self.rules: tuple[Rule, ...] = tuple(
            dataclasses.replace(r, tags=r.tags | extra) if not extra <= r.tags else r for r in rules)
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

    def __repr__(self) -> str:
        return f"RuleSet({self.name}, {len(self.rules)} rules)"
