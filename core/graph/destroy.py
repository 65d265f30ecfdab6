"""In-place execution: the ``InPlace`` op wrapper and the alias analysis that says when overwriting is safe.

``InPlace(op, ((out, in), ...))`` computes exactly what ``op`` computes, and gives the backend permission to
write output ``out`` into the buffer of input ``in`` (a backend may ignore it). The in-place phase
(:mod:`graphwright.rules.inplace`) wraps nodes where that is safe; :class:`AliasTracker` decides, in one
topological sweep, and the compiler re-checks a finished graph with :func:`destroy_problems`.

Overwriting input ``v`` of node ``N`` is safe when the buffer ``v`` lives in (its *root*):

* was allocated by the graph: not a constant, not a caller's input (unless the caller marked it mutable) and
  ``v`` is not a view (views are never overwritten, only counted as readers of their root);
* is read by no node that runs after ``N``: every other node reading any alias of the root (the root, views
  of it, earlier in-place results in it) comes before ``N`` in the graph's execution order, its
  :attr:`~graphwright.graph.Graph.toposort` (deterministic: a function of the outputs alone), which is the
  order every backend runs the nodes in. (An ancestor test would allow any order but costs a bitset of all
  earlier nodes per node, quadratic in the graph; a graph whose order changes, because it was compiled with
  other outputs, is checked again by the compiler with :func:`destroy_problems`.);
* is no graph output (the caller would get the overwritten values), and ``N`` reads no *other* alias of it
  (a transposed view of the buffer being overwritten would be read after it changes);
* is not read, inside ``N``, after the output is written: a multi-output node may refuse a pair through its
  ``overwrite_refusal(out, in)`` (a composite output written element by element into an input it does not
  read would clobber the element another output reads next; see ``Composite.writable_inputs``).

The tracker keeps, per buffer, the last reader position and whether an alias is a graph output, updated as
each node is added, so each question costs O(the node's inputs) and a sweep is linear in the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphwright.graph.basic import Apply, Constant, Op, Variable
from graphwright.graph.graph import Graph

__all__ = ["InPlace", "AliasTracker", "destroy_problems", "plain_node", "plain_op"]


@dataclass(frozen=True)
class InPlace(Op):
    """``op``, allowed to write output ``o`` into input ``i`` for each ``(o, i)`` of ``destroy``.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.elemwise import Elemwise
    >>> from graphwright.tensor.scalar_ops import SCALAR_OPS
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> InPlace(Elemwise(SCALAR_OPS["mul"]), ((0, 0),)).short_name()
    'mul[inplace i0]'
    """

    op: Op
    destroy: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if isinstance(self.op, InPlace):
            raise TypeError("InPlace wraps a plain op, not another InPlace")
        outs = [o for o, _ in self.destroy]
        ins = [i for _, i in self.destroy]
        if not self.destroy or len(set(outs)) != len(outs) or len(set(ins)) != len(ins):
            raise ValueError(f"InPlace({self.op.short_name()}): destroy pairs {self.destroy} must be a non-empty "
                             "list of (output, input) with each output and each input at most once")

    @property
    def nout(self) -> int:  # type: ignore[override]
        return self.op.nout

    @property
    def types_follow_input_types(self) -> bool:  # type: ignore[override]
        return self.op.types_follow_input_types

    @property
    def destroy_map(self) -> dict[int, int]:
        return dict(self.destroy)

    def make_node(self, *inputs: Any) -> Apply:
        inner = self.op.make_node(*inputs)
        for o, i in self.destroy:
            if o >= len(inner.outputs) or i >= len(inner.inputs):
                raise ValueError(f"{self.short_name()}: no output {o} / input {i} on a node with "
                                 f"{len(inner.outputs)} outputs and {len(inner.inputs)} inputs")
        return Apply.create(self, inner.inputs, [o.type for o in inner.outputs])

    def perform(self, *inputs: Any) -> Any:
        return self.op.perform(*inputs)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return self.op.infer_shape(plain_node(node), input_shapes)

    def pullback(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        return self.op.pullback(plain_node(node), output_grads)

    def vectorize(self, node: Apply, inputs: Sequence[Variable], batch_ndims: Sequence[int]) -> list[Variable]:
        return self.op.vectorize(plain_node(node), inputs, batch_ndims)

    def short_name(self) -> str:
        if len(self.destroy) == 1 and self.destroy[0][0] == 0:
            return f"{self.op.short_name()}[inplace i{self.destroy[0][1]}]"
        return f"{self.op.short_name()}[inplace {' '.join(f'o{o}:i{i}' for o, i in self.destroy)}]"

    def str_form(self, args: list[str]) -> str:
        return self.op.str_form(args)


def plain_op(node: Apply) -> Op:
    """The op ``node`` computes, without an ``InPlace`` wrapper (what backends dispatch on)."""
    return node.op.op if isinstance(node.op, InPlace) else node.op


def plain_node(node: Apply) -> Apply:
    """The same computation without permission to overwrite: the wrapped op on the same inputs."""
    return node.op.op.make_node(*node.inputs) if isinstance(node.op, InPlace) else node


@dataclass
class _Buffer:
    """What the tracker knows about one buffer (a root): its last reader, and a graph output living in it."""

    last_reader: int = -1  # position of the last node reading any alias (-1: none)
    reader: tuple[Apply, Variable] | None = None  # that node, and the alias it reads
    output: Variable | None = None  # an alias that is a graph output


class AliasTracker:
    """Which buffer each variable of a graph lives in, built node by node in topological order.

    Call :meth:`why_not` (or :meth:`refusal`, which does not format a message) before :meth:`add` for each
    node; in-place decisions made through ``add`` are taken into account for the nodes after it.
    """

    def __init__(self, graph: Graph, mutable: Iterable[Variable] = ()):
        self.nodes = graph.toposort
        self.position = {node: k for k, node in enumerate(self.nodes)}
        self.clients = graph.clients
        self.outputs = set(graph.outputs)
        self.mutable = set(mutable)
        self.roots: dict[Variable, frozenset[Variable]] = {}
        self.buffers: dict[Variable, _Buffer] = {}  # root -> what is known about its buffer
        self._added = 0
        self._reading: tuple[Apply | None, dict] = (None, {})  # _readers_of's answer for the last node asked

    def _roots_of(self, v: Variable) -> frozenset[Variable]:
        known = self.roots.get(v)
        if known is None:  # a graph input or a constant: its own buffer
            known = self.roots[v] = frozenset((v,))
            self._record_alias(v, v)
        return known

    def _record_alias(self, root: Variable, alias: Variable) -> None:
        """``alias`` may live in ``root``'s buffer: its readers and output status become the buffer's."""
        buffer = self.buffers.get(root)
        if buffer is None:
            buffer = self.buffers[root] = _Buffer()
        if alias in self.outputs and buffer.output is None:
            buffer.output = alias
        for client, _ in self.clients.get(alias, ()):
            p = self.position[client]
            if p > buffer.last_reader:
                buffer.last_reader, buffer.reader = p, (client, alias)

    def why_not(self, node: Apply, out: int, inp: int, destroying: Sequence[int] = ()) -> str | None:
        """Why ``node`` may not write output ``out`` into input ``inp`` (None: it may). ``destroying`` lists
        inputs the same node already overwrites for other outputs."""
        reason = self.refusal(node, out, inp, destroying)
        return None if reason is None else reason[0].format(*reason[1:])

    def refusal(self, node: Apply, out: int, inp: int, destroying: Sequence[int] = (),
                claimed: set[Variable] | None = None) -> tuple | None:
        """:meth:`why_not` as ``(format string, *arguments)``, or None: nothing is printed, so the in-place
        sweep never formats the (possibly long) text of a variable it only skips. ``claimed``, if given, is
        the set of buffers (roots) the node already overwrites, instead of ``destroying``."""
        v = node.inputs[inp]
        if isinstance(v, Constant):
            return ("the input is a constant",)
        if v.owner is None and v not in self.mutable:
            return ("{} is an input of the function (mark it mutable to allow overwriting)", v)
        if v.owner is not None and v.owner.op.returns_view:
            return ("{} is a view of another buffer", v)
        roots = self._roots_of(v)
        if len(roots) != 1:
            return ("{} may live in several buffers", v)
        result = node.outputs[out]
        if v.type.dtype != result.type.dtype or v.type.ndim != result.type.ndim:
            return ("{} has type {}, the output {}", v, v.type.short(), result.type.short())
        op_refusal = getattr(plain_op(node), "overwrite_refusal", None)
        reason = None if op_refusal is None else op_refusal(out, inp)
        if reason is not None:  # inside the node: another output still reads the input after the write
            return reason
        (root,) = roots
        buffer = self.buffers[root]
        if buffer.output is not None:
            return ("{} (in the same buffer) is an output of the graph", buffer.output)
        for pos in self._readers_of(node).get(root, ()):
            if pos != inp:
                return ("the node also reads {} (input {}), which lives in the same buffer", node.inputs[pos], pos)
        if buffer.last_reader > self.position[node]:
            client, alias = buffer.reader
            return ("{} also reads {} and runs after", client.op.short_name(), alias)
        taken = claimed if claimed is not None else {r for k in destroying for r in self._roots_of(node.inputs[k])}
        if root in taken:
            return ("the node already overwrites that buffer for another output",)
        return None

    def _readers_of(self, node: Apply) -> dict[Variable, list[int]]:
        """For each buffer ``node`` reads, the positions of its inputs living there (computed once per node)."""
        if self._reading[0] is not node:
            reading: dict[Variable, list[int]] = {}
            for pos, v in enumerate(node.inputs):
                for r in self._roots_of(v):
                    reading.setdefault(r, []).append(pos)
            self._reading = (node, reading)
        return self._reading[1]

    def add(self, node: Apply, destroy: dict[int, int]) -> None:
        """Record ``node``'s outputs: in the destroyed input's buffer, views of all inputs' buffers, or new."""
        position, expected = self.position.get(node), self._added
        if position != expected:
            where = "is not a node of the tracked graph" if position is None else f"is node {position}"
            raise ValueError(f"AliasTracker.add: nodes must be added in topological order; {node} {where}, the "
                             f"next one to add is node {expected}")
        self._added += 1
        op = plain_op(node)
        view_roots = frozenset().union(*(self._roots_of(v) for v in node.inputs)) if op.returns_view else None
        shared = op.shared_outputs(plain_node(node))
        for k, o in enumerate(node.outputs):
            if k in destroy:
                roots = self._roots_of(node.inputs[destroy[k]])
                if k in shared:  # also the array of the earlier output (a hand-made permission; refused)
                    roots = roots | self.roots[node.outputs[shared[k]]]
            elif view_roots is not None:
                roots = view_roots
            elif k in shared:  # the same array as an earlier output
                roots = self.roots[node.outputs[shared[k]]]
            else:
                roots = frozenset((o,))
            self.roots[o] = roots
            for r in roots:
                self._record_alias(r, o)


def destroy_problems(graph: Graph, mutable: Iterable[Variable] = ()) -> list[str]:
    """Why the in-place nodes of ``graph`` would overwrite a value still needed (empty: none would).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.elemwise import Elemwise
    >>> from graphwright.tensor.scalar_ops import SCALAR_OPS
    >>> x = gw.vector("x")
    >>> bad = InPlace(Elemwise(SCALAR_OPS["exp"]), ((0, 0),))(x)
    >>> destroy_problems(Graph([x], [bad]))
    ['exp[inplace i0] may not overwrite input 0: x is an input of the function (mark it mutable to allow overwriting)']
    """
    tracker = AliasTracker(graph, mutable)
    problems = []
    for node in tracker.nodes:
        destroy = node.op.destroy_map if isinstance(node.op, InPlace) else {}
        done: list[int] = []
        for o, i in destroy.items():
            why = tracker.why_not(node, o, i, done)
            if why is not None:
                problems.append(f"{node.op.short_name()} may not overwrite input {i}: {why}")
            done.append(i)
        tracker.add(node, destroy)
    return problems
