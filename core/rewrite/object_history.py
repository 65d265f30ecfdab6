"""The object-level history of a Trace: :class:`GraphState`, a graph edited in place (its node set with
reference counts, the users of each variable, its output positions), and :class:`ObjectWalk`, which replays the
steps on one GraphState and finds each step's created, rebuilt and removed nodes exactly as ``Trace.changes``
does from whole graphs, in time proportional to them.

Those lists are as long as the objects a step rebuilt, so a step deep in a chain costs the rest of the chain:
the history itself lives in id space (:mod:`graphwright.rewrite.id_history`); :class:`ObjectFields` serves
the object-level fields of StepDelta, from this walk when they are read in step order, else from the step's
whole graphs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import toposort

if TYPE_CHECKING:
    from graphwright.rewrite.trace import StepChanges, Trace

__all__ = ["GraphState", "ObjectWalk", "ObjectFields"]


def _key(var: Variable) -> Apply | Variable:
    return var.owner if var.owner is not None else var


class GraphState:
    """A graph edited in place: nodes with reference counts, the users of each variable, output positions.

    Every update costs time proportional to the nodes that enter or leave the graph. :meth:`mark` remembers
    the users as they are, so that :meth:`users_at_mark` answers for the graph of that moment.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> state = GraphState([gw.exp(x) + 1])
    >>> len(state), gw.exp(x).owner in state
    (2, True)
    >>> entered, left = state.set_outputs([(0, gw.log(gw.exp(x)))])
    >>> [n.op.short_name() for n in entered], [n.op.short_name() for n in left]
    (['log'], ['add'])
    """

    def __init__(self, outputs: Sequence[Variable]):
        self.outputs: list[Variable] = []
        self._refs: dict[Apply, int] = {}
        self._users: dict[Apply | Variable, set[Apply]] = {}
        self._slots: dict[Variable, list[int]] = {}
        self._saved: dict[Apply | Variable, set[Apply]] | None = None
        entered: list[Apply] = []
        for slot, var in enumerate(outputs):
            self.outputs.append(var)
            self._slots.setdefault(var, []).append(slot)
            self._incref(var, entered)

    def __contains__(self, node: object) -> bool:
        return node in self._refs

    def __len__(self) -> int:
        return len(self._refs)

    def slots_of(self, var: Variable) -> list[int]:
        """The output positions holding ``var``."""
        return self._slots.get(var, [])

    def users(self, var: Variable) -> list[Apply]:
        """The nodes of the graph that take ``var`` as an input."""
        return [n for n in self._users.get(_key(var), ()) if any(v is var for v in n.inputs)]

    def users_of_any(self, variables: Iterable[Variable], at_mark: bool = False) -> list[Apply]:
        """The nodes that take any of ``variables`` as an input (in the graph as it was at :meth:`mark`, with
        ``at_mark``); the users of a node are looked at once however many of its outputs are asked about."""
        wanted: dict[Apply | Variable, set[int]] = {}
        for var in variables:
            wanted.setdefault(_key(var), set()).add(id(var))
        found = []
        for key, ids in wanted.items():
            users = self.users_at_mark(key) if at_mark else self._users.get(key, ())
            found.extend(n for n in users if any(id(v) in ids for v in n.inputs))
        return found

    def node_users(self, node: Apply) -> Iterable[Apply]:
        """The nodes of the graph that take any output of ``node`` as an input."""
        return self._users.get(node, ())

    def mark(self) -> None:
        """Remember the users as they are now (see :meth:`users_at_mark`)."""
        self._saved = {}

    def users_at_mark(self, key: Apply | Variable) -> Iterable[Apply]:
        """The users of a node (or of an input or constant) in the graph as it was at :meth:`mark`."""
        if self._saved is not None and key in self._saved:
            return self._saved[key]
        return self._users.get(key, ())

    def _touch(self, key: Apply | Variable) -> set[Apply]:
        users = self._users.get(key)
        if users is None:
            users = self._users[key] = set()
        if self._saved is not None and key not in self._saved:
            self._saved[key] = set(users)
        return users

    def _incref(self, var: Variable, entered: list[Apply]) -> None:
        stack = [var]
        refs = self._refs
        while stack:
            node = stack.pop().owner
            if node is None:
                continue
            if node in refs:
                refs[node] += 1
                continue
            refs[node] = 1
            entered.append(node)
            for inp in node.inputs:
                self._touch(_key(inp)).add(node)
                stack.append(inp)

    def _decref(self, var: Variable, left: list[Apply]) -> None:
        stack = [var]
        refs = self._refs
        while stack:
            node = stack.pop().owner
            if node is None:
                continue
            refs[node] -= 1
            if refs[node]:
                continue
            del refs[node]
            left.append(node)
            for inp in node.inputs:
                self._touch(_key(inp)).discard(node)
                stack.append(inp)

    def set_outputs(self, changes: Sequence[tuple[int, Variable]]) -> tuple[list[Apply], list[Apply]]:
        """Put each ``(position, variable)`` of ``changes`` in the outputs; returns the nodes that entered the
        graph and those that left it (in no particular order)."""
        entered: list[Apply] = []
        left: list[Apply] = []
        old_vars = []
        for slot, var in changes:
            old = self.outputs[slot]
            old_vars.append(old)
            self.outputs[slot] = var
            self._slots[old].remove(slot)
            if not self._slots[old]:
                del self._slots[old]
            self._slots.setdefault(var, []).append(slot)
            self._incref(var, entered)
        for old in old_vars:
            self._decref(old, left)
        return entered, left


class ObjectWalk:
    """Replays the steps of a Trace on one GraphState: each step's object-level changes, in time proportional
    to them (for a step deep in a chain, the rest of the chain: read in order, :class:`ObjectFields`)."""

    def __init__(self, trace: Trace):
        self.trace = trace
        self.state = GraphState(trace.initial.outputs)
        self.pass_id: int | None = None
        self.cur: dict[Variable, Variable] = {}  # variable of the pass-start graph -> its current form
        self.pinned: set[Variable] = set()  # those a step of this pass replaced
        self.start_slots: dict[Variable, list[int]] = {}
        self.memo: dict[tuple[int, ...], Apply] = {}

    def begin_pass(self, pass_id: int) -> None:
        _, start = self.trace.passes[pass_id]
        state = self.state
        if len(start) == len(state.outputs):
            moved = [(i, v) for i, v in enumerate(start) if v is not state.outputs[i]]
            if moved:  # the pass did not start from the graph of the step before (never seen): follow it
                state.set_outputs(moved)
        state.mark()
        self.pass_id = pass_id
        self.cur, self.pinned = {}, set()
        self.start_slots = {}
        for slot, var in enumerate(start):
            self.start_slots.setdefault(var, []).append(slot)

    def make(self, node: Apply, inputs: list[Variable]) -> Apply:
        """``node``'s op on ``inputs`` (as ``replace`` makes it), once per step for equal arguments."""
        key = (id(node.op), *map(id, inputs))
        made = self.memo.get(key)
        if made is None:
            made = self.memo[key] = node.op.make_node(*inputs)
        return made

    def var_rebuild(self, pairs: Sequence[tuple[Variable, Variable]]) -> dict[Apply, Apply]:
        """Old node -> rebuilt node of ``replace(before.outputs, dict(pairs))``, in its order."""
        state = self.state
        affected: set[Apply] = set()
        stack = state.users_of_any(replaced for replaced, _ in pairs)
        while stack:
            node = stack.pop()
            if node not in affected:
                affected.add(node)
                stack.extend(state.node_users(node))
        if not affected:
            return {}
        slots = sorted({s for n in affected for o in n.outputs for s in state.slots_of(o)})
        new: dict[Variable, Variable] = dict(pairs)
        node_map: dict[Apply, Apply] = {}
        for node in toposort([state.outputs[s] for s in slots], inside=affected.__contains__):
            ins = [new.get(v, v) for v in node.inputs]
            if any(a is not b for a, b in zip(ins, node.inputs, strict=True)):
                rebuilt = node_map[node] = self.make(node, ins)
                for o_old, o_new in zip(node.outputs, rebuilt.outputs, strict=True):
                    new.setdefault(o_old, o_new)
        return node_map

    def propagate(self, pairs: Sequence[tuple[Variable, Variable]]) -> list[tuple[int, Variable]]:
        """Set each ``origin`` of ``pairs`` (variables of the pass-start graph) to its replacement and rebuild
        what depends on them, as ``replace(start, mapping)`` does; returns the changed output positions, in
        order."""
        state, cur, pinned = self.state, self.cur, self.pinned
        for origin, replacement in pairs:
            cur[origin] = replacement
            pinned.add(origin)
        stack = state.users_of_any((origin for origin, _ in pairs), at_mark=True)
        affected: set[Apply] = set()
        while stack:
            node = stack.pop()
            if node in affected or all(o in pinned for o in node.outputs):
                continue
            affected.add(node)
            stack.extend(state.users_at_mark(node))
        order = toposort([n.outputs[0] for n in affected], inside=affected.__contains__)
        for node in order:
            ins = [cur.get(v, v) for v in node.inputs]
            changed = any(a is not b for a, b in zip(ins, node.inputs, strict=True))
            made = self.make(node, ins) if changed else node
            for o_old, o_new in zip(node.outputs, made.outputs, strict=True):
                if o_old in pinned:
                    continue
                if o_new is o_old:
                    cur.pop(o_old, None)
                else:
                    cur[o_old] = o_new
        moved: dict[int, Variable] = {}
        for var in [*(origin for origin, _ in pairs), *(o for n in order for o in n.outputs)]:
            for slot in self.start_slots.get(var, ()):
                now = cur.get(var, var)
                if now is not state.outputs[slot]:
                    moved[slot] = now
        return sorted(moved.items(), key=lambda item: item[0])

    def step(self, k: int) -> tuple[StepChanges, list, list[Apply], list[Apply]]:
        """Step ``k``'s changes, changed output slots, entered and left nodes; ``state`` is the graph after."""
        from graphwright.rewrite.trace import StepChanges

        step = self.trace.steps[k]
        if step.pass_id != self.pass_id:
            self.begin_pass(step.pass_id)
        state = self.state
        self.memo = {}
        node_map = self.var_rebuild(step.replacements)
        fresh = toposort([new for _, new in step.replacements], inside=lambda n: n not in state)
        moved = self.propagate(step.origin_replacements)
        slots = [(slot, state.outputs[slot], var) for slot, var in moved]
        entered, left = state.set_outputs(moved)
        entered_set, left_set = set(entered), set(left)
        entered = toposort([after for _, _, after in slots], inside=entered_set.__contains__)
        left = toposort([before for _, before, _ in slots], inside=left_set.__contains__)
        rebuilt = {old: new for old, new in node_map.items() if new in state}
        rebuilt_new = set(rebuilt.values())
        created = [n for n in fresh if n not in rebuilt_new]
        removed = [n for n in left if n not in rebuilt]
        self.memo = {}
        return StepChanges(created, rebuilt, removed), slots, entered, left


