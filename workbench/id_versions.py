"""A versioned id history: the id-space deltas of a Trace (``graphwright.rewrite.id_history.walk_ids``) kept per
position, so that the id an object has in the graph after any step is found by structure (op plus input ids,
as the ids were then) in time proportional to the nodes looked up, never by building a table of a graph.

Positions are those of the deltas: ``-1`` the initial graph, then one per step. A node's key ``(op, input
refs)`` holds its id over an interval of positions (from the delta that created or rewired it to the one that
removed or rewired it again); a leaf (graph input or constant) holds its id from its creation to its removal.
An object's id at a position is the one its key holds there, its inputs' ids taken at that position; each
object remembers the interval over which its last answer holds, so looking an object up again, at that
position or a neighbouring one where nothing under it changed, costs one comparison.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

from graphwright.graph.basic import Apply, Variable
from graphwright.rewrite.id_history import IdDelta

__all__ = ["VersionedIds"]

_END = 1 << 62  # an interval still open
Interval = tuple[int, int, int]  # (id, first position, position after the last)


Spans = tuple[int, int, int] | list[tuple[int, int, int]]  # one (first, end, id) span, or several in order


def _first(span: tuple[int, int, int]) -> int:
    return span[0]


def _span_at(spans: Spans, position: int) -> Interval | None:
    """The span of ``spans`` holding ``position``, as ``(id, first, end)``."""
    if isinstance(spans, tuple):
        candidates: Any = (spans,)
    else:
        i = bisect_right(spans, position, key=_first) - 1
        candidates = spans[max(i - 1, 0):i + 1][::-1]  # one id per key at a time, as a rule
    for first, end, node_id in candidates:
        if first <= position < end:
            return node_id, first, end
    return None


class VersionedIds:
    """Object -> id at any position of a sequence of IdDeltas (see the module docstring).

    ``work`` counts the nodes whose id was worked out (not found in the memo): what the tests bound.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.rewrite.id_history import walk_ids
    >>> v = gw.vector("v")
    >>> start = gw.exp(gw.exp(v) * 1.0)
    >>> _, trace = gw.rewrite(start)
    >>> ids = VersionedIds(walk_ids(trace))
    >>> ids.id_at(start.owner, -1), ids.id_at(start.owner, 0), ids.id_at(start.owner, 1)  # rewired, then gone
    (4, None, None)
    >>> ids.id_at(gw.exp(gw.exp(v)).owner, 0)  # the rebuilt exp keeps its id
    4
    """

    def __init__(self, deltas: Iterable[IdDelta]):
        self._keys: dict[Any, Spans] = {}  # (op, input refs) or a leaf Variable -> its spans (tuples: few for gc)
        self._key_of: dict[int, Any] = {}  # id -> its key now
        self._ins: dict[int, tuple[tuple[int, int], ...]] = {}
        self._memo: dict[Apply | Variable, Interval] = {}
        self.objects: dict[int, Apply | Variable] = {}  # id -> the object it stood for when created
        self.initial_ids: list[int] = []  # the ids of the initial graph (position -1)
        self.next_id = 0
        self.positions = 0
        self.work = 0
        for delta in deltas:
            self._add(delta)

    def _add(self, delta: IdDelta) -> None:
        p = delta.index
        for i in delta.removed:
            self._close(self._key_of.pop(i), i, p)
            del self._ins[i]
        rewired: dict[int, dict[int, tuple[int, int]]] = {}
        for i, pos, ref in delta.rewired:
            rewired.setdefault(i, {})[pos] = ref
        for i, edges in rewired.items():
            key = self._key_of[i]
            self._close(key, i, p)
            ins = self._ins[i] = tuple(edges.get(pos, ref) for pos, ref in enumerate(self._ins[i]))
            self._open(i, (key[0], ins), p)
        for node in delta.created:
            self._ins[node.id] = node.inputs
            obj = node.obj
            self._open(node.id, (obj.op, node.inputs) if isinstance(obj, Apply) else obj, p)
            self.objects[node.id] = obj
            if p < 0:
                self.initial_ids.append(node.id)
            self.next_id = max(self.next_id, node.id + 1)
        self.positions = p + 2

    def _open(self, node_id: int, key: Any, position: int) -> None:
        self._key_of[node_id] = key
        spans, span = self._keys.get(key), (position, _END, node_id)
        if spans is None:
            self._keys[key] = span
        elif isinstance(spans, tuple):
            self._keys[key] = [spans, span]
        else:
            spans.append(span)

    def _close(self, key: Any, node_id: int, end: int) -> None:
        spans = self._keys[key]
        if isinstance(spans, tuple):
            if spans[2] == node_id and spans[1] == _END:
                self._keys[key] = (spans[0], end, node_id)
            return
        for j in range(len(spans) - 1, -1, -1):  # the open span of node_id is among the last few
            first, last, span_id = spans[j]
            if span_id == node_id and last == _END:
                spans[j] = (first, end, node_id)
                return

    def _known(self, obj: Apply | Variable, position: int) -> Interval | None:
        found = self._memo.get(obj)
        return found if found is not None and found[1] <= position < found[2] else None

    def id_at(self, obj: Apply | Variable, position: int) -> int | None:
        """The id of ``obj`` (an Apply, or a Variable without owner) in the graph at ``position``, or None when
        that graph does not hold it."""
        found = self.interval_at(obj, position)
        return None if found is None else found[0]

    def interval_at(self, obj: Apply | Variable, position: int) -> Interval | None:
        """``(id, first, end)``: the id of ``obj`` at ``position`` and positions around it where it holds."""
        found = self._known(obj, position)
        if found is not None:
            return found
        if not isinstance(obj, Apply):
            return self._leaf(obj, position)
        absent: set[Apply] = set()
        stack = [obj]
        while stack:
            node = stack[-1]
            if node in absent or self._known(node, position) is not None:
                stack.pop()
                continue
            todo = [v.owner for v in node.inputs
                    if v.owner is not None and v.owner not in absent and self._known(v.owner, position) is None]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            if self._place(node, position) is None:
                absent.add(node)
        return self._known(obj, position)

    def _leaf(self, var: Variable, position: int) -> Interval | None:
        spans = self._keys.get(var)
        found = None if spans is None else _span_at(spans, position)
        if found is not None:
            self._memo[var] = found
        return found

    def _place(self, node: Apply, position: int) -> Interval | None:
        """The id of ``node`` at ``position``, its inputs' ids being known (None for an input not there)."""
        self.work += 1
        refs, first, end = [], -_END, _END
        for v in node.inputs:
            found = self._leaf(v, position) if v.owner is None else self._known(v.owner, position)
            if found is None:
                return None
            refs.append((found[0], v.index))
            first, end = max(first, found[1]), min(end, found[2])
        spans = self._keys.get((node.op, tuple(refs)))
        found = None if spans is None else _span_at(spans, position)
        if found is None:
            return None
        found = (found[0], max(first, found[1]), min(end, found[2]))
        self._memo[node] = found
        return found
