"""NumPy implementation of Alloc with the broadcasting rule of the graph: only static length-1 dimensions of the
value broadcast (a runtime length 1 in a dimension of unknown static length is an error, as for Elemwise)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphwright.graph.basic import Apply


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
