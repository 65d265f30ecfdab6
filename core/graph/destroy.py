"""In-place execution: the ``InPlace`` op wrapper and the alias analysis that says when overwriting is safe.

``InPlace(op, ((out, in), ...))`` computes exactly what ``op`` computes, and gives the backend permission to
write output ``out`` into the buffer of input ``in`` (a backend may ignore it). The in-place phase
(:mod:`graphwright.rules.inplace`) wraps nodes where that is safe; :class:`AliasTracker` decides, in one
topological sweep, and the compiler re-checks a finished graph with :func:`destroy_problems`.

Overwriting input ``v`` of node ``N`` is safe when the buffer ``v`` lives in (its *root*):

* was allocated by the graph: not a constant, not a caller's input (unless the caller marked it mutable) and
  ``v`` is not a view (views are never overwritten, only counted as readers of their root);
* is read by no node that may run after ``N``: every other node reading any alias of the root (the root, views
  of it, earlier in-place results in it) is an ancestor of ``N``, so any topological order runs it first;
* is no graph output (the caller would get the overwritten values), and ``N`` reads no *other* alias of it
  (a transposed view of the buffer being overwritten would be read after it changes).
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


class AliasTracker:
    """Which buffer each variable of a graph lives in, built node by node in topological order.

    Call :meth:`why_not` before :meth:`add` for each node; in-place decisions made through ``add`` are taken
    into account for the nodes after it.
    """

    def __init__(self, graph: Graph, mutable: Iterable[Variable] = ()):
        self.nodes = graph.toposort
        self.position = {node: k for k, node in enumerate(self.nodes)}
        self.clients = graph.clients
        self.outputs = set(graph.outputs)
        self.mutable = set(mutable)
        self.roots: dict[Variable, frozenset[Variable]] = {}
        self.aliases: dict[Variable, list[Variable]] = {}  # root -> variables that may live in its buffer
        self._ancestors: list[int] = []  # bitset per node position, filled as nodes are added

    def _roots_of(self, v: Variable) -> frozenset[Variable]:
        known = self.roots.get(v)
        if known is None:  # a graph input or a constant: its own buffer
            known = self.roots[v] = frozenset((v,))
            self.aliases.setdefault(v, []).append(v)
        return known

    def why_not(self, node: Apply, out: int, inp: int, destroying: Sequence[int] = ()) -> str | None:
        """Why ``node`` may not write output ``out`` into input ``inp`` (None: it may). ``destroying`` lists
        inputs the same node already overwrites for other outputs."""
        v = node.inputs[inp]
        if isinstance(v, Constant):
            return "the input is a constant"
        if v.owner is None and v not in self.mutable:
            return f"{v} is an input of the function (mark it mutable to allow overwriting)"
        if v.owner is not None and v.owner.op.returns_view:
            return f"{v} is a view of another buffer"
        roots = self._roots_of(v)
        if len(roots) != 1:
            return f"{v} may live in several buffers"
        if v.type.dtype != node.outputs[out].type.dtype or v.type.ndim != node.outputs[out].type.ndim:
            return f"{v} has type {v.type.short()}, the output {node.outputs[out].type.short()}"
        (root,) = roots
        ancestors = self._ancestor_bits(node)
        for alias in self.aliases[root]:
            if alias in self.outputs:
                return f"{alias} (in the same buffer) is an output of the graph"
            for client, pos in self.clients.get(alias, ()):
                if client is node:
                    if alias is not v or pos != inp:
                        return f"the node also reads {alias} (input {pos}), which lives in the same buffer"
                    continue
                if not ancestors >> self.position[client] & 1:
                    return f"{client.op.short_name()} also reads {alias} and may run after"
        for k in destroying:
            if self._roots_of(node.inputs[k]) & roots:
                return "the node already overwrites that buffer for another output"
        return None

    def _ancestor_bits(self, node: Apply) -> int:
        bits = 0
        for v in node.inputs:
            if v.owner is not None:
                p = self.position[v.owner]
                bits |= self._ancestors[p] | (1 << p)
        return bits

    def add(self, node: Apply, destroy: dict[int, int]) -> None:
        """Record ``node``'s outputs: in the destroyed input's buffer, views of all inputs' buffers, or new."""
        assert self.position[node] == len(self._ancestors), "nodes must be added in topological order"
        self._ancestors.append(self._ancestor_bits(node))
        op = plain_op(node)
        view_roots = frozenset().union(*(self._roots_of(v) for v in node.inputs)) if op.returns_view else None
        shared = op.shared_outputs(plain_node(node))
        for k, o in enumerate(node.outputs):
            if k in destroy:
                roots = self._roots_of(node.inputs[destroy[k]])
            elif view_roots is not None:
                roots = view_roots
            elif k in shared:  # the same array as an earlier output
                roots = self.roots[node.outputs[shared[k]]]
            else:
                roots = frozenset((o,))
            self.roots[o] = roots
            for r in roots:
                self.aliases.setdefault(r, []).append(o)


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
