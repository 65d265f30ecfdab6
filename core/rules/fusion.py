"""Fusion: connected elementwise ops over one loop shape become one multi-output Composite.

The groups are grown greedily from the outputs towards the inputs. A group is a set of elementwise nodes
(Elemwise or Composite) whose outputs all have the same broadcast pattern, so no member is computed at a
smaller shape and broadcast into another (that would repeat its work per element). A producer joins a group
only if the group stays *convex* in the graph where the groups formed earlier count as single nodes: no path
leaves the group and comes back into it. That keeps the fused graph acyclic, and because a member whose
value is needed outside the group becomes an extra output of the composite, no work is ever duplicated.
Last, groups that do not depend on each other and read one input of their full loop shape (so their runtime
shapes are equal) are merged, as PyTensor does: one loop then reads that input once.

A second rule, ``reduce_fusion``, then folds an elementwise node into the reduction it feeds (one
:class:`~graphwright.tensor.composite_reduce.CompositeReduce`, one loop, no temporary), but only when nothing
else uses that elementwise result and it is no graph output, so again no work is duplicated.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.graph import toposort
from graphwright.graph.inner import substitute
from graphwright.rewrite.phases import register
from graphwright.rewrite.rule import RuleSet, graph_rule
from graphwright.tensor.composite import Composite, placeholder
from graphwright.tensor.composite_reduce import CompositeReduce
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.variable import constant

__all__ = ["FUSION", "MAX_FUSED_INPUTS", "fusion_groups", "fuse_elementwise", "fuse_into_reductions"]

# A composite takes at most this many outer inputs (a soft bound on a kernel's signature; a long sum of n
# distinct inputs then ends as one node, as in PyTensor). Constants with one element are inlined, not counted.
MAX_FUSED_INPUTS = 1 << 16


def _fusible(node: Apply) -> bool:
    return isinstance(node.op, Elemwise | Composite)


def _pattern(var: Variable) -> tuple[bool, ...]:
    """The broadcast pattern of an elementwise output: its rank and which dimensions have static length 1."""
    return tuple(s == 1 for s in var.type.shape)


def _is_inlined(var: Variable) -> bool:
    """A constant of one element (0-d, or broadcast with length-1 dimensions): written into the loop body."""
    return isinstance(var, Constant) and all(s == 1 for s in var.type.shape)


class _Grouping:
    """Greedy grouping of a graph's elementwise nodes in one topological sweep (see the module docstring).

    Every node is an *item*; a fusible node joins the group of one of its producers or starts its own, and
    the other producer groups it connects are merged in when that is safe. ``anc[i]`` is a bitset of the
    items with a path to item ``i`` in the graph where each group counts as one node; ``mask[i]`` holds the
    bits that stand for group ``i`` (its own and those of groups merged into it). Both are kept exact as
    groups grow: new ancestors are pushed to every item downstream.

    A node with p producers costs O(p) bitset operations (not O(p**2)), and merging a group into a larger one
    costs O(size of the smaller), so a sum of n terms groups in about linear time.
    """

    def __init__(self, outputs: Sequence[Variable]):
        self.nodes = toposort(outputs)
        self.graph_outputs = set(outputs)
        self.var_clients: dict[Variable, list[Apply]] = {}
        for n in self.nodes:
            for v in n.inputs:
                if v.owner is not None:
                    self.var_clients.setdefault(v, []).append(n)
        self.item_of: dict[Apply, int] = {}
        self.alias: list[int] = []  # item -> the item it was merged into (itself while alive)
        self.members: list[list[Apply]] = []
        self.pattern: list[tuple | None] = []
        self.anc: list[int] = []
        self.mask: list[int] = []
        self.external: list[set[Variable]] = []  # the group's outer inputs
        self.made: list[set[Variable]] = []  # the outputs of its members
        self.downstream: list[set[int]] = []  # items with a direct edge from this item

    def find(self, i: int) -> int:
        alias = self.alias
        while alias[i] != i:
            alias[i] = alias[alias[i]]  # path halving: chains of merges stay short (the root is unchanged)
            i = alias[i]
        return i

    def run(self) -> list[list[Apply]]:
        for node in self.nodes:
            producers = {self.find(self.item_of[v.owner]) for v in node.inputs if v.owner is not None}
            target, others = self.plan_join(node, producers)
            if target is None:
                target = self.new_item(node, producers)
            else:
                pending = self.new_inputs(target, node)  # the node's inputs the group does not have yet
                for other in others:
                    count, covered = self.merged_input_count(target, other, pending)
                    if count <= MAX_FUSED_INPUTS:
                        self.merge(other, target)
                        pending -= covered
                producers = {self.find(p) for p in producers}
                self.join(node, target, producers)
            for p in producers - {target}:
                self.downstream[p].add(target)
        self.merge_siblings()
        position = {n: k for k, n in enumerate(self.nodes)}
        return [sorted(m, key=position.__getitem__) for k, m in enumerate(self.members)
                if self.alias[k] == k and len(m) > 1]

    def merge_siblings(self) -> None:
        """Merge groups that neither depends on and that read one input of their full loop shape (so their
        runtime shapes are equal): one loop then reads that input once. Their union is convex since no path
        runs between them."""
        first_reader: dict[Variable, int] = {}
        for k in range(len(self.members)):
            if self.alias[k] != k or self.pattern[k] is None or self._feeds_one_reduction(k):
                continue
            reads = [v for n in self.members[k] for v in n.inputs
                     if v in self.external[k] and _pattern(v) == self.pattern[k]]
            for v in reads:
                g, k = self.find(first_reader.setdefault(v, k)), self.find(k)
                if g != k and self.pattern[g] == self.pattern[k] and self._independent(g, k):
                    count, _ = self.merged_input_count(g, k, set())
                    if count <= MAX_FUSED_INPUTS:
                        self.merge(k, g)

    def _feeds_one_reduction(self, k: int) -> bool:
        """Group ``k``'s only use is one reduction (no graph output): left alone for ``fuse_into_reductions``."""
        members = set(self.members[k])
        uses = [c for v in self.made[k] for c in self.var_clients.get(v, []) if c not in members]
        exported = [v for v in self.made[k] if v in self.graph_outputs]
        return not exported and len(uses) == 1 and isinstance(uses[0].op, Reduce)

    def _independent(self, a: int, b: int) -> bool:
        return not (self.anc[a] & self.mask[b]) and not (self.anc[b] & self.mask[a])

    def new_item(self, node: Apply, producers: set[int]) -> int:
        k = len(self.members)
        self.item_of[node] = k
        self.alias.append(k)
        self.members.append([node])
        self.pattern.append(_node_pattern(node))
        self.anc.append(self.ancestors_through(producers))
        self.mask.append(1 << k if self.pattern[k] is not None else 0)  # only groups are ever asked about
        self.external.append({v for v in node.inputs if not _is_inlined(v)})
        self.made.append(set(node.outputs))
        self.downstream.append(set())
        return k

    def ancestors_through(self, items: set[int]) -> int:
        bits = 0
        for p in items:
            bits |= self.anc[p] | self.mask[p]
        return bits

    def new_inputs(self, g: int, node: Apply) -> set[Variable]:
        """The inputs of ``node`` that would be new outer inputs of group ``g`` if it joined."""
        made, external = self.made[g], self.external[g]
        return {v for v in node.inputs if v not in made and v not in external and not _is_inlined(v)}

    def merged_input_count(self, a: int, b: int, pending: set[Variable]) -> tuple[int, set[Variable]]:
        """How many outer inputs groups ``a`` and ``b`` have together with ``pending`` (the joining node's
        inputs that ``a`` lacks), and which of those ``b`` covers; O(size of b)."""
        ext_a, ext_b, made_a, made_b = self.external[a], self.external[b], self.made[a], self.made[b]
        gone = sum(1 for v in made_b if v in ext_a)
        added = sum(1 for v in ext_b if v not in made_a and v not in ext_a)
        covered = {v for v in made_b if v in pending} | {v for v in ext_b if v in pending}
        return len(ext_a) - gone + added + len(pending) - len(covered), covered

    def plan_join(self, node: Apply, producers: set[int]) -> tuple[int | None, list[int]]:
        """The producer group ``node`` joins and the producer groups merged with it.

        Candidates have the node's loop pattern and no other producer depends on them (else the group
        would feed itself through that producer); the union of such groups and the node is convex. The
        largest candidate within the input cap is the target; the others follow in item order."""
        pattern = _node_pattern(node)
        if pattern is None or not producers:
            return None, []
        depended_on = 0  # every item some producer depends on
        for k in producers:
            depended_on |= self.anc[k]
        free = sorted((g for g in producers if self.pattern[g] == pattern and not depended_on & self.mask[g]),
                      key=lambda i: (-len(self.members[i]), i))
        for g in free:
            if len(self.external[g]) + len(self.new_inputs(g, node)) <= MAX_FUSED_INPUTS:
                return g, sorted(o for o in free if o != g)
        return None, []

    def merge(self, other: int, target: int) -> None:
        self.alias[other] = target
        self.members[target].extend(self.members[other])
        self.mask[target] |= self.mask[other]
        external = self.external[target]
        external.difference_update(self.made[other])
        external.update(v for v in self.external[other] if v not in self.made[target])
        self.made[target] |= self.made[other]
        self.downstream[target] |= self.downstream[other]
        self.members[other], self.external[other], self.made[other] = [], set(), set()
        self.push_ancestors(target, (self.anc[target] | self.anc[other]) & ~self.mask[target])

    def join(self, node: Apply, g: int, producers: set[int]) -> None:
        self.item_of[node] = g
        self.members[g].append(node)
        self.external[g] |= self.new_inputs(g, node)
        self.made[g].update(node.outputs)
        new = self.ancestors_through(producers - {g}) & ~self.anc[g]
        if new:
            self.push_ancestors(g, self.anc[g] | new)

    def push_ancestors(self, g: int, bits: int) -> None:
        """Set group ``g``'s ancestors to ``bits`` and add them (and ``g`` itself) to everything downstream."""
        self.anc[g] = bits
        extra = bits | self.mask[g]
        stack, seen = [g], {g}
        while stack:
            for d in self.downstream[stack.pop()]:
                d = self.find(d)
                if d not in seen:
                    seen.add(d)
                    self.anc[d] |= extra
                    stack.append(d)


