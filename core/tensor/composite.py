"""Composite: several elementwise ops fused into one elementwise op over a scalar (0-d) inner graph.

The fusion phase (``graphwright.rules.fusion``) builds these; a backend runs the inner graph as one loop
(Numba) or inline (JAX, PyTorch), and the NumPy reference evaluates it op by op on whole arrays. The inner
graph is an :class:`~graphwright.graph.inner.InnerGraph` of 0-d variables whose inputs are canonical
placeholders ``i0, i1, ...``, so two composites with the same program are equal (hash-consing makes their
inner outputs the same variables). Everything reads it through ``inner_graphs()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, Constant, Op, Variable
from graphwright.graph.graph import replace, toposort
from graphwright.graph.inner import InnerGraph, evaluate
from graphwright.graph.inner import placeholder as typed_placeholder
from graphwright.tensor.elemwise import (
    Elemwise,
    align_batched,
    elemwise_output_shape,
    same_buffer_groups,
    same_buffer_inputs,
)
from graphwright.tensor.type import TensorType, broadcast_shapes
from graphwright.tensor.variable import TensorVariable, as_tensor

__all__ = ["Composite", "placeholder", "composite_of"]

def placeholder(index: int, dtype: str) -> TensorVariable:
    """The canonical 0-d inner input number ``index`` of a composite, named ``i<index>``: the inner-graph
    placeholder of that position and of the 0-d type of ``dtype``.

    Examples
    --------
    >>> placeholder(0, "float64") is placeholder(0, "float64")
    True
    """
    return typed_placeholder(index, TensorType(dtype, ()))


def _elementwise_only(node: Apply) -> None:
    if not isinstance(node.op, Elemwise | Composite):
        raise TypeError(f"Composite inner graphs hold only elementwise ops, got {node.op.short_name()}")


@dataclass(frozen=True)
class Composite(Op):
    """An elementwise op whose body is a graph of 0-d elementwise ops; one output per inner output.

    Inputs broadcast as for :class:`Elemwise` (only static length-1 dimensions broadcast); every output has
    the broadcast shape of the inputs and the dtype of its inner output.
    """

    inner_inputs: tuple[Variable, ...]
    inner_outputs: tuple[Variable, ...]
    types_follow_input_types: ClassVar[bool] = True
    # 0-d elementwise bodies: fusion inside would nest composites, and in-place has no meaning there
    inner_rewrite_phases: ClassVar[frozenset[str]] = frozenset({"canonicalize", "stabilize", "specialize"})

    def __post_init__(self) -> None:
        for k, v in enumerate(self.inner_inputs):
            if not (isinstance(v, TensorVariable) and v.type.ndim == 0 and v is placeholder(k, v.type.dtype)):
                dtype = getattr(getattr(v, "type", None), "dtype", "?")
                raise ValueError(f"Composite inner input {k} ({v!r}) must be placeholder({k}, {dtype!r})")
        # closure and the elementwise-only rule, in one pass over the inner graph (cached there)
        object.__setattr__(self, "_inner", InnerGraph(self.inner_inputs, self.inner_outputs, _elementwise_only))
        for v in self.inner_outputs:
            if v.type.ndim != 0:
                raise TypeError(f"Composite inner outputs must be 0-d, got {v} of type {v.type.short()}")

    def inner_graphs(self) -> tuple[InnerGraph, ...]:
        """The one inner graph: 0-d elementwise ops over the placeholders ``i0, i1, ...``."""
        return (self._inner,)

    def with_inner_graphs(self, graphs: Sequence[InnerGraph]) -> Composite:
        """The composite computing ``graphs[0]`` (checked as at construction)."""
        (graph,) = graphs
        return Composite(graph.placeholders, graph.outputs)

    def make_node(self, *inputs: Any) -> Apply:
        if len(inputs) != len(self.inner_inputs):
            raise TypeError(f"{self.short_name()} takes {len(self.inner_inputs)} inputs, got {len(inputs)}")
        xs = [as_tensor(x) for x in inputs]
        for k, (x, p) in enumerate(zip(xs, self.inner_inputs, strict=True)):
            if x.type.dtype != p.type.dtype:
                raise TypeError(f"{self.short_name()}: input {k} ({x}) has dtype {x.type.dtype}, the composite "
                                f"expects {p.type.dtype}")

        def types():
            shape = broadcast_shapes([x.type.shape for x in xs], "composite") if xs else ()
            return [TensorType(v.type.dtype, shape) for v in self.inner_outputs]

        return Apply.create(self, xs, types)

    def perform(self, *inputs: np.ndarray) -> Any:
        shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
        results = tuple(broadcast_output(v, shape) for v in evaluate(self._inner, inputs))
        return results if len(results) > 1 else results[0]

    @property
    def inner_nodes(self) -> tuple[Apply, ...]:
        """The inner graph's nodes in topological order (its :class:`InnerGraph` walks it once, at
        construction; every pass over the program reads this list).

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> [n.op.short_name() for n in composite_of([gw.exp(x) + 1], [x]).inner_nodes]
        ['exp', 'add']
        """
        return self._inner.nodes

    @cached_property
    def _output_input_bits(self) -> tuple[int, ...]:
        """For each output, the inputs it depends on as a bitset (bit k: input k); computed once per op."""
        depends = _input_bits(self.inner_inputs, self.inner_nodes)
        return tuple(depends.get(v, 0) for v in self.inner_outputs)

    @cached_property
    def partial_outputs(self) -> tuple[int, ...]:
        """Outputs that do not depend on every input (or are an input): they must be broadcast to the
        composite's shape, and copied, when computed."""
        full, everything = set(self.inner_inputs), (1 << len(self.inner_inputs)) - 1
        return tuple(k for k, (v, bits) in enumerate(zip(self.inner_outputs, self._output_input_bits, strict=True))
                     if v in full or bits != everything)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [elemwise_output_shape(node, input_shapes)] * len(node.outputs)

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        return list(self.make_node(*align_batched(node, inputs, batch_ndims)).outputs)

    def pullback(self, node: Apply, output_grads: list) -> list:
        """Differentiate the inner graph, unfused onto the node's inputs (the shared inner backprop)."""
        from graphwright.transforms.inner_grad import inner_pullback

        return inner_pullback(self._inner, node.inputs, output_grads)

    @property
    def size(self) -> int:
        """How many elementwise ops the inner graph holds."""
        return len(self.inner_nodes)

    def inplace_options(self, node: Apply) -> list[tuple[int, int]]:
        writable = self.writable_inputs
        return [(o, i) for o, i in same_buffer_inputs(node) if writable[o] >> i & 1]

    def inplace_option_groups(self, node: Apply) -> list[tuple[list[int], list[int]]]:
        """:meth:`inplace_options` grouped (see :func:`same_buffer_groups`), for the in-place phase; which
        inputs of its group each output may really overwrite is :attr:`writable_inputs`."""
        return same_buffer_groups(node)

    @cached_property
    def writable_inputs(self) -> tuple[int, ...]:
        """For each output, the inputs (a bitset, bit k: input k) its buffer may be: those it depends on, and
        those no output reads; none for an output that repeats an earlier one (:meth:`shared_outputs`).

        A backend computing the composite element by element stores output ``o`` at an index as soon as it
        is computed; the other outputs read input ``i`` at that index afterwards only if ``o`` does not depend
        on ``i`` (a backend reads an input before computing anything from it). So an output written into an
        input that it does not read, but another output does, would clobber the value that output needs.

        Examples
        --------
        >>> import graphwright as gw
        >>> x, y = gw.vector("x"), gw.vector("y")
        >>> [bin(m) for m in composite_of([gw.exp(x), x * y], [x, y]).writable_inputs]
        ['0b1', '0b11']
        """
        depends = self._output_input_bits
        read = 0
        for bits in depends:
            read |= bits
        unread = ((1 << len(self.inner_inputs)) - 1) & ~read
        shared = self.shared_outputs(None)
        return tuple(0 if k in shared else bits | unread for k, bits in enumerate(depends))

    def overwrite_refusal(self, out: int, inp: int) -> tuple | None:
        """Why output ``out`` may not be written into input ``inp`` (see :attr:`writable_inputs`) as
        ``(format string, *arguments)``, or None: it may."""
        if self.writable_inputs[out] >> inp & 1:
            return None
        shared = self.shared_outputs(None)
        if out in shared:
            return ("output {} is the same array as output {}", out, shared[out])
        return ("output {} does not read input {}, which another output reads after the write", out, inp)

    def shared_outputs(self, node: Apply | None) -> dict[int, int]:
        """Outputs computed by the same inner variable are one array on the NumPy backend."""
        first: dict[int, int] = {}
        shared = {}
        for k, v in enumerate(self.inner_outputs):
            if id(v) in first:
                shared[k] = first[id(v)]
            else:
                first[id(v)] = k
        return shared

    def short_name(self) -> str:
        from graphwright.printing import inner_graph_text

        return f"composite{{{inner_graph_text(self._inner, _SHOWN_OUTPUTS, _MAX_NAME)}}}"

    def __repr__(self) -> str:
        return f"Composite({self.short_name()})"


