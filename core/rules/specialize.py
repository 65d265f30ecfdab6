"""The specialize rules (being written)."""

from graphwright.rewrite import RuleSet, register

RULES = register("specialize", RuleSet("specialize", []))
