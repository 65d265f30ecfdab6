"""Gradient-control ops are the identity on values: removed in the specialize phase (after the pre-gradient
stabilization, which must keep them)."""

from __future__ import annotations

from graphwright.graph.basic import Variable
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.tensor.grad_control import GradControl

__all__ = ["RULES"]


@function_rule("grad_control_identity", roots=(GradControl,),
               identity="zero_grad(x) = disconnected_grad(x) = grad_clip(x, lo, hi) = grad_scale(x, s) = x")
def grad_control_identity(var: Variable, ctx) -> Variable | None:
    """Gradient-control ops compute their input unchanged."""
    return var.owner.inputs[0]


RULES = register("specialize", RuleSet("grad_control", [grad_control_identity], tags=("grad_control",)))
