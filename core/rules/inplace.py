"""The in-place phase: ops write their output into an input buffer that is dead after them.

One topological sweep over the graph (:class:`graphwright.graph.destroy.AliasTracker`): at each node with
in-place options (elementwise ops and composites: an input of the output's dtype and shape; set/inc_subtensor:
``x``), the first input whose buffer no later node reads, that is no graph output and that the graph allocated
itself (never a constant, never the caller's input unless it was marked mutable) is given to the output (an
output of a multi-output composite only takes an input it reads itself: ``Composite.writable_inputs``); the
node becomes ``InPlace(op, ((output, input), ...))``, one Trace step per node. Backends may use the
permission or ignore it; ``Function.memory_plan`` shows what the backend does.

A graph that is rewritten again (a compiled graph differentiated, extended or compiled with more outputs) may
gain readers of a buffer that an in-place op overwrites, so canonicalize drops every permission first
(``forget_inplace``) and the in-place phase decides again on the new graph.
"""

from __future__ import annotations

from graphwright.graph.basic import Variable
from graphwright.graph.destroy import AliasTracker, InPlace, plain_node
from graphwright.graph.graph import Graph
from graphwright.rewrite.engine import rebuild
from graphwright.rewrite.phases import register
from graphwright.rewrite.rule import RuleSet, function_rule, graph_rule

__all__ = ["INPLACE", "FORGET_INPLACE"]


@graph_rule("inplace_buffers", tags=("inplace",),
            identity="op(a, ...) -> op[inplace a](a, ...) where a's buffer is dead after the op")
def inplace_buffers(outputs: tuple[Variable, ...], ctx) -> list[dict[Variable, Variable]]:
    """Give each node with in-place options the buffer of an input that is dead after it."""
    tracker = AliasTracker(Graph(None, list(outputs)), ctx.mutable)
    pairs: list[dict[Variable, Variable]] = []
    new: dict[Variable, Variable] = {}  # old variable -> the same value in the new graph
    for node in tracker.nodes:
        op = node.op
        destroy: dict[int, int] = {}
        if isinstance(op, InPlace):
            destroy = op.destroy_map
        else:
            destroy = _choose_buffers(tracker, node)
        tracker.add(node, destroy)
        inputs = [new.get(v, v) for v in node.inputs]
        if destroy and not isinstance(op, InPlace):
            # built on the new inputs, so that what the engine substitutes is already the whole new graph
            rebuilt = InPlace(op, tuple(sorted(destroy.items()))).make_node(*inputs)
            pairs.append(dict(zip(node.outputs, rebuilt.outputs, strict=True)))  # one step per node
        elif any(a is not b for a, b in zip(inputs, node.inputs, strict=True)):
            rebuilt = rebuild(node, inputs)
        else:
            continue
        new.update(zip(node.outputs, rebuilt.outputs, strict=True))
    return pairs


def _choose_buffers(tracker: AliasTracker, node) -> dict[int, int]:
    """For each output of ``node``, the first of its in-place options whose buffer is free.

    Options come in groups of outputs that every input of the group fits by type (an op's
    ``inplace_option_groups``, else one group per ``inplace_options`` pair); an op may narrow, per output,
    which inputs of the group it may overwrite (``writable_inputs``, a bitset per output: a composite output
    may only take an input it reads, see :attr:`graphwright.tensor.composite.Composite.writable_inputs`). The
    tracker's verdict on an input does not depend on which output of the group asks (a refused input stays
    refused while a given one is gone), so each input is asked about at most once per group: linear in
    outputs + inputs, with one bitset operation per output.
    """
    op = node.op
    groups = op.inplace_option_groups(node) if hasattr(op, "inplace_option_groups") else [
        ([o], [i]) for o, i in op.inplace_options(node)]
    writable = getattr(op, "writable_inputs", None)
    destroy: dict[int, int] = {}
    claimed: set[Variable] = set()  # the buffers (roots) of the inputs already given to an output
    given = 0  # bitset of the inputs already given to an output
    for outputs, inputs in groups:
        candidates = 0
        for i in inputs:
            candidates |= 1 << i
        candidates &= ~given
        for out in outputs:
            if out in destroy or node.outputs[out].type.ndim == 0:
                continue
            options = candidates if writable is None else candidates & writable[out]
            while options:
                lowest = options & -options
                options ^= lowest
                candidates ^= lowest  # given now, or refused for every output of the group
                inp = lowest.bit_length() - 1
                if tracker.refusal(node, out, inp, claimed=claimed) is None:
                    destroy[out] = inp
                    given |= lowest
                    claimed.update(tracker.roots[node.inputs[inp]])
                    break
    return destroy


@function_rule("forget_inplace", roots=(InPlace,), identity="op[inplace a](a, ...) -> op(a, ...)")
def forget_inplace(var: Variable, ctx) -> Variable:
    """The same op without permission to overwrite its input (the in-place phase decides again)."""
    return plain_node(var.owner).outputs[var.index]


INPLACE = register("inplace", RuleSet("inplace", [inplace_buffers]))
FORGET_INPLACE = register("canonicalize", RuleSet("forget_inplace", [forget_inplace], tags=("inplace",)))
