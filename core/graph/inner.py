"""Inner graphs: the one form in which an op holds a graph (Composite today; scan, ifelse, op_from_graph next).

An :class:`InnerGraph` is ``(placeholders, outputs)``: ``placeholders`` are canonical variables keyed by
position and full type (:func:`placeholder`), so two inner graphs computing the same program from the same
types are built on the same variables, hash-consing makes their outputs the same variables, and the ops
holding them compare equal. It is closed: every leaf is one of its placeholders or a :class:`Constant`
(checked once, at construction). Everything that reads an inner graph goes through this module: the ordered
instructions of :meth:`InnerGraph.program` (what every backend's code generator consumes), :func:`evaluate`
(the reference), :func:`substitute` (inlining). No op walks its inner graph by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from graphwright.graph.basic import Apply, Constant, GraphError, Type, Variable
from graphwright.graph.graph import replace, toposort

__all__ = ["InnerGraph", "Instruction", "Program", "placeholder", "evaluate", "node_outputs",
           "substitute"]

_PLACEHOLDERS: dict[tuple[int, Type], Variable] = {}


def placeholder(index: int, type: Type) -> Variable:
    """The canonical inner input number ``index`` of type ``type``, named ``i<index>``.

    The same ``(index, type)`` always gives the same variable, so equal inner programs are equal graphs.

    Examples
    --------
    >>> from graphwright.tensor.type import TensorType
    >>> p = placeholder(0, TensorType("float64", (None,)))
    >>> p is placeholder(0, TensorType("float64", (None,))), p.name, p.type.short()
    (True, 'i0', 'float64[?]')
    """
    key = (index, type)
    var = _PLACEHOLDERS.get(key)
    if var is None:
        var = _PLACEHOLDERS[key] = type.make_variable(name=f"i{index}")
    return var


@dataclass(frozen=True)
class Instruction:
    """One step of an inner program: ``node`` applied to ``operands``.

    An operand is ``("input", k)`` (placeholder ``k``), ``("constant", c)`` (a Constant) or
    ``("value", step, j)`` (output ``j`` of instruction ``step``). ``last_reads`` are the operands'
    variables that no later instruction reads (nor the graph returns): their storage is free after this step.
    """

    position: int
    node: Apply
    operands: tuple[tuple, ...]
    last_reads: tuple[Variable, ...]


@dataclass(frozen=True)
class Program:
    """An inner graph as ordered instructions (inputs before users), each node once, plus last-use facts.

    ``results`` resolves each output as an operand (an output may be a placeholder or a constant).
    ``last_use[v]`` is the position of the last instruction reading ``v``; a returned variable counts as read
    at ``len(instructions)``.
    """

    instructions: tuple[Instruction, ...]
    results: tuple[tuple, ...]
    last_use: dict[Variable, int] = field(compare=False)


@dataclass(frozen=True)
class InnerGraph:
    """A closed graph held by an op: ``outputs`` computed from the canonical ``placeholders``.

    Equal inner graphs (same placeholders, same output variables) compare and hash equal. Construction
    checks the placeholders (``placeholders[k]`` is ``placeholder(k, its type)``), closure (every leaf is a
    placeholder or a Constant) and ``check_node`` (the holding op's constraint, if any) on every node, in one
    pass, and names the offending variable.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.type import TensorType
    >>> i0 = placeholder(0, TensorType("float64", ()))
    >>> g = InnerGraph((i0,), (gw.exp(i0) + 1,))
    >>> g == InnerGraph((i0,), (gw.exp(i0) + 1,)), [n.op.short_name() for n in g.nodes]
    (True, ['exp', 'add'])
    """

    placeholders: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    # what the holding op requires of each inner node (raises when a node does not fit), run in the same
    # single pass as the closure check; not part of the value
    check_node: Callable[[Apply], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "placeholders", tuple(self.placeholders))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        for k, v in enumerate(self.placeholders):
            if not isinstance(v, Variable) or v is not placeholder(k, v.type):
                raise GraphError(f"inner graph: input {k} ({v!r}) must be placeholder({k}, {_type(v)}), the "
                                 "canonical inner input of its position and type")
        holders = set(self.placeholders)
        for v in self.outputs:
            if v.owner is None and v not in holders and not isinstance(v, Constant):
                raise GraphError(f"inner graph: output {v} (of type {v.type.short()}) is neither a placeholder "
                                 "nor a constant: an inner graph may not capture an outer variable")
        for node in self.nodes:
            if self.check_node is not None:
                self.check_node(node)
            for v in node.inputs:
                if v.owner is None and v not in holders and not isinstance(v, Constant):
                    raise GraphError(f"inner graph: {node.op.short_name()} reads {v} (of type "
                                     f"{v.type.short()}), which is neither a placeholder nor a constant: an "
                                     "inner graph may not capture an outer variable")

    @cached_property
    def nodes(self) -> tuple[Apply, ...]:
        """The inner nodes in topological order, computed once per inner graph."""
        return tuple(toposort(self.outputs))

    @cached_property
    def program(self) -> Program:
        """The ordered instructions every backend's generator consumes (computed once; linear in size)."""
        where: dict[Variable, tuple] = {p: ("input", k) for k, p in enumerate(self.placeholders)}
        last: dict[Variable, int] = {}
        for k, node in enumerate(self.nodes):
            for v in node.inputs:
                last[v] = k
        end = len(self.nodes)
        last.update({v: end for v in self.outputs})
        steps = []
        for k, node in enumerate(self.nodes):
            operands = tuple(where.get(v) or ("constant", v) for v in node.inputs)
            dying = tuple(v for v in dict.fromkeys(node.inputs) if last[v] == k)
            steps.append(Instruction(k, node, operands, dying))
            where.update({o: ("value", k, j) for j, o in enumerate(node.outputs)})
        results = tuple(where.get(v) or ("constant", v) for v in self.outputs)
        return Program(tuple(steps), results, last)

    @property
    def size(self) -> int:
        """How many nodes the inner graph holds."""
        return len(self.nodes)


def _type(v: Any) -> str:
    return v.type.short() if isinstance(v, Variable) else type(v).__name__


def node_outputs(node: Apply, args: list) -> tuple:
    """The outputs of ``node`` on ``args`` by the op's NumPy reference, always as a tuple."""
    out = node.op.perform(*args)
    return tuple(out) if len(node.outputs) > 1 else (out,)


def evaluate(graph: InnerGraph, values: Sequence[Any], perform: Callable[[Apply, list], Sequence] = node_outputs,
             constant: Callable[[Constant], Any] = lambda c: c.data) -> tuple:
    """The outputs of ``graph`` on the input ``values``: each node run by ``perform(node, args)`` (a sequence
    of the node's outputs; default: the op's NumPy reference), each constant read as ``constant(c)``.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.tensor.type import TensorType
    >>> i0 = placeholder(0, TensorType("float64", ()))
    >>> evaluate(InnerGraph((i0,), (i0 * 2,)), [np.array([1.0, 2.0])])
    (array([2., 4.]),)
    """
    if len(values) != len(graph.placeholders):
        raise GraphError(f"evaluate: the inner graph takes {len(graph.placeholders)} inputs, got {len(values)}")
    program = graph.program
    computed: list[Sequence] = []

    def value_of(operand: tuple) -> Any:
        if operand[0] == "input":
            return values[operand[1]]
        if operand[0] == "constant":
            return constant(operand[1])
        return computed[operand[1]][operand[2]]

    for step in program.instructions:
        computed.append(perform(step.node, [value_of(a) for a in step.operands]))
    return tuple(value_of(r) for r in program.results)


def substitute(graph: InnerGraph, inputs: Sequence[Variable]) -> list[Variable]:
    """The outputs of ``graph`` rebuilt on ``inputs`` in place of its placeholders (inlining it).

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.tensor.type import TensorType
    >>> i0 = placeholder(0, TensorType("float64", ()))
    >>> substitute(InnerGraph((i0,), (gw.exp(i0),)), [gw.vector("x")])
    [exp(x)]
    """
    if len(inputs) != len(graph.placeholders):
        raise GraphError(f"substitute: the inner graph takes {len(graph.placeholders)} inputs, got {len(inputs)}")
    return list(replace(list(graph.outputs), dict(zip(graph.placeholders, inputs, strict=True))))
