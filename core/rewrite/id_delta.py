"""The records of the id-space history (:mod:`graphwright.rewrite.id_history`): refs, the nodes that entered
the graph and the netted delta of one step."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphwright.graph.basic import Apply, Variable

__all__ = ["Ref", "IdNode", "IdDelta"]

Ref = tuple[int, int]  # (node id, output index)


@dataclass(frozen=True)
class IdNode:
    """A node that entered the graph: its id, the object it stands for then (an Apply, or the Variable of a
    leaf) and its input refs (empty for a leaf)."""

    id: int
    obj: Apply | Variable
    inputs: tuple[Ref, ...]


@dataclass
class IdDelta:
    """What one step (``index``; ``-1``: the initial graph) changed in id space: ``created`` nodes (inputs
    before users), ``removed`` ids, ``rewired`` edges ``(node id, input position, new input)`` of nodes that
    were in the graph before and stay, and ``outputs`` ``(position, new ref)``."""

    index: int
    created: list[IdNode] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    rewired: list[tuple[int, int, Ref]] = field(default_factory=list)
    outputs: list[tuple[int, Ref]] = field(default_factory=list)
    resynced: bool = False

    def __len__(self) -> int:
        return len(self.created) + len(self.removed) + len(self.rewired) + len(self.outputs)
