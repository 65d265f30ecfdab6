"""What a rule may ask about the rewrite it runs in (:class:`RewriteContext`), and the type check every
replacement passes (:func:`type_problem`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import toposort

if TYPE_CHECKING:
    from graphwright.rewrite.rule import Rule

__all__ = ["RewriteContext", "type_problem"]


@dataclass
class RewriteContext:
    """What a function rule may ask about: the phase, the target backend, the graph inputs and client counts
    of the pass. ``backend`` is None in a backend-neutral rewrite (``gw.rewrite`` without ``backend=``)."""

    phase: str
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...] = ()  # the graph at the start of the pass
    mutable: frozenset[Variable] = frozenset()  # inputs the caller lets the graph overwrite
    nodes: Sequence[Apply] | None = None  # its toposort, when known
    backend: str | None = None  # the backend the graph is rewritten for
    _clients: dict[Variable, int] | None = None  # counted on the first question
    _origin: dict[Variable, Variable] = field(default_factory=dict)
    asked_clients: bool = False  # set when a rule asked n_clients (its answer may differ in the next pass)

    _sole: dict[Variable, Apply] | None = None  # variable -> its only client node, found on the first question
    # the node rules of this pass by root key: what the phase and the call's include/exclude selected, for a
    # rule that tries the others on a subexpression of its own making (stabilize's under_index)
    rule_table: dict[Any, list[Rule]] | None = None

    def n_clients(self, var: Variable) -> int:
        """How many nodes (plus graph outputs) use ``var`` in the graph as it was at the start of this pass."""
        self.asked_clients = True
        if self._clients is None:
            self._clients, self._sole = _client_counts(self.outputs, self.nodes)
        return self._clients.get(self._origin.get(var, var), 0)

    def sole_client(self, var: Variable) -> Apply | None:
        """The one node that uses ``var`` (as it was at the start of this pass), or None when ``var`` has no
        client, several, or is a graph output. The node is the pass's original: its inputs may since have
        been rebuilt, but its op has not changed.

        Examples
        --------
        >>> import graphwright as gw
        >>> a, b = gw.vector("a"), gw.vector("b")
        >>> inner = a + b
        >>> out = gw.exp(inner)
        >>> ctx = RewriteContext("canonicalize", (a, b), (out,))
        >>> ctx.sole_client(inner) is out.owner, ctx.sole_client(out)
        (True, None)
        """
        if self.n_clients(var) != 1:
            return None
        return self._sole.get(self._origin.get(var, var))


def type_problem(var: Variable, new: Any) -> str | None:
    """Why ``new`` may not replace ``var`` in a graph, or None when it may.

    The check every rewrite step (and every hand edit of the workbench) passes: the dtype must stay the same and
    the static shape may only get more specific, never drop or add a dimension, and an unknown length may not
    become a static 1 (which would broadcast where the old value did not). The old variable's type decides
    (``Type.replacement_problem``); a non-tensor type (a random generator) accepts only an equal type.

    Parameters
    ----------
    var : the variable to be replaced.
    new : the proposed replacement (anything; a non-Variable is a problem too).

    Returns
    -------
    str or None
        The problem in words (naming the old and new dtype or static shape), or None.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> type_problem(x, gw.exp(x)) is None
    True
    >>> type_problem(x, x.sum())
    'static shape changes from float64[?] to float64[]'
    >>> type_problem(x, gw.cast(x, "float32"))
    'dtype changes from float64 to float32'
    """
    if not isinstance(new, Variable):
        return f"the replacement is a {type(new).__name__}, not a variable"
    return var.type.replacement_problem(new.type)  # each type decides (Type.replacement_problem)


def _client_counts(outputs: Sequence[Variable], nodes: Sequence[Apply] | None = None
                   ) -> tuple[dict[Variable, int], dict[Variable, Apply]]:
    """How many uses each variable has (nodes and graph outputs), and the last node using each one."""
    counts: dict[Variable, int] = {}
    last: dict[Variable, Apply] = {}
    for node in toposort(outputs) if nodes is None else nodes:
        for v in node.inputs:
            counts[v] = counts.get(v, 0) + 1
            last[v] = node
    for v in outputs:
        counts[v] = counts.get(v, 0) + 1
    return counts, last
