"""CompositeReduce: a reduction of the single output of an elementwise Composite, computed in one pass.

The fusion phase (``reduce_fusion`` in :mod:`graphwright.rules.fusion`) builds it from ``sum(composite(x, y))``
when the composite's output feeds nothing but the reduction. The Numba backend runs it as one loop nest over
the broadcast input shape that accumulates as it computes (no full-size temporary); the NumPy reference, JAX
and PyTorch evaluate the composite and then reduce it. Everything else (shapes, gradients, vectorization)
delegates to the unfused pair ``Reduce(kind, axis, keepdims)(composite(*inputs))``, so the semantics are
exactly those of :class:`~graphwright.tensor.reduce.Reduce` (NumPy's, incl. dtype promotion of sums).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op, Variable
from graphwright.graph.graph import replace
from graphwright.tensor import shape as _shape
from graphwright.tensor.composite import Composite
from graphwright.tensor.reduce import Reduce, normalize_axes

__all__ = ["CompositeReduce", "composite_reduce"]

_STATIC_FOLD_SIZE = 1024


@dataclass(frozen=True)
class CompositeReduce(Op):
    """``Reduce(kind, axis, keepdims)`` of the one output of ``composite`` over its broadcast inputs.

    Inputs are those of the composite (broadcasting as for :class:`Composite`); the output has the dtype a
    :class:`Reduce` of the composite's output dtype gives and the reduced broadcast shape. ``axis`` is a
    sorted tuple of axes of the broadcast shape.
    """

    composite: Composite
    kind: str
    axis: tuple[int, ...]
    keepdims: bool = False
    types_follow_input_types: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.composite, Composite) or len(self.composite.inner_outputs) != 1:
            raise GraphError(f"CompositeReduce: needs a Composite with exactly one output, got {self.composite!r}")
        red = Reduce(self.kind, self.axis, self.keepdims)  # checks kind and axis
        object.__setattr__(self, "axis", red.axis)
        object.__setattr__(self, "keepdims", red.keepdims)

    @property
    def reduce_op(self) -> Reduce:
        """The reduction, as an op of its own."""
        return Reduce(self.kind, self.axis, self.keepdims)

    def unfused(self, node: Apply) -> tuple[Apply, Apply]:
        """The two-node form of ``node``: the composite node on ``node``'s inputs and the Reduce node on its
        output (what backends without a fused kernel run, and what gradients and shapes delegate to)."""
        comp = self.composite.make_node(*node.inputs)
        return comp, self.reduce_op.make_node(comp.outputs[0])

    def make_node(self, *inputs: Any) -> Apply:
        comp = self.composite.make_node(*inputs)  # checks the inputs' number, dtypes and broadcasting
        loop = comp.outputs[0]
        if any(a >= loop.type.ndim for a in self.axis):
            shapes = ", ".join(x.type.short() for x in comp.inputs)
            raise GraphError(f"{self.short_name()}: axis {self.axis} is out of range for the broadcast shape "
                             f"{loop.type.short()} of the inputs ({shapes})")
        red = self.reduce_op
        return Apply.create(self, list(comp.inputs), lambda: [red.make_node(loop).outputs[0].type])

    def perform(self, *inputs: np.ndarray) -> np.ndarray:
        return self.reduce_op.perform(self.composite.perform(*inputs))

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        comp, red = self.unfused(node)
        return red.op.infer_shape(red, comp.op.infer_shape(comp, input_shapes)[:1])

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The reduction's pullback, then the composite's (on the node's own output where it is needed)."""
        comp, red = self.unfused(node)
        (grad,) = red.op.pullback(red, output_grads)
        if grad is None:
            return [None] * len(node.inputs)
        grad = replace(grad, {red.outputs[0]: node.outputs[0]})  # max/min compare with the fused result
        return comp.op.pullback(comp, [grad])

    def vectorize(self, node: Apply, inputs: list, batch_ndims: list) -> list:
        """The inputs aligned as for the composite; the reduced axes move right past the batch dimensions."""
        from graphwright.tensor.elemwise import align_batched

        comp, _ = self.unfused(node)
        top = max(batch_ndims)
        op = CompositeReduce(self.composite, self.kind, tuple(a + top for a in self.axis), self.keepdims)
        return [op(*align_batched(comp, inputs, batch_ndims))]

    def static_value(self, node: Apply) -> np.ndarray | None:
        values = [_shape.static_value(x) for x in node.inputs]
        if any(v is None or np.size(v) > _STATIC_FOLD_SIZE for v in values):
            return None
        shape = np.broadcast_shapes(*(np.shape(v) for v in values)) if values else ()
        if self.kind in ("max", "min") and any(shape[a] == 0 for a in self.axis):
            return None
        return self.perform(*values)

    def inplace_options(self, node: Apply) -> list[tuple[int, int]]:
        """None: the result is a new (reduced) array, never written into an input."""
        return []

    def short_name(self) -> str:
        return f"{self.reduce_op.short_name()}\u2218{self.composite.short_name()}"

    def __repr__(self) -> str:
        return f"CompositeReduce({self.short_name()})"


def composite_reduce(composite: Composite, kind: str, axis: Sequence[int] | None, inputs: Sequence[Variable],
                     keepdims: bool = False) -> Variable:
    """``kind`` over ``axis`` (None: every axis) of ``composite(*inputs)``, as one fused node.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> from graphwright.tensor.composite import composite_of
    >>> x, y = gw.matrix("x"), gw.vector("y")
    >>> out = composite_reduce(composite_of([gw.exp(x) * y], [x, y]), "sum", (1,), [x, y])
    >>> out
    sum{axis=(1,)}∘composite{exp(i0) * i1}(x, y)
    >>> out.eval({x: np.zeros((2, 3)), y: np.arange(3.0)})
    array([3., 3.])
    """
    node = composite.make_node(*inputs)
    axes = normalize_axes(node.outputs[0], axis, f"{kind}\u2218composite")
    return CompositeReduce(composite, kind, axes, keepdims)(*node.inputs)
