"""The canonicalize rules (being written)."""

from graphwright.rewrite import RuleSet, register

RULES = register("canonicalize", RuleSet("canonicalize", []))
