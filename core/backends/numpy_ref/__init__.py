"""The NumPy reference backend: every op's ``perform``, with fast paths registered per op family."""

from __future__ import annotations

from collections.abc import Callable

from graphwright.backends.codegen import GeneratedFunction, generate
from graphwright.backends.numpy_ref.broadcasting import alloc_impl, inc_subtensor_impl
from graphwright.backends.numpy_ref.composite import composite_impl, composite_reduce_impl
from graphwright.backends.numpy_ref.elemwise import elemwise_impl
from graphwright.graph.basic import Apply
from graphwright.graph.destroy import plain_op
from graphwright.graph.graph import Graph
from graphwright.tensor.composite import Composite
from graphwright.tensor.composite_reduce import CompositeReduce
from graphwright.tensor.creation import Alloc
from graphwright.tensor.elemwise import Elemwise
from graphwright.tensor.indexing import IncSubtensor

__all__ = ["NAME", "REQUIRES", "NUMPY_IMPLS", "impl_for", "compile_graph"]

NAME = "numpy"
REQUIRES = None

# Op class -> (node -> callable); ops not listed run their own ``perform``.
NUMPY_IMPLS: dict[type, Callable[[Apply], Callable]] = {Elemwise: elemwise_impl, Composite: composite_impl,
                                                        CompositeReduce: composite_reduce_impl,
                                                        Alloc: alloc_impl, IncSubtensor: inc_subtensor_impl}


def impl_for(node: Apply) -> Callable:
    """The callable that computes ``node`` on NumPy arrays. The fast paths of Elemwise, Composite and
    IncSubtensor also take ``InPlace`` nodes (and write into the buffers they may overwrite); other in-place
    nodes run the plain op."""
    op = plain_op(node)
    special = NUMPY_IMPLS.get(type(op))
    return special(node) if special is not None else op.perform


def compile_graph(graph: Graph, *, trust_input: bool, return_list: bool) -> GeneratedFunction:
    """One generated Python function calling each node's NumPy implementation (no compilation)."""
    return generate(graph, impl_for, trust_input=trust_input, return_list=return_list, backend=NAME)
