"""Torch kernels of the structural ops: shapes, creation, reshaping, joining and splitting, gradient control
and Blockwise (a loop over the batch calling the core op's kernel).

Shapes given as int64 tensors are read as Python ints (``tolist()``); constant ones are read once, when the
kernel is built.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch

from graphwright.backends.dispatch import KernelContext, kernel
from graphwright.backends.torch_backend.convert import torch_dtype
from graphwright.backends.torch_backend.kernels import runtime_ints, static_ints
from graphwright.graph.basic import Apply
from graphwright.tensor.assume import Assume
from graphwright.tensor.blockwise import Blockwise, core_placeholders
from graphwright.tensor.creation import Alloc, ARange, Eye
from graphwright.tensor.grad_control import GradControl
from graphwright.tensor.join import Join, Split
from graphwright.tensor.shape import DimShuffle, MakeVector, Reshape, Shape

__all__: list[str] = []

_CONTIGUOUS = torch.contiguous_format


def _shape_reader(var) -> Callable:
    """A function of the runtime shape tensor giving the shape as Python ints (fixed when constant)."""
    known = static_ints(var)
    if known is not None:
        return lambda _value: known
    return runtime_ints


@kernel("torch", Shape)
def _shape(node: Apply, ctx: KernelContext) -> Callable:
    return lambda x: torch.tensor(tuple(x.shape), dtype=torch.int64, device=x.device)


@kernel("torch", MakeVector)
def _make_vector(node: Apply, ctx: KernelContext) -> Callable:
    device = ctx.device
    dtype = torch_dtype(node.op.dtype)
    if not node.inputs:
        return lambda: torch.empty(0, dtype=dtype, device=device)
    return lambda *xs: torch.stack(xs).to(dtype)


@kernel("torch", Alloc)
def _alloc(node: Apply, ctx: KernelContext) -> Callable:
    value, shape_var = node.inputs
    nd = node.outputs[0].type.ndim
    read = _shape_reader(shape_var)
    static = (1,) * (nd - value.type.ndim) + value.type.shape
    unknown = [d for d, s in enumerate(static) if s is None]

    def alloc(v, shape):
        dims = read(shape)
        if unknown:  # only static length-1 dimensions of the value broadcast (as in the NumPy reference)
            vshape = (1,) * (nd - v.ndim) + tuple(v.shape)
            for d in unknown:
                if vshape[d] == 1 and dims[d] != 1:
                    raise ValueError(f"alloc: the value of shape {tuple(v.shape)} would be broadcast along "
                                     f"dimension {d} to length {dims[d]}, but its static shape {value.type.shape} "
                                     "does not declare that dimension of length 1")
        return v.expand(dims).clone(memory_format=_CONTIGUOUS)

    return alloc


def _python_scalar(value):
    return value.item() if isinstance(value, torch.Tensor) else value


@kernel("torch", Eye)
def _eye(node: Apply, ctx: KernelContext) -> Callable:
    device = ctx.device
    dtype = torch_dtype(node.op.dtype)

    def eye(n, m, k):
        n, m, k = int(n), int(m), int(k)
        if k == 0:
            return torch.eye(n, m, dtype=dtype, device=device)
        rows = torch.arange(n, device=device).unsqueeze(1)
        return (torch.arange(m, device=device) - rows == k).to(dtype)

    return eye


@kernel("torch", ARange)
def _arange(node: Apply, ctx: KernelContext) -> Callable:
    device = ctx.device
    dtype = torch_dtype(node.op.dtype)

    def arange(start, stop, step):
        start, stop, step = _python_scalar(start), _python_scalar(stop), _python_scalar(step)
        if step and math.ceil((stop - start) / step) <= 0:  # NumPy gives an empty range, torch raises
            return torch.empty(0, dtype=dtype, device=device)
        return torch.arange(start, stop, step, dtype=dtype, device=device)

    return arange


@kernel("torch", DimShuffle)
def _dimshuffle(node: Apply, ctx: KernelContext) -> Callable:
    order = node.op.new_order
    kept = [d for d in order if d != "x"]
    dropped = tuple(d for d in range(node.op.input_ndim) if d not in kept)
    ranks = {d: i for i, d in enumerate(sorted(kept))}
    perm = [ranks[d] for d in kept]
    permute = perm != sorted(perm)
    inserted = [i for i, d in enumerate(order) if d == "x"]

    def dimshuffle(x):
        if dropped:
            x = x.squeeze(dropped)
        if permute:
            x = x.permute(perm)
        for i in inserted:
            x = x.unsqueeze(i)
        return x

    return dimshuffle


@kernel("torch", Reshape)
def _reshape(node: Apply, ctx: KernelContext) -> Callable:
    read = _shape_reader(node.inputs[1])
    return lambda x, shape: torch.reshape(x, read(shape))


@kernel("torch", Join)
def _join(node: Apply, ctx: KernelContext) -> Callable:
    axis = node.op.axis
    return lambda *xs: torch.cat(xs, dim=axis)


@kernel("torch", Split)
def _split(node: Apply, ctx: KernelContext) -> Callable:
    axis, n = node.op.axis, node.op.n_splits
    read = _shape_reader(node.inputs[1])

    def split(x, sizes):
        lengths = read(sizes)
        if sum(lengths) != x.shape[axis]:
            raise ValueError(f"split: sizes {list(lengths)} do not add up to {x.shape[axis]}, the length of axis "
                             f"{axis} of an input of shape {tuple(x.shape)}")
        parts = torch.split(x, list(lengths), dim=axis)
        return parts if n > 1 else parts[0]

    return split


@kernel("torch", GradControl, Assume)
def _grad_control(node: Apply, ctx: KernelContext) -> Callable:
    return lambda x, *params: x  # the identity on values (the op is marked returns_view)


@kernel("torch", Blockwise)
def _blockwise(node: Apply, ctx: KernelContext) -> Callable:
    """The core op's kernel called on every batch slice, the results stacked (as the NumPy reference)."""
    device = ctx.device
    op = node.op
    core_node = op.core_op.make_node(*core_placeholders(op.short_name(), list(node.inputs), op.core_ndims_in))
    core = ctx.kernel_for(core_node)
    nds_in, n_out = op.core_ndims_in, len(op.core_ndims_out)
    empty_cores = [tuple(s or 0 for s in o.type.shape) for o in core_node.outputs]
    dtypes = [torch_dtype(o.type.dtype) for o in node.outputs]

    def blockwise(*xs):
        batch = tuple(torch.broadcast_shapes(*(x.shape[: x.ndim - nd] for x, nd in zip(xs, nds_in, strict=True))))
        expanded = [x.expand(batch + tuple(x.shape[x.ndim - nd:])) for x, nd in zip(xs, nds_in, strict=True)]
        results: list[list[torch.Tensor]] = [[] for _ in range(n_out)]
        for index in itertools.product(*(range(n) for n in batch)):
            out = core(*(e[index] for e in expanded))
            for store, value in zip(results, out if n_out > 1 else (out,), strict=True):
                store.append(value)
        outs = []
        for store, empty, dtype in zip(results, empty_cores, dtypes, strict=True):
            if not store:
                outs.append(torch.empty(batch + empty, dtype=dtype, device=device))
                continue
            if len({tuple(v.shape) for v in store}) > 1:
                raise ValueError(f"{op.short_name()}: the core op gave outputs of different shapes across the "
                                 "batch")
            outs.append(torch.stack(store).reshape(batch + tuple(store[0].shape)))
        return tuple(outs) if n_out > 1 else outs[0]

    return blockwise
