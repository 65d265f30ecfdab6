"""Named rewrite phases in their fixed order, the rule sets registered to each, and named queries."""

from __future__ import annotations

from collections.abc import Sequence

from graphwright.rewrite.rule import Rule, RuleSet

__all__ = ["PHASES", "QUERIES", "register", "unregister", "phase_rules", "resolve_phases", "all_rules"]

# The order phases run in. Each runs to a fixed point before the next starts.
PHASES: tuple[str, ...] = ("canonicalize", "stabilize", "specialize", "linalg", "fusion", "inplace")

# Named selections of phases, for `rewrites=` and `phases=`.
QUERIES: dict[str, tuple[str, ...]] = {
    "fast_run": PHASES,
    "stabilize": ("canonicalize", "stabilize"),
    "canonicalize": ("canonicalize",),
    "fast_compile": ("canonicalize",),
}

# phase -> rule sets, filled by the rule modules (graphwright.rules.*) when they are imported.
_REGISTRY: dict[str, list[RuleSet]] = {phase: [] for phase in PHASES}


def register(phase: str, rules: RuleSet, backends: str | Sequence[str] = ()) -> RuleSet:
    """Add a rule set to a phase (the rule modules call this at import); returns it (unchanged, or, with
    ``backends``, its rules tagged for those backends: they then run only in rewrites for one of them).

    Examples
    --------
    >>> from graphwright.rewrite.rule import Rule
    >>> rs = register("specialize", RuleSet("doc_numba_only", [Rule("doc_noop", fn=lambda v, c: None)]),
    ...               backends=("numba",))
    >>> rs["doc_noop"].backends, len(phase_rules("specialize").for_backend("jax").select(["doc_numba_only"]))
    (frozenset({'numba'}), 0)
    >>> unregister("specialize", rs)
    """
    if backends:
        rules = RuleSet(rules.name, rules.rules, backends=backends)
    if phase not in _REGISTRY:
        raise ValueError(f"unknown phase {phase!r}; the phases are {', '.join(PHASES)}")
    taken = {r.name for sets in _REGISTRY.values() for s in sets for r in s}
    clash = sorted(taken & {r.name for r in rules})
    if clash:
        raise ValueError(f"rule names already registered: {', '.join(clash)}")
    _REGISTRY[phase].append(rules)
    return rules


def unregister(phase: str, rules: RuleSet) -> None:
    """Remove a rule set that :func:`register` added (tests and examples that register rules of their own)."""
    _REGISTRY[phase].remove(rules)


def phase_rules(phase: str) -> RuleSet:
    """All rules registered to ``phase``, in registration order."""
    if phase not in _REGISTRY:
        raise ValueError(f"unknown phase {phase!r}; the phases are {', '.join(PHASES)}")
    out = RuleSet(phase)
    for rs in _REGISTRY[phase]:
        out = out + rs
    out.name = phase
    return out


def all_rules() -> dict[str, Rule]:
    """Every registered rule by name."""
    return {r.name: r for phase in PHASES for r in phase_rules(phase)}


def resolve_phases(phases: str | Sequence[str]) -> tuple[str, ...]:
    """A query name or a list of phase names -> the phases to run, in the canonical order.

    Examples
    --------
    >>> resolve_phases("stabilize")
    ('canonicalize', 'stabilize')
    >>> resolve_phases(["specialize", "canonicalize"])
    ('canonicalize', 'specialize')
    """
    if isinstance(phases, str):
        if phases in QUERIES:
            return QUERIES[phases]
        phases = [phases]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        raise ValueError(f"unknown phase(s) {', '.join(map(repr, unknown))}; the phases are {', '.join(PHASES)} "
                         f"and the queries {', '.join(QUERIES)}")
    wanted = set(phases)
    return tuple(p for p in PHASES if p in wanted)
