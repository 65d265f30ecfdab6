"""Torch kernels of the non-elementwise ops, and ``impl_for``: the kernel of any node.

A kernel factory (filed with ``kernel("torch", OpClass)``, :mod:`graphwright.backends.dispatch`) takes the node
and the context (``ctx.device``) and returns a function of tensors. Static facts (axes, dtypes,
constant shapes and indices) are read from the node once; a shape that is only known at run time (an int64
tensor) is turned into Python ints with ``tolist()``. Every kernel returns new tensors, except those of ops
marked ``returns_view``, so the in-place planner may overwrite any other result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from graphwright.backends.dispatch import KernelContext, build, kernel
from graphwright.backends.registry import UnsupportedOpError
from graphwright.backends.torch_backend.convert import torch_dtype
from graphwright.graph.basic import Apply, Constant, Variable

__all__ = ["impl_for", "static_ints", "runtime_ints"]

# torch 2.13 has these dtypes but no CPU kernels for most ops on them (add, floor_divide, maximum ...): a node
# that reads or writes one is refused when compiling, never computed wrongly
_TORCH_UNSUPPORTED_DTYPES = frozenset(("uint16", "uint32", "uint64"))


def refuse_wide_unsigned(node: Apply) -> None:
    """Raise UnsupportedOpError when ``node`` reads or writes a dtype torch cannot compute with.

    Examples
    --------
    >>> import graphwright as gw
    >>> refuse_wide_unsigned((gw.vector("u", "uint8") + 1).owner)
    """
    for var in (*node.inputs, *node.outputs):
        dtype = getattr(var.type, "dtype", None)
        if dtype in _TORCH_UNSUPPORTED_DTYPES:
            raise UnsupportedOpError("torch", node, f"torch has no kernels for dtype {dtype} (cast to int64 or "
                                     "float64 first)")


def impl_for(node: Apply, device: torch.device | None = None) -> Callable:
    """The torch function computing ``node`` on ``device`` (its entry in the dispatch table); raises
    UnsupportedOpError for an op without one.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.matrix("x")
    >>> f = impl_for(gw.cumsum(x, axis=1).owner)
    >>> f(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[1., 3.],
            [3., 7.]], dtype=torch.float64)
    """
    device = torch.device("cpu") if device is None else device
    refuse_wide_unsigned(node)
    return build("torch", node, KernelContext("torch", device, lambda inner: impl_for(inner, device)))


def static_ints(var: Variable) -> tuple[int, ...] | None:
    """The entries of a constant integer tensor as Python ints (None when ``var`` is not a constant).

    Examples
    --------
    >>> import graphwright as gw
    >>> static_ints(gw.constant([2, 3])), static_ints(gw.vector("v", dtype="int64"))
    ((2, 3), None)
    """
    if not isinstance(var, Constant):
        return None
    return tuple(int(v) for v in np.asarray(var.data).reshape(-1))


def runtime_ints(value) -> list[int]:
    """An integer tensor's entries as Python ints (a list, one entry for a 0-d tensor).

    Examples
    --------
    >>> runtime_ints(torch.tensor([2, 3])), runtime_ints(torch.tensor(4))
    ([2, 3], [4])
    """
    return value.reshape(-1).tolist()


def _out_dtype(node: Apply, k: int = 0) -> torch.dtype:
    return torch_dtype(node.outputs[k].type.dtype)


# --- reductions ---------------------------------------------------------------------------------------------
def _reduce_factory(node: Apply, ctx: KernelContext) -> Callable:
    op = node.op
    axes, keep, kind, out = op.axis, op.keepdims, op.kind, _out_dtype(node)
    in_dtype = node.inputs[0].type.dtype
    if not axes:  # nothing reduced: a converted copy
        return lambda x: x.to(out, copy=True)
    if kind == "sum":
        return lambda x: torch.sum(x, dim=axes, keepdim=keep, dtype=out)
    if kind == "prod":
        def prod(x):
            for a in reversed(axes):  # torch.prod takes one axis at a time
                x = torch.prod(x, dim=a, keepdim=keep, dtype=out)
            return x

        return prod
    if kind in ("max", "min"):
        fn = torch.amax if kind == "max" else torch.amin
        return lambda x: fn(x, dim=axes, keepdim=keep)
    fn = torch.all if kind == "all" else torch.any
    if in_dtype == "uint8":  # torch gives uint8 for uint8 input
        return lambda x: fn(x, dim=axes, keepdim=keep).to(torch.bool)
    return lambda x: fn(x, dim=axes, keepdim=keep)


def _composite_reduce_factory(node: Apply, ctx: KernelContext) -> Callable:
    """A CompositeReduce: the composite's kernel, then the reduction's (eager torch keeps the temporary)."""
    comp, red = node.op.unfused(node)
    run, reduce = ctx.kernel_for(comp), ctx.kernel_for(red)
    return lambda *xs: reduce(run(*xs))


def _argmax_factory(node: Apply, ctx: KernelContext) -> Callable:
    op = node.op
    fn = torch.argmax if op.largest else torch.argmin
    axis, keep, nd = op.axis, op.keepdims, node.inputs[0].type.ndim
    as_uint8 = node.inputs[0].type.dtype == "bool"  # torch has no argmax of bools

    def arg(x):
        if as_uint8:
            x = x.to(torch.uint8)
        if axis is not None:
            return fn(x, dim=axis, keepdim=keep)
        flat = fn(x.reshape(-1))
        return flat.reshape((1,) * nd) if keep else flat

    return arg


def _logsumexp_factory(node: Apply, ctx: KernelContext) -> Callable:
    out, axes, keep = _out_dtype(node), node.op.axis, node.op.keepdims
    cast = node.inputs[0].type.dtype != node.outputs[0].type.dtype
    if not axes:
        return lambda x: x.to(out, copy=True)
    return lambda x: torch.logsumexp(x.to(out) if cast else x, dim=axes, keepdim=keep)


def _softmax_factory(node: Apply, ctx: KernelContext) -> Callable:
    out, nd = _out_dtype(node), node.inputs[0].type.ndim
    axis = node.op.axis
    dims = tuple(range(nd)) if axis is None else axis
    log = node.op.log

    def softmax(x):
        x = x.to(out)
        shift = torch.amax(x, dim=dims, keepdim=True) if nd else x
        # a +inf entry gives nan there and 0 elsewhere (the NumPy reference), not nan everywhere
        shift = torch.where(torch.isfinite(shift), shift, 0)
        centred = x - shift
        if log:
            return centred - torch.log(torch.sum(torch.exp(centred), dim=dims, keepdim=True))
        e = torch.exp(centred)
        return e / torch.sum(e, dim=dims, keepdim=True)

    return softmax


def _cumop_factory(node: Apply, ctx: KernelContext) -> Callable:
    fn = torch.cumsum if node.op.kind == "cumsum" else torch.cumprod
    axis, out = node.op.axis, _out_dtype(node)
    if axis is None:
        return lambda x: fn(x.reshape(-1), 0, dtype=out)
    return lambda x: fn(x, axis, dtype=out)


# --- products -----------------------------------------------------------------------------------------------
def _integer_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``torch.matmul`` semantics by broadcast multiply and sum (for integer dtypes off the CPU)."""
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    out = torch.sum(a2.unsqueeze(-1) * b2.unsqueeze(-3), dim=-2, dtype=a.dtype)
    if a.ndim == 1:
        out = out.squeeze(-2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    return out


def _product(node: Apply, product: Callable) -> Callable:
    """``product(a, b)`` on both inputs converted to its dtype: the output dtype, int64 for bools (then
    ``!= 0``, as NumPy's boolean products)."""
    out_name = node.outputs[0].type.dtype
    target = torch_dtype(_product_dtype(node))
    cast_a, cast_b = (torch_dtype(v.type.dtype) != target for v in node.inputs)

    def kernel(a, b):
        result = product(a.to(target) if cast_a else a, b.to(target) if cast_b else b)
        return result != 0 if out_name == "bool" else result

    return kernel


def _product_dtype(node: Apply) -> str:
    out = node.outputs[0].type.dtype
    return "int64" if out == "bool" else out


def _integer_off_cpu(node: Apply, device: torch.device) -> bool:
    """torch multiplies integer matrices on the CPU only; elsewhere they are multiplied and summed."""
    return np.dtype(_product_dtype(node)).kind != "f" and device.type != "cpu"


def _matmul_factory(node: Apply, ctx: KernelContext) -> Callable:
    device = ctx.device
    return _product(node, _integer_matmul if _integer_off_cpu(node, device) else torch.matmul)


def _tensordot_factory(node: Apply, ctx: KernelContext) -> Callable:
    device = ctx.device
    axes_a, axes_b = (list(ax) for ax in node.op.axes)
    if not _integer_off_cpu(node, device):
        return _product(node, lambda a, b: torch.tensordot(a, b, dims=(axes_a, axes_b)))
    nd_a, nd_b = (v.type.ndim for v in node.inputs)
    free_a = [d for d in range(nd_a) if d not in axes_a]
    free_b = [d for d in range(nd_b) if d not in axes_b]

    def product(a, b):  # one matrix product of the permuted, flattened operands
        ma = a.permute(free_a + axes_a).reshape(_size(a, free_a), _size(a, axes_a))
        mb = b.permute(axes_b + free_b).reshape(_size(b, axes_b), _size(b, free_b))
        shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
        return _integer_matmul(ma, mb).reshape(shape)

    return _product(node, product)


def _size(x: torch.Tensor, dims: list[int]) -> int:
    n = 1
    for d in dims:
        n *= x.shape[d]
    return n


def _register_all() -> None:
    from graphwright.backends.torch_backend.elemwise import composite_kernel, elemwise_kernel
    from graphwright.tensor.composite import Composite
    from graphwright.tensor.composite_reduce import CompositeReduce
    from graphwright.tensor.cumulative import CumOp
    from graphwright.tensor.elemwise import Elemwise
    from graphwright.tensor.linalg import Dot, MatMul, TensorDot
    from graphwright.tensor.nn import LogSoftmax, Softmax
    from graphwright.tensor.reduce import Reduce
    from graphwright.tensor.reduce_special import Argmax, Argmin, LogSumExp

    kernel("torch", Elemwise, in_place=True)(elemwise_kernel)
    kernel("torch", Composite, in_place=True)(composite_kernel)
    kernel("torch", Reduce)(_reduce_factory)
    kernel("torch", CompositeReduce)(_composite_reduce_factory)
    kernel("torch", Argmax, Argmin)(_argmax_factory)
    kernel("torch", LogSumExp)(_logsumexp_factory)
    kernel("torch", Softmax, LogSoftmax)(_softmax_factory)
    kernel("torch", CumOp)(_cumop_factory)
    kernel("torch", Dot, MatMul)(_matmul_factory)
    kernel("torch", TensorDot)(_tensordot_factory)


_register_all()
# the other kernel modules file theirs on import
from graphwright.backends.torch_backend import indexing, structure  # noqa: E402, F401
