"""Per-graph node ids of a session's history: unique within every graph, kept by nodes a step rebuilt, fresh for
nodes a rule created, and the same whatever order the steps are looked at in.

One id per object cannot do this: nodes are hash-consed, so one object can be the rebuilt form of one node in
one graph and a node of its own in another. Here each graph has its own table, a deterministic function of the
history up to it. Within a rewrite pass every graph is the pass's start graph rebuilt under the replacements so
far, so in the graph after a step of the pass a node's id is, in this order of precedence:

1. a start node in its place (not rebuilt) keeps its start id (inputs and constants too);
2. the form of a start node (the node rebuilt because an input changed) takes that start node's id; when one
   form is that of several start nodes (a step merged them), the first of them in the start graph's order;
3. a node that a step of the pass created has the id that the pass's ledger gave it: fresh numbers, given in
   step order once per pass (the counter goes on from pass to pass and across edits);
4. a node whose id another node of the graph already holds (a start node that a replacement still holds
   although the pass rebuilt it, say) gets a spare id ``<prefix><step>_<i>``, never used by any other graph.

A user edit keeps the ids of the nodes it leaves alone, gives a rebuilt node its old node's id and new numbers
to the rest. A graph's table costs time proportional to its size (after the pass starts before it, once each);
no step is walked one by one, so a step that rebuilds most of the graph (as in a gradient) costs nothing until
it is looked at, and Session() costs no more than the rewrite.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph, toposort
from graphwright.viz.ids import NodeIds, drawable
from graphwright.workbench.history import TraceGraphs

__all__ = ["HistoryIds", "GraphIds"]

Key = Apply | Variable
Table = dict[Key, str]
_CACHED_TABLES = 64  # per-step tables kept (those of the pass starts and ends are kept for good)


class GraphIds(NodeIds):
    """The node ids of one position of a history: those of its graph, and for the nodes that the step there
    removed, those they had in the graph before (so a step's before and after graphs share one id space).

    A drop-in :class:`~graphwright.viz.NodeIds` for drawing: :meth:`assign` and :meth:`follow` change nothing
    (every node of the history already has its id); an object that is in neither graph gets the id it has in
    the history's other tables made so far, else one of the history's spare ``<prefix>u<n>`` ids.

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

    def __init__(self, history: HistoryIds, position: int, table: Table, before: Table | None):
        super().__init__(history.prefix)
        self.history, self.position = history, position
        self._table, self._before = table, before or {}

    def of(self, obj: Apply | Variable) -> str:
        key = self._key(obj)
        found = self._table.get(key) or self._before.get(key)
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
        return key in self._table or key in self._before or self.history.knows(key)

    def __len__(self) -> int:
        return len(self._table)


class HistoryIds:
    """The per-graph node ids of ``original`` and of the graph after each of ``steps`` (StepViews: rule steps
    of Traces, in trace order, and edits), made when first asked for.

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
        self._tables: OrderedDict[int, Table] = OrderedDict()
        self._inverse: dict[int, tuple[Table, dict[str, Key]]] = {}
        self._original = _fresh_table(original, {}, 0, prefix)

    def __len__(self) -> int:
        return sum(seg.count for seg in self._segments)

    def _segment(self, k: int) -> tuple[int, Any]:
        if not -1 <= k < len(self):
            raise IndexError(f"position {k} is out of range: the history has {len(self)} steps")
        index = next(i for i, seg in enumerate(self._segments) if seg.first + seg.count > k)
        return index, self._segments[index]

    def graph(self, k: int) -> Graph:
        """The graph after position ``k`` (``-1``: the original)."""
        return self.original if k < 0 else self._segment(k)[1].graph(k)

    def table(self, k: int) -> Table:
        """Object -> id for every drawn object of the graph after position ``k``."""
        if k < 0:
            return self._original[0]
        found = self._tables.get(k)
        if found is None:
            _, seg = self._segment(k)
            found = self._tables[k] = seg.table(k)
            if len(self._tables) > _CACHED_TABLES:
                self._tables.popitem(last=False)
        else:
            self._tables.move_to_end(k)
        return found

    def at(self, k: int) -> GraphIds:
        """The ids of position ``k``: its graph's, and the graph before's for the nodes its step removed."""
        return GraphIds(self, k, self.table(k), self.table(k - 1) if k >= 0 else None)

    def start_of(self, index: int) -> tuple[Table, int, Graph]:
        """The table, next fresh number and graph just before segment ``index``."""
        if index == 0:
            return self._original[0], self._original[1], self.original
        prev = self._segments[index - 1]
        k = prev.first + prev.count - 1
        return self.table(k), prev.counter_end(), prev.graph(k)

    def elsewhere(self, key: Key) -> str:
        """The id of an object in neither graph of a view: from the tables made so far, else a spare one."""
        for table in [*reversed(self._tables.values()), self._original[0]]:
            found = table.get(key)
            if found is not None:
                return found
        return self._spare.of(key)

    def knows(self, key: Key) -> bool:
        """Whether ``key`` is in one of the tables made so far."""
        return key in self._original[0] or any(key in t for t in self._tables.values())

    def _by_id(self, k: int) -> dict[str, Key]:
        table = self.table(k)
        found = self._inverse.get(k)
        if found is None or found[0] is not table:
            found = self._inverse[k] = (table, {node_id: obj for obj, node_id in table.items()})
            if len(self._inverse) > _CACHED_TABLES:
                self._inverse.pop(next(iter(self._inverse)))
        return found[1]

    def find(self, node_id: str, k: int) -> Key | None:
        """The object with id ``node_id`` in the graph after position ``k``, else in the other graphs whose
        tables were made so far (latest first), else None."""
        found = self._by_id(k).get(node_id)
        for other in [*reversed(self._tables), -1]:
            if found is not None:
                break
            found = self._by_id(other).get(node_id)
        return found

    def carriers(self, node_id: str, positions: Sequence[int] = ()) -> set[Apply]:
        """The Apply nodes with id ``node_id`` in the graphs after ``positions`` and in those whose tables were
        made so far: one node followed through the history (its rebuilt forms share its id)."""
        found = set()
        for k in [*positions, *list(self._tables), -1]:
            obj = self._by_id(k).get(node_id)
            if isinstance(obj, Apply):
                found.add(obj)
        return found


def _fresh_table(graph: Graph, known: Table, counter: int, prefix: str,
                 inherit: Mapping[Key, Key] | None = None) -> tuple[Table, int]:
    """Ids for ``graph``: an object in ``known`` keeps its id, one in ``inherit`` (new -> old) takes old's id
    when no other object of ``graph`` holds it; the others get fresh numbers from ``counter`` in drawing order.
    Returns the table and the next fresh number."""
    objs = list(drawable(graph))
    table: Table = {obj: known[obj] for obj in objs if obj in known}
    taken = set(table.values())
    for obj in objs:
        if obj in table:
            continue
        old = (inherit or {}).get(obj)
        if old is not None and old in known and old not in table and known[old] not in taken:
            table[obj] = known[old]
        else:
            table[obj] = f"{prefix}{counter}"
            counter += 1
        taken.add(table[obj])
    return table, counter


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
            known, counter, _ = self.history.start_of(self.index)
            after = set(self.step.after.toposort)
            inherit: dict[Key, Key] = {}
            for old, new in self.step.changes.rebuilt.items():
                if old not in after:
                    inherit.setdefault(new, old)
            self._result = _fresh_table(self.step.after, known, counter, self.history.prefix, inherit)
        return self._result

    def table(self, k: int) -> Table:
        return self._made()[0]

    def counter_end(self) -> int:
        return self._made()[1]


class _TraceIds:
    """The ids of the graphs of one Trace's steps (session positions ``first`` .. ``first + count - 1``)."""

    def __init__(self, graphs: TraceGraphs, first: int, count: int, history: HistoryIds, index: int):
        self.graphs, self.trace, self.first, self.count = graphs, graphs.trace, first, count
        self.history, self.index = history, index
        self.passes = list(dict.fromkeys(s.pass_id for s in graphs.trace.steps))
        self._starts: dict[int, tuple[Table, int]] = {}  # pass -> (table of its start graph, next fresh number)
        self._ledgers: dict[int, tuple[Table, dict[Apply, Apply]]] = {}  # pass -> (created ids, final form -> start)
        self._ends: dict[int, Table] = {}  # pass -> table of the graph after its last step

    def same_as(self, other: Any) -> bool:
        return isinstance(other, _TraceIds) and other.trace is self.trace and other.first == self.first

    def limited(self, count: int) -> _TraceIds:
        """This segment's work, for its first ``count`` steps (the steps a substitution kept)."""
        if count == self.count:
            return self
        other = _TraceIds(self.graphs, self.first, count, self.history, self.index)
        other._starts, other._ledgers, other._ends = self._starts, self._ledgers, self._ends
        return other

    def graph(self, k: int) -> Graph:
        return self.graphs.after(k - self.first)

    def counter_end(self) -> int:
        last = self.trace.steps[self.count - 1].pass_id
        table, counter = self._start(last)
        return counter + len(self._ledger(last)[0])

    def table(self, k: int) -> Table:
        j = k - self.first
        pass_id = self.trace.steps[j].pass_id
        if j == self.graphs.last[pass_id]:
            return self._end(pass_id)
        return self._assign(pass_id, j)

    def _end(self, pass_id: int) -> Table:
        found = self._ends.get(pass_id)
        if found is None:
            found = self._ends[pass_id] = self._assign(pass_id, self.graphs.last[pass_id])
        return found

    def _start(self, pass_id: int) -> tuple[Table, int]:
        """The start table of ``pass_id`` and its next fresh number: made pass by pass from the first."""
        for i, todo in enumerate(self.passes[:self.passes.index(pass_id) + 1]):
            if todo in self._starts:
                continue
            if i == 0:
                known, counter, before = self.history.start_of(self.index)
            else:
                prev = self.passes[i - 1]
                known, counter = self._end(prev), self._starts[prev][1] + len(self._ledger(prev)[0])
                before = self.graphs.after(self.graphs.last[prev])
            start = self.graphs.start(todo)
            self._starts[todo] = ((known, counter) if start.outputs == before.outputs
                                  else _fresh_table(start, known, counter, self.history.prefix))
        return self._starts[pass_id]

    def _ledger(self, pass_id: int) -> tuple[Table, dict[Apply, Apply]]:
        """The ids of the nodes (and constants) the steps of a pass created, numbered in step order, and the
        start node of each form in the graph after the pass."""
        found = self._ledgers.get(pass_id)
        if found is not None:
            return found
        start, counter = self._start(pass_id)
        final: dict[Apply, Apply] = {}
        for node, form in self.graphs.forms(self.graphs.last[pass_id]).items():
            final.setdefault(form, node)
        created: Table = {}

        def unknown(obj: Key) -> bool:
            return obj not in start and obj not in final and obj not in created

        prefix = self.history.prefix
        for step in self.trace.steps[self.graphs.first[pass_id]:self.graphs.last[pass_id] + 1]:
            if step.replacement.owner is None and unknown(step.replacement):
                created[step.replacement] = f"{prefix}{counter}"
                counter += 1
            for node in toposort([step.replacement], inside=unknown):
                for obj in [*(v for v in node.inputs if v.owner is None), node]:
                    if unknown(obj):
                        created[obj] = f"{prefix}{counter}"
                        counter += 1
        found = self._ledgers[pass_id] = (created, final)
        return found

    def _assign(self, pass_id: int, j: int) -> Table:
        """The table of the graph after trace step ``j`` (see the module docstring for the rules)."""
        start, _ = self._start(pass_id)
        created, final = self._ledger(pass_id)
        rebuilt = self.graphs.forms(j)
        form_of: dict[Apply, Apply] = {}
        for node, form in rebuilt.items():
            form_of.setdefault(form, node)
        objs = list(drawable(self.graphs.after(j)))
        table: Table = {obj: start[obj] for obj in objs if obj in start and obj not in rebuilt}  # in place
        taken = set(table.values())
        for obj in objs:  # the forms of start nodes: their start node's id
            origin = form_of.get(obj)
            if obj not in table and origin is not None and start[origin] not in taken:
                table[obj] = start[origin]
                taken.add(table[obj])
        spare = 0
        for obj in objs:  # created nodes, stale forms and start nodes, the nodes whose id another one holds
            if obj in table:
                continue
            origin = obj if obj in start else final.get(obj)
            if obj in created:
                table[obj] = created[obj]
            elif origin is not None and start[origin] not in taken:
                table[obj] = start[origin]
            else:
                table[obj], spare = f"{self.history.prefix}{self.first + j}_{spare}", spare + 1
            taken.add(table[obj])
        return table


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
