"""Facts about variables: one registry of rules keyed by (fact, op class), implications between facts, and
answers memoised per variable. ``has("nonnegative", x)`` asks; ``when=has("nonnegative", "x")`` guards a
rule; ``gw.assume(x, "positive")`` states a fact."""

from graphwright.facts import value_facts, matrix_facts  # noqa: F401, I001  (each registers its rules; in this order)
from graphwright.facts.registry import (
    ANY_FACT,
    Ask,
    FactGuard,
    declare_fact,
    fact_rule,
    facts_of,
    has,
    implies,
    known_facts,
    stronger_facts,
)

__all__ = ["ANY_FACT", "Ask", "FactGuard", "declare_fact", "fact_rule", "facts_of", "has", "implies",
           "known_facts", "stronger_facts"]
