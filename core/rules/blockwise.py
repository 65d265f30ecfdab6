"""Needless Blockwise removed (canonicalize): no batch at all, or a core op that has a direct batched form.

``vectorize_graph`` falls back to Blockwise for ops without a vectorize rule; graphs built before a rule
existed, and Blockwise nodes made by hand (``gw.vectorize``), become the direct form here, e.g. a Blockwise
of ``matmul`` over stacked matrices becomes one batched ``matmul``.
"""

from __future__ import annotations

from graphwright.graph.basic import Op, Variable
from graphwright.graph.graph import toposort
from graphwright.rewrite import RuleSet, function_rule, register
from graphwright.tensor.blockwise import Blockwise, core_placeholders

__all__ = ["RULES"]


@function_rule("blockwise_unbatched", roots=(Blockwise,), identity="blockwise{op}(x, ...) = op(x, ...) without batch")
def blockwise_unbatched(var: Variable, ctx) -> Variable | None:
    """A Blockwise whose inputs have only their core dimensions is the core op."""
    node = var.owner
    op: Blockwise = node.op
    if any(x.type.ndim != nd for x, nd in zip(node.inputs, op.core_ndims_in, strict=True)):
        return None
    return op.core_op.make_node(*node.inputs).outputs[var.index]


@function_rule("blockwise_direct", roots=(Blockwise,),
               identity="blockwise{op}(xs, ...) = op's own batched form (batched matmul, shifted axes ...)")
def blockwise_direct(var: Variable, ctx) -> Variable | None:
    """A Blockwise of an op with its own vectorize rule is replaced by that rule's graph."""
    node = var.owner
    op: Blockwise = node.op
    core = op.core_op
    if type(core).vectorize is Op.vectorize:
        return None
    holders = core_placeholders(op.short_name(), list(node.inputs), op.core_ndims_in)
    core_node = core.make_node(*holders)
    nbs = [x.type.ndim - nd for x, nd in zip(node.inputs, op.core_ndims_in, strict=True)]
    outs = core.vectorize(core_node, list(node.inputs), nbs)
    if any(isinstance(n.op, Blockwise) and n.op.core_op == core for n in toposort(outs)):
        return None
    return outs[var.index]


RULES = register("canonicalize", RuleSet("blockwise", [blockwise_unbatched, blockwise_direct]))