_SHOWN_OUTPUTS, _MAX_NAME = 8, 400


def _input_bits(inputs: Sequence[Variable], nodes: Sequence[Apply]) -> dict[Variable, int]:
    """For each variable of the inner graph (``nodes``, in topological order), the set of ``inputs`` it
    depends on, as a bitset (bit k: input k): one sweep over the graph, instead of one walk per output. A
    node costs one OR per operand of at most ``len(inputs)`` bits (fusion caps a composite's inputs)."""
    bits: dict[Variable, int] = {v: 1 << k for k, v in enumerate(inputs)}
    for node in nodes:
        mask = 0
        for v in node.inputs:
            mask |= bits.get(v, 0)
        for o in node.outputs:
            bits[o] = mask
    return bits


def broadcast_output(value: Any, shape: tuple) -> np.ndarray:
    """An output of a composite at the composite's broadcast shape, never a view of an input."""
    return np.array(np.broadcast_to(value, shape))


def composite_of(outputs: Sequence[Variable], inputs: Sequence[Variable]) -> Composite:
    """The Composite computing ``outputs`` (0-d or not) from ``inputs`` elementwise.

    ``outputs`` may be any graph of elementwise ops over ``inputs`` and 0-d constants; it is rebuilt on 0-d
    placeholders.

    Examples
    --------
    >>> import graphwright as gw
    >>> x, y = gw.vector("x"), gw.vector("y")
    >>> op = composite_of([gw.exp(x) + y], [x, y])
    >>> op(x, y)
    composite{exp(i0) + i1}(x, y)
    """
    holders = {v: placeholder(k, v.type.dtype) for k, v in enumerate(inputs)}
    for node in toposort(outputs, stop_at=inputs):
        for v in node.inputs:
            if v.owner is None and v not in holders and not (isinstance(v, Constant) and v.type.ndim == 0):
                raise ValueError(f"composite_of: {v} is neither one of the inputs nor a 0-d constant")
    inner = replace(list(outputs), dict(holders))
    return Composite(tuple(holders.values()), tuple(inner))
