"""Blockwise: apply an op over leading batch dimensions (the generic vectorization fallback, a gufunc).

``Blockwise(core_op, core_ndims_in, core_ndims_out)`` applies ``core_op`` to each batch slice: every input has
``core_ndims_in[k]`` core dimensions on the right and any number of batch dimensions on the left; batch
dimensions broadcast like NumPy's (only static length 1, or missing ones). The signature, shown as a gufunc
signature ``(i0,i1),(j0)->(o0)``, names the core dimensions only by rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwright.graph.basic import Apply, GraphError, Op, Variable
from graphwright.tensor.type import TensorType, broadcast_shapes
from graphwright.tensor.variable import TensorVariable, as_tensor, tensor

__all__ = ["Blockwise", "core_placeholders"]


def core_placeholders(op_name: str, inputs: list[TensorVariable], core_ndims: tuple[int, ...]) -> list:
    """0-batch stand-ins for ``inputs``: their core dtype and static core shape."""
    out = []
    for k, (x, nd) in enumerate(zip(inputs, core_ndims, strict=True)):
        if x.type.ndim < nd:
            raise GraphError(f"{op_name}: input {k} ({x}, {x.type.short()}) has fewer than its {nd} core "
                             "dimension(s)")
        out.append(tensor(f"core{k}", dtype=x.type.dtype, shape=x.type.shape[x.type.ndim - nd:]))
    return out


@dataclass(frozen=True)
class Blockwise(Op):
    """``core_op`` applied to every batch slice of its inputs (see the module docstring)."""

    core_op: Op
    core_ndims_in: tuple[int, ...]
    core_ndims_out: tuple[int, ...]

    @property
    def signature(self) -> str:
        def group(prefix: str, nds: tuple[int, ...]) -> str:
            return ",".join("(" + ",".join(f"{prefix}{k}{d}" for d in range(nd)) + ")" for k, nd in enumerate(nds))

        return f"{group('i', self.core_ndims_in)}->{group('o', self.core_ndims_out)}"

    def _batch_shapes(self, xs: list[TensorVariable]) -> list[tuple]:
        return [x.type.shape[: x.type.ndim - nd] for x, nd in zip(xs, self.core_ndims_in, strict=True)]

    def make_node(self, *inputs: Any) -> Apply:
        if len(inputs) != len(self.core_ndims_in):
            raise TypeError(f"{self.short_name()} takes {len(self.core_ndims_in)} inputs, got {len(inputs)}")
        xs = [as_tensor(x) for x in inputs]

        def types():
            core_node = self.core_op.make_node(*core_placeholders(self.short_name(), xs, self.core_ndims_in))
            batch = broadcast_shapes(self._batch_shapes(xs), self.short_name())
            for o, nd in zip(core_node.outputs, self.core_ndims_out, strict=True):
                if o.type.ndim != nd:
                    raise GraphError(f"{self.short_name()}: the core op gives {o.type.ndim} dimension(s), the "
                                     f"signature says {nd}")
            return [TensorType(o.type.dtype, batch + o.type.shape) for o in core_node.outputs]

        return Apply.create(self, xs, types)

    def perform(self, *arrays: np.ndarray) -> Any:
        arrays = [np.asarray(a) for a in arrays]
        batch_parts = [a.shape[: a.ndim - nd] for a, nd in zip(arrays, self.core_ndims_in, strict=True)]
        batch = np.broadcast_shapes(*batch_parts)
        expanded = [np.broadcast_to(a, batch + a.shape[a.ndim - nd:])
                    for a, nd in zip(arrays, self.core_ndims_in, strict=True)]
        results: list[list[np.ndarray]] = [[] for _ in self.core_ndims_out]
        for index in np.ndindex(batch):
            out = self.core_op.perform(*(a[index] for a in expanded))
            for store, value in zip(results, out if len(self.core_ndims_out) > 1 else (out,), strict=True):
                store.append(np.asarray(value))
        outs = []
        for store in results:
            shapes = {v.shape for v in store}
            if len(shapes) > 1:
                raise ValueError(f"{self.short_name()}: the core op gave outputs of different shapes {sorted(shapes)}"
                                 " across the batch")
            core = store[0].shape if store else ()
            stacked = np.stack(store) if store else np.empty((0,) + core)
            outs.append(stacked.reshape(batch + core))
        return tuple(outs) if len(outs) > 1 else outs[0]

    def shape_inputs(self, node: Apply) -> tuple[int, ...]:
        """Those of the core op applied to one slice (they must not be batched to keep slices alike)."""
        return self.core_op.shape_inputs(self.core_op.make_node(
            *core_placeholders(self.short_name(), list(node.inputs), self.core_ndims_in)))

    def infer_shape(self, node: Apply, input_shapes: list[tuple]) -> list[tuple]:
        xs = list(node.inputs)
        n_batch = node.outputs[0].type.ndim - self.core_ndims_out[0]
        batch = []
        for d in range(n_batch):
            static = node.outputs[0].type.shape[d]
            if static is not None:
                batch.append(static)
                continue
            for x, shp, nd in zip(xs, input_shapes, self.core_ndims_in, strict=True):
                offset = n_batch - (x.type.ndim - nd)
                if d >= offset and x.type.shape[d - offset] != 1:
                    batch.append(shp[d - offset])
                    break
            else:  # pragma: no cover - every unknown batch length has a non-broadcasting input
                batch.append(1)
        holders = core_placeholders(self.short_name(), xs, self.core_ndims_in)
        core_node = self.core_op.make_node(*holders)
        core_shapes = [tuple(shp[len(shp) - nd:]) for shp, nd in zip(input_shapes, self.core_ndims_in, strict=True)]
        return [tuple(batch) + tuple(s) for s in self.core_op.infer_shape(core_node, core_shapes)]

    def pullback(self, node: Apply, output_grads: list) -> list:
        """The core op's pullback, vectorized over the batch."""
        from graphwright.transforms.vectorize import vectorize_graph

        xs = list(node.inputs)
        holders = core_placeholders(self.short_name(), xs, self.core_ndims_in)
        core_node = self.core_op.make_node(*holders)
        core_grads = [None if g is None else tensor(f"g{k}", dtype=o.type.dtype, shape=o.type.shape)
                      for k, (g, o) in enumerate(zip(output_grads, core_node.outputs, strict=True))]
        core_in_grads = self.core_op.pullback(core_node, core_grads)
        mapping: dict[Variable, Variable] = dict(zip(holders, xs, strict=True))
        mapping.update({c: g for c, g in zip(core_grads, output_grads, strict=True) if c is not None})
        wanted = [g for g in core_in_grads if g is not None]
        batched = iter(vectorize_graph(wanted, mapping, _strict_core=False) if wanted else [])
        return [None if g is None else _sum_to_batch(next(batched), x) for g, x in zip(core_in_grads, xs,
                                                                                        strict=True)]

    def short_name(self) -> str:
        return f"blockwise{{{self.core_op.short_name()}, {self.signature}}}"


def _sum_to_batch(grad: Variable, x: Variable) -> Variable:
    """A vectorized gradient has the full batch; sum it down to the batch dimensions ``x`` really has. A
    gradient that does not depend on the batch at all (fewer dimensions) is the same for every slice."""
    from graphwright.tensor.creation import broadcast_to
    from graphwright.tensor.grad_util import reduce_to
    from graphwright.tensor.shape import shape_of

    if grad.type.ndim < x.type.ndim:
        grad = broadcast_to(grad, shape_of(x))
    return reduce_to(grad, x)
