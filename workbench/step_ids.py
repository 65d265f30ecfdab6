"""Per-graph node ids of a session's history, taken from the core's id-space history of each rewrite Trace
(``graphwright.rewrite.id_history.walk_ids``): unique within every graph, kept by nodes a step rebuilt, fresh
for nodes a rule created, and the same whatever order the steps are looked at in.

One id per object cannot do this: nodes are hash-consed, so one object can be the rebuilt form of one node in
one graph and a node of its own in another. The core's walk keeps one mutable graph of node ids in which a
rebuilt node is the same node, rewired; :class:`~graphwright.workbench.id_versions.VersionedIds` keeps its
deltas per step, and an object's id in the graph after step ``k`` is found by structure (op plus input ids as
they were after step ``k``) when it is asked for. The id strings are ``<prefix><number>``:

1. the original graph and the first Trace's graphs: ``n<walk id>`` (the walk numbers the initial graph's
   nodes in order, then each node a step creates);
2. a user edit keeps the ids of the nodes it leaves alone, gives a rebuilt node its old node's id and fresh
   numbers to the rest; a Trace resumed after an edit keeps the ids of its initial graph (the edited one) and
   numbers the nodes its steps create from there on;
3. the session's inputs keep one id throughout (also while a graph does not read them);
4. an object that the graph of neither position holds gets the id it had when last looked up, else its id in
   the original graph, else one of the history's spare ids ``<prefix>u<n>``.

``Session()`` costs nothing here; the first lookup in a Trace's steps walks that Trace once (time proportional
to what its steps really changed), and a lookup costs the nodes it works out (its ancestors not looked up at
that step or a neighbouring one where they did not change), never a table of a whole graph.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph
from graphwright.rewrite.id_history import IdGraph, walk_ids
from graphwright.viz.ids import NodeIds, drawable
from graphwright.workbench.history import TraceGraphs
from graphwright.workbench.id_versions import VersionedIds

__all__ = ["HistoryIds", "GraphIds"]

Key = Apply | Variable
Table = dict[Key, str]
_CACHED_TABLES = 8  # whole-graph tables kept (table() is for tests and edits, not for drawing)


class GraphIds(NodeIds):
    """The node ids of one position of a history: those of its graph, and for the nodes that the step there
    removed, those they had in the graph before (so a step's before and after graphs share one id space).

    A drop-in :class:`~graphwright.viz.NodeIds` for drawing: :meth:`assign` and :meth:`follow` change nothing
    (every node of the history already has its id); an object that is in neither graph gets the id it had when
    last looked up, else one of the history's spare ``<prefix>u<n>`` ids. Making one costs nothing: each
    :meth:`of` looks its object up.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.session import Session
    >>> x = gw.vector("x")
    >>> s = Session(gw.log(1 + gw.exp(x)) * 2, phases="stabilize")
    >>> ids = s.ids_at(0)
    >>> ids.of(s.graph_at(-1).outputs[0]) == ids.of(s.graph_at(0).outputs[0])  # the mul node, rewired
    True
    """

    def __init__(self, history: HistoryIds, position: int):
        super().__init__(history.prefix)
        self.history, self.position = history, position

    def _here(self, key: Key) -> str | None:
        found = self.history.lookup(key, self.position)
        if found is None and self.position >= 0:
            found = self.history.lookup(key, self.position - 1)
        return found

    def of(self, obj: Apply | Variable) -> str:
        key = self._key(obj)
        found = self._here(key)
        return found if found is not None else self.history.elsewhere(key)

    def alias(self, new: Apply, old: Apply) -> bool:
        return self.of(new) == self.of(old)

    def follow(self, rebuilt: Mapping[Apply, Apply], after: Graph) -> dict[Apply, Apply]:
        return {old: new for old, new in rebuilt.items() if self.of(old) == self.of(new)}

    def assign(self, graph: Graph) -> None:
        for obj in drawable(graph):
            self.of(obj)

    def find(self, node_id: str, graph: Graph) -> Apply | Variable | None:
        return next((obj for obj in drawable(graph) if self.of(obj) == node_id), None)

    def __contains__(self, obj: object) -> bool:
        if not isinstance(obj, Apply | Variable):
            return False
        key = self._key(obj)
        return self._here(key) is not None or self.history.knows(key)

    def __len__(self) -> int:
        return sum(1 for _ in drawable(self.history.graph(self.position)))


class HistoryIds:
    """The per-graph node ids of ``original`` and of the graph after each of ``steps`` (StepViews: rule steps
    of Traces, in trace order, and edits), looked up when asked for.

    ``reuse``, an earlier HistoryIds whose steps began with the same steps, lends its work on them (a
    substitution keeps the history up to its step, so the ids there stay as they were).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.workbench.steps import steps_from_trace
    >>> x = gw.vector("x")
    >>> g = Graph([x], [gw.log(1 + gw.exp(x)) * 2])
    >>> _, trace = gw.rewrite(g, phases="stabilize")
    >>> ids = HistoryIds(g, steps_from_trace(trace))
    >>> [ids.at(k).of(ids.graph(k).outputs[0]) for k in (-1, 0)]  # the rebuilt mul node keeps its id
    ['n6', 'n6']
    >>> ids.at(0).of(gw.softplus(x)), ids.at(0).of(gw.exp(x))  # created: a new id; removed: its old one
    ('n7', 'n1')
    """

    def __init__(self, original: Graph, steps: Sequence[Any], prefix: str = "n", reuse: HistoryIds | None = None):
        self.original, self.prefix = original, prefix
        self._spare = NodeIds(prefix + "u") if reuse is None else reuse._spare
        self._segments = _segments(steps, self)
        if reuse is not None:
            for k, (mine, theirs) in enumerate(zip(self._segments, reuse._segments, strict=False)):
                if not mine.same_as(theirs):
                    break
                self._segments[k] = theirs.limited(mine.count)
        self._origin: VersionedIds | None = None if reuse is None else reuse._origin
        self._input_ids: dict[Variable, str] | None = None if reuse is None else reuse._input_ids
        self._tables: OrderedDict[int, Table] = OrderedDict()
        self._last: dict[Key, str] = {}  # object -> the id it had when last looked up
        self._named: dict[str, Key] = {}  # id -> the object last looked up with it
        self._carriers: dict[str, set[Apply]] = {}  # id -> every Apply looked up with it

    def __len__(self) -> int:
        return sum(seg.count for seg in self._segments)

    def _segment(self, k: int) -> tuple[int, Any]:
        if not -1 <= k < len(self):
            raise IndexError(f"position {k} is out of range: the history has {len(self)} steps")
        if k < 0:
            return -1, None
        index = next(i for i, seg in enumerate(self._segments) if seg.first + seg.count > k)
        return index, self._segments[index]

    def graph(self, k: int) -> Graph:
        """The graph after position ``k`` (``-1``: the original)."""
        return self.original if k < 0 else self._segment(k)[1].graph(k)

    def at(self, k: int) -> GraphIds:
        """The ids of position ``k``: its graph's, and the graph before's for the nodes its step removed."""
        self._segment(k)
        return GraphIds(self, k)

    def lookup(self, key: Key, k: int) -> str | None:
        """The id of ``key`` (an Apply, or a Variable without owner) in the graph after position ``k``, or None
        when that graph does not hold it."""
        if isinstance(key, Variable) and key in self._inputs():
            found = self._inputs()[key]
        elif k < 0 and not (self._segments and isinstance(self._segments[0], _TraceIds)):
            walk_id = self._origin_ids().id_at(key, -1)
            found = None if walk_id is None else f"{self.prefix}{walk_id}"
        else:
            found = self._segment(max(k, 0))[1].lookup(key, k)
        if found is not None:
            self._last[key] = found
            self._named[found] = key
            if isinstance(key, Apply):
                self._carriers.setdefault(found, set()).add(key)
        return found

    def _origin_ids(self) -> VersionedIds:
        """The ids of the original graph when no Trace starts from it (the numbering a walk would give)."""
        if self._origin is None:
            self._origin = VersionedIds([IdGraph().sync(self.original.outputs, -1)])
        return self._origin

    def _inputs(self) -> dict[Variable, str]:
        """The session's inputs -> their ids: those of the original graph, spare ones for inputs it does not read."""
        if self._input_ids is None:
            self._input_ids = {}  # lookup() below must not come back here for an input
            first = self._segments[0] if self._segments and isinstance(self._segments[0], _TraceIds) else None
            store = first.store() if first is not None else self._origin_ids()
            ids = {}
            for var in self.original.inputs:
                walk_id = store.id_at(var, -1)
                ids[var] = self._spare.of(var) if walk_id is None else f"{self.prefix}{walk_id}"
            self._input_ids = ids
        return self._input_ids

    def counter_before(self, index: int) -> int:
        """The first fresh number of segment ``index``: past every number of the history before it."""
        if index == 0:
            first = self._segments[0] if isinstance(self._segments[0], _TraceIds) else None
            return (first.store() if first is not None else self._origin_ids()).next_id
        return self._segments[index - 1].counter_end()

    def table(self, k: int) -> Table:
        """Object -> id for every drawn object of the graph after position ``k`` (a walk of that graph)."""
        found = self._tables.get(k)
        if found is None:
            self._segment(k)
            found = self._tables[k] = {obj: self._or_elsewhere(obj, k) for obj in drawable(self.graph(k))}
            if len(self._tables) > _CACHED_TABLES:
                self._tables.popitem(last=False)
        return found

    def _or_elsewhere(self, obj: Key, k: int) -> str:
        found = self.lookup(obj, k)
        return found if found is not None else self.elsewhere(obj)

    def elsewhere(self, key: Key) -> str:
        """The id of an object in neither graph of a view: the one it had when last looked up, else the one it
        has in the original graph, else a spare one."""
        found = self._last.get(key)
        if found is None:
            found = self.lookup(key, -1)
        return found if found is not None else self._spare.of(key)

    def knows(self, key: Key) -> bool:
        """Whether ``key`` was looked up with an id so far, or is in the original graph."""
        return key in self._last or self.lookup(key, -1) is not None

    def find(self, node_id: str, k: int) -> Key | None:
        """The object with id ``node_id`` in the graph after position ``k``, else the object last looked up with
        that id in another graph, else None."""
        self._segment(k)
        found = next((obj for obj in drawable(self.graph(k)) if self.lookup(obj, k) == node_id), None)
        return found if found is not None else self._named.get(node_id)

    def carriers(self, node_id: str, positions: Sequence[int] = ()) -> set[Apply]:
        """The Apply nodes with id ``node_id`` in the graphs after ``positions`` and among the objects looked up
        so far: one node followed through the history (its rebuilt forms share its id)."""
        for k in positions:
            self.find(node_id, k)
        return set(self._carriers.get(node_id, ()))


class _EditIds:
    """The ids of one user edit: kept nodes keep theirs, rebuilt ones take their old node's, the rest are new."""

    def __init__(self, step: Any, first: int, history: HistoryIds, index: int):
        self.step, self.first, self.count = step, first, 1
        self.history, self.index = history, index
        self._result: tuple[Table, int] | None = None

    def same_as(self, other: Any) -> bool:
        return isinstance(other, _EditIds) and other.step is self.step and other.first == self.first

    def limited(self, count: int) -> _EditIds:
        return self

    def graph(self, k: int) -> Graph:
        return self.step.after

    def _made(self) -> tuple[Table, int]:
        if self._result is None:
            history, before = self.history, self.first - 1
            after = set(self.step.after.toposort)
            inherit: dict[Key, Key] = {}
            for old, new in self.step.changes.rebuilt.items():
                if old not in after:
                    inherit.setdefault(new, old)
            counter = history.counter_before(self.index)
            objs = list(drawable(self.step.after))
            table: Table = {}
            for obj in objs:
                found = history.lookup(obj, before)
                if found is not None:
                    table[obj] = found
            taken = set(table.values())
            for obj in objs:
                old = inherit.get(obj)
                found = None if old is None or obj in table else history.lookup(old, before)
                if obj in table:
                    continue
                if found is None or found in taken:
                    found, counter = f"{history.prefix}{counter}", counter + 1
                table[obj] = found
                taken.add(found)
            self._result = table, counter
        return self._result

    def lookup(self, key: Key, k: int) -> str | None:
        return self._made()[0].get(key) if k == self.first else self.history.lookup(key, k)

    def counter_end(self) -> int:
        return self._made()[1]


class _TraceIds:
    """The ids of the graphs of one Trace's steps (session positions ``first`` .. ``first + count - 1``), from
    one walk of the Trace (made when first needed, shared by the copies :meth:`limited` makes)."""

    def __init__(self, graphs: TraceGraphs, first: int, count: int, history: HistoryIds, index: int):
        self.graphs, self.trace, self.first, self.count = graphs, graphs.trace, first, count
        self.history, self.index = history, index
        self._walk: dict[str, Any] = {}  # "store": VersionedIds, "initial": {walk id: id}, "counter": int

    def same_as(self, other: Any) -> bool:
        return isinstance(other, _TraceIds) and other.trace is self.trace and other.first == self.first

    def limited(self, count: int) -> _TraceIds:
        """This segment's work, for its first ``count`` steps (the steps a substitution kept)."""
        if count == self.count:
            return self
        other = _TraceIds(self.graphs, self.first, count, self.history, self.index)
        other._walk = self._walk
        return other

    def graph(self, k: int) -> Graph:
        return self.graphs.after(k - self.first)

    def store(self) -> VersionedIds:
        """The versioned ids of the whole Trace (its walk, made once)."""
        found = self._walk.get("store")
        if found is None:
            found = self._walk["store"] = VersionedIds(walk_ids(self.trace))
        return found

    def _names(self) -> tuple[dict[int, str], int, int]:
        """(initial walk id -> its id, the number the walk's first created node gets, that node's walk id)."""
        if "initial" not in self._walk:
            store = self.store()
            initial = store.initial_ids
            counter = self.history.counter_before(self.index) if self.first > 0 else 0
            names = {} if self.first == 0 else {i: self._initial_name(store.objects[i]) for i in initial}
            self._walk["initial"] = names
            self._walk["counter"] = (counter, max(initial, default=-1) + 1 if self.first > 0 else 0)
        return self._walk["initial"], *self._walk["counter"]

    def _initial_name(self, obj: Key) -> str:
        """The id a node of the Trace's initial graph (the graph after an edit) has there."""
        found = self.history.lookup(obj, self.first - 1)
        return found if found is not None else self.history.elsewhere(obj)

    def lookup(self, key: Key, k: int) -> str | None:
        walk_id = self.store().id_at(key, k - self.first)
        if walk_id is None:
            return None
        names, counter, first_created = self._names()
        found = names.get(walk_id)
        return found if found is not None else f"{self.history.prefix}{counter + walk_id - first_created}"

    def counter_end(self) -> int:
        _, counter, first_created = self._names()
        return counter + self.store().next_id - first_created


def _segments(steps: Sequence[Any], history: HistoryIds) -> list[Any]:
    """The steps cut into runs: the steps of one Trace (from its first, in order), and single edits."""
    segments: list[Any] = []
    for pos, step in enumerate(steps):
        if step.trace is None:
            segments.append(_EditIds(step, pos, history, len(segments)))
            continue
        last = segments[-1] if segments else None
        if isinstance(last, _TraceIds) and last.trace is step.trace and step.trace_index == last.count:
            last.count += 1
            continue
        if step.trace_index != 0:
            raise ValueError(f"HistoryIds: step {pos} is step {step.trace_index} of its trace, but the history "
                             f"does not hold the steps of that trace before it")
        graphs = step.graphs if step.graphs is not None else TraceGraphs(step.trace)
        segments.append(_TraceIds(graphs, pos, 1, history, len(segments)))
    return segments