def _node_pattern(node: Apply) -> tuple | None:
    """The loop pattern of a fusible node (None when not fusible or its outputs disagree)."""
    if not _fusible(node):
        return None
    first = _pattern(node.outputs[0])
    return first if all(_pattern(o) == first for o in node.outputs[1:]) else None


def fusion_groups(outputs: Sequence[Variable]) -> list[list[Apply]]:
    """The groups of nodes the fusion rule would fuse (each in topological order; singletons left out).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> [len(g) for g in fusion_groups([gw.exp(x) * 2 + 1])]
    [3]
    """
    return _Grouping(outputs).run()


def _outer_inputs(members: list[Apply]) -> list[Variable]:
    """The group's inputs from outside, in order of first use. One-element constants are inlined, unless
    the other inputs would not give the loop its rank (then only 0-d constants are)."""
    inside = {o for m in members for o in m.outputs}
    rank = max(o.type.ndim for m in members for o in m.outputs)

    def collect(inlined) -> list[Variable]:
        outer: dict[Variable, None] = {}
        for m in members:
            for v in m.inputs:
                if v not in inside and not inlined(v):
                    outer[v] = None
        return list(outer)

    outer = collect(_is_inlined)
    if max((v.type.ndim for v in outer), default=0) < rank:
        outer = collect(lambda v: isinstance(v, Constant) and v.type.ndim == 0)
    return outer


