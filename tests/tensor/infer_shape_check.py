"""Shared check: an op's symbolic infer_shape agrees with the real output shape."""

import numpy as np

import graphwright as gw
from graphwright.tensor.shape import shape_tuple


def check_infer_shape(out, inputs, values, *, graph_shapes=False):
    """Compile the op's infer_shape (with int64 placeholders for unknown input lengths) and compare.

    With ``graph_shapes``, infer_shape is also given the input shapes as the graph computes them
    (``shape_tuple``: static lengths and ``shape_of`` entries), compiled from ``inputs`` alone.
    """
    node = out.owner
    *in_vals, out_val = gw.function(inputs, [*node.inputs, out])(*values)
    dims, dim_vals, shapes = [], [], []
    for var, val in zip(node.inputs, in_vals, strict=True):
        shp = []
        for d, s in enumerate(var.type.shape):
            if s is None:
                dims.append(gw.scalar(f"n{len(dims)}", "int64"))
                dim_vals.append(np.shape(val)[d])
                shp.append(dims[-1])
            else:
                shp.append(s)
        shapes.append(tuple(shp))
    inferred = node.op.infer_shape(node, shapes)[out.index]
    assert len(inferred) == np.ndim(out_val)
    if inferred:
        got = gw.function(list(inputs) + dims, [gw.as_tensor(s) for s in inferred])(*values, *dim_vals)
        assert tuple(int(g) for g in got) == np.shape(out_val)
    if graph_shapes:
        symbolic = node.op.infer_shape(node, [shape_tuple(v) for v in node.inputs])[out.index]
        got = gw.function(list(inputs), [gw.as_tensor(s) for s in symbolic])(*values) if symbolic else []
        assert tuple(int(g) for g in got) == np.shape(out_val)
