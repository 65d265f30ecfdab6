"""Stabilize: rewrite naive formulas that overflow, underflow or cancel into numerically stable forms."""

from graphwright.rewrite import P, Rule, RuleSet, register
from graphwright.rewrite import ops as o

x = P.var("x")

RULES = register("stabilize", RuleSet("stabilize", [
    Rule("softplus", o.log(1 + o.exp(x)), o.softplus(x), identity="log(1 + exp(x)) = softplus(x)"),
    Rule("log1p", o.log(1 + x), o.log1p(x), identity="log(1 + x) = log1p(x)"),
], tags=["stability"]))
