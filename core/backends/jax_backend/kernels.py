"""JAX kernels of the non-elementwise ops (reductions, linear algebra, shapes, creation, joins, Blockwise).

Each builder takes a plain node (no ``InPlace`` wrapper) and returns a function of the node's input values
that is called while ``jax.jit`` traces. Operands that decide an output's shape (a shape vector, split sizes,
arange's bounds) arrive as NumPy values (see :mod:`graphwright.backends.jax_backend.analysis`). The caller
casts every result to the graph's output dtype. ``KERNEL_BUILDERS`` maps op class names to the builders.

Examples
--------
>>> import numpy as np, graphwright as gw
>>> from graphwright.backends.jax_backend.bounds import x64_scope
>>> kernel = KERNEL_BUILDERS["Reduce"](gw.sum(gw.matrix("m"), axis=0).owner)
>>> with x64_scope():  # as the backend calls its kernels
...     np.asarray(kernel(np.ones((2, 3))))
array([2., 2., 2.])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from graphwright.backends.jax_backend.analysis import structural_inputs
from graphwright.backends.jax_backend.bounds import IndexCheck, collecting, register
from graphwright.graph.basic import Apply
from graphwright.tensor.blockwise import Blockwise, core_placeholders
from graphwright.tensor.reduce_special import Argmin

__all__ = ["KERNEL_BUILDERS"]

_REDUCERS = {"sum": jnp.sum, "prod": jnp.prod, "max": jnp.max, "min": jnp.min, "all": jnp.all, "any": jnp.any}


def _float_dtype(x) -> np.dtype:
    return x.dtype if x.dtype in (np.float32, np.float64) else np.dtype("float64")


def reduce_kernel(node: Apply) -> Callable:
    op = node.op
    fn, axis, keep = _REDUCERS[op.kind], op.axis, op.keepdims
    extra = {"dtype": np.dtype(node.outputs[0].type.dtype)} if op.kind in ("sum", "prod") else {}

    def reduce(x):
        x = jnp.asarray(x)
        if op.kind in ("max", "min") and any(x.shape[a] == 0 for a in axis):
            raise ValueError(f"zero-size array to reduction operation {op.kind} which has no identity")
        return fn(x, axis=axis, keepdims=keep, **extra)

    return reduce


def argmax_kernel(node: Apply) -> Callable:
    op = node.op
    fn, name = (jnp.argmin, "argmin") if isinstance(op, Argmin) else (jnp.argmax, "argmax")

    def arg(x):
        x = jnp.asarray(x)
        if (x.size if op.axis is None else x.shape[op.axis]) == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        return fn(x, axis=op.axis, keepdims=op.keepdims)

    return arg


def _shift(x, axis):
    """The max over ``axis`` (kept), replaced by 0 where it is not finite (as the NumPy kernels do)."""
    shift = jnp.max(x, axis=axis, keepdims=True, initial=-jnp.inf)
    return jnp.where(jnp.isfinite(shift), shift, jnp.zeros((), x.dtype))


def logsumexp_kernel(node: Apply) -> Callable:
    op = node.op

    def logsumexp(x):
        x = jnp.asarray(x)
        x = x.astype(_float_dtype(x))
        shift = _shift(x, op.axis)
        out = jnp.log(jnp.sum(jnp.exp(x - shift), axis=op.axis, keepdims=True)) + shift
        return out if op.keepdims else jnp.squeeze(out, axis=op.axis)

    return logsumexp


def softmax_kernel(node: Apply) -> Callable:
    op = node.op
    log = type(op).__name__ == "LogSoftmax"

    def softmax(x):
        x = jnp.asarray(x)
        x = x.astype(_float_dtype(x))
        centred = x - _shift(x, op.axis)
        if log:
            return centred - jnp.log(jnp.sum(jnp.exp(centred), axis=op.axis, keepdims=True))
        e = jnp.exp(centred)
        return e / jnp.sum(e, axis=op.axis, keepdims=True)

    return softmax


def cumop_kernel(node: Apply) -> Callable:
    op = node.op
    fn = jnp.cumsum if op.kind == "cumsum" else jnp.cumprod
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda x: fn(jnp.asarray(x), axis=op.axis, dtype=dtype)


def dot_kernel(node: Apply) -> Callable:
    """Dot, MatMul and TensorDot: both operands in the output dtype first (NumPy's loop dtype)."""
    dtype = np.dtype(node.outputs[0].type.dtype)
    name = type(node.op).__name__
    if name == "TensorDot":
        axes = tuple(list(a) for a in node.op.axes)

        def fn(a, b):
            return jnp.tensordot(a, b, axes=axes)
    else:
        fn = jnp.matmul if name == "MatMul" else jnp.dot
    return lambda a, b: fn(jnp.asarray(a, dtype), jnp.asarray(b, dtype))


def _ints(vector) -> tuple[int, ...]:
    return tuple(int(s) for s in np.asarray(vector).reshape(-1))


def alloc_kernel(node: Apply) -> Callable:
    value = node.inputs[0]
    nd = node.outputs[0].type.ndim
    static = (1,) * (nd - value.type.ndim) + value.type.shape
    unknown = [d for d, s in enumerate(static) if s is None]

    def alloc(v, shape):
        shape = _ints(shape)
        vshape = (1,) * (nd - np.ndim(v)) + np.shape(v)
        for d in unknown:
            if vshape[d] == 1 and shape[d] != 1:
                raise ValueError(f"alloc: the value of shape {np.shape(v)} would be broadcast along dimension {d} "
                                 f"to length {shape[d]}, but its static shape {value.type.shape} does not declare "
                                 "that dimension of length 1")
        return jnp.broadcast_to(jnp.asarray(v), shape)

    return alloc


def eye_kernel(node: Apply) -> Callable:
    dtype = np.dtype(node.op.dtype)
    return lambda n, m, k: jnp.eye(int(n), int(m), int(k), dtype=dtype)


def shape_kernel(node: Apply) -> Callable:
    return lambda x: np.array(np.shape(x), dtype=np.int64)  # static under jit, even for a tracer


def make_vector_kernel(node: Apply) -> Callable:
    dtype = np.dtype(node.op.dtype)
    return lambda *xs: jnp.stack([jnp.asarray(x).astype(dtype) for x in xs])


def dimshuffle_kernel(node: Apply) -> Callable:
    order = node.op.new_order
    kept = [d for d in order if d != "x"]
    dropped = tuple(d for d in range(node.op.input_ndim) if d not in kept)
    ranks = {d: i for i, d in enumerate(sorted(kept))}
    perm = [ranks[d] for d in kept]
    new_axes = tuple(i for i, d in enumerate(order) if d == "x")

    def dimshuffle(x):
        y = jnp.asarray(x)
        if dropped:
            y = jnp.squeeze(y, axis=dropped)
        if perm != sorted(perm):
            y = jnp.transpose(y, perm)
        return jnp.expand_dims(y, new_axes) if new_axes else y

    return dimshuffle


def reshape_kernel(node: Apply) -> Callable:
    return lambda x, shape: jnp.reshape(jnp.asarray(x), _ints(shape))


def join_kernel(node: Apply) -> Callable:
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda *xs: jnp.concatenate([jnp.asarray(x, dtype) for x in xs], axis=node.op.axis)


def split_kernel(node: Apply) -> Callable:
    axis = node.op.axis

    def split(x, sizes):
        x, sizes = jnp.asarray(x), _ints(sizes)
        if sum(sizes) != x.shape[axis]:
            raise ValueError(f"split: sizes {list(sizes)} do not add up to {x.shape[axis]}, the length of axis "
                             f"{axis} of an input of shape {x.shape}")
        parts = tuple(jnp.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis))
        return parts if len(parts) > 1 else parts[0]

    return split


