"""A Trace's history in its JSON form: :class:`HistoryWriter` turns the id-space deltas of
:func:`graphwright.rewrite.id_history.walk_ids` into node-table keys, :class:`HistoryReplay` replays them.

A history node is keyed by the node-table entry of the object it stood for when it was created; an entry is
written once. Two nodes alive at once never share a key: a node created with an object whose entry is still
the key of a live node (a rule gave back an earlier form of a node that was rebuilt since) gets a second entry
for the same object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphwright.graph.basic import Apply
from graphwright.rewrite.id_history import IdDelta, Ref
from graphwright.serialize.tables import NodeTable
from graphwright.serialize.values import SerializeError

__all__ = ["HistoryWriter", "HistoryReplay"]


def _base(ref: Any) -> Any:
    return ref.partition(":")[0] if isinstance(ref, str) else ref


class HistoryWriter:
    """Writes IdDeltas with keys of ``table``: ``write(delta)`` gives ``created``, ``removed``, ``rewired`` and
    ``changed_outputs`` (the nodes first, into the table).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.rewrite.id_history import walk_ids
    >>> _, trace = gw.rewrite(gw.exp(gw.vector("v")) * 1.0)
    >>> writer = HistoryWriter(NodeTable())
    >>> [writer.write(d) for d in walk_ids(trace)][1]
    {'created': [], 'removed': ['n3', 'n2'], 'rewired': [], 'changed_outputs': [[0, 'n1']]}
    """

    def __init__(self, table: NodeTable):
        self.table = table
        self.keys: dict[int, str] = {}  # walk id -> key
        self.live: set[str] = set()

    def ref(self, ref: Ref) -> str:
        """The JSON reference of a walk ref ``(id, output)``."""
        key = self.keys[ref[0]]
        return key if ref[1] == 0 else f"{key}:{ref[1]}"

    def write(self, delta: IdDelta) -> dict[str, Any]:
        """The JSON form of one delta (``created`` first written into the table)."""
        removed = [self.keys.pop(i) for i in delta.removed]
        self.live.difference_update(removed)
        created, fixes = [], []
        for node in delta.created:
            var = node.obj.outputs[0] if isinstance(node.obj, Apply) else node.obj
            key = self.table.ref(var)
            if key in self.live:
                key = self.table.ref_again(var)
            self.keys[node.id] = key
            created.append(key)
            self.live.add(key)
            if isinstance(node.obj, Apply):
                written = [self.table.ref(v) for v in node.obj.inputs]
                fixes += [[key, pos, self.ref(ref)] for pos, ref in enumerate(node.inputs)
                          if self.ref(ref) != written[pos]]
        rewired = fixes + [[self.keys[i], pos, self.ref(ref)] for i, pos, ref in delta.rewired]
        return {"created": created, "removed": removed, "rewired": rewired,
                "changed_outputs": [[slot, self.ref(ref)] for slot, ref in delta.outputs]}


class HistoryReplay:
    """The graph of a written history, step by step: ``inputs`` (key -> its input references, empty for a
    leaf) and ``outputs``; :meth:`apply` replays one delta and checks that it names nodes of the graph.

    Examples
    --------
    >>> import graphwright as gw
    >>> _, trace = gw.rewrite(gw.exp(gw.vector("v")) * 1.0)
    >>> doc = trace.to_json()
    >>> replay = HistoryReplay(doc["nodes"])
    >>> replay.apply(doc["initial"], "initial", first=True)
    >>> replay.apply(doc["steps"][0], "step 0")
    >>> replay.outputs, replay.inputs
    (['n1'], {'n0': [], 'n1': ['n0']})
    """

    def __init__(self, entries: Sequence[Any]):
        self.entries = {e.get("id"): e for e in entries if isinstance(e, dict)}
        self.inputs: dict[str, list[Any]] = {}
        self.outputs: list[Any] = []

    def apply(self, delta: dict, where: str, first: bool = False) -> None:
        """Replay ``delta`` (``first``: the initial graph, whose ``outputs`` are all the output references)."""
        for key in delta.get("removed", []):
            if key not in self.inputs:
                raise SerializeError(f"{where}: removes {key!r}, which is not a node of the graph")
            del self.inputs[key]
        touched = []
        for key in delta["created"]:
            entry = self.entries.get(key)
            if entry is None or key in self.inputs:
                raise SerializeError(f"{where}: creates {key!r}, which is no entry or is in the graph already")
            self.inputs[key] = list(entry.get("inputs", [])) if entry.get("kind") == "apply" else []
            touched.append(key)
        for key, pos, ref in delta.get("rewired", []):
            ins = self.inputs.get(key)
            if ins is None or type(pos) is not int or not 0 <= pos < len(ins):
                raise SerializeError(f"{where}: rewires input {pos!r} of {key!r}, which the graph does not have")
            ins[pos] = ref
            touched.append(key)
        changed = list(enumerate(delta["outputs"])) if first else delta.get("changed_outputs", [])
        if first:
            self.outputs = list(delta["outputs"])
        for slot, ref in changed:
            if type(slot) is not int or not 0 <= slot < len(self.outputs):
                raise SerializeError(f"{where}: changes output {slot!r}; the graph has {len(self.outputs)}")
            self.outputs[slot] = ref
        self._check(where, [ref for key in touched for ref in self.inputs[key]] + [ref for _, ref in changed])

    def _check(self, where: str, refs: list[Any]) -> None:
        missing = [ref for ref in refs if _base(ref) not in self.inputs]
        if missing:
            raise SerializeError(f"{where}: {missing[0]!r} does not name a node of the graph after it")
