"""The step-by-step history of a Trace: a :class:`StepDelta` per step, found in time proportional to what the
steps really changed (the id-space deltas of :mod:`graphwright.rewrite.id_history`).

A step deep in a chain rebuilds every node above it as new objects (nodes are immutable and hash-consed), so
any per-step listing of rebuilt objects is as long as the rest of the chain. The walk therefore works in id
space, where a rebuilt node is the same node, rewired; each StepDelta's object-level fields (``changes``,
``slots``, ``entered``, ``left``, ``state``) are made when first read: by the object walk of
:mod:`graphwright.rewrite.object_history` when the steps are read in order (each costs its object-level
changes), else from the whole graphs of that step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from graphwright.graph.basic import Apply, Variable
from graphwright.rewrite.id_history import IdDelta, IdWalk
from graphwright.rewrite.object_history import GraphState, ObjectFields

if TYPE_CHECKING:
    from graphwright.rewrite.trace import StepChanges, Trace

__all__ = ["GraphState", "StepDelta", "walk_trace"]


class StepDelta:
    """What step ``index`` of a Trace changed. ``ids`` is its :class:`~graphwright.rewrite.id_history.IdDelta`
    (removed ids, created nodes, rewired edges, changed outputs: as long as the real change). The object-level
    fields are made when first read (in step order, by one object walk; otherwise from the step's whole
    graphs): ``changes`` (``Trace.changes``), ``slots`` (the changed output positions as
    ``(position, before, after)``), ``entered`` and ``left`` (the nodes that entered the graph, in the order of
    the graph after, and those that left it, in the order of the graph before) and ``state`` (a GraphState of
    the graph after; the object walk's own, which changes when the walk goes on, if it is there).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.exp(x) * 1.0)
    >>> delta = next(trace.deltas())
    >>> delta.ids.removed, [n.op.short_name() for n in delta.left]  # the mul node and its constant 1.0
    ([3, 2], ['mul'])
    """

    def __init__(self, trace: Trace, index: int, ids: IdDelta, walk: IdWalk | None = None,
                 fields: ObjectFields | None = None):
        self.trace, self.index, self.ids, self.walk = trace, index, ids, walk
        self._fields = fields
        self._found: tuple[Any, list, list[Apply], list[Apply]] | None = None
        self._state: GraphState | None = None

    @property
    def changes(self) -> StepChanges:
        return self.trace.changes(self.index)

    def _objects(self) -> tuple[Any, list, list[Apply], list[Apply]]:
        if self._found is None:
            found = self._fields.at(self.index) if self._fields is not None else None
            self._found = found if found is not None else self._from_graphs()
        return self._found

    def _from_graphs(self) -> tuple[Any, list, list[Apply], list[Apply]]:
        before, after = self.trace.graph_before(self.index), self.trace.graph_after(self.index)
        old, new = set(before.toposort), set(after.toposort)
        slots = [(i, b, a) for i, (b, a) in enumerate(zip(before.outputs, after.outputs, strict=True)) if b is not a]
        return (None, slots, [n for n in after.toposort if n not in old],
                [n for n in before.toposort if n not in new])

    @property
    def slots(self) -> list[tuple[int, Variable, Variable]]:
        return self._objects()[1]

    @property
    def entered(self) -> list[Apply]:
        return self._objects()[2]

    @property
    def left(self) -> list[Apply]:
        return self._objects()[3]

    @property
    def state(self) -> GraphState:
        if self._state is None:
            live = self._fields.state(self.index) if self._fields is not None else None
            if live is not None:
                return live
            self._state = GraphState(self.trace.graph_after(self.index).outputs)
        return self._state

    def __repr__(self) -> str:
        return f"StepDelta({self.index}, {len(self.ids)} id changes)"


def walk_trace(trace: Trace) -> Iterator[StepDelta]:
    """A :class:`StepDelta` per step of ``trace``, in order, in total time proportional to the id-space changes
    (plus a walk of the graph per pass); each one's ``walk`` is the IdWalk, at that step until the walk goes on.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(x)) * 1)
    >>> [([n.op.short_name() for n in d.changes.created], len(d.changes.removed)) for d in walk_trace(trace)]
    [([], 1), (['softplus'], 3)]
    """
    walk, fields = IdWalk(trace), ObjectFields(trace)
    for k in range(len(trace.steps)):
        yield StepDelta(trace, k, walk.step(k), walk, fields)
