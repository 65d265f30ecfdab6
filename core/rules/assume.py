"""Rules about facts: simplifications a fact allows (``abs(x) = x`` for an ``x >= 0`` that is never -0.0, in
specialize), and the removal of ``assume`` (the identity on values) in the fusion phase, after every phase
whose rules read the facts it states. The backends never see ``assume``; a graph compiled without rewrites
runs it as the identity."""

from __future__ import annotations

from graphwright.facts import has
from graphwright.graph.basic import Variable
from graphwright.rewrite import P, Rule, RuleSet, function_rule, register
from graphwright.rewrite import ops as o
from graphwright.tensor.assume import Assume

__all__ = ["RULES", "FACT_RULES"]

x = P.var("x")


@function_rule("assume_identity", roots=(Assume,), identity="assume(x, facts) = x")
def assume_identity(var: Variable, ctx) -> Variable | None:
    """A stated fact changes no value; once no rule will read it, the op goes."""
    return var.owner.inputs[0]


FACT_RULES = register("specialize", RuleSet("facts", [
    # abs(-0.0) is +0.0, and 1 / abs(x) tells them apart: x must also never be -0.0
    Rule("abs_nonnegative", o.abs(x), x, when=has("nonnegative", "x") & has("no_negative_zero", "x"),
         identity="abs(x) = x for x >= 0 that is never -0.0"),
], tags=("facts",)))
RULES = register("fusion", RuleSet("assume", [assume_identity], tags=("assume",)))
