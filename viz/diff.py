"""Graph diffs: added, removed and rewired nodes between two graphs, as text and as one DOT drawing of the union."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph
from graphwright.printing import short_str
from graphwright.rewrite.trace import StepChanges
from graphwright.viz.ids import NodeIds
from graphwright.viz.labels import clip

__all__ = ["GraphDiff", "graph_diff", "diff_dot"]


def _node_text(node: Apply) -> str:
    outs = ", ".join(clip(short_str(v, max_depth=6), 200) for v in node.outputs)
    return f"{clip(node.op.short_name(), 60)}: {outs}"


@dataclass
class GraphDiff:
    """The nodes only in the graph after (``added``), only before (``removed``), and rebuilt on new inputs
    (``rewired``: old node -> new node, the same node on screen).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> d = GraphDiff(added=[gw.exp(x).owner], removed=[], rewired={})
    >>> d.is_empty, d.text()
    (False, '+ exp: exp(x)')
    """

    added: list[Apply] = field(default_factory=list)
    removed: list[Apply] = field(default_factory=list)
    rewired: dict[Apply, Apply] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """True when the two graphs have the same nodes."""
        return not (self.added or self.removed or self.rewired)

    def text(self) -> str:
        """One line per change: ``+ added``, ``- removed``, ``~ rewired (was ...)``; "no changes" when empty.

        Examples
        --------
        >>> GraphDiff().text()
        'no changes'
        """
        if self.is_empty:
            return "no changes"
        lines = [f"+ {_node_text(n)}" for n in self.added]
        lines += [f"- {_node_text(n)}" for n in self.removed]
        for old, new in self.rewired.items():
            was = ", ".join(clip(short_str(v, max_depth=6), 200) for v in old.outputs)
            lines.append(f"~ {_node_text(new)}  (was {was})")
        return "\n".join(lines)


def _changed_pair(x: Variable, y: Variable, added: set[Apply], removed: set[Apply]) -> bool:
    return x.owner in added and y.owner in removed and x.index == y.index


def _pair_from_outputs(before: Graph, after: Graph, added: set[Apply], removed: set[Apply]) -> dict[Apply, Apply]:
    """Rebuilt nodes seen from the outputs down: the nodes behind matching outputs pair when their ops match and
    each input is the same variable or changed on both sides; the changed inputs are then compared in turn."""
    pairs: dict[Apply, Apply] = {}
    used: set[Apply] = set()
    stack = list(zip(after.outputs, before.outputs, strict=False))
    while stack:
        av, bv = stack.pop()
        a, r = av.owner, bv.owner
        if not _changed_pair(av, bv, added, removed) or a in pairs or r in used:
            continue
        if a.op != r.op or len(a.inputs) != len(r.inputs):
            continue
        if all(x is y or _changed_pair(x, y, added, removed) for x, y in zip(a.inputs, r.inputs, strict=True)):
            pairs[a] = r
            used.add(r)
            stack.extend((x, y) for x, y in zip(a.inputs, r.inputs, strict=True) if x is not y)
    return pairs


def _pair_from_inputs(added: list[Apply], removed: list[Apply], pairs: dict[Apply, Apply]) -> None:
    """Pair (into ``pairs``, new -> old) the remaining added nodes with removed nodes of equal ops whose inputs
    correspond (the same variable, paired, or changed on both sides) with at least one input the same or
    paired; topological order lets chains pair, the best anchored candidate wins."""
    added_set, removed_set = set(added), set(removed)
    used = set(pairs.values())
    by_input: dict[tuple, list[Apply]] = defaultdict(list)
    for r in removed:
        if r not in used:
            for pos, v in enumerate(r.inputs):
                by_input[(r.op, len(r.inputs), pos, id(v))].append(r)
    for a in added:
        if a in pairs:
            continue
        expected = [_expected_old(v, pairs, added_set) for v in a.inputs]
        anchors = [(pos, e) for pos, e in enumerate(expected) if e is not None]
        if not anchors:
            continue
        pos, e = anchors[0]
        best, best_score = None, 0
        for r in by_input.get((a.op, len(a.inputs), pos, id(e)), ()):
            if r in used:
                continue
            score = 0
            for x, old, y in zip(a.inputs, expected, r.inputs, strict=True):
                if old is y:
                    score += 1
                elif old is not None or not _changed_pair(x, y, added_set, removed_set):
                    break
            else:
                if score > best_score:
                    best, best_score = r, score
        if best is not None:
            pairs[a] = best
            used.add(best)


def _expected_old(v: Variable, pairs: dict[Apply, Apply], added: set[Apply]) -> Variable | None:
    """The before-graph variable that must stand where ``v`` is: ``v`` itself when unchanged, the paired node's
    output when its node was paired, None when ``v`` is new."""
    if v.owner not in added:
        return v
    old = pairs.get(v.owner)
    return None if old is None else old.outputs[v.index]


def graph_diff(before: Graph, after: Graph, changes: StepChanges | None = None) -> GraphDiff:
    """What changed from ``before`` to ``after``.

    With ``changes`` (from ``Trace.changes(k)``) the diff is exact: created nodes are added, rebuilt ones
    rewired. Without it, nodes only in ``after`` are added and nodes only in ``before`` removed, except that
    a removed and an added node with equal ops are paired as rewired (old -> new) when their inputs correspond:
    from the outputs down, nodes behind the same output whose inputs are the same or changed on both sides
    (what a rewrite step rebuilds); from the inputs up, nodes whose inputs are the same or themselves paired.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> before = gw.Graph([x], [gw.log(1 + gw.exp(x)) * 2])
    >>> after = gw.Graph([x], [gw.softplus(x) * 2])
    >>> print(graph_diff(before, after).text())
    + softplus: softplus(x)
    - exp: exp(x)
    - add: 1 + exp(x)
    - log: log(1 + exp(x))
    ~ mul: softplus(x) * 2  (was log(1 + exp(x)) * 2)
    """
    if changes is not None:
        return GraphDiff(list(changes.created), list(changes.removed), dict(changes.rebuilt))
    old_nodes, new_nodes = set(before.toposort), set(after.toposort)
    added = [n for n in after.toposort if n not in old_nodes]
    after_order = {n: k for k, n in enumerate(added)}
    removed = [n for n in before.toposort if n not in new_nodes]
    pairs = _pair_from_outputs(before, after, set(added), set(removed))
    _pair_from_inputs(added, removed, pairs)
    rewired = {old: new for new, old in sorted(pairs.items(), key=lambda item: after_order[item[0]])}
    new_side = set(rewired.values())
    return GraphDiff([n for n in added if n not in new_side], [n for n in removed if n not in rewired], rewired)


def diff_dot(before: Graph, after: Graph, *, changes: StepChanges | None = None, ids: NodeIds | None = None,
             **to_dot_kwargs) -> str:
    """DOT text of ``after`` with the removed nodes of ``before`` drawn too: added nodes green (``gw-added``),
    removed red dashed (``gw-removed``), rewired orange (``gw-rewired``, drawn once under the old node's id).

    ``ids`` (fresh by default) gets the before graph's ids first and the rewired nodes aliased (see
    :meth:`~graphwright.viz.NodeIds.follow`: a pair that cannot share an id is drawn as a removed node and a
    rewired one); other keyword arguments go to :func:`graphwright.viz.to_dot` (``styles`` given there are
    added to the diff styles).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> before = gw.Graph([x], [gw.log(1 + gw.exp(x)) * 2])
    >>> after = gw.Graph([x], [gw.softplus(x) * 2])
    >>> import re
    >>> dot = diff_dot(before, after)
    >>> [len(re.findall(f'class="gw-node[^"]*gw-{s}', dot)) for s in ("added", "removed", "rewired")]
    [1, 3, 1]
    """
    from graphwright.viz.dot import to_dot

    diff = graph_diff(before, after, changes)
    ids = NodeIds() if ids is None else ids
    ids.assign(before)
    ids.follow(diff.rewired, after)
    ids.assign(after)
    # a rewired pair that could not share an id (the new node already had one) is drawn as two nodes: the old
    # one removed, the new one rewired (or unstyled when it was already in the before graph, unchanged)
    apart = {old: new for old, new in diff.rewired.items() if ids.of(old) != ids.of(new)}
    old_nodes = set(before.toposort)
    styles: dict[str, str] = {}
    for nodes, name in ((diff.added, "added"), (diff.removed, "removed"), (diff.rewired.values(), "rewired"),
                        (apart, "removed")):
        for n in nodes:
            styles[ids.of(n)] = name
    for new in apart.values():
        if new in old_nodes:
            styles.pop(ids.of(new), None)
    for nid, extra in (to_dot_kwargs.pop("styles", None) or {}).items():
        styles[nid] = f"{styles[nid]} {extra}" if nid in styles else extra
    return to_dot(after, ids=ids, styles=styles, extra=before, **to_dot_kwargs)
