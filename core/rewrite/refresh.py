"""Keeping a rule's replacement up to date with the pass that is rewriting the graph (see
:class:`StaleRefresher`), and rebuilding a node on new inputs."""

from __future__ import annotations

from collections.abc import Sequence

from graphwright.graph.basic import Apply, Variable
from graphwright.rewrite.context import RewriteContext

__all__ = ["StaleRefresher", "rebuild"]


def rebuild(node: Apply, inputs: list[Variable]) -> Apply:
    """``node``'s op applied to new inputs; when the op's output types depend only on the input types and those
    are unchanged, the old output types are reused instead of inferred and checked again."""
    op = node.op
    if op.types_follow_input_types and all(a.type == b.type for a, b in zip(inputs, node.inputs, strict=True)):
        return Apply.create(op, inputs, [o.type for o in node.outputs])
    return op.make_node(*inputs)


class StaleRefresher:
    """Brings a rule's replacement up to date with the pass: a rule that re-creates a subexpression of the
    pass-start graph (hash-consing returns the old node) would otherwise bring back a variable this pass has
    already replaced, and the rules would rewrite it again at every later node that re-creates it (quadratic:
    ``y = y * sum(y)`` repeated, where ``sum(a * X) -> a * sum(X)`` re-creates every earlier ``sum``).

    Variables of the pass-start graph are mapped to their current form; the rule's new nodes above them are
    rebuilt; what the pass already holds (rebuilt or replaced variables) is current. Each node is looked at
    once per pass, so the work is bounded by what the rules create.
    """

    def __init__(self, nodes: Sequence[Apply], new: dict[int, Variable], ctx: RewriteContext):
        self.start = {id(n) for n in nodes}
        self.new = new  # pass-start variable id -> its current form (filled as the pass goes)
        self.current = ctx._origin  # variables the pass holds now -> their pass-start variables
        self.done: dict[int, tuple[Apply, Apply]] = {}  # a created node's id -> (the node, its current form)

    def refresh(self, var: Variable) -> Variable:
        owner = var.owner
        if owner is None or var in self.current or id(owner) in self.start:
            return self._now(var)
        stack = [owner]
        while stack:
            node = stack[-1]
            if id(node) in self.done:
                stack.pop()
                continue
            pending = [v.owner for v in node.inputs if self._open(v)]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            inputs = [self._now(v) for v in node.inputs]
            fresh = node if all(a is b for a, b in zip(inputs, node.inputs, strict=True)) else rebuild(node, inputs)
            self.done[id(node)] = (node, fresh)
        return self.done[id(owner)][1].outputs[var.index]

    def _open(self, v: Variable) -> bool:
        """``v`` is computed by a created node not looked at yet."""
        o = v.owner
        return o is not None and v not in self.current and id(o) not in self.start and id(o) not in self.done

    def _now(self, v: Variable) -> Variable:
        """The current form of ``v``: a variable the pass holds may be an earlier form of a finished node
        (rebuilt, then replaced), which ``new`` maps on through its pass-start variable."""
        o = v.owner
        if o is None:
            return v
        origin = self.current.get(v)
        if origin is not None:
            return self.new.get(id(origin), v)
        if id(o) in self.start:
            return self.new.get(id(v), v)
        return self.done[id(o)][1].outputs[v.index]
