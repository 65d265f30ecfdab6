"""Which values must be concrete (NumPy, not traced) when ``jax.jit`` traces a graph.

Under ``jax.jit`` every array shape is static. A graph computes shapes symbolically (``shape_of`` ->
subtensor -> alloc, reshape, ...), and the operands that decide an output's *shape* (a shape vector, slice
bounds, split sizes, a boolean mask, arange's bounds: each op's ``shape_inputs``) must therefore be known
while tracing. They are, as long
as they derive only from constants and from the shapes of traced arrays (``Shape`` gives NumPy values even for
tracers): the backend computes such values with NumPy. A graph input those operands depend on is passed to
``jax.jit`` as a static argument (one compilation per distinct value); a float array input is refused instead,
since every new value would recompile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphwright.backends.registry import UnsupportedOpError
from graphwright.graph.basic import Apply, Constant, Variable
from graphwright.graph.destroy import plain_node
from graphwright.graph.graph import Graph
from graphwright.tensor.blockwise import Blockwise
from graphwright.tensor.shape import Shape

__all__ = ["structural_inputs", "ConcretePlan", "plan_concrete"]


def structural_inputs(node: Apply) -> tuple[int, ...]:
    """The inputs of ``node`` whose values decide the shape of its outputs (the op's ``shape_inputs``).

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> structural_inputs(gw.reshape(x, (2, -1)).owner)
    (1,)
    >>> structural_inputs(gw.exp(x).owner)
    ()
    """
    plain = plain_node(node)
    return plain.op.shape_inputs(plain)


@dataclass
class ConcretePlan:
    """The nodes computed with NumPy while tracing (``nodes``) and the graph inputs passed as static
    arguments of ``jax.jit`` (``static_inputs``, positions)."""

    nodes: set[int] = field(default_factory=set)
    static_inputs: set[int] = field(default_factory=set)

    def is_concrete(self, node: Apply) -> bool:
        return id(node) in self.nodes


def plan_concrete(graph: Graph, backend: str) -> ConcretePlan:
    """Walk back from every structural operand to the values it is computed from (stopping at ``Shape``,
    whose value does not depend on its input's values). Raises UnsupportedOpError naming the consumer when
    a shape depends on the values of a float array input.

    Examples
    --------
    >>> import graphwright as gw
    >>> from graphwright.graph.graph import Graph
    >>> x, n = gw.vector("x"), gw.scalar("n", dtype="int64")
    >>> plan = plan_concrete(Graph([x, n], [gw.alloc(x[0], (n, x.shape[0]))]), "jax")
    >>> sorted(plan.static_inputs)
    [1]
    """
    plan = ConcretePlan()
    positions = {id(v): k for k, v in enumerate(graph.inputs)}
    stack: list[tuple[Variable, Apply]] = []
    for node in graph.toposort:
        for k in structural_inputs(node):
            stack.append((node.inputs[k], node))
        if isinstance(plain_node(node).op, Blockwise):
            _check_blockwise(node, backend)
    seen: set[int] = set()
    while stack:
        var, consumer = stack.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        if id(var) in positions:
            _check_static_input(var, positions[id(var)], consumer, backend)
            plan.static_inputs.add(positions[id(var)])
            continue
        if isinstance(var, Constant) or var.owner is None:
            continue
        plan.nodes.add(id(var.owner))
        if isinstance(plain_node(var.owner).op, Shape):
            continue
        stack.extend((v, consumer) for v in var.owner.inputs)
    return plan


def _check_static_input(var: Variable, position: int, consumer: Apply, backend: str) -> None:
    if var.type.ndim > 0 and var.type.dtype.startswith("float"):
        label = f"input {position} ({var.name})" if var.name else f"input {position}"
        raise UnsupportedOpError(backend, consumer, f"the shape of its output depends on the values of {label} "
                                 f"({var.type.short()}), which jax.jit cannot trace (every new value would "
                                 "compile again)")


def _check_blockwise(node: Apply, backend: str) -> None:
    op: Blockwise = plain_node(node).op
    for k in structural_inputs(node):
        if node.inputs[k].type.ndim > op.core_ndims_in[k]:
            raise UnsupportedOpError(backend, node, f"input {k} decides the shape of the core op's output and "
                                     "is batched, so the slices could have different shapes")
