"""The fact registry: known facts, rules keyed by (fact, op class), implications, and the memoised query.

A fact is a property of every value a variable can take ("nonnegative": every element is >= 0 or NaN).
Rules decide a fact for one variable from facts of its inputs; they never recurse themselves but ask through
an :class:`Ask`, and the driver evaluates the asked facts first with an explicit stack. Every answer is
memoised per variable (variables are immutable, so an answer never goes stale): a query costs time linear in
the part of the graph it looks at, and deep graphs never reach Python's recursion limit.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphwright.graph.basic import Constant, Variable

__all__ = ["ANY_FACT", "Ask", "FactGuard", "declare_fact", "fact_rule", "implies", "known_facts", "has",
           "facts_of", "check_fact_names", "check_fact_applies", "stronger_facts"]

ANY_FACT = "*"  # the fact key of a rule that answers every fact (identity ops pass facts through)

FactRule = Callable[[Variable, "Ask"], bool]

_FACTS: dict[str, str] = {}  # name -> what it means
_MATRIX: dict[str, bool] = {}  # matrix fact -> whether it needs a square matrix (the last two dimensions)
_RULES: dict[tuple[str, type], FactRule] = {}
_STRONGER: dict[str, list[str]] = {}  # fact -> the facts that imply it directly
_MEMO: weakref.WeakKeyDictionary[Variable, dict[str, bool]] = weakref.WeakKeyDictionary()


def declare_fact(name: str, meaning: str, matrix: bool = False, square: bool = False) -> str:
    """Make ``name`` a known fact (what ``gw.assume`` accepts); returns the name. ``matrix``: a fact about
    the last two dimensions (of every matrix in a batch), ``square``: one that needs them of equal length.

    Examples
    --------
    >>> declare_fact("nonnegative", "every element is >= 0 (or NaN)")
    'nonnegative'
    """
    _FACTS.setdefault(name, meaning)
    _STRONGER.setdefault(name, [])
    if matrix or square:
        _MATRIX[name] = square
    return name


def check_fact_applies(facts: Iterable[str], shape: tuple, where: str) -> None:
    """Raise ValueError when a matrix fact is stated of a value with fewer than two dimensions, or a square
    one of matrices whose static lengths differ.

    Examples
    --------
    >>> check_fact_applies(["symmetric"], (3, 4), "assume")
    Traceback (most recent call last):
    ...
    ValueError: assume: 'symmetric' needs square matrices, got static shape (3, 4)
    """
    for f in facts:
        if f not in _MATRIX:
            continue
        if len(shape) < 2:
            raise ValueError(f"{where}: {f!r} is a fact about matrices; got a {len(shape)}-d value "
                             f"of static shape {shape}")
        n, m = shape[-2:]
        if _MATRIX[f] and None not in (n, m) and n != m:
            raise ValueError(f"{where}: {f!r} needs square matrices, got static shape {shape}")


def known_facts() -> dict[str, str]:
    """Every known fact and its meaning.

    Examples
    --------
    >>> "positive" in known_facts()
    True
    """
    return dict(_FACTS)


def check_fact_names(facts: Iterable[str], where: str) -> tuple[str, ...]:
    """``facts`` sorted and without repeats; raises ValueError naming ``where`` and listing the known facts.

    Examples
    --------
    >>> check_fact_names(["positive", "nonnegative", "positive"], "assume")
    ('nonnegative', 'positive')
    """
    facts = tuple(facts)
    unknown = [f for f in facts if not isinstance(f, str) or f not in _FACTS]
    if unknown:
        raise ValueError(f"{where}: unknown fact(s) {', '.join(map(repr, unknown))}; the known facts are "
                         f"{', '.join(sorted(_FACTS))}")
    return tuple(sorted(set(facts)))


def fact_rule(fact: str, *classes: type) -> Callable[[FactRule], FactRule]:
    """Decorator: ``rule(var, ask) -> bool`` decides ``fact`` for variables made by ops of ``classes``.

    The class is looked up exactly (no subclass match). ``Constant`` is the key of constant values and
    ``Variable`` that of a rule asked about every variable (a dtype test); ``fact`` may be :data:`ANY_FACT`.

    Examples
    --------
    >>> from graphwright.tensor.elemwise import Elemwise
    >>> _RULES[("nonnegative", Elemwise)].__doc__.split(" (")[0]
    'exp, squares, abs, sigmoid ... and sums, products, quotients, minima of such'
    """
    if fact != ANY_FACT and fact not in _FACTS:
        raise ValueError(f"fact_rule: unknown fact {fact!r}; declare it first (known: {', '.join(sorted(_FACTS))})")

    def register(rule: FactRule) -> FactRule:
        for cls in classes:
            if (fact, cls) in _RULES:
                raise ValueError(f"fact_rule: {fact!r} already has a rule for {cls.__name__}")
            _RULES[(fact, cls)] = rule
        return rule

    return register


def stronger_facts(fact: str) -> set[str]:
    """Every fact that implies ``fact`` (directly or through others).

    Examples
    --------
    >>> "positive" in stronger_facts("nonnegative")
    True
    """
    found: set[str] = set()
    todo = list(_STRONGER.get(fact, ()))
    while todo:
        f = todo.pop()
        if f not in found:
            found.add(f)
            todo.extend(_STRONGER.get(f, ()))
    return found


def implies(stronger: str, weaker: str) -> None:
    """Record that ``stronger`` implies ``weaker`` (a variable known positive is known nonnegative).

    Examples
    --------
    >>> implies("positive", "nonnegative")  # already known: nothing changes
    """
    check_fact_names([stronger, weaker], "implies")
    if stronger == weaker or weaker in stronger_facts(stronger):
        raise ValueError(f"implies: {weaker!r} already implies {stronger!r}; a cycle would never be decided")
    if stronger not in _STRONGER[weaker]:
        _STRONGER[weaker].append(stronger)


class Ask:
    """What a rule uses to ask for facts of other variables (``fact`` is the one being decided). An answer
    not known yet counts as False and is requested: the driver decides it and runs the rule again."""

    def __init__(self, fact: str) -> None:
        self.fact = fact
        self.missing: list[tuple[str, Variable]] = []

    def _known(self, fact: str, var: Variable) -> bool | None:
        known = _MEMO.get(var)
        value = None if known is None else known.get(fact)
        if value is None:
            self.missing.append((fact, var))
        return value

    def __call__(self, fact: str, var: Variable) -> bool:
        """Does ``var`` have ``fact``?"""
        return bool(self._known(fact, var))

    def all(self, fact: str, variables: Sequence[Variable]) -> bool:
        """Do all of ``variables`` have ``fact``? (Requests every unknown one at once.)"""
        answers = [self._known(fact, v) for v in variables]
        return all(answers) and bool(answers)

    def any(self, fact: str, variables: Sequence[Variable]) -> bool:
        """Does one of ``variables`` have ``fact``?"""
        return any([self._known(fact, v) for v in variables])

    def any_fact(self, facts: Iterable[str], var: Variable) -> bool:
        """Does ``var`` have one of ``facts``?"""
        return any([self._known(f, var) for f in facts])


def _rule_for(fact: str, var: Variable) -> FactRule | None:
    if isinstance(var, Constant):
        cls = Constant
    elif var.owner is not None:
        cls = type(var.owner.op)
    else:
        return None
    return _RULES.get((fact, cls)) or _RULES.get((ANY_FACT, cls))


def _decide(fact: str, var: Variable, ask: Ask) -> bool:
    general = _RULES.get((fact, Variable))
    if general is not None and general(var, ask):
        return True
    rule = _rule_for(fact, var)
    if rule is not None and rule(var, ask):
        return True
    return ask.any_fact(_STRONGER.get(fact, ()), var)


def _memoised(fact: str, var: Variable) -> bool | None:
    known = _MEMO.get(var)
    return None if known is None else known.get(fact)


def _query(fact: str, var: Variable) -> bool:
    value = _memoised(fact, var)
    if value is not None:
        return value
    stack = [(fact, var)]
    while stack:
        f, v = stack[-1]
        if _memoised(f, v) is not None:
            stack.pop()
            continue
        ask = Ask(f)
        answer = _decide(f, v, ask)
        pending = [(g, w) for g, w in ask.missing if _memoised(g, w) is None]
        if pending:
            if (f, v) in pending:
                raise RuntimeError(f"the rule for {f!r} at {v} asks about {f!r} of the same variable")
            stack.extend(pending)
            continue
        _MEMO.setdefault(v, {})[f] = answer
        stack.pop()
    return _MEMO[var][fact]


@dataclass(frozen=True)
class FactGuard:
    """A rule guard: every ``(fact, name)`` of ``needs`` holds for the variable bound to ``name``.
    ``has("nonnegative", "x") & has("positive", "y")`` combines guards."""

    needs: tuple[tuple[str, str], ...]

    def __call__(self, bindings: Any) -> bool:
        return all(_query(f, bindings[n]) for f, n in self.needs)

    def __and__(self, other: FactGuard) -> FactGuard:
        return FactGuard(self.needs + other.needs)

    def refusal(self, bindings: Any) -> str:
        """Which facts were missing, in words."""
        missing = [f"{n} = {bindings[n]} is not known to be {f}" for f, n in self.needs
                   if not _query(f, bindings[n])]
        return "; ".join(missing) or "every fact holds"

    def allowed_by(self, bindings: Any) -> tuple[str, ...]:
        """The facts that allowed the step, as ``"fact(name = variable)"``."""
        return tuple(f"{f}({n} = {bindings[n]})" for f, n in self.needs)


def has(fact: str, *targets: Any) -> Any:
    """``has(fact, var)``: does ``var`` have ``fact``? ``has(fact, "x", ...)``: a rule guard (a
    :class:`FactGuard`) requiring ``fact`` of the variables bound to those pattern names.

    Examples
    --------
    >>> import graphwright as gw
    >>> v = gw.vector("v")
    >>> has("nonnegative", gw.exp(v)), has("nonnegative", v)
    (True, False)
    >>> has("nonnegative", "x")
    FactGuard(needs=(('nonnegative', 'x'),))
    """
    check_fact_names([fact], "has")
    if targets and all(isinstance(t, str) for t in targets):
        return FactGuard(tuple((fact, t) for t in targets))
    if len(targets) != 1 or not isinstance(targets[0], Variable):
        raise TypeError(f"has({fact!r}, ...): give one variable, or pattern-variable names for a guard; got "
                        f"{', '.join(type(t).__name__ for t in targets) or 'nothing'}")
    return _query(fact, targets[0])


def facts_of(var: Variable) -> frozenset[str]:
    """Every known fact that holds for ``var``.

    Examples
    --------
    >>> import graphwright as gw
    >>> sorted(facts_of(gw.constant(2.0)))
    ['integer_valued', 'no_negative_zero', 'nonnegative', 'positive']
    """
    if not isinstance(var, Variable):
        raise TypeError(f"facts_of: expected a variable, got {type(var).__name__}")
    return frozenset(f for f in sorted(_FACTS) if _query(f, var))
