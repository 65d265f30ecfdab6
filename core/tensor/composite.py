"""Composite: several elementwise ops fused into one elementwise op over a scalar (0-d) inner graph.

The fusion phase (``graphwright.rules.fusion``) builds these; a backend runs the inner graph as one loop
(Numba) or inline (JAX, PyTorch), and the NumPy reference evaluates it op by op on whole arrays. The inner
graph is an ordinary graph of 0-d variables whose inputs are canonical placeholders ``i0, i1, ...``, so two
composites with the same program are equal (hash-consing makes their inner outputs the same variables).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, Constant, Op, Variable
from graphwright.graph.graph import replace, toposort
from graphwright.tensor.elemwise import (
    Elemwise,
    align_batched,
    elemwise_output_shape,
    same_buffer_groups,
    same_buffer_inputs,
)
from graphwright.tensor.type import TensorType, broadcast_shapes
from graphwright.tensor.variable import TensorVariable, as_tensor, tensor

__all__ = ["Composite", "placeholder", "composite_of"]

_PLACEHOLDERS: dict[tuple[int, str], TensorVariable] = {}


def placeholder(index: int, dtype: str) -> TensorVariable:
    """The canonical 0-d inner input number ``index`` of a composite, named ``i<index>``.

    Examples
    --------
    >>> placeholder(0, "float64") is placeholder(0, "float64")
    True
    """
    key = (index, dtype)
    var = _PLACEHOLDERS.get(key)
    if var is None:
        var = _PLACEHOLDERS[key] = tensor(f"i{index}", dtype=dtype, shape=())
    return var


@dataclass(frozen=True)
class Composite(Op):
    """An elementwise op whose body is a graph of 0-d elementwise ops; one output per inner output.

    Inputs broadcast as for :class:`Elemwise` (only static length-1 dimensions broadcast); every output has
    the broadcast shape of the inputs and the dtype of its inner output.
    """

    inner_inputs: tuple[Variable, ...]
    inner_outputs: tuple[Variable, ...]
    types_follow_input_types: ClassVar[bool] = True

    def __post_init__(self) -> None:
        for k, v in enumerate(self.inner_inputs):
            if v is not placeholder(k, v.type.dtype):
                raise ValueError(f"Composite inner input {k} must be placeholder({k}, {v.type.dtype!r})")
        for node in toposort(self.inner_outputs):
            if not isinstance(node.op, Elemwise | Composite):
                raise TypeError(f"Composite inner graphs hold only elementwise ops, got {node.op.short_name()}")
        for v in self.inner_outputs:
            if v.type.ndim != 0:
                raise TypeError(f"Composite inner outputs must be 0-d, got {v} of type {v.type.short()}")

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
        values: dict[Variable, Any] = dict(zip(self.inner_inputs, inputs, strict=True))
        for node in toposort(self.inner_outputs):
            args = [values[v] if v in values else v.data for v in node.inputs]
            out = node.op.perform(*args)
            for var, val in zip(node.outputs, out if len(node.outputs) > 1 else (out,), strict=True):
                values[var] = val
        shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
        results = tuple(broadcast_output(values[v], shape) for v in self.inner_outputs)
        return results if len(results) > 1 else results[0]

    @property
    def partial_outputs(self) -> tuple[int, ...]:
        """Outputs that do not depend on every input (or are an input): they must be broadcast to the
        composite's shape, and copied, when computed."""
        full, everything = set(self.inner_inputs), (1 << len(self.inner_inputs)) - 1
        depends = _input_bits(self.inner_inputs, self.inner_outputs)
        return tuple(k for k, v in enumerate(self.inner_outputs) if v in full or depends.get(v, 0) != everything)

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        return [elemwise_output_shape(node, input_shapes)] * len(node.outputs)

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        return list(self.make_node(*align_batched(node, inputs, batch_ndims)).outputs)

    def pullback(self, node: Apply, output_grads: list) -> list:
        """Differentiate the inner graph, unfused onto the node's inputs."""
        from graphwright.transforms.grad import backprop

        # fresh stand-ins for the inputs: an input computed from another one (or passed twice) must not pass
        # its gradient on inside this pullback, the outer pass does that
        stand_ins = [tensor(f"in{k}", dtype=x.type.dtype, shape=x.type.shape) for k, x in enumerate(node.inputs)]
        outer = replace(list(self.inner_outputs), dict(zip(self.inner_inputs, stand_ins, strict=True)))
        starts = {o: g for o, g in zip(outer, output_grads, strict=True) if g is not None}
        found = backprop(starts, stand_ins)
        back = dict(zip(stand_ins, node.inputs, strict=True))
        return [replace(found[s], back) if s in found else None for s in stand_ins]

    @property
    def size(self) -> int:
        """How many elementwise ops the inner graph holds."""
        return len(toposort(self.inner_outputs))

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
        depends = _input_bits(self.inner_inputs, self.inner_outputs)
        read = 0
        for v in self.inner_outputs:
            read |= depends.get(v, 0)
        unread = ((1 << len(self.inner_inputs)) - 1) & ~read
        shared = self.shared_outputs(None)
        return tuple(0 if k in shared else depends.get(v, 0) | unread for k, v in enumerate(self.inner_outputs))

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
        from graphwright.printing import short_str, unwrap_parens

        # a shallow print: inner graphs share subexpressions, and a deep tree print of a DAG explodes
        body = ", ".join(unwrap_parens(short_str(v, max_depth=6)) for v in self.inner_outputs[:_SHOWN_OUTPUTS])
        if len(self.inner_outputs) > _SHOWN_OUTPUTS:
            body += f", ... ({len(self.inner_outputs)} outputs)"
        return f"composite{{{body[:_MAX_NAME] + ' ...' if len(body) > _MAX_NAME else body}}}"

    def __repr__(self) -> str:
        return f"Composite({self.short_name()})"


_SHOWN_OUTPUTS, _MAX_NAME = 8, 400


def _input_bits(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> dict[Variable, int]:
    """For each variable of the inner graph, the set of ``inputs`` it depends on, as a bitset (bit k: input
    k): one sweep over the graph, instead of one walk per output."""
    bits: dict[Variable, int] = {v: 1 << k for k, v in enumerate(inputs)}
    for node in toposort(outputs):
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