def identity_kernel(node: Apply) -> Callable:
    return lambda x, *params: x


def blockwise_kernel(node: Apply, kernel_for: Callable[[Apply], Callable]) -> Callable:
    """``jax.vmap`` of the core op's kernel over the (broadcast, flattened) batch dimensions. Inputs that decide
    the core output's shape are unbatched (checked at compile time) and passed to every slice as they are."""
    op: Blockwise = node.op
    core_node = op.core_op.make_node(*core_placeholders(op.short_name(), list(node.inputs), op.core_ndims_in))
    core = kernel_for(core_node)
    fixed = set(structural_inputs(core_node))
    nds = op.core_ndims_in
    mapped = [k for k in range(len(nds)) if k not in fixed]

    def blockwise(*xs):
        arrays = {k: jnp.asarray(xs[k]) for k in mapped}
        batch = np.broadcast_shapes(*(a.shape[: a.ndim - nds[k]] for k, a in arrays.items()))
        size = math.prod(batch)
        flat = [jnp.broadcast_to(a, batch + a.shape[a.ndim - nds[k]:]).reshape((size,) + a.shape[a.ndim - nds[k]:])
                for k, a in arrays.items()]

        statics: list = []  # (where, axis, length) of the core's index checks, filed while vmap traces it

        def one(*slices):
            args = list(xs)
            for k, s in zip(mapped, slices, strict=True):
                args[k] = s
            result, found = collecting(core, *args)
            statics[:] = [(c.where, c.axis, c.length) for c in found]
            return result, [(c.bad, c.first) for c in found]

        result, flags = jax.vmap(one)(*flat)
        for (where, axis, length), (bad, first) in zip(statics, flags, strict=True):
            if size:  # the first failing slice's check, for the whole batch
                register(IndexCheck(where, axis, length, jnp.any(bad), first[jnp.argmax(bad)]))
        results = result if len(op.core_ndims_out) > 1 else (result,)
        outs = tuple(r.reshape(batch + r.shape[1:]) for r in results)
        return outs if len(outs) > 1 else outs[0]

    return blockwise


KERNEL_BUILDERS: dict[str, Callable] = {
    "Reduce": reduce_kernel, "Argmax": argmax_kernel, "LogSumExp": logsumexp_kernel, "Softmax": softmax_kernel,
    "CumOp": cumop_kernel, "Dot": dot_kernel, "MatMul": dot_kernel, "TensorDot": dot_kernel, "Alloc": alloc_kernel,
    "Eye": eye_kernel, "Shape": shape_kernel, "MakeVector": make_vector_kernel, "DimShuffle": dimshuffle_kernel,
    "Reshape": reshape_kernel, "Join": join_kernel, "Split": split_kernel, "GradControl": identity_kernel,
}
