"""Rewrites: the pattern DSL, rules and rule sets, named phases, the driver and its Trace."""

from graphwright.rewrite import ops
from graphwright.rewrite.engine import RewriteContext, RewriteError, rewrite, type_problem
from graphwright.rewrite.pattern import Bindings, Mismatch, P, Pattern, PLit, PNode, PParam, PVar, build, match
from graphwright.rewrite.phases import PHASES, QUERIES, all_rules, phase_rules, register, resolve_phases, unregister
from graphwright.rewrite.rule import Costed, GuardRefused, Rule, RuleSet, function_rule, graph_rule, runs_on
from graphwright.rewrite.trace import Refusal, Step, StepChanges, Trace

__all__ = ["ops", "RewriteContext", "RewriteError", "rewrite", "Bindings", "Mismatch", "P", "PLit", "PNode",
           "PParam", "Pattern", "PVar", "build", "match", "PHASES", "QUERIES", "all_rules", "phase_rules",
           "register", "resolve_phases", "unregister", "Costed", "runs_on", "GuardRefused", "Rule", "RuleSet",
           "function_rule", "graph_rule",
           "Refusal", "Step", "StepChanges", "Trace", "type_problem"]