class ObjectFields:
    """The object-level fields of a Trace's steps: step ``k`` from the ObjectWalk when the walk is at step
    ``k - 1`` (reading steps in order costs what they changed), else None (the caller uses whole graphs).

    Examples
    --------
    >>> import graphwright as gw
    >>> _, trace = gw.rewrite(gw.log(1 + gw.exp(gw.vector("x"))) * 1)
    >>> fields = ObjectFields(trace)
    >>> [len(fields.at(k)[0].removed) for k in (0, 1)], fields.at(0)
    ([1, 3], None)
    """

    def __init__(self, trace: Trace):
        self.trace = trace
        self.position = -1
        self._walk: ObjectWalk | None = None
        self._last: tuple[int, Any] | None = None

    def at(self, k: int) -> tuple[StepChanges, list, list[Apply], list[Apply]] | None:
        """Step ``k``'s (changes, slots, entered, left) when the walk can reach it at once, else None."""
        if self._last is not None and self._last[0] == k:
            return self._last[1]
        if k != self.position + 1:
            return None
        if self._walk is None:
            self._walk = ObjectWalk(self.trace)
        found = self._walk.step(k)
        self.position, self._last = k, (k, found)
        return found

    def state(self, k: int) -> GraphState | None:
        """The GraphState after step ``k`` while the walk is there (it changes when the walk goes on)."""
        return self._walk.state if self._walk is not None and self.position == k else None
