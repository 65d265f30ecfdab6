"""JAX kernels of the non-elementwise ops (reductions, linear algebra, shapes, creation, joins, Blockwise).

Each builder takes a plain node (no ``InPlace`` wrapper) and returns a function of the node's input values
that is called while ``jax.jit`` traces. Operands that decide an output's shape (a shape vector, split sizes,
arange's bounds) arrive as NumPy values (see :mod:`graphwright.backends.jax_backend.analysis`). The caller
casts every result to the graph's output dtype. Each is filed with ``@kernel("jax", OpClass)``
(:mod:`graphwright.backends.dispatch`); ``ctx`` may be left out when calling one directly, except for Blockwise.

Examples
--------
>>> import numpy as np, graphwright as gw
>>> from graphwright.backends.jax_backend.bounds import x64_scope
>>> kernel = reduce_kernel(gw.sum(gw.matrix("m"), axis=0).owner)
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

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.jax_backend.bounds import IndexCheck, collecting, register
from graphwright.graph.basic import Apply
from graphwright.tensor.assume import Assume
from graphwright.tensor.blockwise import Blockwise, core_placeholders
from graphwright.tensor.creation import Alloc, ARange, Eye
from graphwright.tensor.cumulative import CumOp
from graphwright.tensor.grad_control import GradControl
from graphwright.tensor.join import Join, Split
from graphwright.tensor.linalg import Dot, MatMul, TensorDot
from graphwright.tensor.nn import LogSoftmax, Softmax
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.reduce_special import Argmax, Argmin, LogSumExp
from graphwright.tensor.shape import DimShuffle, MakeVector, Reshape, Shape

__all__ = ["reduce_kernel", "argmax_kernel", "logsumexp_kernel", "softmax_kernel", "cumop_kernel", "dot_kernel",
           "alloc_kernel", "eye_kernel", "shape_kernel", "make_vector_kernel", "dimshuffle_kernel", "reshape_kernel",
           "join_kernel", "split_kernel", "identity_kernel", "blockwise_kernel"]

_REDUCERS = {"sum": jnp.sum, "prod": jnp.prod, "max": jnp.max, "min": jnp.min, "all": jnp.all, "any": jnp.any}


def _float_dtype(x) -> np.dtype:
    return x.dtype if x.dtype in (np.float32, np.float64) else np.dtype("float64")


@kernel("jax", Reduce)
def reduce_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    op = node.op
    fn, axis, keep = _REDUCERS[op.kind], op.axis, op.keepdims
    extra = {"dtype": np.dtype(node.outputs[0].type.dtype)} if op.kind in ("sum", "prod") else {}

    def reduce(x):
        x = jnp.asarray(x)
        if op.kind in ("max", "min") and any(x.shape[a] == 0 for a in axis):
            raise ValueError(f"zero-size array to reduction operation {op.kind} which has no identity")
        return fn(x, axis=axis, keepdims=keep, **extra)

    return reduce


@kernel("jax", Argmax, Argmin)
def argmax_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    op = node.op
    fn, name = (jnp.argmax, "argmax") if op.largest else (jnp.argmin, "argmin")

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


@kernel("jax", LogSumExp)
def logsumexp_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    op = node.op

    def logsumexp(x):
        x = jnp.asarray(x)
        x = x.astype(_float_dtype(x))
        shift = _shift(x, op.axis)
        out = jnp.log(jnp.sum(jnp.exp(x - shift), axis=op.axis, keepdims=True)) + shift
        return out if op.keepdims else jnp.squeeze(out, axis=op.axis)

    return logsumexp


@kernel("jax", Softmax, LogSoftmax)
def softmax_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    op = node.op
    log = op.log

    def softmax(x):
        x = jnp.asarray(x)
        x = x.astype(_float_dtype(x))
        centred = x - _shift(x, op.axis)
        if log:
            return centred - jnp.log(jnp.sum(jnp.exp(centred), axis=op.axis, keepdims=True))
        e = jnp.exp(centred)
        return e / jnp.sum(e, axis=op.axis, keepdims=True)

    return softmax


@kernel("jax", CumOp)
def cumop_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    op = node.op
    fn = jnp.cumsum if op.kind == "cumsum" else jnp.cumprod
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda x: fn(jnp.asarray(x), axis=op.axis, dtype=dtype)


@kernel("jax", Dot, MatMul, TensorDot)
def dot_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
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


@kernel("jax", Alloc)
def alloc_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
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


@kernel("jax", Eye)
def eye_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    dtype = np.dtype(node.op.dtype)
    return lambda n, m, k: jnp.eye(int(n), int(m), int(k), dtype=dtype)


@kernel("jax", Shape)
def shape_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    return lambda x: np.array(np.shape(x), dtype=np.int64)  # static under jit, even for a tracer


@kernel("jax", MakeVector)
def make_vector_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    dtype = np.dtype(node.op.dtype)
    return lambda *xs: jnp.stack([jnp.asarray(x).astype(dtype) for x in xs])


@kernel("jax", DimShuffle)
def dimshuffle_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
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


@kernel("jax", Reshape)
def reshape_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    return lambda x, shape: jnp.reshape(jnp.asarray(x), _ints(shape))


@kernel("jax", Join)
def join_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda *xs: jnp.concatenate([jnp.asarray(x, dtype) for x in xs], axis=node.op.axis)


@kernel("jax", Split)
def split_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    axis = node.op.axis

    def split(x, sizes):
        x, sizes = jnp.asarray(x), _ints(sizes)
        if sum(sizes) != x.shape[axis]:
            raise ValueError(f"split: sizes {list(sizes)} do not add up to {x.shape[axis]}, the length of axis "
                             f"{axis} of an input of shape {x.shape}")
        parts = tuple(jnp.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis))
        return parts if len(parts) > 1 else parts[0]

    return split


@kernel("jax", GradControl, Assume)
def identity_kernel(node: Apply, ctx: KernelContext | None = None) -> Callable:
    return lambda x, *params: x


@kernel("jax", Blockwise)
def blockwise_kernel(node: Apply, ctx: KernelContext) -> Callable:
    """``jax.vmap`` of the core op's kernel over the (broadcast, flattened) batch dimensions. Inputs that decide
    the core output's shape are unbatched (checked at compile time) and passed to every slice as they are."""
    op: Blockwise = node.op
    core_node = op.core_op.make_node(*core_placeholders(op.short_name(), list(node.inputs), op.core_ndims_in))
    core = ctx.kernel_for(core_node)
    fixed = set(op.core_op.shape_inputs(core_node))
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



@kernel("jax", ARange, how="fallback", note="NumPy (its perform): its bounds are always concrete")
def _arange(node: Apply, ctx: KernelContext | None = None) -> Callable:
    return node.op.perform
