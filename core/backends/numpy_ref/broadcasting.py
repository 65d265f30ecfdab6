"""NumPy implementations of Alloc and IncSubtensor with the broadcasting rule of the graph: only static length-1
dimensions of the value broadcast (a runtime length 1 in a dimension of unknown static length is an error, as for
Elemwise), which is what their gradients assume."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.graph.basic import Apply
from graphwright.graph.destroy import InPlace, plain_node


def alloc_impl(node: Apply) -> Callable:
    value = node.inputs[0]
    nd = node.outputs[0].type.ndim
    static = (1,) * (nd - value.type.ndim) + value.type.shape
    unknown = [d for d, s in enumerate(static) if s is None]
    perform = node.op.perform
    if not unknown:
        return perform

    def checked(v, shape):
        vshape = (1,) * (nd - np.ndim(v)) + np.shape(v)
        for d in unknown:
            if vshape[d] == 1 and shape[d] != 1:
                raise ValueError(
                    f"alloc: the value of shape {np.shape(v)} would be broadcast along dimension {d} to length "
                    f"{shape[d]}, but its static shape {value.type.shape} does not declare that dimension of length "
                    "1 (declare it, e.g. shape=(1, ...), to broadcast)")
        return perform(v, shape)

    return checked


def inc_subtensor_impl(node: Apply) -> Callable:
    """IncSubtensor with the same rule for ``y``: it broadcasts into the indexed region only along its static
    length-1 (or missing) dimensions. An ``InPlace`` node writes into ``x`` instead of a copy of it."""
    from graphwright.tensor import index_spec

    y = node.inputs[1]
    op = plain_node(node).op
    unknown = [d for d, s in enumerate(y.type.shape) if s is None]
    perform = op.perform
    if isinstance(node.op, InPlace):
        write_into = op.write_into

        def perform(x, yv, *parts):
            if x.__class__ is np.ndarray and x.flags.writeable:
                return write_into(x, yv, parts)
            return op.perform(x, yv, *parts)

        perform.writes_in_place = True
    if not unknown:
        return perform

    def checked(x, yv, *parts):
        region = np.shape(np.asarray(x)[index_spec.build_index(op.spec, parts)])
        offset = len(region) - np.ndim(yv)
        for d in unknown:
            if np.shape(yv)[d] == 1 and 0 <= d + offset < len(region) and region[d + offset] != 1:
                raise ValueError(
                    f"{op.short_name()}: y of shape {np.shape(yv)} would be broadcast along its dimension {d} "
                    f"into a region of shape {region}, but its static shape {y.type.shape} does not declare that "
                    "dimension of length 1")
        return perform(x, yv, *parts)

    checked.writes_in_place = getattr(perform, "writes_in_place", False)
    return checked
