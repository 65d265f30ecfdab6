"""The history of a Trace in id space: one mutable graph of node ids, updated step by step, so that the whole
history costs time proportional to what the steps really changed (plus one walk of the graph per pass).

Nodes are immutable and hash-consed, so a step deep in a chain rebuilds every node above it as new objects;
in id space a rebuilt node is the same node, rewired. An id's node is ``(op, input refs)``, a ref is
``(id, output index)``; graph inputs and constants are leaves with an id of their own. A step's
:class:`IdDelta` names the ids that left the graph, the nodes that entered it (with the object each stands for
at that step), the rewired input edges of the nodes that stayed and the changed output positions.

Rules: within a pass the graph after a step is the pass's start graph rebuilt under the step's replacements so
far (``Trace.graph_after``). A start node keeps its id while it is rebuilt; a replacement's nodes that the graph
does not hold are new ids; nodes that become one object (a rewrite made them equal) become one id, the one
the graph held unchanged. A few rare steps (a replacement holding a node that a later step of the same pass
rebuilds, or a merged node rebuilt again) are found by comparing with the whole graph after the step instead:
``IdDelta.resynced`` says so; the ids stay consistent either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import toposort
from graphwright.rewrite.id_delta import IdDelta, IdNode, Ref

if TYPE_CHECKING:
    from graphwright.rewrite.trace import Trace

__all__ = ["Ref", "IdNode", "IdDelta", "IdGraph", "IdWalk", "walk_ids", "is_graph_of"]


class _Resync(Exception):
    """A step the incremental update does not follow: compare with the whole graph after it."""


class _Log:
    """The changes of one step, netted: an id made and dropped within the step is neither."""

    def __init__(self) -> None:
        self.created: dict[int, None] = {}
        self.removed: list[int] = []
        self.rewired: dict[tuple[int, int], Ref] = {}
        self.outputs: dict[int, Ref] = {}


class IdGraph:
    """A graph of node ids edited in place (see the module docstring).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> ids = IdGraph()
    >>> delta = ids.sync([gw.exp(x) + 1], -1)
    >>> [type(n.obj).__name__ for n in delta.created], ids.outputs
    (['TensorVariable', 'Apply', 'TensorConstant', 'Apply'], [(3, 0)])
    """

    def __init__(self) -> None:
        self.op: dict[int, Any] = {}  # id -> op (None for a leaf)
        self.ins: dict[int, list[Ref]] = {}
        self.users: dict[int, dict[int, int]] = {}  # id -> user id -> number of edges
        self.refs: dict[int, int] = {}  # id -> edges and output positions reading it
        self.index: dict[tuple, int] = {}  # (op, input refs) -> id, for the nodes of the graph
        self.leaves: dict[Variable, int] = {}
        self.form: dict[int, Apply | Variable] = {}  # id -> its object now, where known
        self.memo: dict[Apply, int] = {}  # object -> id (valid while form[id] is that object)
        self.outputs: list[Ref] = []
        self.next_id = 0
        self.work = 0  # nodes visited by every update so far (what the tests bound)
        self._log = _Log()
        self._zero: list[int] = []  # ids whose count fell to 0 (a list: a set's pop is slow once it was big)

    def __len__(self) -> int:
        return len(self.op)

    def node_ids(self) -> list[int]:
        """The ids of the graph, inputs before users."""
        order, seen = [], set()
        for root, _ in self.outputs:
            stack = [(root, False)]
            while stack:
                i, done = stack.pop()
                if done:
                    order.append(i)
                elif i not in seen:
                    seen.add(i)
                    stack.append((i, True))
                    stack.extend((j, False) for j, _ in reversed(self.ins[i]) if j not in seen)
        return order

    # --- edges ---------------------------------------------------------------------------------------------
    def _new(self, op: Any, ins: list[Ref], obj: Apply | Variable) -> int:
        i, self.next_id = self.next_id, self.next_id + 1
        self.op[i], self.ins[i], self.users[i], self.refs[i] = op, ins, {}, 0
        for j, _ in ins:
            self._link(j, i)
        if op is not None:
            self.index[(op, tuple(ins))] = i
        self.form[i] = obj
        self._log.created[i] = None
        self._zero.append(i)
        return i

    def _link(self, j: int, user: int | None) -> None:
        self.refs[j] += 1
        if user is not None:
            users = self.users[j]
            users[user] = users.get(user, 0) + 1

    def _unlink(self, j: int, user: int | None) -> None:
        self.refs[j] -= 1
        if user is not None:
            users = self.users[j]
            users[user] -= 1
            if not users[user]:
                del users[user]
        if not self.refs[j]:
            self._zero.append(j)

    def _drop_form(self, i: int) -> None:
        obj = self.form.pop(i, None)
        if isinstance(obj, Apply) and self.memo.get(obj) == i:
            del self.memo[obj]

    def set_input(self, i: int, pos: int, ref: Ref, *, same_object: bool = False) -> None:
        """Input ``pos`` of node ``i`` reads ``ref`` now; unless ``same_object`` (a merge), its object changed."""
        old = self.ins[i][pos]
        if old == ref:
            return
        self.work += 1
        key = (self.op[i], tuple(self.ins[i]))
        if self.index.get(key) == i:
            del self.index[key]
        self._link(ref[0], i)
        self.ins[i][pos] = ref
        self._unlink(old[0], i)
        if not same_object:
            self._drop_form(i)
        if i not in self._log.created:
            self._log.rewired[(i, pos)] = ref

    def set_output(self, slot: int, ref: Ref) -> None:
        old = self.outputs[slot]
        if old != ref:
            self._link(ref[0], None)
            self.outputs[slot] = ref
            self._unlink(old[0], None)
            self._log.outputs[slot] = ref

    # --- objects -> refs -----------------------------------------------------------------------------------
    def _known(self, var: Variable) -> Ref | None:
        node = var.owner
        if node is None:
            i = self.leaves.get(var)
            if i is None or i not in self.op:
                i = self.leaves[var] = self._new(None, [], var)
            return i, 0
        i = self.memo.get(node)
        return (i, var.index) if i is not None and self.form.get(i) is node else None

    def resolve(self, var: Variable, rewire_known: bool = False) -> Ref:
        """The ref of ``var``: a node of the graph with its structure, else new ids for it and what it needs.
        With ``rewire_known`` an object whose id is known keeps it and its inputs are set to what it reads."""
        found = None if rewire_known and var.owner is not None else self._known(var)
        if found is not None:
            return found
        stack: list[tuple[Apply, bool]] = [(var.owner, False)]
        while stack:
            node, ready = stack.pop()
            self.work += 1
            if not ready:
                stack.append((node, True))
                stack.extend((v.owner, False) for v in node.inputs if v.owner is not None and self._known(v) is None)
                continue
            if self._known(node.outputs[0]) is not None and not rewire_known:
                continue
            self._place(node, [self._known(v) for v in node.inputs], rewire_known)
        return self._known(var)

    def _place(self, node: Apply, refs: list[Ref], rewire_known: bool) -> None:
        i = self.memo.get(node)
        if rewire_known and i is not None and self.form.get(i) is node:
            for pos, ref in enumerate(refs):
                self.set_input(i, pos, ref, same_object=True)
            self.index[(node.op, tuple(refs))] = i
            return
        i = self.index.get((node.op, tuple(refs)))
        if i is None:
            i = self._new(node.op, refs, node)
        elif i in self.form and self.form[i] is not node:
            if not rewire_known:
                raise _Resync  # two objects of one structure: never, while the forms are right
            self._drop_form(i)  # a whole graph is the truth
        self.form[i] = node
        self.memo[node] = i

    # --- whole graphs ----------------------------------------------------------------------------------------
    def sync(self, outputs: Sequence[Variable], index: int) -> IdDelta:
        """Make the graph that of ``outputs``: their nodes keep the ids of the nodes of their structure (or of
        their object), the others get new ids; returns the delta, numbered ``index``."""
        self.resync_to(outputs)
        return self.finish(index)

    def resync_to(self, outputs: Sequence[Variable]) -> list[Apply]:
        """:meth:`sync` without finishing the step; returns the toposort of ``outputs``."""
        order = toposort(outputs)
        for node in order:
            self.work += 1
            self._place(node, [self.resolve(v) if v.owner is None else self._known(v) for v in node.inputs],
                        rewire_known=True)
        refs = [self.resolve(v) for v in outputs]
        if len(self.outputs) != len(refs):
            for ref in refs:
                self._link(ref[0], None)
            for old in self.outputs:
                self._unlink(old[0], None)
            self.outputs = list(refs)
            self._log.outputs = dict(enumerate(refs))
        for slot, ref in enumerate(refs):
            self.set_output(slot, ref)
        return order

    def finish(self, index: int, resynced: bool = False) -> IdDelta:
        """Drop what nothing reads any more and return the netted changes since the last :meth:`finish`."""
        log = self._log
        while self._zero:
            i = self._zero.pop()  # _remove may append more
            if i in self.refs and not self.refs[i]:
                self._remove(i)
        created = [IdNode(i, self.form[i], tuple(self.ins[i])) for i in log.created if i in self.op]
        rewired = [(i, pos, ref) for (i, pos), ref in log.rewired.items() if i in self.op]
        delta = IdDelta(index, created, log.removed, rewired, sorted(log.outputs.items()), resynced)
        self._log = _Log()
        return delta

    def _remove(self, i: int) -> None:
        self.work += 1
        key = (self.op[i], tuple(self.ins[i]))
        if self.index.get(key) == i:
            del self.index[key]
        self._drop_form(i)
        for j, _ in self.ins[i]:
            self._unlink(j, i)
        for table in (self.op, self.ins, self.users, self.refs):
            del table[i]
        if self._log.created.pop(i, 0) is not None:
            self._log.removed.append(i)


class IdWalk(IdGraph):
    """Replays a Trace on one IdGraph: :meth:`step` gives each step's IdDelta."""

    def __init__(self, trace: Trace):
        super().__init__()
        self.trace = trace
        self.pass_id: int | None = None
        self.resyncs = 0
        self.resynced_pass: int | None = None
        self.pass_first = 0
        if trace.passes and tuple(trace.passes[0][1]) == trace.initial.outputs:
            self.begin_pass(0)  # one walk of the initial graph for both
            self.initial = self.finish(-1)
        else:
            self.initial = self.sync(trace.initial.outputs, -1)

    def begin_pass(self, pass_id: int) -> None:
        _, start = self.trace.passes[pass_id]
        self.pass_id = pass_id
        self.start_users: dict[Variable, list[tuple[int, int]]] = {}
        self.start_slots: dict[Variable, list[int]] = {}
        self.merged: set[int] = set()  # the ids of this pass that merges touched
        for node in self.resync_to(start):
            i = self.memo[node]
            for pos, var in enumerate(node.inputs):
                self.start_users.setdefault(var, []).append((i, pos))
        for slot, var in enumerate(start):
            self.start_slots.setdefault(var, []).append(slot)
        self.pass_first = self.next_id  # ids made from here on are held by replacements, never rebuilt

    def step(self, k: int) -> IdDelta:
        step = self.trace.steps[k]
        if step.pass_id != self.pass_id:
            self.begin_pass(step.pass_id)
        try:
            if self.resynced_pass == step.pass_id:
                raise _Resync  # after a resync the start nodes' ids are not followed any more: stay on graphs
            self._apply(step.origin_replacements)
            return self.finish(k)
        except _Resync:
            self.resyncs += 1
            self.resynced_pass = step.pass_id
            self.resync_to(self.trace.graph_after(k).outputs)
            return self.finish(k, resynced=True)

    def _apply(self, pairs: Sequence[tuple[Variable, Variable]]) -> None:
        refs = [self.resolve(new) for _, new in pairs]
        changed: list[int] = []
        for (origin, _), ref in zip(pairs, refs, strict=True):
            for i, pos in self.start_users.get(origin, ()):
                if i in self.merged:
                    raise _Resync  # a merged node rebuilt again: the merge may come apart
                if i in self.op and self.ins[i][pos] != ref:
                    self.set_input(i, pos, ref)
                    changed.append(i)
            for slot in self.start_slots.get(origin, ()):
                self.set_output(slot, ref)
        held = self._forget_forms(changed)
        self._merge(changed)
        if held:
            raise _Resync  # a replacement of this pass holds a node as it was before this step rebuilt it

    def _forget_forms(self, changed: list[int]) -> bool:
        """The objects of the rebuilt nodes and of every user whose object is known are new now; returns
        whether a node that a replacement of this pass made reads one of them (it keeps the object it had)."""
        stack, held = list(changed), False
        while stack:
            i = stack.pop()
            self.work += 1
            self._drop_form(i)
            users = self.users.get(i, ())
            self.work += len(users)
            for user in users:
                if user >= self.pass_first:
                    held = True
                elif user in self.form:
                    stack.append(user)
        return held

    def _merge(self, changed: list[int]) -> None:
        """Index the rebuilt nodes; one whose structure a node of the graph has already becomes that node."""
        stack = list(changed)
        while stack:
            i = stack.pop()
            if i not in self.op:
                continue
            key = (self.op[i], tuple(self.ins[i]))
            keep = self.index.get(key)
            if keep is None or keep == i:
                self.index[key] = i
                continue
            self.merged.update((i, keep))
            for user in list(self.users[i]):
                for pos, (j, out) in enumerate(self.ins[user]):
                    if j == i:
                        self.set_input(user, pos, (keep, out), same_object=True)
                stack.append(user)
            for slot, (j, out) in enumerate(self.outputs):
                if j == i:
                    self.set_output(slot, (keep, out))


def is_graph_of(walk: IdGraph, outputs: Sequence[Variable]) -> bool:
    """Whether ``outputs`` are those of the graph of ``walk`` (walking only the objects it does not know)."""
    same = len(outputs) == len(walk.outputs) and [walk.resolve(v) for v in outputs] == walk.outputs
    walk.finish(-1)  # drop what resolving made
    return same


def walk_ids(trace: Trace) -> Iterator[IdDelta]:
    """The id-space history of ``trace``: the IdDelta of its initial graph (index ``-1``, every node created),
    then one per step, in total time proportional to the changes (plus a walk of the graph per pass).

    Examples
    --------
    >>> import graphwright as gw
    >>> v = gw.vector("v")
    >>> _, trace = gw.rewrite(gw.exp(gw.exp(v) * 1.0))
    >>> [(d.index, len(d.created), d.removed, d.rewired) for d in walk_ids(trace)]  # mul_one, then exp(exp)
    [(-1, 5, [], []), (0, 0, [3, 2], [(4, 0, (1, 0))]), (1, 1, [4, 1], [])]
    """
    walk = IdWalk(trace)
    yield walk.initial
    for k in range(len(trace.steps)):
        yield walk.step(k)
