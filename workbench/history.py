"""The graphs of a rewrite Trace as the workbench shows them, built when first asked for, each with the form
every node of its pass's start graph has in it (the node ids of workbench.step_ids come from the core's
id-space history instead, and never build a graph)."""

from __future__ import annotations

from collections.abc import Sequence

from graphwright.graph.basic import Apply, Variable
from graphwright.graph.graph import Graph, replace, toposort
from graphwright.rewrite.trace import Step, Trace

__all__ = ["TraceGraphs"]


class TraceGraphs:
    """The graph after each step of ``trace``, made on demand, with the forms of its pass's start nodes.

    A step of a pass replaces variables of the graph the pass started from, so the graph after step ``k`` is
    that start graph rebuilt under the pass's replacements so far; :meth:`forms` says which node each start
    node became (only those rebuilt). One graph costs time proportional to its size and to the steps of its
    pass, whichever graphs were made before; nothing is made at construction.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> g = Graph([x], [gw.exp(gw.log(1 + x)) * 2])
    >>> _, trace = gw.rewrite(g, phases="stabilize")
    >>> graphs = TraceGraphs(trace)
    >>> graphs.built(0) is None, graphs.after(0).outputs[0]
    (True, exp(log1p(x)) * 2)
    >>> graphs.forms(0)[g.outputs[0].owner] is graphs.after(0).outputs[0].owner  # the mul node, rewired
    True
    """

    def __init__(self, trace: Trace):
        self.trace = trace
        self.first: dict[int, int] = {}  # pass -> its first step
        self.last: dict[int, int] = {}  # pass -> its last step
        for k, step in enumerate(trace.steps):
            self.first.setdefault(step.pass_id, k)
            self.last[step.pass_id] = k
        self._forms: dict[int, dict[Apply, Apply]] = {}  # step -> {node of the pass start: its form there}
        self._start_nodes: dict[int, list[Apply]] = {}  # pass -> the toposort of the graph it started from
        self._graphs: dict[int, Graph] = {}

    def built(self, k: int) -> Graph | None:
        """The graph after step ``k`` if it was built already, else None."""
        return self.trace.initial if k < 0 else self._graphs.get(k)

    def start(self, pass_id: int) -> Graph:
        """The graph pass ``pass_id`` started from (its inputs are those of the trace's initial graph)."""
        _, start = self.trace.passes[pass_id]
        initial = self.trace.initial
        return initial if tuple(start) == initial.outputs else Graph(initial.inputs, list(start))

    def forms(self, k: int) -> dict[Apply, Apply]:
        """Node of the start graph of step ``k``'s pass -> the node it became after step ``k`` (rebuilt ones)."""
        self.after(k)
        return self._forms[k]

    def after(self, k: int) -> Graph:
        """The graph after step ``k`` (``-1``: the initial graph)."""
        if k < 0:
            return self.trace.initial
        found = self._graphs.get(k)
        if found is not None:
            return found
        trace = self.trace
        step = trace.steps[k]
        first = self.first[step.pass_id]
        forms, outputs = self._forms_after(step.pass_id, trace.steps[first:k + 1])
        graph = trace._graphs.get(k)
        if graph is None or graph.outputs != tuple(outputs):
            final = trace.final
            graph = final if final is not None and final.outputs == tuple(outputs) else Graph(
                trace.initial.inputs, outputs)
            trace._graphs[k] = graph
        self._forms[k] = forms
        self._graphs[k] = graph
        return graph

    def _forms_after(self, pass_id: int, steps: Sequence[Step]) -> tuple[dict[Apply, Apply], list[Variable]]:
        """The form of every node of the pass's start graph after ``steps`` (those rebuilt: start node -> its
        form) and the outputs then, as ``replace(start, mapping)`` makes them. Nodes that the outputs no longer
        reach are rebuilt too: a later step's replacement may hold them."""
        _, start = self.trace.passes[pass_id]
        nodes = self._start_nodes.get(pass_id)
        if nodes is None:
            nodes = self._start_nodes[pass_id] = toposort(start)
        mapping: dict[Variable, Variable] = {o: r for s in steps for o, r in s.origin_replacements}
        new = dict(mapping)
        forms: dict[Apply, Apply] = {}
        failed = False
        for node in nodes:
            ins = [new.get(v, v) for v in node.inputs]
            if all(a is b for a, b in zip(ins, node.inputs, strict=True)):
                continue
            try:
                made = node.op.make_node(*ins)
            except Exception:  # noqa: BLE001 - fine where no output reaches the node: checked below
                failed = True
                continue
            forms[node] = made
            for o_old, o_new in zip(node.outputs, made.outputs, strict=True):
                new.setdefault(o_old, o_new)
        if failed:  # replace builds only what the outputs reach: it raises if a failed node is among them
            return forms, replace(list(start), mapping)
        return forms, [new.get(v, v) for v in start]
