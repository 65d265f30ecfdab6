"""Tidy-up after stabilization: a few canonicalize rules run again in the specialize phase.

Stabilize rules introduce negations (``log(sigmoid(x)) -> -softplus(-x)``) that the canonical forms of the
surrounding expression would have absorbed: ``-log(sigmoid(x))`` would end as ``--softplus(-x)``. The phases
run in a fixed order, so these rules are registered once more, under their own names, after stabilize.
Specialize also makes allocs after canonicalize has removed the others: ``sub_self_to_zeros`` turns ``x - x``
into ``alloc(0, shape(x))``, and ``elemwise_alloc``, ``add_zero`` and ``sub_zero`` take ``y - (x - x)`` on to
``y``.
"""

from __future__ import annotations

import dataclasses

from graphwright.rewrite.phases import phase_rules, register
from graphwright.rewrite.rule import RuleSet
from graphwright.rules import broadcast, canonicalize, useless  # noqa: F401  (registered before they are copied)

__all__ = ["TIDY", "TIDY_RULES"]

# canonicalize rule -> its copy in the specialize phase is called "<name>_tidy"
TIDY_RULES = ("double_neg", "neg_mul_const", "mul_neg_const", "mul_neg_neg", "mul_one", "elemwise_alloc", "add_zero",
              "sub_zero")

_canonical = phase_rules("canonicalize")
TIDY = register("specialize", RuleSet("tidy", [
    dataclasses.replace(_canonical[name], name=f"{name}_tidy") for name in TIDY_RULES], tags=("tidy",)))