def _composite_for(members: list[Apply], exported: list[Variable]) -> tuple[Composite, list[Variable]]:
    """The Composite computing ``exported`` from the members, and its outer inputs (first use first)."""
    outer = _outer_inputs(members)
    inner: dict[Variable, Variable] = {v: placeholder(k, v.type.dtype) for k, v in enumerate(outer)}
    for m in members:
        for v in m.inputs:
            if isinstance(v, Constant) and v.type.ndim and v not in inner:  # an inlined one-element constant
                inner[v] = constant(np.asarray(v.data).reshape(()), dtype=v.type.dtype)
        args = [inner.get(v, v) for v in m.inputs]
        if isinstance(m.op, Composite):
            outs = substitute(m.op.inner_graphs()[0], args)
        else:
            outs = m.op.make_node(*args).outputs
        inner.update(zip(m.outputs, outs, strict=True))
    holders = tuple(inner[v] for v in outer)
    return Composite(holders, tuple(inner[v] for v in exported)), outer


@graph_rule("elemwise_fusion", tags=("fusion",),
            identity="connected elementwise ops over one loop shape -> one composite loop (multi-output)")
def fuse_elementwise(outputs: tuple[Variable, ...], ctx) -> list[tuple[Variable, Variable]]:
    """Connected elementwise ops over one loop shape become one composite loop."""
    grouping = _Grouping(outputs)
    groups = [g for g in grouping.run() if _outer_inputs(g)]  # a group of constants alone is left to folding
    if not groups:
        return []
    wanted = set(outputs)
    group_of = {m: k for k, g in enumerate(groups) for m in g}
    # Order the groups and the other nodes so that each comes after what it uses (the contracted graph).
    items: list = [("group", k) for k in range(len(groups))] + [n for n in grouping.nodes if n not in group_of]

    def item_of(node: Apply):
        k = group_of.get(node)
        return ("group", k) if k is not None else node

    def members_of(item) -> list[Apply]:
        return groups[item[1]] if isinstance(item, tuple) else [item]

    deps: dict = {}
    users: dict = {it: [] for it in items}
    for it in items:
        mine = set(members_of(it))
        needed = {item_of(v.owner) for m in mine for v in m.inputs if v.owner is not None and v.owner not in mine}
        deps[it] = len(needed)
        for d in needed:
            users[d].append(it)
    ready = deque(it for it in items if deps[it] == 0)
    new: dict[Variable, Variable] = {}
    pairs: list[tuple[Variable, Variable]] = []
    while ready:
        it = ready.popleft()
        if isinstance(it, tuple):
            members = groups[it[1]]
            mine = set(members)
            exported = [o for m in members for o in m.outputs
                        if o in wanted or any(c not in mine for c in grouping.var_clients.get(o, ()))]
            op, outer = _composite_for(members, exported)
            fused = op.make_node(*(new.get(v, v) for v in outer)).outputs
            for old, var in zip(exported, fused, strict=True):
                new[old] = var
                pairs.append((old, var))
        else:
            ins = [new.get(v, v) for v in it.inputs]
            if any(a is not b for a, b in zip(ins, it.inputs, strict=True)):
                new.update(zip(it.outputs, it.op.make_node(*ins).outputs, strict=True))
        for u in users[it]:
            deps[u] -= 1
            if deps[u] == 0:
                ready.append(u)
    if any(deps[it] for it in items):  # pragma: no cover - the convexity check makes this impossible
        raise RuntimeError("fusion groups would form a cycle; nothing was fused")
    return pairs


