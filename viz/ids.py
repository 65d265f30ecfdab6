"""Stable short node ids ("n0", "n1", ...) for Apply nodes and input/constant Variables, shared by DOT and widgets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph

__all__ = ["NodeIds", "drawable"]


class NodeIds:
    """Give every Apply node and every input or constant Variable a short id that stays the same.

    Ids are ``<prefix><number>`` in the order objects are first seen; they are valid XML ids and DOT ids.
    A Variable with an owner gets its owner's id (all outputs of a node are one drawn node). A node rebuilt by
    a rewrite step can keep the id of the node it replaces with :meth:`alias` (when it has no id of its own). The
    table holds strong references, so a number is never handed out twice, and an object's id never changes.
    One table cannot keep ids unique in every graph of a rewrite history (a hash-consed object can be a rebuilt
    node in one graph and a node of its own in another): a workbench session gives each graph its own table
    (``graphwright.workbench.step_ids.GraphIds``, a NodeIds).

    Parameters
    ----------
    prefix : the letters before the number; must start with a letter and hold only letters and digits.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> y = gw.exp(x)
    >>> ids = NodeIds()
    >>> ids.of(x), ids.of(y), ids.of(y.owner), ids.of(x)
    ('n0', 'n1', 'n1', 'n0')
    """

    def __init__(self, prefix: str = "n"):
        if not (prefix[:1].isalpha() and prefix.isalnum() and prefix.isascii()):
            raise ValueError(f"NodeIds prefix must be ASCII letters and digits starting with a letter, got {prefix!r}")
        self.prefix = prefix
        self._ids: dict[Apply | Variable, str] = {}
        self._next = 0

    @staticmethod
    def _key(obj: Apply | Variable) -> Apply | Variable:
        if isinstance(obj, Variable):
            return obj.owner if obj.owner is not None else obj
        if isinstance(obj, Apply):
            return obj
        raise TypeError(f"NodeIds: expected an Apply or a Variable, got {type(obj).__name__}: {obj!r}")

    def of(self, obj: Apply | Variable) -> str:
        """The id of a node or variable (a new one the first time it is seen).

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> NodeIds(prefix="v").of(x)
        'v0'
        """
        key = self._key(obj)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = f"{self.prefix}{self._next}"
            self._next += 1
        return found

    def alias(self, new: Apply, old: Apply) -> bool:
        """Give ``new`` the id of ``old`` (a node rebuilt by a rewrite keeps its identity on screen).

        Only a node without an id takes ``old``'s id (``old`` gets one first if it has none): nodes are
        hash-consed, so a "rebuilt" node may be one that already lives elsewhere in the graph, and it keeps its
        own id so that no two nodes of a graph share one. Returns whether ``new`` took ``old``'s id.

        Examples
        --------
        >>> import graphwright as gw
        >>> x, y = gw.vector("x"), gw.vector("y")
        >>> old, new = (gw.exp(x) + 1).owner, (gw.exp(y) + 1).owner
        >>> ids = NodeIds()
        >>> ids.alias(new, old)
        True
        >>> ids.of(new) == ids.of(old)
        True
        >>> ids.alias(new, gw.exp(x).owner)  # new has an id now: it keeps it
        False
        """
        key = self._key(new)
        if key in self._ids:
            self.of(old)
            return False
        self._ids[key] = self.of(old)
        return True

    def follow(self, rebuilt: Mapping[Apply, Apply], after: Graph) -> dict[Apply, Apply]:
        """Let the rebuilt nodes (old -> new) of a step whose result is ``after`` keep their old nodes' ids.

        A pair is left alone when it would put one id on two nodes of ``after``: when ``new`` already has an
        id (see :meth:`alias`), when ``old`` is still in ``after``, or when another node of ``after`` carries
        ``old``'s id. Returns the pairs that were aliased.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> before = gw.Graph([x], [gw.log(1 + gw.exp(x)) * 2, gw.softplus(x) * 2])
        >>> after = gw.Graph([x], [gw.softplus(x) * 2])
        >>> ids = NodeIds()
        >>> ids.assign(before)
        >>> old, new = before.outputs[0].owner, before.outputs[1].owner  # new is hash-consed: already there
        >>> ids.follow({old: new}, after), ids.of(old) != ids.of(new)
        ({}, True)
        """
        shown = list(drawable(after))
        live = set(shown)
        taken = {self._ids[obj] for obj in shown if obj in self._ids}
        aliased: dict[Apply, Apply] = {}
        for old, new in rebuilt.items():
            if old in live or new in self or self.of(old) in taken:
                continue
            self.alias(new, old)
            taken.add(self.of(old))
            aliased[old] = new
        return aliased

    def __contains__(self, obj: object) -> bool:
        if not isinstance(obj, Apply | Variable):
            return False
        return self._key(obj) in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def assign(self, graph: Graph) -> None:
        """Give ids to a whole graph in a fixed order: inputs, then nodes in topological order with their constants.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> ids = NodeIds()
        >>> ids.assign(gw.Graph([x], [gw.exp(x) * 2]))
        >>> [ids.of(v) for v in (x, gw.exp(x))], len(ids)
        (['n0', 'n1'], 4)
        """
        for obj in drawable(graph):
            self.of(obj)

    def find(self, node_id: str, graph: Graph) -> Apply | Variable | None:
        """The node or input/constant variable of ``graph`` with id ``node_id``, or None.

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> g = gw.Graph([x], [gw.exp(x)])
        >>> ids = NodeIds()
        >>> ids.find(ids.of(g.outputs[0]), g)
        Apply(exp, 1 inputs)
        """
        for obj in drawable(graph):
            if self._ids.get(obj) == node_id:
                return obj
        return None


def drawable(graph: Graph) -> Iterable[Apply | Variable]:
    """The objects a drawing shows, in id order: inputs, then each node after its not-yet-seen constants, then
    outputs without an owner that were not seen yet.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> list(drawable(gw.Graph([x], [gw.exp(x) + 1])))
    [x, Apply(exp, 1 inputs), 1, Apply(add, 2 inputs)]
    """
    seen: set[Variable] = set(graph.inputs)
    yield from graph.inputs
    for node in graph.toposort:
        for v in node.inputs:
            if v.owner is None and v not in seen:
                seen.add(v)
                yield v
        yield node
    for v in graph.outputs:
        if v.owner is None and v not in seen:
            seen.add(v)
            yield v
