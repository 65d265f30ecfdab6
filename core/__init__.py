"""Graphwright: a static computational-graph engine (``import graphwright as gw``)."""

from graphwright import tensor as _tensor_package  # registers every op family (gw.tensor is the constructor)
from graphwright.backends.codegen import GraphRuntimeError, InputError
from graphwright.backends.compile import Function, function
from graphwright.graph import Apply, Constant, Graph, GraphError, Op, Variable, clone, replace, toposort
from graphwright.printing import dprint, short_str
from graphwright.tensor.creation import (
    alloc,
    arange,
    broadcast_to,
    eye,
    full,
    full_like,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from graphwright.tensor.elemwise import *  # noqa: F403  (every row of the scalar table: exp, log1p, ...)
from graphwright.tensor.elemwise import __all__ as _elemwise_all
from graphwright.tensor.indexing import *  # noqa: F403
from graphwright.tensor.indexing import __all__ as _indexing_all
from graphwright.tensor.linalg import *  # noqa: F403
from graphwright.tensor.linalg import __all__ as _linalg_all
from graphwright.tensor.nn import *  # noqa: F403
from graphwright.tensor.nn import __all__ as _nn_all
from graphwright.tensor.reduce import *  # noqa: F403
from graphwright.tensor.reduce import __all__ as _reduce_all
from graphwright.tensor.shape import (
    concatenate,
    dimshuffle,
    expand_dims,
    flatten,
    reshape,
    shape_of,
    split,
    squeeze,
    stack,
    transpose,
)
from graphwright.tensor.type import TensorType
from graphwright.tensor.variable import (
    TensorConstant,
    TensorVariable,
    as_tensor,
    constant,
    matrix,
    scalar,
    tensor,
    tensor3,
    tensor4,
    vector,
)

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # pragma: no cover - exercised by the notebook tests
    """``%load_ext graphwright``: delegate to the kernel extension (imported lazily)."""
    from graphwright.kernel_ext import load_ipython_extension as load

    load(ipython)