def _absorbable_producer(node: Apply, uses: dict[Variable, int], wanted: set[Variable]) -> Apply | None:
    """The elementwise node whose output Reduce ``node`` reduces, when the reduction may absorb it: that output
    is used once (by the reduction) and is no graph output, and the node's other outputs are unused."""
    producer = node.inputs[0].owner if isinstance(node.op, Reduce) else None
    if producer is None or not _fusible(producer):
        return None
    x = node.inputs[0]
    if any(o in wanted or uses.get(o, 0) != (1 if o is x else 0) for o in producer.outputs):
        return None
    return producer


@graph_rule("reduce_fusion", tags=("fusion",),
            identity="reduce(f(x, y, ...)) for an elementwise f used nowhere else -> one loop that reduces as "
                     "it computes (no temporary)")
def fuse_into_reductions(outputs: tuple[Variable, ...], ctx) -> list[tuple[Variable, Variable]]:
    """A reduction of an elementwise result that nothing else uses becomes one CompositeReduce."""
    nodes = toposort(outputs)
    uses: dict[Variable, int] = {}
    for n in nodes:
        for v in n.inputs:
            uses[v] = uses.get(v, 0) + 1
    wanted = set(outputs)
    new: dict[Variable, Variable] = {}  # rebuilt variables (a fused reduction may feed a later one)
    pairs: list[tuple[Variable, Variable]] = []
    for node in nodes:
        producer = _absorbable_producer(node, uses, wanted)
        if producer is not None:
            op, outer = _composite_for([producer], [node.inputs[0]])
            if outer:  # (an all-constant producer is left to constant folding)
                fused = CompositeReduce(op, node.op.kind, node.op.axis, node.op.keepdims)(
                    *(new.get(v, v) for v in outer))
                new[node.outputs[0]] = fused
                pairs.append((node.outputs[0], fused))
                continue
        ins = [new.get(v, v) for v in node.inputs]
        if any(a is not b for a, b in zip(ins, node.inputs, strict=True)):
            new.update(zip(node.outputs, node.op.make_node(*ins).outputs, strict=True))
    return pairs


FUSION = register("fusion", RuleSet("fusion", [fuse_elementwise, fuse_into_reductions]))
