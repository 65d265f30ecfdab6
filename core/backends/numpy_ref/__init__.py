"""The NumPy reference backend: fast paths for a few op families, every other op's own ``perform``.

Both kinds are filed in :mod:`graphwright.backends.dispatch`: the fast paths as native kernels, the ops that
run their ``perform`` as explicit ``"fallback"`` entries (a new library op must be added to that list; an op
defined outside the library runs its ``perform`` through the backend's default entry).
"""

from __future__ import annotations

from collections.abc import Callable

from graphwright.backends.codegen import GeneratedFunction, generate
from graphwright.backends.dispatch import KernelContext, build, default, kernel
from graphwright.backends.numpy_ref.broadcasting import alloc_impl, inc_subtensor_impl
from graphwright.backends.numpy_ref.composite import composite_impl, composite_reduce_impl
from graphwright.backends.numpy_ref.elemwise import elemwise_impl
from graphwright.graph.basic import Apply
from graphwright.graph.graph import Graph
from graphwright.tensor.assume import Assume
from graphwright.tensor.blockwise import Blockwise
from graphwright.tensor.composite import Composite
from graphwright.tensor.composite_reduce import CompositeReduce
from graphwright.tensor.creation import Alloc, ARange, Eye
from graphwright.tensor.cumulative import CumOp
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.grad_control import GradControl
from graphwright.tensor.indexing import IncSubtensor, Subtensor
from graphwright.tensor.join import Join, Split
from graphwright.tensor.linalg import Dot, MatMul, TensorDot
from graphwright.tensor.nn import LogSoftmax, Softmax
from graphwright.tensor.reduce import Reduce
from graphwright.tensor.reduce_special import Argmax, Argmin, LogSumExp
from graphwright.tensor.shape import DimShuffle, MakeVector, Reshape, Shape

__all__ = ["NAME", "REQUIRES", "impl_for", "compile_graph"]

NAME = "numpy"
REQUIRES = None


def _fast_path(impl: Callable[[Apply], Callable], *op_classes: type) -> None:
    """File ``impl(node)`` (it takes ``InPlace`` nodes and writes into the buffers they may overwrite)."""

    def factory(node: Apply, ctx: KernelContext) -> Callable:
        return impl(node)

    factory.__name__ = impl.__name__
    kernel(NAME, *op_classes, in_place=True)(factory)


_fast_path(elemwise_impl, Elemwise)
_fast_path(composite_impl, Composite)
_fast_path(composite_reduce_impl, CompositeReduce)
_fast_path(alloc_impl, Alloc)
_fast_path(inc_subtensor_impl, IncSubtensor)


@kernel(NAME, Shape, MakeVector, DimShuffle, Reshape, Subtensor, Join, Split, Dot, MatMul, TensorDot, ARange,
        Eye, GradControl, Assume, Softmax, LogSoftmax, Blockwise, CumOp, Argmax, Argmin, Reduce, LogSumExp,
        how="fallback", note="the op's own perform (the NumPy reference)")
def _perform(node: Apply, ctx: KernelContext) -> Callable:
    return node.op.perform


default(NAME, _perform, note="the op's own perform: ops defined outside the library")


def impl_for(node: Apply) -> Callable:
    """The callable that computes ``node`` on NumPy arrays (its entry in the dispatch table). The fast paths
    of Elemwise, Composite and IncSubtensor also take ``InPlace`` nodes (and write into the buffers they may
    overwrite); other in-place nodes run the plain op.

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> x = gw.vector("x")
    >>> impl_for(gw.cumsum(x).owner)(np.array([1.0, 2.0]))
    array([1., 3.])
    """
    return build(NAME, node)


def compile_graph(graph: Graph, *, trust_input: bool, return_list: bool) -> GeneratedFunction:
    """One generated Python function calling each node's NumPy implementation (no compilation)."""
    return generate(graph, impl_for, trust_input=trust_input, return_list=return_list, backend=NAME)
